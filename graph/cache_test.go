package graph_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/trendql/trendql/db"
)

func token(t testing.TB, e *env, role db.Role) string {
	t.Helper()
	_, secret, err := e.DB.CreateToken(context.Background(), "test-"+string(role), role, 0)
	if err != nil {
		t.Fatal(err)
	}
	return secret
}

func getReq(query string, vars map[string]any, headers ...string) *http.Request {
	u := "/graphql?query=" + url.QueryEscape(query)
	if vars != nil {
		b, _ := json.Marshal(vars)
		u += "&variables=" + url.QueryEscape(string(b))
	}
	r := httptest.NewRequest("GET", u, nil)
	for i := 0; i+1 < len(headers); i += 2 {
		r.Header.Set(headers[i], headers[i+1])
	}
	return r
}

func TestResponseCache_RepeatedPublicQueryRunsNoSQL(t *testing.T) {
	e := newEnv(t)
	q := `query Q2 { frameworks(first: 20) { nodes { id name slug language creator firstReleased architecture summary companies { id name slug } } } }`
	first := e.post(t, q, nil)
	if first.Status != 200 || len(first.Errors) > 0 {
		t.Fatal(first.Body)
	}
	for _, req := range []func() *gqlResponse{
		func() *gqlResponse { return e.post(t, q, nil) },
		func() *gqlResponse { return e.do(t, getReq(q, nil)) },
	} {
		before := e.metric(t, "trendql_db_queries_total")
		for i := 0; i < 3; i++ {
			r := req()
			if r.Body != first.Body && i > 0 {
				t.Fatalf("cached body differs:\n%s\n%s", r.Body, first.Body)
			}
		}
		if after := e.metric(t, "trendql_db_queries_total"); after != before {
			// The GET's first request is a miss (another key); later ones hit.
			if after-before > 2 {
				t.Errorf("repeated public query ran %v statements", after-before)
			}
		}
	}
	before := e.metric(t, "trendql_db_queries_total")
	e.post(t, q, nil)
	e.do(t, getReq(q, nil))
	if after := e.metric(t, "trendql_db_queries_total"); after != before {
		t.Errorf("cached queries ran %v SQL statements, want 0", after-before)
	}
	if e.metric(t, "trendql_response_cache_hits_total") < 5 {
		t.Errorf("hits = %v", e.metric(t, "trendql_response_cache_hits_total"))
	}
	// Variables are part of the key; their order is not.
	a := e.post(t, `query($s: String!, $n: Int) { framework(slug: $s) { name } trends(first: $n) { totalCount } }`, map[string]any{"s": "go", "n": 1})
	b := e.post(t, `query($s: String!, $n: Int) { framework(slug: $s) { name } trends(first: $n) { totalCount } }`, map[string]any{"n": 1, "s": "django"})
	if a.Body == b.Body {
		t.Error("different variables share a cache entry")
	}
}

func TestResponseCache_EditMakesNextReadFresh(t *testing.T) {
	e := newEnv(t)
	editor := token(t, e, db.RoleEditor)
	q := `{ trends(first: 10) { nodes { name summary } } company(slug: "uber") { name } }`
	e.post(t, q, nil)
	e.post(t, q, nil) // cached now
	var ids struct{ Trend struct{ ID string } }
	e.mustQuery(t, `{ trend(slug: "go") { id } }`, &ids)
	// The trend is published: its edit reaches readers when it is published.
	r := e.post(t, `mutation($id: ID!) { updateTrend(id: $id, input: { summary: "Fresh summary" }) { version } publish(id: $id) { id } }`,
		map[string]any{"id": ids.Trend.ID}, "Authorization", "Bearer "+editor)
	if len(r.Errors) > 0 {
		t.Fatal(r.Body)
	}
	after := e.post(t, q, nil)
	if !strings.Contains(after.Body, "Fresh summary") {
		t.Fatalf("read after an edit is stale: %s", after.Body)
	}
	// A change to one type leaves other types' cached responses alone.
	other := `{ companies(first: 3) { nodes { name } } }`
	e.post(t, other, nil)
	before := e.metric(t, "trendql_db_queries_total")
	e.post(t, other, nil)
	e.post(t, `mutation($id: ID!) { updateTrend(id: $id, input: { summary: "Again" }) { version } publish(id: $id) { id } }`,
		map[string]any{"id": ids.Trend.ID}, "Authorization", "Bearer "+editor)
	mid := e.metric(t, "trendql_db_queries_total")
	e.post(t, other, nil)
	if after := e.metric(t, "trendql_db_queries_total"); after != mid {
		t.Errorf("a trend edit invalidated a companies-only query (%v statements)", after-mid)
	}
	_ = before
}

func TestHTTPCaching_ETagsAndCacheControl(t *testing.T) {
	e := newEnv(t)
	q := `{ article { title } }`
	r := e.do(t, getReq(q, nil))
	etag := r.Header.Get("ETag")
	if r.Status != 200 || etag == "" || !strings.HasPrefix(r.Header.Get("Cache-Control"), "public") {
		t.Fatalf("status %d ETag %q Cache-Control %q", r.Status, etag, r.Header.Get("Cache-Control"))
	}
	rec := httptest.NewRecorder()
	e.Handler.ServeHTTP(rec, getReq(q, nil, "If-None-Match", etag))
	if rec.Code != http.StatusNotModified || rec.Body.Len() != 0 || rec.Header().Get("ETag") != etag {
		t.Errorf("If-None-Match: %d %q", rec.Code, rec.Body.String())
	}
	rec = httptest.NewRecorder()
	e.Handler.ServeHTTP(rec, getReq(q, nil, "If-None-Match", `"something-else"`))
	if rec.Code != 200 {
		t.Errorf("non-matching If-None-Match: %d", rec.Code)
	}
	// Token-bearing responses are never publicly cacheable.
	viewer := token(t, e, db.RoleViewer)
	r = e.do(t, getReq(q, nil, "Authorization", "Bearer "+viewer))
	if cc := r.Header.Get("Cache-Control"); cc != "private, no-store" || !strings.Contains(strings.Join(r.Header.Values("Vary"), ","), "Authorization") {
		t.Errorf("token response Cache-Control %q Vary %q", cc, r.Header.Get("Vary"))
	}
	// Errors and mutations are not cacheable.
	if cc := e.post(t, `{ trends(first: -1) { totalCount } }`, nil).Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("error response Cache-Control %q", cc)
	}
	editor := token(t, e, db.RoleEditor)
	if cc := e.post(t, `mutation { createCompany(input: { name: "Cache Co" }) { id } }`, nil, "Authorization", "Bearer "+editor).Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("mutation Cache-Control %q", cc)
	}
}

func TestAutomaticPersistedQueries(t *testing.T) {
	e := newEnv(t)
	q := `{ trends(first: 3) { nodes { name } } }`
	hash := sha256hex(q)
	ext := `{"persistedQuery":{"version":1,"sha256Hash":"` + hash + `"}}`
	get := func(withQuery bool) *gqlResponse {
		u := "/graphql?extensions=" + url.QueryEscape(ext)
		if withQuery {
			u += "&query=" + url.QueryEscape(q)
		}
		return e.do(t, httptest.NewRequest("GET", u, nil))
	}
	if r := get(false); r.code() != "PERSISTED_QUERY_NOT_FOUND" {
		t.Fatalf("unknown hash: %s", r.Body)
	}
	if r := get(true); r.Status != 200 || len(r.Errors) > 0 {
		t.Fatalf("register: %s", r.Body)
	}
	r := get(false)
	if r.Status != 200 || !strings.Contains(r.Body, "Backend as a Service") {
		t.Fatalf("by hash: %s", r.Body)
	}
	before := e.metric(t, "trendql_db_queries_total")
	get(false)
	if e.metric(t, "trendql_db_queries_total") != before {
		t.Error("a repeated persisted query ran SQL")
	}
}
