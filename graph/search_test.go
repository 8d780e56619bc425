package graph_test

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/client"
	"github.com/trendql/trendql/db"
	"github.com/trendql/trendql/db/dbtest"
	"github.com/trendql/trendql/graph"
)

// searchServer serves a new seeded database through the real handler.
// With a principal, every request carries a real token of its role.
func searchServer(t *testing.T, p *db.Principal) (*client.Client, *db.DB) {
	t.Helper()
	ctx := context.Background()
	d, created, err := db.Open(ctx, dbtest.NewDSN(t), db.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	if created {
		if err := d.Seed(ctx); err != nil {
			t.Fatal(err)
		}
	}
	h := graph.NewHandler(graph.Options{DB: d})
	opts := []client.Option{client.Path("/graphql")}
	if p != nil {
		_, secret, err := d.CreateToken(ctx, "search-test", p.Role, 0)
		if err != nil {
			t.Fatal(err)
		}
		opts = append(opts, client.AddHeader("Authorization", "Bearer "+secret))
	}
	return client.New(h, opts...), d
}

const searchQuery = `query Search($q: String!, $types: [ContentType!], $first: Int, $after: String) {
  search(query: $q, types: $types, first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { score } }
    nodes {
      score
      snippet
      node {
        __typename
        id
        ... on Trend { name }
        ... on Framework { name }
        ... on Company { name }
        ... on FAQ { name: question }
      }
    }
  }
}`

type searchResult struct {
	Search struct {
		TotalCount int
		PageInfo   struct {
			HasNextPage, HasPreviousPage bool
			StartCursor, EndCursor       *string
		}
		Edges []struct {
			Cursor string
			Node   struct{ Score float64 }
		}
		Nodes []struct {
			Score   float64
			Snippet string
			Node    struct {
				Typename string `json:"__typename"`
				ID       string
				Name     string
			}
		}
	}
}

func (r *searchResult) names() []string {
	out := make([]string, len(r.Search.Nodes))
	for i, n := range r.Search.Nodes {
		out[i] = n.Node.Typename + " " + n.Node.Name
	}
	return out
}

func search(t *testing.T, c *client.Client, q string, opts ...client.Option) *searchResult {
	t.Helper()
	var r searchResult
	if err := c.Post(searchQuery, &r, append([]client.Option{client.Var("q", q)}, opts...)...); err != nil {
		t.Fatalf("search %q: %v", q, err)
	}
	return &r
}

func TestSearchQuery_FindsRanksAndHighlights(t *testing.T) {
	c, _ := searchServer(t, nil)
	for _, tc := range []struct {
		query string
		first []string // any of these is the right first hit: the engines rank alike, not identically
		mark  string
	}{
		{"Otwell", []string{"Framework Laravel"}, "<mark>Otwell</mark>"},
		{"garbage collection", []string{"Framework Go", "Trend Go"}, "<mark>garbage</mark> <mark>collection</mark>"},
		{"serverles", []string{"Trend Serverless Computing"}, "<mark>serverless</mark>"},
	} {
		r := search(t, c, tc.query)
		if len(r.Search.Nodes) == 0 || !slices.Contains(tc.first, r.names()[0]) {
			t.Errorf("%q finds %q, want one of %q first", tc.query, r.names(), tc.first)
			continue
		}
		if r.Search.TotalCount != len(r.Search.Nodes) {
			t.Errorf("%q: totalCount %d, %d nodes on the only page", tc.query, r.Search.TotalCount, len(r.Search.Nodes))
		}
		if s := r.Search.Nodes[0].Snippet; !strings.Contains(strings.ToLower(s), strings.ToLower(tc.mark)) {
			t.Errorf("%q: snippet %q lacks %s", tc.query, s, tc.mark)
		}
		if len(r.Search.Edges) != len(r.Search.Nodes) || r.Search.Edges[0].Node.Score != r.Search.Nodes[0].Score ||
			*r.Search.PageInfo.EndCursor != r.Search.Edges[len(r.Search.Edges)-1].Cursor {
			t.Errorf("%q: edges and nodes disagree", tc.query)
		}
		// The hit's id is a node id like any other.
		var n struct{ Node struct{ ID string } }
		if err := c.Post(`query($id: ID!) { node(id: $id) { id } }`, &n, client.Var("id", r.Search.Nodes[0].Node.ID)); err != nil || n.Node.ID != r.Search.Nodes[0].Node.ID {
			t.Errorf("%q: node(id: %s) = %+v, %v", tc.query, r.Search.Nodes[0].Node.ID, n, err)
		}
	}
}

func TestSearchQuery_TypesFilter(t *testing.T) {
	c, _ := searchServer(t, nil)
	all := search(t, c, "go", client.Var("first", 100))
	for _, typ := range []string{"TREND", "FRAMEWORK", "COMPANY", "FAQ"} {
		r := search(t, c, "go", client.Var("types", []string{typ}), client.Var("first", 100))
		if len(r.Search.Nodes) == 0 {
			t.Errorf("types [%s]: no hits", typ)
		}
		for _, n := range r.Search.Nodes {
			if strings.ToUpper(n.Node.Typename) != typ {
				t.Errorf("types [%s]: found %s %s", typ, n.Node.Typename, n.Node.Name)
			}
		}
		if r.Search.TotalCount >= all.Search.TotalCount {
			t.Errorf("types [%s]: totalCount %d, all types %d", typ, r.Search.TotalCount, all.Search.TotalCount)
		}
	}
	if r := search(t, c, "go", client.Var("types", []string{})); len(r.Search.Nodes) != 0 || r.Search.TotalCount != 0 {
		t.Errorf("types []: %q, want nothing", r.names())
	}
	resp, err := c.RawPost(searchQuery, client.Var("q", "go"), client.Var("types", []string{"ARTICLE"}))
	if err == nil {
		codes, _ := errorCodes(t, resp)
		if len(codes) != 1 || codes[0] != "BAD_USER_INPUT" {
			t.Errorf("types [ARTICLE]: codes %q", codes)
		}
	} else if !strings.Contains(err.Error(), "BAD_USER_INPUT") {
		t.Errorf("types [ARTICLE]: %v", err)
	}
}

func TestSearchQuery_PagesGiveEveryHitOnce(t *testing.T) {
	c, _ := searchServer(t, nil)
	all := search(t, c, "backend", client.Var("first", 100))
	if all.Search.TotalCount < 6 || len(all.Search.Nodes) != all.Search.TotalCount {
		t.Fatalf("%d hits, totalCount %d", len(all.Search.Nodes), all.Search.TotalCount)
	}
	var got []string
	var after any
	for page := 0; ; page++ {
		r := search(t, c, "backend", client.Var("first", 4), client.Var("after", after))
		if r.Search.TotalCount != all.Search.TotalCount || r.Search.PageInfo.HasPreviousPage != (page > 0) {
			t.Errorf("page %d: totalCount %d, hasPreviousPage %v", page, r.Search.TotalCount, r.Search.PageInfo.HasPreviousPage)
		}
		for _, n := range r.Search.Nodes {
			got = append(got, n.Node.ID)
		}
		if !r.Search.PageInfo.HasNextPage {
			break
		}
		after = *r.Search.PageInfo.EndCursor
		if page > all.Search.TotalCount {
			t.Fatal("pages never end")
		}
	}
	if len(got) != len(all.Search.Nodes) {
		t.Fatalf("pages gave %d hits, one page %d", len(got), len(all.Search.Nodes))
	}
	for i, n := range all.Search.Nodes {
		if got[i] != n.Node.ID {
			t.Errorf("hit %d: %s paged, %s on one page", i, got[i], n.Node.ID)
		}
	}
}

// errorCodes returns the extensions.code and extensions.field of every
// error in resp.
func errorCodes(t *testing.T, resp *client.Response) (codes, fields []string) {
	t.Helper()
	if resp.Errors == nil {
		return nil, nil
	}
	var errs []struct {
		Message    string
		Extensions struct{ Code, Field string }
	}
	if err := json.Unmarshal(resp.Errors, &errs); err != nil {
		t.Fatalf("errors %s: %v", resp.Errors, err)
	}
	for _, e := range errs {
		codes = append(codes, e.Extensions.Code)
		fields = append(fields, e.Extensions.Field)
		if strings.Contains(strings.ToLower(e.Message), "sql") || strings.Contains(e.Message, "fts5") {
			t.Errorf("error message leaks internals: %q", e.Message)
		}
	}
	return codes, fields
}

func TestSearchQuery_HostileInputsAnswerCleanly(t *testing.T) {
	c, _ := searchServer(t, nil)
	const ok, bad = true, false
	for _, tc := range []struct {
		name  string
		query string
		ok    bool // results (maybe none); otherwise BAD_USER_INPUT on query
	}{
		{"lone quote", `"`, bad},
		{"unbalanced quote", `"garbage collection`, ok},
		{"quoted phrase", `"garbage collection"`, ok},
		{"doubled quotes", `""go""`, ok},
		{"single quotes", `'go'`, ok},
		{"open paren", `(`, bad},
		{"unbalanced parens", `((go) OR (rust`, ok},
		{"AND alone", `AND`, ok},
		{"operators only", `AND OR NOT`, ok},
		{"trailing operator", `go AND`, ok},
		{"leading NOT", `NOT go`, ok},
		{"NEAR group", `NEAR(go rust, 2)`, ok},
		{"NEAR slash", `go NEAR/2 collection`, ok},
		{"star alone", `*`, bad},
		{"star prefix", `garb*`, ok},
		{"leading star", `*go`, ok},
		{"minus", `-go`, ok},
		{"minus between", `go -google`, ok},
		{"caret", `^go`, ok},
		{"plus", `go + rust`, ok},
		{"colon alone", `:`, bad},
		{"column filter", `name:go`, ok},
		{"column set filter", `{name body}: go`, ok},
		{"hidden column", `rank:1`, ok},
		{"table column", `search:go`, ok},
		{"open brace", `{`, bad},
		{"NUL byte", "\x00", bad},
		{"NUL inside", "go\x00lang", ok},
		{"only punctuation", `!@#$%^&*()_+-=[]{};':",./<>?\|~` + "`", bad},
		{"empty", ``, bad},
		{"spaces", "   \t\n", bad},
		{"10k characters", strings.Repeat("go ", 3334), bad},
		{"201 characters", strings.Repeat("x", 201), bad},
		{"200 characters", strings.Repeat("x", 200), ok},
		{"17 words", strings.Repeat("go ", 17), bad},
		{"16 words", strings.Repeat("go ", 16), ok},
		{"emoji only", `🚀🔥👍🏽`, bad},
		{"emoji and word", `go 🚀`, ok},
		{"flag emoji", "\U0001F1E9\U0001F1EA", bad},
		{"SQL injection", `'; DROP TABLE trends; --`, ok},
		{"SQL tautology", `" OR 1=1 --`, ok},
		{"SQL union", `go' UNION SELECT * FROM sqlite_schema --`, ok},
		{"backslashes", `\" \\ \`, bad},
		{"LIKE wildcards", `%_%`, bad},
		{"HTML", `<script>alert(1)</script>`, ok},
		{"RTL override", "\u202egolang", ok},
		{"zero-width", "go\u200b\u200dlang", ok},
		{"combining marks only", "\u0301\u0301", bad},
		{"replacement char", "\uFFFD", bad},
		{"CJK", `東京`, ok},
		{"newlines", "garbage\ncollection", ok},
		{"FTS5 command", `integrity-check`, ok},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := c.RawPost(searchQuery, client.Var("q", tc.query))
			if err != nil {
				t.Fatalf("HTTP error: %v", err)
			}
			codes, fields := errorCodes(t, resp)
			switch {
			case tc.ok && len(codes) != 0:
				t.Errorf("errors %s, want results", resp.Errors)
			case tc.ok && resp.Data == nil:
				t.Error("no data")
			case !tc.ok && (len(codes) != 1 || codes[0] != "BAD_USER_INPUT" || fields[0] != "query"):
				t.Errorf("errors %s, want one BAD_USER_INPUT on query", resp.Errors)
			}
		})
	}
}

func TestSearchQuery_DraftsNeedAToken(t *testing.T) {
	anon, d := searchServer(t, nil)
	ctx := context.Background()
	draft := &db.Content{Format: db.ContentFormat, Trends: []db.TrendDoc{{
		Slug: "stealth-mode", Rank: 11, Name: "Stealth Mode", Category: db.CategoryTooling,
		Summary: "Unannounced.", Body: "Hush.", Status: db.StatusDraft,
	}}}
	if _, err := d.Import(ctx, draft, false); err != nil {
		t.Fatal(err)
	}
	if r := search(t, anon, "stealth"); len(r.Search.Nodes) != 0 || r.Search.TotalCount != 0 {
		t.Errorf("anonymous search finds the draft: %q (totalCount %d)", r.names(), r.Search.TotalCount)
	}
	// The same database, through a handler where every request carries a
	// viewer token.
	h := graph.NewHandler(graph.Options{DB: d})
	tok := client.New(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r.WithContext(db.WithPrincipal(r.Context(), &db.Principal{Name: "test", Role: db.RoleViewer})))
	}), client.Path("/graphql"))
	if r := search(t, tok, "stealth"); len(r.Search.Nodes) != 1 || r.Search.TotalCount != 1 || r.names()[0] != "Trend Stealth Mode" {
		t.Errorf("viewer search finds %q (totalCount %d), want the draft", r.names(), r.Search.TotalCount)
	}
}

func TestSearchQuery_CostsAConstantNumberOfStatements(t *testing.T) {
	c, d := searchServer(t, nil)
	const q = `query($q: String!, $first: Int) {
  search(query: $q, first: $first) {
    totalCount
    nodes {
      snippet
      node {
        id
        ... on Trend { name companies { name } frameworks { name } }
        ... on Framework { name companies { name } }
        ... on Company { name }
        ... on FAQ { question trends { name } }
      }
    }
  }
}`
	// The search, one statement per content type for the nodes, one per
	// relation, totalCount: whatever the number of hits.
	// Counted with the row cache warm: a first run reads the rows.
	const most = 1 + 4 + 4 + 1
	for _, first := range []int{1, 5, 100} {
		var r struct {
			Search struct {
				TotalCount int
				Nodes      []any
			}
		}
		if err := c.Post(q, &r, client.Var("q", "go"), client.Var("first", first)); err != nil {
			t.Fatal(err)
		}
		before := d.QueryCount()
		if err := c.Post(q, &r, client.Var("q", "go"), client.Var("first", first)); err != nil {
			t.Fatal(err)
		}
		t.Logf("first %d: %d hits, %d statements", first, len(r.Search.Nodes), d.QueryCount()-before)
		if n := d.QueryCount() - before; n > most {
			t.Errorf("first: %d (%d hits) cost %d statements, want at most %d", first, len(r.Search.Nodes), n, most)
		}
	}
}

// Through the API as scripts and frontends use it: what a mutation writes
// is found (or gone) by the very next search, drafts only with a token.
func TestSearchQuery_FollowsMutationsAndTokens(t *testing.T) {
	e := newEnv(t)
	editor := token(t, e, db.RoleEditor)
	viewer := token(t, e, db.RoleViewer)
	find := func(q string, tok string, extra ...string) string {
		t.Helper()
		headers := extra
		if tok != "" {
			headers = append(headers, "Authorization", "Bearer "+tok)
		}
		r := e.post(t, `query($q: String!) { search(query: $q) { totalCount nodes { node { id } } } }`, map[string]any{"q": q}, headers...)
		if len(r.Errors) > 0 {
			t.Fatalf("search %q: %s", q, r.Body)
		}
		return r.Body
	}
	mutate := func(q string, vars map[string]any) map[string]any {
		t.Helper()
		r := e.post(t, q, vars, "Authorization", "Bearer "+editor)
		if len(r.Errors) > 0 {
			t.Fatalf("%s: %s", q, r.Body)
		}
		var out map[string]any
		json.Unmarshal(r.Data, &out)
		return out
	}
	out := mutate(`mutation { createFramework(input: { name: "Quarkiverse Phoenix", kind: FRAMEWORK, summary: "Supersonic subatomic" }) { id } }`, nil)
	id := out["createFramework"].(map[string]any)["id"].(string)
	if strings.Contains(find("quarkiverse", ""), id) {
		t.Error("anonymous search finds a draft")
	}
	if !strings.Contains(find("quarkiverse", viewer), id) {
		t.Error("viewer search misses a draft")
	}
	mutate(`mutation($id: ID!) { publish(id: $id) { id } }`, map[string]any{"id": id})
	if !strings.Contains(find("quarkiv", ""), id) {
		t.Error("published item not found by prefix")
	}
	// The framework is published: a rename is its draft, found by a
	// preview only, until it is published.
	mutate(`mutation($id: ID!) { updateFramework(id: $id, input: { name: "Helidonia" }) { id } }`, map[string]any{"id": id})
	for _, tok := range []string{"", viewer} {
		if !strings.Contains(find("quarkiverse", tok), id) || strings.Contains(find("helidonia", tok), id) {
			t.Errorf("search without a preview (token %v) follows a draft's rename", tok != "")
		}
	}
	if strings.Contains(find("quarkiverse", viewer, graph.PreviewHeader, "true"), id) || !strings.Contains(find("helidonia", viewer, graph.PreviewHeader, "true"), id) {
		t.Error("a preview search does not follow a draft's rename")
	}
	mutate(`mutation($id: ID!) { publish(id: $id) { id } }`, map[string]any{"id": id})
	if strings.Contains(find("quarkiverse", ""), id) || !strings.Contains(find("helidonia", ""), id) {
		t.Error("search does not follow a published rename")
	}
	mutate(`mutation($id: ID!) { deleteFramework(id: $id) { id } }`, map[string]any{"id": id})
	if strings.Contains(find("helidonia", viewer), id) {
		t.Error("a deleted item is still found")
	}
}
