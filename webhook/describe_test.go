package webhook

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"
)

// TestDescribe_NetHTTPWordings: net/http reports a target that is not HTTP
// in several wordings depending on when its bytes arrive (before the
// request was written they are an "unsolicited response" and the
// connection closes as readLoopPeekFailLocked). Every one of them becomes
// our own sentence, and none echoes what the target sent.
func TestDescribe_NetHTTPWordings(t *testing.T) {
	wrap := func(err error) error { return &url.Error{Op: "Post", URL: "http://10.0.0.1/secret", Err: err} }
	cases := map[string]string{
		`malformed HTTP status code "banner"`:                                                 "malformed HTTP response",
		`net/http: HTTP/1.x transport connection broken: malformed HTTP status code "banner"`: "malformed HTTP response",
		`readLoopPeekFailLocked: <nil>`:                                                       "malformed HTTP response",
		`http: server gave HTTP response to HTTPS client`:                                     "malformed HTTP response",
		`http: server closed idle connection`:                                                 "the connection closed before an answer",
		`something nobody expected: "secret-banner"`:                                          "the request failed",
	}
	for in, want := range cases {
		got := describe(wrap(fmt.Errorf("%w", errors.New(in))))
		if got != want {
			t.Errorf("describe(%q) = %q, want %q", in, got, want)
		}
		if strings.Contains(got, "banner") || strings.Contains(got, "secret") {
			t.Errorf("describe(%q) echoes the target: %q", in, got)
		}
	}
}
