package db

import (
	"context"
	"path/filepath"
	"testing"
)

// publicIndexIsAll's reasoning (the public index holds the same documents
// as the index of every item, indexed the same way, when every item is
// published) was checked against the search schema of migration 0006. A
// migration that changes the indexes or their views turns the copy off
// (safe: the public index is then rebuilt from its own view) and fails
// this test, so that the change is checked against that reasoning.
func TestSearchCopyPremise(t *testing.T) {
	d, _, err := Open(context.Background(), filepath.Join(t.TempDir(), "t.db"), Options{})
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
			"published (same text per item, same FTS5 options); then set searchSchemaChecked to the new sum, "+
			"or change publicIndexIsAll", sum)
	}
	all, err := tx.publicIndexIsAll()
	if err != nil || !all {
		t.Fatalf("a new database (no items): publicIndexIsAll = %v, %v; want true", all, err)
	}
	if _, err := tx.exec(`INSERT INTO companies (slug, name, status, version, created_at, updated_at)
		VALUES ('c', 'C', 'DRAFT', 1, '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z')`); err != nil {
		t.Fatal(err)
	}
	if all, err := tx.publicIndexIsAll(); err != nil || all {
		t.Fatalf("with a draft: publicIndexIsAll = %v, %v; want false", all, err)
	}
}
