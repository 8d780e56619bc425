package graph_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/client"
	"github.com/trendql/trendql/db"
)

type pageResp struct {
	Companies struct {
		TotalCount int
		Edges      []struct {
			Cursor string
			Node   struct{ Name string }
		}
		PageInfo struct {
			HasNextPage, HasPreviousPage bool
			StartCursor, EndCursor       *string
		}
	}
}

const pageQuery = `query($first: Int, $after: String, $last: Int, $before: String) {
	companies(first: $first, after: $after, last: $last, before: $before) {
		totalCount edges { cursor node { name } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
	}
}`

func allCompanies(t *testing.T, e *env) []string {
	var resp struct {
		Companies struct{ Nodes []struct{ Name string } }
	}
	e.mustQuery(t, `{ companies(first: 100) { nodes { name } } }`, &resp)
	var out []string
	for _, n := range resp.Companies.Nodes {
		out = append(out, n.Name)
	}
	return out
}

func TestPagination_ForwardVisitsEveryItemOnce(t *testing.T) {
	e := newEnv(t)
	all := allCompanies(t, e)
	if len(all) != 31 {
		t.Fatalf("%d companies, want 31", len(all))
	}
	var got []string
	var after any
	for page := 0; ; page++ {
		var r pageResp
		e.mustQuery(t, pageQuery, &r, client.Var("first", 7), client.Var("after", after))
		c := r.Companies
		if c.TotalCount != 31 {
			t.Fatalf("totalCount = %d", c.TotalCount)
		}
		if c.PageInfo.HasPreviousPage != (page > 0) {
			t.Errorf("page %d: hasPreviousPage = %v", page, c.PageInfo.HasPreviousPage)
		}
		for _, edge := range c.Edges {
			got = append(got, edge.Node.Name)
		}
		if len(c.Edges) > 0 && (*c.PageInfo.StartCursor != c.Edges[0].Cursor || *c.PageInfo.EndCursor != c.Edges[len(c.Edges)-1].Cursor) {
			t.Errorf("page %d: start/end cursors do not match edges", page)
		}
		if !c.PageInfo.HasNextPage {
			if len(c.Edges) != 31%7 {
				t.Errorf("last page has %d items", len(c.Edges))
			}
			break
		}
		after = *c.PageInfo.EndCursor
		if page > 10 {
			t.Fatal("pagination does not end")
		}
	}
	if strings.Join(got, ",") != strings.Join(all, ",") {
		t.Errorf("forward pages:\n%v\nwant\n%v", got, all)
	}
}

func TestPagination_BackwardVisitsEveryItemOnce(t *testing.T) {
	e := newEnv(t)
	all := allCompanies(t, e)
	var got []string
	var before any
	for page := 0; page < 10; page++ {
		var r pageResp
		e.mustQuery(t, pageQuery, &r, client.Var("last", 8), client.Var("before", before))
		c := r.Companies
		if c.PageInfo.HasNextPage != (page > 0) {
			t.Errorf("page %d: hasNextPage = %v", page, c.PageInfo.HasNextPage)
		}
		var names []string
		for _, edge := range c.Edges {
			names = append(names, edge.Node.Name)
		}
		got = append(names, got...)
		if !c.PageInfo.HasPreviousPage {
			break
		}
		before = *c.PageInfo.StartCursor
	}
	if strings.Join(got, ",") != strings.Join(all, ",") {
		t.Errorf("backward pages:\n%v\nwant\n%v", got, all)
	}
}

func TestPagination_Edges(t *testing.T) {
	e := newEnv(t)
	all := allCompanies(t, e)
	var first pageResp
	e.mustQuery(t, pageQuery, &first, client.Var("first", 31))
	edges := first.Companies.Edges
	lastCursor, firstCursor := edges[30].Cursor, edges[0].Cursor

	t.Run("first: 0 is an empty page", func(t *testing.T) {
		var r pageResp
		e.mustQuery(t, pageQuery, &r, client.Var("first", 0))
		if len(r.Companies.Edges) != 0 || r.Companies.PageInfo.StartCursor != nil || r.Companies.TotalCount != 31 {
			t.Errorf("got %+v", r.Companies)
		}
	})
	t.Run("after the last item is an empty page", func(t *testing.T) {
		var r pageResp
		e.mustQuery(t, pageQuery, &r, client.Var("first", 5), client.Var("after", lastCursor))
		if len(r.Companies.Edges) != 0 || r.Companies.PageInfo.HasNextPage || !r.Companies.PageInfo.HasPreviousPage {
			t.Errorf("got %+v", r.Companies)
		}
	})
	t.Run("before the first item is an empty page", func(t *testing.T) {
		var r pageResp
		e.mustQuery(t, pageQuery, &r, client.Var("last", 5), client.Var("before", firstCursor))
		if len(r.Companies.Edges) != 0 || r.Companies.PageInfo.HasPreviousPage || !r.Companies.PageInfo.HasNextPage {
			t.Errorf("got %+v", r.Companies)
		}
	})
	t.Run("last without before is the end of the list", func(t *testing.T) {
		var r pageResp
		e.mustQuery(t, pageQuery, &r, client.Var("last", 3))
		got := []string{}
		for _, x := range r.Companies.Edges {
			got = append(got, x.Node.Name)
		}
		if strings.Join(got, ",") != strings.Join(all[28:], ",") || !r.Companies.PageInfo.HasPreviousPage || r.Companies.PageInfo.HasNextPage {
			t.Errorf("got %v %+v", got, r.Companies.PageInfo)
		}
	})
	t.Run("after and before bound a window", func(t *testing.T) {
		var r pageResp
		e.mustQuery(t, pageQuery, &r, client.Var("first", 100), client.Var("after", edges[4].Cursor), client.Var("before", edges[9].Cursor))
		got := []string{}
		for _, x := range r.Companies.Edges {
			got = append(got, x.Node.Name)
		}
		if strings.Join(got, ",") != strings.Join(all[5:9], ",") {
			t.Errorf("got %v, want %v", got, all[5:9])
		}
	})
	t.Run("default page size is 20", func(t *testing.T) {
		var r pageResp
		e.mustQuery(t, pageQuery, &r)
		if len(r.Companies.Edges) != db.DefaultPageSize || !r.Companies.PageInfo.HasNextPage {
			t.Errorf("got %d edges", len(r.Companies.Edges))
		}
	})
	t.Run("a cursor survives the deletion of its item", func(t *testing.T) {
		// Keyset cursors hold the sort key, not a position.
		ctx := context.Background()
		if _, err := e.DB.Import(ctx, &db.Content{Format: db.ContentFormat, Companies: []db.CompanyDoc{{Slug: "aaa-first", Name: "AAA First"}}}, false); err != nil {
			t.Fatal(err)
		}
		var r pageResp
		e.mustQuery(t, pageQuery, &r, client.Var("first", 2), client.Var("after", edges[2].Cursor))
		if r.Companies.Edges[0].Node.Name != all[3] {
			t.Errorf("after an insert before it, the cursor moved: got %s, want %s", r.Companies.Edges[0].Node.Name, all[3])
		}
	})
}

func TestPagination_BadInput(t *testing.T) {
	e := newEnv(t)
	var r pageResp
	e.mustQuery(t, pageQuery, &r, client.Var("first", 2))
	companyCursor := r.Companies.Edges[0].Cursor
	cases := []struct {
		name, query, field string
	}{
		{"negative first", `{ companies(first: -1) { totalCount } }`, "first"},
		{"first over max", `{ companies(first: 101) { totalCount } }`, "first"},
		{"negative last", `{ companies(last: -5) { totalCount } }`, "last"},
		{"last over max", `{ companies(last: 1000000) { totalCount } }`, "last"},
		{"first and last", `{ companies(first: 1, last: 1) { totalCount } }`, "last"},
		{"garbage cursor", `{ companies(after: "not a cursor") { totalCount } }`, "after"},
		{"base64 of junk", `{ companies(after: "e30") { totalCount } }`, "after"},
		{"garbage before", `{ companies(before: "%%%") { totalCount } }`, "before"},
		{"cursor of another ordering", fmt.Sprintf(`{ companies(after: %q, orderBy: [{ field: CREATED_AT }]) { totalCount } }`, companyCursor), "after"},
		{"cursor of another list", fmt.Sprintf(`{ trends(after: %q) { totalCount } }`, companyCursor), "after"},
		{"huge cursor", fmt.Sprintf(`{ companies(after: %q) { totalCount } }`, strings.Repeat("A", 5000)), "after"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := e.post(t, c.query, nil)
			if r.code() != "BAD_USER_INPUT" || r.Errors[0].Extensions["field"] != c.field {
				t.Errorf("got %s field=%v: %s", r.code(), r.Errors[0].Extensions["field"], r.Body)
			}
			assertNoLeak(t, r.Body)
		})
	}
}

// A nested query costs the same number of SQL statements for a page of 1 as
// for a page of 50: every relation goes through a dataloader.
func TestNestedQuery_ConstantStatementCount(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	// 60 more companies, each using Go and Django, so pages of 50 exist.
	doc := &db.Content{Format: db.ContentFormat}
	var slugs []string
	for i := 0; i < 60; i++ {
		s := fmt.Sprintf("extra-%02d", i)
		slugs = append(slugs, s)
		doc.Companies = append(doc.Companies, db.CompanyDoc{Slug: s, Name: "Extra " + s})
	}
	exp, err := e.DB.Export(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range exp.Frameworks {
		if f.Slug == "go" || f.Slug == "django" {
			f.Companies = append(f.Companies, slugs...)
			doc.Frameworks = append(doc.Frameworks, f)
		}
	}
	if _, err := e.DB.Import(ctx, doc, false); err != nil {
		t.Fatal(err)
	}
	// Three levels of lists: companies → frameworks → companies (and their trends).
	q := `query($n: Int) { companies(first: $n) { nodes { name frameworks { name companies { name } trends { name companies { name } } } } } }`
	// Counted with the row cache warm (a first run reads every row): a
	// cold level costs one statement more, whatever its size (see
	// db.TestRowCache_ColdLevelCostsOneStatementMore).
	statements := func(n int) (int, int) {
		var resp struct {
			Companies struct{ Nodes []map[string]any }
		}
		e.mustQuery(t, q, &resp, client.Var("n", n))
		before := e.metric(t, "trendql_db_queries_total")
		// An undeclared variable the response cache keys on, not GraphQL.
		e.mustQuery(t, q, &resp, client.Var("n", n), client.Var("again", true))
		return int(e.metric(t, "trendql_db_queries_total") - before), len(resp.Companies.Nodes)
	}
	one, n1 := statements(1)
	fifty, n50 := statements(50)
	if n1 != 1 || n50 != 50 {
		t.Fatalf("pages of %d and %d items", n1, n50)
	}
	if one != fifty {
		t.Errorf("1 item: %d statements; 50 items: %d statements", one, fifty)
	}
	// list + frameworks + (companies, trends) + trend companies
	if one != 5 {
		t.Errorf("%d statements, want 5 (one per list and relation)", one)
	}
}
