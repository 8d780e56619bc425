package graph_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/trendql/trendql/db"
	"github.com/trendql/trendql/graph"
)

// live is a test server on a real loopback socket (websockets and SSE need
// one), with tokens of each role.
type live struct {
	*env
	URL                   string
	viewer, editor, admin string
}

func newLive(t testing.TB, opts ...func(*graph.Options)) *live {
	t.Helper()
	e := newEnv(t, opts...)
	srv := httptest.NewServer(e.Handler)
	t.Cleanup(srv.Close)
	l := &live{env: e, URL: srv.URL}
	for _, r := range []struct {
		role db.Role
		dst  *string
	}{{db.RoleViewer, &l.viewer}, {db.RoleEditor, &l.editor}, {db.RoleAdmin, &l.admin}} {
		_, secret, err := e.DB.CreateToken(context.Background(), string(r.role), r.role, 0)
		if err != nil {
			t.Fatal(err)
		}
		*r.dst = secret
	}
	return l
}

// gql runs one operation over real HTTP with an optional token and fails
// the test on any error.
func (l *live) gql(t testing.TB, token, query string, vars map[string]any, out any) {
	t.Helper()
	res := l.try(t, token, query, vars)
	if len(res.Errors) > 0 {
		t.Fatalf("%s: %s", query, res.Body)
	}
	if out != nil {
		if err := json.Unmarshal(res.Data, out); err != nil {
			t.Fatal(err)
		}
	}
}

func (l *live) try(t testing.TB, token, query string, vars map[string]any) *gqlResponse {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequest(http.MethodPost, l.URL+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var buf bytes.Buffer
	buf.ReadFrom(res.Body)
	out := &gqlResponse{Status: res.StatusCode, Header: res.Header, Body: buf.String()}
	if err := json.Unmarshal(buf.Bytes(), out); err != nil {
		t.Fatalf("not JSON: %s", buf.String())
	}
	return out
}

// createCompany makes a draft company and returns its id.
func (l *live) createCompany(t testing.TB, name string) string {
	t.Helper()
	var r struct{ CreateCompany struct{ ID string } }
	l.gql(t, l.editor, `mutation($n: String!) { createCompany(input: {name: $n}) { id } }`, map[string]any{"n": name}, &r)
	return r.CreateCompany.ID
}

func (l *live) rename(t testing.TB, id, name string) {
	t.Helper()
	l.gql(t, l.editor, `mutation($id: ID!, $n: String!) { updateCompany(id: $id, input: {name: $n}) { id } }`, map[string]any{"id": id, "n": name}, nil)
}

func (l *live) publish(t testing.TB, id string, on bool) {
	t.Helper()
	op := "publish"
	if !on {
		op = "unpublish"
	}
	l.gql(t, l.editor, `mutation($id: ID!) { `+op+`(id: $id) { id } }`, map[string]any{"id": id}, nil)
}

func (l *live) deleteCompany(t testing.TB, id string) {
	t.Helper()
	l.gql(t, l.editor, `mutation($id: ID!) { deleteCompany(id: $id) { id } }`, map[string]any{"id": id}, nil)
}

// head returns the changes cursor now, as a viewer sees it (the anonymous
// one stays behind draft activity): subscribing with it as since misses
// nothing that happens after, however long the subscription takes to start.
func (l *live) head(t testing.TB) map[string]any {
	t.Helper()
	var r struct{ ChangesCursor string }
	l.gql(t, l.viewer, `{ changesCursor }`, nil, &r)
	return map[string]any{"since": r.ChangesCursor}
}

// change is the part of a ContentChange the tests look at.
type change struct {
	Action   string
	ItemID   string
	ItemType string
	Cursor   string
	Node     *struct{ Name string }
	Revision struct {
		Version  int
		Status   string
		Actor    string
		Document json.RawMessage
	}
}

const changeFields = `action itemId itemType cursor node { ... on Company { name } } revision { version status actor document }`

// wsClient is a minimal graphql-transport-ws client.
type wsClient struct {
	c    *websocket.Conn
	msgs chan wsMsg
	done chan struct{}
}

type wsMsg struct {
	ID      string          `json:"id,omitempty"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload,omitempty"`
	// Close is set on the last message: the server closed the socket.
	Close *websocket.CloseError `json:"-"`
}

// dialWS opens a websocket and sends connection_init with payload; it
// returns the first answer's type alongside (connection_ack, or a close).
func dialWS(t testing.TB, url string, header http.Header, payload map[string]any) (*wsClient, wsMsg) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(url, "http")+"/graphql", &websocket.DialOptions{
		Subprotocols: []string{"graphql-transport-ws"}, HTTPHeader: header,
	})
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	c.SetReadLimit(1 << 22)
	w := &wsClient{c: c, msgs: make(chan wsMsg, 1000), done: make(chan struct{})}
	t.Cleanup(func() { c.CloseNow() })
	go w.read()
	p, _ := json.Marshal(payload)
	w.send(t, wsMsg{Type: "connection_init", Payload: p})
	return w, w.next(t)
}

func (w *wsClient) read() {
	defer close(w.done)
	for {
		_, b, err := w.c.Read(context.Background())
		if err != nil {
			var ce websocket.CloseError
			m := wsMsg{Type: "closed"}
			if errors.As(err, &ce) {
				m.Close = &ce
			}
			w.msgs <- m
			close(w.msgs)
			return
		}
		var m wsMsg
		json.Unmarshal(b, &m)
		if m.Type == "ping" {
			w.c.Write(context.Background(), websocket.MessageText, []byte(`{"type":"pong"}`))
			continue
		}
		w.msgs <- m
	}
}

func (w *wsClient) send(t testing.TB, m wsMsg) {
	t.Helper()
	b, _ := json.Marshal(m)
	if err := w.c.Write(context.Background(), websocket.MessageText, b); err != nil {
		t.Fatalf("write: %v", err)
	}
}

func (w *wsClient) subscribe(t testing.TB, id, query string, vars map[string]any) {
	t.Helper()
	p, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	w.send(t, wsMsg{ID: id, Type: "subscribe", Payload: p})
}

// next returns the next message, failing after 5 s.
func (w *wsClient) next(t testing.TB) wsMsg {
	t.Helper()
	select {
	case m, ok := <-w.msgs:
		if !ok {
			t.Fatal("websocket closed")
		}
		return m
	case <-time.After(5 * time.Second):
		t.Fatal("no websocket message within 5s")
	}
	return wsMsg{}
}

// changes reads n "next" messages of subscription id and decodes them.
func (w *wsClient) changes(t testing.TB, n int) []change {
	t.Helper()
	var out []change
	for len(out) < n {
		m := w.next(t)
		if m.Type != "next" {
			t.Fatalf("got %s %s after %d changes, want next", m.Type, m.Payload, len(out))
		}
		out = append(out, decodeChange(t, m.Payload))
	}
	return out
}

// quiet asserts that no message arrives for a little while.
func (w *wsClient) quiet(t testing.TB) {
	t.Helper()
	select {
	case m := <-w.msgs:
		t.Fatalf("unexpected message %s %s", m.Type, m.Payload)
	case <-time.After(150 * time.Millisecond):
	}
}

func decodeChange(t testing.TB, payload []byte) change {
	t.Helper()
	var r struct {
		Data   map[string]change
		Errors []any
	}
	if err := json.Unmarshal(payload, &r); err != nil || len(r.Errors) > 0 || len(r.Data) != 1 {
		t.Fatalf("bad change %s: %v", payload, err)
	}
	for _, c := range r.Data {
		return c
	}
	return change{}
}

func summary(cs []change) string {
	var parts []string
	for _, c := range cs {
		parts = append(parts, fmt.Sprintf("%s:%d", c.Action, c.Revision.Version))
	}
	return strings.Join(parts, " ")
}

// A websocket subscriber receives every change of a mutation sequence, in
// the order committed, even when the mutations come back to back.
func TestSubscription_WebsocketDeliversMutationsInOrder(t *testing.T) {
	l := newLive(t)
	ws, ack := dialWS(t, l.URL, nil, map[string]any{"Authorization": "Bearer " + l.viewer})
	if ack.Type != "connection_ack" {
		t.Fatalf("init: %+v", ack)
	}
	ws.subscribe(t, "1", `subscription { contentChanged(types: [COMPANY]) { `+changeFields+` } }`, nil)
	// Without since, a subscription starts at the newest change when it
	// starts: give it time to.
	time.Sleep(200 * time.Millisecond)

	id := l.createCompany(t, "Acme")
	l.rename(t, id, "Acme Corp")
	l.publish(t, id, true)
	l.deleteCompany(t, id)

	got := ws.changes(t, 4)
	if s := summary(got); s != "CREATE:1 UPDATE:2 PUBLISH:3 DELETE:4" {
		t.Fatalf("changes = %s", s)
	}
	for _, c := range got {
		if c.ItemID != id || c.ItemType != "Company" || c.Revision.Actor != "editor" {
			t.Errorf("change %+v: want item %s, type Company, actor editor", c, id)
		}
	}
	if got[3].Node != nil {
		t.Errorf("node of a deleted item = %+v, want null", got[3].Node)
	}
	ws.quiet(t)
}

// Over SSE too: the same sequence, in order, then the stream completes
// when the client goes away.
func TestSubscription_SSEDeliversMutationsInOrder(t *testing.T) {
	l := newLive(t)
	sse := openSSE(t, l.URL, l.viewer, `subscription($since: String) { contentChanged(since: $since) { `+changeFields+` } }`, l.head(t))

	id := l.createCompany(t, "Acme")
	l.rename(t, id, "Acme Corp")
	l.publish(t, id, true)
	l.deleteCompany(t, id)

	got := sse.changes(t, 4)
	if s := summary(got); s != "CREATE:1 UPDATE:2 PUBLISH:3 DELETE:4" {
		t.Fatalf("changes = %s", s)
	}
	if got[0].ItemID != id {
		t.Errorf("item = %s, want %s", got[0].ItemID, id)
	}
}

// sseClient reads a text/event-stream response.
type sseClient struct {
	events chan string
	cancel context.CancelFunc
}

func openSSE(t testing.TB, url, token, query string, vars map[string]any) *sseClient {
	t.Helper()
	h := http.Header{}
	if token != "" {
		h.Set("Authorization", "Bearer "+token)
	}
	return openSSEHeader(t, url, h, query, vars)
}

// openSSEHeader opens an SSE subscription sending header.
func openSSEHeader(t testing.TB, url string, header http.Header, query string, vars map[string]any) *sseClient {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "text/event-stream")
	for k, v := range header {
		req.Header[k] = v
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/event-stream") {
		t.Fatalf("SSE answer %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	s := &sseClient{events: make(chan string, 1000), cancel: cancel}
	go func() {
		defer res.Body.Close()
		defer close(s.events)
		sc := bufio.NewScanner(res.Body)
		sc.Buffer(nil, 1<<22)
		event := ""
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "event: "):
				event = strings.TrimPrefix(line, "event: ")
				if event == "complete" {
					s.events <- "complete"
				}
			case strings.HasPrefix(line, "data: ") && event == "next":
				s.events <- strings.TrimPrefix(line, "data: ")
			}
		}
	}()
	return s
}

func (s *sseClient) next(t testing.TB) string {
	t.Helper()
	select {
	case ev, ok := <-s.events:
		if !ok {
			t.Fatal("SSE stream ended")
		}
		return ev
	case <-time.After(5 * time.Second):
		t.Fatal("no SSE event within 5s")
	}
	return ""
}

func (s *sseClient) changes(t testing.TB, n int) []change {
	t.Helper()
	var out []change
	for len(out) < n {
		out = append(out, decodeChange(t, []byte(s.next(t))))
	}
	return out
}

// Anonymous subscribers hear only public changes: nothing of a draft's
// life nor of a published item's pending draft, the publications (of the
// item, then of its draft), and its unpublication (as a removal: node
// null). A viewer hears everything.
func TestSubscription_DraftsReachOnlyViewers(t *testing.T) {
	l := newLive(t)
	anon, _ := dialWS(t, l.URL, nil, nil)
	viewer, _ := dialWS(t, l.URL, http.Header{"Authorization": {"Bearer " + l.viewer}}, nil)
	q := `subscription($since: String) { contentChanged(since: $since) { ` + changeFields + ` } }`
	head := l.head(t)
	anon.subscribe(t, "a", q, head)
	viewer.subscribe(t, "v", q, head)
	sseAnon := openSSE(t, l.URL, "", q, head)

	// The sentinel is made first: SQLite reuses the largest row id after
	// a deletion, so made after the deletion below it would take its id.
	sentinel := l.createCompany(t, "Sentinel Company") // hidden...
	id := l.createCompany(t, "Secret Codename")        // draft: hidden
	l.rename(t, id, "Launch Name")                     // draft: hidden
	l.publish(t, id, true)                             // public
	l.rename(t, id, "Secret Draft Edit")               // the published item's draft: hidden
	l.rename(t, id, "Launch Name Two")                 // its draft again: hidden
	l.publish(t, id, true)                             // the draft goes live: public
	l.publish(t, id, false)                            // public, as a removal
	l.rename(t, id, "Secret Rework")                   // draft: hidden
	l.deleteCompany(t, id)                             // deleting a draft: hidden
	l.publish(t, sentinel, true)                       // ...until published

	all := viewer.changes(t, 11)
	if s := summary(all); s != "CREATE:1 CREATE:1 UPDATE:2 PUBLISH:3 UPDATE:4 UPDATE:5 PUBLISH:6 UNPUBLISH:7 UPDATE:8 DELETE:9 PUBLISH:2" {
		t.Errorf("viewer changes = %s", s)
	}
	for name, got := range map[string][]change{"websocket": anon.changes(t, 4), "SSE": sseAnon.changes(t, 4)} {
		if s := summary(got); s != "PUBLISH:3 PUBLISH:6 UNPUBLISH:7 PUBLISH:2" {
			t.Fatalf("anonymous %s changes = %s", name, s)
		}
		for _, c := range got {
			if strings.Contains(string(c.Revision.Document), "Secret") {
				t.Errorf("anonymous %s saw draft content: %s", name, c.Revision.Document)
			}
			if c.Revision.Actor != "" {
				t.Errorf("anonymous %s saw the actor %q", name, c.Revision.Actor)
			}
		}
		if !strings.Contains(string(got[1].Revision.Document), "Launch Name Two") {
			t.Errorf("anonymous %s: the draft's publication carries %s, want the draft's name", name, got[1].Revision.Document)
		}
		if got[2].Action != "UNPUBLISH" || got[2].Node != nil {
			t.Errorf("anonymous %s: unpublish = %+v, want a removal with node null", name, got[2])
		}
	}
	anon.quiet(t)
}

// A subscription's since cursor replays what the client missed, then goes
// on live: reconnecting loses nothing.
func TestSubscription_ResumesFromCursor(t *testing.T) {
	l := newLive(t)
	var head struct{ ChangesCursor string }
	l.gql(t, "", `{ changesCursor }`, nil, &head)
	a := l.createCompany(t, "Missed One")
	l.publish(t, a, true)

	ws, _ := dialWS(t, l.URL, nil, map[string]any{"authorization": "Bearer " + l.viewer})
	ws.subscribe(t, "1", `subscription($since: String) { contentChanged(since: $since) { `+changeFields+` } }`, map[string]any{"since": head.ChangesCursor})
	got := ws.changes(t, 2)
	l.rename(t, a, "Live One")
	got = append(got, ws.changes(t, 1)...)
	if s := summary(got); s != "CREATE:1 PUBLISH:2 UPDATE:3" {
		t.Fatalf("changes = %s", s)
	}
	// A bad cursor fails the subscription at once.
	ws.subscribe(t, "2", `subscription { contentChanged(since: "nope") { action } }`, nil)
	if m := ws.next(t); m.Type != "next" || !strings.Contains(string(m.Payload), "BAD_USER_INPUT") {
		t.Errorf("bad cursor: %s %s", m.Type, m.Payload)
	}
}

// itemChanged follows one item and completes after its deletion; an
// item the caller cannot see is NOT_FOUND.
func TestSubscription_ItemChanged(t *testing.T) {
	l := newLive(t)
	id := l.createCompany(t, "Followed")
	other := l.createCompany(t, "Other")

	anon, _ := dialWS(t, l.URL, nil, nil)
	anon.subscribe(t, "1", `subscription($id: ID!) { itemChanged(id: $id) { action } }`, map[string]any{"id": id})
	if m := anon.next(t); !strings.Contains(string(m.Payload), "NOT_FOUND") {
		t.Errorf("anonymous on a draft: %s %s", m.Type, m.Payload)
	}

	ws, _ := dialWS(t, l.URL, nil, map[string]any{"Authorization": "Bearer " + l.viewer})
	ws.subscribe(t, "1", `subscription($id: ID!, $since: String) { itemChanged(id: $id, since: $since) { `+changeFields+` } }`,
		map[string]any{"id": id, "since": l.head(t)["since"]})
	l.rename(t, other, "Other Two")
	l.rename(t, id, "Followed Two")
	// The subscription checks the item when it starts: delete it only once
	// the subscription has surely started.
	got := ws.changes(t, 1)
	l.deleteCompany(t, id)
	if s := summary(append(got, ws.changes(t, 1)...)); s != "UPDATE:2 DELETE:3" {
		t.Errorf("changes = %s", s)
	}
	if m := ws.next(t); m.Type != "complete" || m.ID != "1" {
		t.Errorf("after the deletion: %s, want complete", m.Type)
	}
}

// Subscriptions are refused where they cannot stream, and bad credentials
// are refused before anything is sent.
func TestSubscription_RefusedWithoutStreamOrWithBadToken(t *testing.T) {
	l := newLive(t)
	res := l.try(t, "", `subscription { contentChanged { action } }`, nil)
	if res.code() != "BAD_USER_INPUT" || !strings.Contains(res.Body, "text/event-stream") {
		t.Errorf("subscription over POST: %s", res.Body)
	}

	ws, first := dialWS(t, l.URL, nil, map[string]any{"Authorization": "Bearer tql_1_nope"})
	if first.Type != "closed" || first.Close == nil || first.Close.Code != 4403 {
		t.Errorf("bad init token: %+v", first)
	}
	_ = ws

	_, _, err := websocket.Dial(context.Background(), "ws"+strings.TrimPrefix(l.URL, "http")+"/graphql", &websocket.DialOptions{
		Subprotocols: []string{"graphql-transport-ws"}, HTTPHeader: http.Header{"Authorization": {"Bearer tql_1_nope"}},
	})
	if err == nil || !strings.Contains(err.Error(), "401") {
		t.Errorf("bad header token: %v, want 401", err)
	}
}

// Websocket origins follow the CORS configuration.
func TestSubscription_WebsocketOrigins(t *testing.T) {
	l := newLive(t, func(o *graph.Options) { o.CORSOrigins = []string{"https://good.example"} })
	dial := func(origin string) error {
		c, _, err := websocket.Dial(context.Background(), "ws"+strings.TrimPrefix(l.URL, "http")+"/graphql", &websocket.DialOptions{
			Subprotocols: []string{"graphql-transport-ws"}, HTTPHeader: http.Header{"Origin": {origin}},
		})
		if err == nil {
			c.CloseNow()
		}
		return err
	}
	if err := dial("https://good.example"); err != nil {
		t.Errorf("allowed origin refused: %v", err)
	}
	if err := dial("https://evil.example"); err == nil {
		t.Error("foreign origin accepted")
	}
}

// A subscriber that reads nothing holds up neither mutations nor other
// subscribers; and once subscribers go away, so do their goroutines.
func TestSubscription_SlowAndVanishedSubscribers(t *testing.T) {
	l := newLive(t)
	settle := func() int {
		http.DefaultClient.CloseIdleConnections()
		time.Sleep(100 * time.Millisecond)
		return runtime.NumGoroutine()
	}
	base := settle()

	// A stalled client: subscribed, never reads a byte.
	stalled, _, err := websocket.Dial(context.Background(), "ws"+strings.TrimPrefix(l.URL, "http")+"/graphql", &websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
	if err != nil {
		t.Fatal(err)
	}
	stalled.Write(context.Background(), websocket.MessageText, []byte(`{"type":"connection_init"}`))
	stalled.Write(context.Background(), websocket.MessageText, []byte(`{"id":"1","type":"subscribe","payload":{"query":"subscription { contentChanged { revision { document } } }"}}`))

	var clients []*wsClient
	head := l.head(t)
	for range 5 {
		ws, _ := dialWS(t, l.URL, nil, map[string]any{"Authorization": "Bearer " + l.viewer})
		ws.subscribe(t, "1", `subscription($since: String) { contentChanged(since: $since) { action revision { version } } }`, head)
		clients = append(clients, ws)
	}
	sse := openSSE(t, l.URL, l.viewer, `subscription($since: String) { contentChanged(since: $since) { action } }`, head)

	const n = 60
	start := time.Now()
	id := l.createCompany(t, "Busy")
	for i := 2; i <= n; i++ {
		l.rename(t, id, fmt.Sprintf("Busy %d", i))
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("%d mutations took %v with a stalled subscriber", n, d)
	}
	for i, ws := range clients {
		got := ws.changes(t, n)
		if got[n-1].Revision.Version != n {
			t.Fatalf("client %d: last change %+v", i, got[n-1])
		}
	}
	sse.changes(t, n)

	if during := runtime.NumGoroutine(); during <= base {
		t.Fatalf("goroutines while subscribed %d, base %d: the check below proves nothing", during, base)
	}
	for _, ws := range clients {
		ws.c.Close(websocket.StatusNormalClosure, "bye")
	}
	stalled.CloseNow()
	sse.cancel()
	deadline := time.Now().Add(10 * time.Second)
	for {
		now := settle()
		if now <= base {
			break
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("goroutines leak: %d now, %d before\n%s", now, base, buf[:runtime.Stack(buf, true)])
		}
	}
}

// Streams outlive the server's read and write timeouts and the request
// timeout, which would otherwise cut them after a few seconds.
func TestSubscription_OutlivesServerTimeouts(t *testing.T) {
	e := newEnv(t, func(o *graph.Options) { o.RequestTimeout = 200 * time.Millisecond })
	srv := httptest.NewUnstartedServer(e.Handler)
	srv.Config.ReadTimeout = 300 * time.Millisecond
	srv.Config.WriteTimeout = 300 * time.Millisecond
	srv.Start()
	t.Cleanup(srv.Close)
	l := &live{env: e, URL: srv.URL}
	_, secret, _ := e.DB.CreateToken(context.Background(), "editor", db.RoleEditor, 0)
	l.editor = secret

	ws, _ := dialWS(t, l.URL, nil, nil)
	q := `subscription($since: String) { contentChanged(since: $since) { action revision { version } } }`
	head := l.head(t)
	ws.subscribe(t, "1", q, head)
	sse := openSSE(t, l.URL, "", q, head)
	time.Sleep(time.Second)
	id := l.createCompany(t, "Later")
	l.publish(t, id, true)
	if s := summary(ws.changes(t, 1)); s != "PUBLISH:2" {
		t.Errorf("websocket: %s", s)
	}
	if s := summary(sse.changes(t, 1)); s != "PUBLISH:2" {
		t.Errorf("SSE: %s", s)
	}
}

// A subscription whose token is revoked ends before it delivers more.
func TestSubscription_EndsWhenTheTokenIsRevoked(t *testing.T) {
	l := newLive(t, func(o *graph.Options) { o.TokenRecheck = time.Nanosecond })
	tok, secret, err := l.DB.CreateToken(context.Background(), "short-lived", db.RoleViewer, 0)
	if err != nil {
		t.Fatal(err)
	}
	ws, _ := dialWS(t, l.URL, nil, map[string]any{"Authorization": "Bearer " + secret})
	ws.subscribe(t, "1", `subscription($since: String) { contentChanged(since: $since) { action } }`, l.head(t))
	l.createCompany(t, "Seen")
	if s := summary(ws.changes(t, 1)); s != "CREATE:0" {
		t.Fatalf("before revocation: %s", s)
	}
	if _, err := l.DB.RevokeToken(context.Background(), tok.ID); err != nil {
		t.Fatal(err)
	}
	l.createCompany(t, "Not Seen")
	if m := ws.next(t); m.Type != "error" || !strings.Contains(string(m.Payload), "UNAUTHENTICATED") {
		t.Errorf("after revocation: %s %s", m.Type, m.Payload)
	}
}
