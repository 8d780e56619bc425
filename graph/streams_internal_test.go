package graph

import (
	"errors"
	"io"
	"testing"
	"time"
)

// blockedConn is a websocket whose peer never reads: writes block until
// the connection is closed.
type blockedConn struct{ closed chan struct{} }

func (c *blockedConn) Close() error                        { close(c.closed); return nil }
func (c *blockedConn) NextReader() (int, io.Reader, error) { <-c.closed; return 0, nil, io.EOF }
func (c *blockedConn) WriteClose(int, string) error        { return nil }
func (c *blockedConn) Subprotocol() string                 { return "graphql-transport-ws" }
func (c *blockedConn) WriteJSON(any) error                 { <-c.closed; return errors.New("closed") }

// A write the peer does not take within the timeout closes the connection
// instead of blocking its goroutines forever.
func TestWatchedConn_StuckWriteClosesTheConnection(t *testing.T) {
	inner := &blockedConn{closed: make(chan struct{})}
	c := &watchedConn{WebsocketConn: inner, timeout: 50 * time.Millisecond}
	done := make(chan error, 1)
	go func() { done <- c.WriteJSON(map[string]string{"type": "next"}) }()
	select {
	case err := <-done:
		if err == nil {
			t.Error("stuck write reported success")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("stuck write still blocked")
	}
}
