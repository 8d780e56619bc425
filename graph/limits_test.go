package graph_test

import (
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
			if r.code() != "COMPLEXITY_LIMIT_EXCEEDED" || r.Errors[0].Extensions["limit"] != c.limit || r.Status != 200 {
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
