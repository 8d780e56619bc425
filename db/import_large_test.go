package db_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/trendql/trendql/bench/benchdata"
	"github.com/trendql/trendql/db"
	"github.com/trendql/trendql/db/dbtest"
)

// A large file with one bad record, into a new database, on the bulk path
// (which on PostgreSQL buffers rows and writes them with COPY, several
// thousand at a time, so some are written before the bad record is read):
// the import fails with the error the per-record path gives, and the
// database is left as it was, with no item and no event; a dry run of the
// good file changes nothing either and says what it would create.
func TestImport_LargeFileWithABadRecordChangesNothing(t *testing.T) {
	ctx := context.Background()
	z := benchdata.Sizes{Companies: 2300, Frameworks: 150, Trends: 60, LinksPerFramework: 2, BodyBytes: 100}
	for _, tc := range []struct {
		name  string
		spoil func(c *db.Content)
		want  string
	}{
		{"a slug given twice, thousands of rows apart", func(c *db.Content) {
			c.Companies[2200].Slug = c.Companies[3].Slug
		}, "companies[2200].slug"},
		{"a company no record names", func(c *db.Content) {
			c.Frameworks[120].Companies = append(c.Frameworks[120].Companies, "no-such-company")
		}, "frameworks[120].companies"},
		{"a rank given twice", func(c *db.Content) {
			c.Trends[50].Rank = c.Trends[7].Rank
		}, "trends[50].rank"},
		{"a name the validation refuses, in the last record", func(c *db.Content) {
			c.Trends[len(c.Trends)-1].Name = "tab\there"
		}, fmt.Sprintf("trends[%d].name", z.Trends-1)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := benchdata.Synthetic(z)
			tc.spoil(c)
			var msgs [2]string
			for i, bulk := range []bool{true, false} {
				dsn := dbtest.NewDSN(t)
				d, _, err := db.Open(ctx, dsn, db.Options{})
				if err != nil {
					t.Fatal(err)
				}
				defer d.Close()
				restore := func() {}
				if !bulk {
					restore = db.SetBulkImportRecords(1 << 30)
				}
				_, err = d.Import(ctx, c, false)
				restore()
				if db.ErrorCode(err) != db.EINVALID {
					t.Fatalf("bulk %v: import of a bad file: %v, want an EINVALID error naming %s", bulk, err, tc.want)
				}
				msgs[i] = err.Error()
				raw := dbtest.RawSQL(t, dsn)
				for _, table := range []string{"companies", "frameworks", "trends", "framework_companies", "events", "search"} {
					var n int
					if err := raw.QueryRowContext(ctx, "SELECT count(*) FROM "+table).Scan(&n); err != nil {
						t.Fatal(err)
					}
					if n != 0 {
						t.Errorf("bulk %v: %d rows in %s after a failed import of a new database", bulk, n, table)
					}
				}
			}
			if msgs[0] != msgs[1] {
				t.Errorf("the bulk path says %q, the per-record path %q", msgs[0], msgs[1])
			}
			if want := tc.want; !strings.Contains(msgs[0], want) {
				t.Errorf("error %q does not name %s", msgs[0], want)
			}
		})
	}

	t.Run("dry run", func(t *testing.T) {
		dsn := dbtest.NewDSN(t)
		d, _, err := db.Open(ctx, dsn, db.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		res, err := d.Import(ctx, benchdata.Synthetic(z), true)
		if err != nil {
			t.Fatal(err)
		}
		if res.Created[db.TypeCompany] != z.Companies || res.Created[db.TypeTrend] != z.Trends {
			t.Errorf("dry run would create %v, want %d companies and %d trends", res.Created, z.Companies, z.Trends)
		}
		var n int
		if err := dbtest.RawSQL(t, dsn).QueryRowContext(ctx, "SELECT (SELECT count(*) FROM companies) + (SELECT count(*) FROM events)").Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Errorf("a dry run left %d companies and events", n)
		}
	})
}
