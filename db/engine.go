package db

import (
	"context"
	"fmt"
	"os"
	"time"
)

// engine is what differs between the storage engines. Everything else in
// package db (the content types, filters, validation, errors, the event
// log's rules, drafts, schedules, webhooks) is written once, with SQL in
// SQLite's dialect that the PostgreSQL adapter translates (pgsql.go).
type engine interface {
	// name is "sqlite" or "postgres".
	name() string
	// close releases what the adapter holds beyond the two database/sql
	// pools.
	close() error
	// isUniqueViolation reports whether err is the engine refusing a
	// duplicate value of a UNIQUE column.
	isUniqueViolation(err error) bool
	// nextEventID is the id the next event appended in tx gets.
	nextEventID(tx *Tx) (int64, error)
	// backup writes a consistent copy of the database to path.
	backup(ctx context.Context, d *DB, path string) error
	// beforeCommit runs last in a root write transaction: PostgreSQL
	// queues the notification that tells the other replicas what changed.
	beforeCommit(tx *Tx) error
	// watch wakes this process's listeners and commit hooks when other
	// processes write, until ctx ends (see WatchExternal).
	watch(ctx context.Context, d *DB, interval time.Duration)
	// preparesReads says whether package db prepares each read statement
	// once (database/sql then prepares it on each pooled connection), or
	// leaves it to the driver (pgx caches prepared statements per
	// connection itself).
	preparesReads() bool
	// reader returns what runs the read statements made outside any
	// transaction, or nil to leave them to the reader pool (database/sql).
	reader() directReader
	// abortsOnError says whether a failed statement aborts the whole
	// transaction (PostgreSQL), so that a statement whose failure is
	// handled needs a savepoint (see Tx.try); SQLite goes on.
	abortsOnError() bool
	// tuneImport prepares the writer for a large import and returns what
	// undoes it.
	tuneImport(ctx context.Context, d *DB) (undo func(), err error)
	// pingReason is why Ping failed with err, in one sentence that names
	// no path, host, user or password: a readiness answer shows it.
	pingReason(err error) string
	// afterBulkWrite runs in a bulk import's transaction once every row
	// is written, before the search index is rebuilt from them.
	afterBulkWrite(tx *Tx) error
}

// directReader runs read statements outside any transaction without
// database/sql, with database/sql's scanning rules.
type directReader interface {
	query(ctx context.Context, q string, args []any) (rows, error)
	queryRow(ctx context.Context, q string, args []any) scanner
}

// sqliteEngine is the SQLite adapter, the default.
type sqliteEngine struct{}

func (sqliteEngine) name() string           { return "sqlite" }
func (sqliteEngine) close() error           { return nil }
func (sqliteEngine) beforeCommit(*Tx) error { return nil }
func (sqliteEngine) preparesReads() bool    { return true }
func (sqliteEngine) reader() directReader   { return nil }
func (sqliteEngine) abortsOnError() bool    { return false }
func (sqliteEngine) pingReason(error) string {
	return "the database file cannot be read"
}

// afterBulkWrite: nothing on SQLite, whose plans for the import and its
// search rebuild do not depend on gathered statistics.
func (sqliteEngine) afterBulkWrite(*Tx) error { return nil }

// tuneImport gives the writer a bigger page cache while it imports: a
// large import touches every index all the time, and with SQLite's
// default 2 MiB it spilled and re-read pages throughout. (Statement
// journals stay in temporary files: in memory they cost 400 MB at the
// search index's rebuild, one statement that rewrites the whole index.)
func (sqliteEngine) tuneImport(ctx context.Context, d *DB) (func(), error) {
	var cacheSize int
	if err := d.write.QueryRowContext(ctx, "PRAGMA cache_size").Scan(&cacheSize); err != nil {
		return nil, err
	}
	if _, err := d.write.ExecContext(ctx, fmt.Sprintf("PRAGMA cache_size = %d", -importCacheKiB)); err != nil {
		return nil, err
	}
	return func() {
		d.write.ExecContext(context.WithoutCancel(ctx), fmt.Sprintf("PRAGMA cache_size = %d", cacheSize))
	}, nil
}

// watch polls the newest event id: SQLite has no way to tell another
// process that it committed.
func (sqliteEngine) watch(ctx context.Context, d *DB, interval time.Duration) {
	d.pollExternal(ctx, interval)
}
func (sqliteEngine) isUniqueViolation(err error) bool { return isSQLiteUniqueViolation(err) }

// nextEventID: the events table is AUTOINCREMENT, so the next id is one
// above the highest ever handed out (sqlite_sequence), and nobody else can
// append while the writer is ours.
func (sqliteEngine) nextEventID(tx *Tx) (int64, error) {
	var seq int64
	err := tx.queryRow(lastEventSeqSQL).Scan(&seq)
	return seq + 1, err
}

// backup: VACUUM INTO reads one snapshot and writes a compact copy, while
// readers and writers go on.
func (sqliteEngine) backup(ctx context.Context, d *DB, path string) error {
	if _, err := os.Stat(path); err == nil {
		return Invalid("path", "%s already exists", path)
	}
	d.queries.Add(1)
	if _, err := d.write.ExecContext(ctx, "VACUUM INTO ?", path); err != nil {
		return fmt.Errorf("backup to %s: %w", path, err)
	}
	return nil
}
