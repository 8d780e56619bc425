package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/trendql/trendql/db/dbtest"
)

// TestRun_FastReadsFlag runs the real server through run(): by default
// the compiled read path answers a read query; --fast-reads=false and
// TRENDQL_FAST_READS=false leave it to gqlgen; the answer is the same.
func TestRun_FastReadsFlag(t *testing.T) {
	const q = `{ trends(first: 2) { nodes { name framework { name } } } }`
	served := func(t *testing.T, s *server) int {
		n, _ := metricOf(t, http.DefaultClient, s.URL, `trendql_fast_reads_total{outcome="served"}`)
		return int(n)
	}
	var answers []string
	for _, tc := range []struct {
		name string
		env  map[string]string
		args []string
		want int
	}{
		{"default", nil, nil, 1},
		{"flag off", nil, []string{"--fast-reads=false"}, 0},
		{"env off", map[string]string{"TRENDQL_FAST_READS": "false"}, nil, 0},
		{"flag wins over env", map[string]string{"TRENDQL_FAST_READS": "false"}, []string{"--fast-reads=true"}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"--db", dbtest.NewDSN(t)}, tc.args...)
			s := startServer(t, tc.env, args...)
			out := s.query(t, q)
			if out["errors"] != nil {
				t.Fatalf("errors: %v", out["errors"])
			}
			b, _ := json.Marshal(out)
			answers = append(answers, string(b))
			if got := served(t, s); got != tc.want {
				t.Errorf("served by the fast path: %d, want %d", got, tc.want)
			}
		})
	}
	for i := 1; i < len(answers); i++ {
		if answers[i] != answers[0] {
			t.Errorf("answers differ:\n%s\n%s", answers[0], answers[i])
		}
	}
}

// TestRun_RowCacheFlag runs the real server: by default uncached reads
// take their rows from the row cache the second time (its metrics say
// so); --row-cache 0 and TRENDQL_ROW_CACHE=0 turn it off; the answers are
// the same; bad values are refused before anything starts.
func TestRun_RowCacheFlag(t *testing.T) {
	testCacheFlag(t, "row-cache", "TRENDQL_ROW_CACHE", `{ frameworks(first: 3) { nodes { name companies { name } } } }`,
		"trendql_row_cache_hits_total", "trendql_row_cache_rows")
}

// TestRun_SearchCacheFlag is TestRun_RowCacheFlag for the search cache:
// a search asked twice is ranked once, unless --search-cache 0 or
// TRENDQL_SEARCH_CACHE=0 turns the cache off.
func TestRun_SearchCacheFlag(t *testing.T) {
	testCacheFlag(t, "search-cache", "TRENDQL_SEARCH_CACHE", `{ search(query: "go", first: 5) { nodes { score snippet node { id } } } }`,
		"trendql_search_cache_hits_total", "trendql_search_cache_bytes")
}

// testCacheFlag runs the real server with a cache in MiB turned on and
// off by --flag and the environment variable env: query, sent twice with
// the response cache off, must answer the same either way, and the two
// metrics (a hit count and a size) are positive exactly when the cache is
// on; bad values are refused before anything starts.
func testCacheFlag(t *testing.T, flag, env, query string, hitsMetric, sizeMetric string) {
	metric := func(t *testing.T, s *server, name string) int {
		n, ok := metricOf(t, http.DefaultClient, s.URL, name)
		if !ok {
			t.Fatalf("no %s in /metrics", name)
		}
		return int(n)
	}
	var answers []string
	for _, tc := range []struct {
		name string
		env  map[string]string
		args []string
		on   bool
	}{
		{"default", nil, nil, true},
		{"flag off", nil, []string{"--" + flag, "0"}, false},
		{"env off", map[string]string{env: "0"}, nil, false},
		{"flag wins over env", map[string]string{env: "0"}, []string{"--" + flag, "8"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"--db", dbtest.NewDSN(t), "--response-cache", "0"}, tc.args...)
			s := startServer(t, tc.env, args...)
			for range 2 {
				out := s.query(t, query)
				if out["errors"] != nil {
					t.Fatalf("errors: %v", out["errors"])
				}
				b, _ := json.Marshal(out)
				answers = append(answers, string(b))
			}
			hits, size := metric(t, s, hitsMetric), metric(t, s, sizeMetric)
			if tc.on != (hits > 0 && size > 0) {
				t.Errorf("%s on: %v, but %d hits and size %d", flag, tc.on, hits, size)
			}
		})
	}
	for i := 1; i < len(answers); i++ {
		if answers[i] != answers[0] {
			t.Errorf("answers differ:\n%s\n%s", answers[0], answers[i])
		}
	}
	for _, c := range []struct {
		args []string
		env  map[string]string
		want string
	}{
		{[]string{"serve", "--" + flag, "-1"}, nil, "--" + flag + " must be between 0 (off)"},
		{[]string{"serve", "--" + flag, "lots"}, nil, "invalid value"},
		{[]string{"serve"}, map[string]string{env: "32MiB"}, env + " must be a whole number of MiB"},
	} {
		var stdout, stderr bytes.Buffer
		err := run(context.Background(), c.args, func(k string) string { return c.env[k] }, strings.NewReader(""), &stdout, &stderr)
		if code := exitCode(err, &stderr); code != 2 || !strings.Contains(stderr.String(), c.want) {
			t.Errorf("%v %v: exit %d, %s", c.args, c.env, code, stderr.String())
		}
	}
}
