package graph_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/client"
	"github.com/trendql/trendql/db"
	"github.com/trendql/trendql/db/dbtest"
)

// dumpDB is every row of every table of the database file, read through a
// connection of its own: content, links, events (revisions and the audit
// log), tokens, webhooks and their deliveries, the search index, the
// AUTOINCREMENT counters (on SQLite; PostgreSQL's sequences are left out,
// since nextval is not transactional there: a rolled-back insert uses up a
// value without changing anything). Two equal dumps mean nothing at all
// changed.
func dumpDB(t testing.TB, e *env) string {
	t.Helper()
	c := dbtest.RawSQL(t, e.DB.Path())
	q := "SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name"
	if dbtest.Engine() == dbtest.Postgres {
		q = `SELECT table_name::text FROM information_schema.tables
			WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY 1`
	}
	rows, err := c.Query(q)
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var n string
		rows.Scan(&n)
		tables = append(tables, n)
	}
	rows.Close()
	var b strings.Builder
	for _, tb := range tables {
		rows, err := c.Query(`SELECT * FROM "` + tb + `"`)
		if err != nil {
			t.Fatalf("dump %s: %v", tb, err)
		}
		cols, _ := rows.Columns()
		var lines []string
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			for i, v := range vals {
				if bs, ok := v.([]byte); ok {
					vals[i] = string(bs)
				}
			}
			lines = append(lines, fmt.Sprint(vals...))
		}
		rows.Close()
		sort.Strings(lines)
		fmt.Fprintf(&b, "== %s (%d)\n%s\n", tb, len(lines), strings.Join(lines, "\n"))
	}
	return b.String()
}

// TestAtomic_KthOfNFailsChangesNothing runs requests of n mutations whose
// k-th fails, for every way a mutation can fail and every kind of write
// before it, and proves the database is byte for byte what it was: no
// item, link, revision, token, webhook, delivery or search row, and the
// response names the failing field and claims nothing else.
func TestAtomic_KthOfNFailsChangesNothing(t *testing.T) {
	e := newEnv(t)
	tk := newTokens(t, e)
	f := newFixture(t, e)
	var hook struct {
		CreateWebhook struct{ Webhook struct{ ID string } }
	}
	e.mutate(t, tk.admin, `mutation { createWebhook(input: {url: "http://127.0.0.1:1/hook", includeDrafts: true}) { webhook { id } } }`, nil, &hook)
	missing := db.EncodeID(db.TypeCompany, 999999)
	cases := []struct {
		name  string
		tok   string
		query string
		path  string // the failing field
		code  string
	}{
		{"validation: the 2nd of 2 creates has a blank name", tk.editor,
			`mutation { a: createCompany(input: {name: "Atomic A"}) { id } b: createCompany(input: {name: ""}) { id } }`,
			"b", "BAD_USER_INPUT"},
		{"conflict: the 3rd of 3 has a stale ifVersion", tk.editor,
			`mutation($co: ID!, $tr: ID!) { a: updateCompany(id: $co, input: {name: "Renamed"}) { id } b: publish(id: $co) { id }
			 c: updateTrend(id: $tr, input: {name: "Stale"}, ifVersion: 99) { id } }`,
			"c", "CONFLICT"},
		{"not found: the 2nd of 3 deletes an item that does not exist", tk.editor,
			`mutation($co: ID!, $missing: ID!) { a: deleteCompany(id: $co) { deletedId } b: deleteCompany(id: $missing) { deletedId }
			 c: createCompany(input: {name: "Never"}) { id } }`,
			"b", "NOT_FOUND"},
		{"forbidden: an editor's 2nd mutation is an admin's", tk.editor,
			`mutation { a: createCompany(input: {name: "Atomic B"}) { id } b: createToken(name: "sneaky", role: ADMIN) { secret } }`,
			"b", "FORBIDDEN"},
		{"token admin: create and revoke, then a bad id", tk.admin,
			`mutation($victim: ID!) { a: createToken(name: "new", role: VIEWER) { secret } b: revokeToken(id: $victim) { revokedAt }
			 c: updateCompany(id: "nope", input: {name: "x"}) { id } }`,
			"c", "BAD_USER_INPUT"},
		{"webhook admin: create, update, delete a webhook, then bad input", tk.admin,
			`mutation($hook: ID!) { a: createWebhook(input: {url: "https://hooks.example.com/a"}) { secret }
			 b: updateWebhook(id: $hook, input: {active: false}) { id } c: deleteWebhook(id: $hook)
			 d: createFramework(input: {name: "Bad", kind: FRAMEWORK, firstReleased: -5}) { id } }`,
			"d", "BAD_USER_INPUT"},
		{"links and a delete cascade (UNLINK events on others), then a missing item", tk.editor,
			`mutation($fwB: ID!, $coB: ID!, $coA: ID!, $missing: ID!) { a: linkFrameworkCompany(frameworkId: $fwB, companyId: $coB) { id }
			 b: deleteCompany(id: $coA) { deletedId } c: unlinkFrameworkCompany(frameworkId: $fwB, companyId: $coB) { id }
			 d: publish(id: $missing) { id } }`,
			"d", "NOT_FOUND"},
		{"restore a revision, then a stale ifVersion", tk.editor,
			`mutation($rev: ID!, $co: ID!) { a: restoreRevision(revisionId: $rev) { id } b: deleteCompany(id: $co, ifVersion: 99) { deletedId } }`,
			"b", "CONFLICT"},
		{"a rank left held twice at the end fails the field that took it", tk.editor,
			`mutation($tr: ID!) { a: updateCompany(id: "` + f.coB + `", input: {name: "Fine"}) { id } b: updateTrend(id: $tr, input: {rank: 1}) { rank } }`,
			"b", "BAD_USER_INPUT"},
		{"a slug left held twice at the end fails the field that took it", tk.editor,
			`mutation($coB: ID!) { a: updateCompany(id: $coB, input: {slug: "google"}) { slug } b: createCompany(input: {name: "Fine too"}) { id } }`,
			"a", "BAD_USER_INPUT"},
	}
	vars := map[string]any{
		"co": f.coA, "coA": f.coA, "coB": f.coB, "fwB": f.fwB, "tr": f.trend, "missing": missing,
		"victim": f.victimToken, "hook": hook.CreateWebhook.Webhook.ID, "rev": f.coARev,
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := dumpDB(t, e)
			used := map[string]any{}
			for k, v := range vars {
				if strings.Contains(c.query, "$"+k+":") {
					used[k] = v
				}
			}
			res := e.post(t, c.query, used, bearer(c.tok)...)
			if string(res.Data) != "null" {
				t.Errorf("data = %s, want null: no field may claim a write that was rolled back", res.Data)
			}
			if len(res.Errors) != 1 {
				t.Fatalf("want one error, got %s", res.Body)
			}
			if got := fmt.Sprint(res.Errors[0].Path); got != "["+c.path+"]" {
				t.Errorf("error path = %s, want [%s]: %s", got, c.path, res.Body)
			}
			if res.code() != c.code {
				t.Errorf("code = %s, want %s: %s", res.code(), c.code, res.Body)
			}
			if after := dumpDB(t, e); after != before {
				t.Errorf("the failed request changed the database:\n%s", diff(before, after))
			}
		})
	}
}

// TestAtomic_SwapsInOneRequest swaps two trends' ranks, two companies'
// slugs and two FAQs' positions, each in one request: impossible one
// mutation at a time without a temporary value readers could see. The
// items are published, so the edits are drafts until the same request
// publishes them: the swap reaches the live tables in one commit too.
func TestAtomic_SwapsInOneRequest(t *testing.T) {
	e := newEnv(t)
	tk := newTokens(t, e)
	var before struct {
		Trends struct{ Nodes []struct{ ID, Slug string } }
		FAQs   struct{ Nodes []struct{ ID string } } `json:"faqs"`
		G      struct{ ID string }
		M      struct{ ID string }
	}
	e.mustQuery(t, `{ trends(first: 2) { nodes { id slug } } faqs(first: 2) { nodes { id } }
		g: company(slug: "google") { id } m: company(slug: "microsoft") { id } }`, &before)
	t1, t2 := before.Trends.Nodes[0], before.Trends.Nodes[1]
	var out struct {
		A, B struct{ Rank int }
		C, D struct{ Slug string }
		E, F struct{ Position int }
	}
	e.mutate(t, tk.editor, `mutation($t1: ID!, $t2: ID!, $g: ID!, $m: ID!, $q1: ID!, $q2: ID!) {
		a: updateTrend(id: $t1, input: {rank: 2}) { rank }
		b: updateTrend(id: $t2, input: {rank: 1}) { rank }
		c: updateCompany(id: $g, input: {slug: "microsoft"}) { slug }
		d: updateCompany(id: $m, input: {slug: "google"}) { slug }
		e: updateFAQ(id: $q1, input: {position: 2}) { position }
		f: updateFAQ(id: $q2, input: {position: 1}) { position }
		p1: publish(id: $t1) { id } p2: publish(id: $t2) { id }
		p3: publish(id: $g) { id } p4: publish(id: $m) { id }
		p5: publish(id: $q1) { id } p6: publish(id: $q2) { id }
	}`, map[string]any{"t1": t1.ID, "t2": t2.ID, "g": before.G.ID, "m": before.M.ID,
		"q1": before.FAQs.Nodes[0].ID, "q2": before.FAQs.Nodes[1].ID}, &out)
	if out.A.Rank != 2 || out.B.Rank != 1 || out.C.Slug != "microsoft" || out.D.Slug != "google" || out.E.Position != 2 || out.F.Position != 1 {
		t.Fatalf("the fields answered %+v", out)
	}
	var after struct {
		Trends struct{ Nodes []struct{ Slug string } }
		G      struct{ ID string }
	}
	e.mustQuery(t, `{ trends(first: 2) { nodes { slug } } g: company(slug: "google") { id } }`, &after)
	if after.Trends.Nodes[0].Slug != t2.Slug || after.Trends.Nodes[1].Slug != t1.Slug {
		t.Errorf("after the swap the first trends are %+v, want %s then %s", after.Trends.Nodes, t2.Slug, t1.Slug)
	}
	if after.G.ID != before.M.ID {
		t.Errorf("slug google now names %s, want the former microsoft %s", after.G.ID, before.M.ID)
	}
	// Readers never saw a parked value, and the revisions hold real ones.
	evs, err := e.DB.Events(context.Background(), db.EventFilter{}, db.PageArgs{})
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range evs.Items[:12] {
		if strings.Contains(string(ev.Document), "parked") || strings.Contains(string(ev.Document), `"rank":-`) {
			t.Errorf("revision %d holds a parked value: %s", ev.ID, ev.Document)
		}
	}
}

// TestAtomic_OneTransactionID: the events of one request share one
// transaction id (the first one's revision id), shown on revisions, on the
// changes feed and to subscribers; the next request gets another.
func TestAtomic_OneTransactionID(t *testing.T) {
	e := newEnv(t)
	tk := newTokens(t, e)
	var cur struct{ ChangesCursor string }
	e.mustQuery(t, `{ changesCursor }`, &cur, as(tk.viewer))
	e.mutate(t, tk.editor, `mutation { a: createCompany(input: {name: "Tx One"}) { id } b: createCompany(input: {name: "Tx Two"}) { id }
		c: createFramework(input: {name: "Tx FW", kind: FRAMEWORK}) { id } }`, nil, nil)
	e.mutate(t, tk.editor, `mutation { createCompany(input: {name: "Tx Three"}) { id } }`, nil, nil)
	var feed struct {
		Changes struct {
			Changes []struct {
				TransactionID string
				Revision      struct{ ID, TransactionID, Slug string }
			}
		}
	}
	e.mustQuery(t, `query($s: String) { changes(since: $s) { changes { transactionId revision { id transactionId slug } } } }`, &feed,
		as(tk.viewer), client.Var("s", cur.ChangesCursor))
	ch := feed.Changes.Changes
	if len(ch) != 4 {
		t.Fatalf("want 4 changes, got %+v", ch)
	}
	first := ch[0].Revision.ID
	for i, c := range ch[:3] {
		if c.TransactionID != first || c.Revision.TransactionID != first {
			t.Errorf("change %d (%s): transaction %s/%s, want %s", i, c.Revision.Slug, c.TransactionID, c.Revision.TransactionID, first)
		}
	}
	if ch[3].TransactionID != ch[3].Revision.ID {
		t.Errorf("the next request's transaction is %s, want its own first revision %s", ch[3].TransactionID, ch[3].Revision.ID)
	}
}

// When several fields fail, the one answer lists each of them, and still
// nothing is written.
func TestAtomic_EveryFailingFieldIsListed(t *testing.T) {
	e := newEnv(t)
	tk := newTokens(t, e)
	before := dumpDB(t, e)
	res := e.post(t, `mutation { a: createCompany(input: {name: ""}) { id } b: createCompany(input: {name: "Fine"}) { id }
		c: createCompany(input: {name: "Bad", slug: "Not A Slug"}) { id } }`, nil, bearer(tk.editor)...)
	var paths []string
	for _, er := range res.Errors {
		paths = append(paths, fmt.Sprint(er.Path))
	}
	if string(res.Data) != "null" || strings.Join(paths, " ") != "[a] [c]" {
		t.Errorf("data %s, error paths %v; want null and [a] [c]: %s", res.Data, paths, res.Body)
	}
	if after := dumpDB(t, e); after != before {
		t.Errorf("the failed request changed the database:\n%s", diff(before, after))
	}
}

// An item edited between the two halves of a slug swap keeps its links,
// and its revision names the linked items by their real slugs (never the
// placeholder a swap parks a slug on).
func TestAtomic_EditingALinkedItemMidSwap(t *testing.T) {
	e := newEnv(t)
	tk := newTokens(t, e)
	f := newFixture(t, e)
	e.mutate(t, tk.editor, `mutation($fw: ID!, $co: ID!) { linkFrameworkCompany(frameworkId: $fw, companyId: $co) { id } }`,
		map[string]any{"fw": f.fwB, "co": f.coB}, nil)
	var slugs struct {
		A, B struct{ Slug string }
	}
	e.mustQuery(t, `query($a: ID!, $b: ID!) { a: company(id: $a) { slug } b: company(id: $b) { slug } }`, &slugs,
		as(tk.viewer), client.Var("a", f.coA), client.Var("b", f.coB))
	var out struct {
		Mid struct {
			Companies []struct{ ID string }
		}
	}
	e.mutate(t, tk.editor, `mutation($a: ID!, $b: ID!, $fw: ID!, $sa: String!, $sb: String!) {
		first: updateCompany(id: $a, input: {slug: $sb}) { slug }
		mid: updateFramework(id: $fw, input: {summary: "Edited mid-swap"}) { companies { id } }
		second: updateCompany(id: $b, input: {slug: $sa}) { slug }
	}`, map[string]any{"a": f.coA, "b": f.coB, "fw": f.fwB, "sa": slugs.A.Slug, "sb": slugs.B.Slug}, &out)
	if len(out.Mid.Companies) != 1 || out.Mid.Companies[0].ID != f.coB {
		t.Errorf("the framework edited mid-swap lists %+v, want only %s", out.Mid.Companies, f.coB)
	}
	fw := mustRowID(t, f.fwB)
	revs, err := e.DB.Revisions(context.Background(), db.TypeFramework, fw, db.PageArgs{})
	if err != nil {
		t.Fatal(err)
	}
	var doc struct{ Companies []string }
	json.Unmarshal(revs.Items[0].Document, &doc)
	if len(doc.Companies) != 1 || doc.Companies[0] != slugs.B.Slug {
		t.Errorf("the mid-swap revision lists companies %q, want [%s] (the slug it had then)", doc.Companies, slugs.B.Slug)
	}
	var after struct {
		Framework struct{ Companies []struct{ ID, Slug string } }
	}
	e.mustQuery(t, `query($fw: ID!) { framework(id: $fw) { companies { id slug } } }`, &after, as(tk.viewer), client.Var("fw", f.fwB))
	if len(after.Framework.Companies) != 1 || after.Framework.Companies[0].ID != f.coB || after.Framework.Companies[0].Slug != slugs.A.Slug {
		t.Errorf("after the swap the framework lists %+v, want %s with slug %s", after.Framework.Companies, f.coB, slugs.A.Slug)
	}
}
