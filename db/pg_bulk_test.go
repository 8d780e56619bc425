package db_test

import (
	"context"
	"testing"

	"github.com/trendql/trendql/bench/benchdata"
	"github.com/trendql/trendql/db"
	"github.com/trendql/trendql/db/dbtest"
)

// TestPostgresBulkImportLeavesStatistics: a bulk import on PostgreSQL
// leaves the planner statistics of the tables it filled (row counts), so
// neither its own search rebuild nor the server's first queries are
// planned as if the tables were empty. Before the import analysed them,
// every table had reltuples -1 (never analysed) after a large import, and
// the rebuild of the 1x load-test set took 104 s instead of seconds.
func TestPostgresBulkImportLeavesStatistics(t *testing.T) {
	if dbtest.Engine() != dbtest.Postgres {
		t.Skip("PostgreSQL only: its planner statistics (runs with TRENDQL_TEST_ENGINE=postgres)")
	}
	dsn := dbtest.NewDSN(t)
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
	conn := dbtest.RawSQL(t, dsn)
	for table, want := range map[string]int{
		"companies": z.Companies, "frameworks": z.Frameworks, "trends": z.Trends,
		"framework_companies": z.Frameworks * z.LinksPerFramework,
	} {
		var got float64
		if err := conn.QueryRowContext(ctx, "SELECT reltuples FROM pg_class WHERE oid = $1::regclass", table).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if int(got) != want {
			t.Errorf("%s: the planner counts %v rows, want %d (statistics gathered by the import)", table, got, want)
		}
	}
	// The search index was rebuilt from the analysed tables: a word of a
	// framework's summary finds it.
	var n int
	if err := conn.QueryRowContext(ctx, "SELECT count(*) FROM search_public").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if want := z.Companies + z.Frameworks + z.Trends; n != want {
		t.Errorf("search_public holds %d rows, want %d", n, want)
	}
}

// TestPostgresBulkImportWritesRowsInBatches: a large import into a new
// PostgreSQL database writes its items, events and links in a few dozen
// statements, not several per item. Before the bulk path used COPY, every
// item cost a savepoint, its INSERT, the savepoint's release and its
// event's INSERT, each a round trip: 69,266 statements for the 1x
// load-test set, and 4,400 for this one.
func TestPostgresBulkImportWritesRowsInBatches(t *testing.T) {
	if dbtest.Engine() != dbtest.Postgres {
		t.Skip("PostgreSQL only: SQLite writes rows in process, one statement each (runs with TRENDQL_TEST_ENGINE=postgres)")
	}
	ctx := context.Background()
	d, _, err := db.Open(ctx, dbtest.NewDSN(t), db.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	z := benchdata.Sizes{Companies: 300, Frameworks: 600, Trends: 200, LinksPerFramework: 3, BodyBytes: 200}
	c := benchdata.Synthetic(z)
	before := d.QueryCount()
	res, err := d.Import(ctx, c, false)
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Created[db.TypeFramework]; got != z.Frameworks {
		t.Fatalf("created %d frameworks, want %d", got, z.Frameworks)
	}
	records := z.Companies + z.Frameworks + z.Trends + len(c.FAQs)
	if n := d.QueryCount() - before; n > 100 {
		t.Errorf("the import of %d records ran %d statements; want at most 100 (rows, events and links in batches)", records, n)
	}
}
