package benchdata_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/trendql/trendql/bench/benchdata"
	"github.com/trendql/trendql/db"
)

// TestSyntheticImports proves that a generated set passes the import's
// validation, so the go test benchmarks can rely on it.
func TestSyntheticImports(t *testing.T) {
	c := benchdata.Synthetic(benchdata.Sizes{Companies: 50, Frameworks: 200, Trends: 30, LinksPerFramework: 5, BodyBytes: 300})
	d, created, err := db.Open(context.Background(), filepath.Join(t.TempDir(), "b.db"), db.Options{})
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
