package graph_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/trendql/trendql/db"
	"github.com/trendql/trendql/graph"
)

// The hostile-input suite: each bad request gets its status and code, and
// changes nothing.
func TestHostileInputs(t *testing.T) {
	e := newEnv(t, func(o *graph.Options) { o.MaxBodyBytes = 64 << 10 })
	editor := token(t, e, db.RoleEditor)
	viewer := token(t, e, db.RoleViewer)
	auth := func(tok string) []string { return []string{"Authorization", "Bearer " + tok} }
	post := func(body string, headers ...string) func() *http.Request {
		return func() *http.Request {
			r := httptest.NewRequest("POST", "/graphql", strings.NewReader(body))
			r.Header.Set("Content-Type", "application/json")
			for i := 0; i+1 < len(headers); i += 2 {
				r.Header.Set(headers[i], headers[i+1])
			}
			return r
		}
	}
	gql := func(query string, vars map[string]any, headers ...string) func() *http.Request {
		b, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
		return post(string(b), headers...)
	}
	get := func(rawQuery string) func() *http.Request {
		return func() *http.Request { return httptest.NewRequest("GET", "/graphql?"+rawQuery, nil) }
	}
	deep := "{ trends { nodes { framework { companies { frameworks { companies { frameworks { companies { frameworks { companies { frameworks { companies { name } } } } } } } } } } } } }"
	aliases := "{ " + strings.Repeat("a%d: article { title } ", 1)
	for i := 2; i <= 40; i++ {
		aliases += fmt.Sprintf("a%d: article { title } ", i)
	}
	aliases = strings.Replace(aliases, "a%d", "a1", 1) + "}"
	// Each fragment asks for the next one twice under aliases: the work
	// doubles per level although the text stays small.
	fragBomb := "query { frameworks(first: 100) { nodes { ...L1 } } } " +
		"fragment L1 on Framework { a: companies { ...L2 } b: companies { ...L2 } } " +
		"fragment L2 on Company { a: frameworks { ...L3 } b: frameworks { ...L3 } } " +
		"fragment L3 on Framework { a: companies { ...L4 } b: companies { ...L4 } } " +
		"fragment L4 on Company { a: frameworks { name } b: frameworks { name } }"
	cyclic := "query { ...A } fragment A on Query { ...B } fragment B on Query { ...A }"
	wide := "{ " + strings.Repeat("article { title } ", 1)
	for i := 0; i < 25; i++ {
		wide += fmt.Sprintf("t%d: trend(slug: \"go\") { name } ", i)
	}
	wide += "}"
	bigList := make([]string, 1000)
	for i := range bigList {
		bigList[i] = db.EncodeID(db.TypeTrend, int64(i+1))
	}
	var goID struct{ Trend struct{ ID string } }
	e.mustQuery(t, `{ trend(slug: "go") { id } }`, &goID)

	cases := []struct {
		name   string
		req    func() *http.Request
		status int
		code   string
	}{
		{"malformed JSON", post(`{"query": `), 400, "BAD_USER_INPUT"},
		{"JSON that is a string", post(`"{ article { title } }"`), 400, "BAD_USER_INPUT"},
		{"JSON null", post(`null`), 400, "BAD_USER_INPUT"},
		{"query of the wrong type", post(`{"query": 42}`), 400, "BAD_USER_INPUT"},
		{"variables of the wrong type", post(`{"query": "{ article { title } }", "variables": [1,2]}`), 400, "BAD_USER_INPUT"},
		{"batch of queries", post(`[{"query":"{ article { title } }"},{"query":"{ article { title } }"}]`), 400, "BAD_USER_INPUT"},
		{"empty body", post(``), 400, "BAD_USER_INPUT"},
		{"text/plain body", func() *http.Request {
			r := post(`{"query":"{ article { title } }"}`)()
			r.Header.Set("Content-Type", "text/plain")
			return r
		}, 415, "BAD_USER_INPUT"},
		{"no content type", func() *http.Request {
			r := post(`{"query":"{ article { title } }"}`)()
			r.Header.Del("Content-Type")
			return r
		}, 415, "BAD_USER_INPUT"},
		{"body over the limit", post(`{"query":"{ article { title } }","variables":{"x":"` + strings.Repeat("a", 70<<10) + `"}}`), 413, "BAD_USER_INPUT"},
		{"syntax error", gql(`{ trends( }`, nil), 200, "GRAPHQL_PARSE_FAILED"},
		{"unterminated string", gql(`{ trend(slug: "go) { name } }`, nil), 200, "GRAPHQL_PARSE_FAILED"},
		{"unknown field", gql(`{ secrets }`, nil), 200, "GRAPHQL_VALIDATION_FAILED"},
		{"unknown operation name", post(`{"query":"query A { article { title } }","operationName":"B"}`), 200, "GRAPHQL_VALIDATION_FAILED"},
		{"two operations, no name", gql(`query A { article { title } } query B { article { title } }`, nil), 200, "GRAPHQL_VALIDATION_FAILED"},
		{"wrong variable type", gql(`query($n: Int) { trends(first: $n) { totalCount } }`, map[string]any{"n": "many"}), 200, "BAD_USER_INPUT"},
		{"int overflow", gql(`query($n: Int) { trends(first: $n) { totalCount } }`, map[string]any{"n": 1e20}), 200, "BAD_USER_INPUT"},
		{"deep nesting", gql(deep, nil), 200, "COMPLEXITY_LIMIT_EXCEEDED"},
		{"alias bomb", gql(aliases, nil), 200, "COMPLEXITY_LIMIT_EXCEEDED"},
		{"fragment bomb", gql(fragBomb, nil), 200, "COMPLEXITY_LIMIT_EXCEEDED"},
		{"fragment cycle", gql(cyclic, nil), 200, "GRAPHQL_VALIDATION_FAILED"},
		{"too many root fields", gql(wide, nil), 200, "COMPLEXITY_LIMIT_EXCEEDED"},
		{"huge page", gql(`{ frameworks(first: 1000000) { nodes { name } } }`, nil), 200, "BAD_USER_INPUT"},
		{"negative page", gql(`{ frameworks(last: -3) { nodes { name } } }`, nil), 200, "BAD_USER_INPUT"},
		{"bad cursor", gql(`{ frameworks(after: "AAAA") { nodes { name } } }`, nil), 200, "BAD_USER_INPUT"},
		{"cursor with SQL", gql(`{ frameworks(after: "' OR 1=1 --") { nodes { name } } }`, nil), 200, "BAD_USER_INPUT"},
		{"bad id", gql(`{ node(id: "../../etc/passwd") { id } }`, nil), 200, "BAD_USER_INPUT"},
		{"too many ids", gql(`query($ids: [ID!]!) { nodes(ids: $ids) { id } }`, map[string]any{"ids": bigList}), 200, "BAD_USER_INPUT"},
		{"SQL in a filter string", gql(`{ companies(filter: { name: { contains: "'; DROP TABLE companies; --" } }) { totalCount } }`, nil), 200, ""},
		{"SQL in a slug", gql(`{ trend(slug: "go' OR '1'='1") { name } }`, nil), 200, ""},
		{"null byte in a string", gql(`query($s: String!) { trend(slug: $s) { name } }`, map[string]any{"s": "go\x00x"}), 200, ""},
		{"huge string", gql(`query($s: String!) { companies(filter: { name: { contains: $s } }) { totalCount } }`, map[string]any{"s": strings.Repeat("x", 50000)}), 200, ""},
		{"invalid UTF-8", post("{\"query\":\"{ trend(slug: \\\"\xff\xfe\\\") { name } }\"}"), 400, "BAD_USER_INPUT"},
		{"mutation over GET", get("query=" + url.QueryEscape(`mutation { createCompany(input: { name: "X" }) { id } }`)), 405, "BAD_USER_INPUT"},
		{"mutation over GET by operation name", get("query=" + url.QueryEscape(`query A { article { title } } mutation B { createCompany(input: { name: "X" }) { id } }`) + "&operationName=B"), 405, "BAD_USER_INPUT"},
		{"GET with broken variables", get("query=" + url.QueryEscape(`{ article { title } }`) + "&variables=%7B"), 400, "BAD_USER_INPUT"},
		{"DELETE method", func() *http.Request { return httptest.NewRequest("DELETE", "/graphql", nil) }, 405, "BAD_USER_INPUT"},
		{"anonymous mutation", gql(`mutation { createCompany(input: { name: "X" }) { id } }`, nil), 200, "UNAUTHENTICATED"},
		{"viewer mutation", gql(`mutation { createCompany(input: { name: "X" }) { id } }`, nil, auth(viewer)...), 200, "FORBIDDEN"},
		{"bad token", gql(`{ article { title } }`, nil, auth("tql_1_forged")...), 401, "UNAUTHENTICATED"},
		{"basic auth", gql(`{ article { title } }`, nil, "Authorization", "Basic YTpi"), 401, "UNAUTHENTICATED"},
		{"stale ifVersion", gql(`mutation($id: ID!) { updateTrend(id: $id, input: { name: "X" }, ifVersion: 99) { name } }`, map[string]any{"id": goID.Trend.ID}, auth(editor)...), 200, "CONFLICT"},
		{"create with empty name", gql(`mutation { createCompany(input: { name: "   " }) { id } }`, nil, auth(editor)...), 200, "BAD_USER_INPUT"},
		{"create with huge name", gql(`mutation($n: String!) { createCompany(input: { name: $n }) { id } }`, map[string]any{"n": strings.Repeat("n", 5000)}, auth(editor)...), 200, "BAD_USER_INPUT"},
		{"create with NUL", gql(`mutation($n: String!) { createCompany(input: { name: $n }) { id } }`, map[string]any{"n": "a\x00b"}, auth(editor)...), 200, "BAD_USER_INPUT"},
		{"duplicate rank", gql(`mutation { createTrend(input: { name: "Dup", rank: 1, category: API }) { id } }`, nil, auth(editor)...), 200, "BAD_USER_INPUT"},
		{"dangling link", gql(`mutation { createFramework(input: { name: "F", kind: FRAMEWORK, companies: ["`+db.EncodeID(db.TypeCompany, 9999)+`"] }) { id } }`, nil, auth(editor)...), 200, "BAD_USER_INPUT"},
		{"id of the wrong type", gql(`mutation { deleteTrend(id: "`+db.EncodeID(db.TypeCompany, 1)+`") { id } }`, nil, auth(editor)...), 200, "BAD_USER_INPUT"},
		{"delete unknown", gql(`mutation { deleteCompany(id: "`+db.EncodeID(db.TypeCompany, 9999)+`") { id } }`, nil, auth(editor)...), 200, "NOT_FOUND"},
		{"unknown enum", gql(`{ frameworks(filter: { kind: { eq: PLUGIN } }) { totalCount } }`, nil), 200, "GRAPHQL_VALIDATION_FAILED"},
		{"filter nested too deep", gql(`{ trends(filter: { NOT: { NOT: { NOT: { NOT: { NOT: { NOT: { NOT: { NOT: { rank: { eq: 1 } } } } } } } } } }) { totalCount } }`, nil), 200, "BAD_USER_INPUT"},
		// Issue 11 items 1, 5, 9 and 10.
		{"thousands of fields in one selection set", gql(repeatToFill("{ trends { nodes { ", "__typename ", "} } }", 60<<10), nil), 200, "COMPLEXITY_LIMIT_EXCEEDED"},
		{"fragments spread thousands of times", gql(repeatToFill("{ trends { nodes { ", "...F ", "} } } fragment F on Trend { __typename }", 60<<10), nil), 200, "COMPLEXITY_LIMIT_EXCEEDED"},
		{"values nested hundreds deep", gql("{ trends(filter: "+strings.Repeat("{ NOT: ", 500)+"{}"+strings.Repeat(" }", 500)+") { totalCount } }", nil), 200, "COMPLEXITY_LIMIT_EXCEEDED"},
		{"aliased introspection", gql("{ __schema { "+numbered("a%[1]d: types { fields { type { name } } } ", 40)+"} }", nil), 200, "COMPLEXITY_LIMIT_EXCEEDED"},
		{"root fields in an inline fragment", gql("{ ... on Query { "+numbered("a%[1]d: trends { totalCount } ", 30)+"} }", nil), 200, "COMPLEXITY_LIMIT_EXCEEDED"},
		{"root fields in a fragment spread", gql("{ ...Q } fragment Q on Query { "+numbered("a%[1]d: trends { totalCount } ", 25)+"}", nil), 200, "COMPLEXITY_LIMIT_EXCEEDED"},
		{"a thousand repeated directives", gql("{ trends { nodes { id "+strings.Repeat("@skip(if: false) ", 1400)+"} } }", nil), 200, "GRAPHQL_VALIDATION_FAILED"},
		// Invalid UTF-8 would be stored as U+FFFD: refused like import refuses it.
		{"invalid UTF-8 in a variable", post(`{"query":"mutation($n: String!) { createCompany(input: { name: $n }) { id } }","variables":{"n":"a`+"\xff"+`b"}}`, auth(editor)...), 400, "BAD_USER_INPUT"},
		{"invalid UTF-8 in a query", post(`{"query":"{ company(slug: \"a` + "\xfe" + `\") { id } }"}`), 400, "BAD_USER_INPUT"},
		{"invalid UTF-8 in a GET parameter", get("query=%7B+article+%7B+title+%7D+%7D&operationName=%FF"), 400, "BAD_USER_INPUT"},
		{"FTS-like syntax in a filter", gql(`{ trends(filter: { name: { contains: "NEAR(\"a\" \"b\") * -x ^y" } }) { totalCount } }`, nil), 200, ""},
	}
	if len(cases) < 40 {
		t.Fatalf("only %d hostile cases", len(cases))
	}
	base := snapshot(t, e)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := e.do(t, c.req())
			if r.Status >= 500 {
				t.Fatalf("5xx: %d %s", r.Status, r.Body)
			}
			if r.Status != c.status || r.code() != c.code {
				t.Errorf("status %d code %q, want %d %q: %.300s", r.Status, r.code(), c.status, c.code, r.Body)
			}
			if len(r.Errors) > graph.DefaultMaxErrors+1 {
				t.Errorf("%d errors in one response", len(r.Errors))
			}
			assertNoLeak(t, r.Body)
			if got := snapshot(t, e); got != base {
				t.Fatal("content changed")
			}
		})
	}
	_ = bytes.MinRead
}
