package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/trendql/trendql/db"
	"github.com/trendql/trendql/db/dbtest"
)

// cli runs one trendql command through run(), as the binary would, and
// returns its output and exit code.
type cliResult struct {
	Stdout, Stderr string
	Code           int
}

// LastLine returns the last non-empty line of stdout.
func (r cliResult) LastLine() string {
	lines := strings.Split(strings.TrimSpace(r.Stdout), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}

func cli(t testing.TB, stdin io.Reader, args ...string) cliResult {
	t.Helper()
	if stdin == nil {
		stdin = strings.NewReader("")
	}
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), args, func(string) string { return "" }, stdin, &stdout, &stderr)
	code := exitCode(err, &stderr)
	return cliResult{Stdout: stdout.String(), Stderr: stderr.String(), Code: code}
}

// Flags may come before or after a command's positional arguments, as
// the contract writes them ("trendql import FILE --db X").
func TestCLI_FlagsBeforeOrAfterArguments(t *testing.T) {
	dir := t.TempDir()
	dbPath := dbtest.NewDSN(t)
	exp := cli(t, nil, "export", "--db", dbPath)
	if exp.Code != 0 {
		t.Fatalf("export: %+v", exp)
	}
	file := filepath.Join(dir, "content.json")
	writeFile(t, file, exp.Stdout)
	for _, args := range [][]string{
		{"import", file, "--db", dbPath},
		{"import", "--db", dbPath, file},
		{"import", "--dry-run", file, "--db", dbPath},
		{"import", "--db", dbPath, "--", file},
	} {
		if r := cli(t, nil, args...); r.Code != 0 {
			t.Errorf("%q: exit %d: %s", args, r.Code, r.Stderr)
		}
	}
	if r := cli(t, nil, "backup", filepath.Join(dir, "b.db"), "--db", dbPath); dbtest.Engine() == dbtest.Postgres {
		// PostgreSQL has no file to copy: backup refuses as bad usage and
		// points to pg_dump (cli_postgres_test.go tests it in full).
		if r.Code != 2 || !strings.Contains(r.Stderr, "pg_dump") {
			t.Errorf("backup OUT --db on PostgreSQL: exit %d: %s", r.Code, r.Stderr)
		}
	} else if r.Code != 0 {
		t.Errorf("backup OUT --db: exit %d: %s", r.Code, r.Stderr)
	}
	if r := cli(t, nil, "token", "create", "--name", "x", "--role", "viewer", "--db", dbPath); r.Code != 0 {
		t.Fatalf("token create: %+v", r)
	}
	if r := cli(t, nil, "token", "revoke", "1", "--db", dbPath); r.Code != 0 {
		t.Errorf("token revoke ID --db: exit %d: %s", r.Code, r.Stderr)
	}
	if r := cli(t, nil, "import", file, file, "--db", dbPath); r.Code != 2 {
		t.Errorf("two files: exit %d, want 2", r.Code)
	}
}

func writeFile(t testing.TB, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// seededDB makes a new database of the engine under test through the CLI
// and returns its DSN and its export.
func seededDB(t testing.TB) (path, export string) {
	t.Helper()
	path = dbtest.NewDSN(t)
	r := cli(t, nil, "export", "--db", path)
	if r.Code != 0 {
		t.Fatalf("export: %+v", r)
	}
	return path, r.Stdout
}

// edit decodes a content document, lets fn change it, and encodes it.
func edit(t testing.TB, doc string, fn func(c map[string]any)) string {
	t.Helper()
	var c map[string]any
	if err := json.Unmarshal([]byte(doc), &c); err != nil {
		t.Fatal(err)
	}
	fn(c)
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// marked edits a document with fn, which sets some string to "MARK",
// then puts raw in its place: bytes that no JSON encoder would write.
func marked(t testing.TB, doc string, fn func(c map[string]any), raw string) string {
	t.Helper()
	out := edit(t, doc, fn)
	if strings.Count(out, `"MARK"`) != 1 {
		t.Fatal("no single MARK in the edited document")
	}
	return strings.Replace(out, `"MARK"`, `"`+raw+`"`, 1)
}

// rec returns record i of a list in a decoded content document.
func rec(c map[string]any, list string, i int) map[string]any {
	return c[list].([]any)[i].(map[string]any)
}

// eventCount counts the event log's rows, opening the database directly.
func eventCount(t testing.TB, path string) int {
	t.Helper()
	var n int
	if err := dbtest.RawSQL(t, path).QueryRow("SELECT count(*) FROM events").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// A bad content file changes nothing, exits 1, and says in one sentence
// which record and field are at fault.
func TestImport_BadFileChangesNothingAndNamesTheRecordAndField(t *testing.T) {
	dbPath, doc := seededDB(t)
	events := eventCount(t, dbPath)
	cases := []struct {
		name string
		file string
		want []string // in the one stderr line
	}{
		{"invalid JSON", `{"format": "trendql-content-1", "trends": [}`, []string{"not valid JSON", "line 1, column 45"}},
		{"truncated", doc[:len(doc)/2], []string{"not valid JSON"}},
		{"truncated at a value's end", strings.TrimSpace(doc)[:len(strings.TrimSpace(doc))-1], []string{"truncated"}},
		{"empty", "", []string{"the file is empty"}},
		{"not an object", `[]`, []string{"JSON object", "not a JSON array"}},
		{"wrong format string", edit(t, doc, func(c map[string]any) { c["format"] = "trendql-content-0" }), []string{"format must be", "trendql-content-0"}},
		{"format missing", `{"trends": []}`, []string{"format must be"}},
		{"unknown top-level field", edit(t, doc, func(c map[string]any) { c["posts"] = []any{} }), []string{`unknown field "posts"`}},
		{"unknown record field", edit(t, doc, func(c map[string]any) { rec(c, "frameworks", 2)["website"] = "x" }), []string{"frameworks[2].website", `unknown field "website"`}},
		{"wrong type: rank as string", edit(t, doc, func(c map[string]any) { rec(c, "trends", 3)["rank"] = "four" }), []string{"trends[3].rank must be a whole number, not a JSON string"}},
		{"wrong type: list as string", edit(t, doc, func(c map[string]any) { rec(c, "faqs", 1)["items"] = "a, b" }), []string{"faqs[1].items must be a list"}},
		{"wrong type: list of objects", edit(t, doc, func(c map[string]any) { c["companies"] = map[string]any{} }), []string{"companies must be a list"}},
		{"null record", edit(t, doc, func(c map[string]any) { c["companies"].([]any)[4] = nil }), []string{"companies[4] is null"}},
		{"duplicate slugs", edit(t, doc, func(c map[string]any) { rec(c, "companies", 3)["slug"] = rec(c, "companies", 2)["slug"] }), []string{"companies[3].slug", "appears twice"}},
		{"duplicate ranks", edit(t, doc, func(c map[string]any) { rec(c, "trends", 5)["rank"] = 2 }), []string{"trends[5].rank", "rank 2 appears twice"}},
		{"duplicate positions", edit(t, doc, func(c map[string]any) { rec(c, "faqs", 3)["position"] = 1 }), []string{"faqs[3].position", "appears twice"}},
		{"negative rank", edit(t, doc, func(c map[string]any) { rec(c, "trends", 0)["rank"] = -1 }), []string{"trends[0].rank", "positive"}},
		{"dangling link slug", edit(t, doc, func(c map[string]any) { rec(c, "trends", 2)["companies"] = []any{"aws", "no-such-co"} }), []string{"trends[2].companies", `"no-such-co"`}},
		{"dangling FAQ link", edit(t, doc, func(c map[string]any) { rec(c, "faqs", 0)["trends"] = []any{"nope"} }), []string{"faqs[0].trends", `"nope"`}},
		{"link listed twice", edit(t, doc, func(c map[string]any) { rec(c, "frameworks", 0)["companies"] = []any{"spotify", "spotify"} }), []string{"frameworks[0].companies", "twice"}},
		{"empty name", edit(t, doc, func(c map[string]any) { rec(c, "companies", 5)["name"] = "" }), []string{"companies[5].name must not be empty"}},
		{"bad slug", edit(t, doc, func(c map[string]any) { rec(c, "frameworks", 1)["slug"] = "Not A Slug" }), []string{"frameworks[1].slug", "lower-case"}},
		{"bad status", edit(t, doc, func(c map[string]any) { rec(c, "faqs", 1)["status"] = "LIVE" }), []string{"faqs[1].status", `"LIVE"`}},
		{"bad kind", edit(t, doc, func(c map[string]any) { rec(c, "frameworks", 1)["kind"] = "LIBRARY" }), []string{"frameworks[1].kind", `"LIBRARY"`}},
		{"bad category", edit(t, doc, func(c map[string]any) { rec(c, "trends", 1)["category"] = "HYPE" }), []string{"trends[1].category", `"HYPE"`}},
		{"bad article date", edit(t, doc, func(c map[string]any) { c["article"].(map[string]any)["lastUpdated"] = "29 Jan 2024" }), []string{"article.lastUpdated"}},
		{"over-long name", edit(t, doc, func(c map[string]any) { rec(c, "companies", 0)["name"] = strings.Repeat("x", 201) }), []string{"companies[0].name", "longer than 200"}},
		{"rank taken by an item not in the file", `{"format": "trendql-content-1", "trends": [
			{"slug": "new-trend", "rank": 3, "name": "New", "category": "TOOLING", "summary": "", "body": ""}]}`,
			[]string{"trends[0].rank", "rank 3 is taken by trend \"serverless-computing\""}},
		{"a bad record after good ones", edit(t, doc, func(c map[string]any) {
			rec(c, "companies", 0)["name"] = "Renamed"
			c["trends"] = append(c["trends"].([]any), map[string]any{"slug": "x", "rank": 11, "name": "X", "category": "API", "frameworks": []any{"nope"}})
		}), []string{"trends[10].frameworks", `"nope"`}},
		// Streaming reads each record on its own: what is wrong inside one
		// is still named, and refused before anything is written.
		{"invalid UTF-8 in a body", marked(t, doc, func(c map[string]any) { rec(c, "trends", 3)["body"] = "MARK" }, "bad \xff byte"),
			[]string{"trends[3].body is not valid UTF-8"}},
		{"invalid UTF-8 in a list item", marked(t, doc, func(c map[string]any) { rec(c, "faqs", 1)["items"] = []any{"ok", "MARK"} }, "\xc3("),
			[]string{"faqs[1].items[1] is not valid UTF-8"}},
		{"an unpaired surrogate escape", marked(t, doc, func(c map[string]any) { rec(c, "companies", 2)["name"] = "MARK" }, `x\udc00y`),
			[]string{"companies[2].name is not valid UTF-8"}},
		{"a field twice in a record", strings.Replace(doc, `"rank": 4,`, `"rank": 4, "rank": 40,`, 1),
			[]string{"trends[3].rank", `field "rank" appears twice in trends[3]`}},
		{"a list twice", strings.Replace(doc, `"format": "trendql-content-1",`, `"format": "trendql-content-1", "faqs": [],`, 1),
			[]string{`field "faqs" appears twice at the top level`}},
		{"more after the document", doc + "{}", []string{"not valid JSON", "more after"}},
		{"a record over 4 MiB", marked(t, doc, func(c map[string]any) { rec(c, "trends", 1)["body"] = "MARK" }, strings.Repeat("x", 5<<20)),
			[]string{"trends[1] is larger than 4 MiB"}},
		{"more records of a kind than the limit", `{"format": "trendql-content-1", "companies": [` +
			strings.TrimSuffix(strings.Repeat("{},", db.MaxImportRecords+1), ",") + `]}`,
			[]string{"companies", fmt.Sprintf("more than %d companies", db.MaxImportRecords)}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "bad.json")
			writeFile(t, file, c.file)
			for _, args := range [][]string{{"import", file, "--db", dbPath}, {"import", "--dry-run", file, "--db", dbPath}} {
				r := cli(t, nil, args...)
				if r.Code != 1 {
					t.Fatalf("%q: exit %d, want 1; stderr %q", args, r.Code, r.Stderr)
				}
				line := strings.TrimSpace(r.Stderr)
				if strings.Contains(line, "\n") || !strings.HasPrefix(line, "trendql: import: nothing was changed: ") {
					t.Errorf("stderr is not one sentence: %q", r.Stderr)
				}
				for _, w := range c.want {
					if !strings.Contains(line, w) {
						t.Errorf("stderr %q does not say %q", line, w)
					}
				}
			}
			if after := cli(t, nil, "export", "--db", dbPath); after.Stdout != doc {
				t.Fatal("the database changed")
			}
			if n := eventCount(t, dbPath); n != events {
				t.Fatalf("events: %d, want %d", n, events)
			}
		})
	}
}

// export runs "trendql export" and returns the document.
func exportDoc(t testing.TB, dbPath string) string {
	t.Helper()
	r := cli(t, nil, "export", "--db", dbPath)
	if r.Code != 0 {
		t.Fatalf("export: exit %d: %s", r.Code, r.Stderr)
	}
	return r.Stdout
}

// export → import into a fresh, empty database → export gives the same
// bytes, drafts, unicode, empty and absent optional fields included. A
// second import of the same file changes nothing at all; --dry-run
// reports what an import would do and does nothing; a real import of a
// changed file does exactly that.
func TestExportImport_RoundTrip(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	src, _ := seededDB(t)
	d, _, err := db.Open(ctx, src, db.Options{})
	if err != nil {
		t.Fatal(err)
	}
	admin := db.WithPrincipal(ctx, &db.Principal{Name: "t", Role: db.RoleAdmin})
	s := func(v string) *string { return &v }
	kind := db.KindLanguage
	co, err := d.CreateCompany(admin, db.CompanyPatch{Name: s("Zürich Ünïcode AG ✓")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.CreateFramework(admin, db.FrameworkPatch{Name: s("Gleam"), Kind: &kind, Summary: s("Typed \"BEAM\" language\n<with> & markup"),
		Features: &[]string{"Types", "Erlang interop"}, Companies: &[]int64{co.RowID}}); err != nil {
		t.Fatal(err)
	}
	goTrend, _ := d.TrendBySlug(admin, "go")
	if _, err := d.UpdateTrend(admin, goTrend.RowID, db.TrendPatch{Companies: &[]int64{co.RowID}}, nil); err != nil {
		t.Fatal(err)
	}
	d.Close()
	doc := exportDoc(t, src)
	if !strings.Contains(doc, `"status": "DRAFT"`) || !strings.Contains(doc, "Zürich Ünïcode AG ✓") {
		t.Fatal("the export lacks the drafts made for the test")
	}
	file := filepath.Join(dir, "content.json")
	writeFile(t, file, doc)

	// A fresh database with the schema and nothing else.
	dst := dbtest.NewDSN(t)
	d, created, err := db.Open(ctx, dst, db.Options{})
	if err != nil || !created {
		t.Fatalf("open fresh: created=%v err=%v", created, err)
	}
	// Kept empty, as --no-seed does: on PostgreSQL a database stays new,
	// and the next command would seed it, until that is recorded.
	if err := d.SkipSeed(ctx); err != nil {
		t.Fatal(err)
	}
	d.Close()
	r := cli(t, nil, "import", file, "--db", dst)
	if r.Code != 0 || !strings.Contains(r.Stdout, "Company    32 created, 0 updated, 0 unchanged") {
		t.Fatalf("import into the fresh database: exit %d\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
	if got := exportDoc(t, dst); got != doc {
		t.Fatalf("export after import differs:\n%s", diffLines(doc, got))
	}

	// Importing the same file again: nothing to do, nothing recorded.
	events := eventCount(t, dst)
	r = cli(t, nil, "import", file, "--db", dst)
	for _, typ := range []string{"Trend", "Framework", "Company", "FAQ"} {
		if !regexp.MustCompile(typ + ` +0 created, 0 updated, \d+ unchanged`).MatchString(r.Stdout) {
			t.Errorf("second import of %s: %s", typ, r.Stdout)
		}
	}
	if r.Code != 0 || strings.Contains(r.Stdout, "article") || eventCount(t, dst) != events || exportDoc(t, dst) != doc {
		t.Fatalf("a second import changed something: exit %d, %d → %d events\n%s", r.Code, events, eventCount(t, dst), r.Stdout)
	}

	// A changed file: one company renamed, one added, the article retitled.
	changed := edit(t, doc, func(c map[string]any) {
		rec(c, "companies", 0)["name"] = "Renamed"
		c["companies"] = append(c["companies"].([]any), map[string]any{"slug": "brand-new", "name": "Brand New"})
		c["article"].(map[string]any)["title"] = "A new title"
	})
	changedFile := filepath.Join(dir, "changed.json")
	writeFile(t, changedFile, changed)
	r = cli(t, nil, "import", "--dry-run", changedFile, "--db", dst)
	if r.Code != 0 || !strings.Contains(r.Stdout, "dry run, nothing changed") || !strings.Contains(r.Stdout, "Company    1 created, 1 updated, 31 unchanged") ||
		!strings.Contains(r.Stdout, "article    updated") {
		t.Fatalf("dry run: exit %d\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
	if eventCount(t, dst) != events || exportDoc(t, dst) != doc {
		t.Fatal("--dry-run changed the database")
	}
	r = cli(t, strings.NewReader(changed), "import", "-", "--db", dst)
	if r.Code != 0 || !strings.Contains(r.Stdout, "Company    1 created, 1 updated, 31 unchanged") {
		t.Fatalf("import from stdin: exit %d\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
	if n := eventCount(t, dst); n != events+3 {
		t.Errorf("import of 3 changes recorded %d events", n-events)
	}
	after := exportDoc(t, dst)
	if !strings.Contains(after, `"name": "Renamed"`) || !strings.Contains(after, `"slug": "brand-new"`) || !strings.Contains(after, "A new title") {
		t.Error("the changes are not in the export")
	}
	// New companies from a file are PUBLISHED unless it says otherwise.
	var c db.Content
	if err := json.Unmarshal([]byte(after), &c); err != nil {
		t.Fatal(err)
	}
	for _, x := range c.Companies {
		if x.Slug == "brand-new" && x.Status != db.StatusPublished {
			t.Errorf("brand-new imported as %s", x.Status)
		}
	}
}

// diffLines shows the first differing lines of two texts.
func diffLines(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := range min(len(al), len(bl)) {
		if al[i] != bl[i] {
			return fmt.Sprintf("line %d:\n- %s\n+ %s", i+1, al[i], bl[i])
		}
	}
	return fmt.Sprintf("lengths %d and %d lines", len(al), len(bl))
}

// postAs sends a GraphQL request to a running server with a token and
// returns the HTTP status and the decoded answer.
func postAs(t testing.TB, url, token, query string) (int, map[string]any) {
	t.Helper()
	status, out, err := tryPost(url, token, query)
	if err != nil {
		t.Fatal(err)
	}
	return status, out
}

// tryPost is postAs for goroutines other than the test's own.
func tryPost(url, token, query string) (int, map[string]any, error) {
	body, _ := json.Marshal(map[string]string{"query": query})
	req, _ := http.NewRequest(http.MethodPost, url+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
		return res.StatusCode, nil, err
	}
	return res.StatusCode, out, nil
}

var tokenRE = regexp.MustCompile(`^tql_[0-9]+_[A-Za-z0-9_-]{43}$`)

// trendql token create prints the token alone on its last line; list
// shows it; it works over HTTP until "token revoke" makes it
// UNAUTHENTICATED, while the server runs. Bad usage exits 2.
func TestTokens_CreateListRevokeThroughTheCLI(t *testing.T) {
	dbPath := dbtest.NewDSN(t)
	r := cli(t, nil, "token", "create", "--name", "deploy-script", "--role", "editor", "--db", dbPath)
	token := r.LastLine()
	if r.Code != 0 || !tokenRE.MatchString(token) {
		t.Fatalf("token create: exit %d, last line %q\n%s", r.Code, token, r.Stderr)
	}
	exp := cli(t, nil, "token", "create", "--name", "temp", "--role", "viewer", "--expires", "1h", "--db", dbPath)
	if exp.Code != 0 || !tokenRE.MatchString(exp.LastLine()) || exp.LastLine() == token {
		t.Fatalf("token create --expires: %+v", exp)
	}
	list := cli(t, nil, "token", "list", "--db", dbPath)
	if list.Code != 0 || !regexp.MustCompile(`(?m)^1 +deploy-script +editor +\S+ +never +active$`).MatchString(list.Stdout) ||
		!regexp.MustCompile(`(?m)^2 +temp +viewer +\S+ +20\S+ +active$`).MatchString(list.Stdout) {
		t.Fatalf("token list:\n%s", list.Stdout)
	}
	if strings.Contains(list.Stdout, strings.TrimPrefix(token, "tql_1_")) {
		t.Fatal("token list shows the secret")
	}

	s := startServer(t, nil, "--db", dbPath)
	status, out := postAs(t, s.URL, token, `{ viewer { name role } }`)
	if status != 200 || fmt.Sprint(out["data"]) != "map[viewer:map[name:deploy-script role:EDITOR]]" {
		t.Fatalf("with the new token: %d %v", status, out)
	}
	if r := cli(t, nil, "token", "revoke", "1", "--db", dbPath); r.Code != 0 || !strings.Contains(r.Stdout, `revoked token 1 "deploy-script"`) {
		t.Fatalf("token revoke: %+v", r)
	}
	status, out = postAs(t, s.URL, token, `{ viewer { name } }`)
	errs, _ := out["errors"].([]any)
	if status != http.StatusUnauthorized || len(errs) != 1 || !strings.Contains(fmt.Sprint(errs[0]), "UNAUTHENTICATED") {
		t.Fatalf("with the revoked token: %d %v", status, out)
	}
	if list := cli(t, nil, "token", "list", "--db", dbPath); !regexp.MustCompile(`(?m)^1 +deploy-script +editor .*revoked 20`).MatchString(list.Stdout) {
		t.Errorf("token list after revoke:\n%s", list.Stdout)
	}
	if r := cli(t, nil, "token", "revoke", "1", "--db", dbPath); r.Code != 0 {
		t.Errorf("revoking twice: %+v", r)
	}
	if r := cli(t, nil, "token", "revoke", "99", "--db", dbPath); r.Code != 1 || !strings.Contains(r.Stderr, "no token with id 99") {
		t.Errorf("revoking an unknown token: %+v", r)
	}

	for _, args := range [][]string{
		{"token"},
		{"token", "frobnicate"},
		{"token", "create", "--role", "editor"},
		{"token", "create", "--name", "x"},
		{"token", "create", "--name", "x", "--role", "owner"},
		{"token", "create", "--name", "x", "--role", "viewer", "--expires", "-1h"},
		{"token", "create", "--name", "x", "--role", "viewer", "--expires", "soon"},
		{"token", "create", "--name", "x", "--role", "viewer", "extra"},
		{"token", "create", "--name", strings.Repeat("x", 201), "--role", "viewer"},
		{"token", "list", "extra"},
		{"token", "revoke"},
		{"token", "revoke", "abc"},
		{"token", "revoke", "1", "2"},
		{"import"},
		{"backup"},
		{"export", "extra"},
	} {
		r := cli(t, nil, append(args, "--db", dbPath)...)
		last := strings.TrimSpace(r.Stderr[strings.LastIndex(strings.TrimSpace(r.Stderr), "\n")+1:])
		if r.Code != 2 || !strings.HasPrefix(last, "trendql: ") {
			t.Errorf("%q: exit %d, stderr %q; want exit 2 and one sentence", args, r.Code, r.Stderr)
		}
	}
}

// trendql backup while a server writes: each copy opens as a trendql
// database, passes integrity_check, and is a consistent snapshot (every
// company in it has its CREATE event and every event its company).
// Backing up onto an existing file fails and leaves it alone.
func TestBackup_WhileTheServerWrites(t *testing.T) {
	dbtest.SkipUnlessSQLite(t, "backup writes an SQLite file (VACUUM INTO), opened here as one")
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "live.db")
	token := cli(t, nil, "token", "create", "--name", "writer", "--role", "editor", "--db", dbPath).LastLine()
	s := startServer(t, nil, "--db", dbPath)

	stop := make(chan struct{})
	writes := make(chan error, 1)
	go func() {
		n := 0
		defer func() { close(writes) }()
		for {
			select {
			case <-stop:
				if n == 0 {
					writes <- fmt.Errorf("no writes ran during the backups")
				}
				return
			default:
			}
			status, out, err := tryPost(s.URL, token, fmt.Sprintf(`mutation { createCompany(input: {name: "Busy Co %d"}) { id } }`, n))
			if err != nil || status != 200 || out["errors"] != nil {
				writes <- fmt.Errorf("write %d: %d %v %v", n, status, out, err)
				return
			}
			n++
		}
	}()
	var backups []string
	for i := range 3 {
		out := filepath.Join(dir, fmt.Sprintf("backup-%d.db", i))
		r := cli(t, nil, "backup", out, "--db", dbPath)
		if r.Code != 0 || !strings.Contains(r.Stdout, "backed up") {
			t.Fatalf("backup %d: %+v", i, r)
		}
		backups = append(backups, out)
		time.Sleep(20 * time.Millisecond)
	}
	close(stop)
	if err := <-writes; err != nil {
		t.Fatal(err)
	}

	ctx := context.Background()
	for _, b := range backups {
		d, err := sql.Open("sqlite", "file:"+b+"?mode=ro")
		if err != nil {
			t.Fatal(err)
		}
		var check string
		if err := d.QueryRow("PRAGMA integrity_check").Scan(&check); err != nil || check != "ok" {
			t.Errorf("%s: integrity_check %q %v", b, check, err)
		}
		var orphans int
		d.QueryRow(`SELECT (SELECT count(*) FROM companies c WHERE NOT EXISTS (SELECT 1 FROM events e WHERE e.type = 'Company' AND e.item_id = c.id))
			+ (SELECT count(*) FROM events e WHERE e.type = 'Company' AND NOT EXISTS (SELECT 1 FROM companies c WHERE c.id = e.item_id))`).Scan(&orphans)
		if orphans != 0 {
			t.Errorf("%s: %d companies without their event or events without their company", b, orphans)
		}
		var busy int
		d.QueryRow(`SELECT count(*) FROM companies WHERE name LIKE 'Busy Co %'`).Scan(&busy)
		t.Logf("%s holds %d of the companies written meanwhile", filepath.Base(b), busy)
		d.Close()
		tq, created, err := db.Open(ctx, b, db.Options{})
		if err != nil || created {
			t.Fatalf("%s does not open as a trendql database: created=%v %v", b, created, err)
		}
		if n, err := tq.CountTrends(ctx, nil); err != nil || n != 10 {
			t.Errorf("%s: %d trends, %v", b, n, err)
		}
		tq.Close()
	}

	before, _ := os.ReadFile(backups[0])
	r := cli(t, nil, "backup", backups[0], "--db", dbPath)
	if r.Code != 1 || !strings.Contains(r.Stderr, "already exists") {
		t.Errorf("backup onto an existing file: %+v", r)
	}
	if after, _ := os.ReadFile(backups[0]); !bytes.Equal(before, after) {
		t.Error("the existing file was changed")
	}
	if r := cli(t, nil, "backup", filepath.Join(dir, "x.db"), "--db", filepath.Join(dir, "missing.db")); r.Code != 1 {
		t.Errorf("backup of a missing database: %+v", r)
	}
}

// backup never writes over anything at its destination: not an existing
// file (an empty one included, which SQLite's VACUUM INTO would fill), not
// one named by a file: URI, not the target of a symlink, dangling or not.
// Each is refused with exit 1 in one sentence, and nothing is written.
func TestBackup_NeverOverwritesOrFollowsSymlinks(t *testing.T) {
	dbtest.SkipUnlessSQLite(t, "backup writes an SQLite file (VACUUM INTO) beside other files")
	dbPath, _ := seededDB(t)
	dir := t.TempDir()
	full := filepath.Join(dir, "full.db")
	writeFile(t, full, "precious")
	empty := filepath.Join(dir, "empty.db")
	writeFile(t, empty, "")
	linkToFull := filepath.Join(dir, "link-to-full.db")
	if err := os.Symlink(full, linkToFull); err != nil {
		t.Fatal(err)
	}
	dangling := filepath.Join(dir, "dangling.db")
	danglingTarget := filepath.Join(dir, "not-there-yet.db")
	if err := os.Symlink(danglingTarget, dangling); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ name, out string }{
		{"an existing file", full},
		{"an empty file", empty},
		{"an empty file as a file: URI", "file:" + empty},
		{"an empty file as a file:// URI", "file://" + empty},
		{"a symlink to a file", linkToFull},
		{"a dangling symlink", dangling},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := cli(t, nil, "backup", c.out, "--db", dbPath)
			line := strings.TrimSpace(r.Stderr)
			if r.Code != 1 || line == "" || strings.Contains(line, "\n") || !strings.HasPrefix(line, "trendql: backup: ") {
				t.Fatalf("exit %d, stderr %q; want exit 1 and one sentence", r.Code, r.Stderr)
			}
			if b, _ := os.ReadFile(full); string(b) != "precious" {
				t.Fatalf("%s was overwritten", full)
			}
			if st, err := os.Stat(empty); err != nil || st.Size() != 0 {
				t.Fatalf("%s was written: %v", empty, err)
			}
			if _, err := os.Lstat(danglingTarget); err == nil {
				t.Fatalf("the dangling symlink was followed: %s exists", danglingTarget)
			}
		})
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 4 {
		t.Errorf("the destination directory holds %d entries, want the 4 it had (no leftovers)", len(entries))
	}
	// A file: URI naming a new file is a path like any other.
	out := filepath.Join(t.TempDir(), "new.db")
	if r := cli(t, nil, "backup", "file:"+out, "--db", dbPath); r.Code != 0 {
		t.Fatalf("backup to a new file given as a URI: %+v", r)
	}
	if st, err := os.Stat(out); err != nil || st.Size() == 0 {
		t.Fatalf("no backup at %s: %v", out, err)
	}
}

// import - reads standard input when it is a pipe (which cannot seek,
// though it is an *os.File), as in `cat content.json | trendql import -`.
func TestImport_FromAPipe(t *testing.T) {
	dbPath, doc := seededDB(t)
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	changed := strings.Replace(doc, `"name": "AWS"`, `"name": "Amazon Web Services"`, 1)
	if changed == doc {
		t.Fatal("no company AWS in the document")
	}
	go func() {
		pw.WriteString(changed)
		pw.Close()
	}()
	r := cli(t, pr, "import", "-", "--db", dbPath)
	pr.Close()
	if r.Code != 0 {
		t.Fatalf("import from a pipe: exit %d: %s", r.Code, r.Stderr)
	}
	if !strings.Contains(r.Stdout, "1 updated") || exportDoc(t, dbPath) != changed {
		t.Fatalf("import from a pipe did not apply the file:\n%s", r.Stdout)
	}
}
