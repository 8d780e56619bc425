package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"
)

// ceilingCommand is the hidden first argument that turns this binary into
// the fixed-response server: the machine's ceiling for an HTTP server in Go
// answering a body of the same size on this machine, with the same load
// generator beside it.
const ceilingCommand = "__ceiling"

// serveCeiling serves the bytes of the file args[0] to every request, with
// the headers a GraphQL response has, on 127.0.0.1 (a free port), and prints
// "listening on http://ADDR" like trendql does. It stops on SIGTERM/SIGINT.
func serveCeiling(args []string) error {
	if len(args) != 1 {
		return errors.New("usage: bench " + ceilingCommand + " BODYFILE")
	}
	body, err := os.ReadFile(args[0])
	if err != nil {
		return err
	}
	size := strconv.Itoa(len(body))
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body != nil {
			// Read the request like a real server would.
			var buf [4096]byte
			for {
				if _, err := r.Body.Read(buf[:]); err != nil {
					break
				}
			}
		}
		hd := w.Header()
		hd["Content-Type"] = []string{"application/json"}
		hd["Content-Length"] = []string{size}
		w.Write(body)
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	fmt.Printf("listening on http://%s\n", ln.Addr())
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return srv.Shutdown(sctx)
}
