package benchdata_test

import (
	"context"
	"testing"

	"github.com/trendql/trendql/bench/benchdata"
	"github.com/trendql/trendql/db"
	"github.com/trendql/trendql/db/dbtest"
)

// TestSyntheticImports proves that a generated set passes the import's
// validation, so the go test benchmarks can rely on it.
func TestSyntheticImports(t *testing.T) {
	c := benchdata.Synthetic(benchdata.Sizes{Companies: 50, Frameworks: 200, Trends: 30, LinksPerFramework: 5, BodyBytes: 300})
	d, created, err := db.Open(context.Background(), dbtest.NewDSN(t), db.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if !created {
		t.Fatal("want a new database")
	}
	res, err := d.Import(context.Background(), c, false)
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Created[db.TypeFramework]; got != 200 {
		t.Fatalf("created %d frameworks, want 200", got)
	}
}

// A scaled set is n times the set, still valid: slugs unique per copy,
// relations within their copy, ranks unique.
func TestScaleImports(t *testing.T) {
	c := benchdata.Synthetic(benchdata.Sizes{Companies: 20, Frameworks: 30, Trends: 10, LinksPerFramework: 3, BodyBytes: 100})
	s := benchdata.Scale(c, 3)
	if len(s.Companies) != 60 || len(s.Frameworks) != 90 || len(s.Trends) != 30 {
		t.Fatalf("scaled to %d companies, %d frameworks, %d trends", len(s.Companies), len(s.Frameworks), len(s.Trends))
	}
	if got := s.Frameworks[30].Companies[0]; got != c.Frameworks[0].Companies[0]+"-x2" {
		t.Fatalf("copy 2's first framework links to %q", got)
	}
	d, _, err := db.Open(context.Background(), dbtest.NewDSN(t), db.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	res, err := d.Import(context.Background(), s, false)
	if err != nil {
		t.Fatal(err)
	}
	if res.Created[db.TypeTrend] != 30 {
		t.Fatalf("created %d trends", res.Created[db.TypeTrend])
	}
}
