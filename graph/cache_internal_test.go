package graph

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2"
)

// TestRootReadsCoverTheSchema walks the schema's Query fields: each one
// must declare in rootReads what it reads, and rootReads must name no
// field the schema lacks. A root field that reads something new cannot be
// cached with a guess.
func TestRootReadsCoverTheSchema(t *testing.T) {
	schema := NewExecutableSchema(Config{}).Schema()
	fields := map[string]bool{}
	for _, f := range schema.Query.Fields {
		if len(f.Name) > 1 && f.Name[:2] == "__" {
			continue
		}
		fields[f.Name] = true
		if _, ok := rootReads[f.Name]; !ok {
			t.Errorf("Query.%s is missing from rootReads: declare what it reads", f.Name)
		}
	}
	var extra []string
	for name := range rootReads {
		if !fields[name] {
			extra = append(extra, name)
		}
	}
	sort.Strings(extra)
	if len(extra) > 0 {
		t.Errorf("rootReads names fields Query does not have: %v", extra)
	}
	// The fields that can reflect any change are invalidated by any change.
	for _, name := range []string{"node", "nodes", "search", "changes", "article"} {
		if rootReads[name] != allTypes {
			t.Errorf("rootReads[%q] = %b, want every source", name, rootReads[name])
		}
	}
	if rootReads["changesCursor"]&eventLog == 0 {
		t.Error("changesCursor does not declare the event log")
	}
}

// TestRootTypes_UndeclaredRootFieldIsNotCached checks the runtime half of
// the rule: a document with a root field rootReads does not know is
// marked uncacheable, through fragments too.
func TestRootTypes_UndeclaredRootFieldIsNotCached(t *testing.T) {
	schema := NewExecutableSchema(Config{}).Schema()
	saved := rootReads["changesCursor"]
	delete(rootReads, "changesCursor")
	defer func() { rootReads["changesCursor"] = saved }()
	for _, q := range []string{
		`{ changesCursor }`,
		`{ trends { totalCount } ... on Query { changesCursor } }`,
		`query { ...F } fragment F on Query { changesCursor }`,
	} {
		doc, err := gqlparser.LoadQuery(schema, q)
		if err != nil {
			t.Fatal(err)
		}
		if s := rootTypes(doc.Operations[0].SelectionSet, map[string]bool{}); s&uncacheable == 0 {
			t.Errorf("%s: %b, want uncacheable", q, s)
		}
	}
	doc, _ := gqlparser.LoadQuery(schema, `{ __typename trends { totalCount } }`)
	if s := rootTypes(doc.Operations[0].SelectionSet, map[string]bool{}); s&uncacheable != 0 || s&typeBit("Trend") == 0 {
		t.Errorf("trends: %b", s)
	}
}

// cacheKey gives one key to one request's meaning, whatever its method,
// key order or spacing, and leaves the request it decoded to the JSON
// transport, once.
func TestCacheKey_OneKeyPerMeaning(t *testing.T) {
	post := func(body string) *http.Request {
		r := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(body))
		return r.WithContext(context.WithValue(r.Context(), reqInfoKey{}, &reqInfo{}))
	}
	get := func(query, vars string) *http.Request {
		v := url.Values{"query": {query}}
		if vars != "" {
			v.Set("variables", vars)
		}
		return httptest.NewRequest(http.MethodGet, "/graphql?"+v.Encode(), nil)
	}
	key := func(r *http.Request) string {
		t.Helper()
		k, ok := cacheKey(r)
		if !ok {
			t.Fatalf("%s %s: not cacheable", r.Method, r.URL)
		}
		return k
	}
	q := `query($a: Int, $b: String) { trends(first: $a) { nodes { name } } }`
	same := []*http.Request{
		post(`{"query":` + strconv.Quote(q) + `,"variables":{"a":1,"b":"x"}}`),
		post(` { "variables" : { "b" : "x" , "a" : 1 } , "query" : ` + strconv.Quote(q) + ` } `),
		get(q, `{"b":"x","a":1}`),
	}
	want := key(same[0])
	for _, r := range same[1:] {
		if k := key(r); k != want {
			t.Errorf("%s %s: another key for the same request", r.Method, r.URL)
		}
	}
	for _, r := range []*http.Request{
		post(`{"query":` + strconv.Quote(q) + `,"variables":{"a":2,"b":"x"}}`),
		post(`{"query":` + strconv.Quote(q) + `,"variables":{"a":1,"b":"x"},"operationName":"Other"}`),
		post(`{"query":` + strconv.Quote(q) + `}`),
		get(q, `{"a":1.0,"b":"x"}`),
	} {
		if key(r) == want {
			t.Errorf("%s %s: the key of another request", r.Method, r.URL)
		}
	}
	for _, body := range []string{`{"query":`, `{"query":"{ trends { totalCount } }","variables":[1]}`, `[]`} {
		if _, ok := cacheKey(post(body)); ok {
			t.Errorf("%s: cacheable", body)
		}
	}
	// The transport takes what cacheKey decoded, once; the body is still
	// there to read.
	r := post(`{"query":"{ trends { totalCount } }","variables":{"n":1}}`)
	key(r)
	p := takeDecoded(r.Context())
	if p == nil || p.Query != "{ trends { totalCount } }" || p.Variables["n"] != json.Number("1") {
		t.Fatalf("decoded params: %+v", p)
	}
	if takeDecoded(r.Context()) != nil {
		t.Error("the decoded params were handed out twice")
	}
	if b, _ := io.ReadAll(r.Body); !strings.Contains(string(b), "totalCount") {
		t.Errorf("body after cacheKey: %q", b)
	}
	// A GET's parameters too.
	g := get(`{ trends { totalCount } }`, `{"n":2}`)
	g = g.WithContext(context.WithValue(g.Context(), reqInfoKey{}, &reqInfo{}))
	key(g)
	if p := takeDecoded(g.Context()); p == nil || p.Query != "{ trends { totalCount } }" || p.Variables["n"] != json.Number("2") {
		t.Fatalf("decoded GET params: %+v", p)
	}
}
