package db

import (
	"context"
	"fmt"
	"testing"

	"github.com/trendql/trendql/db/dbtest"
)

// publicIndexCopyable's reasoning (the public index holds the documents of
// the index of every item that are published, indexed the same way) was checked against the search schema of migration 0006. A
// migration that changes the indexes or their views turns the copy off
// (safe: the public index is then rebuilt from its own view) and fails
// this test, so that the change is checked against that reasoning.
func TestSearchCopyPremise(t *testing.T) {
	dbtest.SkipUnlessSQLite(t, "the FTS5 search schema that the bulk copy of the public index relies on")
	d, _, err := Open(context.Background(), dbtest.NewDSN(t), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	tx, err := d.BeginTx(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	sum, err := tx.searchSchemaSum()
	if err != nil {
		t.Fatal(err)
	}
	if sum != searchSchemaChecked {
		t.Fatalf("the search indexes or their views changed (definitions now %s): a bulk import copies the "+
			"public index from the index of every item only while searchSchemaChecked is their sum. Check that, "+
			"under the new definitions, search_public indexes exactly what search does when every item is "+
			"published (same text per item, same FTS5 options) and that the per-type views give each item's status; then set searchSchemaChecked to the new sum, "+
			"or change publicIndexCopyable", sum)
	}
	// Copied while drafts are at most a quarter of the items.
	for i, tc := range []struct {
		status string
		ok     bool
		drafts int
	}{
		{"", true, 0}, // no items
		{"PUBLISHED", true, 0}, {"PUBLISHED", true, 0}, {"PUBLISHED", true, 0},
		{"DRAFT", true, 1},
		{"DRAFT", false, 2},
	} {
		if tc.status != "" {
			if _, err := tx.exec(`INSERT INTO companies (slug, name, status, version, created_at, updated_at)
				VALUES (?, 'C', ?, 1, '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z')`, fmt.Sprint("c", i), tc.status); err != nil {
				t.Fatal(err)
			}
		}
		ok, drafts, err := tx.publicIndexCopyable()
		if err != nil || ok != tc.ok || drafts != tc.drafts {
			t.Fatalf("after item %d (%s): publicIndexCopyable = %v, %d drafts, %v; want %v, %d", i, tc.status, ok, drafts, err, tc.ok, tc.drafts)
		}
	}
}

// A bulk import with a few drafts makes the public index from a copy of
// the index of every item less the drafts: one segment, consistent with
// its view, holding the published items only.
func TestImport_BulkPublicIndexLessDrafts(t *testing.T) {
	dbtest.SkipUnlessSQLite(t, "FTS5 segments of the bulk-copied public index")
	ctx := context.Background()
	d, _, err := Open(ctx, dbtest.NewDSN(t), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	c := &Content{Format: ContentFormat}
	for i := range bulkImportRecords + 10 {
		x := CompanyDoc{Slug: fmt.Sprintf("c-%d", i), Name: fmt.Sprintf("Bulk Widgets %d", i)}
		if i%10 == 3 {
			x.Name, x.Status = fmt.Sprintf("Secret Gadgets %d", i), StatusDraft
		}
		if i%50 == 7 {
			// A published company with a pending draft: its draft's words
			// are in "search" (rowid + 2^40) and must not be copied.
			x.Draft = &CompanyDoc{Slug: x.Slug, Name: fmt.Sprintf("Pending Sprockets %d", i)}
		}
		c.Companies = append(c.Companies, x)
	}
	if _, err := d.Import(ctx, c, false); err != nil {
		t.Fatal(err)
	}
	checkIndex(t, d)
	var segments, public, all int
	if err := d.write.QueryRowContext(ctx, "SELECT count(DISTINCT segid) FROM search_public_idx").Scan(&segments); err != nil {
		t.Fatal(err)
	}
	if segments != 1 {
		t.Errorf("search_public has %d segments, want 1", segments)
	}
	d.write.QueryRowContext(ctx, "SELECT count(*) FROM search_public WHERE search_public MATCH 'gadgets'").Scan(&public)
	d.write.QueryRowContext(ctx, "SELECT count(*) FROM search WHERE search MATCH 'gadgets'").Scan(&all)
	if public != 0 || all != (bulkImportRecords+10)/10 {
		t.Errorf("gadgets (the drafts) in search_public: %d, in search: %d; want 0 and %d", public, all, (bulkImportRecords+10)/10)
	}
	pending := (bulkImportRecords + 10 + 42) / 50
	d.write.QueryRowContext(ctx, "SELECT count(*) FROM search_public WHERE search_public MATCH 'sprockets'").Scan(&public)
	d.write.QueryRowContext(ctx, "SELECT count(*) FROM search WHERE search MATCH 'sprockets'").Scan(&all)
	if public != 0 || all != pending {
		t.Errorf("sprockets (pending drafts) in search_public: %d, in search: %d; want 0 and %d", public, all, pending)
	}
	var widgets int
	d.write.QueryRowContext(ctx, "SELECT count(*) FROM search_public WHERE search_public MATCH 'widgets'").Scan(&widgets)
	if want := bulkImportRecords + 10 - (bulkImportRecords+10)/10; widgets != want {
		t.Errorf("widgets (the live versions) in search_public: %d, want %d", widgets, want)
	}
}
