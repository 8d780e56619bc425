// Package db is trendql's domain and its storage: the content types, their
// filters, validation and errors, and everything that touches SQLite.
// It knows nothing of GraphQL or HTTP.
package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// DB is a trendql database: one writer connection (every write is an
// immediate transaction on it, so writers queue instead of failing with
// SQLITE_BUSY) and a pool of read-only connections that run alongside the
// writer thanks to WAL.
type DB struct {
	path    string
	eng     engine // the storage engine's adapter: SQLite or PostgreSQL
	write   *sql.DB
	read    *sql.DB
	queries atomic.Int64 // SQL statements executed, for trendql_db_queries_total

	hub         hub // wakes listeners after commits that appended events
	deliveryHub hub // wakes webhook workers when deliveries may be due

	// scheduleWake wakes RunSchedules when this process commits a new
	// schedule, which may be due before its next look.
	scheduleWake chan struct{}
	// schedulesApplied and schedulesFailed count what this process's
	// ApplyDueSchedules did, for metrics.
	schedulesApplied, schedulesFailed atomic.Int64

	stmtMu sync.RWMutex
	stmts  map[string]*sql.Stmt // prepared read statements, by SQL text
	// wstmts are the writer pool's prepared statements, by SQL text (see
	// writeStmt); guarded by stmtMu.
	wstmts   map[string]*sql.Stmt
	wpending map[string]bool // statements to prepare on the writer pool

	// rows keeps decoded content rows between requests (nil: off); see
	// rowcache.go.
	rows *rowCache
	// rels is the relation cache (SQLite, with the row cache; see
	// relcache.go).
	rels *relCache
	// searches keeps ranked search hits until the next commit (nil: off);
	// see searchcache.go.
	searches *searchCache

	// Now returns the current time; tests may replace it.
	Now func() time.Time
}

// Options tune Open.
type Options struct {
	// ReadConns is the size of the reader pool; 0 means GOMAXPROCS+1, at
	// least 3: queries are CPU-bound, and each connection holds its own
	// page cache and prepared statements.
	ReadConns int
	// RowCacheBytes is the memory budget of the cache of decoded content
	// rows (see rowcache.go): 0 means DefaultRowCacheBytes, a negative
	// value turns it off.
	RowCacheBytes int64
	// SearchCacheBytes is the memory budget of the cache of ranked
	// searches (see searchcache.go): 0 means DefaultSearchCacheBytes, a
	// negative value turns it off.
	SearchCacheBytes int64
}

func (o Options) searchCache() *searchCache {
	if o.SearchCacheBytes == 0 {
		return newSearchCache(DefaultSearchCacheBytes)
	}
	return newSearchCache(o.SearchCacheBytes)
}

func (o Options) rowCache() *rowCache {
	if o.RowCacheBytes == 0 {
		return newRowCache(DefaultRowCacheBytes)
	}
	return newRowCache(o.RowCacheBytes)
}

// readerCacheSize bounds each reader connection's page cache (KiB): the
// operating system caches the file too, and four 2 MiB caches (SQLite's
// default) were a sixth of the server's memory in the load benchmark.
const readerCacheSize = "_pragma=cache_size(-1024)"

// dsn builds a modernc.org/sqlite DSN with the pragmas every connection
// needs, so that each pooled connection gets them (a one-off PRAGMA would
// reach only one connection).
func dsn(path string, extra ...string) string {
	esc := strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(path)
	params := []string{
		"_pragma=busy_timeout(10000)",
		"_pragma=journal_mode(WAL)",
		"_pragma=foreign_keys(1)",
		"_pragma=synchronous(NORMAL)",
	}
	params = append(params, extra...)
	return "file:" + esc + "?" + strings.Join(params, "&")
}

// Open opens the trendql database at path, creating it when it does not
// exist, and migrates it to the current schema. created reports whether the
// database was new (had no schema), so the caller can seed it. A file that
// is not SQLite, or a SQLite database that trendql did not create, fails with
// a clear error and is left untouched.
//
// A postgres:// or postgresql:// URL opens a PostgreSQL database instead
// (see openPostgres), with the same behaviour.
func Open(ctx context.Context, path string, opts Options) (_ *DB, created bool, err error) {
	if path == "" {
		return nil, false, errors.New("no database path given")
	}
	if IsPostgresURL(path) {
		return openPostgres(ctx, path, opts)
	}
	if err := CheckDSN(path); err != nil {
		return nil, false, err
	}
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		return nil, false, fmt.Errorf("database %s is a directory, not a file", path)
	} else if err == nil && st.Size() > 0 {
		// Look before touching: the WAL pragma would rewrite the header of
		// a file that is not ours.
		if err := checkIdentity(ctx, path); err != nil {
			return nil, false, err
		}
	}
	write, err := sql.Open("sqlite", dsn(path, "_txlock=immediate"))
	if err != nil {
		return nil, false, fmt.Errorf("open database %s: %w", path, err)
	}
	write.SetMaxOpenConns(1)
	write.SetMaxIdleConns(1)
	write.SetConnMaxLifetime(0)
	write.SetConnMaxIdleTime(0)
	d := newDB(path, sqliteEngine{})
	d.rows, d.searches = opts.rowCache(), opts.searchCache()
	d.write = write
	defer func() {
		if err != nil {
			d.Close()
		}
	}()
	if err := write.PingContext(ctx); err != nil {
		return nil, false, openError(path, err)
	}
	created, err = d.migrate(ctx)
	if err != nil {
		return nil, false, err
	}
	if d.rows != nil {
		var seq int64
		if err := write.QueryRowContext(ctx, lastEventSeqSQL).Scan(&seq); err != nil {
			return nil, false, openError(path, err)
		}
		d.rels = newRelCache(d.rows.budget/8, seq)
	}
	n := opts.ReadConns
	if n <= 0 {
		n = max(3, runtime.GOMAXPROCS(0)+1)
	}
	read, err := sql.Open("sqlite", dsn(path, "_pragma=query_only(1)", readerCacheSize))
	if err != nil {
		return nil, false, fmt.Errorf("open database %s: %w", path, err)
	}
	read.SetMaxOpenConns(n)
	read.SetMaxIdleConns(n)
	read.SetConnMaxLifetime(0)
	read.SetConnMaxIdleTime(0)
	d.read = read
	return d, created, nil
}

// checkIdentity opens an existing file read-only and fails unless it is a
// trendql database (or an empty SQLite file).
func checkIdentity(ctx context.Context, path string) error {
	esc := strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(path)
	c, err := sql.Open("sqlite", "file:"+esc+"?mode=ro&_pragma=busy_timeout(10000)")
	if err != nil {
		return openError(path, err)
	}
	defer c.Close()
	var appID, tables int
	if err := c.QueryRowContext(ctx, "PRAGMA application_id").Scan(&appID); err != nil {
		return openError(path, err)
	}
	if err := c.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_schema").Scan(&tables); err != nil {
		return openError(path, err)
	}
	if appID != applicationID && tables > 0 {
		return fmt.Errorf("%s is not a trendql database (an SQLite file of another application)", path)
	}
	return nil
}

// openError turns SQLite's failures at open time into one clear sentence.
func openError(path string, err error) error {
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() & 0xff {
		case sqlite3.SQLITE_NOTADB:
			return fmt.Errorf("%s is not a trendql database (not an SQLite file)", path)
		case sqlite3.SQLITE_CANTOPEN:
			return fmt.Errorf("cannot open database %s: the file or its directory cannot be opened", path)
		case sqlite3.SQLITE_READONLY, sqlite3.SQLITE_PERM, sqlite3.SQLITE_AUTH:
			return fmt.Errorf("cannot open database %s: permission denied", path)
		case sqlite3.SQLITE_CORRUPT:
			return fmt.Errorf("database %s is corrupt", path)
		}
	}
	return fmt.Errorf("open database %s: %w", path, err)
}

func newDB(path string, eng engine) *DB {
	return &DB{path: path, eng: eng, stmts: map[string]*sql.Stmt{}, Now: time.Now, scheduleWake: make(chan struct{}, 1)}
}

// Path returns the file the database lives in, or its URL on PostgreSQL
// (with the password, which Name leaves out).
func (d *DB) Path() string { return d.path }

// Name is how messages and logs name the database: its file, or its URL
// without the password.
func (d *DB) Name() string {
	if d.eng.name() == "postgres" {
		return RedactURL(d.path)
	}
	return d.path
}

// Engine names the storage engine: "sqlite" or "postgres".
func (d *DB) Engine() string { return d.eng.name() }

// Close closes both pools.
func (d *DB) Close() error {
	var errs []error
	d.stmtMu.Lock()
	for _, s := range d.stmts {
		errs = append(errs, s.Close())
	}
	for _, s := range d.wstmts {
		errs = append(errs, s.Close())
	}
	d.stmts, d.wstmts = map[string]*sql.Stmt{}, nil
	d.stmtMu.Unlock()
	if d.read != nil {
		errs = append(errs, d.read.Close())
	}
	if d.write != nil {
		errs = append(errs, d.write.Close())
	}
	if d.eng != nil {
		errs = append(errs, d.eng.close())
	}
	return errors.Join(errs...)
}

// QueryCount returns how many SQL statements this DB has executed.
func (d *DB) QueryCount() int64 { return d.queries.Load() }

// Ping checks that the database answers a query. Its failure is a
// *PingError.
func (d *DB) Ping(ctx context.Context) error {
	var one int
	if err := d.queryRow(ctx, "SELECT 1").Scan(&one); err != nil {
		// Readiness answers say why in one sentence, which must never
		// repeat the URL (its password) or the driver's internals.
		return &PingError{Reason: d.eng.pingReason(err), err: err}
	}
	return nil
}

// PingError is Ping's failure: Reason is one sentence that names no path,
// host, user or password, fit for a public readiness answer.
type PingError struct {
	Reason string
	err    error
}

func (e *PingError) Error() string { return e.Reason }

// Unwrap returns the driver's error, for the log.
func (e *PingError) Unwrap() error { return e.err }

// PoolStats returns the reader and writer pools' statistics.
func (d *DB) PoolStats() (read, write sql.DBStats) {
	return d.read.Stats(), d.write.Stats()
}

// stmt returns a prepared statement on the reader pool for q, preparing it
// once. database/sql re-prepares it lazily on each pooled connection.
func (d *DB) stmt(ctx context.Context, q string) (*sql.Stmt, error) {
	d.stmtMu.RLock()
	s := d.stmts[q]
	d.stmtMu.RUnlock()
	if s != nil {
		return s, nil
	}
	d.stmtMu.Lock()
	defer d.stmtMu.Unlock()
	if s = d.stmts[q]; s != nil {
		return s, nil
	}
	s, err := d.read.PrepareContext(ctx, q)
	if err != nil {
		return nil, err
	}
	// Filters build SQL dynamically; bound the cache so hostile filter
	// shapes cannot grow it without limit.
	if len(d.stmts) < 512 {
		d.stmts[q] = s
	}
	return s, nil
}

// maxWriteStmt is the longest statement the writer pool keeps prepared:
// the writes' own statements are short; a bulk import's batches are long,
// vary in size and run in one transaction.
const maxWriteStmt = 2048

// writeStmt returns the writer pool's prepared statement for q, or nil:
// then q runs unprepared, and is prepared before the next transaction
// begins (see prepareWrites), unless the engine does not prepare
// statements (pgx keeps its own cache per connection), q is long, or 512
// are kept already. database/sql prepares a statement on each connection
// of the pool at its first use there and keeps it, so a write's
// statements are parsed once, not once per transaction: parsing had been
// 40% of an updateTrend's CPU.
//
// It cannot prepare q at once: the caller's transaction holds the
// writer pool's one SQLite connection.
func (d *DB) writeStmt(q string) *sql.Stmt {
	if !d.eng.preparesReads() || len(q) > maxWriteStmt {
		return nil
	}
	d.stmtMu.RLock()
	s, pending := d.wstmts[q], d.wpending[q]
	d.stmtMu.RUnlock()
	if s != nil || pending {
		return s
	}
	d.stmtMu.Lock()
	defer d.stmtMu.Unlock()
	if s = d.wstmts[q]; s == nil && len(d.wstmts)+len(d.wpending) < 512 {
		if d.wpending == nil {
			d.wpending = map[string]bool{}
		}
		d.wpending[q] = true
	}
	return s
}

// prepareWrites prepares the statements writeStmt was asked for, on the
// writer pool, before a transaction begins: while no transaction of this
// goroutine holds its connection.
func (d *DB) prepareWrites(ctx context.Context) {
	d.stmtMu.RLock()
	n := len(d.wpending)
	d.stmtMu.RUnlock()
	if n == 0 {
		return
	}
	d.stmtMu.Lock()
	pending := d.wpending
	d.wpending = nil
	d.stmtMu.Unlock()
	for q := range pending {
		// A statement that fails to prepare fails again, with the same
		// error, each time it runs unprepared.
		s, err := d.write.PrepareContext(ctx, q)
		if err != nil {
			continue
		}
		d.stmtMu.Lock()
		if d.wstmts == nil {
			d.wstmts = map[string]*sql.Stmt{}
		}
		if d.wstmts[q] == nil {
			d.wstmts[q] = s
			s = nil
		}
		d.stmtMu.Unlock()
		if s != nil {
			s.Close()
		}
	}
}

// query runs a read statement: in the request's transaction once it has
// begun, else on the reader pool, or on the engine's own reader when it
// has one (PostgreSQL's, see pgread.go).
func (d *DB) query(ctx context.Context, q string, args ...any) (rows, error) {
	d.queries.Add(1)
	if tx := d.requestTx(ctx); tx != nil {
		return tx.queryOn(ctx, q, false, args)
	}
	if r := d.eng.reader(); r != nil {
		return r.query(ctx, q, args)
	}
	if !d.eng.preparesReads() {
		return d.read.QueryContext(ctx, q, args...)
	}
	s, err := d.stmt(ctx, q)
	if err != nil {
		return nil, err
	}
	return s.QueryContext(ctx, args...)
}

// rows is a read statement's result: a *sql.Rows, or what an engine's own
// reader returns, which scans as database/sql does.
type rows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
	Close() error
}

// row is a *sql.Row look-alike whose error can be set before the query ran.
type row struct {
	r   scanner
	err error
}

func (r row) Scan(dest ...any) error {
	if r.err != nil {
		return r.err
	}
	return r.r.Scan(dest...)
}

func (d *DB) queryRow(ctx context.Context, q string, args ...any) row {
	d.queries.Add(1)
	if tx := d.requestTx(ctx); tx != nil {
		return tx.queryRowOn(ctx, q, false, args)
	}
	if r := d.eng.reader(); r != nil {
		return row{r: r.queryRow(ctx, q, args)}
	}
	if !d.eng.preparesReads() {
		return row{r: d.read.QueryRowContext(ctx, q, args...)}
	}
	s, err := d.stmt(ctx, q)
	if err != nil {
		return row{err: err}
	}
	return row{r: s.QueryRowContext(ctx, args...)}
}

// Tx is a write transaction on the writer connection. All writes happen in
// one: exported method → BeginTx → defer Rollback → helpers taking *Tx →
// Commit. Now is the one timestamp of the transaction.
//
// Inside a request (see BeginRequest) BeginTx does not take the writer
// again: it returns a Tx joined to the request's one transaction, as a
// SAVEPOINT, whose Commit releases the savepoint and whose Rollback undoes
// only its own writes; the request commits or rolls back the whole.
type Tx struct {
	tx     *sql.Tx
	db     *DB
	ctx    context.Context
	Now    time.Time
	events []TypeName // types of the events appended, so Commit knows whom to wake
	// publicEvents are the types of the public events appended (those
	// that change what anonymous callers can read; see publicView), so
	// Commit tells the caches of anonymous answers only about them.
	publicEvents []TypeName
	// changed are the items the root's events are about, so Commit
	// removes them from the row cache.
	changed []itemKey
	// stmts are the root's statements bound to the transaction, by SQL
	// text, and busy those checked out (see take); guarded by stmtMu, as
	// a request's reads may run in its transaction from several resolvers
	// at once.
	stmtMu sync.Mutex
	stmts  map[string]*sql.Stmt
	busy   map[string]bool

	// The root transaction's state: the id of its first event (the
	// transaction id its events carry), and the rows holding a parked
	// unique value (see park).
	txID   int64
	parked map[parkKey]*parking
	// uniqueInPreview are the items written whose unique values must be
	// checked, at commit, against the content as a preview reads it
	// (drafts applied); and drafts whether any draft may exist (see
	// drafts.go).
	uniqueInPreview map[itemKey]previewCheck
	drafts          int8

	// A joined Tx: its root, its savepoint, and the root's state when it
	// began, restored by its Rollback.
	parent    *Tx
	savepoint string
	done      bool
	mark      txMark

	// statuses, when set (a bulk import), answers which linked items are
	// published for the events' public forms (see publishedRefs).
	statuses *statusCache
	// copies, when set (a bulk import on PostgreSQL), holds new rows and
	// events that are written with COPY in batches (see copyBuffer).
	copies *copyBuffer

	// scheduled is set on the root when the transaction set a schedule:
	// its commit wakes RunSchedules.
	scheduled bool
	// deliveries is set on the root when the transaction made webhook
	// deliveries due with no event (a ping, a retry, a webhook made
	// active), so the other replicas' dispatchers look at once.
	deliveries bool
}

// txMark is what a savepoint's rollback restores of the root's state.
type txMark struct {
	events       int
	publicEvents int
	txID         int64
	parked       map[parkKey]*parking
	unique       map[itemKey]previewCheck
}

// root returns the transaction that commits: tx itself, or its root.
func (tx *Tx) root() *Tx {
	if tx.parent != nil {
		return tx.parent
	}
	return tx
}

// appended records that the transaction appended an event about item id
// of type t, public or not: Commit wakes the type's listeners and removes
// the item from the row cache.
func (tx *Tx) appended(t TypeName, id int64, public bool) {
	if !slices.Contains(tx.events, t) {
		tx.events = append(tx.events, t)
	}
	if public && !slices.Contains(tx.publicEvents, t) {
		tx.publicEvents = append(tx.publicEvents, t)
	}
	tx.changed = append(tx.changed, itemKey{t, id})
}

// take checks q's statement out for one use: the writer pool's prepared
// statement bound to the transaction (see writeStmt), or, when the pool
// keeps none and alone is set, one prepared for this transaction alone.
// It returns nil (run q unprepared) when there is none, or when it is
// checked out already: a result of it is still open, which its next run
// would restart (a caller reading rows while it runs q again, or a
// request's resolvers reading at once). release checks it back in once
// its result is read. The binding is made once per transaction;
// database/sql closes it with the transaction, not the prepared statement.
func (tx *Tx) take(q string, alone bool) (st *sql.Stmt, release func()) {
	root := tx.root()
	root.stmtMu.Lock()
	defer root.stmtMu.Unlock()
	st, ok := root.stmts[q]
	if !ok {
		if p := tx.db.writeStmt(q); p != nil {
			st = root.tx.StmtContext(tx.ctx, p)
		} else if !alone {
			return nil, nil
		} else if ps, err := root.tx.PrepareContext(tx.ctx, q); err == nil {
			st = ps
		} else {
			return nil, nil // the same error comes back unprepared
		}
		if root.stmts == nil {
			root.stmts = map[string]*sql.Stmt{}
		}
		root.stmts[q] = st
	}
	if root.busy[q] {
		return nil, nil
	}
	if root.busy == nil {
		root.busy = map[string]bool{}
	}
	root.busy[q] = true
	return st, func() {
		root.stmtMu.Lock()
		delete(root.busy, q)
		root.stmtMu.Unlock()
	}
}

// execOn runs q in the transaction: prepared when take has its statement.
func (tx *Tx) execOn(ctx context.Context, q string, alone bool, args []any) (sql.Result, error) {
	if st, release := tx.take(q, alone); st != nil {
		defer release()
		return st.ExecContext(ctx, args...)
	}
	return tx.tx.ExecContext(ctx, q, args...)
}

// queryOn is execOn for a statement whose rows the caller reads; the
// statement is checked back in when they are closed.
func (tx *Tx) queryOn(ctx context.Context, q string, alone bool, args []any) (rows, error) {
	st, release := tx.take(q, alone)
	if st == nil {
		return tx.tx.QueryContext(ctx, q, args...)
	}
	r, err := st.QueryContext(ctx, args...)
	if err != nil {
		release()
		return nil, err
	}
	return &releasingRows{Rows: r, release: release}, nil
}

// queryRowOn is queryOn for one row, read as *sql.Row reads it.
func (tx *Tx) queryRowOn(ctx context.Context, q string, alone bool, args []any) row {
	return rowOf(tx.queryOn(ctx, q, alone, args))
}

// rowOf is the first row of a query's result, or its error, as a *sql.Row.
func rowOf(r rows, err error) row {
	if err != nil {
		return row{err: err}
	}
	return row{r: firstRow{r}}
}

// releasingRows checks its statement back in when closed (once).
type releasingRows struct {
	*sql.Rows
	release func()
}

func (r *releasingRows) Close() error {
	err := r.Rows.Close()
	if r.release != nil {
		r.release()
		r.release = nil
	}
	return err
}

// firstRow scans the first row of rows and closes them, as *sql.Row does:
// sql.ErrNoRows when there is none.
type firstRow struct{ rows rows }

func (f firstRow) Scan(dest ...any) error {
	defer f.rows.Close()
	if !f.rows.Next() {
		if err := f.rows.Err(); err != nil {
			return err
		}
		return sql.ErrNoRows
	}
	if err := f.rows.Scan(dest...); err != nil {
		return err
	}
	return f.rows.Close()
}

// execPrepared runs a statement the transaction runs many times (an
// import's events), prepared once for the writer pool or, on PostgreSQL,
// for the transaction.
func (tx *Tx) execPrepared(q string, args ...any) (sql.Result, error) {
	if err := tx.flushCopies(); err != nil {
		return nil, err
	}
	tx.db.queries.Add(1)
	return tx.execOn(tx.ctx, q, true, args)
}

// queryRowPrepared is execPrepared for a statement that returns a row.
func (tx *Tx) queryRowPrepared(q string, args ...any) scanner {
	if err := tx.flushCopies(); err != nil {
		return row{err: err}
	}
	tx.db.queries.Add(1)
	return tx.queryRowOn(tx.ctx, q, true, args)
}

// BeginTx starts an immediate write transaction; with a context from
// BeginRequest, it joins the request's transaction instead (beginning it
// at the first write).
func (d *DB) BeginTx(ctx context.Context) (*Tx, error) {
	if r := requestFrom(ctx, d); r != nil {
		return r.join(ctx)
	}
	return d.beginTx(ctx)
}

func (d *DB) beginTx(ctx context.Context) (*Tx, error) {
	return d.beginTxOn(ctx, nil)
}

// beginTxOn is beginTx on conn, a connection of the writer pool the caller
// holds (nil: any).
func (d *DB) beginTxOn(ctx context.Context, conn *sql.Conn) (*Tx, error) {
	var tx *sql.Tx
	var err error
	if conn != nil {
		tx, err = conn.BeginTx(ctx, nil)
	} else {
		d.prepareWrites(ctx)
		tx, err = d.write.BeginTx(ctx, nil)
	}
	if err != nil {
		return nil, err
	}
	d.queries.Add(1)
	return &Tx{tx: tx, db: d, ctx: ctx, Now: d.Now().UTC().Truncate(time.Millisecond)}, nil
}

// Commit commits the transaction and, when it appended events, wakes
// the event log's listeners. The unique values checked at commit (see
// park) are checked first: EINVALID when one is still held twice, and
// then nothing is committed. A joined Tx releases its savepoint: its
// writes commit with the request.
func (tx *Tx) Commit() error {
	if tx.parent != nil {
		if tx.done {
			return sql.ErrTxDone
		}
		tx.done = true
		_, err := tx.exec("RELEASE " + tx.savepoint)
		return err
	}
	if err := tx.flushCopies(); err != nil {
		return err
	}
	if err := tx.checkParked(); err != nil {
		return err
	}
	if err := tx.checkPreviewUnique(); err != nil {
		return err
	}
	if err := tx.db.eng.beforeCommit(tx); err != nil {
		return err
	}
	// The changed rows leave the row cache while this transaction still
	// holds the writer, so no later write commits before they left, and
	// again once committed, in case a reader kept one in between.
	tx.db.rows.invalidate(tx.changed)
	// The relation cache learns which event ids this commit wrote: from
	// the transaction's first to the newest (one writer on SQLite).
	var lastEvent int64
	if tx.db.rels != nil && len(tx.events) > 0 && tx.txID > 0 {
		if err := tx.queryRow(lastEventSeqSQL).Scan(&lastEvent); err != nil {
			return err
		}
	}
	tx.db.queries.Add(1)
	if err := tx.tx.Commit(); err != nil {
		return err
	}
	tx.db.rows.invalidate(tx.changed)
	if lastEvent > 0 {
		tx.db.rels.committed(tx.txID, lastEvent, tx.events)
	}
	if len(tx.events) > 0 {
		tx.db.searches.clear(len(tx.publicEvents) > 0)
		tx.db.hub.broadcast(tx.events, tx.publicEvents)
	}
	if tx.scheduled {
		select {
		case tx.db.scheduleWake <- struct{}{}:
		default: // already pending
		}
	}
	return nil
}

// Rollback aborts the transaction; after Commit it is a no-op. A joined
// Tx rolls back to its savepoint: the request goes on without its writes.
func (tx *Tx) Rollback() error {
	if tx.parent != nil {
		if tx.done {
			return nil
		}
		tx.done = true
		root := tx.parent
		root.events, root.publicEvents = root.events[:tx.mark.events], root.publicEvents[:tx.mark.publicEvents]
		root.txID, root.parked, root.uniqueInPreview = tx.mark.txID, tx.mark.parked, tx.mark.unique
		_, err := tx.exec("ROLLBACK TO " + tx.savepoint + "; RELEASE " + tx.savepoint)
		return err
	}
	return tx.tx.Rollback()
}

func (tx *Tx) exec(q string, args ...any) (sql.Result, error) {
	if err := tx.flushCopies(); err != nil {
		return nil, err
	}
	tx.db.queries.Add(1)
	return tx.execOn(tx.ctx, q, false, args)
}

func (tx *Tx) query(q string, args ...any) (rows, error) {
	if err := tx.flushCopies(); err != nil {
		return nil, err
	}
	tx.db.queries.Add(1)
	return tx.queryOn(tx.ctx, q, false, args)
}

func (tx *Tx) queryRow(q string, args ...any) row {
	if err := tx.flushCopies(); err != nil {
		return row{err: err}
	}
	tx.db.queries.Add(1)
	return tx.queryRowOn(tx.ctx, q, false, args)
}

// now formats the transaction's timestamp as stored.
func (tx *Tx) now() string { return formatTime(tx.Now) }

func formatTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z07:00") }

// Backup writes a consistent copy of the database to path (which must not
// exist), while readers and writers go on. EINVALID when path exists.
func (d *DB) Backup(ctx context.Context, path string) error { return d.eng.backup(ctx, d, path) }

// Pools returns the reader and writer connection pools, for metrics only:
// all SQL goes through DB's methods.
func (d *DB) Pools() (read, write *sql.DB) { return d.read, d.write }
