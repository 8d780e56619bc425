package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/trendql/trendql/db"
	"github.com/trendql/trendql/db/dbtest"
)

// pgAdminURL is the URL of a PostgreSQL server on which the tests may
// create databases (dbtest.RequirePostgres: TRENDQL_TEST_POSTGRES, the
// test skipped with a message without it, failed under CI). These tests
// are about PostgreSQL whatever TRENDQL_TEST_ENGINE selects.
func pgAdminURL(tb testing.TB) string {
	tb.Helper()
	return dbtest.RequirePostgres(tb)
}

// newPGDatabase creates an empty database on the test server and returns
// its URL; it is dropped when the test ends. The URL carries a password
// (the server's, or an invented one that a trust cluster ignores) so that
// every test can check that it never appears in any output.
func newPGDatabase(tb testing.TB) (dbURL, password string) {
	tb.Helper()
	admin := pgAdminURL(tb)
	name := "trendql_cli_" + strings.ToLower(rand.Text()[:12])
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		tb.Fatalf("connect to TRENDQL_TEST_POSTGRES: %v", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		c, err := pgx.Connect(ctx, admin)
		if err != nil {
			tb.Error(err)
			return
		}
		defer c.Close(ctx)
		if _, err := c.Exec(ctx, "DROP DATABASE "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
			tb.Error(err)
		}
	})
	u, err := url.Parse(admin)
	if err != nil {
		tb.Fatal(err)
	}
	u.Path = "/" + name
	pw, ok := u.User.Password()
	if !ok {
		pw = "Pw-" + rand.Text()
		u.User = url.UserPassword(u.User.Username(), pw)
	}
	return u.String(), pw
}

// pgExec runs statements on a database directly, as another application
// or an operator would.
func pgExec(tb testing.TB, dbURL string, stmts ...string) {
	tb.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		tb.Fatal(err)
	}
	defer conn.Close(ctx)
	for _, s := range stmts {
		if _, err := conn.Exec(ctx, s); err != nil {
			tb.Fatalf("%s: %v", s, err)
		}
	}
}

// pgSnapshot describes everything in a database's own tables: every
// relation of the public schema with its columns, and every row of every
// table, in a stable order; and whether a trendql_meta exists anywhere.
func pgSnapshot(tb testing.TB, dbURL string) string {
	tb.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		tb.Fatal(err)
	}
	defer conn.Close(ctx)
	var b strings.Builder
	rows, err := conn.Query(ctx, `
		SELECT c.relname, c.relkind, coalesce(string_agg(a.attname || ' ' || format_type(a.atttypid, a.atttypmod), ', ' ORDER BY a.attnum), '')
		FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
		WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
		GROUP BY c.relname, c.relkind ORDER BY c.relname`)
	if err != nil {
		tb.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var name, kind, cols string
		if err := rows.Scan(&name, &kind, &cols); err != nil {
			tb.Fatal(err)
		}
		fmt.Fprintf(&b, "%s %s (%s)\n", kind, name, cols)
		if kind == "r" {
			tables = append(tables, name)
		}
	}
	if err := rows.Err(); err != nil {
		tb.Fatal(err)
	}
	for _, t := range tables {
		var dump string
		q := fmt.Sprintf("SELECT coalesce(string_agg(x::text, E'\\n' ORDER BY x::text), '') FROM %s x", pgx.Identifier{t}.Sanitize())
		if err := conn.QueryRow(ctx, q).Scan(&dump); err != nil {
			tb.Fatal(err)
		}
		fmt.Fprintf(&b, "-- %s\n%s\n", t, dump)
	}
	return b.String()
}

// pgHasTable reports whether the database has a relation of that name in
// any schema.
func pgHasTable(tb testing.TB, dbURL, name string) bool {
	tb.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		tb.Fatal(err)
	}
	defer conn.Close(ctx)
	var n int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM pg_class WHERE relname = $1", name).Scan(&n); err != nil {
		tb.Fatal(err)
	}
	return n > 0
}

// cliEnv runs one command through run() with an environment.
func cliEnv(t testing.TB, env map[string]string, stdin io.Reader, args ...string) cliResult {
	t.Helper()
	return cliCtx(t, context.Background(), env, stdin, args...)
}

// cliCtx runs one command through run() with a context: a command that
// would hang fails the test instead when the context ends.
func cliCtx(t testing.TB, ctx context.Context, env map[string]string, stdin io.Reader, args ...string) cliResult {
	t.Helper()
	if stdin == nil {
		stdin = strings.NewReader("")
	}
	var stdout, stderr bytes.Buffer
	err := run(ctx, args, func(k string) string { return env[k] }, stdin, &stdout, &stderr)
	code := exitCode(err, &stderr)
	return cliResult{Stdout: stdout.String(), Stderr: stderr.String(), Code: code}
}

// oneSentence fails unless a failed command exited with want and wrote
// exactly one line, "trendql: …", on stderr, nothing on stdout, and no
// password anywhere.
func oneSentence(t testing.TB, what string, r cliResult, want int, password string) string {
	t.Helper()
	line := strings.TrimSuffix(r.Stderr, "\n")
	if r.Code != want || !strings.HasPrefix(line, "trendql: ") || strings.Contains(line, "\n") || r.Stdout != "" {
		t.Errorf("%s: exit %d (want %d), stdout %q, stderr %q: want one sentence on stderr", what, r.Code, want, r.Stdout, r.Stderr)
	}
	if password != "" && (strings.Contains(r.Stderr, password) || strings.Contains(r.Stdout, password)) {
		t.Errorf("%s: the password is in the output: %q", what, r.Stderr)
	}
	return line
}

// Every command works on PostgreSQL, named by --db or by TRENDQL_DB: a new
// database is created and seeded by whichever command comes first (or left
// empty with --no-seed), tokens are made, listed, used and revoked, content
// is exported and imported (--dry-run changing nothing), and serve answers
// and logs the URL without its password.
func TestPostgresCLI_EveryCommand(t *testing.T) {
	pgURL, pw := newPGDatabase(t)
	env := map[string]string{"TRENDQL_DB": pgURL}

	// token create on a new database creates and seeds it (through the env).
	r := cliEnv(t, env, nil, "token", "create", "--name", "deploy", "--role", "editor")
	token := r.LastLine()
	if r.Code != 0 || !tokenRE.MatchString(token) {
		t.Fatalf("token create: %+v", r)
	}
	list := cli(t, nil, "token", "list", "--db", pgURL)
	if list.Code != 0 || !regexp.MustCompile(`(?m)^1 +deploy +editor +\S+ +never +active$`).MatchString(list.Stdout) {
		t.Fatalf("token list: %+v", list)
	}

	// The seeded content is the article, as on SQLite.
	exp := cliEnv(t, env, nil, "export")
	if exp.Code != 0 || !strings.Contains(exp.Stdout, `"title": "Top Backend Development Trends to Follow"`) {
		t.Fatalf("export: exit %d %s", exp.Code, exp.Stderr)
	}
	_, sqliteExport := seededDB(t)
	if n, m := strings.Count(exp.Stdout, `"slug"`), strings.Count(sqliteExport, `"slug"`); n != m {
		t.Errorf("PostgreSQL seeded %d slugs, SQLite %d", n, m)
	}

	// import --dry-run changes nothing; import applies.
	dir := t.TempDir()
	changed := edit(t, exp.Stdout, func(c map[string]any) { rec(c, "companies", 0)["name"] = "Renamed On PostgreSQL" })
	file := filepath.Join(dir, "changed.json")
	writeFile(t, file, changed)
	if r := cli(t, nil, "import", "--dry-run", file, "--db", pgURL); r.Code != 0 || !strings.Contains(r.Stdout, "dry run, nothing changed") ||
		!strings.Contains(r.Stdout, "1 updated") {
		t.Fatalf("import --dry-run: %+v", r)
	}
	if got := exportDoc(t, pgURL); got != exp.Stdout {
		t.Fatalf("--dry-run changed the database:\n%s", diffLines(exp.Stdout, got))
	}
	if r := cliEnv(t, env, nil, "import", file); r.Code != 0 || !strings.Contains(r.Stdout, "1 updated") {
		t.Fatalf("import: %+v", r)
	}
	if got := exportDoc(t, pgURL); !strings.Contains(got, `"name": "Renamed On PostgreSQL"`) || len(got) != len(exp.Stdout)+len("Renamed On PostgreSQL")-len(rec(decode(t, exp.Stdout), "companies", 0)["name"].(string)) {
		t.Fatalf("export after import does not have the one change:\n%s", diffLines(exp.Stdout, got))
	}

	// serve: the token works, readiness, and the log names the database
	// without its password.
	s := startServer(t, env)
	status, out := postAs(t, s.URL, token, `{ viewer { name role } company(slug: "`+rec(decode(t, changed), "companies", 0)["slug"].(string)+`") { name } }`)
	if status != 200 || !strings.Contains(fmt.Sprint(out["data"]), "Renamed On PostgreSQL") || !strings.Contains(fmt.Sprint(out["data"]), "EDITOR") {
		t.Fatalf("serve on PostgreSQL: %d %v", status, out)
	}
	if res, err := http.Get(s.URL + "/readyz"); err != nil || res.StatusCode != 200 {
		t.Fatalf("/readyz: %v %v", res, err)
	} else {
		res.Body.Close()
	}
	if r := cli(t, nil, "token", "revoke", "1", "--db", pgURL); r.Code != 0 || !strings.Contains(r.Stdout, `revoked token 1 "deploy"`) {
		t.Fatalf("token revoke: %+v", r)
	}
	if status, _ := postAs(t, s.URL, token, `{ viewer { name } }`); status != http.StatusUnauthorized {
		t.Fatalf("a token revoked through the CLI still works on the server: %d", status)
	}
	if err := s.stop(t); err != nil {
		t.Fatal(err)
	}
	log := s.stderr.String()
	if strings.Contains(log, pw) {
		t.Fatalf("the serve log holds the password:\n%s", log)
	}
	if !strings.Contains(log, db.RedactURL(pgURL)) || !strings.Contains(log, "engine=postgres") {
		t.Errorf("the serve log does not name the database by its redacted URL %s:\n%s", db.RedactURL(pgURL), log)
	}

	// --no-seed leaves a new database empty, on every command.
	empty, _ := newPGDatabase(t)
	if r := cli(t, nil, "export", "--no-seed", "--db", empty); r.Code != 0 || strings.Contains(r.Stdout, `"slug"`) {
		t.Fatalf("export --no-seed: %+v", r)
	}
	if r := cli(t, nil, "export", "--db", empty); r.Code != 0 || strings.Contains(r.Stdout, `"slug"`) {
		t.Fatalf("an existing (empty) database was seeded later: %+v", r)
	}
}

func decode(t testing.TB, doc string) map[string]any {
	t.Helper()
	var c map[string]any
	edit(t, doc, func(m map[string]any) { c = m })
	return c
}

// backup on PostgreSQL refuses, as bad usage, with one sentence that names
// pg_dump and export; it connects to nothing and writes nothing.
func TestPostgresCLI_BackupPointsToPgDump(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "copy.db")
	for _, u := range []string{
		"postgres://trendql:S3cret-pw@127.0.0.1:1/content",
		"postgresql://trendql:S3cret-pw@db.internal/content?sslmode=require",
	} {
		r := cli(t, nil, "backup", out, "--db", u)
		line := oneSentence(t, "backup "+u, r, 2, "S3cret-pw")
		if !strings.Contains(line, "pg_dump") || !strings.Contains(line, "trendql export") || !strings.Contains(line, "xxxxx") {
			t.Errorf("backup on PostgreSQL: %q", line)
		}
		r = cliEnv(t, map[string]string{"TRENDQL_DB": u}, nil, "backup", out)
		oneSentence(t, "backup with TRENDQL_DB", r, 2, "S3cret-pw")
		if _, err := os.Lstat(out); err == nil {
			t.Fatal("backup on PostgreSQL wrote a file")
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("backup left %v behind", entries)
	}
}

// A password in TRENDQL_DB is never printed by a command's -h, which shows
// the flag's default (the environment's value). Needs no PostgreSQL.
func TestCLI_HelpRedactsThePasswordOfTRENDQL_DB(t *testing.T) {
	env := map[string]string{"TRENDQL_DB": "postgres://trendql:S3cret-pw@db.internal:5432/content"}
	for _, args := range [][]string{{"serve", "-h"}, {"export", "-h"}, {"import", "-h"}, {"backup", "-h"}, {"token", "list", "-h"}, {"export", "--bogus"}} {
		r := cliEnv(t, env, nil, args...)
		if strings.Contains(r.Stderr+r.Stdout, "S3cret-pw") {
			t.Errorf("%q prints the password:\n%s", args, r.Stderr)
		}
		if !strings.Contains(r.Stderr, "postgres://trendql:xxxxx@db.internal:5432/content") {
			t.Errorf("%q does not show the redacted default:\n%s", args, r.Stderr)
		}
	}
}

// RedactURL hides the password wherever a URL can carry one.
func TestRedactURL(t *testing.T) {
	for in, want := range map[string]string{
		"postgres://u:S3cret-pw@h:5432/d":                     "postgres://u:xxxxx@h:5432/d",
		"postgres://u@h/d?password=S3cret-pw&sslmode=disable": "postgres://u@h/d?password=xxxxx&sslmode=disable",
		"postgres://u:p%23S3cret-pw@h/d":                      "postgres://u:xxxxx@h/d",
		"postgres://u:p#S3cret-pw@h/d":                        "postgres://…",
		"postgres://u@h/d":                                    "postgres://u@h/d",
	} {
		if got := db.RedactURL(in); got != want || strings.Contains(got, "S3cret") {
			t.Errorf("RedactURL(%q) = %q, want %q", in, got, want)
		}
	}
}

// Bad URLs and servers that cannot be used: each command exits 1 with one
// sentence on stderr that says what is wrong, without the password, and
// in bounded time (a server that does not answer is given up after the
// connect timeout: 10 s by default, connect_timeout in the URL otherwise).
func TestPostgresCLI_BadInputAtTheDoor(t *testing.T) {
	admin := pgAdminURL(t)
	au, err := url.Parse(admin)
	if err != nil {
		t.Fatal(err)
	}
	with := func(f func(u *url.URL)) string {
		u := *au
		f(&u)
		return u.String()
	}
	const pw = "S3cret-pw"

	// A port nobody listens on: take a free one and let it go.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedPort := ln.Addr().String()
	ln.Close()

	// A server that accepts connections and never answers.
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	go func() {
		var held []net.Conn
		defer func() {
			for _, c := range held {
				c.Close()
			}
		}()
		for {
			c, err := silent.Accept()
			if err != nil {
				return
			}
			held = append(held, c)
		}
	}()

	type badCase struct {
		name, url, want string
		within          time.Duration
	}
	cases := []badCase{
		{"connection refused", "postgres://trendql:" + pw + "@" + closedPort + "/content", "refused the connection", 10 * time.Second},
		{"no answer, connect_timeout=1", "postgres://trendql:" + pw + "@" + silent.Addr().String() + "/content?connect_timeout=1", "did not answer within 1s", 8 * time.Second},
		{"no answer, the default timeout", "postgres://trendql:" + pw + "@" + silent.Addr().String() + "/content", "did not answer within 10s", 40 * time.Second},
		{"unknown database", with(func(u *url.URL) {
			u.Path = "/no_such_database_" + strings.ToLower(rand.Text()[:8])
			if _, ok := u.User.Password(); !ok {
				u.User = url.UserPassword(u.User.Username(), pw)
			}
		}), "the database does not exist", 30 * time.Second},
		{"unknown user", with(func(u *url.URL) { u.User = url.UserPassword("no_such_user_"+strings.ToLower(rand.Text()[:8]), pw) }),
			"", 30 * time.Second}, // the wording depends on the server's authentication: checked below
		{"malformed: a # in the password", "postgres://trendql:pa#" + pw + "@db.internal/content", "the URL is malformed", 5 * time.Second},
		{"malformed: port", "postgres://trendql:" + pw + "@db.internal:99999/content", "the URL is malformed (invalid port)", 5 * time.Second},
		{"malformed: sslmode", "postgres://trendql:" + pw + "@db.internal/content?sslmode=bogus", "sslmode is invalid", 5 * time.Second},
		{"malformed: IPv6 host", "postgres://trendql:" + pw + "@[::1/content", "the URL is malformed", 5 * time.Second},
		{"unresolvable host", "postgres://trendql:" + pw + "@no-such-host.invalid/content?connect_timeout=5", "cannot be resolved", 30 * time.Second},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			secret := pw
			if u, err := url.Parse(c.url); err == nil {
				if p, ok := u.User.Password(); ok {
					secret = p
				}
			}
			for _, args := range [][]string{{"export"}, {"token", "list"}, {"import", "--dry-run", "-"}, {"serve", "--addr", "127.0.0.1:0"}} {
				start := time.Now()
				// Far longer than any case may take: without a bound of its
				// own, a connection to the silent server waits for ever.
				ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
				r := cliCtx(t, ctx, nil, strings.NewReader(`{"format":"trendql-content-1"}`), append(args, "--db", c.url)...)
				cancel()
				took := time.Since(start)
				line := oneSentence(t, strings.Join(args, " "), r, 1, secret)
				if !strings.Contains(line, c.want) {
					t.Errorf("%q: %q does not say %q", args, line, c.want)
				}
				if c.name == "unknown user" && !strings.Contains(line, "authentication failed") && !strings.Contains(line, "the user does not exist") {
					t.Errorf("%q: %q", args, line)
				}
				if took > c.within {
					t.Errorf("%q took %s", args, took)
				}
				if c.name == "no answer, the default timeout" {
					break // 10 s each: once is enough
				}
			}
		})
	}
}

// A wrong password. A server that trusts every connection (as the test
// cluster of scripts/pgcluster.sh does) lets any password in, so when
// TRENDQL_TEST_POSTGRES's does, the test starts a private cluster that
// checks passwords (scripts/pgcluster.sh with PGCLUSTER_PASSWORD) and
// stops it at the end.
func TestPostgresCLI_WrongPassword(t *testing.T) {
	admin := pgAdminURL(t)
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.UserPassword(u.User.Username(), "Wrong-"+rand.Text())
	if conn, err := pgx.Connect(context.Background(), u.String()); err == nil {
		conn.Close(context.Background())
		if u, err = url.Parse(passwordCluster(t)); err != nil {
			t.Fatal(err)
		}
		u.User = url.UserPassword(u.User.Username(), "Wrong-"+rand.Text())
	}
	wrong := u.String()
	secret, _ := u.User.Password()
	for _, args := range [][]string{{"export"}, {"token", "create", "--name", "x", "--role", "admin"}, {"import", "-"}, {"serve", "--addr", "127.0.0.1:0"}} {
		r := cli(t, strings.NewReader(`{"format":"trendql-content-1"}`), append(args, "--db", wrong)...)
		line := oneSentence(t, strings.Join(args, " "), r, 1, secret)
		if !strings.Contains(line, "authentication failed (wrong user or password)") || !strings.Contains(line, "xxxxx") {
			t.Errorf("%q: %q", args, line)
		}
	}
}

// passwordCluster starts a private PostgreSQL cluster that checks
// passwords and returns its admin URL (with the password); it is stopped
// and removed when the test ends.
func passwordCluster(t *testing.T) string {
	t.Helper()
	cmd := exec.Command("scripts/pgcluster.sh", "start")
	cmd.Env = append(os.Environ(), "PGCLUSTER_PASSWORD=Pw-"+strings.ToLower(rand.Text()[:16]))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		msg := fmt.Sprintf("the wrong-password test needs a cluster that checks passwords and could not start one: %v: %s", err, stderr.String())
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	vars := map[string]string{}
	for _, line := range strings.Split(string(out), "\n") {
		if k, v, ok := strings.Cut(strings.TrimPrefix(line, "export "), "="); ok {
			vars[k] = strings.Trim(v, "'")
		}
	}
	dir := vars["TRENDQL_PGCLUSTER_DIR"]
	if dir == "" || vars["TRENDQL_TEST_POSTGRES"] == "" {
		t.Fatalf("pgcluster.sh start printed %q", out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("scripts/pgcluster.sh", "stop", dir).CombinedOutput(); err != nil {
			t.Errorf("pgcluster.sh stop: %v: %s", err, out)
		}
	})
	return vars["TRENDQL_TEST_POSTGRES"]
}

// A PostgreSQL database of another application (tables of its own, or a
// trendql_meta that is not trendql's) is refused by every command with
// one sentence, and left exactly as it was: same tables, same rows, no
// trendql_meta created.
func TestPostgresCLI_ForeignDatabaseRefusedUntouched(t *testing.T) {
	for _, c := range []struct {
		name  string
		setup []string
		meta  bool // the foreign database has a trendql_meta of its own
	}{
		{"other tables", []string{
			"CREATE TABLE customers (id serial PRIMARY KEY, name text NOT NULL, joined date)",
			"INSERT INTO customers (name, joined) VALUES ('Ada', '2020-01-02'), ('Grace', NULL)",
			"CREATE TABLE trends (slug text PRIMARY KEY, hits bigint)",
			"INSERT INTO trends VALUES ('go', 42)",
			"CREATE VIEW v_customers AS SELECT name FROM customers",
		}, false},
		{"only a sequence", []string{"CREATE SEQUENCE invoice_numbers START 1000"}, false},
		{"a trendql_meta of another application", []string{
			"CREATE TABLE trendql_meta (key text PRIMARY KEY, value text NOT NULL)",
			"INSERT INTO trendql_meta VALUES ('application', 'someone-else'), ('schema_version', '1')",
		}, true},
		{"a trendql_meta of another shape", []string{
			"CREATE TABLE trendql_meta (id int PRIMARY KEY, note text)",
			"INSERT INTO trendql_meta VALUES (1, 'mine')",
		}, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			pgURL, pw := newPGDatabase(t)
			pgExec(t, pgURL, c.setup...)
			before := pgSnapshot(t, pgURL)
			for _, args := range [][]string{
				{"export"}, {"export", "--no-seed"}, {"token", "create", "--name", "x", "--role", "admin"}, {"token", "list"},
				{"token", "revoke", "1"}, {"import", "-"}, {"import", "--dry-run", "-"}, {"serve", "--addr", "127.0.0.1:0"},
			} {
				r := cli(t, strings.NewReader(`{"format":"trendql-content-1"}`), append(args, "--db", pgURL)...)
				line := oneSentence(t, strings.Join(args, " "), r, 1, pw)
				if !strings.Contains(line, "is not a trendql database") || !strings.Contains(line, db.RedactURL(pgURL)) {
					t.Errorf("%q: %q", args, line)
				}
			}
			if after := pgSnapshot(t, pgURL); after != before {
				t.Fatalf("the foreign database changed:\n%s", diffLines(before, after))
			}
			if !c.meta && pgHasTable(t, pgURL, "trendql_meta") {
				t.Fatal("a trendql_meta was created in the foreign database")
			}
		})
	}
}

// A trendql database whose schema is newer than this build is refused by
// every command, untouched.
func TestPostgresCLI_NewerSchemaRefused(t *testing.T) {
	pgURL, pw := newPGDatabase(t)
	if r := cli(t, nil, "token", "create", "--name", "x", "--role", "admin", "--db", pgURL); r.Code != 0 {
		t.Fatalf("token create: %+v", r)
	}
	pgExec(t, pgURL, "UPDATE trendql_meta SET value = '999' WHERE key = 'schema_version'")
	before := pgSnapshot(t, pgURL)
	for _, args := range [][]string{{"export"}, {"token", "list"}, {"import", "-"}, {"serve", "--addr", "127.0.0.1:0"}} {
		r := cli(t, strings.NewReader(`{"format":"trendql-content-1"}`), append(args, "--db", pgURL)...)
		line := oneSentence(t, strings.Join(args, " "), r, 1, pw)
		if !strings.Contains(line, "schema version 999, newer than this trendql") {
			t.Errorf("%q: %q", args, line)
		}
	}
	if after := pgSnapshot(t, pgURL); after != before {
		t.Fatalf("the database changed:\n%s", diffLines(before, after))
	}
}

// Moving between engines: export from SQLite, import into a new PostgreSQL
// database, export again — the same bytes, drafts and pending drafts of
// published items included; and back from PostgreSQL into a new SQLite
// file. Content made on PostgreSQL makes the reverse trip too.
func TestPostgresCLI_ExportImportBetweenEngines(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	admin := db.WithPrincipal(ctx, &db.Principal{Name: "t", Role: db.RoleAdmin})
	s := func(v string) *string { return &v }
	// richContent adds what a real site has beyond the seed: a new draft
	// company and framework with unicode and markup, a relation changed on
	// a published trend (a pending draft), and a published change.
	richContent := func(dbName string) {
		d, _, err := db.Open(ctx, dbName, db.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		kind := db.KindLanguage
		co, err := d.CreateCompany(admin, db.CompanyPatch{Name: s("Zürich Ünïcode AG ✓")})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := d.CreateFramework(admin, db.FrameworkPatch{Name: s("Gleam"), Kind: &kind, Summary: s("Typed \"BEAM\" language\n<with> & markup"),
			Features: &[]string{"Types", "Erlang interop"}, Companies: &[]int64{co.RowID}}); err != nil {
			t.Fatal(err)
		}
		goTrend, err := d.TrendBySlug(admin, "go")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := d.UpdateTrend(admin, goTrend.RowID, db.TrendPatch{Companies: &[]int64{co.RowID}, Summary: s("A draft summary ✓")}, nil); err != nil {
			t.Fatal(err)
		}
	}
	check := func(doc string) {
		t.Helper()
		for _, want := range []string{`"status": "DRAFT"`, "Zürich Ünïcode AG ✓", `"draft": {`, "A draft summary ✓"} {
			if !strings.Contains(doc, want) {
				t.Fatalf("the export lacks %q", want)
			}
		}
	}
	// trip imports doc into a new database with --no-seed and returns its export.
	trip := func(dst, doc string) string {
		t.Helper()
		file := filepath.Join(dir, fmt.Sprintf("content-%d.json", time.Now().UnixNano()))
		writeFile(t, file, doc)
		if r := cli(t, nil, "import", "--no-seed", file, "--db", dst); r.Code != 0 || !strings.Contains(r.Stdout, "Company    32 created") {
			t.Fatalf("import into %s: exit %d\n%s%s", db.RedactURL(dst), r.Code, r.Stdout, r.Stderr)
		}
		return exportDoc(t, dst)
	}

	t.Run("SQLite to PostgreSQL and back", func(t *testing.T) {
		src, _ := seededDB(t)
		richContent(src)
		doc := exportDoc(t, src)
		check(doc)
		pgURL, _ := newPGDatabase(t)
		if got := trip(pgURL, doc); got != doc {
			t.Fatalf("PostgreSQL's export differs from SQLite's:\n%s", diffLines(doc, got))
		}
		back := filepath.Join(t.TempDir(), "back.db")
		if got := trip(back, exportDoc(t, pgURL)); got != doc {
			t.Fatalf("back on SQLite, the export differs:\n%s", diffLines(doc, got))
		}
	})
	t.Run("PostgreSQL to SQLite and back", func(t *testing.T) {
		pgURL, _ := newPGDatabase(t)
		if r := cli(t, nil, "export", "--db", pgURL); r.Code != 0 {
			t.Fatalf("seed: %+v", r)
		}
		richContent(pgURL)
		doc := exportDoc(t, pgURL)
		check(doc)
		file := filepath.Join(t.TempDir(), "to.db")
		if got := trip(file, doc); got != doc {
			t.Fatalf("SQLite's export differs from PostgreSQL's:\n%s", diffLines(doc, got))
		}
		pg2, _ := newPGDatabase(t)
		if got := trip(pg2, exportDoc(t, file)); got != doc {
			t.Fatalf("back on PostgreSQL, the export differs:\n%s", diffLines(doc, got))
		}
	})
}

// A user that may connect but not create tables (PostgreSQL 15 gives
// other users no CREATE on the public schema): a new database cannot be
// set up, which every command says in one sentence, creating nothing.
func TestPostgresCLI_UserWithoutCreateRefused(t *testing.T) {
	role := "trendql_cli_" + strings.ToLower(rand.Text()[:10])
	pw := "Role-" + rand.Text()
	admin := pgAdminURL(t)
	pgExec(t, admin, "CREATE ROLE "+role+" LOGIN PASSWORD '"+pw+"'")
	// Cleanups run last first: the database (which the role comes to own)
	// is dropped before the role.
	t.Cleanup(func() { pgExec(t, admin, "DROP ROLE IF EXISTS "+role) })
	pgURL, _ := newPGDatabase(t)
	pgExec(t, pgURL, "REVOKE CREATE ON SCHEMA public FROM PUBLIC")
	u, err := url.Parse(pgURL)
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.UserPassword(role, pw)
	before := pgSnapshot(t, pgURL)
	for _, args := range [][]string{{"export"}, {"token", "create", "--name", "x", "--role", "admin"}, {"serve", "--addr", "127.0.0.1:0"}} {
		r := cli(t, nil, append(args, "--db", u.String())...)
		line := oneSentence(t, strings.Join(args, " "), r, 1, pw)
		if !strings.Contains(line, "nothing was changed: permission denied (permission denied ") {
			t.Errorf("%q: %q", args, line)
		}
	}
	if after := pgSnapshot(t, pgURL); after != before {
		t.Fatalf("the database changed:\n%s", diffLines(before, after))
	}
	// What the README tells operators to do: give the user its database.
	name := strings.TrimPrefix(u.Path, "/")
	pgExec(t, admin, "ALTER DATABASE "+pgx.Identifier{name}.Sanitize()+" OWNER TO "+role)
	pgExec(t, pgURL, "ALTER SCHEMA public OWNER TO "+role)
	if r := cli(t, nil, "token", "create", "--name", "x", "--role", "admin", "--db", u.String()); r.Code != 0 {
		t.Fatalf("as the database's owner: %+v", r)
	}
}

// A --db that is neither a file path nor a postgres:// URL but names a
// database another way (another URL scheme, a libpq keyword/value string)
// is refused by every command in one sentence without its password, and
// no file of that name is created. Needs no PostgreSQL.
func TestCLI_DatabaseNamedAnotherWayIsRefused(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	for _, dsn := range []string{
		"mysql://trendql:S3cret-pw@db.internal/content",
		"sqlite://trendql:S3cret-pw@/content.db",
		"host=db.internal user=trendql password=S3cret-pw dbname=content",
		"dbname=content password=S3cret-pw",
	} {
		for _, args := range [][]string{{"export"}, {"token", "list"}, {"import", "-"}, {"backup", filepath.Join(dir, "out.db")}, {"serve", "--addr", "127.0.0.1:0"}} {
			// Taken for a file name, serve would create it and serve it
			// until the context ends.
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			r := cliCtx(t, ctx, nil, strings.NewReader(`{"format":"trendql-content-1"}`), append(args, "--db", dsn)...)
			cancel()
			line := oneSentence(t, fmt.Sprintf("%q %q", dsn, args), r, 1, "S3cret-pw")
			if !strings.Contains(line, "postgres:// URL") {
				t.Errorf("%q %q: %q", dsn, args, line)
			}
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("files were created: %v", entries)
	}
}

// A URL scheme in capitals is still PostgreSQL's (schemes are
// case-insensitive), never a file name.
func TestPostgresCLI_SchemeInCapitals(t *testing.T) {
	pgURL, pw := newPGDatabase(t)
	upper := "POSTGRESQL" + strings.TrimPrefix(pgURL, "postgres")
	t.Chdir(t.TempDir())
	if r := cli(t, nil, "export", "--db", upper); r.Code != 0 || !strings.Contains(r.Stdout, "Top Backend Development Trends to Follow") {
		t.Fatalf("export: %+v", r)
	}
	r := cli(t, nil, "backup", "x.db", "--db", upper)
	if line := oneSentence(t, "backup", r, 2, pw); !strings.Contains(line, "pg_dump") {
		t.Errorf("backup: %q", line)
	}
	if entries, _ := os.ReadDir("."); len(entries) != 0 {
		t.Errorf("files were created: %v", entries)
	}
}
