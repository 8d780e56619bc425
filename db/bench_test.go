package db_test

import (
	"context"
	"testing"

	"github.com/trendql/trendql/bench/benchdata"
	"github.com/trendql/trendql/db"
	"github.com/trendql/trendql/db/dbtest"
)

// benchDB opens a new database holding a generated set shaped like the
// load-test one (2,000 companies, 10,000 frameworks with 5 companies each),
// without trends, which these benchmarks do not read.
func benchDB(b *testing.B) *db.DB {
	b.Helper()
	ctx := context.Background()
	d, _, err := db.Open(ctx, dbtest.NewDSN(b), db.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { d.Close() })
	z := benchdata.Large
	z.Trends = 0
	if _, err := d.Import(ctx, benchdata.Synthetic(z), false); err != nil {
		b.Fatal(err)
	}
	return d
}

// BenchmarkFrameworks reads one page of frameworks in the default order
// (name): the first page, a page after a cursor, and a filtered page.
func BenchmarkFrameworks(b *testing.B) {
	d := benchDB(b)
	ctx := context.Background()
	first, err := d.Frameworks(ctx, nil, nil, db.PageArgs{First: intp(20)})
	if err != nil {
		b.Fatal(err)
	}
	after := first.EndCursor()
	lang := "Go"
	for _, bc := range []struct {
		name string
		f    *db.FrameworkFilter
		pa   db.PageArgs
	}{
		{"first=20", nil, db.PageArgs{First: intp(20)}},
		{"first=100", nil, db.PageArgs{First: intp(100)}},
		{"first=20,after", nil, db.PageArgs{First: intp(20), After: after}},
		{"first=20,filter", &db.FrameworkFilter{Language: &db.StringFilter{Eq: &lang}}, db.PageArgs{First: intp(20)}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				p, err := d.Frameworks(ctx, bc.f, nil, bc.pa)
				if err != nil || len(p.Items) == 0 {
					b.Fatal(err, len(p.Items))
				}
			}
		})
	}
}

// BenchmarkCompaniesOfFrameworks loads the companies of a page of
// frameworks in one statement, as q2's dataloader does.
func BenchmarkCompaniesOfFrameworks(b *testing.B) {
	d := benchDB(b)
	ctx := context.Background()
	for _, n := range []int{20, 100} {
		page, err := d.Frameworks(ctx, nil, nil, db.PageArgs{First: intp(n)})
		if err != nil {
			b.Fatal(err)
		}
		ids := make([]int64, len(page.Items))
		for i, f := range page.Items {
			ids[i] = f.RowID
		}
		b.Run(map[int]string{20: "ids=20", 100: "ids=100"}[n], func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				m, err := d.CompaniesOfFrameworks(ctx, ids)
				if err != nil || len(m) == 0 {
					b.Fatal(err, len(m))
				}
			}
		})
	}
}

// BenchmarkEncodeID measures the global id every node's id field computes.
func BenchmarkEncodeID(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		_ = db.EncodeID(db.TypeFramework, 12345)
	}
}

// BenchmarkDecodeID measures parsing a global id, as node(id:) does.
func BenchmarkDecodeID(b *testing.B) {
	id := db.EncodeID(db.TypeFramework, 12345)
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := db.DecodeID("id", id); err != nil {
			b.Fatal(err)
		}
	}
}
