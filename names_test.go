package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"maps"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/trendql/trendql/db/dbtest"
)

// hostileNames are name values that would forge output where names are
// printed (a terminal, a table, a log): terminal escapes, tabs and line
// breaks, C1 controls, Unicode line separators and bidi overrides.
var hostileNames = map[string]string{
	"terminal escape": "evil\x1b[2J\x1b]0;pwned\x07",
	"tab":             "a\tb",
	"line feed":       "ok\n2\tforged\tadmin",
	"carriage return": "name\rforged",
	"DEL":             "x\x7f",
	"C1 CSI":          "x\u009b2J",
	"line separator":  "x\u2028y",
	"bidi override":   "admin\u202egpj.exe",
	"bidi isolate":    "x\u2066y",
}

// gqlErrors posts one operation and returns its errors' codes and fields.
func (s *server) gqlErrors(t *testing.T, token, query string, vars map[string]any) []map[string]any {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequest(http.MethodPost, s.URL+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var r struct {
		Errors []struct {
			Extensions map[string]any
		}
	}
	if err := json.NewDecoder(res.Body).Decode(&r); err != nil {
		t.Fatal(err)
	}
	var out []map[string]any
	for _, e := range r.Errors {
		out = append(out, e.Extensions)
	}
	return out
}

// Every name-like field refuses control characters, line separators and
// bidi overrides with BAD_USER_INPUT naming the field, through GraphQL
// (content, tokens), the CLI (token create) and import, and nothing is
// written. Markdown bodies keep their tabs and line breaks.
func TestNames_RefuseControlCharactersOnEveryPath(t *testing.T) {
	dbPath := dbtest.NewDSN(t)
	admin := createToken(t, dbPath, "admin")
	s := startServer(t, nil, "--db", dbPath)
	raw := dbtest.RawSQL(t, dbPath)
	countRows := func(table string) int {
		var n int
		if err := raw.QueryRow("SELECT count(*) FROM " + table).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	mutations := []struct{ name, query, field string }{
		{"company name", `mutation($v: String!) { createCompany(input: {name: $v}) { id } }`, "input.name"},
		{"framework name", `mutation($v: String!) { createFramework(input: {name: $v, kind: FRAMEWORK}) { id } }`, "input.name"},
		{"framework language", `mutation($v: String!) { createFramework(input: {name: "Fine", kind: FRAMEWORK, language: $v}) { id } }`, "input.language"},
		{"framework creator", `mutation($v: String!) { createFramework(input: {name: "Fine", kind: FRAMEWORK, creator: $v}) { id } }`, "input.creator"},
		{"framework architecture", `mutation($v: String!) { createFramework(input: {name: "Fine", kind: FRAMEWORK, architecture: $v}) { id } }`, "input.architecture"},
		{"framework feature", `mutation($v: String!) { createFramework(input: {name: "Fine", kind: FRAMEWORK, features: [$v]}) { id } }`, "input.features"},
		{"trend name", `mutation($v: String!) { createTrend(input: {name: $v, rank: 99, category: TOOLING}) { id } }`, "input.name"},
		{"trend highlight", `mutation($v: String!) { createTrend(input: {name: "Fine", rank: 99, category: TOOLING, highlights: [$v]}) { id } }`, "input.highlights"},
		{"trend example", `mutation($v: String!) { createTrend(input: {name: "Fine", rank: 99, category: TOOLING, examples: [$v]}) { id } }`, "input.examples"},
		{"FAQ question", `mutation($v: String!) { createFAQ(input: {question: $v, position: 99}) { id } }`, "input.question"},
		{"FAQ item", `mutation($v: String!) { createFAQ(input: {question: "Fine?", position: 99, items: [$v]}) { id } }`, "input.items"},
		{"token name", `mutation($v: String!) { createToken(name: $v, role: VIEWER) { secret } }`, "name"},
	}
	tables := []string{"companies", "frameworks", "trends", "faqs", "tokens"}
	before := map[string]int{}
	for _, tb := range tables {
		before[tb] = countRows(tb)
	}
	for _, m := range mutations {
		for what, v := range hostileNames {
			errs := s.gqlErrors(t, admin, m.query, map[string]any{"v": v})
			if len(errs) != 1 || errs[0]["code"] != "BAD_USER_INPUT" || errs[0]["field"] != m.field {
				t.Errorf("%s with a %s: errors %v, want one BAD_USER_INPUT on %s", m.name, what, errs, m.field)
			}
		}
	}
	// A Markdown body keeps its tabs and line breaks.
	s.gql(t, admin, `mutation { createTrend(input: {name: "Fine", rank: 98, category: TOOLING, body: "a\n\tb\r\nc"}) { id } }`, nil, nil)
	before["trends"]++
	// ... but not a terminal escape.
	if errs := s.gqlErrors(t, admin, `mutation($v: String!) { createTrend(input: {name: "Fine 2", rank: 97, category: TOOLING, body: $v}) { id } }`,
		map[string]any{"v": "text\x1b[2J"}); len(errs) != 1 || errs[0]["field"] != "input.body" {
		t.Errorf("a body with a terminal escape: %v", errs)
	}
	for _, tb := range tables {
		if n := countRows(tb); n != before[tb] {
			t.Errorf("%s: %d rows, want %d: a refused write wrote", tb, n, before[tb])
		}
	}
	s.stop(t)

	// The CLI.
	for what, v := range hostileNames {
		r := cli(t, nil, "token", "create", "--name", v, "--role", "viewer", "--db", dbPath)
		if r.Code != 2 || !strings.Contains(r.Stderr, "control character") || strings.Count(strings.TrimSpace(r.Stderr), "\n") > 0 {
			t.Errorf("token create --name with a %s: exit %d, stderr %q", what, r.Code, r.Stderr)
		}
	}
	if n := countRows("tokens"); n != before["tokens"] {
		t.Errorf("tokens: %d, want %d", n, before["tokens"])
	}

	// Import.
	doc := exportDoc(t, dbPath)
	for what, v := range hostileNames {
		for _, c := range []struct {
			field string
			edit  func(c map[string]any)
		}{
			{"companies[1].name", func(c map[string]any) { rec(c, "companies", 1)["name"] = v }},
			{"frameworks[0].creator", func(c map[string]any) { rec(c, "frameworks", 0)["creator"] = v }},
			{"trends[2].highlights", func(c map[string]any) { rec(c, "trends", 2)["highlights"] = []any{v} }},
			{"faqs[0].question", func(c map[string]any) { rec(c, "faqs", 0)["question"] = v }},
			{"article.sections[0].heading", func(c map[string]any) {
				c["article"].(map[string]any)["sections"].([]any)[0].(map[string]any)["heading"] = v
			}},
		} {
			file := filepath.Join(t.TempDir(), "c.json")
			writeFile(t, file, edit(t, doc, c.edit))
			r := cli(t, nil, "import", file, "--db", dbPath)
			if r.Code != 1 || !strings.Contains(r.Stderr, c.field) || !strings.Contains(r.Stderr, "control character") {
				t.Errorf("import with a %s in %s: exit %d, stderr %q", what, c.field, r.Code, r.Stderr)
			}
		}
	}
	if got := exportDoc(t, dbPath); got != doc {
		t.Error("a refused import changed the content")
	}
}

// token list prints every name so that it cannot forge output, whatever
// an older database holds: escaped and quoted when it holds anything but
// printable characters, as is otherwise.
func TestTokenList_PrintsStoredNamesSafely(t *testing.T) {
	dbPath := dbtest.NewDSN(t)
	createToken(t, dbPath, "admin")
	d := dbtest.RawSQL(t, dbPath)
	names := slices.Collect(maps.Values(hostileNames))
	// PostgreSQL refuses text that is not UTF-8, so only an SQLite file
	// can hold a name with a bad byte.
	badBytes := dbtest.Engine() == dbtest.SQLite
	if badBytes {
		names = append(names, "bad \xff byte")
	}
	for i, v := range names {
		hash := sha256.Sum256([]byte(v))
		if _, err := d.Exec(rebind("INSERT INTO tokens (id, name, role, secret_hash, created_at) VALUES (?, ?, 'viewer', ?, '2024-01-01T00:00:00.000Z')"), 100+i, v, hash[:]); err != nil {
			t.Fatal(err)
		}
	}
	d.Close()
	r := cli(t, nil, "token", "list", "--db", dbPath)
	if r.Code != 0 {
		t.Fatalf("token list: %+v", r)
	}
	lines := strings.Split(strings.TrimSpace(r.Stdout), "\n")
	if want := 1 + 1 + len(names); len(lines) != want {
		t.Errorf("token list printed %d lines, want %d (a name forged rows):\n%s", len(lines), want, r.Stdout)
	}
	for _, c := range r.Stdout {
		if c == '\n' {
			continue
		}
		if c < 0x20 || (c >= 0x7f && c <= 0x9f) || c == 0x2028 || (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069) || c == 0xfffd {
			t.Fatalf("token list printed %U raw:\n%q", c, r.Stdout)
		}
	}
	if !strings.Contains(r.Stdout, `"evil\x1b[2J\x1b]0;pwned\a"`) || !strings.Contains(r.Stdout, `"admin\u202egpj.exe"`) || badBytes && !strings.Contains(r.Stdout, `"bad \xff byte"`) {
		t.Errorf("names are not printed escaped:\n%s", r.Stdout)
	}
	if !strings.Contains(r.Stdout, " admin ") {
		t.Errorf("a plain name is not printed as is:\n%s", r.Stdout)
	}
}
