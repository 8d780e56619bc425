package main

import (
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"testing"

	"github.com/trendql/trendql/db/dbtest"
)

// TestRun_FastReadsFlag runs the real server through run(): by default
// the compiled read path answers a read query; --fast-reads=false and
// TRENDQL_FAST_READS=false leave it to gqlgen; the answer is the same.
func TestRun_FastReadsFlag(t *testing.T) {
	const q = `{ trends(first: 2) { nodes { name framework { name } } } }`
	served := func(t *testing.T, s *server) int {
		res, err := http.Get(s.URL + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		m := regexp.MustCompile(`trendql_fast_reads_total\{outcome="served"\} (\d+)`).FindSubmatch(b)
		if m == nil {
			return 0
		}
		n, _ := strconv.Atoi(string(m[1]))
		return n
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
