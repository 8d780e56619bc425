package main

import (
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

// TestCountingBody proves that bodies are counted and that the errors key
// is found however the body is cut into reads, and not inside strings.
func TestCountingBody(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		wantErr    bool
	}{
		{"data", `{"data":{"trends":{"nodes":[]}}}`, false},
		{"errors", `{"errors":[{"message":"x"}],"data":null}`, true},
		{"errors late", `{"data":null,` + strings.Repeat(" ", 5000) + `"errors":[]}`, true},
		{"escaped in a string", `{"data":{"body":"say \"errors\": no"}}`, false},
	} {
		for _, oneByte := range []bool{false, true} {
			c := &bodyCounts{}
			var r io.Reader = strings.NewReader(tc.body)
			if oneByte {
				r = iotest.OneByteReader(r)
			}
			b := &countingBody{rc: io.NopCloser(r), c: c}
			if _, err := io.Copy(io.Discard, b); err != nil {
				t.Fatal(err)
			}
			b.Close()
			if c.bodies.Load() != 1 || c.bytes.Load() != int64(len(tc.body)) {
				t.Errorf("%s (one byte %v): %d bodies, %d bytes; want 1, %d", tc.name, oneByte, c.bodies.Load(), c.bytes.Load(), len(tc.body))
			}
			if got := c.gqlErrors.Load() == 1; got != tc.wantErr {
				t.Errorf("%s (one byte %v): errors found %v, want %v", tc.name, oneByte, got, tc.wantErr)
			}
		}
	}
}

// TestPostBodyNonce proves the uncached rows' bodies differ per request
// while keeping the query and its variables.
func TestPostBodyNonce(t *testing.T) {
	q := readQueries[0]
	a, b := string(postBody(q, 1)), string(postBody(q, 2))
	if a == b || !strings.Contains(a, `"slug":"django"`) || !strings.Contains(a, `"benchNonce":1`) {
		t.Errorf("bodies %s and %s", a, b)
	}
	if c := string(postBody(q, -1)); strings.Contains(c, "benchNonce") {
		t.Errorf("cached body %s has a nonce", c)
	}
}
