package graph_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/trendql/trendql/db"
	"github.com/trendql/trendql/graph"
)

// mpClient reads a multipart subscription the way Apollo Client does: a
// part is complete when the delimiter after it arrives.
type mpClient struct {
	res    *http.Response
	parts  chan string // each part's JSON; closed at the end of the body
	final  chan bool   // whether the body ended with the closing delimiter
	cancel context.CancelFunc
}

func openMultipart(t testing.TB, url, token, query string, vars map[string]any) *mpClient {
	t.Helper()
	c, res := tryMultipart(t, url, token, query, vars)
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != `multipart/mixed;boundary="graphql";subscriptionSpec="1.0"` {
		b, _ := io.ReadAll(res.Body)
		t.Fatalf("multipart answer %d %s: %s", res.StatusCode, res.Header.Get("Content-Type"), b)
	}
	go c.read()
	return c
}

func tryMultipart(t testing.TB, url, token, query string, vars map[string]any) (*mpClient, *http.Response) {
	t.Helper()
	h := http.Header{}
	if token != "" {
		h.Set("Authorization", "Bearer "+token)
	}
	return tryMultipartHeader(t, url, h, query, vars)
}

// tryMultipartHeader starts a multipart subscription sending header.
func tryMultipartHeader(t testing.TB, url string, header http.Header, query string, vars map[string]any) (*mpClient, *http.Response) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", acceptApolloMP)
	for k, v := range header {
		req.Header[k] = v
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { res.Body.Close() })
	return &mpClient{res: res, parts: make(chan string, 1000), final: make(chan bool, 1), cancel: cancel}, res
}

func (c *mpClient) read() {
	defer close(c.parts)
	const delim = "\r\n--graphql"
	var buf string
	chunk := make([]byte, 4096)
	seen := false
	for {
		n, err := c.res.Body.Read(chunk)
		buf += string(chunk[:n])
		for {
			i := strings.Index(buf, delim)
			if i < 0 || (seen && strings.HasPrefix(buf, "--")) {
				break
			}
			seen = true
			msg := buf[:i]
			buf = buf[i+len(delim):]
			if j := strings.Index(msg, "\r\n\r\n"); j >= 0 {
				if !strings.Contains(strings.ToLower(msg[:j]), "content-type: application/json") {
					c.parts <- "bad part headers: " + msg[:j]
				}
				c.parts <- msg[j+4:]
			}
		}
		if err != nil {
			c.final <- seen && buf == "--\r\n"
			return
		}
	}
}

// next returns the next part that is not a heartbeat.
func (c *mpClient) next(t testing.TB) string {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case p, ok := <-c.parts:
			if !ok {
				t.Fatal("multipart stream ended")
			}
			if p != "{}" {
				return p
			}
		case <-deadline:
			t.Fatal("no multipart part within 10s")
		}
	}
}

// changes decodes n events: each part is {"payload": <a GraphQL response>}.
func (c *mpClient) changes(t testing.TB, n int) []change {
	t.Helper()
	var out []change
	for len(out) < n {
		var p struct{ Payload json.RawMessage }
		part := c.next(t)
		if err := json.Unmarshal([]byte(part), &p); err != nil || len(p.Payload) == 0 {
			t.Fatalf("part %q is not {\"payload\": …}", part)
		}
		out = append(out, decodeChange(t, p.Payload))
	}
	return out
}

// ended waits for the body to end and reports whether it ended with the
// closing delimiter.
func (c *mpClient) ended(t testing.TB) bool {
	t.Helper()
	for {
		select {
		case _, ok := <-c.parts:
			if !ok {
				return <-c.final
			}
		case <-time.After(10 * time.Second):
			t.Fatal("multipart stream still open after 10s")
		}
	}
}

// Apollo Client's multipart subscriptions: the same events as over SSE and
// websockets, in order, each in its own part.
func TestMultipart_DeliversMutationsInOrder(t *testing.T) {
	l := newLive(t)
	mp := openMultipart(t, l.URL, l.viewer, `subscription($since: String) { contentChanged(since: $since) { `+changeFields+` } }`, l.head(t))
	id := l.createCompany(t, "Acme")
	l.rename(t, id, "Acme Corp")
	l.publish(t, id, true)
	l.deleteCompany(t, id)
	got := mp.changes(t, 4)
	if s := summary(got); s != "CREATE:1 UPDATE:2 PUBLISH:3 DELETE:4" {
		t.Fatalf("changes = %s", s)
	}
	if got[0].ItemID != id || got[0].Revision.Actor != "editor" {
		t.Errorf("first change %+v", got[0])
	}
}

// Anonymous multipart subscribers hear only public changes, like the
// other transports' (TestSubscription_DraftsReachOnlyViewers); every
// token role hears the drafts too.
func TestMultipart_DraftsReachOnlyViewers(t *testing.T) {
	l := newLive(t)
	q := `subscription($since: String) { contentChanged(since: $since) { ` + changeFields + ` } }`
	head := l.head(t)
	anon := openMultipart(t, l.URL, "", q, head)
	withToken := map[string]*mpClient{}
	for role, tok := range map[string]string{"viewer": l.viewer, "editor": l.editor, "admin": l.admin} {
		withToken[role] = openMultipart(t, l.URL, tok, q, head)
	}
	id := l.createCompany(t, "Secret Codename")
	l.rename(t, id, "Launch Name")
	l.publish(t, id, true)
	for role, c := range withToken {
		if s := summary(c.changes(t, 3)); s != "CREATE:1 UPDATE:2 PUBLISH:3" {
			t.Errorf("%s: %s", role, s)
		}
	}
	got := anon.changes(t, 1)
	if s := summary(got); s != "PUBLISH:3" || strings.Contains(string(got[0].Revision.Document), "Secret") || got[0].Revision.Actor != "" {
		t.Errorf("anonymous: %s %+v", s, got[0])
	}
}

// Keep-alive heartbeats ({} parts) flow while nothing happens, and the
// server's shutdown ends the stream with the closing delimiter.
func TestMultipart_HeartbeatsAndShutdown(t *testing.T) {
	stop, shutdown := context.WithCancel(context.Background())
	defer shutdown()
	l := newLive(t, func(o *graph.Options) {
		o.KeepAlive = 20 * time.Millisecond
		o.StreamContext = stop
		o.RequestTimeout = 50 * time.Millisecond // streams are exempt
	})
	mp := openMultipart(t, l.URL, "", `subscription { contentChanged { action } }`, nil)
	heartbeats := func(n int) {
		t.Helper()
		for beats := 0; beats < n; {
			select {
			case p, ok := <-mp.parts:
				if !ok {
					t.Fatal("the stream ended")
				}
				if p != "{}" {
					t.Fatalf("part %q while idle, want heartbeats", p)
				}
				beats++
			case <-time.After(10 * time.Second):
				t.Fatal("no heartbeat")
			}
		}
	}
	heartbeats(3)
	// Past the request timeout, the stream goes on.
	time.Sleep(100 * time.Millisecond)
	for len(mp.parts) > 0 {
		<-mp.parts
	}
	heartbeats(3)
	shutdown()
	if !mp.ended(t) {
		t.Error("the stream did not end with the closing delimiter")
	}
}

// What cannot start a stream is one JSON response, as on every other
// transport: request errors, limits, bad tokens; and a client that leaves
// ends its subscription.
func TestMultipart_RefusalsAndDepartures(t *testing.T) {
	l := newLive(t, func(o *graph.Options) { o.Limits.MaxDepth = 3 })
	for _, c := range []struct {
		name, token, query string
		status             int
		code               string
	}{
		{"validation", "", `subscription { nope }`, 200, "GRAPHQL_VALIDATION_FAILED"},
		{"limits", "", `subscription { contentChanged { node { ... on Trend { framework { companies { name } } } } } }`, 200, "COMPLEXITY_LIMIT_EXCEEDED"},
		{"bad token", "tql_1_nope", `subscription { contentChanged { action } }`, 401, "UNAUTHENTICATED"},
	} {
		_, res := tryMultipart(t, l.URL, c.token, c.query, nil)
		b, _ := io.ReadAll(res.Body)
		var r gqlResponse
		json.Unmarshal(b, &r)
		if res.StatusCode != c.status || res.Header.Get("Content-Type") != "application/json" || r.code() != c.code || bytes.Contains(b, []byte(`"data"`)) {
			t.Errorf("%s: %d %s %s", c.name, res.StatusCode, res.Header.Get("Content-Type"), b)
		}
	}

	// Over SSE the same refusal is an event, which graphql-sse expects.
	sse := openSSE(t, l.URL, "", `subscription { nope }`, nil)
	if ev := sse.next(t); !strings.Contains(ev, "GRAPHQL_VALIDATION_FAILED") {
		t.Errorf("SSE validation error: %s", ev)
	}
	if ev := sse.next(t); ev != "complete" {
		t.Errorf("SSE after the error: %s, want complete", ev)
	}

	active := func() float64 { return l.metric(t, "trendql_subscriptions_active") }
	mp := openMultipart(t, l.URL, "", `subscription { contentChanged { action } }`, nil)
	waitFor(t, "the subscription to start", func() bool { return active() == 1 })
	mp.cancel()
	waitFor(t, "the subscription to end after the client left", func() bool { return active() == 0 })
}

// waitFor polls cond until it holds, failing after a generous 20 s (the
// machine is shared: wait for the condition, never for a fixed time).
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// A multipart subscription whose token is revoked ends (with the closing
// delimiter) before it delivers more, as over the other transports.
func TestMultipart_EndsWhenTheTokenIsRevoked(t *testing.T) {
	l := newLive(t, func(o *graph.Options) { o.TokenRecheck = time.Nanosecond })
	tok, secret, err := l.DB.CreateToken(context.Background(), "short-lived", db.RoleViewer, 0)
	if err != nil {
		t.Fatal(err)
	}
	mp := openMultipart(t, l.URL, secret, `subscription($since: String) { contentChanged(since: $since) { action } }`, l.head(t))
	l.createCompany(t, "Seen")
	if s := summary(mp.changes(t, 1)); s != "CREATE:0" {
		t.Fatalf("before revocation: %s", s)
	}
	if _, err := l.DB.RevokeToken(context.Background(), tok.ID); err != nil {
		t.Fatal(err)
	}
	l.createCompany(t, "Not Seen")
	timeout := time.After(15 * time.Second)
	for open := true; open; {
		select {
		case p, ok := <-mp.parts:
			if ok && p != "{}" {
				t.Errorf("after revocation: %s", p)
			}
			open = ok
		case <-timeout:
			t.Fatal("the stream is still open after the revocation")
		}
	}
	if !<-mp.final {
		t.Error("the stream did not end with the closing delimiter")
	}
}
