package graph

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/coder/websocket"
	"github.com/trendql/trendql/db"
)

// Defaults for the streaming options.
const (
	DefaultKeepAlive          = 25 * time.Second
	DefaultStreamWriteTimeout = 15 * time.Second
	// wsInitTimeout is how long a websocket may wait before connection_init.
	wsInitTimeout = 10 * time.Second
)

// stream names the long-lived transport a request uses.
type stream string

const (
	streamWebsocket stream = "websocket"
	streamSSE       stream = "sse"
	streamMultipart stream = "multipart"
)

type streamKey struct{}

// streamFrom returns the streaming transport of the request in ctx, or "".
func streamFrom(ctx context.Context) stream {
	s, _ := ctx.Value(streamKey{}).(stream)
	return s
}

// streamOf tells which streaming transport, if any, will take r: the
// route content negotiation decided (negotiate.go). Only subscriptions
// and websockets are streams.
func streamOf(r *http.Request) stream {
	return routeOf(r).stream
}

// withStreams prepares long-lived requests (websockets, SSE and multipart), which
// neither the request timeout nor the server's read and write timeouts may
// cut short:
//
//   - every stream ends when cfg.StreamContext is done (server shutdown:
//     http.Server.Shutdown does not wait for hijacked websockets and would
//     wait for SSE streams until its deadline);
//   - an SSE or multipart response gets a rolling write deadline instead
//     of the server's fixed one: each write must finish within
//     StreamWriteTimeout, and a write that fails ends the stream (a client
//     that stopped reading);
//   - the server's read deadline is lifted for SSE and multipart, whose
//     body has been read (an expired one would cancel the request); a
//     hijacked websocket has
//     none (net/http clears deadlines on hijack) and gets a per-write
//     watchdog from wsWatchdog instead.
func withStreams(cfg Options, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		kind := streamOf(r)
		if kind == "" {
			next.ServeHTTP(w, r)
			return
		}
		ctx, cancel := context.WithCancel(context.WithValue(r.Context(), streamKey{}, kind))
		defer cancel()
		if cfg.StreamContext != nil {
			stop := context.AfterFunc(cfg.StreamContext, cancel)
			defer stop()
		}
		r = r.WithContext(ctx)
		if kind == streamWebsocket {
			next.ServeHTTP(w, r)
			return
		}
		rc := http.NewResponseController(w)
		_ = rc.SetReadDeadline(time.Time{}) // unsupported by test recorders; harmless
		sw := &streamWriter{ResponseWriter: w, rc: rc, timeout: cfg.StreamWriteTimeout, cancel: cancel}
		defer sw.close()
		next.ServeHTTP(sw, r)
	})
}

// errStreamClosed is what writes after the end of an SSE stream get.
var errStreamClosed = errors.New("stream closed")

// streamWriter is an SSE response writer with a rolling write deadline.
// It also drops writes once the handler has returned: gqlgen's SSE
// keep-alive goroutine may still fire then, and net/http forbids touching
// a response after its handler returned.
type streamWriter struct {
	http.ResponseWriter
	rc      *http.ResponseController
	timeout time.Duration
	cancel  context.CancelFunc

	mu   sync.Mutex
	done bool
}

func (w *streamWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.done {
		return 0, errStreamClosed
	}
	_ = w.rc.SetWriteDeadline(time.Now().Add(w.timeout))
	n, err := w.ResponseWriter.Write(p)
	if err != nil {
		w.cancel()
	}
	return n, err
}

func (w *streamWriter) WriteHeader(code int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.done {
		w.ResponseWriter.WriteHeader(code)
	}
}

// Flush implements http.Flusher, which gqlgen's SSE transport requires.
func (w *streamWriter) Flush() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.done {
		return
	}
	_ = w.rc.SetWriteDeadline(time.Now().Add(w.timeout))
	if err := w.rc.Flush(); err != nil {
		w.cancel()
	}
}

// Unwrap lets http.ResponseController reach the real writer.
func (w *streamWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *streamWriter) close() {
	w.mu.Lock()
	w.done = true
	w.mu.Unlock()
}

// websocketTransport is the graphql-transport-ws (and legacy graphql-ws)
// transport: origins checked like CORS, the connection authenticated by its
// connection_init payload, pings to find dead peers, and a write watchdog.
func websocketTransport(cfg Options) transport.Websocket {
	accept := websocket.AcceptOptions{}
	origins := cfg.CORSOrigins
	if len(origins) == 0 || (len(origins) == 1 && origins[0] == "*") {
		// As for CORS: any origin. Websockets carry no ambient credential
		// here (tokens travel in headers or the init payload, never in
		// cookies), so a foreign page gains nothing by opening one.
		accept.InsecureSkipVerify = true
	} else {
		// Patterns with a scheme match the whole origin, as rs/cors does.
		accept.OriginPatterns = origins
	}
	return transport.Websocket{
		Implementation:        wsWatchdog{inner: transport.CoderWebsocketImplementation{AcceptOptions: accept}, timeout: cfg.StreamWriteTimeout},
		InitFunc:              wsInit(cfg.DB),
		InitTimeout:           wsInitTimeout,
		KeepAlivePingInterval: cfg.KeepAlive, // graphql-ws: "ka" messages
		PingPongInterval:      cfg.KeepAlive, // graphql-transport-ws: ping, and a missing pong closes
	}
}

// wsInit authenticates a websocket from its connection_init payload's
// Authorization ("Bearer <token>"), which browsers must use since they
// cannot set headers on a websocket. Without one the connection keeps the
// principal of its HTTP Authorization header, or stays anonymous. A bad
// token closes the connection with 4403, which graphql-ws clients treat as
// final.
func wsInit(d *db.DB) transport.WebsocketInitFunc {
	return func(ctx context.Context, p transport.InitPayload) (context.Context, *transport.InitPayload, error) {
		h := p.Authorization()
		if h == "" {
			return ctx, nil, nil
		}
		fail := func(msg string) (context.Context, *transport.InitPayload, error) {
			ctx = transport.WithWebsocketCloseCode(ctx, 4403)
			return transport.AppendCloseReason(ctx, "Forbidden: "+msg), nil, errors.New(msg)
		}
		scheme, token, _ := strings.Cut(h, " ")
		if !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
			return fail(`the Authorization must be "Bearer <token>"`)
		}
		pr, err := d.Authenticate(ctx, strings.TrimSpace(token))
		if err != nil {
			if db.ErrorCode(err) == db.EUNAUTHENTICATED {
				return fail(db.ErrorMessage(err))
			}
			return fail("the token could not be checked")
		}
		return db.WithPrincipal(ctx, pr), nil, nil
	}
}

// wsWatchdog wraps a websocket implementation so that a write blocked for
// longer than timeout (a peer that stopped reading) closes the connection,
// which ends its read loop, its subscriptions and their goroutines.
type wsWatchdog struct {
	inner   transport.WebsocketImplementation
	timeout time.Duration
}

// Accept implements transport.WebsocketImplementation.
func (w wsWatchdog) Accept(rw http.ResponseWriter, r *http.Request, opts transport.WebsocketAcceptOptions) (transport.WebsocketConn, error) {
	c, err := w.inner.Accept(rw, r, opts)
	if err != nil {
		return nil, err
	}
	return &watchedConn{WebsocketConn: c, timeout: w.timeout}, nil
}

type watchedConn struct {
	transport.WebsocketConn
	timeout time.Duration
}

func (c *watchedConn) WriteJSON(v any) error {
	t := time.AfterFunc(c.timeout, func() { c.WebsocketConn.Close() })
	defer t.Stop()
	return c.WebsocketConn.WriteJSON(v)
}

// SetReadLimit passes gqlgen's payload limit on.
func (c *watchedConn) SetReadLimit(n int64) {
	if l, ok := c.WebsocketConn.(transport.WebsocketReadLimiter); ok {
		l.SetReadLimit(n)
	}
}

// SetReadDeadline passes gqlgen's pong deadline on.
func (c *watchedConn) SetReadDeadline(t time.Time) error {
	if d, ok := c.WebsocketConn.(transport.WebsocketReadDeadliner); ok {
		return d.SetReadDeadline(t)
	}
	return nil
}
