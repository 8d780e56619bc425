package graph

import (
	"sort"
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
