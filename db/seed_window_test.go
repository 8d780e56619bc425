package db_test

import (
	"context"
	"testing"

	"github.com/trendql/trendql/db"
	"github.com/trendql/trendql/db/dbtest"
)

// A new database stays new until it is seeded or kept empty: a process
// that opens it in between (a replica starting beside the first, or after
// the first died between creating and seeding it) is told it is new and
// seeds it too, which changes nothing the second time. Once seeded, or
// kept empty with --no-seed, it is never seeded again. On SQLite a file
// is new only while empty, so the second open already sees the schema.
func TestOpen_NewUntilSeededOrKeptEmpty(t *testing.T) {
	ctx := context.Background()
	open := func(dsn string) (*db.DB, bool) {
		t.Helper()
		d, created, err := db.Open(ctx, dsn, db.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { d.Close() })
		return d, created
	}
	pg := dbtest.Engine() == dbtest.Postgres

	dsn := dbtest.NewDSN(t)
	first, created := open(dsn)
	if !created {
		t.Fatal("a new database was not reported created")
	}
	second, created := open(dsn) // the first has not seeded yet
	if created != pg {
		t.Fatalf("second open before the seed: created=%v, want %v", created, pg)
	}
	if err := second.Seed(ctx); err != nil {
		t.Fatal(err)
	}
	if err := first.Seed(ctx); err != nil { // the first resumes: nothing changes
		t.Fatal(err)
	}
	for _, d := range []*db.DB{first, second} {
		if n, err := d.CountTrends(ctx, nil); err != nil || n != 10 {
			t.Fatalf("trends after two seeds = %d, %v; want 10", n, err)
		}
	}
	if _, created := open(dsn); created {
		t.Fatal("a seeded database was reported created again")
	}

	empty := dbtest.NewDSN(t)
	d, created := open(empty)
	if !created {
		t.Fatal("a new database was not reported created")
	}
	if err := d.SkipSeed(ctx); err != nil {
		t.Fatal(err)
	}
	if _, created := open(empty); created {
		t.Fatal("a database kept empty was reported created again")
	}
	if n, err := d.CountTrends(ctx, nil); err != nil || n != 0 {
		t.Fatalf("trends in the database kept empty = %d, %v; want 0", n, err)
	}
}
