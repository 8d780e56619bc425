package db_test

import (
	"context"
	"database/sql"
	"reflect"
	"testing"
	"time"

	"github.com/trendql/trendql/db"
	"github.com/trendql/trendql/db/dbtest"
)

// publishedSet is streamSet with every item published: a bulk import of it
// copies the public search index from the index of every item instead of
// building it a second time.
func publishedSet() *db.Content {
	c := streamSet()
	for i := range c.Companies {
		c.Companies[i].Status = db.StatusPublished
	}
	for i := range c.Frameworks {
		c.Frameworks[i].Status = db.StatusPublished
	}
	for i := range c.Trends {
		c.Trends[i].Status = db.StatusPublished
	}
	for i := range c.FAQs {
		c.FAQs[i].Status = db.StatusPublished
	}
	return c
}

// A bulk import of published items only leaves a public search index that
// FTS5 finds consistent with its content and that gives the same results,
// scores and snippets as the per-record path's, before and after later
// writes on the same connection re-index items through the triggers (FTS5
// caches an index's structure per connection: a copy it did not notice
// would make those writes start from the old one).
func TestImport_BulkCopyOfPublicIndexEqualsPerRecordPath(t *testing.T) {
	ctx := context.Background()
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	open := func() *db.DB {
		d, _, err := db.Open(ctx, dbtest.NewDSN(t), db.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { d.Close() })
		d.Now = func() time.Time { return at }
		return d
	}
	bulk, general := open(), open()
	big := publishedSet()
	// Later, small imports (the per-record path, the triggers) on the same
	// handles: renames, a company and a trend taken back to draft, a new
	// framework linking renamed companies.
	later := &db.Content{Format: db.ContentFormat}
	for i, c := range big.Companies[:40] {
		switch i % 4 {
		case 0:
			c.Name += " renamed"
		case 1:
			c.Status = db.StatusDraft
		}
		later.Companies = append(later.Companies, c)
	}
	tr := big.Trends[3]
	tr.Status, tr.Summary = db.StatusDraft, tr.Summary+" Drafted later."
	later.Trends = []db.TrendDoc{tr}
	later.Frameworks = []db.FrameworkDoc{{Slug: "after-copy", Name: "After Copy", Kind: db.KindFramework,
		Summary: "Indexed after the copy.", Companies: []string{big.Companies[0].Slug, big.Companies[1].Slug}, Status: db.StatusPublished}}
	// First a small import, so that each handle's writer has used both
	// indexes before the bulk import; last, a company published again.
	warm := &db.Content{Format: db.ContentFormat, Companies: big.Companies[:5]}
	again := &db.Content{Format: db.ContentFormat, Companies: big.Companies[1:2]}
	steps := []*db.Content{warm, big, later, again}

	for i, c := range steps {
		if _, err := bulk.Import(ctx, c, false); err != nil {
			t.Fatalf("bulk import %d: %v", i, err)
		}
		restore := db.SetBulkImportRecords(1 << 30)
		_, err := general.Import(ctx, c, false)
		restore()
		if err != nil {
			t.Fatalf("per-record import %d: %v", i, err)
		}
		at = at.Add(time.Hour)
		for _, d := range []*db.DB{bulk, general} {
			checkSearchIndexes(t, d)
		}
		compareSearches(t, bulk, general, "framework", "company renamed", "renamed", "routing orm", "django",
			"after copy", "drafted later", "python", "which", "one two")
	}
}

// checkSearchIndexes runs FTS5's integrity check of both search indexes
// against their content.
func checkSearchIndexes(t *testing.T, d *db.DB) {
	t.Helper()
	if dbtest.Engine() != dbtest.SQLite {
		// PostgreSQL's search has no FTS5 index to check; the searches
		// this test compares still run there.
		return
	}
	raw, err := sql.Open("sqlite", "file:"+d.Path()+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	for _, idx := range []string{"search", "search_public"} {
		if _, err := raw.Exec("INSERT INTO " + idx + " (" + idx + ", rank) VALUES ('integrity-check', 1)"); err != nil {
			t.Fatalf("%s: FTS5 integrity check of %s: %v", d.Path(), idx, err)
		}
	}
}

// compareSearches fails unless got and want answer each query alike, for
// anonymous callers and token holders: the same hits, scores and snippets.
func compareSearches(t *testing.T, got, want *db.DB, queries ...string) {
	t.Helper()
	ctx := context.Background()
	editor := db.WithPrincipal(ctx, &db.Principal{TokenID: 1, Name: "ed", Role: db.RoleEditor})
	first := 100
	for _, q := range queries {
		for _, who := range []context.Context{ctx, editor} {
			w, errW := want.Search(who, q, nil, db.PageArgs{First: &first})
			g, errG := got.Search(who, q, nil, db.PageArgs{First: &first})
			if errW != nil || errG != nil {
				t.Fatalf("search %q: %v, %v", q, errW, errG)
			}
			if a, b := hits(g.Items), hits(w.Items); !reflect.DeepEqual(a, b) {
				t.Fatalf("search %q (editor: %v) differs:\ngot:  %v\nwant: %v", q, who != ctx, a, b)
			}
		}
	}
}
