// Package dbtest gives tests a database of the engine under test: a file in
// a temporary directory for SQLite (the default), or a brand-new database on
// a PostgreSQL cluster when TRENDQL_TEST_ENGINE=postgres. Every test that
// does not care which engine it runs on takes its database from here, so the
// whole suite runs on both engines unchanged.
//
// The environment it reads:
//
//	TRENDQL_TEST_ENGINE    "postgres" selects PostgreSQL; empty or "sqlite" selects SQLite
//	TRENDQL_TEST_POSTGRES  an admin URL of a cluster the tests may create and drop databases on,
//	                       e.g. postgres://postgres@127.0.0.1:55432/postgres?sslmode=disable
//	CI                     when set, a missing PostgreSQL fails the test instead of skipping it
//
// scripts/pgcluster.sh starts a private throwaway cluster and prints the
// URL to export (see README, "Running the tests against PostgreSQL").
package dbtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
	_ "modernc.org/sqlite"             // registers the "sqlite" database/sql driver
)

// Engine names, as Engine returns them.
const (
	SQLite   = "sqlite"
	Postgres = "postgres"
)

// Environment variables this package reads.
const (
	EngineEnv   = "TRENDQL_TEST_ENGINE"
	PostgresEnv = "TRENDQL_TEST_POSTGRES"
)

// adminTimeout bounds each administrative statement (CREATE or DROP
// DATABASE): generous, because CI runs two test binaries at once on a
// busy two-core machine and a CREATE DATABASE copies a whole template.
const adminTimeout = 2 * time.Minute

// Engine returns the engine the tests run against: "postgres" when
// TRENDQL_TEST_ENGINE=postgres, else "sqlite". Any other value panics, so a
// typo can never silently run the SQLite suite a second time.
func Engine() string {
	switch v := os.Getenv(EngineEnv); v {
	case "", SQLite:
		return SQLite
	case Postgres:
		return Postgres
	default:
		panic(fmt.Sprintf("dbtest: %s=%q: want %q or %q", EngineEnv, v, SQLite, Postgres))
	}
}

// PostgresURL returns the cluster's admin URL from TRENDQL_TEST_POSTGRES.
// When it is unset the test is skipped with a pointer to the README, or
// fails when the CI environment variable is set: CI must never skip a
// PostgreSQL test silently.
func PostgresURL(tb testing.TB) string {
	tb.Helper()
	u := os.Getenv(PostgresEnv)
	if u != "" {
		return u
	}
	const msg = "PostgreSQL not available: set " + PostgresEnv + " (see README)"
	if os.Getenv("CI") != "" {
		tb.Fatal(msg)
	}
	tb.Skip(msg)
	return ""
}

// RequirePostgres is for tests that need PostgreSQL whatever the selected
// engine (several replicas on one database, for instance). It returns the
// admin URL, and skips or fails as PostgresURL does when there is none.
func RequirePostgres(tb testing.TB) string {
	tb.Helper()
	return PostgresURL(tb)
}

// SkipUnlessSQLite skips the test under PostgreSQL, saying why it is about
// the SQLite file itself (a foreign file, VACUUM INTO, WAL, Litestream,
// sqlite3's integrity checks, FTS5 internals, PRAGMAs). A test of behaviour
// must not use it: it has to hold on both engines.
func SkipUnlessSQLite(tb testing.TB, why string) {
	tb.Helper()
	if Engine() != SQLite {
		tb.Skip("SQLite only: " + why)
	}
}

// NewDSN returns the DSN of a brand-new, empty database of the selected
// engine, for db.Open to create: for SQLite a path in tb.TempDir(); for
// PostgreSQL a database created on the cluster for this test alone (same
// host, port, user and parameters as the admin URL) and dropped at cleanup,
// after whatever the test opened on it was closed.
func NewDSN(tb testing.TB) string {
	tb.Helper()
	if Engine() == SQLite {
		return filepath.Join(tb.TempDir(), "trendql.db")
	}
	dsn, drop, err := newPostgres(PostgresURL(tb), "")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := drop(); err != nil {
			tb.Error(err)
		}
	})
	return dsn
}

// CloneDSN returns the DSN of a copy of the closed database at templateDSN,
// removed at cleanup: for SQLite a copy of the file in tb.TempDir(); for
// PostgreSQL a database created with TEMPLATE, which requires that nothing
// is connected to the template (close it first). Copying a seeded database
// costs far less than migrating and seeding a new one.
func CloneDSN(tb testing.TB, templateDSN string) string {
	tb.Helper()
	if !IsPostgresDSN(templateDSN) {
		dst := filepath.Join(tb.TempDir(), "trendql.db")
		if err := copyFile(dst, templateDSN); err != nil {
			tb.Fatal(err)
		}
		return dst
	}
	dsn, drop, err := newPostgres(templateDSN, databaseName(templateDSN))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := drop(); err != nil {
			tb.Error(err)
		}
	})
	return dsn
}

// NewSharedDSN is NewDSN for a database that outlives any one test, such as
// a seeded template built once per test binary: it returns the DSN and a
// function that removes the database, which the caller must call (from
// TestMain, after m.Run). Call PostgresURL(tb) first under PostgreSQL, so
// that a missing cluster skips or fails the test that asked.
func NewSharedDSN() (dsn string, remove func() error, err error) {
	if Engine() == SQLite {
		dir, err := os.MkdirTemp("", "trendql-test-")
		if err != nil {
			return "", nil, err
		}
		return filepath.Join(dir, "trendql.db"), func() error { return os.RemoveAll(dir) }, nil
	}
	admin := os.Getenv(PostgresEnv)
	if admin == "" {
		return "", nil, errors.New("dbtest: PostgreSQL not available: set " + PostgresEnv + " (see README)")
	}
	return newPostgres(admin, "")
}

// IsPostgresDSN reports whether dsn is a PostgreSQL URL (postgres:// or
// postgresql://) rather than an SQLite path.
func IsPostgresDSN(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// newPostgres creates a uniquely named database on the cluster that base
// (any URL on it) points to, as a copy of template when one is named, and
// returns its URL and a function that drops it.
func newPostgres(base, template string) (string, func() error, error) {
	u, err := url.Parse(base)
	if err != nil {
		return "", nil, fmt.Errorf("dbtest: %s is not a URL: %w", PostgresEnv, err)
	}
	name := "trendql_test_" + randomHex(8)
	stmt := "CREATE DATABASE " + pgx.Identifier{name}.Sanitize()
	if template != "" {
		stmt += " TEMPLATE " + pgx.Identifier{template}.Sanitize()
	}
	// Connect to the maintenance database, never to the template: a
	// connection to the template would make the copy fail.
	admin := *u
	admin.Path = "/postgres"
	if err := exec(admin.String(), stmt); err != nil {
		return "", nil, fmt.Errorf("dbtest: create database: %w", err)
	}
	created := *u
	created.Path = "/" + name
	drop := func() error {
		// FORCE ends connections a test leaked, so a leak costs that test
		// an error here rather than leaving a database behind.
		if err := exec(admin.String(), "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
			return fmt.Errorf("dbtest: drop database %s: %w", name, err)
		}
		return nil
	}
	return created.String(), drop, nil
}

// exec runs one statement on its own connection. CREATE DATABASE ...
// TEMPLATE fails with object_in_use (55006) while another session is still
// on the template (for instance one a pool is closing in the background),
// so that error is retried for a while.
func exec(dsn, stmt string) error {
	ctx, cancel := context.WithTimeout(context.Background(), adminTimeout)
	defer cancel()
	for {
		err := exec1(ctx, dsn, stmt)
		var pgErr *pgconn.PgError
		if err == nil || !errors.As(err, &pgErr) || pgErr.Code != "55006" {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func exec1(ctx context.Context, dsn, stmt string) error {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	_, err = conn.Exec(ctx, stmt)
	return err
}

// databaseName returns the database a PostgreSQL URL names.
func databaseName(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return ""
	}
	return strings.TrimPrefix(u.Path, "/")
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

func copyFile(dst, src string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// RawSQL opens the database at dsn (a path or a PostgreSQL URL, as
// db.DB.Path returns it) directly with database/sql, closed at cleanup, for
// tests that look under the API: rows the API does not show, or writes
// that bypass it. Its placeholders are the engine's own (? for SQLite, $1
// for PostgreSQL): write portable statements or branch on Engine.
func RawSQL(tb testing.TB, dsn string) *sql.DB {
	tb.Helper()
	driver := "sqlite"
	if IsPostgresDSN(dsn) {
		driver = "pgx"
	} else {
		dsn = "file:" + dsn + "?_pragma=busy_timeout(10000)"
	}
	c, err := sql.Open(driver, dsn)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { c.Close() })
	return c
}
