package db

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// applicationID marks a SQLite file as a trendql database ("TQL1").
const applicationID = 0x54514c31

type migration struct {
	version int
	name    string
	sql     string
}

func migrations() ([]migration, error) { return readMigrations(migrationFS, "migrations", "") }

// readMigrations reads the numbered migrations in dir, each prefixed with
// prefix unless it starts with it, and checks that they are numbered 1, 2…
func readMigrations(fsys embed.FS, dir, prefix string) ([]migration, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, err
	}
	var ms []migration
	for _, e := range entries {
		num, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil {
			return nil, fmt.Errorf("migration %s: name must start with its number", e.Name())
		}
		b, err := fsys.ReadFile(dir + "/" + e.Name())
		if err != nil {
			return nil, err
		}
		sql := string(b)
		if !strings.HasPrefix(sql, prefix) {
			sql = prefix + "\n" + sql
		}
		ms = append(ms, migration{version: v, name: e.Name(), sql: sql})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	for i, m := range ms {
		if m.version != i+1 {
			return nil, fmt.Errorf("migration %s: expected number %d", m.name, i+1)
		}
	}
	return ms, nil
}

// SchemaVersion is the schema version this build migrates to.
func SchemaVersion() int {
	ms, _ := migrations()
	return len(ms)
}

// migrate brings the schema up to date, each migration in its own
// transaction. It reports whether the database was empty before.
func (d *DB) migrate(ctx context.Context) (created bool, err error) {
	ms, err := migrations()
	if err != nil {
		return false, err
	}
	var appID, version, tables int
	if err := d.write.QueryRowContext(ctx, "PRAGMA application_id").Scan(&appID); err != nil {
		return false, err
	}
	if err := d.write.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
		return false, err
	}
	if err := d.write.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_schema").Scan(&tables); err != nil {
		return false, err
	}
	switch {
	case appID == 0 && version == 0 && tables == 0:
		created = true
	case appID != applicationID:
		return false, fmt.Errorf("%s is not a trendql database (an SQLite file of another application)", d.path)
	case version > len(ms):
		return false, fmt.Errorf("database %s has schema version %d, newer than this trendql (%d): upgrade trendql", d.path, version, len(ms))
	}
	if created {
		// Only an empty file can take this: pages that deletions free
		// (retention, a bulk import's index merge) go back to the file
		// system at each commit instead of staying in the file as free
		// space. The WAL pragma has written the file's first page already,
		// so the setting takes a VACUUM (of an empty file: instant).
		for _, q := range []string{"PRAGMA auto_vacuum = FULL", "VACUUM"} {
			if _, err := d.write.ExecContext(ctx, q); err != nil {
				return false, err
			}
		}
	}
	for _, m := range ms[version:] {
		if err := d.applyMigration(ctx, m, created); err != nil {
			return false, fmt.Errorf("migration %s: %w", m.name, err)
		}
	}
	return created, nil
}

// foreignKeysOff marks a migration that rebuilds a table other tables refer
// to: SQLite's procedure for that needs foreign keys off, which only works
// outside a transaction.
const foreignKeysOff = "-- trendql:foreign-keys-off"

func (d *DB) applyMigration(ctx context.Context, m migration, first bool) error {
	fkOff := strings.HasPrefix(m.sql, foreignKeysOff)
	if fkOff {
		// The writer pool has one connection, so these reach the one the
		// transaction runs on.
		if _, err := d.write.ExecContext(ctx, "PRAGMA foreign_keys = OFF"); err != nil {
			return err
		}
		defer d.write.ExecContext(context.WithoutCancel(ctx), "PRAGMA foreign_keys = ON")
	}
	tx, err := d.write.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if first && m.version == 1 {
		if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA application_id = %d", applicationID)); err != nil {
			return err
		}
	}
	if _, err := tx.ExecContext(ctx, m.sql); err != nil {
		return err
	}
	if fkOff {
		var table, parent string
		var rowID, fk sql.NullInt64
		err := tx.QueryRowContext(ctx, "PRAGMA foreign_key_check").Scan(&table, &rowID, &parent, &fk)
		if err == nil {
			return fmt.Errorf("foreign key broken in table %s", table)
		} else if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
	}
	// user_version lives in the file header and commits with the schema.
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", m.version)); err != nil {
		return err
	}
	return tx.Commit()
}
