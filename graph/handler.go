package graph

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/rs/cors"
	"github.com/trendql/trendql/db"
	"github.com/trendql/trendql/graph/playground"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/parser"
)

// Defaults for Options' zero values.
const (
	DefaultMaxBodyBytes   = 1 << 20 // 1 MiB
	DefaultRequestTimeout = 30 * time.Second
	DefaultQueryCacheSize = 1000
)

// Options configures NewHandler. The zero value of every field but DB is a
// sensible default.
type Options struct {
	DB     *db.DB
	Logger *slog.Logger
	// CORSOrigins are the origins allowed to call the API from a browser;
	// empty or ["*"] allows any origin.
	CORSOrigins []string
	// MaxBodyBytes bounds a request body; larger ones get HTTP 413.
	MaxBodyBytes int64
	// RequestTimeout bounds the execution of one request.
	RequestTimeout time.Duration
	// DisablePlayground turns off GraphiQL at / and for browsers at /graphql.
	DisablePlayground bool
	// DisableIntrospection turns off __schema and __type queries.
	DisableIntrospection bool
	// DisableAccessLog stops the one-line-per-request log (a proxy in
	// front may log requests already); request ids are still given.
	DisableAccessLog bool
	// Limits bound each operation's depth, cost, aliases and root fields.
	Limits Limits
	// RateLimits are the per-token and per-IP token buckets; the zero
	// value turns rate limiting off (the server's flags default it on).
	RateLimits RateLimits
	// ResponseCacheEntries sizes the anonymous response cache; 0 means the
	// default, a negative number turns it off.
	ResponseCacheEntries int
	// HTTPCaching is the Cache-Control policy of public responses.
	HTTPCaching HTTPCaching
	// DisableFastReads turns off the compiled read path (fastpath.go):
	// gqlgen then executes every operation.
	DisableFastReads bool

	// StreamContext ends every subscription stream (websocket, SSE or
	// multipart) when it is done: give it the server's shutdown signal.
	// Nil: never.
	StreamContext context.Context
	// KeepAlive is how often streams are pinged: websocket pings (a peer
	// that misses a pong for two intervals is dropped), SSE comments and
	// multipart heartbeat parts.
	KeepAlive time.Duration
	// StreamWriteTimeout bounds one write to a stream; a client that does
	// not read for that long is disconnected.
	StreamWriteTimeout time.Duration
	// TokenRecheck is how often a subscription checks that its token still
	// works before delivering more; one revoked or expired ends it.
	TokenRecheck time.Duration
	// StreamInitTimeout is how long a websocket may take to send its
	// connection_init; later, it is closed with 4408.
	StreamInitTimeout time.Duration
}

// NewHandler returns trendql's whole HTTP surface, every route and
// middleware visible here: access log → CORS → body limit → route (content
// negotiation: stream or one response) → timeout (not for streams) →
// envelope check → streams → auth (and the failed-auth limit) → rate limit
// (the admission price) → HTTP caching and the response cache → loaders →
// gqlgen (query cache, APQ, limits, the operation's price, introspection,
// metrics, shared subscriptions, one transaction per mutation request).
//
//	POST /graphql, GET /graphql?query=…   GraphQL over HTTP
//	websocket /graphql                    subscriptions (graphql-transport-ws)
//	POST /graphql, Accept: text/event-stream   subscriptions over SSE
//	POST /graphql, Accept: multipart/mixed     subscriptions over multipart HTTP
//	GET /graphql (browser), GET /         the GraphiQL playground
//	GET /playground/assets/…              its embedded assets
//	GET /healthz, GET /readyz             liveness, readiness (database answers)
//	GET /metrics                          Prometheus metrics
func NewHandler(cfg Options) http.Handler {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if cfg.RequestTimeout <= 0 {
		cfg.RequestTimeout = DefaultRequestTimeout
	}
	if cfg.KeepAlive <= 0 {
		cfg.KeepAlive = DefaultKeepAlive
	}
	if cfg.StreamWriteTimeout <= 0 {
		cfg.StreamWriteTimeout = DefaultStreamWriteTimeout
	}
	if cfg.TokenRecheck <= 0 {
		cfg.TokenRecheck = DefaultTokenRecheck
	}
	if cfg.StreamInitTimeout <= 0 {
		cfg.StreamInitTimeout = DefaultStreamInitTimeout
	}
	metrics := newMetrics(cfg.DB)
	lim := newLimiter(cfg.RateLimits, metrics.Registry)
	gql := newGraphQLServer(cfg, metrics, lim)
	var rc *responseCache
	switch {
	case cfg.ResponseCacheEntries == 0:
		rc = newResponseCache(cfg.DB, DefaultResponseCacheEntries, metrics.Registry)
	case cfg.ResponseCacheEntries > 0:
		rc = newResponseCache(cfg.DB, cfg.ResponseCacheEntries, metrics.Registry)
	}

	mux := http.NewServeMux()
	var play http.Handler
	if !cfg.DisablePlayground {
		play = playground.Handler("trendql playground", "/graphql", "/playground/assets/", playgroundOptions()...)
		mux.Handle("GET /playground/assets/", http.StripPrefix("/playground/assets/", playground.Assets()))
		mux.Handle("GET /{$}", play)
	}
	api := checkEnvelope(cfg.Limits.withDefaults().MaxTokens, withStreams(cfg, withAuth(cfg.DB, lim,
		withRateLimit(lim,
			withHTTPCache(rc, cfg.HTTPCaching,
				withLoaders(cfg.DB, gql))))))
	mux.Handle("/graphql", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if play != nil && r.Method == http.MethodGet && wantsHTML(r) {
			play.ServeHTTP(w, r)
			return
		}
		api.ServeHTTP(w, r)
	}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, "ok\n")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		// Under a second: a load balancer's probe (Kubernetes' default
		// timeout is 1 s) gets the 503 itself rather than its own timeout,
		// even when the database's host swallows packets.
		ctx, cancel := context.WithTimeout(r.Context(), 900*time.Millisecond)
		defer cancel()
		if err := cfg.DB.Ping(ctx); err != nil {
			cfg.Logger.Warn("readiness check failed", "err", err)
			reason := "the database does not answer"
			if pe, ok := errors.AsType[*db.PingError](err); ok {
				reason = pe.Reason // names no path, host or password
			}
			w.Header().Set("Cache-Control", "no-store")
			w.WriteHeader(http.StatusServiceUnavailable)
			io.WriteString(w, "not ready: "+reason+"\n")
			return
		}
		io.WriteString(w, "ok\n")
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(metrics.Registry, promhttp.HandlerOpts{}))

	var h http.Handler = mux
	h = withTimeout(cfg.RequestTimeout, h)
	h = withRoute(h)
	h = limitBody(cfg.MaxBodyBytes, h)
	h = newCORS(cfg.CORSOrigins).Handler(h)
	accessLog := cfg.Logger
	if cfg.DisableAccessLog {
		accessLog = slog.New(slog.DiscardHandler)
	}
	h = withAccessLog(accessLog, h)
	return h
}

// newGraphQLServer builds gqlgen's server with explicit transports and
// extensions (handler.New has none by default).
func newGraphQLServer(cfg Options, metrics *Metrics, lim *limiter) *handler.Server {
	limits := cfg.Limits.withDefaults()
	es := NewExecutableSchema(Config{
		Resolvers:  &Resolver{DB: cfg.DB, Logger: cfg.Logger, metrics: metrics, tokenRecheck: cfg.TokenRecheck, tail: newLogTail(cfg.DB)},
		Directives: DirectiveRoot{HasRole: hasRole},
	})
	srv := handler.New(es)
	// The first transport that supports a request takes it: the websocket
	// upgrade before GET; the streams take the subscriptions the route
	// (negotiate.go) sent them, and everything else is one JSON response.
	srv.AddTransport(transport.Options{})
	srv.AddTransport(routedTransport{websocketTransport(cfg, lim), streamWebsocket})
	srv.AddTransport(routedTransport{transport.SSE{KeepAlivePingInterval: cfg.KeepAlive}, streamSSE})
	srv.AddTransport(routedTransport{multipartTransport{keepAlive: cfg.KeepAlive}, streamMultipart})
	srv.AddTransport(jsonTransport{})
	queryCache := smallDocuments[*ast.QueryDocument]{lru.New[*ast.QueryDocument](DefaultQueryCacheSize),
		func(doc string, _ *ast.QueryDocument) int { return len(doc) }}
	srv.SetQueryCache(queryCache)
	srv.SetParserTokenLimit(limits.MaxTokens)
	// The document limits come before APQ, which stores every document it
	// is sent: an oversize one is refused before it can be stored, so a
	// persisted query's hash only ever names a document that passed.
	srv.Use(documentLimits{Limits: limits, validated: queryCache})
	srv.Use(extension.AutomaticPersistedQuery{Cache: smallDocuments[string]{lru.New[string](DefaultQueryCacheSize),
		func(_, doc string) int { return len(doc) }}})
	// The rate limit charges an operation's points once it has passed the
	// limits, from the cost they measured.
	srv.Use(newQueryLimits(limits, es.Schema(), lim.chargeOperation))
	srv.Use(errorLimit{max: limits.MaxErrors})
	srv.Use(opInfo{types: newTypeCache()})
	if cfg.DisableIntrospection {
		srv.Use(noIntrospection{})
	} else {
		srv.Use(extension.Introspection{})
	}
	srv.Use(metrics)
	srv.Use(subscriptionExtension{db: cfg.DB})
	srv.Use(atomicMutations{db: cfg.DB, present: errorPresenter(cfg.Logger)})
	srv.Use(newSubscriptions(lim, metrics))
	// Innermost, so that everything above has run and sees its answer as
	// it sees gqlgen's.
	if !cfg.DisableFastReads {
		srv.Use(newFastReads(es.(*executableSchema), cfg.DB, metrics.Registry))
	}
	srv.SetErrorPresenter(errorPresenter(cfg.Logger))
	srv.SetRecoverFunc(recoverFunc(cfg.Logger))
	return srv
}

// checkEnvelope refuses, with a coded GraphQL error, the requests gqlgen's
// transports would answer with an uncoded one: other methods, bodies that
// are not JSON, GET parameters that do not decode, and operations other
// than queries over GET (GET must never change anything). It also refuses
// with 406 what cannot be answered in a type the client accepts: any
// request whose Accept header allows no JSON type, and a POSTed
// subscription whose Accept header allows no stream.
func checkEnvelope(maxTokens int, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Responses differ by Accept (JSON flavour, stream or not).
		w.Header().Add("Vary", "Accept")
		switch r.Method {
		case http.MethodPost:
			mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
			if mt != "application/json" {
				writeError(w, http.StatusUnsupportedMediaType, CodeBadUserInput,
					"POST requests must have Content-Type: application/json")
				return
			}
		case http.MethodGet:
			q, err := url.ParseQuery(r.URL.RawQuery)
			if err != nil {
				writeError(w, http.StatusBadRequest, CodeBadUserInput, "the query string could not be parsed")
				return
			}
			for p, vs := range q {
				for _, v := range vs {
					if !utf8.ValidString(v) {
						writeError(w, http.StatusBadRequest, CodeBadUserInput, "the "+p+" parameter is not valid UTF-8")
						return
					}
				}
			}
			for _, p := range []string{"variables", "extensions"} {
				if v := q.Get(p); v != "" && !json.Valid([]byte(v)) {
					writeError(w, http.StatusBadRequest, CodeBadUserInput, "the "+p+" parameter is not valid JSON")
					return
				}
			}
			if doc := q.Get("query"); doc != "" && !isQueryOnly(doc, q.Get("operationName"), maxTokens) {
				w.Header().Set("Allow", "POST")
				writeError(w, http.StatusMethodNotAllowed, CodeBadUserInput,
					"GET runs queries only; send mutations and subscriptions with POST")
				return
			}
		case http.MethodOptions:
		default:
			w.Header().Set("Allow", "GET, POST")
			writeError(w, http.StatusMethodNotAllowed, CodeBadUserInput, "use GET or POST for GraphQL requests")
			return
		}
		rt := routeOf(r)
		switch {
		case rt.stream == streamWebsocket:
			jw := &jsonErrors{ResponseWriter: w}
			defer jw.finish()
			w = jw
		case r.Method == http.MethodOptions:
		case rt.subscription && rt.stream == "":
			writeError(w, http.StatusNotAcceptable, CodeBadUserInput, `a subscription is a stream: POST it with `+
				`Accept: text/event-stream (SSE) or Accept: multipart/mixed;subscriptionSpec="1.0", or open a graphql-transport-ws websocket`)
			return
		case rt.stream == "" && rt.media == "":
			writeError(w, http.StatusNotAcceptable, CodeBadUserInput, "queries and mutations are answered as "+
				"application/graphql-response+json or application/json: the Accept header allows neither")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// jsonErrors turns the plain-text error answers of a websocket handshake
// (coder/websocket refuses a malformed handshake or a foreign origin with
// http.Error) into coded GraphQL errors, so that no answer from /graphql is
// text/plain. Everything else, the hijack included, passes through.
type jsonErrors struct {
	http.ResponseWriter
	status int
	msg    bytes.Buffer
}

// WriteHeader holds back a plain-text error status for finish. Once one
// is held, later statuses are dropped: gqlgen's websocket transport adds
// its own "unable to upgrade" answer after coder/websocket's.
func (w *jsonErrors) WriteHeader(code int) {
	if w.status != 0 {
		return
	}
	if code >= 400 && strings.HasPrefix(w.Header().Get("Content-Type"), "text/plain") {
		w.status = code
		return
	}
	w.ResponseWriter.WriteHeader(code)
}

// Write keeps the message of a held-back error (the first one, which says
// what was wrong with the handshake).
func (w *jsonErrors) Write(p []byte) (int, error) {
	if w.status != 0 {
		if w.msg.Len() == 0 {
			w.msg.Write(p)
		}
		return len(p), nil
	}
	return w.ResponseWriter.Write(p)
}

// Unwrap lets coder/websocket reach the connection to hijack.
func (w *jsonErrors) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *jsonErrors) finish() {
	if w.status == 0 {
		return
	}
	code, msg := CodeBadUserInput, strings.TrimSpace(w.msg.String())
	switch {
	case w.status == http.StatusForbidden:
		code = CodeForbidden
	case w.status >= 500:
		code, msg = CodeInternalServerError, "internal server error"
	}
	h := w.ResponseWriter.Header()
	h.Del("Content-Length")
	h.Del("X-Content-Type-Options")
	if w.status != http.StatusUpgradeRequired {
		h.Del("Upgrade")
		h.Del("Connection")
	}
	writeError(w.ResponseWriter, w.status, code, msg)
}

// isQueryOnly reports whether the operation a GET would run is a query.
// Documents that do not parse, or have more than maxTokens tokens, are
// left for gqlgen to report.
func isQueryOnly(doc, opName string, maxTokens int) bool {
	if !strings.Contains(doc, "mutation") && !strings.Contains(doc, "subscription") {
		return true
	}
	parsed, err := parser.ParseQueryWithTokenLimit(&ast.Source{Input: doc}, maxTokens)
	if err != nil {
		return true
	}
	for _, op := range parsed.Operations {
		if (opName == "" || op.Name == opName) && op.Operation != ast.Query {
			return false
		}
	}
	return true
}

// withLoaders gives every request its own dataloaders, made at their
// first use.
func withLoaders(d *db.DB, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r.WithContext(withLazyLoaders(r.Context(), d)))
	})
}

// limitBody refuses bodies over max with 413 and a GraphQL-shaped error.
// The body is read here, so a chunked body that runs over is refused too
// (gqlgen would report it as a generic decoding error).
func limitBody(max int64, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body == nil || r.Body == http.NoBody {
			next.ServeHTTP(w, r)
			return
		}
		if r.ContentLength > max {
			tooLarge(w, max)
			return
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, max+1))
		if err != nil {
			writeError(w, http.StatusBadRequest, CodeBadUserInput, "the request body could not be read")
			return
		}
		if int64(len(body)) > max {
			tooLarge(w, max)
			return
		}
		// JSON decoders would quietly turn invalid UTF-8 into U+FFFD and
		// store it: refuse it, as import does, on every transport that
		// takes a body (JSON, SSE, multipart).
		if !utf8.Valid(body) {
			writeError(w, http.StatusBadRequest, CodeBadUserInput, "the request body is not valid UTF-8")
			return
		}
		r.Body = &bufferedBody{Reader: bytes.NewReader(body), data: body}
		next.ServeHTTP(w, r)
	})
}

// bufferedBody is a request body read whole by limitBody, whose bytes the
// route (negotiate.go) can look at without copying them.
type bufferedBody struct {
	*bytes.Reader
	data []byte
}

// Close implements io.Closer.
func (*bufferedBody) Close() error { return nil }

func tooLarge(w http.ResponseWriter, max int64) {
	w.Header().Set("Connection", "close")
	writeError(w, http.StatusRequestEntityTooLarge, CodeBadUserInput,
		"the request body is larger than the limit of "+humanBytes(max))
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return strconv.FormatInt(n>>20, 10) + " MiB"
	case n >= 1<<10 && n%(1<<10) == 0:
		return strconv.FormatInt(n>>10, 10) + " KiB"
	}
	return strconv.FormatInt(n, 10) + " bytes"
}

// writeError answers with a GraphQL response holding one error (and, as
// for every request that did not run, no "data" key).
func writeError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", mediaJSON)
	w.WriteHeader(status)
	writeRequestErrors(w, &graphql.Response{Errors: gqlerror.List{{Message: msg, Extensions: map[string]any{"code": code}}}})
}

// withTimeout bounds each request's execution; streams (subscriptions)
// are long-lived by design and exempt.
func withTimeout(d time.Duration, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if streamOf(r) != "" {
			next.ServeHTTP(w, r)
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), d)
		defer cancel()
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// newCORS allows the configured origins to call the API from browsers,
// with the headers GraphQL clients send.
func newCORS(origins []string) *cors.Cors {
	if len(origins) == 0 {
		origins = []string{"*"}
	}
	return cors.New(cors.Options{
		AllowedOrigins: origins,
		AllowedMethods: []string{http.MethodGet, http.MethodPost, http.MethodOptions},
		AllowedHeaders: []string{"Authorization", "Content-Type", "Accept", "If-None-Match",
			"X-Request-Id", "Apollo-Require-Preflight", "X-Apollo-Operation-Name", PreviewHeader},
		ExposedHeaders: []string{"ETag", "Retry-After", "X-Request-Id"},
		MaxAge:         600,
	})
}

// wantsHTML reports whether a GET is a browser navigating to the endpoint
// rather than a GraphQL client.
func wantsHTML(r *http.Request) bool {
	if r.URL.Query().Has("query") || r.URL.Query().Has("extensions") {
		return false
	}
	return strings.Contains(r.Header.Get("Accept"), "text/html")
}
