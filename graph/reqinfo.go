package graph

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/trendql/trendql/db"
	"github.com/vektah/gqlparser/v2/ast"
)

// reqInfo is what the layers of one request learn about it, for the
// response cache, HTTP caching headers and the access log.
type reqInfo struct {
	mu        sync.Mutex
	id        string
	operation string
	query     bool    // the operation run was a query
	failed    bool    // the response carries errors
	types     typeSet // content types the operation may read
	cache     string  // "hit", "miss" or "" (not cacheable)
	principal *db.Principal
	// params is the POST body as the response cache decoded it for its
	// key, for the JSON transport to take rather than decode it again.
	params *graphql.RawParams
}

type reqInfoKey struct{}

func infoFrom(ctx context.Context) *reqInfo {
	i, _ := ctx.Value(reqInfoKey{}).(*reqInfo)
	return i
}

var requestIDRE = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// withAccessLog gives each request an id (the client's X-Request-Id when
// sane) and logs one structured line when it ends: never tokens, bodies or
// variables.
func withAccessLog(log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		info := &reqInfo{id: r.Header.Get("X-Request-Id")}
		if !requestIDRE.MatchString(info.id) {
			b := make([]byte, 8)
			rand.Read(b)
			info.id = hex.EncodeToString(b)
		}
		w.Header().Set("X-Request-Id", info.id)
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(sw, r.WithContext(context.WithValue(r.Context(), reqInfoKey{}, info)))
		info.mu.Lock()
		attrs := []slog.Attr{
			slog.String("id", info.id),
			slog.String("method", r.Method),
			slog.String("path", r.URL.Path),
			slog.Int("status", sw.status),
			slog.Int64("bytes", sw.bytes),
			slog.Float64("ms", float64(time.Since(start).Microseconds())/1000),
			slog.String("ip", clientIP(r, false)),
		}
		if info.operation != "" {
			attrs = append(attrs, slog.String("op", info.operation))
		}
		if info.cache != "" {
			attrs = append(attrs, slog.String("cache", info.cache))
		}
		if info.principal != nil {
			attrs = append(attrs, slog.String("token", info.principal.Name), slog.String("role", string(info.principal.Role)))
		}
		info.mu.Unlock()
		log.LogAttrs(r.Context(), slog.LevelInfo, "request", attrs...)
	})
}

// statusWriter records the status and size of a response.
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
	wrote  bool
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wrote {
		w.status, w.wrote = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	w.wrote = true
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the underlying writer
// (flushing and deadlines for streaming responses).
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// clientIP is the address rate limits and logs use: the peer, or the
// first X-Forwarded-For hop when the server sits behind a trusted proxy.
func clientIP(r *http.Request, trustForwarded bool) string {
	if trustForwarded {
		if xff := r.Header.Get("X-Forwarded-For"); xff != "" {
			first, _, _ := strings.Cut(xff, ",")
			if ip := net.ParseIP(strings.TrimSpace(first)); ip != nil {
				return ip.String()
			}
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// opInfo is the gqlgen extension that tells the request's reqInfo which
// operation ran, whether it was a query, whether it failed, and which
// content types it may read.
type opInfo struct {
	types *typeCache
}

// ExtensionName implements graphql.HandlerExtension.
func (opInfo) ExtensionName() string { return "OperationInfo" }

// Validate implements graphql.HandlerExtension.
func (opInfo) Validate(graphql.ExecutableSchema) error { return nil }

// InterceptResponse implements graphql.ResponseInterceptor.
func (o opInfo) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	resp := next(ctx)
	info := infoFrom(ctx)
	if info == nil || !graphql.HasOperationContext(ctx) {
		return resp
	}
	oc := graphql.GetOperationContext(ctx)
	info.mu.Lock()
	defer info.mu.Unlock()
	if oc.Operation != nil {
		info.operation = oc.Operation.Name
		info.query = oc.Operation.Operation == ast.Query
		if info.query {
			info.types = o.types.get(oc)
		}
	}
	if resp == nil || len(resp.Errors) > 0 {
		info.failed = true
	}
	return resp
}
