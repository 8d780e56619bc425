package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
)

// copyBuffer holds a bulk import's new rows and events on PostgreSQL and
// writes them with COPY, copyBatchRows rows or copyBatchBytes at a time,
// instead of one INSERT (and, for an item, a savepoint around it) per row:
// a round trip each, 69,266 of them for the 1x benchmark set.
//
// Only rows that cannot fail are buffered: the items of a type that had no
// rows when the import began (the import has already refused a slug, rank
// or position given twice in the file, and validated every field), and
// their events. Every other statement of the transaction writes the
// buffer first (Tx.flushCopies), so whatever it reads or writes sees the
// rows in the order they were made: events keep their ids in the order of
// the changes, links find their items, and a read finds what was written
// before it.
type copyBuffer struct {
	conn   *sql.Conn // the transaction's connection, for pgx's CopyFrom
	tables []string  // in the order first seen: a row's table before its links'
	cols   map[string][]string
	rows   map[string][][]any
	n      int // rows pending
	bytes  int // their text's size, roughly
	// err is a failed flush's error: the transaction is aborted, and every
	// later statement fails with it.
	err error
}

// copyBatchRows and copyBatchBytes bound what a copyBuffer holds before it
// writes: a few round trips per batch, and bounded memory whatever the
// size of the file (a record is at most 4 MiB).
const (
	copyBatchRows  = 4096
	copyBatchBytes = 8 << 20
)

func newCopyBuffer(conn *sql.Conn) *copyBuffer {
	return &copyBuffer{conn: conn, cols: map[string][]string{}, rows: map[string][][]any{}}
}

// add queues one row of table (whose columns are cols, the same for every
// row of the table) and reports whether the buffer is full.
func (b *copyBuffer) add(table string, cols []string, vals []any) bool {
	if _, ok := b.cols[table]; !ok {
		b.tables = append(b.tables, table)
		b.cols[table] = cols
	}
	row := make([]any, len(vals))
	for i, v := range vals {
		row[i] = copyValue(v)
		if s, ok := row[i].(string); ok {
			b.bytes += len(s)
		}
	}
	b.rows[table] = append(b.rows[table], row)
	b.n++
	return b.n >= copyBatchRows || b.bytes >= copyBatchBytes
}

// copyValue converts a parameter as the connection's CheckNamedValue does
// for statements (see pgConn): booleans as 1 and 0, NUL as U+0001.
func copyValue(v any) any {
	switch v := v.(type) {
	case bool:
		if v {
			return int64(1)
		}
		return int64(0)
	case string:
		if strings.IndexByte(v, 0) >= 0 {
			return strings.ReplaceAll(v, "\x00", "\x01")
		}
	}
	return v
}

// flush writes every pending row, table by table in the order first seen,
// and returns how many COPY statements it ran.
func (b *copyBuffer) flush(ctx context.Context) (int, error) {
	if b.err != nil || b.n == 0 {
		return 0, b.err
	}
	statements := 0
	for _, table := range b.tables {
		rows := b.rows[table]
		if len(rows) == 0 {
			continue
		}
		err := b.conn.Raw(func(dc any) error {
			c, ok := dc.(*pgConn)
			if !ok {
				return fmt.Errorf("copy: not a PostgreSQL connection (%T)", dc)
			}
			n, err := c.Conn.Conn().CopyFrom(ctx, pgx.Identifier{table}, b.cols[table], pgx.CopyFromRows(rows))
			if err == nil && n != int64(len(rows)) {
				err = fmt.Errorf("copy into %s: %d rows written of %d", table, n, len(rows))
			}
			return err
		})
		statements++
		if err != nil {
			b.err = fmt.Errorf("write %s: %w", table, err)
			return statements, b.err
		}
		clear(rows)
		b.rows[table] = rows[:0]
	}
	b.n, b.bytes = 0, 0
	return statements, nil
}

// errCopyFailed wraps the statement that could not run because the
// buffered rows before it could not be written.
var errCopyFailed = errors.New("the rows before this statement could not be written")

// flushCopies writes the rows a bulk import has buffered, before any other
// statement of the transaction runs (see copyBuffer). Without a buffer it
// does nothing.
func (tx *Tx) flushCopies() error {
	b := tx.root().copies
	if b == nil {
		return nil
	}
	n, err := b.flush(tx.ctx)
	tx.db.queries.Add(int64(n))
	if err != nil {
		return fmt.Errorf("%w: %w", errCopyFailed, err)
	}
	return nil
}

// copying reports whether new items of type t are buffered (see
// copyBuffer).
func (w *writer) copying(t TypeName) bool {
	return w.tx.root().copies != nil && w.copyTypes[t]
}

// copyRow queues a row of table, and writes the buffer when it is full.
func (tx *Tx) copyRow(table string, cols []string, vals []any) error {
	b := tx.root().copies
	if b.err != nil {
		return b.err
	}
	if b.add(table, cols, vals) {
		return tx.flushCopies()
	}
	return nil
}
