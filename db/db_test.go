package db_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/trendql/trendql/db"
)

// MustOpenDB opens a new seeded database in a temp dir, closed at cleanup.
func MustOpenDB(tb testing.TB) *db.DB {
	tb.Helper()
	return mustOpen(tb, filepath.Join(tb.TempDir(), "trendql.db"), true)
}

func mustOpen(tb testing.TB, path string, seed bool) *db.DB {
	tb.Helper()
	ctx := context.Background()
	d, created, err := db.Open(ctx, path, db.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { d.Close() })
	if created && seed {
		if err := d.Seed(ctx); err != nil {
			tb.Fatal(err)
		}
	}
	return d
}

func TestOpen_NewDatabaseIsCreatedAndReopenedWithoutReseed(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.db")
	ctx := context.Background()
	d, created, err := db.Open(ctx, path, db.Options{})
	if err != nil || !created {
		t.Fatalf("Open new: created=%v err=%v", created, err)
	}
	if err := d.Seed(ctx); err != nil {
		t.Fatal(err)
	}
	d.Close()
	d, created, err = db.Open(ctx, path, db.Options{})
	if err != nil || created {
		t.Fatalf("reopen: created=%v err=%v", created, err)
	}
	defer d.Close()
	n, err := d.CountTrends(ctx, nil)
	if err != nil || n != 10 {
		t.Fatalf("CountTrends = %d, %v; want 10", n, err)
	}
}

func TestOpen_RefusesFilesThatAreNotTrendqlDatabases(t *testing.T) {
	dir := t.TempDir()
	notSQLite := filepath.Join(dir, "text.db")
	os.WriteFile(notSQLite, []byte("hello, this is not a database at all, just some text padding it out"), 0o644)
	other := filepath.Join(dir, "other.db")
	{
		d, _, err := db.Open(context.Background(), filepath.Join(dir, "tmp.db"), db.Options{})
		if err != nil {
			t.Fatal(err)
		}
		d.Close()
	}
	// An SQLite database of another application: made with plain SQL.
	if err := makeForeignSQLite(other); err != nil {
		t.Fatal(err)
	}
	for name, path := range map[string]string{
		"text file":         notSQLite,
		"foreign sqlite":    other,
		"missing directory": filepath.Join(dir, "no", "such", "dir", "x.db"),
		"path is directory": dir,
	} {
		t.Run(name, func(t *testing.T) {
			before, _ := os.ReadFile(path)
			_, _, err := db.Open(context.Background(), path, db.Options{})
			if err == nil {
				t.Fatal("Open succeeded, want error")
			}
			t.Log(err)
			after, _ := os.ReadFile(path)
			if string(before) != string(after) {
				t.Fatal("Open changed the file")
			}
		})
	}
}
