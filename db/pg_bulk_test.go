package db_test

import (
	"context"
	"crypto/rand"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/trendql/trendql/bench/benchdata"
	"github.com/trendql/trendql/db"
)

// pgBulkDSN is a new, empty PostgreSQL database on the cluster named by
// TRENDQL_TEST_POSTGRES (an admin URL), dropped when the test ends; the
// test skips without the variable, and fails without it under CI. (A
// private helper until db/dbtest lands.)
func pgBulkDSN(tb testing.TB) string {
	tb.Helper()
	admin := os.Getenv("TRENDQL_TEST_POSTGRES")
	if admin == "" {
		if os.Getenv("CI") != "" {
			tb.Fatal("TRENDQL_TEST_POSTGRES is not set: CI runs every PostgreSQL test")
		}
		tb.Skip("TRENDQL_TEST_POSTGRES is not set (postgres://USER@HOST:PORT/postgres): skipping a PostgreSQL test")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		tb.Fatalf("TRENDQL_TEST_POSTGRES: %v", err)
	}
	defer conn.Close(ctx)
	name := "trendql_test_" + strings.ToLower(rand.Text()[:12])
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if c, err := pgx.Connect(ctx, admin); err == nil {
			c.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
			c.Close(ctx)
		}
	})
	u, err := url.Parse(admin)
	if err != nil {
		tb.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}

// TestPostgresBulkImportLeavesStatistics: a bulk import on PostgreSQL
// leaves the planner statistics of the tables it filled (row counts), so
// neither its own search rebuild nor the server's first queries are
// planned as if the tables were empty. Before the import analysed them,
// every table had reltuples -1 (never analysed) after a large import, and
// the rebuild of the 1x load-test set took 104 s instead of seconds.
func TestPostgresBulkImportLeavesStatistics(t *testing.T) {
	dsn := pgBulkDSN(t)
	defer db.SetBulkImportRecords(20)()
	ctx := context.Background()
	d, _, err := db.Open(ctx, dsn, db.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	z := benchdata.Sizes{Companies: 30, Frameworks: 60, Trends: 20, LinksPerFramework: 3, BodyBytes: 200}
	if _, err := d.Import(ctx, benchdata.Synthetic(z), false); err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	for table, want := range map[string]int{
		"companies": z.Companies, "frameworks": z.Frameworks, "trends": z.Trends,
		"framework_companies": z.Frameworks * z.LinksPerFramework,
	} {
		var got float64
		if err := conn.QueryRow(ctx, "SELECT reltuples FROM pg_class WHERE oid = $1::regclass", table).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if int(got) != want {
			t.Errorf("%s: the planner counts %v rows, want %d (statistics gathered by the import)", table, got, want)
		}
	}
	// The search index was rebuilt from the analysed tables: a word of a
	// framework's summary finds it.
	var n int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM search_public").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if want := z.Companies + z.Frameworks + z.Trends; n != want {
		t.Errorf("search_public holds %d rows, want %d", n, want)
	}
}
