package graph_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trendql/trendql/db"
	"github.com/trendql/trendql/graph"
)

func TestErrors_ContractCodes(t *testing.T) {
	e := newEnv(t)
	cases := []struct {
		name   string
		req    func() *http.Request
		status int
		code   string
	}{
		{"parse error", func() *http.Request { return jsonReq(`{"query":"{ trends(first: 1 { id } }"}`) }, 200, "GRAPHQL_PARSE_FAILED"},
		{"unknown field", func() *http.Request { return jsonReq(`{"query":"{ trends { nope } }"}`) }, 200, "GRAPHQL_VALIDATION_FAILED"},
		{"unknown argument", func() *http.Request { return jsonReq(`{"query":"{ trends(page: 2) { totalCount } }"}`) }, 200, "GRAPHQL_VALIDATION_FAILED"},
		{"wrong variable type", func() *http.Request {
			return jsonReq(`{"query":"query($n: Int) { trends(first: $n) { totalCount } }","variables":{"n":"ten"}}`)
		}, 200, "BAD_USER_INPUT"},
		{"unknown enum value in a variable", func() *http.Request {
			return jsonReq(`{"query":"query($k: FrameworkKind) { frameworks(filter: {kind: {eq: $k}}) { totalCount } }","variables":{"k":"LIBRARY"}}`)
		}, 200, "BAD_USER_INPUT"},
		{"missing required variable", func() *http.Request { return jsonReq(`{"query":"query($s: String!) { trend(slug: $s) { name } }"}`) }, 200, "BAD_USER_INPUT"},
		{"malformed JSON", func() *http.Request { return jsonReq(`{"query": "{ trends`) }, 400, "BAD_USER_INPUT"},
		{"batch", func() *http.Request { return jsonReq(`[{"query":"{ article { title } }"}]`) }, 400, "BAD_USER_INPUT"},
		{"no query", func() *http.Request { return jsonReq(`{}`) }, 400, "BAD_USER_INPUT"},
		{"form body", func() *http.Request {
			r := httptest.NewRequest("POST", "/graphql", strings.NewReader("query=%7Barticle%7Btitle%7D%7D"))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			return r
		}, 415, "BAD_USER_INPUT"},
		{"mutation over GET", func() *http.Request {
			return httptest.NewRequest("GET", "/graphql?query="+url.QueryEscape("mutation { x }"), nil)
		}, 405, "BAD_USER_INPUT"},
		{"bad variables over GET", func() *http.Request {
			return httptest.NewRequest("GET", "/graphql?query="+url.QueryEscape("{ article { title } }")+"&variables=%7Bnope", nil)
		}, 400, "BAD_USER_INPUT"},
		{"PUT", func() *http.Request { return httptest.NewRequest("PUT", "/graphql", nil) }, 405, "BAD_USER_INPUT"},
		{"body over the limit", func() *http.Request {
			return jsonReq(`{"query":"{ article { title } }","variables":{"pad":"` + strings.Repeat("x", graph.DefaultMaxBodyBytes) + `"}}`)
		}, 413, "BAD_USER_INPUT"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := e.do(t, c.req())
			if r.Status != c.status || r.code() != c.code {
				t.Errorf("status %d code %q, want %d %q: %s", r.Status, r.code(), c.status, c.code, r.Body)
			}
			assertNoLeak(t, r.Body)
		})
	}
}

func jsonReq(body string) *http.Request {
	r := httptest.NewRequest("POST", "/graphql", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	return r
}

// A chunked body (no Content-Length) that runs over the limit is refused
// with 413 too.
func TestBodyLimit_Chunked(t *testing.T) {
	e := newEnv(t, func(o *graph.Options) { o.MaxBodyBytes = 1024 })
	srv := httptest.NewServer(e.Handler)
	defer srv.Close()
	pr, pw := ioPipe()
	go func() {
		pw.Write([]byte(`{"query":"{ article { title } }","variables":{"x":"`))
		pw.Write(bytes.Repeat([]byte("y"), 4096))
		pw.Write([]byte(`"}}`))
		pw.Close()
	}()
	req, _ := http.NewRequest("POST", srv.URL+"/graphql", pr)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 413 {
		t.Errorf("status %d, want 413", res.StatusCode)
	}
}

// An internal failure (here: the database closed under the server) is
// reported as INTERNAL_SERVER_ERROR with nothing of the cause.
func TestErrors_InternalNeverLeaks(t *testing.T) {
	e := newEnv(t)
	e.DB.Close()
	for _, q := range []string{`{ trends { nodes { name } } }`, `{ article { title } }`, `{ framework(slug: "go") { name companies { name } } }`} {
		r := e.post(t, q, nil)
		if r.code() != "INTERNAL_SERVER_ERROR" || r.Errors[0].Message != "internal server error" {
			t.Errorf("%s: %s", q, r.Body)
		}
		assertNoLeak(t, r.Body)
	}
	rec := httptest.NewRecorder()
	e.Handler.ServeHTTP(rec, httptest.NewRequest("GET", "/readyz", nil))
	if rec.Code != 503 || !strings.HasPrefix(rec.Body.String(), "not ready: ") {
		t.Errorf("/readyz with a closed database = %d %q, want 503 with the reason", rec.Code, rec.Body.String())
	}
	assertNoLeak(t, rec.Body.String())
}

func TestHealthAndReadiness(t *testing.T) {
	e := newEnv(t)
	for _, path := range []string{"/healthz", "/readyz"} {
		rec := httptest.NewRecorder()
		e.Handler.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		if rec.Code != 200 || strings.TrimSpace(rec.Body.String()) != "ok" {
			t.Errorf("%s = %d %q", path, rec.Code, rec.Body.String())
		}
	}
}

func TestGET_RunsQueries(t *testing.T) {
	e := newEnv(t)
	r := e.do(t, httptest.NewRequest("GET", "/graphql?query="+url.QueryEscape(`query($s: String!) { trend(slug: $s) { rank } }`)+"&variables="+url.QueryEscape(`{"s":"go"}`), nil))
	if r.Status != 200 || string(r.Data) != `{"trend":{"rank":9}}` {
		t.Errorf("GET: %d %s", r.Status, r.Body)
	}
	// The GraphQL-over-HTTP media type is honoured.
	req := httptest.NewRequest("GET", "/graphql?query="+url.QueryEscape(`{ trends(first: 1) { totalCount } }`), nil)
	req.Header.Set("Accept", "application/graphql-response+json")
	r = e.do(t, req)
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/graphql-response+json") {
		t.Errorf("Content-Type = %q", r.Header.Get("Content-Type"))
	}
}

func TestCORS(t *testing.T) {
	e := newEnv(t, func(o *graph.Options) { o.CORSOrigins = []string{"https://app.example"} })
	pre := httptest.NewRequest("OPTIONS", "/graphql", nil)
	pre.Header.Set("Origin", "https://app.example")
	pre.Header.Set("Access-Control-Request-Method", "POST")
	pre.Header.Set("Access-Control-Request-Headers", "authorization, content-type")
	rec := httptest.NewRecorder()
	e.Handler.ServeHTTP(rec, pre)
	if rec.Header().Get("Access-Control-Allow-Origin") != "https://app.example" ||
		!strings.Contains(strings.ToLower(rec.Header().Get("Access-Control-Allow-Headers")), "authorization") {
		t.Errorf("preflight from an allowed origin: %d %v", rec.Code, rec.Header())
	}
	pre.Header.Set("Origin", "https://evil.example")
	rec = httptest.NewRecorder()
	e.Handler.ServeHTTP(rec, pre)
	if rec.Header().Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("preflight from another origin allowed: %v", rec.Header())
	}
	req := jsonReq(`{"query":"{ article { title } }"}`)
	req.Header.Set("Origin", "https://app.example")
	r := e.do(t, req)
	if r.Header.Get("Access-Control-Allow-Origin") != "https://app.example" || r.Status != 200 {
		t.Errorf("simple request: %v", r.Header)
	}
	// The default allows any origin.
	any := newEnv(t)
	req = jsonReq(`{"query":"{ article { title } }"}`)
	req.Header.Set("Origin", "https://anywhere.example")
	if got := any.do(t, req).Header.Get("Access-Control-Allow-Origin"); got != "*" {
		t.Errorf("default origin policy: %q", got)
	}
}

func TestMetrics_RequestsCounted(t *testing.T) {
	e := newEnv(t)
	sqlBefore := e.metric(t, "trendql_db_queries_total")
	e.post(t, `query TopTen { trends(first: 10) { nodes { name } } }`, nil)
	if e.metric(t, "trendql_db_queries_total") <= sqlBefore {
		t.Error("trendql_db_queries_total did not move")
	}
	e.post(t, `query Broken { trends { nope } }`, nil)
	rec := httptest.NewRecorder()
	e.Handler.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body := rec.Body.String()
	for _, want := range []string{
		`trendql_graphql_requests_total{code="OK",operation="TopTen"} 1`,
		`trendql_graphql_requests_total{code="GRAPHQL_VALIDATION_FAILED",operation="Broken"} 1`,
		`trendql_graphql_request_duration_seconds_count{operation="TopTen"} 1`,
		`trendql_db_queries_total `,
		`trendql_response_cache_misses_total 1`,
		`go_sql_open_connections{db_name="read"}`,
		`go_sql_open_connections{db_name="write"}`,
		`trendql_rate_limited_total 0`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}

func TestPlaygroundRoutes(t *testing.T) {
	e := newEnv(t)
	for _, path := range []string{"/", "/graphql"} {
		req := httptest.NewRequest("GET", path, nil)
		req.Header.Set("Accept", "text/html,application/xhtml+xml")
		rec := httptest.NewRecorder()
		e.Handler.ServeHTTP(rec, req)
		if rec.Code != 200 || !strings.Contains(rec.Body.String(), "<html") || strings.Contains(rec.Body.String(), "cdn.") {
			t.Errorf("GET %s: %d", path, rec.Code)
		}
	}
	off := newEnv(t, func(o *graph.Options) { o.DisablePlayground = true; o.DisableIntrospection = true })
	req := httptest.NewRequest("GET", "/", nil)
	req.Header.Set("Accept", "text/html")
	rec := httptest.NewRecorder()
	off.Handler.ServeHTTP(rec, req)
	if rec.Code != 404 {
		t.Errorf("playground off: GET / = %d", rec.Code)
	}
	if r := off.post(t, `{ __schema { types { name } } }`, nil); r.code() != "GRAPHQL_VALIDATION_FAILED" {
		t.Errorf("introspection off: %s", r.Body)
	}
	_ = context.Background
}

func TestAccessLog_OneLinePerRequestWithoutSecrets(t *testing.T) {
	var buf syncBuf
	e := newEnv(t, func(o *graph.Options) { o.Logger = slog.New(slog.NewJSONHandler(&buf, nil)) })
	secret := token(t, e, db.RoleEditor)
	req := jsonReq(`{"query":"mutation Make($n: String!) { createCompany(input: { name: $n }) { id } }","variables":{"n":"Very Secret Name"}}`)
	req.Header.Set("Authorization", "Bearer "+secret)
	req.Header.Set("X-Request-Id", "abc-123")
	r := e.do(t, req)
	if r.Header.Get("X-Request-Id") != "abc-123" {
		t.Errorf("request id not echoed: %v", r.Header)
	}
	var line map[string]any
	for _, l := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		if strings.Contains(l, `"msg":"request"`) {
			json.Unmarshal([]byte(l), &line)
		}
	}
	if line["id"] != "abc-123" || line["op"] != "Make" || line["status"] != float64(200) || line["role"] != "editor" || line["path"] != "/graphql" {
		t.Errorf("access log line: %v", line)
	}
	if strings.Contains(buf.String(), secret) || strings.Contains(buf.String(), "Very Secret Name") {
		t.Errorf("log holds the token or variables: %s", buf.String())
	}
}

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// A request that runs out of its time limit is answered with a clear,
// internals-free error.
func TestRequestTimeout(t *testing.T) {
	e := newEnv(t, func(o *graph.Options) { o.RequestTimeout = time.Nanosecond; o.ResponseCacheEntries = -1 })
	r := e.post(t, `{ frameworks(first: 5) { nodes { name companies { name } } } }`, nil)
	if r.code() != "INTERNAL_SERVER_ERROR" || !strings.Contains(r.Errors[0].Message, "time limit") || r.Status != 503 {
		t.Errorf("timed-out request: %s", r.Body)
	}
	assertNoLeak(t, r.Body)
}

func TestAccessLog_CanBeTurnedOff(t *testing.T) {
	var buf syncBuf
	e := newEnv(t, func(o *graph.Options) {
		o.Logger = slog.New(slog.NewJSONHandler(&buf, nil))
		o.DisableAccessLog = true
	})
	r := e.post(t, `{ article { title } }`, nil)
	if r.Header.Get("X-Request-Id") == "" {
		t.Error("no request id without the access log")
	}
	if strings.Contains(buf.String(), `"msg":"request"`) {
		t.Errorf("access log written while turned off: %s", buf.String())
	}
}
