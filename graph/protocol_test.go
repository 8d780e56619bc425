package graph_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/trendql/trendql/graph"
)

// The Accept headers real clients send.
const (
	acceptURQL     = "application/graphql-response+json, application/graphql+json, application/json, text/event-stream, multipart/mixed"
	acceptApollo   = "application/graphql-response+json,application/json;q=0.9"
	acceptApolloMP = `multipart/mixed;boundary="graphql";subscriptionSpec="1.0",application/json`
)

// Content negotiation over every method and operation type: the status
// and Content-Type each Accept header gets. Queries and mutations are one
// JSON response in the type the client prefers; a POSTed subscription is
// streamed in the stream type it prefers; 406 only when nothing the
// client accepts can be produced; GET never runs anything but queries.
func TestAccept_Negotiation(t *testing.T) {
	l := newLive(t)
	const (
		jsonT = "application/json"
		gqlT  = "application/graphql-response+json"
		sseT  = "text/event-stream"
		mpT   = "multipart/mixed"
		no    = "406"
	)
	// want: query, mutation, subscription (POST); GET queries get the
	// query's answer and GET mutations and subscriptions 405.
	cases := []struct {
		name   string
		accept []string // nil: no header
		query  string
		mut    string
		sub    string
	}{
		{"no Accept header", nil, jsonT, jsonT, no},
		{"empty", []string{""}, jsonT, jsonT, no},
		{"application/json", []string{"application/json"}, jsonT, jsonT, no},
		{"graphql-response+json", []string{gqlT}, gqlT, gqlT, no},
		{"*/*", []string{"*/*"}, jsonT, jsonT, sseT},
		{"application/*", []string{"application/*"}, jsonT, jsonT, no},
		{"urql's default", []string{acceptURQL}, gqlT, gqlT, sseT},
		{"Apollo's queries", []string{acceptApollo}, gqlT, gqlT, no},
		{"Apollo's multipart subscriptions", []string{acceptApolloMP}, jsonT, jsonT, mpT},
		{"Apollo's @defer queries", []string{"multipart/mixed;deferSpec=20220824,application/graphql-response+json,application/json;q=0.9"}, gqlT, gqlT, mpT},
		{"q-values beat order", []string{"application/json;q=0.5, application/graphql-response+json"}, gqlT, gqlT, no},
		{"order breaks ties", []string{"application/json, application/graphql-response+json"}, jsonT, jsonT, no},
		{"specific q=0 beats a wildcard", []string{"*/*, application/json;q=0"}, gqlT, gqlT, sseT},
		{"everything refused", []string{"application/json;q=0, application/graphql-response+json;q=0"}, no, no, no},
		{"two header lines", []string{"text/event-stream", "application/graphql-response+json;q=0.5"}, gqlT, gqlT, sseT},
		{"SSE only", []string{"text/event-stream"}, no, no, sseT},
		{"multipart only", []string{"multipart/mixed"}, no, no, mpT},
		{"SSE before multipart", []string{"text/event-stream, multipart/mixed"}, no, no, sseT},
		{"multipart before SSE", []string{"multipart/mixed, text/event-stream"}, no, no, mpT},
		{"multipart by q-value", []string{"text/event-stream;q=0.5, multipart/mixed"}, no, no, mpT},
		{"JSON and SSE", []string{"application/json, text/event-stream"}, jsonT, jsonT, sseT},
		{"unknown types", []string{"image/png, text/plain"}, no, no, no},
		{"text/html only", []string{"text/html"}, no, no, no},
		{"a browser's", []string{"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}, jsonT, jsonT, sseT},
		{"malformed: no slash", []string{"garbage"}, jsonT, jsonT, no},
		{"malformed: bad q", []string{"application/json;q=lots"}, jsonT, jsonT, no},
		{"malformed: q over 1", []string{"text/event-stream;q=2"}, jsonT, jsonT, no},
		{"malformed: only separators", []string{",,;;"}, jsonT, jsonT, no},
		{"malformed beside a good one", []string{"appli cation/json, text/event-stream"}, no, no, sseT},
		{"quoted comma in a parameter", []string{`multipart/mixed;boundary="a,b"`}, no, no, mpT},
		{"case-insensitive", []string{"Application/GraphQL-Response+JSON"}, gqlT, gqlT, no},
	}
	ops := []struct {
		name, doc string
		want      func(c int) string
	}{
		{"query", `{ article { title } }`, nil},
		{"mutation", `mutation { publish(id: "Q29tcGFueTox") { id } }`, nil},
		{"subscription", `subscription { contentChanged { action } }`, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for i, op := range ops {
				want := []string{c.query, c.mut, c.sub}[i]
				body, _ := json.Marshal(map[string]string{"query": op.doc})
				req, _ := http.NewRequest("POST", l.URL+"/graphql", bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				for _, a := range c.accept {
					req.Header.Add("Accept", a)
				}
				checkNegotiated(t, "POST "+op.name, req, want)

				req, _ = http.NewRequest("GET", l.URL+"/graphql?query="+url.QueryEscape(op.doc), nil)
				for _, a := range c.accept {
					req.Header.Add("Accept", a)
				}
				if op.name == "query" {
					checkNegotiated(t, "GET query", req, c.query)
				} else {
					checkNegotiated(t, "GET "+op.name, req, "405")
				}
			}
		})
	}
}

// checkNegotiated sends req and checks its status and Content-Type: want
// is a media type (status 200) or a status whose body is a coded JSON
// error. Streams are closed as soon as their headers arrive.
func checkNegotiated(t *testing.T, what string, req *http.Request, want string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	res, err := http.DefaultClient.Do(req.WithContext(ctx))
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	defer res.Body.Close()
	ct := res.Header.Get("Content-Type")
	if !strings.Contains(strings.Join(res.Header.Values("Vary"), ","), "Accept") {
		t.Errorf("%s: no Vary: Accept (%v)", what, res.Header)
	}
	if strings.Contains(want, "/") {
		if res.StatusCode != 200 || !strings.HasPrefix(ct, want) {
			b, _ := io.ReadAll(io.LimitReader(res.Body, 300))
			t.Errorf("%s: %d %s, want 200 %s: %s", what, res.StatusCode, ct, want, b)
		}
		return
	}
	b, _ := io.ReadAll(res.Body)
	var r struct {
		Errors []struct{ Extensions map[string]any }
	}
	if res.Status[:3] != want || !strings.HasPrefix(ct, "application/json") || json.Unmarshal(b, &r) != nil ||
		len(r.Errors) != 1 || r.Errors[0].Extensions["code"] != "BAD_USER_INPUT" {
		t.Errorf("%s: %d %s %s, want %s with a coded JSON error", what, res.StatusCode, ct, b, want)
	}
}

// Request errors under each media type: 200 with application/json, 400
// with application/graphql-response+json, and never a data key; a request
// without a query is not well-formed and gets 400 under both.
func TestRequestErrors_StatusByMediaType(t *testing.T) {
	e := newEnv(t, func(o *graph.Options) { o.Limits.MaxDepth = 3 })
	cases := []struct {
		name, body string
		json, gql  int
		code       string
	}{
		{"parse", `{"query":"{"}`, 200, 400, "GRAPHQL_PARSE_FAILED"},
		{"validation", `{"query":"{ nope }"}`, 200, 400, "GRAPHQL_VALIDATION_FAILED"},
		{"variable coercion", `{"query":"query($n: Int) { trends(first: $n) { totalCount } }","variables":{"n":"x"}}`, 200, 400, "BAD_USER_INPUT"},
		{"limits", `{"query":"{ trends { nodes { framework { companies { name } } } } }"}`, 200, 400, "COMPLEXITY_LIMIT_EXCEEDED"},
		{"@defer", `{"query":"{ article { ... @defer { title } } }"}`, 200, 400, "GRAPHQL_VALIDATION_FAILED"},
		{"unknown persisted query", `{"extensions":{"persistedQuery":{"version":1,"sha256Hash":"` + strings.Repeat("ab", 32) + `"}}}`, 200, 400, "PERSISTED_QUERY_NOT_FOUND"},
		{"no query", `{"variables":{}}`, 400, 400, "BAD_USER_INPUT"},
		{"query not a string", `{"query":42}`, 400, 400, "BAD_USER_INPUT"},
		{"variables not an object", `{"query":"{ article { title } }","variables":"x"}`, 400, 400, "BAD_USER_INPUT"},
		{"not JSON", `{"query":`, 400, 400, "BAD_USER_INPUT"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, media := range []string{"application/json", "application/graphql-response+json"} {
				req := jsonReq(c.body)
				req.Header.Set("Accept", media)
				r := e.do(t, req)
				want := c.json
				if media != "application/json" {
					want = c.gql
				}
				if r.Status != want || r.code() != c.code || !strings.HasPrefix(r.Header.Get("Content-Type"), media) {
					t.Errorf("%s: %d %s %s, want %d %s", media, r.Status, r.Header.Get("Content-Type"), r.Body, want, c.code)
				}
				var keys map[string]json.RawMessage
				json.Unmarshal([]byte(r.Body), &keys)
				if _, ok := keys["data"]; ok {
					t.Errorf("%s: a request error has a data key: %s", media, r.Body)
				}
			}
		})
	}
}

// urql's default Accept header (which lists both stream types) gets plain
// JSON for queries, over GET and POST, with the response cache, ETags and
// the request timeout applying as for any query. Before, GET answered 400
// text/plain and POST an event stream.
func TestAccept_StreamTypesListedDoNotStreamQueries(t *testing.T) {
	e := newEnv(t)
	q := `{ trends(first: 3) { nodes { name } } }`
	get := func(h ...string) *gqlResponse {
		req := httptest.NewRequest("GET", "/graphql?query="+url.QueryEscape(q), nil)
		req.Header.Set("Accept", acceptURQL)
		for i := 0; i+1 < len(h); i += 2 {
			req.Header.Set(h[i], h[i+1])
		}
		return e.do(t, req)
	}
	post := func() *gqlResponse {
		return e.post(t, q, nil, "Accept", acceptURQL)
	}
	hits := e.metric(t, "trendql_response_cache_hits_total")
	for name, send := range map[string]func() *gqlResponse{"GET": func() *gqlResponse { return get() }, "POST": post} {
		first, second := send(), send()
		for _, r := range []*gqlResponse{first, second} {
			if r.Status != 200 || r.Header.Get("Content-Type") != "application/graphql-response+json" ||
				!strings.Contains(string(r.Data), "nodes") || r.Header.Get("ETag") == "" {
				t.Fatalf("%s with urql's Accept: %d %s %s", name, r.Status, r.Header.Get("Content-Type"), r.Body)
			}
		}
	}
	if got := e.metric(t, "trendql_response_cache_hits_total") - hits; got < 2 {
		t.Errorf("response cache hits = %v, want 2 (one per method)", got)
	}
	etag := get().Header.Get("ETag")
	if r := get("If-None-Match", etag); r.Status != http.StatusNotModified {
		t.Errorf("If-None-Match: %d", r.Status)
	}

	// The request timeout bounds them too.
	slow := newEnv(t, func(o *graph.Options) { o.RequestTimeout = time.Nanosecond; o.ResponseCacheEntries = -1 })
	for _, accept := range []string{acceptURQL, "application/json, text/event-stream"} {
		r := slow.post(t, `{ frameworks(first: 5) { nodes { name companies { name } } } }`, nil, "Accept", accept)
		if r.Status != 503 || r.code() != "INTERNAL_SERVER_ERROR" {
			t.Errorf("Accept %q past the time limit: %d %s", accept, r.Status, r.Body)
		}
	}
}

// A POST whose Accept allows only a stream type, with a query or a
// mutation, runs nothing: 406. A mutation with a JSON type too is one
// JSON response, not an event stream.
func TestAccept_QueriesAndMutationsAreNeverStreams(t *testing.T) {
	l := newLive(t)
	before := l.metric(t, "trendql_db_queries_total")
	for _, doc := range []string{`{ article { title } }`, `mutation { createCompany(input: {name: "Streamed"}) { id } }`} {
		for _, accept := range []string{"text/event-stream", "multipart/mixed", `multipart/mixed;subscriptionSpec="1.0"`} {
			body, _ := json.Marshal(map[string]string{"query": doc})
			req, _ := http.NewRequest("POST", l.URL+"/graphql", bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Accept", accept)
			req.Header.Set("Authorization", "Bearer "+l.editor)
			checkNegotiated(t, accept+" "+doc, req, "406")
		}
	}
	if after := l.metric(t, "trendql_db_queries_total"); after != before {
		t.Errorf("refused requests ran %v SQL statements", after-before)
	}
	body, _ := json.Marshal(map[string]string{"query": `mutation { createCompany(input: {name: "Once"}) { name } }`})
	req, _ := http.NewRequest("POST", l.URL+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "text/event-stream, application/json;q=0.1")
	req.Header.Set("Authorization", "Bearer "+l.editor)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "application/json" || string(b) != `{"data":{"createCompany":{"name":"Once"}}}` {
		t.Errorf("mutation: %d %s %s", res.StatusCode, res.Header.Get("Content-Type"), b)
	}
}

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

// FuzzAccept throws arbitrary Accept headers at a query: the answer is the
// query's JSON (200, in one of the two JSON types) or 406 with a coded
// JSON error, never anything else.
func FuzzAccept(f *testing.F) {
	for _, seed := range []string{"", "*/*", acceptURQL, acceptApollo, acceptApolloMP, "text/event-stream",
		`a/b;q=0.5;x="y,z", application/json;q=0.001`, "application/json;q=1e-3", ";;,,", `multipart/mixed;boundary="`} {
		f.Add(seed)
	}
	e := newEnv(f)
	f.Fuzz(func(t *testing.T, accept string) {
		req := jsonReq(`{"query":"{ article { title } }"}`)
		req.Header.Set("Accept", accept)
		rec := httptest.NewRecorder()
		e.Handler.ServeHTTP(rec, req)
		ct := rec.Header().Get("Content-Type")
		switch {
		case rec.Code == 200 && (ct == "application/json" || ct == "application/graphql-response+json") &&
			strings.Contains(rec.Body.String(), `"title"`):
		case rec.Code == 406 && ct == "application/json" && strings.Contains(rec.Body.String(), `"BAD_USER_INPUT"`):
		default:
			t.Fatalf("Accept %q: %d %s %s", accept, rec.Code, ct, rec.Body.String())
		}
	})
}

// A websocket handshake that fails is answered with a coded JSON error,
// like every other refusal (coder/websocket answers text/plain); an
// Upgrade to anything but a websocket is ignored, as HTTP allows.
func TestWebsocketHandshake_RefusalsAreJSON(t *testing.T) {
	l := newLive(t, func(o *graph.Options) { o.CORSOrigins = []string{"https://good.example"} })
	ws := http.Header{"Upgrade": {"websocket"}, "Connection": {"Upgrade"}, "Sec-Websocket-Version": {"13"},
		"Sec-Websocket-Key": {"dGhlIHNhbXBsZSBub25jZQ=="}, "Sec-Websocket-Protocol": {"graphql-transport-ws"}}
	with := func(h http.Header, kv ...string) http.Header {
		h = h.Clone()
		for i := 0; i+1 < len(kv); i += 2 {
			if kv[i+1] == "" {
				h.Del(kv[i])
			} else {
				h.Set(kv[i], kv[i+1])
			}
		}
		return h
	}
	for _, c := range []struct {
		name, method string
		header       http.Header
		status       int
		code         string
	}{
		{"POST upgrade", "POST", with(ws, "Content-Type", "application/json"), 405, "BAD_USER_INPUT"},
		{"no key", "GET", with(ws, "Sec-Websocket-Key", ""), 400, "BAD_USER_INPUT"},
		{"no Connection: Upgrade", "GET", with(ws, "Connection", "keep-alive"), 426, "BAD_USER_INPUT"},
		{"old version", "GET", with(ws, "Sec-Websocket-Version", "8"), 400, "BAD_USER_INPUT"},
		{"foreign origin", "GET", with(ws, "Origin", "https://evil.example"), 403, "FORBIDDEN"},
	} {
		t.Run(c.name, func(t *testing.T) {
			req, _ := http.NewRequest(c.method, l.URL+"/graphql", strings.NewReader(`{"query":"{ article { title } }"}`))
			req.Header = c.header
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			var r gqlResponse
			if res.StatusCode != c.status || res.Header.Get("Content-Type") != "application/json" ||
				json.Unmarshal(b, &r) != nil || r.code() != c.code || r.Errors[0].Message == "" {
				t.Errorf("%d %s %s, want %d %s", res.StatusCode, res.Header.Get("Content-Type"), b, c.status, c.code)
			}
		})
	}
	req, _ := http.NewRequest("POST", l.URL+"/graphql", strings.NewReader(`{"query":"{ article { title } }"}`))
	req.Header = http.Header{"Upgrade": {"h2c"}, "Connection": {"Upgrade"}, "Content-Type": {"application/json"}}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !strings.Contains(string(b), `"title"`) {
		t.Errorf("a query with Upgrade: h2c: %d %s", res.StatusCode, b)
	}
}
