package db

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/trendql/trendql/db/dbtest"
)

func openSeeded(t *testing.T, path string) *DB {
	t.Helper()
	ctx := context.Background()
	d, created, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	if created {
		if err := d.Seed(ctx); err != nil {
			t.Fatal(err)
		}
	}
	return d
}

// write runs statements in one write transaction, as the other write
// paths (mutations) do: plain SQL on the content tables.
func write(t *testing.T, d *DB, stmts ...string) {
	t.Helper()
	tx, err := d.BeginTx(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	for _, s := range stmts {
		if _, err := tx.exec(s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
}

// checkIndex fails unless each search index holds exactly one row per
// item it covers (every item; the published ones) and agrees with the text
// its view gives, as FTS5's integrity check with external content verifies.
func checkIndex(t *testing.T, d *DB) {
	t.Helper()
	ctx := context.Background()
	for _, tc := range []struct{ idx, cond string }{
		{searchAllIndex, "1"},
		{searchPublicIndex, "status = 'PUBLISHED'"},
	} {
		var rows, items int
		// The docsize table has one row per indexed document; the index's
		// own rows are its view's.
		d.write.QueryRowContext(ctx, "SELECT count(*) FROM "+tc.idx+"_docsize").Scan(&rows)
		d.write.QueryRowContext(ctx, "SELECT (SELECT count(*) FROM trends WHERE "+tc.cond+") + (SELECT count(*) FROM frameworks WHERE "+tc.cond+
			") + (SELECT count(*) FROM companies WHERE "+tc.cond+") + (SELECT count(*) FROM faqs WHERE "+tc.cond+")").Scan(&items)
		if tc.idx == searchAllIndex {
			// Pending drafts of published items are indexed there too.
			var pending int
			d.write.QueryRowContext(ctx, "SELECT (SELECT count(*) FROM trend_drafts) + (SELECT count(*) FROM framework_drafts) + (SELECT count(*) FROM company_drafts) + (SELECT count(*) FROM faq_drafts)").Scan(&pending)
			items += pending
		}
		if rows != items {
			t.Errorf("index %s has %d rows for %d items and drafts", tc.idx, rows, items)
		}
		if _, err := d.write.ExecContext(ctx, "INSERT INTO "+tc.idx+" ("+tc.idx+", rank) VALUES ('integrity-check', 1)"); err != nil {
			t.Errorf("FTS5 integrity check of %s against its content: %v", tc.idx, err)
		}
	}
}

func searchCount(t *testing.T, d *DB, q string) int {
	t.Helper()
	n, err := d.CountSearch(WithPrincipal(context.Background(), &Principal{Role: RoleViewer}), q, nil)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestSearchIndex_FollowsPlainSQLWrites(t *testing.T) {
	dbtest.SkipUnlessSQLite(t, "FTS5 index internals (shadow tables, triggers, merge settings)")
	d := openSeeded(t, dbtest.NewDSN(t))
	checkIndex(t, d)
	now := "'2024-01-29T00:00:00.000Z'"
	write(t, d,
		"INSERT INTO companies (id, slug, name, created_at, updated_at) VALUES (900, 'globex', 'Globex', "+now+", "+now+")",
		"INSERT INTO frameworks (id, slug, name, kind, summary, features, created_at, updated_at) VALUES (900, 'hank', 'Hank', 'FRAMEWORK', 'Scorpio.', '[\"Doomsday devices\"]', "+now+", "+now+")",
		"INSERT INTO framework_companies (framework_id, company_id, position) VALUES (900, 900, 1)",
		"INSERT INTO trends (id, slug, rank, name, category, body, highlights, created_at, updated_at) VALUES (900, 'volcano', 900, 'Volcano Lairs', 'TOOLING', 'Lava.', 'not json', "+now+", "+now+")",
		"INSERT INTO faqs (id, slug, position, question, items, created_at, updated_at) VALUES (900, 'why', 900, 'Why magma?', '[\"Heat\",\"Drama\"]', "+now+", "+now+")",
	)
	checkIndex(t, d)
	for q, want := range map[string]int{"globex": 1, "doomsday": 1, "volcano": 1, "json": 1, "magma": 1, "drama": 1} {
		if n := searchCount(t, d, q); n != want {
			t.Errorf("after inserts, %q finds %d, want %d", q, n, want)
		}
	}
	// Drafts (the default status) are invisible to anonymous searches, and
	// a draft company's name is not indexed on the framework that lists it.
	if n, _ := d.CountSearch(context.Background(), "globex", nil); n != 0 {
		t.Errorf("anonymous search finds %d drafts", n)
	}
	write(t, d, "UPDATE companies SET status = 'PUBLISHED' WHERE id = 900")
	if n := searchCount(t, d, "globex"); n != 2 {
		t.Errorf("published company: globex finds %d, want the company and its framework", n)
	}
	checkIndex(t, d)

	write(t, d,
		"UPDATE trends SET name = 'Undersea Lairs', version = version + 1 WHERE id = 900",
		"UPDATE companies SET name = 'Cypress Creek' WHERE id = 900",
		"UPDATE faqs SET items = '[]' WHERE id = 900",
		"UPDATE trends SET rank = -id WHERE id = 900", // touches no indexed column
	)
	checkIndex(t, d)
	for q, want := range map[string]int{"volcano": 0, "undersea": 1, "globex": 0, "cypress": 2, "drama": 0} {
		if n := searchCount(t, d, q); n != want {
			t.Errorf("after updates, %q finds %d, want %d", q, n, want)
		}
	}

	write(t, d,
		"DELETE FROM framework_companies WHERE framework_id = 900",
		"DELETE FROM trends WHERE id = 900",
		"DELETE FROM faqs WHERE id = 900",
	)
	checkIndex(t, d)
	for q, want := range map[string]int{"undersea": 0, "magma": 0, "cypress": 1} {
		if n := searchCount(t, d, q); n != want {
			t.Errorf("after deletes, %q finds %d, want %d", q, n, want)
		}
	}
	// Deleting a company cascades to its links, and re-indexes the
	// frameworks that listed it.
	write(t, d, "INSERT INTO framework_companies (framework_id, company_id, position) VALUES (900, 900, 1)")
	if n := searchCount(t, d, "cypress"); n != 2 {
		t.Errorf("relinked: cypress finds %d, want 2", n)
	}
	write(t, d, "DELETE FROM companies WHERE id = 900", "DELETE FROM frameworks WHERE id = 900")
	checkIndex(t, d)
	if n := searchCount(t, d, "cypress"); n != 0 {
		t.Errorf("after deleting the company, cypress finds %d", n)
	}

	// A rolled-back write leaves the index as it was.
	tx, err := d.BeginTx(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.exec("UPDATE trends SET name = 'Rollback Rodeo' WHERE slug = 'go'"); err != nil {
		t.Fatal(err)
	}
	tx.Rollback()
	if n := searchCount(t, d, "rodeo"); n != 0 {
		t.Errorf("a rolled-back rename is searchable")
	}
	checkIndex(t, d)
}

func TestSearchIndex_CompactedAfterABulkImport(t *testing.T) {
	dbtest.SkipUnlessSQLite(t, "FTS5 index internals (shadow tables, triggers, merge settings)")
	d := openSeeded(t, dbtest.NewDSN(t))
	c := &Content{Format: ContentFormat}
	for i := range 300 {
		c.Companies = append(c.Companies, CompanyDoc{Slug: fmt.Sprintf("bulk-%d", i), Name: fmt.Sprintf("Bulk Widgets %d", i)})
	}
	if _, err := d.Import(context.Background(), c, false); err != nil {
		t.Fatal(err)
	}
	checkIndex(t, d)
	if n := searchCount(t, d, "widgets"); n != 300 {
		t.Errorf("widgets finds %d, want 300", n)
	}
	// 351 items now: a write that changed a quarter of them or more merges
	// both indexes (begin, count, optimize each); a smaller one does not.
	for changed, want := range map[int]int64{0: 1, 1: 2, 87: 2, 88: 4, 300: 4} {
		before := d.QueryCount()
		tx, err := d.BeginTx(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if err := tx.compactSearchAfter(changed); err != nil {
			t.Fatal(err)
		}
		tx.Rollback()
		if n := d.QueryCount() - before; n != want {
			t.Errorf("compactSearchAfter(%d) ran %d statements, want %d", changed, n, want)
		}
	}
}

func TestSearchIndex_BackfilledWhenAnOldDatabaseMigrates(t *testing.T) {
	dbtest.SkipUnlessSQLite(t, "FTS5 index internals (shadow tables, triggers, merge settings)")
	ctx := context.Background()
	d := openSeeded(t, dbtest.NewDSN(t))
	// Take the database back to before the search migration, as an older
	// trendql left it: content, no index.
	rows, err := d.write.Query("SELECT name FROM sqlite_schema WHERE type = 'trigger' AND name LIKE 'search%'")
	if err != nil {
		t.Fatal(err)
	}
	var drops []string
	for rows.Next() {
		var name string
		rows.Scan(&name)
		drops = append(drops, "DROP TRIGGER "+name)
	}
	rows.Close()
	if len(drops) < 12 {
		t.Fatalf("%d search triggers, want at least one per write to each content table", len(drops))
	}
	drops = append(drops, "DROP TABLE search", "DROP TABLE search_public", "DROP TABLE search_suspended",
		"DROP VIEW search_docs", "DROP VIEW search_public_docs",
		"DROP VIEW search_trend_docs", "DROP VIEW search_framework_docs", "DROP VIEW search_company_docs", "DROP VIEW search_faq_docs",
		"DROP INDEX trends_search_rid", "DROP INDEX frameworks_search_rid", "DROP INDEX companies_search_rid", "DROP INDEX faqs_search_rid")
	write(t, d, drops...)

	// Run the search migrations again, through the migrator (whatever their
	// numbers once merged): the first index, then its replacement by
	// external content indexes. Then put the schema version back.
	ms, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	for _, suffix := range []string{"_search.sql", "_search_external.sql"} {
		i := slices.IndexFunc(ms, func(m migration) bool { return strings.HasSuffix(m.name, suffix) })
		if i < 0 {
			t.Fatalf("no migration *%s", suffix)
		}
		if err := d.applyMigration(ctx, ms[i], false); err != nil {
			t.Fatalf("%s: %v", ms[i].name, err)
		}
	}
	if _, err := d.write.Exec(fmt.Sprintf("PRAGMA user_version = %d", SchemaVersion())); err != nil {
		t.Fatal(err)
	}
	checkIndex(t, d)
	if n := searchCount(t, d, "otwell"); n != 2 {
		t.Errorf("otwell finds %d after the migration, want 2", n)
	}
}

func TestParseSearchQuery(t *testing.T) {
	for _, tc := range []struct {
		in, fts string
	}{
		{"go", `("go" OR "go"*)`},
		{"Go ", `"go"`},
		{"garbage collection", `"garbage" AND ("collection" OR "collection"*)`},
		{`"unbalanced`, `("unbalanced" OR "unbalanced"*)`},
		{`a "b c" d"`, `"a" AND "b" AND "c" AND "d"`},
		{"NOT go OR rust AND NEAR", `"not" AND "go" AND "or" AND "rust" AND "and" AND ("near" OR "near"*)`},
		{"NEAR(a b, 2)", `"near" AND "a" AND "b" AND "2"`},
		{"name:go", `"name" AND ("go" OR "go"*)`},
		{"{name body}: go*", `"name" AND "body" AND "go"`},
		{"-go +rust ^start", `"go" AND "rust" AND ("start" OR "start"*)`},
		{"c++ node.js", `"c" AND "node" AND ("js" OR "js"*)`},
		{"'); DROP TABLE trends; --", `"drop" AND "table" AND "trends"`},
		{"x\x00y", `"x" AND "y"`},
		{"Café", `("café" OR "café"*)`},
		{"Cafe\u0301", `("café" OR "café"*)`}, // NFC
		{"ÉCOLE", `("école" OR "école"*)`},
		{"東京 タワー", `"東京" AND ("タワー" OR "タワー"*)`},
		{"go🚀rust", `"go" AND ("rust" OR "rust"*)`},
		{"\xff\xfego", `("go" OR "go"*)`}, // invalid UTF-8 separates
		{"x²", `("x²" OR "x²"*)`},
		{"go b", `"go" AND "b"`}, // one letter: no prefix
		{"é", `"é"`},
		{"東", `"東"`},
	} {
		sq, err := parseSearchQuery(tc.in)
		if err != nil {
			t.Errorf("parseSearchQuery(%q): %v", tc.in, err)
			continue
		}
		if got := sq.fts5(); got != tc.fts {
			t.Errorf("parseSearchQuery(%q).fts5() = %s, want %s", tc.in, got, tc.fts)
		}
	}
}

func TestRenderSnippet(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"a \x02b\x03 c", "a <mark>b</mark> c"},
		{"\x02x\x03\x02y\x03", "<mark>x</mark><mark>y</mark>"},
		{"<i>&'\"", "&lt;i&gt;&amp;&#39;&#34;"},
		{"line\n\n  - item\ttab", "line - item tab"},
		{"  lead and trail  ", "lead and trail"},
		{"bell\x07 \x1b[31m", "bell [31m"},
		// Stray markers (content holding the control characters) never
		// unbalance the tags.
		{"\x03a \x02b \x02c\x03 d\x03", "a <mark>b c</mark> d"},
		{"open \x02end", "open <mark>end</mark>"},
		{"…\x02go\x03…", "…<mark>go</mark>…"},
	} {
		if got := renderSnippet(tc.in); got != tc.want {
			t.Errorf("renderSnippet(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	if got := renderSnippet(strings.Repeat("\x02", 3)); got != "<mark></mark>" {
		t.Errorf("renderSnippet(three starts) = %q", got)
	}
}

// The public index follows publication: items enter and leave it with
// their status, a framework's keywords follow its published companies
// (renamed, reordered, unpublished, deleted), and both indexes agree with
// their text after every kind of write.
func TestSearchIndex_PublicIndexFollowsStatusAndLinks(t *testing.T) {
	dbtest.SkipUnlessSQLite(t, "FTS5 index internals (shadow tables, triggers, merge settings)")
	d := openSeeded(t, dbtest.NewDSN(t))
	anon := func(q string) int {
		t.Helper()
		n, err := d.CountSearch(context.Background(), q, nil)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	now := "'2024-01-29T00:00:00.000Z'"
	write(t, d,
		"INSERT INTO companies (id, slug, name, status, created_at, updated_at) VALUES (901, 'acme', 'Acme', 'PUBLISHED', "+now+", "+now+"), (902, 'bolt', 'Boltworks', 'PUBLISHED', "+now+", "+now+")",
		"INSERT INTO frameworks (id, slug, name, kind, summary, status, created_at, updated_at) VALUES (901, 'zeta', 'Zetaframe', 'FRAMEWORK', 'Fast.', 'PUBLISHED', "+now+", "+now+")",
		"INSERT INTO framework_companies (framework_id, company_id, position) VALUES (901, 901, 1), (901, 902, 2)",
	)
	checkIndex(t, d)
	steps := []struct {
		sql  []string
		want map[string]int // anonymous counts
	}{
		{nil, map[string]int{"acme": 2, "boltworks": 2, "zetaframe": 1}},
		{[]string{"UPDATE framework_companies SET position = 3 - position WHERE framework_id = 901"}, map[string]int{"acme": 2, "boltworks": 2}},
		{[]string{"UPDATE companies SET status = 'DRAFT' WHERE id = 901"}, map[string]int{"acme": 0, "boltworks": 2}},
		{[]string{"UPDATE companies SET name = 'Acme Two' WHERE id = 901"}, map[string]int{"acme": 0, "two": 0}},
		{[]string{"UPDATE companies SET status = 'PUBLISHED' WHERE id = 901"}, map[string]int{"acme": 2, "two": 2}},
		{[]string{"UPDATE frameworks SET status = 'DRAFT' WHERE id = 901"}, map[string]int{"acme": 1, "zetaframe": 0}},
		{[]string{"UPDATE frameworks SET summary = 'Quokkaspeed.', status = 'PUBLISHED' WHERE id = 901"}, map[string]int{"quokkaspeed": 1, "zetaframe": 1}},
		{[]string{"DELETE FROM companies WHERE id = 902"}, map[string]int{"boltworks": 0, "acme": 2}},
		{[]string{"DELETE FROM frameworks WHERE id = 901"}, map[string]int{"acme": 1, "zetaframe": 0}},
		{[]string{"UPDATE companies SET status = 'DRAFT' WHERE id = 901", "DELETE FROM companies WHERE id = 901"}, map[string]int{"acme": 0}},
	}
	for i, s := range steps {
		write(t, d, s.sql...)
		checkIndex(t, d)
		for q, want := range s.want {
			if n := anon(q); n != want {
				t.Errorf("step %d %v: anonymous %q finds %d, want %d", i, s.sql, q, n, want)
			}
		}
	}
}

// A bulk import rebuilds both indexes with merging set aside, then gives
// each the merge settings it had: an operator's own, or FTS5's defaults.
// The rebuilt index is one segment and agrees with its view.
func TestSearchIndex_RebuildKeepsMergeSettings(t *testing.T) {
	dbtest.SkipUnlessSQLite(t, "FTS5 index internals (shadow tables, triggers, merge settings)")
	ctx := context.Background()
	d := openSeeded(t, dbtest.NewDSN(t))
	write(t, d, "INSERT INTO search_public (search_public, rank) VALUES ('automerge', 7)")
	triggers := func() int {
		var n int
		if err := d.write.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_schema WHERE type = 'trigger' AND name GLOB 'search_*'").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := triggers()
	c := &Content{Format: ContentFormat}
	for i := range bulkImportRecords + 10 {
		c.Companies = append(c.Companies, CompanyDoc{Slug: fmt.Sprintf("bulk-%d", i), Name: fmt.Sprintf("Bulk Widgets %d", i)})
	}
	// A dry run and a failed import roll back the triggers' drop.
	if _, err := d.Import(ctx, c, true); err != nil {
		t.Fatal(err)
	}
	bad := *c
	bad.Frameworks = []FrameworkDoc{{Slug: "f", Name: "F", Kind: KindFramework, Summary: "s", Companies: []string{"no-such-company"}}}
	if _, err := d.Import(ctx, &bad, false); ErrorCode(err) != EINVALID {
		t.Fatalf("import of a bad file: %v", err)
	}
	if n := triggers(); n != before || n < 20 {
		t.Fatalf("%d search triggers after a dry run and a failed import, want %d", n, before)
	}
	if _, err := d.Import(ctx, c, false); err != nil {
		t.Fatal(err)
	}
	if n := triggers(); n != before {
		t.Fatalf("%d search triggers after a bulk import, want %d", n, before)
	}
	checkIndex(t, d)
	if n := searchCount(t, d, "widgets"); n != bulkImportRecords+10 {
		t.Errorf("widgets finds %d, want %d", n, bulkImportRecords+10)
	}
	for _, tc := range []struct {
		idx, key string
		want     int
	}{
		{"search", "automerge", 4}, {"search", "crisismerge", 16},
		{"search_public", "automerge", 7}, {"search_public", "crisismerge", 16},
	} {
		// A setting the index does not store is FTS5's default (16 for
		// crisismerge): the public index, copied rather than rebuilt when
		// every item is published, keeps the settings it had.
		var got int
		if err := d.write.QueryRowContext(ctx, "SELECT coalesce((SELECT v FROM "+tc.idx+"_config WHERE k = ?), 16)", tc.key).Scan(&got); err != nil {
			t.Fatalf("%s %s: %v", tc.idx, tc.key, err)
		}
		if got != tc.want {
			t.Errorf("%s %s = %d after the import, want %d", tc.idx, tc.key, got, tc.want)
		}
	}
	for _, idx := range []string{"search", "search_public"} {
		// One segment: every term of the index points into it.
		var segments int
		if err := d.write.QueryRowContext(ctx, "SELECT count(DISTINCT segid) FROM "+idx+"_idx").Scan(&segments); err != nil {
			t.Fatal(err)
		}
		if segments != 1 {
			t.Errorf("%s has %d segments after the rebuild, want 1", idx, segments)
		}
	}
	// The triggers the bulk import set aside are back: plain writes keep
	// the index up to date again.
	write(t, d, "UPDATE companies SET name = 'Quokka Holdings' WHERE slug = 'bulk-3'")
	if n := searchCount(t, d, "quokka"); n != 1 {
		t.Errorf("a company renamed after the bulk import: quokka finds %d, want 1", n)
	}
	checkIndex(t, d)
}
