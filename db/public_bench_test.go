package db_test

import (
	"testing"

	"github.com/trendql/trendql/db"
	"github.com/trendql/trendql/db/dbtest"
)

// BenchmarkUpdatePublishedTrend measures one edit of a published trend
// that links frameworks and companies: the write, its event and, since
// schema version 5, the public form the event stores (one more statement
// per linked type).
func BenchmarkUpdatePublishedTrend(b *testing.B) {
	d := mustOpen(b, dbtest.NewDSN(b), true)
	ed := asEditor()
	tr, err := d.TrendBySlug(ed, "go")
	if err != nil {
		b.Fatal(err)
	}
	summaries := []string{"One summary", "Another summary"}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := d.UpdateTrend(ed, tr.RowID, db.TrendPatch{Summary: &summaries[i%2]}, nil); err != nil {
			b.Fatal(err)
		}
	}
}
