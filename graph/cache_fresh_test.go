package graph_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/trendql/trendql/db"
)

// idOf returns the global id of a published item, looked up anonymously.
func idOf(t testing.TB, e *env, field, slug string) string {
	t.Helper()
	r := e.post(t, `query($s: String!) { x: `+field+`(slug: $s) { id } }`, map[string]any{"s": slug})
	var out struct{ X *struct{ ID string } }
	if err := json.Unmarshal(r.Data, &out); err != nil || out.X == nil {
		t.Fatalf("no %s %q: %s", field, slug, r.Body)
	}
	return out.X.ID
}

// mutate runs a mutation with a token; it must succeed.
func mutate(t testing.TB, e *env, tok, query string, vars map[string]any) {
	t.Helper()
	r := e.post(t, query, vars, "Authorization", "Bearer "+tok)
	if r.Status != http.StatusOK || len(r.Errors) > 0 {
		t.Fatalf("mutation failed: %s", r.Body)
	}
}

// TestResponseCache_FeedIsFreshAfterUnpublish is the repro of issue 11
// item 3: anonymous pollers of the changes feed were answered from the
// response cache after an unpublish, over GET and POST.
func TestResponseCache_FeedIsFreshAfterUnpublish(t *testing.T) {
	e := newEnv(t)
	editor := token(t, e, db.RoleEditor)
	uber := idOf(t, e, "company", "uber")
	cursorQ := `query Feed { changesCursor }`
	start := e.post(t, cursorQ, nil)
	var c struct{ ChangesCursor string }
	if err := json.Unmarshal(start.Data, &c); err != nil || c.ChangesCursor == "" {
		t.Fatal(start.Body)
	}
	feedQ := `query Feed($s: String) { changes(since: $s) { cursor changes { action itemId } } }`
	vars := map[string]any{"s": c.ChangesCursor}
	onlyCursor := `query Feed($s: String) { changes(since: $s) { cursor } }`
	reads := map[string]func() *gqlResponse{
		"changesCursor POST":   func() *gqlResponse { return e.post(t, cursorQ, nil) },
		"changesCursor GET":    func() *gqlResponse { return e.do(t, getReq(cursorQ, nil)) },
		"changes POST":         func() *gqlResponse { return e.post(t, feedQ, vars) },
		"changes GET":          func() *gqlResponse { return e.do(t, getReq(feedQ, vars)) },
		"changes{cursor} POST": func() *gqlResponse { return e.post(t, onlyCursor, vars) },
	}
	before := map[string]string{}
	for name, read := range reads {
		read()
		r := read() // the second is served from the cache
		if r.Status != http.StatusOK || len(r.Errors) > 0 {
			t.Fatalf("%s: %s", name, r.Body)
		}
		before[name] = r.Body
	}
	if e.metric(t, "trendql_response_cache_hits_total") < float64(len(reads)) {
		t.Fatal("the feed's responses were not cached: the test proves nothing")
	}
	mutate(t, e, editor, `mutation($id: ID!) { unpublish(id: $id) { id } }`, map[string]any{"id": uber})
	for name, read := range reads {
		r := read()
		if r.Body == before[name] {
			t.Errorf("%s is stale after an unpublish: %s", name, r.Body)
		}
		if strings.HasPrefix(name, "changes ") && !strings.Contains(r.Body, "UNPUBLISH") {
			t.Errorf("%s does not show the unpublish: %s", name, r.Body)
		}
	}
}

// TestResponseCache_EveryRootFieldIsFreshAfterAChange caches one anonymous
// query per root field that anonymous callers can read, makes a change it
// must reflect, and requires the next response to show it.
func TestResponseCache_EveryRootFieldIsFreshAfterAChange(t *testing.T) {
	type step struct {
		query  string
		vars   map[string]any
		change func(t *testing.T, e *env, editor string)
	}
	// The items are published: an edit is a draft anonymous readers do not
	// see until it is published, so each change publishes its edit in the
	// same request.
	rename := func(field, mutation, slug, input string) func(t *testing.T, e *env, editor string) {
		return func(t *testing.T, e *env, editor string) {
			mutate(t, e, editor, `mutation($id: ID!) { `+mutation+`(id: $id, input: `+input+`) { id } publish(id: $id) { id } }`,
				map[string]any{"id": idOf(t, e, field, slug)})
		}
	}
	renameUber := rename("company", "updateCompany", "uber", `{ name: "Uber Zanzibar" }`)
	publishNew := func(t *testing.T, e *env, editor string) {
		r := e.post(t, `mutation { createCompany(input: { name: "Zanzibar Systems" }) { id } }`, nil, "Authorization", "Bearer "+editor)
		var out struct{ CreateCompany struct{ ID string } }
		if err := json.Unmarshal(r.Data, &out); err != nil || out.CreateCompany.ID == "" {
			t.Fatal(r.Body)
		}
		mutate(t, e, editor, `mutation($id: ID!) { publish(id: $id) { id } }`, map[string]any{"id": out.CreateCompany.ID})
	}
	cases := map[string]step{
		"node":          {`query($id: ID!) { node(id: $id) { ... on Company { name } } }`, nil, renameUber},
		"nodes":         {`query($id: ID!) { nodes(ids: [$id]) { ... on Company { name } } }`, nil, renameUber},
		"trend":         {`{ trend(slug: "serverless-computing") { name summary } }`, nil, rename("trend", "updateTrend", "serverless-computing", `{ summary: "Zanzibar" }`)},
		"trend→company": {`{ trend(slug: "go") { companies { name } } }`, nil, renameUber},
		"trends":        {`{ trends(first: 3) { nodes { name summary } } }`, nil, rename("trend", "updateTrend", "serverless-computing", `{ summary: "Zanzibar" }`)},
		"trends filter": {`{ trends(filter: { company: { slug: "uber" } }) { totalCount } }`, nil, func(t *testing.T, e *env, editor string) {
			mutate(t, e, editor, `mutation($id: ID!) { unpublish(id: $id) { id } }`, map[string]any{"id": idOf(t, e, "company", "uber")})
		}},
		"framework":  {`{ framework(slug: "go") { name creator } }`, nil, rename("framework", "updateFramework", "go", `{ creator: "Zanzibar" }`)},
		"frameworks": {`{ frameworks(first: 100) { nodes { creator } } }`, nil, rename("framework", "updateFramework", "go", `{ creator: "Zanzibar" }`)},
		"company":    {`{ company(slug: "uber") { name } }`, nil, renameUber},
		"companies":  {`{ companies { totalCount } }`, nil, publishNew},
		"faq":        {`{ faqs(first: 1) { nodes { question } } }`, nil, nil},
		"search":     {`{ search(query: "zanzibar") { totalCount } }`, nil, publishNew},
		"article": {`{ article { title } }`, nil, func(t *testing.T, e *env, _ string) {
			ctx := context.Background()
			c, err := e.DB.Export(ctx)
			if err != nil {
				t.Fatal(err)
			}
			c.Article.Title = "Zanzibar trends"
			if _, err := e.DB.Import(ctx, c, false); err != nil {
				t.Fatal(err)
			}
		}},
		"changesCursor": {`{ changesCursor }`, nil, publishNew},
		"changes":       {`{ changes(first: 1000) { cursor changes { action } } }`, nil, publishNew},
	}
	cases["faq"] = step{`{ faqs(first: 1) { nodes { id question } } }`, nil, func(t *testing.T, e *env, editor string) {
		r := e.post(t, `{ faqs(first: 1) { nodes { id } } }`, nil)
		var out struct {
			Faqs struct{ Nodes []struct{ ID string } }
		}
		if err := json.Unmarshal(r.Data, &out); err != nil || len(out.Faqs.Nodes) == 0 {
			t.Fatal(r.Body)
		}
		mutate(t, e, editor, `mutation($id: ID!) { updateFAQ(id: $id, input: { question: "Zanzibar?" }) { id } publish(id: $id) { id } }`,
			map[string]any{"id": out.Faqs.Nodes[0].ID})
	}}
	cases["faq by slug"] = step{`{ faq(slug: "should-i-learn-backend-in-2024") { question } }`, nil, func(t *testing.T, e *env, editor string) {
		mutate(t, e, editor, `mutation($id: ID!) { updateFAQ(id: $id, input: { question: "Zanzibar?" }) { id } publish(id: $id) { id } }`,
			map[string]any{"id": idOf(t, e, "faq", "should-i-learn-backend-in-2024")})
	}}
	cases["viewer and changesCursor"] = step{`{ viewer { name } changesCursor }`, nil, publishNew}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t)
			editor := token(t, e, db.RoleEditor)
			vars := c.vars
			if strings.Contains(c.query, "$id") {
				vars = map[string]any{"id": idOf(t, e, "company", "uber")}
			}
			e.post(t, c.query, vars)
			hits := e.metric(t, "trendql_response_cache_hits_total")
			before := e.post(t, c.query, vars)
			if len(before.Errors) > 0 {
				t.Fatal(before.Body)
			}
			if e.metric(t, "trendql_response_cache_hits_total") != hits+1 {
				t.Fatal("the query was not served from the cache: the case proves nothing")
			}
			c.change(t, e, editor)
			after := e.post(t, c.query, vars)
			if after.Body == before.Body {
				t.Errorf("stale after the change: %s", after.Body)
			}
		})
	}
}

// TestResponseCache_DraftsLeaveAnonymousAnswersCached: saving a draft (an
// edit of a published item, a new item not published) changes nothing an
// anonymous caller can read, so it leaves their cached answers cached, for
// every kind of root field; each answer is still the one a request that
// misses the cache gets.
func TestResponseCache_DraftsLeaveAnonymousAnswersCached(t *testing.T) {
	queries := []string{
		`{ trends(first: 3) { nodes { name summary companies { name } } } }`,
		`{ trend(slug: "serverless-computing") { name summary } }`,
		`{ frameworks(first: 100) { nodes { creator } } }`,
		`{ company(slug: "uber") { name } }`,
		`{ companies { totalCount } }`,
		`{ faq(slug: "should-i-learn-backend-in-2024") { question } }`,
		`{ search(query: "zanzibar serverless") { totalCount nodes { score snippet } } }`,
		`{ search(query: "serverless") { totalCount nodes { score snippet } } }`,
		`{ changesCursor }`,
		`{ changes(first: 1000) { cursor changes { action } } }`,
	}
	drafts := map[string]string{
		"a trend's draft":     `mutation($t: ID!) { updateTrend(id: $t, input: { summary: "Zanzibar" }) { id } }`,
		"a framework's draft": `mutation($f: ID!) { updateFramework(id: $f, input: { creator: "Zanzibar" }) { id } }`,
		"a company's draft":   `mutation($c: ID!) { updateCompany(id: $c, input: { name: "Uber Zanzibar" }) { id } }`,
		"a FAQ's draft":       `mutation($q: ID!) { updateFAQ(id: $q, input: { question: "Zanzibar?" }) { id } }`,
		"a new company":       `mutation { createCompany(input: { name: "Zanzibar Systems" }) { id } }`,
	}
	for name, m := range drafts {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t)
			editor := token(t, e, db.RoleEditor)
			ids := map[string]any{
				"t": idOf(t, e, "trend", "serverless-computing"), "f": idOf(t, e, "framework", "go"),
				"c": idOf(t, e, "company", "uber"), "q": idOf(t, e, "faq", "should-i-learn-backend-in-2024"),
			}
			before := map[string]string{}
			for _, q := range queries {
				e.post(t, q, nil)
				before[q] = e.post(t, q, nil).Body
			}
			vars := map[string]any{}
			for k, v := range ids {
				if strings.Contains(m, "$"+k) {
					vars[k] = v
				}
			}
			mutate(t, e, editor, m, vars)
			hits := e.metric(t, "trendql_response_cache_hits_total")
			for i, q := range queries {
				if got := e.post(t, q, nil).Body; got != before[q] {
					t.Errorf("%s changed after a draft:\n%s\nwas\n%s", q, got, before[q])
				}
				// An unused variable makes another key: this one misses.
				if fresh := e.post(t, q, map[string]any{"miss": i}).Body; fresh != before[q] {
					t.Errorf("%s, uncached, after a draft:\n%s\nwant the cached\n%s", q, fresh, before[q])
				}
			}
			if got := e.metric(t, "trendql_response_cache_hits_total"); got != hits+float64(len(queries)) {
				t.Errorf("%v of %d anonymous answers were served from the cache after a draft, want all", got-hits, len(queries))
			}
		})
	}
}
