package db_test

import (
	"context"
	"testing"

	"github.com/trendql/trendql/db"
)

// BenchmarkLookupWithRelation reads one framework by slug with its
// companies: the lookup and the relation one after the other, and the
// lookup given the relation (one statement, the row cache warm).
func BenchmarkLookupWithRelation(b *testing.B) {
	d := benchDB(b)
	ctx := context.Background()
	b.Run("apart", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			f, err := d.FrameworkBySlug(ctx, "django")
			if err != nil {
				b.Fatal(err)
			}
			if _, err := d.CompaniesOfFrameworks(ctx, []int64{f.RowID}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("with", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var m map[int64][]*db.Company
			if _, err := d.FrameworkBySlugWith(ctx, "django", db.RelCompaniesOfFrameworks.With(&m)); err != nil || len(m) != 1 {
				b.Fatal(err, m)
			}
		}
	})
}
