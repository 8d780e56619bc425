package graph

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/coder/websocket"
	"github.com/trendql/trendql/db"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// Defaults for the streaming options.
const (
	DefaultKeepAlive          = 25 * time.Second
	DefaultStreamWriteTimeout = 15 * time.Second
	DefaultStreamInitTimeout  = 10 * time.Second
)

// stream names the long-lived transport a request uses.
type stream string

const (
	streamWebsocket stream = "websocket"
	streamSSE       stream = "sse"
	streamMultipart stream = "multipart"
	// streamShared is the execution that identical subscriptions share
	// (see subscriptions); it ends through an endSink.
	streamShared stream = "shared"
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
			h := &wsHolder{}
			r = r.WithContext(context.WithValue(ctx, wsHolderKey{}, h))
			defer h.close()
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
func websocketTransport(cfg Options, lim *limiter) transport.Websocket {
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
		Implementation: wsWatchdog{
			inner:       transport.CoderWebsocketImplementation{AcceptOptions: accept},
			timeout:     cfg.StreamWriteTimeout,
			initTimeout: cfg.StreamInitTimeout,
			maxSubs:     cfg.RateLimits.SubscriptionsPerConnection,
		},
		InitFunc: wsInit(cfg.DB, lim),
		// No InitTimeout here: watchedConn closes a late init with 4408
		// (gqlgen's own timeout closes with 1002 and leaves a reader
		// goroutine behind).
		KeepAlivePingInterval: cfg.KeepAlive, // graphql-ws: "ka" messages
		PingPongInterval:      cfg.KeepAlive, // graphql-transport-ws: ping, and a missing pong closes
	}
}

// wsInit authenticates a websocket from its connection_init payload's
// Authorization ("Bearer <token>"), which browsers must use since they
// cannot set headers on a websocket. Without one the connection keeps the
// principal of its HTTP Authorization header, or stays anonymous. A bad
// token closes the connection with 4403, which graphql-ws clients treat as
// final; so does a client IP whose failed-authentication bucket is empty,
// with 4429, before any lookup.
func wsInit(d *db.DB, l *limiter) transport.WebsocketInitFunc {
	return func(ctx context.Context, p transport.InitPayload) (context.Context, *transport.InitPayload, error) {
		fail := func(code int, msg string) (context.Context, *transport.InitPayload, error) {
			ctx = transport.WithWebsocketCloseCode(ctx, code)
			reason := "Forbidden: " + msg
			if code == 4429 {
				reason = "Too many requests: " + msg
			}
			return transport.AppendCloseReason(ctx, reason), nil, errors.New(msg)
		}
		// A preview asked for in the payload (browsers cannot send the
		// header) needs the token the payload or the upgrade request carries.
		withPreview := func(ctx context.Context) (context.Context, *transport.InitPayload, error) {
			if on, _ := p["preview"].(bool); on {
				if db.PrincipalFrom(ctx) == nil {
					return fail(4403, "a preview needs a token: send Authorization in the connection_init payload")
				}
				ctx = db.WithPreview(ctx)
			}
			return ctx, nil, nil
		}
		h := p.Authorization()
		if h == "" {
			return withPreview(ctx)
		}
		ip := clientIPFrom(ctx)
		if ok, retry := l.authAllowed(ip); !ok {
			return fail(4429, fmt.Sprintf("too many failed authentications from this address; retry after %ds", retrySeconds(retry)))
		}
		scheme, token, _ := strings.Cut(h, " ")
		if !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
			l.authFailed(ip)
			return fail(4403, `the Authorization must be "Bearer <token>"`)
		}
		pr, err := d.Authenticate(ctx, strings.TrimSpace(token))
		if err != nil {
			if db.ErrorCode(err) == db.EUNAUTHENTICATED {
				l.authFailed(ip)
				return fail(4403, db.ErrorMessage(err))
			}
			return fail(4403, "the token could not be checked")
		}
		return withPreview(db.WithPrincipal(ctx, pr))
	}
}

// wsWatchdog wraps a websocket implementation with what gqlgen's
// transport leaves out: the graphql-transport-ws protocol's checks and
// close codes (see wsConn), a write watchdog (a write blocked for longer
// than timeout — a peer that stopped reading — closes the connection,
// which ends its read loop, its subscriptions and their goroutines), and
// the guarantee that the socket is released when the transport is done
// with it, however the connection ended.
type wsWatchdog struct {
	inner       transport.WebsocketImplementation
	timeout     time.Duration
	initTimeout time.Duration
	maxSubs     int
}

// Accept implements transport.WebsocketImplementation.
func (w wsWatchdog) Accept(rw http.ResponseWriter, r *http.Request, opts transport.WebsocketAcceptOptions) (transport.WebsocketConn, error) {
	c, err := w.inner.Accept(rw, r, opts)
	if err != nil {
		return nil, err
	}
	wc := &watchedConn{WebsocketConn: c, timeout: w.timeout, maxSubs: w.maxSubs, active: map[string]bool{}}
	wc.legacy = c.Subprotocol() != "graphql-transport-ws"
	if w.initTimeout > 0 {
		wc.initTimer = time.AfterFunc(w.initTimeout, func() {
			wc.fail(4408, "Connection initialisation timeout")
		})
	}
	if h, ok := r.Context().Value(wsHolderKey{}).(*wsHolder); ok {
		h.set(wc)
	}
	return wc, nil
}

// wsHolder lets withStreams close a websocket once the transport returns:
// gqlgen's transport returns without closing the socket on some failed
// inits (a connection_init whose payload is not an object left every such
// socket in CLOSE-WAIT for good).
type wsHolder struct {
	mu sync.Mutex
	c  *watchedConn
}

type wsHolderKey struct{}

func (h *wsHolder) set(c *watchedConn) {
	h.mu.Lock()
	h.c = c
	h.mu.Unlock()
}

func (h *wsHolder) close() {
	h.mu.Lock()
	c := h.c
	h.mu.Unlock()
	if c != nil {
		c.Close()
	}
}

// watchedConn is one websocket, seen from the server. Every message the
// client sends passes its checks before gqlgen's transport reads it; a
// message that breaks the graphql-transport-ws protocol closes the
// connection with the protocol's code:
//
//	4400  not JSON, not an object, no or unknown type, a server message
//	      type, a subscribe without an id or whose payload is not an
//	      object, a connection_init whose payload is not an object
//	4401  subscribe before connection_init
//	4403  an Authorization in the init payload that is not a string (and,
//	      from wsInit, one that is not a valid "Bearer <token>")
//	4408  no connection_init within the init timeout
//	4409  subscribe with the id of a subscription still running
//	4429  a second connection_init
//
// The legacy graphql-ws protocol gets the same checks where it has the
// same messages.
type watchedConn struct {
	transport.WebsocketConn
	timeout   time.Duration
	maxSubs   int
	legacy    bool
	initTimer *time.Timer

	mu     sync.Mutex
	inited bool
	failed bool
	active map[string]bool // ids of the operations running
}

// clientMsg is a message from the client, as far as the checks need it.
type clientMsg struct {
	Type    *string         `json:"type"`
	ID      *string         `json:"id"`
	Payload json.RawMessage `json:"payload"`
}

// NextReader implements transport.WebsocketConn: it returns the next
// message that passes the checks; one that does not closes the connection
// and ends the read loop with transport.ErrWebsocketClosed.
func (c *watchedConn) NextReader() (int, io.Reader, error) {
	for {
		typ, r, err := c.WebsocketConn.NextReader()
		if err != nil {
			return typ, r, err
		}
		data, err := io.ReadAll(r)
		if err != nil {
			return typ, nil, err
		}
		deliver, code, reason := c.check(data)
		if code != 0 {
			c.fail(code, reason)
			return typ, nil, transport.ErrWebsocketClosed
		}
		if deliver {
			return typ, bytes.NewReader(data), nil
		}
	}
}

// check applies the protocol to one client message: whether to hand it
// to gqlgen, or the close code and reason to end the connection with.
func (c *watchedConn) check(data []byte) (deliver bool, code int, reason string) {
	var m clientMsg
	if err := json.Unmarshal(data, &m); err != nil || m.Type == nil {
		return false, 4400, "Invalid message: not a JSON object with a type"
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	switch t := *m.Type; t {
	case "connection_init":
		if c.inited {
			return false, 4429, "Too many initialisation requests"
		}
		if code, reason := checkInitPayload(m.Payload); code != 0 {
			return false, code, reason
		}
		c.inited = true
		if c.initTimer != nil {
			c.initTimer.Stop()
		}
	case "subscribe", "start":
		if !c.inited {
			return false, 4401, "Unauthorized: send connection_init first"
		}
		if m.ID == nil || *m.ID == "" {
			return false, 4400, "Invalid message: subscribe needs an id"
		}
		if p := bytes.TrimSpace(m.Payload); len(p) == 0 || p[0] != '{' {
			return false, 4400, "Invalid message: the subscribe payload must be an object"
		}
		if c.active[*m.ID] {
			return false, 4409, "Subscriber for " + truncate(*m.ID, 64) + " already exists"
		}
		if c.maxSubs > 0 && len(c.active) >= c.maxSubs {
			// Not a protocol error: the operation is refused, the
			// connection and its other subscriptions go on.
			go c.refuse(*m.ID, &gqlerror.Error{
				Message:    fmt.Sprintf("too many operations on this connection: at most %d at once; complete one first", c.maxSubs),
				Extensions: map[string]any{"code": CodeRateLimited, "limit": "subscriptionsPerConnection", "max": c.maxSubs},
			})
			return false, 0, ""
		}
		c.active[*m.ID] = true
	case "complete", "stop":
		if m.ID != nil {
			delete(c.active, *m.ID)
		}
	case "ping", "pong":
	case "connection_terminate":
		if !c.legacy {
			return false, 4400, "Invalid message type " + strconv.Quote(truncate(t, 32))
		}
	default:
		return false, 4400, "Invalid message type " + strconv.Quote(truncate(t, 32))
	}
	return true, 0, ""
}

// checkInitPayload accepts no payload, null, or an object whose
// Authorization, if any, is a string.
func checkInitPayload(p json.RawMessage) (int, string) {
	p = bytes.TrimSpace(p)
	if len(p) == 0 || string(p) == "null" {
		return 0, ""
	}
	var obj map[string]json.RawMessage
	if p[0] != '{' || json.Unmarshal(p, &obj) != nil {
		return 4400, "Invalid message: the connection_init payload must be an object"
	}
	for _, k := range []string{"Authorization", "authorization"} {
		v, ok := obj[k]
		if !ok {
			continue
		}
		var s string
		if json.Unmarshal(v, &s) != nil {
			return 4403, `Forbidden: the Authorization must be the string "Bearer <token>"`
		}
	}
	if v, ok := obj["preview"]; ok {
		var b bool
		if json.Unmarshal(v, &b) != nil {
			return 4400, "Invalid message: the connection_init payload's preview must be true or false"
		}
	}
	return 0, ""
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// refuse answers one operation with an error message, leaving the
// connection open.
func (c *watchedConn) refuse(id string, err *gqlerror.Error) {
	_ = c.WriteJSON(struct {
		ID      string            `json:"id"`
		Type    string            `json:"type"`
		Payload []*gqlerror.Error `json:"payload"`
	}{id, "error", []*gqlerror.Error{err}})
}

// fail closes the connection with a protocol close code. The closing
// handshake runs in the background and releases the socket when it ends
// (at most a few seconds for a peer that never answers).
func (c *watchedConn) fail(code int, reason string) {
	c.mu.Lock()
	if c.failed {
		c.mu.Unlock()
		return
	}
	c.failed = true
	c.mu.Unlock()
	// The init timer may be what calls this; Close stops it otherwise.
	_ = c.WebsocketConn.WriteClose(code, reason)
}

// WriteJSON implements transport.WebsocketConn, with the write watchdog;
// it also notes the operations that end (complete or error).
func (c *watchedConn) WriteJSON(v any) error {
	if typ, id := messageTypeID(v); id != "" && (typ == "complete" || typ == "error") {
		c.mu.Lock()
		delete(c.active, id)
		c.mu.Unlock()
	}
	t := time.AfterFunc(c.timeout, func() { c.WebsocketConn.Close() })
	defer t.Stop()
	return c.WebsocketConn.WriteJSON(v)
}

// messageTypeID reads the type and id of a message gqlgen writes (its
// message structs have Type and ID fields of string kind).
func messageTypeID(v any) (typ, id string) {
	rv := reflect.ValueOf(v)
	for rv.Kind() == reflect.Pointer || rv.Kind() == reflect.Interface {
		if rv.IsNil() {
			return "", ""
		}
		rv = rv.Elem()
	}
	if rv.Kind() != reflect.Struct {
		return "", ""
	}
	if f := rv.FieldByName("Type"); f.IsValid() && f.Kind() == reflect.String {
		typ = f.String()
	}
	if f := rv.FieldByName("ID"); f.IsValid() && f.Kind() == reflect.String {
		id = f.String()
	}
	return typ, id
}

// Close implements io.Closer.
func (c *watchedConn) Close() error {
	if c.initTimer != nil {
		c.initTimer.Stop()
	}
	return c.WebsocketConn.Close()
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
