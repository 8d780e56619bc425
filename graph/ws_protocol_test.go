package graph_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/trendql/trendql/graph"
)

// openFDs counts the sockets this process holds (client and server sides
// of every test connection included; SQLite's files, whose number follows
// the size of its connection pools, are left out).
func openFDs(t testing.TB) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("no /proc/self/fd: %v", err)
	}
	n := 0
	for _, e := range ents {
		if l, err := os.Readlink("/proc/self/fd/" + e.Name()); err == nil && strings.HasPrefix(l, "socket:") {
			n++
		}
	}
	return n
}

// settled waits until the sockets and goroutines are back to (or
// below) the baseline, failing after a generous deadline: the server may
// finish a closing handshake in the background, and the machine is busy.
func settled(t *testing.T, what string, fds, goroutines int) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		http.DefaultClient.CloseIdleConnections()
		f, g := openFDs(t), runtime.NumGoroutine()
		if f <= fds && g <= goroutines {
			t.Logf("%s: %d sockets (baseline %d), %d goroutines (baseline %d)", what, f, fds, g, goroutines)
			return
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("%s: %d sockets (baseline %d), %d goroutines (baseline %d) after 20s\n%s",
				what, f, fds, g, goroutines, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func wsURL(base string) string { return "ws" + strings.TrimPrefix(base, "http") + "/graphql" }

// rawWS dials a graphql-transport-ws websocket and writes the given
// frames as they are, with no protocol help.
func rawWS(t testing.TB, base string, frames ...string) *websocket.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, wsURL(base), &websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	for _, f := range frames {
		if err := c.Write(ctx, websocket.MessageText, []byte(f)); err != nil {
			t.Fatalf("write %s: %v", f, err)
		}
	}
	return c
}

// closeCode reads until the server closes the socket and returns its
// close code (-1 when the connection ended without one), skipping other
// messages.
func closeCode(t testing.TB, c *websocket.Conn) (websocket.StatusCode, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	for {
		_, _, err := c.Read(ctx)
		if err != nil {
			var ce websocket.CloseError
			if ok := asCloseError(err, &ce); ok {
				return ce.Code, ce.Reason
			}
			return -1, err.Error()
		}
	}
}

func asCloseError(err error, ce *websocket.CloseError) bool {
	code := websocket.CloseStatus(err)
	if code == -1 {
		return false
	}
	ce.Code = code
	if i := strings.Index(err.Error(), "status = "); i >= 0 {
		ce.Reason = err.Error()
	}
	return true
}

// However a websocket ends — a malformed connection_init, bad JSON, an
// unknown message type, a client that vanishes mid-subscription, an init
// that never comes, a server shutting down — the server releases its
// socket and goroutines. (Issue 11, item 2: a malformed init left every
// socket in CLOSE-WAIT for good.)
func TestWebsocket_EveryEndReleasesTheSocket(t *testing.T) {
	shutdown, stop := context.WithCancel(context.Background())
	defer stop()
	e := newEnv(t, func(o *graph.Options) {
		o.StreamContext = shutdown
		o.StreamInitTimeout = 300 * time.Millisecond
	})
	srv := httptest.NewServer(e.Handler)
	defer srv.Close()

	// Warm up: the first connection starts pools and tickers that stay.
	c := rawWS(t, srv.URL, `{"type":"connection_init"}`)
	c.CloseNow()
	time.Sleep(200 * time.Millisecond)
	fds, goroutines := openFDs(t), runtime.NumGoroutine()

	const n = 50
	sub := `{"id":"1","type":"subscribe","payload":{"query":"subscription { contentChanged { action } }"}}`
	for _, tc := range []struct {
		name   string
		frames []string
		want   websocket.StatusCode // the close code the client must see; 0: the client hangs up first
	}{
		{"init payload not an object", []string{`{"type":"connection_init","payload":"x"}`}, 4400},
		{"init payload a list", []string{`{"type":"connection_init","payload":[1]}`}, 4400},
		{"not JSON", []string{`{"type":`}, 4400},
		{"unknown message type", []string{`{"type":"connection_init"}`, `{"type":"hello"}`}, 4400},
		{"init never comes", nil, 4408},
		{"client vanishes mid-subscription", []string{`{"type":"connection_init"}`, sub}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for range n {
				c := rawWS(t, srv.URL, tc.frames...)
				if tc.want != 0 {
					if code, reason := closeCode(t, c); code != tc.want {
						t.Fatalf("close code %d (%s), want %d", code, reason, tc.want)
					}
				}
				c.CloseNow()
			}
			settled(t, tc.name, fds, goroutines+1) // +1: this subtest
		})
	}

	t.Run("server shutdown", func(t *testing.T) {
		var conns []*websocket.Conn
		for range n {
			conns = append(conns, rawWS(t, srv.URL, `{"type":"connection_init"}`, sub))
		}
		time.Sleep(100 * time.Millisecond)
		stop()
		for _, c := range conns {
			closeCode(t, c)
			c.CloseNow()
		}
		settled(t, "server shutdown", fds, goroutines+1)
	})
}

// The graphql-transport-ws protocol's close codes, each checked with a raw
// client (issue 11, item 12).
func TestWebsocket_ProtocolCloseCodes(t *testing.T) {
	l := newLive(t)
	sub := func(id string) string {
		return `{"id":"` + id + `","type":"subscribe","payload":{"query":"subscription { contentChanged { action } }"}}`
	}
	for _, tc := range []struct {
		name   string
		frames []string
		want   websocket.StatusCode
	}{
		{"subscribe before connection_init", []string{sub("1")}, 4401},
		{"duplicate subscription id", []string{`{"type":"connection_init"}`, sub("1"), sub("1")}, 4409},
		{"second connection_init", []string{`{"type":"connection_init"}`, `{"type":"connection_init"}`}, 4429},
		{"Authorization a number", []string{`{"type":"connection_init","payload":{"Authorization":42}}`}, 4403},
		{"Authorization an object", []string{`{"type":"connection_init","payload":{"authorization":{"token":"x"}}}`}, 4403},
		{"Authorization not Bearer", []string{`{"type":"connection_init","payload":{"Authorization":"Basic abc"}}`}, 4403},
		{"Authorization an unknown token", []string{`{"type":"connection_init","payload":{"Authorization":"Bearer tql_1_nope"}}`}, 4403},
		{"init payload a string", []string{`{"type":"connection_init","payload":"x"}`}, 4400},
		{"init payload a number", []string{`{"type":"connection_init","payload":7}`}, 4400},
		{"message not an object", []string{`[]`}, 4400},
		{"message without a type", []string{`{"id":"1"}`}, 4400},
		{"subscribe without an id", []string{`{"type":"connection_init"}`, `{"type":"subscribe","payload":{"query":"{ __typename }"}}`}, 4400},
		{"subscribe payload a string", []string{`{"type":"connection_init"}`, `{"id":"1","type":"subscribe","payload":"{ __typename }"}`}, 4400},
		{"subscribe without a payload", []string{`{"type":"connection_init"}`, `{"id":"1","type":"subscribe"}`}, 4400},
		{"server-to-client type from the client", []string{`{"type":"connection_init"}`, `{"type":"next","id":"1"}`}, 4400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := rawWS(t, l.URL, tc.frames...)
			defer c.CloseNow()
			if code, reason := closeCode(t, c); code != tc.want {
				t.Errorf("close code %d (%s), want %d", code, reason, tc.want)
			}
		})
	}

	// A completed id may be used again; a live one may not.
	ws, ack := dialWS(t, l.URL, nil, nil)
	if ack.Type != "connection_ack" {
		t.Fatalf("init: %+v", ack)
	}
	ws.subscribe(t, "q", `{ __typename }`, nil)
	if m := ws.next(t); m.Type != "next" {
		t.Fatalf("query over ws: %s %s", m.Type, m.Payload)
	}
	if m := ws.next(t); m.Type != "complete" {
		t.Fatalf("query over ws: %s %s", m.Type, m.Payload)
	}
	ws.subscribe(t, "q", `{ __typename }`, nil)
	if m := ws.next(t); m.Type != "next" {
		t.Fatalf("reused id: %s %s", m.Type, m.Payload)
	}
}
