package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/trendql/trendql/bench/benchdata"
	"github.com/trendql/trendql/db"
	"github.com/trendql/trendql/db/dbtest"
	"github.com/trendql/trendql/graph"
)

// TestGrowthRowsAreRows proves that the growth rows run in the default
// set, after the reference queries and before the mix, that -only selects
// them, and that q2-128 is q2 itself at 128 connections whatever -conns says.
func TestGrowthRowsAreRows(t *testing.T) {
	var names []string
	for _, g := range growthRows {
		names = append(names, g.q.name)
	}
	if !slices.Equal(names, []string{"q2-100", "nested3", "q2-128"}) {
		t.Fatalf("growth rows %v", names)
	}
	i := slices.Index(rowNames, "q4-cached")
	if !slices.Equal(rowNames[i+1:i+1+len(names)], names) || rowNames[i+1+len(names)] != "mix" {
		t.Errorf("rows in order %v", rowNames)
	}
	cfg, err := parseConfig([]string{"-only", "q2-100,nested3,q2-128", "-conns", "8"}, &strings.Builder{})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		if !cfg.selected(n) {
			t.Errorf("-only does not select %s", n)
		}
	}
	if cfg.selected("q2") || cfg.selected("mix") {
		t.Error("-only selects rows it does not name")
	}
	want := map[string]int{"q2-100": 8, "nested3": 8, "q2-128": 128}
	for _, g := range growthRows {
		if got := g.connections(cfg.conns); got != want[g.q.name] {
			t.Errorf("%s at %d connections, want %d", g.q.name, got, want[g.q.name])
		}
	}
	if growthRows[2].q.text != readQueries[1].text || readQueries[1].name != "q2" {
		t.Errorf("q2-128 sends %q, not q2's query", growthRows[2].q.text)
	}
}

// TestGrowthRowsAgainstTheServer sends the growth rows' requests, as the
// benchmark builds them, to the real handler (response cache on) over a
// generated set shaped like the load test's: each answers without errors,
// with the items it is meant to measure (100 frameworks with their
// companies; trends → frameworks → companies), never from the response
// cache, at a constant number of statements, and from the compiled read
// path, as the server's /metrics counts them.
func TestGrowthRowsAgainstTheServer(t *testing.T) {
	ctx := context.Background()
	d, _, err := db.Open(ctx, dbtest.NewDSN(t), db.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	set := benchdata.Synthetic(benchdata.Sizes{Companies: 200, Frameworks: 1000, Trends: 50, LinksPerFramework: 5, BodyBytes: 300})
	if _, err := d.Import(ctx, set, false); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(graph.NewHandler(graph.Options{DB: d}))
	t.Cleanup(srv.Close)

	// A query the compiled path leaves to gqlgen: afterwards the page
	// declares the fast path's metric, but has no served sample yet. That
	// counts as zero; an undeclared metric is an error.
	if body, err := do(ctx, target(srv.URL, query{text: `{ node(id: "VHJlbmQ6MQ") { id } }`}, uncached, false, 0)); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	page, err := metrics(ctx, srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	if v, err := metricValue(page, servedMetric); err != nil || v != 0 {
		t.Fatalf("%s before any query: %v, %v", servedMetric, v, err)
	}
	if _, err := metricValue(page, `trendql_no_such_total{outcome="served"}`); err == nil {
		t.Error("an undeclared metric has a value")
	}

	for _, g := range growthRows {
		t.Run(g.q.name, func(t *testing.T) {
			for n := int64(0); n < 3; n++ {
				page0, err := metrics(ctx, srv.URL)
				if err != nil {
					t.Fatal(err)
				}
				q0 := d.QueryCount()
				body, err := do(ctx, target(srv.URL, g.q, uncached, false, n))
				if err != nil {
					t.Fatalf("request %d: %v: %s", n, err, body)
				}
				statements := d.QueryCount() - q0
				page1, err := metrics(ctx, srv.URL)
				if err != nil {
					t.Fatal(err)
				}
				s0, err0 := metricValue(page0, servedMetric)
				s1, err1 := metricValue(page1, servedMetric)
				if err0 != nil || err1 != nil || s1-s0 != 1 {
					t.Errorf("request %d: served by the compiled read path %v times (%v, %v), want 1", n, s1-s0, err0, err1)
				}
				// The row cache is cold at the first request: each level
				// then reads its rows again in full, one statement more,
				// and each relation level reads the newest event id before
				// its links, for the relation cache (SQLite), one more.
				want := map[string]int64{"q2-100": 2, "nested3": 3, "q2-128": 2}[g.q.name]
				relations := map[string]int64{"q2-100": 1, "nested3": 2, "q2-128": 1}[g.q.name]
				if n == 0 && statements >= want && statements <= 2*want+relations {
					statements = want
				}
				if statements != want {
					t.Errorf("request %d ran %d statements, want %d (0: a cache answered it)", n, statements, want)
				}
				checkShape(t, g.q.name, body)
			}
		})
	}
}

// checkShape checks that an answer holds what its row is meant to measure.
func checkShape(t *testing.T, row string, body []byte) {
	t.Helper()
	type company struct{ ID, Name, Slug string }
	type framework struct {
		ID, Name, Slug string
		Companies      []company
	}
	var resp struct {
		Data struct {
			Frameworks struct{ Nodes []framework }
			Trends     struct {
				Nodes []struct {
					ID, Name   string
					Frameworks []framework
				}
			}
		}
	}
	if err := json.Unmarshal(body, &resp); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	fws := resp.Data.Frameworks.Nodes
	switch row {
	case "q2-100":
		if len(fws) != 100 {
			t.Errorf("%d frameworks, want 100", len(fws))
		}
	case "q2-128":
		if len(fws) != 20 {
			t.Errorf("%d frameworks, want 20", len(fws))
		}
	case "nested3":
		trends := resp.Data.Trends.Nodes
		if len(trends) != 10 {
			t.Fatalf("%d trends, want 10", len(trends))
		}
		fws = nil
		for _, tr := range trends {
			if len(tr.Frameworks) == 0 {
				t.Errorf("trend %s has no frameworks", tr.Name)
			}
			fws = append(fws, tr.Frameworks...)
		}
	}
	for _, f := range fws {
		if len(f.Companies) == 0 || f.Companies[0].Slug == "" {
			t.Errorf("framework %s has no companies", f.Name)
		}
	}
}

// TestLoaderConnections proves that a row's connection count is what the
// loader keeps in flight: the server holds every request until 128 are
// waiting at once, and never sees more.
func TestLoaderConnections(t *testing.T) {
	const conns = 128
	var (
		mu             sync.Mutex
		inFlight, most int
		all            = make(chan struct{})
		allOnce        sync.Once
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		inFlight++
		most = max(most, inFlight)
		if inFlight == conns {
			allOnce.Do(func() { close(all) })
		}
		mu.Unlock()
		select {
		case <-all:
		case <-time.After(20 * time.Second):
		}
		mu.Lock()
		inFlight--
		mu.Unlock()
		w.Write([]byte(`{"data":{}}`))
	}))
	t.Cleanup(srv.Close)
	l := newLoader(conns)
	defer l.close()
	t0 := vegeta.Target{Method: http.MethodPost, URL: srv.URL + "/graphql", Body: postBody(readQueries[1], -1), Header: jsonHeader}
	res := l.attack(context.Background(), "conns", fixed(t0), 500*time.Millisecond)
	select {
	case <-all:
	default:
		t.Fatalf("the server never saw %d requests at once (at most %d)", conns, most)
	}
	if most != conns {
		t.Errorf("at most %d requests in flight, want %d", most, conns)
	}
	if res.errors > 0 {
		t.Errorf("%d errors: %s", res.errors, res.firstErr)
	}
}

// TestReportNamesGrowthSettings proves that the footer names the rows run
// at another connection count and how much of each uncached read row the
// compiled read path answered (not the cached rows, nor the mix's writes).
func TestReportNamesGrowthSettings(t *testing.T) {
	cfg, err := parseConfig(nil, &strings.Builder{})
	if err != nil {
		t.Fatal(err)
	}
	load := &loadResult{requests: 10, ok: 10, elapsed: time.Second}
	rep := &report{cfg: cfg, rows: []row{
		{name: "q2", server: true, conns: 32, load: load, fastShare: 1, hasFast: true},
		{name: "q2-cached", server: true, conns: 32, load: load, hasFast: true},
		{name: "q4", server: true, conns: 32, load: load, hasFast: true},
		{name: "q2-128", server: true, conns: 128, load: load, fastShare: 0.995, hasFast: true},
		{name: "mix", server: true, conns: 32, load: load, fastShare: 0.9, hasFast: true},
	}}
	var out strings.Builder
	rep.print(&out)
	for _, want := range []string{
		"- 32 connections (q2-128: 128), 10s per row",
		"per request): q2 100%, q4 0%, q2-128 99.5%\n",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the report lacks %q:\n%s", want, out.String())
		}
	}
}
