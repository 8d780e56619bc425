package main

import (
	"strings"
	"testing"

	"github.com/trendql/trendql/db/dbtest"
)

// The document limits through the real server: the defaults refuse the
// issue's hostile documents, and each flag sets its limit.
func TestRun_DocumentLimitFlags(t *testing.T) {
	limitOf := func(out map[string]any) any {
		errs, _ := out["errors"].([]any)
		if len(errs) == 0 {
			return nil
		}
		ext, _ := errs[0].(map[string]any)["extensions"].(map[string]any)
		return ext["limit"]
	}
	s := startServer(t, nil, "--db", dbtest.NewDSN(t))
	if got := limitOf(s.query(t, "{trends{nodes{"+strings.Repeat("id ", 8000)+"}}}")); got != "selectionSetSize" {
		t.Errorf("8,000 fields: limit %v", got)
	}
	if got := limitOf(s.query(t, "{"+strings.Repeat("__typename ", 90000)+"}")); got != "tokens" {
		t.Errorf("1 MB of __typename: limit %v", got)
	}
	s.stop(t)

	s = startServer(t, nil, "--db", dbtest.NewDSN(t), "--max-tokens", "40", "--max-selections", "6",
		"--max-selection-set", "2", "--max-input-depth", "1", "--max-errors", "2")
	for q, want := range map[string]string{
		`{ trends(filter: { name: { in: [` + strings.Repeat(`"a" `, 30) + `] } }) { totalCount } }`: "tokens",
		`{ trends { nodes { id name slug } } }`:                                                     "selectionSetSize",
		`{ trends { nodes { ...F } } } fragment F on Trend { id name }`:                             "selections",
		`{ trends(filter: { name: { eq: "go" } }) { totalCount } }`:                                 "inputDepth",
	} {
		if got := limitOf(s.query(t, q)); got != want {
			t.Errorf("%s: limit %v, want %s", q, got, want)
		}
	}
	// Three validation errors (a directive repeated four times): two, and
	// a last one saying one was left out.
	out := s.query(t, `{ trends { nodes { id `+strings.Repeat("@skip(if: false) ", 4)+`} } }`)
	errs, _ := out["errors"].([]any)
	if len(errs) != 3 || limitOf(map[string]any{"errors": errs[2:]}) != "errors" {
		t.Errorf("--max-errors 2: %v", errs)
	}
}
