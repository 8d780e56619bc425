package graph_test

import (
	"strings"
	"testing"
)

// @defer is not advertised, and a query that uses it is refused rather
// than answered as if the directive were not there.
func TestDefer_NotAdvertisedAndRefused(t *testing.T) {
	e := newEnv(t)
	r := e.post(t, `{ article { title ... @defer { intro } } }`, nil)
	if r.code() != "GRAPHQL_VALIDATION_FAILED" || !strings.Contains(r.Errors[0].Message, "defer") {
		t.Errorf("a query with @defer: %d %s", r.Status, r.Body)
	}
	r = e.post(t, `{ __schema { directives { name } } }`, nil)
	if r.code() != "" || strings.Contains(string(r.Data), `"defer"`) || !strings.Contains(string(r.Data), `"skip"`) {
		t.Errorf("introspection lists @defer: %s", r.Body)
	}
}
