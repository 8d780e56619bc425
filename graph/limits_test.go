package graph_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/trendql/trendql/graph"
)

// GraphiQL's start-up introspection nests ofType 7 levels deep inside
// __schema: introspection fields are exempt from the depth limit.
const introspectionQuery = `query IntrospectionQuery {
  __schema {
    queryType { name } mutationType { name }
    types { ...FullType }
    directives { name description locations args { ...InputValue } }
  }
}
fragment FullType on __Type {
  kind name description
  fields(includeDeprecated: true) { name description args { ...InputValue } type { ...TypeRef } isDeprecated deprecationReason }
  inputFields { ...InputValue }
  interfaces { ...TypeRef }
  enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason }
  possibleTypes { ...TypeRef }
}
fragment InputValue on __InputValue { name description type { ...TypeRef } defaultValue }
fragment TypeRef on __Type { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } } }`

func TestLimits_IntrospectionIsExempt(t *testing.T) {
	e := newEnv(t, func(o *graph.Options) { o.Limits = graph.Limits{MaxDepth: 3} })
	r := e.post(t, introspectionQuery, nil)
	if r.Status != 200 || len(r.Errors) > 0 || !strings.Contains(r.Body, `"queryType":{"name":"Query"}`) {
		t.Fatalf("introspection refused: %.300s", r.Body)
	}
}

func TestLimits_RefusedBeforeAnySQL(t *testing.T) {
	e := newEnv(t, func(o *graph.Options) {
		o.Limits = graph.Limits{MaxDepth: 4, MaxCost: 500, MaxAliases: 2, MaxRootFields: 3}
	})
	cases := []struct{ name, query, limit string }{
		{"depth", `{ trends { nodes { framework { companies { name } } } } }`, "depth"},
		{"cost", `{ frameworks(first: 100) { nodes { name slug summary kind } } }`, "cost"},
		{"cost of nested relations", `{ companies(first: 100) { nodes { frameworks { name } } } }`, "cost"},
		{"aliases", `{ trends { nodes { a: name b: slug c: rank } } }`, "aliases"},
		{"root fields", `{ article { title } trends { totalCount } frameworks { totalCount } companies { totalCount } }`, "rootFields"},
		{"through variables", `query($n: Int) { frameworks(first: $n) { nodes { name slug summary kind } } }`, "cost"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := e.metric(t, "trendql_db_queries_total")
			vars := map[string]any{}
			if strings.Contains(c.query, "$n") {
				vars["n"] = 100
			}
			r := e.post(t, c.query, vars)
			if r.code() != "COMPLEXITY_LIMIT_EXCEEDED" || r.Errors[0].Extensions["limit"] != c.limit || r.Status != 422 {
				t.Fatalf("got %d %s", r.Status, r.Body)
			}
			if after := e.metric(t, "trendql_db_queries_total"); after != before {
				t.Errorf("a refused operation ran %v statements", after-before)
			}
		})
	}
	// Within the limits the same shapes run.
	if r := e.post(t, `{ frameworks(first: 10) { nodes { name } } }`, nil); len(r.Errors) > 0 {
		t.Errorf("small query refused: %s", r.Body)
	}
}

// The reference queries of the load benchmark pass the default limits.
func TestLimits_DefaultsAllowTheReferenceQueries(t *testing.T) {
	e := newEnv(t)
	for _, q := range []string{
		`query($slug:String!){ framework(slug:$slug){ id name slug language creator firstReleased architecture summary companies { id name slug } } }`,
		`{ frameworks(first: 20) { nodes { id name slug language creator firstReleased architecture summary companies { id name slug } } } }`,
		`{ trends(first: 10) { nodes { id rank name slug category summary body } } }`,
		`{ frameworks(first: 100) { nodes { name companies { name frameworks { name } } } } }`,
	} {
		if r := e.post(t, q, map[string]any{"slug": "django"}); len(r.Errors) > 0 {
			t.Errorf("%s: %s", q, r.Body)
		}
	}
}

// hostileDocument is a request body built to make validation expensive.
type hostileDocument struct {
	name string
	body []byte
}

// repeatToFill returns prefix + unit×n + suffix with n as large as keeps
// the request body (the query JSON-encoded) within budget bytes.
func repeatToFill(prefix, unit, suffix string, budget int) string {
	encoded := func(s string) int { b, _ := json.Marshal(s); return len(b) }
	n := (budget - encoded(prefix) - encoded(suffix) - 64) / (encoded(unit) - 2)
	return prefix + strings.Repeat(unit, n) + suffix
}

// numbered returns format applied to 0…n-1, concatenated (%[1]d is the number).
func numbered(format string, n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, format, i)
	}
	return b.String()
}

func queryBody(query string, vars map[string]any) []byte {
	b, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		panic(err)
	}
	return b
}

// hostileDocuments are the documents of issue 11 item 1 and their
// siblings, each as large as the default 1 MiB body limit allows (or as
// the issue gives it).
func hostileDocuments() []hostileDocument {
	const body = 1<<20 - 1024
	fields := func(n int) string { return "{trends{nodes{" + strings.Repeat("id ", n) + "}}}" }
	deepList := strings.Repeat("[", 990) + strings.Repeat("]", 990)
	var deepJSON any = []any{}
	for range 5000 {
		deepJSON = []any{deepJSON}
	}
	docs := []hostileDocument{
		{"fields-2000", queryBody(fields(2000), nil)},
		{"fields-4000", queryBody(fields(4000), nil)},
		{"fields-8000", queryBody(fields(8000), nil)},
		{"typename-1MB", queryBody(repeatToFill("{", "__typename ", "}", body), nil)},
		{"fragment-spreads", queryBody(repeatToFill("{trends{nodes{", "...F ", "}}} fragment F on Trend{id}", body), nil)},
		{"fragment-definitions", queryBody("{trends{nodes{"+numbered("...F%[1]d ", 20000)+"}}}"+numbered(" fragment F%[1]d on Trend{id}", 20000), nil)},
		{"nested-fragments", queryBody("{trends{nodes{...F0}}}"+fragmentChain(20000), nil)},
		{"inline-fragments", queryBody(repeatToFill("{trends{nodes{", "... on Trend{id} ", "}}}", body), nil)},
		{"nested-fields", queryBody("{trends{nodes{"+strings.Repeat("framework{"+strings.Repeat("id ", 300)+"} ", 300)+"}}}", nil)},
		{"variables", queryBody("query("+numbered("$v%[1]d:Int ", 60000)+"){trends{totalCount}}", nil)},
		{"directives", queryBody(repeatToFill("{trends{nodes{id ", "@skip(if:false) ", "}}}", body), nil)},
		{"arguments", queryBody(repeatToFill("{trend(", `slug:"a" `, "){id}}", body), nil)},
		{"aliases", queryBody("{trends{nodes{"+numbered("a%[1]d:id ", 70000)+"}}}", nil)},
		{"operations", queryBody(numbered("query Q%[1]d{trends{totalCount}} ", 30000), nil)},
		{"long-string", queryBody(repeatToFill(`{trend(slug:"`, "a", `"){id}}`, body), nil)},
		{"deep-list-value", queryBody("{nodes(ids:"+deepList+"){id}}", nil)},
		{"deep-object-value", queryBody("{trends(filter:"+strings.Repeat("{NOT:", 990)+"{}"+strings.Repeat("}", 990)+"){totalCount}}", nil)},
		{"deep-list-variable", queryBody("query($ids:[ID!]!){nodes(ids:$ids){id}}", map[string]any{"ids": deepJSON})},
	}
	for _, d := range docs {
		if len(d.body) > 1<<20 {
			panic(fmt.Sprintf("%s: body of %d bytes is over the limit", d.name, len(d.body)))
		}
	}
	return docs
}

// fragmentChain is n fragments, each spreading the next.
func fragmentChain(n int) string {
	var b strings.Builder
	for i := range n - 1 {
		fmt.Fprintf(&b, " fragment F%d on Trend{id ...F%d}", i, i+1)
	}
	fmt.Fprintf(&b, " fragment F%d on Trend{id}", n-1)
	return b.String()
}

// BenchmarkHostileDocument measures what it costs the server to answer
// each hostile document, through the whole handler: cpu-ns/op is the CPU
// time per request (issue 11 item 1: at most 50 ms).
func BenchmarkHostileDocument(b *testing.B) {
	e := newEnv(b)
	for _, d := range hostileDocuments() {
		b.Run(d.name, func(b *testing.B) {
			cpu0 := cpuTime()
			for b.Loop() {
				req := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(d.body))
				req.Header.Set("Content-Type", "application/json")
				e.Handler.ServeHTTP(httptest.NewRecorder(), req)
			}
			b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
		})
	}
}
