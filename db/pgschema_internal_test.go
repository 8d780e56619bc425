package db

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// pgTestURL is the PostgreSQL server the PostgreSQL tests use, from
// TRENDQL_TEST_POSTGRES (postgres://user@host:port/db?sslmode=disable). Without
// it the test is skipped, saying so; under CI=true it fails, because CI must
// run it.
func pgTestURL(t *testing.T) string {
	t.Helper()
	u := os.Getenv("TRENDQL_TEST_POSTGRES")
	if u == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("TRENDQL_TEST_POSTGRES is not set, and CI must run the PostgreSQL tests")
		}
		t.Skip("TRENDQL_TEST_POSTGRES is not set: no PostgreSQL server to test against")
	}
	return u
}

// freshPostgres creates an empty database on the test server, dropped when the
// test ends, and connects to it.
func freshPostgres(t *testing.T) *pgx.Conn {
	t.Helper()
	ctx := context.Background()
	base := pgTestURL(t)
	admin, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("connect to TRENDQL_TEST_POSTGRES: %v", err)
	}
	defer admin.Close(ctx)
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	name := "trendql_test_" + hex.EncodeToString(b[:])
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		admin, err := pgx.Connect(context.Background(), base)
		if err != nil {
			t.Errorf("drop %s: %v", name, err)
			return
		}
		defer admin.Close(context.Background())
		if _, err := admin.Exec(context.Background(), "DROP DATABASE "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("drop %s: %v", name, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	conn, err := pgx.Connect(ctx, u.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// loadPgSchema runs every file of the embedded PostgreSQL schema, each in one
// transaction, as the engine will.
func loadPgSchema(t *testing.T, conn *pgx.Conn) {
	t.Helper()
	ctx := context.Background()
	files, err := pgMigrationFS.ReadDir("migrations_pg")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no PostgreSQL migration embedded")
	}
	for _, f := range files {
		text, err := pgMigrationFS.ReadFile("migrations_pg/" + f.Name())
		if err != nil {
			t.Fatal(err)
		}
		tx, err := conn.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.Exec(ctx, string(text)); err != nil {
			t.Fatalf("%s: %v", f.Name(), err)
		}
		if err := tx.Commit(ctx); err != nil {
			t.Fatal(err)
		}
	}
}

// twin is a SQLite database at schema version 10 and a PostgreSQL database
// with the ported schema, which the same statements must leave identical.
type twin struct {
	t    *testing.T
	lite *sql.DB
	pg   *pgx.Conn
}

func newTwin(t *testing.T) *twin {
	t.Helper()
	pg := freshPostgres(t)
	loadPgSchema(t, pg)
	d, _, err := Open(context.Background(), filepath.Join(t.TempDir(), "twin.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	if v := SchemaVersion(); v != 10 {
		t.Fatalf("the PostgreSQL schema ports SQLite version 10, and SQLite is at %d now: port the new migrations", v)
	}
	return &twin{t: t, lite: d.write, pg: pg}
}

var placeholder = regexp.MustCompile(`\?`)

// pgDialect does the translation the engine does at its chokepoints, for the
// statements of these tests: ? becomes $n (none of them has a ? in a literal).
func pgDialect(q string) string {
	n := 0
	return placeholder.ReplaceAllStringFunc(q, func(string) string {
		n++
		return "$" + strconv.Itoa(n)
	})
}

// exec runs one SQLite statement on both databases (PostgreSQL gets it with
// $n placeholders) and fails the test if either refuses it.
func (w *twin) exec(q string, args ...any) {
	w.t.Helper()
	w.exec2(q, pgDialect(q), args...)
}

// exec2 runs a statement written in each dialect.
func (w *twin) exec2(lite, pg string, args ...any) {
	w.t.Helper()
	if _, err := w.lite.Exec(lite, args...); err != nil {
		w.t.Fatalf("sqlite: %s: %v", lite, err)
	}
	if _, err := w.pg.Exec(context.Background(), pg, args...); err != nil {
		w.t.Fatalf("postgres: %s: %v", pg, err)
	}
}

// fail runs one statement on both databases, which must both refuse it, and
// returns the two errors' messages.
func (w *twin) fail(q string, args ...any) (lite, pg string) {
	w.t.Helper()
	_, lerr := w.lite.Exec(q, args...)
	_, perr := w.pg.Exec(context.Background(), pgDialect(q), args...)
	if lerr == nil || perr == nil {
		w.t.Fatalf("%s: want both refused, got sqlite %v, postgres %v", q, lerr, perr)
	}
	var pe *pgconn.PgError
	if !errors.As(perr, &pe) {
		w.t.Fatalf("postgres: %s: %v is not a server error", q, perr)
	}
	return lerr.Error(), pe.Message
}

// cell renders a value the same way whichever driver scanned it.
func cell(v any) string {
	switch v := v.(type) {
	case nil:
		return "NULL"
	case []byte:
		return "b:" + string(v)
	case string:
		return "s:" + v
	case int64:
		return "i:" + strconv.FormatInt(v, 10)
	case int32:
		return "i:" + strconv.FormatInt(int64(v), 10)
	case float64:
		return "f:" + strconv.FormatFloat(v, 'g', -1, 64)
	default:
		return fmt.Sprintf("%T:%v", v, v)
	}
}

// rows runs a query on both databases and returns the rendered rows of each,
// in the order the query gives them.
func (w *twin) rows2(lite, pg string, args ...any) (l, p [][]string) {
	w.t.Helper()
	lr, err := w.lite.Query(lite, args...)
	if err != nil {
		w.t.Fatalf("sqlite: %s: %v", lite, err)
	}
	defer lr.Close()
	cols, _ := lr.Columns()
	for lr.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := lr.Scan(ptrs...); err != nil {
			w.t.Fatal(err)
		}
		row := make([]string, len(vals))
		for i, v := range vals {
			row[i] = cell(v)
		}
		l = append(l, row)
	}
	if err := lr.Err(); err != nil {
		w.t.Fatal(err)
	}
	pr, err := w.pg.Query(context.Background(), pg, args...)
	if err != nil {
		w.t.Fatalf("postgres: %s: %v", pg, err)
	}
	defer pr.Close()
	for pr.Next() {
		vals, err := pr.Values()
		if err != nil {
			w.t.Fatal(err)
		}
		row := make([]string, len(vals))
		for i, v := range vals {
			row[i] = cell(v)
		}
		p = append(p, row)
	}
	if err := pr.Err(); err != nil {
		w.t.Fatalf("postgres: %s: %v", pg, err)
	}
	return l, p
}

// same requires a query to give the same rows on both databases, in order.
func (w *twin) same(q string, args ...any) [][]string {
	w.t.Helper()
	return w.same2(q, pgDialect(q), args...)
}

// same2 is same with the query written in each dialect.
func (w *twin) same2(lite, pg string, args ...any) [][]string {
	w.t.Helper()
	l, p := w.rows2(lite, pg, args...)
	if !reflect.DeepEqual(l, p) {
		w.t.Fatalf("%s\nsqlite:   %q\npostgres: %q", lite, l, p)
	}
	return l
}

// sameSet requires a query to give the same rows, in any order (NULLs sort
// first in SQLite and last in PostgreSQL).
func (w *twin) sameSet(q string, args ...any) {
	w.t.Helper()
	l, p := w.rows2(q, pgDialect(q), args...)
	key := func(rs [][]string) []string {
		out := make([]string, len(rs))
		for i, r := range rs {
			out[i] = strings.Join(r, "\x00")
		}
		sort.Strings(out)
		return out
	}
	if !reflect.DeepEqual(key(l), key(p)) {
		w.t.Fatalf("%s\nsqlite:   %q\npostgres: %q", q, l, p)
	}
}

// Every table and view a statement may read, compared whole.
var twinRelations = []string{
	"article", "article_sections", "companies", "frameworks", "trends", "faqs",
	"framework_companies", "trend_companies", "trend_frameworks", "faq_frameworks", "faq_trends",
	"tokens", "search_suspended", "webhooks", "webhook_deliveries", "webhook_attempts", "webhook_dispatch",
	"events", "events_pruning", "event_retention",
	"trend_drafts", "framework_drafts", "company_drafts", "faq_drafts",
	"framework_companies_drafts", "trend_companies_drafts", "trend_frameworks_drafts",
	"faq_frameworks_drafts", "faq_trends_drafts", "schedules",
	"trends_preview", "frameworks_preview", "companies_preview", "faqs_preview",
	"framework_companies_preview", "trend_companies_preview", "trend_frameworks_preview",
	"faq_frameworks_preview", "faq_trends_preview",
	"trends_overlay", "frameworks_overlay", "companies_overlay", "faqs_overlay",
	"trends_drafted", "frameworks_drafted", "companies_drafted", "faqs_drafted",
	"search_trend_docs", "search_framework_docs", "search_company_docs", "search_faq_docs",
	"search_trend_draft_docs", "search_framework_draft_docs", "search_company_draft_docs", "search_faq_draft_docs",
	"search_docs", "search_public_docs", "search_drafted",
}

// sameEverywhere compares every relation, and what each search index holds.
func (w *twin) sameEverywhere() {
	w.t.Helper()
	for _, r := range twinRelations {
		w.sameSet("SELECT * FROM " + r)
	}
	w.sameIndexes()
}

// sameIndexes requires each PostgreSQL search table to hold exactly the rows
// its SQLite FTS5 index holds: the same rids (read from the index itself,
// through fts5vocab, not from its content view), each with the text the
// content view gives for it.
func (w *twin) sameIndexes() {
	w.t.Helper()
	for _, idx := range []struct{ fts, docs string }{{"search", "search_docs"}, {"search_public", "search_public_docs"}} {
		if _, err := w.lite.Exec(fmt.Sprintf("CREATE VIRTUAL TABLE IF NOT EXISTS temp.%s_instances USING fts5vocab(main, %s, instance)", idx.fts, idx.fts)); err != nil {
			w.t.Fatal(err)
		}
		l, p := w.rows2(
			fmt.Sprintf("SELECT rid, name, keywords, summary, body FROM %s WHERE rid IN (SELECT doc FROM temp.%s_instances) ORDER BY rid", idx.docs, idx.fts),
			fmt.Sprintf("SELECT rid, name, keywords, summary, body FROM %s ORDER BY rid", idx.fts))
		var lrids []string
		if err := func() error {
			rs, err := w.lite.Query(fmt.Sprintf("SELECT DISTINCT doc FROM temp.%s_instances ORDER BY doc", idx.fts))
			if err != nil {
				return err
			}
			defer rs.Close()
			for rs.Next() {
				var d int64
				if err := rs.Scan(&d); err != nil {
					return err
				}
				lrids = append(lrids, "i:"+strconv.FormatInt(d, 10))
			}
			return rs.Err()
		}(); err != nil {
			w.t.Fatal(err)
		}
		var lr []string
		for _, r := range l {
			lr = append(lr, r[0])
		}
		if !reflect.DeepEqual(lr, lrids) {
			w.t.Fatalf("%s: SQLite indexes rids %v, and its view has text for %v", idx.fts, lrids, lr)
		}
		if !reflect.DeepEqual(l, p) {
			w.t.Fatalf("index %s\nsqlite:   %q\npostgres: %q", idx.fts, l, p)
		}
	}
	// The stored tsvector is the one the text gives now.
	for _, tbl := range []string{"search", "search_public"} {
		var stale int
		if err := w.pg.QueryRow(context.Background(),
			"SELECT count(*) FROM "+tbl+" WHERE tsv IS DISTINCT FROM trendql_tsvector(name, keywords, summary, body)").Scan(&stale); err != nil {
			w.t.Fatal(err)
		}
		if stale != 0 {
			w.t.Fatalf("%s: %d rows with a stale tsvector", tbl, stale)
		}
	}
}

const ts = "2024-01-29T00:00:00Z"

// fill writes the same small set of content to both databases, with ids left
// to each engine, links, and drafts of published items with their own links.
func (w *twin) fill() {
	w.t.Helper()
	for _, c := range []struct{ slug, name, status string }{
		{"netflix", "Netflix", "PUBLISHED"}, {"uber", "Uber", "PUBLISHED"},
		{"cafe-deja-vu", "Café Déjà Vu", "PUBLISHED"}, {"secret", "Secret Labs", "DRAFT"},
	} {
		w.exec("INSERT INTO companies (slug, name, status, created_at, updated_at) VALUES (?, ?, ?, ?, ?)", c.slug, c.name, c.status, ts, ts)
	}
	for _, f := range []struct{ slug, name, kind, lang, creator, features, status string }{
		{"django", "Django", "FRAMEWORK", "Python", "Adrian Holovaty", `["ORM","Admin panel","Migrations"]`, "PUBLISHED"},
		{"go", "Go", "LANGUAGE", "", "Google", `["Goroutines", "Channels"]`, "PUBLISHED"},
		{"elixir", "elixir", "LANGUAGE", "", "", `[]`, "DRAFT"},
		{"odd", "Élan", "FRAMEWORK", "Rust", "", `not json · at all`, "PUBLISHED"},
		{"mixed", "Mixed", "FRAMEWORK", "", "", `["a", 2, true, false, null, 1.5, "z"]`, "PUBLISHED"},
		{"scalar", "Scalar", "FRAMEWORK", "", "", `"just a string"`, "PUBLISHED"},
	} {
		w.exec("INSERT INTO frameworks (slug, name, kind, language, creator, features, status, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
			f.slug, f.name, f.kind, f.lang, f.creator, f.features, f.status, ts, ts)
	}
	for _, tr := range []struct {
		slug              string
		rank              int
		name, hl, ex, sts string
	}{
		{"serverless", 1, "Serverless Computing", `["Pay per use","No servers to manage"]`, `["AWS Lambda"]`, "PUBLISHED"},
		{"microservices", 2, "Microservices", `[]`, `["Kubernetes","Docker"]`, "PUBLISHED"},
		{"jamstack", 3, "JAMstack", `["Static sites"]`, `[]`, "DRAFT"},
	} {
		w.exec("INSERT INTO trends (slug, rank, name, category, summary, body, highlights, examples, status, created_at, updated_at) VALUES (?, ?, ?, 'Architecture', ?, ?, ?, ?, ?, ?, ?)",
			tr.slug, tr.rank, tr.name, "Summary of "+tr.name, "The **body** of "+tr.name+", naïve résumé", tr.hl, tr.ex, tr.sts, ts, ts)
	}
	w.exec("INSERT INTO faqs (slug, position, question, answer, items, status, created_at, updated_at) VALUES ('which', 1, ?, 'These.', '[\"Django\",\"Go\"]', 'PUBLISHED', ?, ?)", "Which frameworks?", ts, ts)
	w.exec("INSERT INTO faqs (slug, position, question, answer, items, status, created_at, updated_at) VALUES ('why', 2, 'Why not', 'Because.', '[]', 'DRAFT', ?, ?)", ts, ts)
	// Links, in an order that is not the order of their positions.
	w.exec("INSERT INTO framework_companies (framework_id, company_id, position) VALUES (1, 2, 1), (1, 1, 0), (1, 3, 2), (1, 4, 3), (2, 1, 0)")
	w.exec("INSERT INTO trend_companies (trend_id, company_id, position) VALUES (1, 1, 0), (2, 2, 0)")
	w.exec("INSERT INTO trend_frameworks (trend_id, framework_id, position) VALUES (1, 2, 0)")
	w.exec("INSERT INTO faq_frameworks (faq_id, framework_id, position) VALUES (1, 1, 0), (1, 2, 1)")
	w.exec("INSERT INTO faq_trends (faq_id, trend_id, position) VALUES (1, 1, 0)")
	// Drafts of published items.
	w.exec("INSERT INTO framework_drafts (id, slug, name, kind, language, creator, features, version, updated_at) SELECT id, 'django-5', 'Django 5', kind, language, creator, '[\"Async views\"]', 2, ? FROM frameworks WHERE slug = 'django'", ts)
	w.exec("INSERT INTO framework_companies_drafts (framework_id, company_id, position) VALUES (1, 3, 0), (1, 2, 1)")
	w.exec("INSERT INTO trend_drafts (id, slug, rank, name, category, summary, body, highlights, examples, version, updated_at) VALUES (2, 'micro', 2, 'Microservices, drafted', 'Architecture', 'New summary', 'Draft body with zeppelin', '[\"Small services\"]', '[]', 2, ?)", ts)
	w.exec("INSERT INTO trend_companies_drafts (trend_id, company_id, position) VALUES (2, 1, 0)")
	w.exec("INSERT INTO trend_frameworks_drafts (trend_id, framework_id, position) VALUES (2, 1, 0)")
	w.exec("INSERT INTO company_drafts (id, slug, name, version, updated_at) VALUES (2, 'uber-tech', 'Uber Technologies', 2, ?)", ts)
	w.exec("INSERT INTO faq_drafts (id, slug, position, question, answer, items, version, updated_at) VALUES (1, 'which', 1, 'Which frameworks, really', 'Those.', '[\"Go\"]', 2, ?)", ts)
	w.exec("INSERT INTO faq_frameworks_drafts (faq_id, framework_id, position) VALUES (1, 2, 0)")
	w.exec("INSERT INTO faq_trends_drafts (faq_id, trend_id, position) VALUES (1, 2, 0)")
}

// The same writes leave the same tables, views and search indexes on both
// engines, through every kind of write the FTS5 triggers react to.
func TestPgSchema_SameAsSQLite(t *testing.T) {
	w := newTwin(t)
	w.sameEverywhere()
	w.fill()
	w.sameEverywhere()

	steps := []string{
		// Live edits of each indexed column, and of columns that are not indexed.
		"UPDATE trends SET name = 'Serverless', highlights = '[\"Cold starts\"]' WHERE slug = 'serverless'",
		"UPDATE trends SET version = version + 1, updated_at = 'later' WHERE slug = 'serverless'",
		"UPDATE frameworks SET creator = '', architecture = 'MVT', language = 'Python 3' WHERE slug = 'django'",
		"UPDATE faqs SET items = '[\"Elixir\"]', answer = 'Elixir.' WHERE slug = 'which'",
		// Publishing and unpublishing move items in and out of the public index.
		"UPDATE trends SET status = 'PUBLISHED' WHERE slug = 'jamstack'",
		"UPDATE frameworks SET status = 'DRAFT' WHERE slug = 'go'",
		"UPDATE companies SET status = 'PUBLISHED' WHERE slug = 'secret'",
		// A company's name and status are in its frameworks' keywords, live and drafted.
		"UPDATE companies SET name = 'Netflix Inc' WHERE slug = 'netflix'",
		"UPDATE companies SET status = 'DRAFT' WHERE slug = 'cafe-deja-vu'",
		// Links, live and drafted: insert, move, delete.
		"UPDATE framework_companies SET position = 9 WHERE framework_id = 1 AND company_id = 1",
		"UPDATE framework_companies SET framework_id = 2 WHERE framework_id = 1 AND company_id = 2",
		"DELETE FROM framework_companies WHERE framework_id = 2 AND company_id = 1",
		"INSERT INTO framework_companies_drafts (framework_id, company_id, position) VALUES (1, 1, 5)",
		"UPDATE framework_companies_drafts SET position = 7 WHERE company_id = 3",
		"DELETE FROM framework_companies_drafts WHERE company_id = 2",
		// Draft edits.
		"UPDATE trend_drafts SET body = 'Rewritten body', examples = '[\"Istio\"]' WHERE id = 2",
		"UPDATE framework_drafts SET features = '[\"Async ORM\"]', creator = 'DSF' WHERE id = 1",
		"UPDATE company_drafts SET name = 'Uber Tech' WHERE id = 2",
		"UPDATE faq_drafts SET question = 'Which ones' WHERE id = 1",
		// Publishing a draft: the live row takes its text, the draft goes.
		"UPDATE companies SET slug = 'uber-tech', name = 'Uber Tech', version = 2 WHERE id = 2",
		"DELETE FROM company_drafts WHERE id = 2",
		// Deletes: a draft with links, a company linked from live and drafted
		// frameworks, a framework others link to, a trend with a draft.
		"DELETE FROM faq_drafts WHERE id = 1",
		"DELETE FROM companies WHERE slug = 'netflix'",
		"DELETE FROM framework_drafts WHERE id = 1",
		"DELETE FROM frameworks WHERE slug = 'go'",
		"DELETE FROM trends WHERE slug = 'microservices'",
	}
	for _, s := range steps {
		w.exec(s)
		w.sameEverywhere()
	}
}

// Searching the indexes finds the same items on both engines for words that
// both stemmers treat alike, accents ignored either way.
func TestPgSchema_SearchMatches(t *testing.T) {
	w := newTwin(t)
	w.fill()
	for _, word := range []string{"django", "cafe", "deja", "naive", "resume", "servers", "zeppelin", "elan", "goroutines", "async"} {
		for _, idx := range []string{"search", "search_public"} {
			w.same2(
				fmt.Sprintf("SELECT rowid FROM %s WHERE %s MATCH ? ORDER BY rowid", idx, idx),
				fmt.Sprintf("SELECT rid FROM %s WHERE tsv @@ to_tsquery('trendql', $1) ORDER BY rid", idx),
				word)
		}
	}
	// The weights: the name is A, keywords B, summary C, body D.
	var weights string
	if err := w.pg.QueryRow(context.Background(),
		"SELECT trendql_tsvector('Alpha', 'Bravo', 'Charlie', 'Delta')::text").Scan(&weights); err != nil {
		t.Fatal(err)
	}
	if weights != "'alpha':1A 'bravo':2B 'charli':3C 'delta':4" {
		t.Fatalf("weights: %s", weights)
	}
}

// With search_suspended set, writes leave both indexes alone; rebuilding
// (FTS5's 'rebuild' there, search_rebuild() here) gives the same indexes.
func TestPgSchema_SuspendedAndRebuilt(t *testing.T) {
	w := newTwin(t)
	w.exec("INSERT INTO search_suspended (one) VALUES (1)")
	w.fill()
	w.exec("UPDATE companies SET name = 'Netflix Inc' WHERE slug = 'netflix'")
	w.exec("DELETE FROM trends WHERE slug = 'jamstack'")
	w.sameIndexes()
	var n int
	if err := w.pg.QueryRow(context.Background(), "SELECT (SELECT count(*) FROM search) + (SELECT count(*) FROM search_public)").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Fatalf("suspended: %d rows indexed", n)
	}
	w.exec("DELETE FROM search_suspended")
	w.exec2("INSERT INTO search (search) VALUES ('rebuild')", "SELECT search_rebuild()")
	w.exec2("INSERT INTO search_public (search_public) VALUES ('rebuild')", "SELECT 1")
	w.sameEverywhere()
	// Rebuilding again changes nothing, and triggers work again afterwards.
	w.exec2("INSERT INTO search (search) VALUES ('rebuild')", "SELECT search_rebuild()")
	w.exec("UPDATE frameworks SET name = 'Django Web' WHERE slug = 'django'")
	w.sameEverywhere()
}

// Ids left NULL are max + 1 on both engines, reused after the newest row is
// deleted; explicit ids are kept; the event and schedule logs never reuse one.
func TestPgSchema_Ids(t *testing.T) {
	w := newTwin(t)
	// The engine reads the next event id from events_id_seq, as SQLite's
	// code reads sqlite_sequence.
	nextEvent := func() int64 {
		t.Helper()
		var next int64
		if err := w.pg.QueryRow(context.Background(),
			"SELECT CASE WHEN is_called THEN last_value + 1 ELSE last_value END FROM events_id_seq").Scan(&next); err != nil {
			t.Fatal(err)
		}
		return next
	}
	if n := nextEvent(); n != 1 {
		t.Fatalf("events_id_seq on an empty log: next %d, want 1", n)
	}
	w.fill()
	w.exec("DELETE FROM companies WHERE slug = 'secret'")
	w.exec("INSERT INTO companies (slug, name, created_at, updated_at) VALUES ('n1', 'N1', ?, ?)", ts, ts)
	w.exec("INSERT INTO companies (id, slug, name, created_at, updated_at) VALUES (40, 'n40', 'N40', ?, ?)", ts, ts)
	w.exec("INSERT INTO companies (slug, name, created_at, updated_at) VALUES ('n41', 'N41', ?, ?)", ts, ts)
	w.exec("DELETE FROM companies WHERE id = 41")
	w.exec("INSERT INTO companies (slug, name, created_at, updated_at) VALUES ('again', 'Again', ?, ?)", ts, ts)
	w.exec("INSERT INTO tokens (name, role, secret_hash, created_at) VALUES ('t', 'viewer', ?, ?)", []byte{1, 2, 3}, ts)
	w.exec("INSERT INTO article_sections (heading) VALUES ('First')")
	w.exec("INSERT INTO article_sections (heading) VALUES ('Second')")
	got := w.same("SELECT id, slug FROM companies ORDER BY id")
	if last := got[len(got)-1]; last[0] != "i:41" || last[1] != "s:again" {
		t.Fatalf("companies: %v", got)
	}
	w.sameEverywhere()

	for i := 0; i < 3; i++ {
		w.exec("INSERT INTO events (at, type, item_id, slug, action, version, status, actor) VALUES (?, 'Trend', 1, 'serverless', 'UPDATE', ?, 'PUBLISHED', 'cli')", ts, i+2)
		w.exec("INSERT INTO schedule_log (at, type, item_id, slug, action, outcome, due_at, actor) VALUES (?, 'Trend', 1, 'serverless', 'PUBLISH', 'SCHEDULED', ?, 'cli')", ts, ts)
	}
	w.exec("INSERT INTO events_pruning (one) VALUES (1)")
	w.exec("DELETE FROM events WHERE id >= 2")
	w.exec("DELETE FROM schedule_log WHERE id >= 2")
	w.exec("DELETE FROM events_pruning")
	w.exec("INSERT INTO events (at, type, item_id, slug, action, version, status, actor) VALUES (?, 'Trend', 1, 'serverless', 'UPDATE', 9, 'PUBLISHED', 'cli')", ts)
	w.exec("INSERT INTO schedule_log (at, type, item_id, slug, action, outcome, due_at, actor) VALUES (?, 'Trend', 1, 'serverless', 'PUBLISH', 'CLEARED', ?, 'cli')", ts, ts)
	if got := w.same("SELECT id FROM events ORDER BY id"); !reflect.DeepEqual(got, [][]string{{"i:1"}, {"i:4"}}) {
		t.Fatalf("events: %v", got)
	}
	if got := w.same("SELECT id FROM schedule_log ORDER BY id"); !reflect.DeepEqual(got, [][]string{{"i:1"}, {"i:4"}}) {
		t.Fatalf("schedule_log: %v", got)
	}
	if n := nextEvent(); n != 5 {
		t.Fatalf("events_id_seq: next %d, want 5", n)
	}
	w.sameEverywhere()
}

// The logs refuse what SQLite's triggers refuse, with the same messages, and
// the constraints refuse the same rows; a refused statement changes nothing.
func TestPgSchema_Refusals(t *testing.T) {
	w := newTwin(t)
	w.fill()
	w.exec("INSERT INTO events (at, type, item_id, slug, action, version, status, actor) VALUES (?, 'Trend', 1, 'serverless', 'UPDATE', 2, 'PUBLISHED', 'cli')", ts)
	w.exec("INSERT INTO events (at, type, item_id, slug, action, version, status, actor, document) VALUES (?, 'Trend', 1, 'serverless', 'UPDATE', 3, 'PUBLISHED', 'cli', '{}')", ts)
	w.exec("INSERT INTO schedule_log (at, type, item_id, slug, action, outcome, due_at, actor) VALUES (?, 'Trend', 1, 'serverless', 'PUBLISH', 'SCHEDULED', ?, 'cli')", ts, ts)
	// Filling in a newest event's document is the one update allowed.
	w.exec("UPDATE events SET document = '{\"a\":1}' WHERE id = 1")

	for _, c := range []struct{ q, msg string }{
		{"UPDATE events SET slug = 'x' WHERE id = 1", "events are append-only"},
		{"UPDATE events SET public = 1 WHERE id = 2", "events are append-only"},
		{"UPDATE events SET document = '{}' WHERE id = 2", "events are append-only"},
		{"DELETE FROM events WHERE id = 1", "events are append-only (only retention prunes them)"},
		{"UPDATE schedule_log SET message = 'x'", "the schedule log is append-only"},
		{"DELETE FROM schedule_log", "the schedule log is append-only"},
	} {
		lite, pg := w.fail(c.q)
		if pg != c.msg || !strings.Contains(lite, c.msg) {
			t.Errorf("%s: sqlite %q, postgres %q, want %q", c.q, lite, pg, c.msg)
		}
	}
	for _, q := range []string{
		"INSERT INTO trends (slug, rank, name, category, created_at, updated_at) VALUES ('serverless', 9, 'x', 'y', 'a', 'b')",
		"INSERT INTO trends (slug, rank, name, category, created_at, updated_at) VALUES ('new', 1, 'x', 'y', 'a', 'b')",
		"INSERT INTO trends (slug, rank, name, category, status, created_at, updated_at) VALUES ('new', 9, 'x', 'y', 'LIVE', 'a', 'b')",
		"INSERT INTO frameworks (slug, name, kind, created_at, updated_at) VALUES ('new', 'x', 'LIBRARY', 'a', 'b')",
		"INSERT INTO framework_companies (framework_id, company_id, position) VALUES (1, 99, 0)",
		"INSERT INTO framework_companies_drafts (framework_id, company_id, position) VALUES (2, 1, 0)",
		"INSERT INTO trend_drafts (id, slug, rank, name, category, version, updated_at) VALUES (99, 's', 1, 'n', 'c', 1, 'u')",
		"INSERT INTO article (id, title, last_updated, created_at, updated_at) VALUES (2, 't', 'l', 'c', 'u')",
		"INSERT INTO tokens (name, role, secret_hash, created_at) VALUES ('t', 'owner', x'00', 'c')",
		"INSERT INTO webhooks (url, secret, active, created_at, updated_at) VALUES ('u', 's', 2, 'c', 'u')",
		"INSERT INTO schedules (type, item_id, action, due_at, actor, scheduled_at) VALUES ('Article', 1, 'PUBLISH', 'd', 'a', 's')",
		// A rank swap needs parking: the constraint is checked per statement row.
		"UPDATE trends SET rank = 3 - rank WHERE rank IN (1, 2)",
	} {
		lite := q
		if strings.Contains(q, "x'00'") {
			// Only the literal's spelling differs.
			_, lerr := w.lite.Exec(lite)
			_, perr := w.pg.Exec(context.Background(), strings.ReplaceAll(q, "x'00'", "'\\x00'::bytea"))
			if lerr == nil || perr == nil {
				t.Errorf("%s: want both refused, got sqlite %v, postgres %v", q, lerr, perr)
			}
			continue
		}
		w.fail(q)
	}
	w.sameEverywhere()
	// Parking works on both.
	w.exec("UPDATE trends SET rank = -rank WHERE rank IN (1, 2)")
	w.exec("UPDATE trends SET rank = 2 WHERE rank = -1")
	w.exec("UPDATE trends SET rank = 1 WHERE rank = -2")
	w.sameEverywhere()
}

// Deleting an item cancels its schedules on both engines, logging each once.
func TestPgSchema_DropSchedules(t *testing.T) {
	w := newTwin(t)
	w.fill()
	for _, s := range []struct {
		typ    string
		id     int
		action string
	}{
		{"Trend", 3, "UNPUBLISH"}, {"Trend", 3, "PUBLISH"}, {"Trend", 1, "PUBLISH"},
		{"Framework", 3, "PUBLISH"}, {"Company", 4, "PUBLISH"}, {"FAQ", 2, "PUBLISH"}, {"FAQ", 1, "UNPUBLISH"},
	} {
		w.exec("INSERT INTO schedules (type, item_id, action, due_at, token_id, actor, scheduled_at) VALUES (?, ?, ?, '2030-01-01T00:00:00Z', 7, 'ed', ?)", s.typ, s.id, s.action, ts)
	}
	for _, q := range []string{
		"DELETE FROM trends WHERE id = 3",
		"DELETE FROM frameworks WHERE id = 3",
		"DELETE FROM companies WHERE id = 4",
		"DELETE FROM faqs WHERE id = 2",
	} {
		w.exec(q)
	}
	w.same("SELECT id, type, item_id, slug, action, outcome, due_at, token_id, actor, event_id, message FROM schedule_log ORDER BY id")
	w.same("SELECT type, item_id, action FROM schedules ORDER BY type, item_id, action")
	rows, err := w.pg.Query(context.Background(), "SELECT at FROM schedule_log")
	if err != nil {
		t.Fatal(err)
	}
	ats, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	if len(ats) != 5 {
		t.Fatalf("schedule_log: %d rows, want 5", len(ats))
	}
	stamp := regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`)
	for _, at := range ats {
		if !stamp.MatchString(at) {
			t.Fatalf("schedule_log.at %q is not SQLite's strftime('%%Y-%%m-%%dT%%H:%%M:%%fZ')", at)
		}
	}
	w.sameEverywhere()
}

// Text compares byte by byte on both engines, and ORDER BY name COLLATE
// NOCASE (which the engine turns into lower(name)) folds ASCII letters only.
func TestPgSchema_TextOrder(t *testing.T) {
	w := newTwin(t)
	for i, n := range []string{"beta", "Alpha", "éclair", "Éclair", "Zulu", "alpha", "_under", "ÄÖ", "a b", "Ab", "aB"} {
		w.exec("INSERT INTO companies (slug, name, created_at, updated_at) VALUES (?, ?, ?, ?)", fmt.Sprintf("c%d", i), n, ts, ts)
	}
	w.same("SELECT name FROM companies ORDER BY name, id")
	w.same2("SELECT name FROM companies ORDER BY name COLLATE NOCASE, id", "SELECT name FROM companies ORDER BY lower(name), id")
	w.same2("SELECT name FROM companies WHERE name = 'alpha' COLLATE NOCASE ORDER BY id", "SELECT name FROM companies WHERE lower(name) = lower('alpha') ORDER BY id")
	w.same("SELECT count(*) FROM companies WHERE name > 'Zulu'")
	w.same("SELECT max(name), min(name) FROM companies")
}

// pgTool finds a PostgreSQL client program: a missing one skips the test,
// saying so, and fails it under CI=true.
func pgTool(t *testing.T, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is not installed, and CI must run this test", name)
		}
		t.Skipf("%s is not installed", name)
	}
	return path
}

// A trendql database survives pg_dump and a restore with psql (the way the
// README points operators to back PostgreSQL up): the restore recomputes
// every stored tsvector under pg_dump's empty search_path, and the restored
// database has the same rows, indexes and working triggers.
func TestPgSchema_DumpRestore(t *testing.T) {
	pgDump, psql := pgTool(t, "pg_dump"), pgTool(t, "psql")
	ctx := context.Background()
	w := newTwin(t)
	w.fill()
	src := w.pg.Config().ConnString()
	dst := freshPostgres(t)
	dump, err := exec.Command(pgDump, "--no-owner", "--dbname", src).Output()
	if err != nil {
		t.Fatalf("pg_dump: %v", err)
	}
	restore := exec.Command(psql, "--no-psqlrc", "-q", "-v", "ON_ERROR_STOP=1", "--single-transaction", "--dbname", dst.Config().ConnString())
	restore.Stdin = strings.NewReader(string(dump))
	if out, err := restore.CombinedOutput(); err != nil {
		t.Fatalf("psql restore: %v\n%s", err, out)
	}
	// The restored database is the twin's PostgreSQL side now.
	w.pg = dst
	w.sameEverywhere()
	w.exec("UPDATE companies SET name = 'Netflix Inc' WHERE slug = 'netflix'")
	w.exec("DELETE FROM trends WHERE slug = 'jamstack'")
	w.exec("INSERT INTO companies (slug, name, created_at, updated_at) VALUES ('after', 'After Restore', ?, ?)", ts, ts)
	w.exec("INSERT INTO events (at, type, item_id, slug, action, version, status, actor) VALUES (?, 'Trend', 1, 'serverless', 'UPDATE', 2, 'PUBLISHED', 'cli')", ts)
	w.sameEverywhere()
	if _, err := dst.Exec(ctx, "UPDATE events SET slug = 'x'"); err == nil {
		t.Fatal("the restored event log accepted an update")
	}
}

// Every text column of every table and view compares bytes (COLLATE "C"), as
// SQLite's BINARY does, so ORDER BY, UNION arms and comparisons agree with
// SQLite and never meet two collations; numbers are bigint, as SQLite's
// INTEGER. trendql_meta exists and is left for the engine to fill.
func TestPgSchema_Types(t *testing.T) {
	ctx := context.Background()
	pg := freshPostgres(t)
	loadPgSchema(t, pg)
	rows, err := pg.Query(ctx, `
		SELECT c.relname || '.' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod) || ' ' || coalesce(co.collname, '-')
		FROM pg_attribute a
		JOIN pg_class c ON c.oid = a.attrelid
		JOIN pg_namespace n ON n.oid = c.relnamespace
		LEFT JOIN pg_collation co ON co.oid = a.attcollation
		WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'v') AND a.attnum > 0 AND NOT a.attisdropped
		  AND NOT (a.atttypid = 'text'::regtype AND co.collname = 'C')
		  AND a.atttypid NOT IN ('bigint'::regtype, 'bytea'::regtype)
		  AND NOT (a.atttypid = 'tsvector'::regtype AND a.attname = 'tsv')`)
	if err != nil {
		t.Fatal(err)
	}
	bad, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	if len(bad) > 0 {
		t.Fatalf("columns neither bigint nor text COLLATE \"C\": %v", bad)
	}
	var n int
	if err := pg.QueryRow(ctx, "SELECT count(*) FROM trendql_meta").Scan(&n); err != nil || n != 0 {
		t.Fatalf("trendql_meta: %d rows, %v", n, err)
	}
}
