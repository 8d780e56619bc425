package db_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/trendql/trendql/db"
	"github.com/trendql/trendql/db/dbtest"
)

// needTool returns the path of a command the test needs. Locally a missing
// tool skips the test, saying so; in CI (CI=true) it fails it, because CI
// installs every tool (.ci/run).
func needTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is not installed, and CI must run this test (.ci/run installs it)", name)
		}
		t.Skipf("%s is not installed: skipping (CI installs it; locally: apt-get install %s)", name, name)
	}
	return p
}

// toolsDatabase makes a database the way trendql does in use: seeded, then
// edited (a new draft, an update, a link, a publish, a deletion), with a
// webhook and a ping delivery, and a token. It returns the closed file.
func toolsDatabase(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "trendql.db")
	d := mustOpen(t, path, true)
	ed := db.WithPrincipal(ctx, &db.Principal{Name: "ed", Role: db.RoleEditor})
	c, err := d.CreateCompany(ed, db.CompanyPatch{Name: ptr("Initech")})
	if err != nil {
		t.Fatal(err)
	}
	f, err := d.FrameworkBySlug(ctx, "django")
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Link(ed, db.RelFrameworkCompany, f.RowID, c.RowID, true); err != nil {
		t.Fatal(err)
	}
	if err := d.SetStatus(ed, db.TypeCompany, c.RowID, db.StatusPublished, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := d.UpdateFramework(ed, f.RowID, db.FrameworkPatch{Summary: ptr("A Python web framework, edited.")}, nil); err != nil {
		t.Fatal(err)
	}
	// Drafts of published items, in every way that re-indexes them: a
	// draft company linked in django's draft, published (its name joins
	// the draft's keywords), renamed in place while a draft, then deleted;
	// a trend's draft published, another discarded.
	hooli, err := d.CreateCompany(ed, db.CompanyPatch{Name: ptr("Hooli")})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Link(ed, db.RelFrameworkCompany, f.RowID, hooli.RowID, true); err != nil {
		t.Fatal(err)
	}
	if _, err := d.UpdateCompany(ed, hooli.RowID, db.CompanyPatch{Name: ptr("Hooli XYZ")}, nil); err != nil {
		t.Fatal(err)
	}
	if err := d.Publish(ed, db.TypeCompany, hooli.RowID, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := d.UpdateCompany(ed, hooli.RowID, db.CompanyPatch{Name: ptr("Hooli Draft Name")}, nil); err != nil {
		t.Fatal(err)
	}
	trs, err := d.Trends(ctx, nil, nil, db.PageArgs{})
	if err != nil {
		t.Fatal(err)
	}
	for i, tr := range trs.Items[:2] {
		if _, err := d.UpdateTrend(ed, tr.RowID, db.TrendPatch{Body: ptr("A draft body."), Highlights: &[]string{"draft highlight"}}, nil); err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			err = d.Publish(ed, db.TypeTrend, tr.RowID, nil)
		} else {
			err = d.DiscardDraft(ed, db.TypeTrend, tr.RowID, nil)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if _, err := d.Delete(ed, db.TypeCompany, hooli.RowID, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := d.UpdateFramework(ed, f.RowID, db.FrameworkPatch{Features: &[]string{"Batteries included"}}, nil); err != nil {
		t.Fatal(err)
	}
	gone, err := d.CreateCompany(ed, db.CompanyPatch{Name: ptr("Short Lived")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Delete(ed, db.TypeCompany, gone.RowID, nil); err != nil {
		t.Fatal(err)
	}
	w, err := d.CreateWebhook(ctx, db.WebhookInput{URL: ptr("https://hooks.example.com/trendql")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.PingWebhook(ctx, w.ID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := d.CreateToken(ctx, "ci", db.RoleViewer, time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// schemaObjects lists the tables and views of the file, as sqlite3 reads
// them.
func schemaObjects(t *testing.T, sqlite3, path string) []string {
	t.Helper()
	out := runTool(t, sqlite3, "-batch", "-bail", path, "SELECT name FROM sqlite_schema WHERE type IN ('table', 'view') ORDER BY name;")
	names := strings.Fields(out)
	if len(names) < 20 {
		t.Fatalf("sqlite3 lists %d tables and views: %q", len(names), names)
	}
	return names
}

func runTool(t *testing.T, name string, args ...string) string {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(name, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil || stderr.Len() > 0 {
		t.Fatalf("%s %s: %v\n%s%s", filepath.Base(name), strings.Join(args[max(0, len(args)-1):], " "), err, stderr.String(), stdout.String())
	}
	return stdout.String()
}

// TestStandardTools_ReadTheDatabase opens a database trendql made with the
// sqlite3 command-line shell (Debian 12 has 3.40) and with Python's sqlite3
// module: its integrity, its schema, a SELECT from every table and view, and
// a search with snippets through the external content index.
func TestStandardTools_ReadTheDatabase(t *testing.T) {
	dbtest.SkipUnlessSQLite(t, "Debian's sqlite3 and Python's sqlite3 read the file")
	sqlite3 := needTool(t, "sqlite3")
	path := toolsDatabase(t)
	t.Logf("sqlite3 %s", strings.TrimSpace(runTool(t, sqlite3, "-version")))

	if got := strings.TrimSpace(runTool(t, sqlite3, "-batch", "-bail", path, "PRAGMA integrity_check;")); got != "ok" {
		t.Errorf("integrity_check: %s", got)
	}
	schema := runTool(t, sqlite3, "-batch", "-bail", path, ".schema")
	for _, want := range []string{"CREATE TABLE trends", "CREATE VIRTUAL TABLE search_public USING fts5", "CREATE VIEW search_docs"} {
		if !strings.Contains(schema, want) {
			t.Errorf(".schema has no %q", want)
		}
	}
	var script strings.Builder
	names := schemaObjects(t, sqlite3, path)
	for _, n := range names {
		fmt.Fprintf(&script, "SELECT '%s', count(*) FROM \"%s\";\nSELECT * FROM \"%s\" LIMIT 3;\n", n, n, n)
	}
	out := runTool(t, sqlite3, "-batch", "-bail", path, script.String())
	for _, n := range []string{"trends", "events", "tokens", "webhooks", "webhook_deliveries", "search_docs", "search_public"} {
		if !strings.Contains(out, n+"|") {
			t.Errorf("no count for %s in the output", n)
		}
	}
	for _, idx := range []string{"search", "search_public"} {
		q := fmt.Sprintf("SELECT rowid, snippet(%[1]s, -1, '[', ']', '…', 8) FROM %[1]s WHERE %[1]s MATCH 'initech' ORDER BY bm25(%[1]s);", idx)
		if got := runTool(t, sqlite3, "-batch", "-bail", path, q); !strings.Contains(got, "[Initech]") {
			t.Errorf("%s: a search for initech gives %q, want the company and Django with [Initech]", idx, got)
		}
	}
	for _, q := range []string{
		"INSERT INTO search (search, rank) VALUES ('integrity-check', 1);",
		"INSERT INTO search_public (search_public, rank) VALUES ('integrity-check', 1);",
	} {
		runTool(t, sqlite3, "-batch", "-bail", path, q)
	}

	python, err := exec.LookPath("python3")
	if err != nil {
		t.Logf("python3 is not installed: the Python check is left out")
		return
	}
	py := `
import sqlite3, sys
con = sqlite3.connect("file:" + sys.argv[1] + "?mode=ro", uri=True)
print("sqlite", sqlite3.sqlite_version, file=sys.stderr)
assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
names = [r[0] for r in con.execute("SELECT name FROM sqlite_schema WHERE type IN ('table', 'view')")]
for n in names:
    con.execute('SELECT * FROM "%s" LIMIT 3' % n).fetchall()
hits = con.execute("SELECT snippet(search_public, -1, '[', ']', '…', 8) FROM search_public WHERE search_public MATCH 'initech'").fetchall()
assert any("[Initech]" in h[0] for h in hits), hits
print(len(names))
`
	cmd := exec.Command(python, "-c", py, path)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out2, err := cmd.Output()
	if err != nil {
		t.Fatalf("python3: %v\n%s", err, stderr.String())
	}
	if strings.TrimSpace(string(out2)) != fmt.Sprint(len(names)) {
		t.Errorf("python3 read %s tables and views, sqlite3 %d", out2, len(names))
	}
	t.Logf("python3: %s", strings.TrimSpace(stderr.String()))
}
