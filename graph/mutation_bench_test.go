package graph_test

import (
	"fmt"
	"strings"
	"testing"
)

// benchMutation runs one mutation request of n updateTrend fields through
// the real handler, alternating the summaries so every field writes.
func benchMutation(b *testing.B, n int) {
	e := newEnv(b)
	tk := newTokens(b, e)
	var trends struct {
		Trends struct{ Nodes []struct{ ID string } }
	}
	e.mustQuery(b, `{ trends(first: 10) { nodes { id } } }`, &trends)
	query := func(i int) string {
		var q strings.Builder
		q.WriteString("mutation {")
		for k := 0; k < n; k++ {
			fmt.Fprintf(&q, ` f%d: updateTrend(id: "%s", input: {summary: "Summary %d"}) { version }`, k, trends.Trends.Nodes[k].ID, i%2)
		}
		q.WriteString(" }")
		return q.String()
	}
	qs := []string{query(0), query(1)}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if r := e.post(b, qs[i%2], nil, bearer(tk.editor)...); len(r.Errors) > 0 {
			b.Fatal(r.Body)
		}
	}
}

// BenchmarkMutation_OneUpdate is one updateTrend per request: the cost the
// request transaction adds to the commonest write (a savepoint and its
// release).
func BenchmarkMutation_OneUpdate(b *testing.B) { benchMutation(b, 1) }

// BenchmarkMutation_TenUpdates is ten updateTrend fields in one request:
// one transaction (one commit, one fsync-free WAL append) instead of ten.
func BenchmarkMutation_TenUpdates(b *testing.B) { benchMutation(b, 10) }
