package db_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/trendql/trendql/db"
	"github.com/trendql/trendql/db/dbtest"
)

// MustOpenDB opens a new seeded database of the engine under test (see
// dbtest), closed at cleanup.
func MustOpenDB(tb testing.TB) *db.DB {
	tb.Helper()
	return mustOpen(tb, dbtest.NewDSN(tb), true)
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
	path := dbtest.NewDSN(t)
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
	dbtest.SkipUnlessSQLite(t, "files that are not trendql databases: text, a foreign SQLite file, directories")
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
