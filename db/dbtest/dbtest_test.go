package dbtest_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/trendql/trendql/db/dbtest"
)

// A new PostgreSQL database is empty, reachable at the returned URL (same
// cluster, user and parameters), copied with its content by CloneDSN, and
// both are dropped when their test ends.
func TestPostgres_NewAndCloneCreateAndDropDatabases(t *testing.T) {
	admin := dbtest.RequirePostgres(t)
	ctx := context.Background()
	var made, cloned string
	t.Run("create", func(t *testing.T) {
		made = dbtest.NewDSN(postgresEngine(t))
		if !strings.HasSuffix(made, "?sslmode=disable") && strings.Contains(admin, "sslmode=disable") {
			t.Errorf("NewDSN lost the admin URL's parameters: %s", made)
		}
		c := connect(t, made)
		if _, err := c.Exec(ctx, "CREATE TABLE marker (v text); INSERT INTO marker VALUES ('seeded')"); err != nil {
			t.Fatal(err)
		}
		// CloneDSN needs a template nobody is connected to, as a
		// closed seeded database is.
		c.Close(ctx)
		cloned = dbtest.CloneDSN(t, made)
		if cloned == made {
			t.Fatal("the clone is the template itself")
		}
		var v string
		if err := connect(t, cloned).QueryRow(ctx, "SELECT v FROM marker").Scan(&v); err != nil || v != "seeded" {
			t.Fatalf("the clone lacks the template's rows: %q, %v", v, err)
		}
	})
	c := connect(t, admin)
	for _, dsn := range []string{made, cloned} {
		var n int
		name := dsn[strings.LastIndex(dsn, "/")+1 : strings.Index(dsn, "?")]
		if err := c.QueryRow(ctx, "SELECT count(*) FROM pg_database WHERE datname = $1", name).Scan(&n); err != nil || n != 0 {
			t.Errorf("database %s still exists after its test (%d, %v)", name, n, err)
		}
	}
}

// A new SQLite DSN is a path that does not exist yet, in the test's temp
// dir; a clone is a byte copy.
func TestSQLite_NewAndClone(t *testing.T) {
	if dbtest.Engine() != dbtest.SQLite {
		t.Skip("the engine under test is not SQLite")
	}
	p := dbtest.NewDSN(t)
	if _, err := os.Stat(p); !os.IsNotExist(err) {
		t.Fatalf("NewDSN %s exists already: %v", p, err)
	}
	if err := os.WriteFile(p, []byte("content"), 0o644); err != nil {
		t.Fatal(err)
	}
	c := dbtest.CloneDSN(t, p)
	if b, err := os.ReadFile(c); err != nil || string(b) != "content" || filepath.Clean(c) == filepath.Clean(p) {
		t.Fatalf("clone %s: %q, %v", c, b, err)
	}
}

// A missing cluster skips locally and fails under CI.
func TestPostgresURL_SkipsLocallyFailsUnderCI(t *testing.T) {
	t.Setenv(dbtest.PostgresEnv, "")
	for _, ci := range []string{"", "true"} {
		t.Setenv("CI", ci)
		r := &recorder{TB: t}
		func() {
			defer func() { recover() }()
			dbtest.PostgresURL(r)
		}()
		if ci == "" && (!r.skipped || r.failed) || ci != "" && (r.skipped || !r.failed) {
			t.Errorf("CI=%q: skipped=%v failed=%v", ci, r.skipped, r.failed)
		}
		if !strings.Contains(r.msg, "TRENDQL_TEST_POSTGRES") {
			t.Errorf("CI=%q: the message does not say what to set: %q", ci, r.msg)
		}
	}
}

func TestEngine(t *testing.T) {
	for v, want := range map[string]string{"": "sqlite", "sqlite": "sqlite", "postgres": "postgres"} {
		t.Setenv(dbtest.EngineEnv, v)
		if got := dbtest.Engine(); got != want {
			t.Errorf("%s=%q: Engine() = %q, want %q", dbtest.EngineEnv, v, got, want)
		}
	}
	t.Setenv(dbtest.EngineEnv, "postgress")
	defer func() {
		if recover() == nil {
			t.Error("a misspelt engine did not panic")
		}
	}()
	dbtest.Engine()
}

// recorder stops a test helper at Skip or Fatal as testing does (by
// unwinding) and records which was called.
type recorder struct {
	testing.TB
	skipped, failed bool
	msg             string
}

func (r *recorder) Helper() {}
func (r *recorder) Skip(args ...any) {
	r.skipped, r.msg = true, args[0].(string)
	panic("skip")
}
func (r *recorder) Fatal(args ...any) {
	r.failed, r.msg = true, args[0].(string)
	panic("fatal")
}

// postgresEngine selects PostgreSQL for what NewDSN makes in t.
func postgresEngine(t *testing.T) *testing.T {
	t.Setenv(dbtest.EngineEnv, dbtest.Postgres)
	return t
}

func connect(t *testing.T, dsn string) *pgx.Conn {
	t.Helper()
	c, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(context.Background()) })
	return c
}
