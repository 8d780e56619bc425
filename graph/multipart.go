package graph

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// multipartTransport streams subscriptions with Apollo's multipart HTTP
// protocol, what Apollo Client's HttpLink speaks by default
// (Accept: multipart/mixed;subscriptionSpec="1.0"), so Apollo users need
// no websocket link. The body is one multipart/mixed part per message:
//
//	{"payload":{"data":…,"errors":[…]}}   an event, as it would be over SSE
//	{}                                     a heartbeat, every keepAlive
//
// and ends with the closing delimiter when the subscription completes (or
// the server shuts down). Each message is followed at once by the next
// delimiter, since a client only parses a part when it sees the delimiter
// after it. Request errors (parse, validation, limits) are one JSON
// response instead, as on every transport. Auth, drafts, limits, write
// deadlines and shutdown come from the same layers as SSE's (withStreams).
type multipartTransport struct {
	keepAlive time.Duration
}

const (
	multipartBoundary    = "graphql"
	multipartContentType = `multipart/mixed;boundary="` + multipartBoundary + `";subscriptionSpec="1.0"`
	multipartDelimiter   = "\r\n--" + multipartBoundary
	multipartPartHeader  = "\r\nContent-Type: application/json\r\n\r\n"
)

var (
	multipartHeartbeat = []byte(`{}`)
	multipartEnd       = []byte("--\r\n")
)

// Supports implements graphql.Transport; routedTransport decides instead.
func (multipartTransport) Supports(*http.Request) bool { return false }

// Do implements graphql.Transport.
func (t multipartTransport) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	ctx := r.Context()
	params := &graphql.RawParams{Headers: r.Header}
	params.ReadTime.Start = graphql.Now()
	body, err := io.ReadAll(r.Body)
	if err == nil {
		err = decodeJSON(bytes.NewReader(body), params)
	}
	params.ReadTime.End = graphql.Now()
	if err != nil {
		// The route decoded this body already; kept for completeness.
		w.Header().Set("Content-Type", responseMediaType(r))
		w.WriteHeader(http.StatusBadRequest)
		writeRequestErrors(w, exec.DispatchError(ctx, gqlerror.List{gqlerror.Errorf("json request body could not be decoded: %v", err)}))
		return
	}
	oc, errs := exec.CreateOperationContext(ctx, params)
	if errs != nil {
		media := responseMediaType(r)
		w.Header().Set("Content-Type", media)
		w.WriteHeader(requestErrorStatus(media))
		writeRequestErrors(w, exec.DispatchError(graphql.WithOperationContext(ctx, oc), errs))
		return
	}
	ctx = graphql.WithOperationContext(ctx, oc)

	h := w.Header()
	h.Set("Content-Type", multipartContentType)
	h.Set("Cache-Control", "no-store")
	// Proxies that buffer (nginx) would hold events back.
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	mw := &multipartWriter{w: w, rc: http.NewResponseController(w)}
	if !mw.write([]byte(multipartDelimiter)) {
		return
	}

	responses, ctx := exec.DispatchOperation(ctx, oc)
	stop := make(chan struct{})
	var pinger sync.WaitGroup
	if t.keepAlive > 0 {
		pinger.Go(func() { mw.heartbeats(ctx, stop, t.keepAlive) })
	}
	defer func() {
		close(stop)
		pinger.Wait()
	}()
	for {
		resp := responses(ctx)
		if resp == nil {
			break
		}
		b, err := json.Marshal(struct {
			Payload *graphql.Response `json:"payload"`
		}{resp})
		if err != nil {
			b, _ = json.Marshal(struct {
				Payload any           `json:"payload"`
				Errors  gqlerror.List `json:"errors"`
			}{nil, gqlerror.List{{Message: "internal server error", Extensions: map[string]any{"code": CodeInternalServerError}}}})
			mw.part(b)
			break
		}
		if !mw.part(b) {
			return
		}
	}
	mw.write(multipartEnd)
}

// multipartWriter serialises the parts of one response: events from the
// subscription and heartbeats from a timer.
type multipartWriter struct {
	mu     sync.Mutex
	w      io.Writer
	rc     *http.ResponseController
	failed bool
}

// part writes one message and the delimiter after it, and flushes.
func (m *multipartWriter) part(msg []byte) bool {
	buf := make([]byte, 0, len(multipartPartHeader)+len(msg)+len(multipartDelimiter))
	buf = append(append(append(buf, multipartPartHeader...), msg...), multipartDelimiter...)
	return m.write(buf)
}

// write sends b and flushes it; false once the client is gone (the
// stream's write deadline, set by withStreams, ends a stuck client).
func (m *multipartWriter) write(b []byte) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.failed {
		return false
	}
	if _, err := m.w.Write(b); err != nil {
		m.failed = true
		return false
	}
	if err := m.rc.Flush(); err != nil {
		m.failed = true
	}
	return !m.failed
}

// heartbeats sends {} every interval until the stream ends.
func (m *multipartWriter) heartbeats(ctx context.Context, stop <-chan struct{}, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-stop:
			return
		case <-t.C:
			if !m.part(multipartHeartbeat) {
				return
			}
		}
	}
}

func init() {
	// gqlparser's prelude declares @defer, and gqlgen would accept it, but
	// nothing here delivers a response incrementally: queries and
	// mutations are one JSON response (CONTRACT), and gqlgen defers only
	// resolver-backed fields anyway. Rather than advertise a directive that
	// silently does nothing, the schema drops it: introspection no longer
	// lists it, and a document that uses it fails validation.
	delete(parsedSchema.Directives, "defer")
}
