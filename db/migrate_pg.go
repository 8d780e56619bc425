package db

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"strconv"

	"github.com/jackc/pgx/v5/pgconn"
)

//go:embed migrations_pg/*.sql
var pgMigrationFS embed.FS

// pgNative marks SQL written for PostgreSQL: pgSQL leaves it as it is.
const pgNative = "-- trendql:postgres"

// pgMigrations are PostgreSQL's schema steps. The series starts at the
// schema SQLite reached at its version 10 (the PostgreSQL adapter came
// then), so its numbers are its own: trendql_meta keeps the version.
func pgMigrations() ([]migration, error) {
	return readMigrations(pgMigrationFS, "migrations_pg", pgNative)
}

// migratePG brings a PostgreSQL database's schema up to date in one
// transaction that holds the writer lock: when several replicas start at
// once, one migrates and the others wait for it, then find nothing to do.
// A database with tables but no trendql_meta belongs to another
// application and is refused untouched.
func (d *DB) migratePG(ctx context.Context) (created bool, err error) {
	ms, err := pgMigrations()
	if err != nil {
		return false, err
	}
	tx, err := d.write.BeginTx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("cannot use database %s: %s", d.Name(), pgErrorSentence(err))
	}
	defer tx.Rollback()
	var meta bool
	if err := tx.QueryRowContext(ctx, pgNative+"\nSELECT to_regclass('trendql_meta') IS NOT NULL").Scan(&meta); err != nil {
		return false, fmt.Errorf("cannot use database %s: %s", d.Name(), pgErrorSentence(err))
	}
	version := 0
	if meta {
		var app string
		err := tx.QueryRowContext(ctx, pgNative+`
			SELECT coalesce((SELECT value FROM trendql_meta WHERE key = 'application'), ''),
				coalesce((SELECT value FROM trendql_meta WHERE key = 'schema_version'), '0'),
				EXISTS (SELECT 1 FROM trendql_meta WHERE key = 'seed')`).Scan(&app, &version, &created)
		var pe *pgconn.PgError
		if errors.As(err, &pe) && pe.Code != "42703" && pe.Code != "42P01" {
			return false, fmt.Errorf("cannot use database %s: %s", d.Name(), pgErrorSentence(err))
		} else if err != nil {
			// A trendql_meta of another shape, or a version that is no
			// number: another application's table.
			return false, fmt.Errorf("%s is not a trendql database (its trendql_meta table is not trendql's)", d.Name())
		}
		if app != "trendql" {
			return false, fmt.Errorf("%s is not a trendql database (a PostgreSQL database of another application)", d.Name())
		}
	} else {
		var tables int
		err := tx.QueryRowContext(ctx, pgNative+`
			SELECT count(*) FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
			WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'v', 'm', 'p', 'f', 'S')`).Scan(&tables)
		if err != nil {
			return false, fmt.Errorf("cannot use database %s: %s", d.Name(), pgErrorSentence(err))
		}
		if tables > 0 {
			return false, fmt.Errorf("%s is not a trendql database (a PostgreSQL database of another application)", d.Name())
		}
		created = true
	}
	if version > len(ms) {
		return false, fmt.Errorf("database %s has schema version %d, newer than this trendql (%d): upgrade trendql", d.Name(), version, len(ms))
	}
	if version == len(ms) {
		return created, nil
	}
	for _, m := range ms[version:] {
		if _, err := tx.ExecContext(ctx, m.sql); err != nil {
			return false, fmt.Errorf("cannot migrate database %s (%s), nothing was changed: %s", d.Name(), m.name, pgErrorSentence(err))
		}
	}
	_, err = tx.ExecContext(ctx, pgNative+`
		INSERT INTO trendql_meta (key, value) VALUES ('application', 'trendql'), ('schema_version', '`+strconv.Itoa(len(ms))+`')
		ON CONFLICT (key) DO UPDATE SET value = excluded.value`)
	if err != nil {
		return false, fmt.Errorf("cannot migrate database %s, nothing was changed: %s", d.Name(), pgErrorSentence(err))
	}
	if created {
		// The database is new until it is seeded (or kept empty: see
		// SkipSeed), which is the caller's next transaction. A replica
		// that opens it in between, or after the first one died there,
		// is told it is new too and seeds it: seeding is an import of the
		// article, which changes nothing the second time.
		if _, err := tx.ExecContext(ctx, pgNative+`
			INSERT INTO trendql_meta (key, value) VALUES ('seed', 'pending') ON CONFLICT (key) DO NOTHING`); err != nil {
			return false, fmt.Errorf("cannot migrate database %s, nothing was changed: %s", d.Name(), pgErrorSentence(err))
		}
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("cannot migrate database %s, nothing was changed: %s", d.Name(), pgErrorSentence(err))
	}
	return created, nil
}
