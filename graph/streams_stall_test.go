package graph_test

import (
	"fmt"
	"net"
	"net/http/httptest"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/trendql/trendql/graph"
)

// smallBuffers is a listener whose connections have small socket send
// buffers, so that a client that stops reading blocks the server's writes
// within kilobytes rather than megabytes.
type smallBuffers struct{ net.Listener }

func (l smallBuffers) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetWriteBuffer(4096)
	}
	return c, err
}

// A streaming client (SSE or multipart) that stops reading is
// disconnected once a write has waited StreamWriteTimeout, and its
// subscription ends.
func TestStreams_StalledClientIsDropped(t *testing.T) {
	for name, accept := range map[string]string{"SSE": "text/event-stream", "multipart": `multipart/mixed;subscriptionSpec="1.0"`} {
		t.Run(name, func(t *testing.T) { stallStream(t, accept) })
	}
}

func stallStream(t *testing.T, accept string) {
	e := newEnv(t, func(o *graph.Options) {
		o.KeepAlive = time.Millisecond
		o.StreamWriteTimeout = 100 * time.Millisecond
	})
	srv := httptest.NewUnstartedServer(e.Handler)
	srv.Listener = smallBuffers{srv.Listener}
	srv.Start()
	t.Cleanup(srv.Close)

	d := net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
		return c.Control(func(fd uintptr) { syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096) })
	}}
	conn, err := d.Dial("tcp", strings.TrimPrefix(srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	body := `{"query":"subscription { contentChanged { action } }"}`
	fmt.Fprintf(conn, "POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"+
		"Accept: %s\r\nContent-Length: %d\r\n\r\n%s", accept, len(body), body)
	active := func() float64 { return e.metric(t, "trendql_subscriptions_active") }
	start := time.Now()
	waitFor(t, "the subscription to start", func() bool { return active() == 1 })
	waitFor(t, "the stalled subscription to end", func() bool { return active() == 0 })
	t.Logf("dropped after %v", time.Since(start))
}
