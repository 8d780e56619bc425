package db

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
)

// IsPostgresURL reports whether dsn selects PostgreSQL (a postgres:// or
// postgresql:// URL) rather than naming an SQLite file.
func IsPostgresURL(dsn string) bool {
	// Schemes are case-insensitive (RFC 3986): POSTGRES://… must not be
	// taken for a file name, which messages would print with its password.
	return hasPrefixFold(dsn, "postgres://") || hasPrefixFold(dsn, "postgresql://")
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// writerLock is the key of the transaction-level advisory lock every
// PostgreSQL write transaction takes first: writers run one at a time, as
// on SQLite, so the event log's ids are in commit order on every replica
// and the unique checks made at commit see every earlier write.
const writerLock = 0x54514c31 // "TQL1", as the SQLite application_id

// RedactURL returns dsn with its password replaced, for messages and logs:
// the one in the user information and a password query parameter alike.
// A URL that does not parse is named only by its scheme, since where its
// password starts cannot be told.
func RedactURL(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		scheme, _, _ := strings.Cut(dsn, "://")
		return scheme + "://…"
	}
	if u.User != nil {
		if _, ok := u.User.Password(); ok {
			u.User = url.UserPassword(u.User.Username(), "xxxxx")
		}
	}
	if q := u.Query(); q.Has("password") {
		q.Set("password", "xxxxx")
		u.RawQuery = q.Encode()
	}
	return u.String()
}

// defaultConnectTimeout bounds each connection attempt when neither the URL
// (connect_timeout) nor PGCONNECT_TIMEOUT says how long to wait: without
// it, a host that drops packets holds a command for the operating system's
// TCP timeout, minutes, before it can say what is wrong.
const defaultConnectTimeout = 10 * time.Second

// openPostgres opens the database at a PostgreSQL URL: one pgx pool, seen
// by database/sql through two connectors, the writers' (each transaction
// takes the writer lock) and the readers'.
func openPostgres(ctx context.Context, dsn string, opts Options) (_ *DB, created bool, err error) {
	// pgx knows the schemes in lower case only.
	scheme, rest, _ := strings.Cut(dsn, "://")
	dsn = strings.ToLower(scheme) + "://" + rest
	name := RedactURL(dsn)
	if _, err := url.Parse(dsn); err != nil {
		// pgx reads some of these anyway, as something else: a password
		// with a "#" in it becomes a fragment and its start a port.
		return nil, false, fmt.Errorf("cannot use database URL %s: the URL is malformed (%s)", name, notAURL)
	}
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, false, fmt.Errorf("cannot use database URL %s: %s", name, pgErrorSentence(err))
	}
	if cfg.ConnConfig.ConnectTimeout == 0 && !explicitConnectTimeout(dsn) {
		cfg.ConnConfig.ConnectTimeout = defaultConnectTimeout
	}
	n := opts.ReadConns
	if n <= 0 {
		// A reader waits for PostgreSQL's processes (and the network)
		// as much as it works: sized by this process's cores alone, as
		// SQLite's are, the pool left the server idle while trendql
		// decoded rows. With 8 instead of 3 on 2 cores, q2 went from
		// 227-304 to 468-479 req/s (interleaved runs, busy machine).
		n = max(8, 2*runtime.GOMAXPROCS(0))
	}
	writers := 4
	if !strings.Contains(dsn, "pool_max_conns") {
		// Readers, writers waiting for the writer lock, and the listener.
		cfg.MaxConns = int32(n + writers + 1)
	}
	cfg.ConnConfig.RuntimeParams["application_name"] = "trendql"
	if _, set := cfg.ConnConfig.RuntimeParams["random_page_cost"]; !set && !strings.Contains(dsn, "random_page_cost") {
		// The stock 4 prices a random read as a spinning disk's: then a
		// page's relations (a few index probes into companies) were
		// planned as a hash join over the whole table, 17 ms instead of
		// 0.2 ms. trendql's tables are small enough to be cached, or on
		// SSD, where 1.1 is the usual setting; a URL's own
		// random_page_cost (or options) wins.
		cfg.ConnConfig.RuntimeParams["random_page_cost"] = "1.1"
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, false, fmt.Errorf("cannot open database %s: %s", name, pgErrorSentence(err))
	}
	d := newDB(dsn, &postgresEngine{pool: pool, url: name, instance: rand.Text(), read: newPGReader(pool, n)})
	d.rows, d.searches = opts.rowCache(), opts.searchCache()
	defer func() {
		if err != nil {
			d.Close()
		}
	}()
	inner := stdlib.GetPoolConnector(pool)
	d.write = sql.OpenDB(pgConnector{inner: inner, write: true})
	d.write.SetMaxOpenConns(writers)
	d.write.SetMaxIdleConns(0)
	d.read = sql.OpenDB(pgConnector{inner: inner})
	d.read.SetMaxOpenConns(n)
	d.read.SetMaxIdleConns(0)
	if err := pool.Ping(ctx); err != nil {
		if timedOut(err) && ctx.Err() == nil {
			return nil, false, fmt.Errorf("cannot connect to database %s: the server did not answer within %s (connect_timeout in the URL sets how long to wait)", name, cfg.ConnConfig.ConnectTimeout)
		}
		return nil, false, fmt.Errorf("cannot connect to database %s: %s", name, pgErrorSentence(err))
	}
	created, err = d.migratePG(ctx)
	if err != nil {
		return nil, false, err
	}
	return d, created, nil
}

// explicitConnectTimeout reports whether the URL or the environment sets
// connect_timeout, 0 (wait for ever, as in libpq) included.
func explicitConnectTimeout(dsn string) bool {
	if os.Getenv("PGCONNECT_TIMEOUT") != "" {
		return true
	}
	u, err := url.Parse(dsn)
	return err == nil && u.Query().Has("connect_timeout")
}

// pgErrorSentence is the one clear sentence of a connection failure,
// without the URL (whose password it must never repeat): pgx's own texts
// are not used, since a ParseConfigError's can quote the URL.
func pgErrorSentence(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch {
		case pe.Code == "28P01":
			return "authentication failed (wrong user or password)"
		case pe.Code == "28000" && strings.HasPrefix(pe.Message, "role ") && strings.HasSuffix(pe.Message, " does not exist"):
			return "the user does not exist"
		case pe.Code == "28000":
			return "the server does not let this user connect to this database (pg_hba.conf)"
		case pe.Code == "3D000":
			return "the database does not exist"
		case pe.Code == "42501":
			return "permission denied (" + pe.Message + ")"
		case pe.Code == "53300":
			return "the server has no connection slot left (max_connections)"
		case pe.Code == "57P03":
			return "the server is starting up or shutting down"
		}
		return pe.Message
	}
	var pce *pgconn.ParseConfigError
	if errors.As(err, &pce) {
		return "the URL is malformed (" + parseConfigReason(pce) + ")"
	}
	if timedOut(err) {
		return "the server did not answer in time"
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return "the host name cannot be resolved"
	}
	if errors.Is(err, syscall.ECONNREFUSED) {
		return "the server refused the connection (is PostgreSQL running on that host and port?)"
	}
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) {
		return "the server cannot be reached"
	}
	return "the connection failed"
}

// timedOut reports whether a connection attempt failed for lack of an
// answer: pgx reports its connect_timeout as a context deadline, the
// dialer as a net.Error that timed out.
func timedOut(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// notAURL is the reason given for a URL that does not parse.
const notAURL = "it is not a valid URL; percent-encode special characters in the user name and password"

// parseConfigReason is what pgx found wrong with a URL, without the URL:
// its message stands between the quoted URL and the wrapped error, whose
// text (a url.Error) may hold the password and is left out.
func parseConfigReason(e *pgconn.ParseConfigError) string {
	s := e.Error()
	var detail string
	if inner := e.Unwrap(); inner != nil {
		s = strings.TrimSuffix(s, " ("+inner.Error()+")")
		// A url.Error quotes the URL; the others (strconv's, "sslmode is
		// invalid") say what is wrong with one setting.
		var ue *url.Error
		if !errors.As(inner, &ue) {
			detail = ": " + inner.Error()
		}
	}
	if i := strings.LastIndex(s, "`: "); i >= 0 {
		s = s[i+len("`: "):]
	} else {
		return "it cannot be parsed"
	}
	switch {
	case strings.Contains(s, "`") || strings.Contains(s, "@"):
		return "it cannot be parsed"
	case strings.HasPrefix(s, "failed to parse as"):
		return notAURL
	}
	return s + detail
}

// pgConnector hands database/sql pooled pgx connections whose statements
// are translated from SQLite's dialect, and whose write transactions take
// the writer lock.
type pgConnector struct {
	inner driver.Connector
	write bool
}

func (c pgConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.inner.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return &pgConn{Conn: conn.(*stdlib.Conn), write: c.write}, nil
}

func (c pgConnector) Driver() driver.Driver { return c.inner.Driver() }

type pgConn struct {
	*stdlib.Conn
	write bool
}

func (c *pgConn) PrepareContext(ctx context.Context, q string) (driver.Stmt, error) {
	st, err := c.Conn.PrepareContext(ctx, pgSQL(q))
	if err != nil || !c.write {
		return st, err
	}
	return pgStmt{st.(*stdlib.Stmt)}, nil
}

// pgStmt is a writer's prepared statement, whose results are buffered
// like its connection's (see bufferRows).
type pgStmt struct{ *stdlib.Stmt }

func (s pgStmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	rows, err := s.Stmt.QueryContext(ctx, args)
	if err != nil {
		return nil, err
	}
	return bufferRows(rows)
}

// CheckNamedValue stores Go booleans as 1 and 0, as the SQLite driver
// does: the schema keeps flags in integer columns on both engines.
//
// PostgreSQL's text cannot hold NUL, which SQLite's can, so a parameter
// with one would fail the statement. No stored text holds a NUL or any
// other C0 control but tab and line breaks (validation refuses them on
// every write), so a NUL becomes U+0001: a lookup or a filter with it
// still matches nothing, as on SQLite, instead of failing.
func (c *pgConn) CheckNamedValue(nv *driver.NamedValue) error {
	checkPGValue(nv)
	return c.Conn.CheckNamedValue(nv)
}

func (c *pgConn) Prepare(q string) (driver.Stmt, error) {
	return c.PrepareContext(context.Background(), q)
}

func (c *pgConn) ExecContext(ctx context.Context, q string, args []driver.NamedValue) (driver.Result, error) {
	return c.Conn.ExecContext(ctx, pgSQL(q), args)
}

func (c *pgConn) QueryContext(ctx context.Context, q string, args []driver.NamedValue) (driver.Rows, error) {
	rows, err := c.Conn.QueryContext(ctx, pgSQL(q), args)
	if err != nil || !c.write {
		return rows, err
	}
	return bufferRows(rows)
}

// bufferRows reads a writer's result whole and frees the connection. A
// request's transaction is read by the resolvers of its answer, several
// goroutines at once: database/sql lets them share the connection one
// call at a time, and SQLite's connections hold several open results, but
// a pgx connection is busy until its result is read to the end.
func bufferRows(rows driver.Rows) (driver.Rows, error) {
	defer rows.Close()
	b := &bufferedRows{cols: rows.Columns()}
	for {
		row := make([]driver.Value, len(b.cols))
		err := rows.Next(row)
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return nil, err
		}
		for i, v := range row {
			if p, ok := v.([]byte); ok {
				row[i] = bytes.Clone(p)
			}
		}
		b.rows = append(b.rows, row)
	}
}

type bufferedRows struct {
	cols []string
	rows [][]driver.Value
}

func (b *bufferedRows) Columns() []string { return b.cols }
func (b *bufferedRows) Close() error      { b.rows = nil; return nil }
func (b *bufferedRows) Next(dest []driver.Value) error {
	if len(b.rows) == 0 {
		return io.EOF
	}
	copy(dest, b.rows[0])
	b.rows = b.rows[1:]
	return nil
}

// BeginTx begins a transaction: a writer's takes the writer lock first; a
// read-only one reads one snapshot, as an SQLite read transaction does.
func (c *pgConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	if opts.ReadOnly && sql.IsolationLevel(opts.Isolation) == sql.LevelDefault {
		opts.Isolation = driver.IsolationLevel(sql.LevelRepeatableRead)
	}
	tx, err := c.Conn.BeginTx(ctx, opts)
	if err != nil || !c.write || opts.ReadOnly {
		return tx, err
	}
	if _, err := c.Conn.Conn().Exec(ctx, "SELECT pg_advisory_xact_lock($1)", int64(writerLock)); err != nil {
		tx.Rollback()
		return nil, err
	}
	return tx, nil
}

func (c *pgConn) Begin() (driver.Tx, error) {
	return c.BeginTx(context.Background(), driver.TxOptions{})
}

// postgresEngine is the PostgreSQL adapter.
type postgresEngine struct {
	pool *pgxpool.Pool
	url  string // redacted
	// instance tells this process's notifications from the others'.
	instance string
	// read runs the reads made outside transactions (see pgread.go).
	read *pgReader
}

func (e *postgresEngine) name() string { return "postgres" }

func (e *postgresEngine) close() error {
	e.pool.Close()
	return nil
}

func (e *postgresEngine) isUniqueViolation(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505"
}

func (e *postgresEngine) nextEventID(tx *Tx) (int64, error) {
	var id int64
	err := tx.queryRow("SELECT CASE WHEN is_called THEN last_value + 1 ELSE last_value END FROM events_id_seq").Scan(&id)
	return id, err
}

// backup on PostgreSQL has no file to copy: the consistent copy is the
// content file (Export reads one snapshot), and pg_dump copies everything
// else. Backup says so instead of pretending.
func (e *postgresEngine) backup(ctx context.Context, d *DB, path string) error {
	return Invalid("path", "backup copies an SQLite file; on PostgreSQL use `trendql export` for a consistent copy of the content, or pg_dump for the whole database")
}

func (e *postgresEngine) pingReason(err error) string {
	return "PostgreSQL does not answer: " + pgErrorSentence(err)
}

// pgChannel is the channel of the notifications replicas send each other.
const pgChannel = "trendql"

// beforeCommit queues a notification to the other replicas, delivered by
// PostgreSQL at commit and only then: "events of these types were appended
// (those of these types public; or a schedule set) by replica <instance>".
func (e *postgresEngine) beforeCommit(tx *Tx) error {
	if len(tx.events) == 0 && !tx.scheduled && !tx.deliveries {
		return nil
	}
	types := make([]string, len(tx.events))
	for i, t := range tx.events {
		types[i] = string(t)
	}
	payload := e.instance + " " + strings.Join(types, ",")
	if len(tx.events) > 0 {
		// Which of those types had public events: the others' caches of
		// anonymous answers stay warm after a draft. A replica of an
		// older version ignores the flag, and a payload without it (from
		// one) counts every type as public.
		public := make([]string, len(tx.publicEvents))
		for i, t := range tx.publicEvents {
			public[i] = string(t)
		}
		payload += " public=" + strings.Join(public, ",")
	}
	if tx.scheduled {
		payload += " schedule"
	}
	if tx.deliveries {
		payload += " deliveries"
	}
	_, err := tx.exec(pgNative+"\nSELECT pg_notify('"+pgChannel+"', $1)", payload)
	return err
}

// watch listens for the other replicas' notifications on a connection of
// its own and passes each on to this process's listeners and hooks, as a
// commit of its own would. After the connection is lost (and on each
// interval with nothing heard, as a safety net) it compares the newest
// event id, so a write made while it was not listening is noticed too.
func (e *postgresEngine) watch(ctx context.Context, d *DB, interval time.Duration) {
	last, _ := d.LastEventID(ctx)
	check := func() {
		id, err := d.LastEventID(ctx)
		if err == nil && id != last {
			last = id
			d.externalWrite(nil)
			d.deliveryHub.broadcast(nil, nil)
		}
	}
	// seen notes the newest id after a notification, whose broadcast
	// covers it.
	seen := func() {
		if id, err := d.LastEventID(ctx); err == nil {
			last = id
		}
	}
	backoff := 50 * time.Millisecond
	for ctx.Err() == nil {
		err := e.listen(ctx, d, interval, check, seen)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			slog.Default().Warn("listening for other replicas' writes failed; retrying", "err", pgErrorSentence(err))
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 5*time.Second)
		check()
	}
}

func (e *postgresEngine) listen(ctx context.Context, d *DB, interval time.Duration, check, seen func()) error {
	pconn, err := e.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	// The connection carries LISTEN state: it never goes back to the pool.
	conn := pconn.Hijack()
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN "+pgChannel); err != nil {
		return err
	}
	check() // whatever was committed before LISTEN took effect
	for {
		wctx, cancel := context.WithTimeout(ctx, interval)
		n, err := conn.WaitForNotification(wctx)
		cancel()
		switch {
		case ctx.Err() != nil:
			return nil
		case errors.Is(err, context.DeadlineExceeded):
			check()
			continue
		case err != nil:
			return err
		}
		instance, rest, _ := strings.Cut(n.Payload, " ")
		if instance == e.instance {
			continue // this process's own commit: already broadcast
		}
		typesCSV, flagList, _ := strings.Cut(rest, " ")
		flags := strings.Fields(flagList)
		var types []TypeName
		for _, t := range strings.Split(typesCSV, ",") {
			if t != "" {
				types = append(types, TypeName(t))
			}
		}
		public := types // unknown: as if every type's were public
		for _, f := range flags {
			if list, ok := strings.CutPrefix(f, "public="); ok {
				public = []TypeName{}
				for _, t := range strings.Split(list, ",") {
					if t != "" {
						public = append(public, TypeName(t))
					}
				}
			}
		}
		seen()
		if len(types) > 0 {
			// A commit with no events (a schedule set, say) changed
			// nothing a cache or a subscription reads: on its own replica
			// it wakes no one either.
			d.externalWriteOf(types, public)
			d.deliveryHub.broadcast(nil, nil)
		} else if slices.Contains(flags, "deliveries") {
			d.deliveryHub.broadcast(nil, nil)
		}
		if slices.Contains(flags, "schedule") {
			select {
			case d.scheduleWake <- struct{}{}:
			default:
			}
		}
	}
}

// bulkAnalyzed are the tables a bulk import fills and the search rebuild
// reads: their content, links and drafts.
var bulkAnalyzed = []string{
	"trends", "frameworks", "companies", "faqs",
	"framework_companies", "trend_companies", "trend_frameworks", "faq_frameworks", "faq_trends",
	"trend_drafts", "framework_drafts", "company_drafts", "faq_drafts",
	"framework_companies_drafts", "trend_companies_drafts", "trend_frameworks_drafts", "faq_frameworks_drafts", "faq_trends_drafts",
}

// afterBulkWrite gathers the statistics of the tables a bulk import just
// filled, inside its transaction (ANALYZE counts the transaction's own
// rows). Without them the planner takes a new database's tables for
// empty: the search rebuild's per-item subqueries then scanned the whole
// link table once per framework (the 1x set's rebuild took 104 s instead
// of seconds), and the server's first queries after the import were
// planned as badly until autovacuum came by. The statistics commit with
// the import.
func (e *postgresEngine) afterBulkWrite(tx *Tx) error {
	_, err := tx.exec(pgNative + "\nANALYZE " + strings.Join(bulkAnalyzed, ", "))
	return err
}

func (e *postgresEngine) preparesReads() bool  { return false }
func (e *postgresEngine) reader() directReader { return e.read }
func (e *postgresEngine) abortsOnError() bool  { return true }

// tuneImport: PostgreSQL's buffers are the server's; nothing to tune.
func (e *postgresEngine) tuneImport(context.Context, *DB) (func(), error) { return func() {}, nil }
