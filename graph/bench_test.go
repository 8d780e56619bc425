package graph_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/trendql/trendql/bench/benchdata"
	"github.com/trendql/trendql/db"
	"github.com/trendql/trendql/db/dbtest"
	"github.com/trendql/trendql/graph"
)

// The reference queries of the load benchmark (../shared/bench/README.md).
const (
	benchQ1 = `query($slug:String!){ framework(slug:$slug){ id name slug language creator firstReleased architecture summary companies { id name slug } } }`
	benchQ2 = `{ frameworks(first: 20) { nodes { id name slug language creator firstReleased architecture summary companies { id name slug } } } }`
	benchQ3 = `{ trends(first: 10) { nodes { id rank name slug category summary body } } }`
)

// benchHandler returns trendql's handler over a new database holding a
// generated set shaped like the load-test one: 2,000 companies, 10,000
// frameworks with 5 companies each, 5,000 trends with ≈1.5 KB bodies.
func benchHandler(b *testing.B, opts ...func(*graph.Options)) (http.Handler, *db.DB) {
	b.Helper()
	ctx := context.Background()
	// TRENDQL_BENCH_ROW_CACHE=off measures without the row cache.
	var dbo db.Options
	if os.Getenv("TRENDQL_BENCH_ROW_CACHE") == "off" {
		dbo.RowCacheBytes = -1
	}
	d, _, err := db.Open(ctx, dbtest.NewDSN(b), dbo)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { d.Close() })
	if _, err := d.Import(ctx, benchdata.Synthetic(benchdata.Large), false); err != nil {
		b.Fatal(err)
	}
	o := graph.Options{DB: d}
	for _, f := range opts {
		f(&o)
	}
	return graph.NewHandler(o), d
}

// uncached turns the response cache off, so every request resolves.
func uncached(o *graph.Options) { o.ResponseCacheEntries = -1 }

// benchQuery measures one query through the whole handler (CORS, limits,
// loaders, gqlgen, SQLite), without the network: one request at a time
// ("serial", its latency includes the loaders' batching wait) and from 32
// goroutines ("parallel", throughput under load, and cpu-ns/op: the CPU
// time per request). It reports SQL statements per request as sql/op.
func benchQuery(b *testing.B, query string, vars map[string]any, opts ...func(*graph.Options)) {
	benchQueryAs(b, query, vars, nil, opts...)
}

// benchQueryAs is benchQuery with a setup of the database that returns the
// request headers to send (a token, a preview).
func benchQueryAs(b *testing.B, query string, vars map[string]any, setup func(*db.DB) map[string]string, opts ...func(*graph.Options)) {
	h, d := benchHandler(b, opts...)
	var headers map[string]string
	if setup != nil {
		headers = setup(d)
	}
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		b.Fatal(err)
	}
	serve := func() *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		for k, v := range headers {
			req.Header.Set(k, v)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	rec := serve()
	if rec.Code != http.StatusOK || bytes.Contains(rec.Body.Bytes(), []byte(`"errors"`)) || !bytes.Contains(rec.Body.Bytes(), []byte(`"data"`)) {
		b.Fatalf("HTTP %d: %s", rec.Code, rec.Body.String())
	}
	b.Run("serial", func(b *testing.B) {
		b.ReportAllocs()
		q0 := d.QueryCount()
		for b.Loop() {
			if rec := serve(); rec.Code != http.StatusOK {
				b.Fatalf("HTTP %d", rec.Code)
			}
		}
		b.ReportMetric(float64(d.QueryCount()-q0)/float64(b.N), "sql/op")
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.SetParallelism(max(1, 32/runtime.GOMAXPROCS(0)))
		q0, cpu0 := d.QueryCount(), cpuTime()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if rec := serve(); rec.Code != http.StatusOK {
					b.Errorf("HTTP %d", rec.Code)
					return
				}
			}
		})
		b.ReportMetric(float64(d.QueryCount()-q0)/float64(b.N), "sql/op")
		b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
	})
}

// cpuTime is the CPU time this process has used, GC included: per request,
// a figure that other processes on a shared machine barely disturb, unlike
// ns/op.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkQ1 is one framework by slug with its companies.
func BenchmarkQ1(b *testing.B) { benchQuery(b, benchQ1, map[string]any{"slug": "django"}, uncached) }

// BenchmarkQ2 is a page of 20 frameworks with their companies (≈ 11 KB).
func BenchmarkQ2(b *testing.B) { benchQuery(b, benchQ2, nil, uncached) }

// BenchmarkQ2Cached is q2 answered from the response cache.
func BenchmarkQ2Cached(b *testing.B) { benchQuery(b, benchQ2, nil) }

// BenchmarkQ3 is the first 10 trends with every scalar (≈ 16 KB).
func BenchmarkQ3(b *testing.B) { benchQuery(b, benchQ3, nil, uncached) }

// previewOfDrafts gives the first 100 frameworks (by name) a pending draft
// and returns the headers of a viewer's preview.
func previewOfDrafts(b *testing.B, preview bool) func(*db.DB) map[string]string {
	return func(d *db.DB) map[string]string {
		ctx := db.WithPrincipal(context.Background(), &db.Principal{Name: "bench", Role: db.RoleEditor})
		page, err := d.Frameworks(ctx, nil, nil, db.PageArgs{First: ptrInt(100)})
		if err != nil {
			b.Fatal(err)
		}
		for _, f := range page.Items {
			s := f.Summary + " (draft)"
			if _, err := d.UpdateFramework(ctx, f.RowID, db.FrameworkPatch{Summary: &s}, nil); err != nil {
				b.Fatal(err)
			}
		}
		_, secret, err := d.CreateToken(context.Background(), "bench", db.RoleViewer, 0)
		if err != nil {
			b.Fatal(err)
		}
		h := map[string]string{"Authorization": "Bearer " + secret}
		if preview {
			h["X-Trendql-Preview"] = "true"
		}
		return h
	}
}

func ptrInt(n int) *int { return &n }

// BenchmarkQ2Token is q2 for a viewer token, 100 frameworks having drafts.
func BenchmarkQ2Token(b *testing.B) {
	benchQueryAs(b, benchQ2, nil, previewOfDrafts(b, false), uncached)
}

// BenchmarkQ2Preview is q2 in a viewer's preview, 100 frameworks having drafts.
func BenchmarkQ2Preview(b *testing.B) {
	benchQueryAs(b, benchQ2, nil, previewOfDrafts(b, true), uncached)
}

// benchQ2x100 is q2 at the largest page: 100 frameworks with their companies.
const benchQ2x100 = `{ frameworks(first: 100) { nodes { id name slug language creator firstReleased architecture summary companies { id name slug } } } }`

// benchNested3 follows relations three levels deep: trends → framework →
// companies → frameworks.
const benchNested3 = `{ trends(first: 10) { nodes { id name framework { id name companies { id name frameworks { id name slug } } } companies { id name } } } }`

// benchNested3Row is the load benchmark's nested3 row (bench/load.go):
// the first 10 trends, each with its frameworks and the companies that
// use them, three levels of lists as a trends page renders them.
const benchNested3Row = `{ trends(first: 10) { nodes { id rank name slug summary frameworks { id name slug language companies { id name slug } } } } }`

// BenchmarkQ2x100 is a page of 100 frameworks with their companies.
func BenchmarkQ2x100(b *testing.B) { benchQuery(b, benchQ2x100, nil, uncached) }

// BenchmarkNested3 is a query three relations deep.
func BenchmarkNested3(b *testing.B) { benchQuery(b, benchNested3, nil, uncached) }

// BenchmarkNested3Row is the load benchmark's nested3 row: three levels
// of lists, as a trends page renders them.
func BenchmarkNested3Row(b *testing.B) { benchQuery(b, benchNested3Row, nil, uncached) }

// benchQ4 is the load benchmark's search row: a ranked search with its
// snippets.
const benchQ4 = `{ search(query: "framework orm", first: 10) { nodes { score snippet node { id } } } }`

// BenchmarkQ4 is the ranked search of the load benchmark.
func BenchmarkQ4(b *testing.B) { benchQuery(b, benchQ4, nil, uncached) }

// BenchmarkUpdateTrendLarge is the load benchmark mix's write on the large
// set: one updateTrend of a summary per request, by an editor's token.
func BenchmarkUpdateTrendLarge(b *testing.B) {
	h, d := benchHandler(b)
	_, secret, err := d.CreateToken(context.Background(), "bench", db.RoleEditor, 0)
	if err != nil {
		b.Fatal(err)
	}
	post := func(q string, vars map[string]any) *httptest.ResponseRecorder {
		body, _ := json.Marshal(map[string]any{"query": q, "variables": vars})
		req := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+secret)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	var page struct {
		Data struct {
			Trends struct{ Nodes []struct{ ID string } }
		}
	}
	if err := json.Unmarshal(post(`{ trends(first: 10) { nodes { id } } }`, nil).Body.Bytes(), &page); err != nil || len(page.Data.Trends.Nodes) == 0 {
		b.Fatal("no trends", err)
	}
	const m = `mutation($id: ID!, $summary: String!){ updateTrend(id: $id, input: {summary: $summary}) { id version } }`
	b.ReportAllocs()
	q0, cpu0 := d.QueryCount(), cpuTime()
	i := 0
	for b.Loop() {
		i++
		rec := post(m, map[string]any{"id": page.Data.Trends.Nodes[i%len(page.Data.Trends.Nodes)].ID, "summary": "Summary " + string(rune('a'+i%26))})
		if rec.Code != http.StatusOK || bytes.Contains(rec.Body.Bytes(), []byte(`"errors"`)) {
			b.Fatalf("HTTP %d: %s", rec.Code, rec.Body.String())
		}
	}
	b.ReportMetric(float64(d.QueryCount()-q0)/float64(b.N), "sql/op")
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
}
