package db

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"reflect"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"
)

// pgReader runs PostgreSQL's read statements outside transactions on the
// pgx pool itself rather than through database/sql. Each of a request's
// statements went through database/sql's pool (a connection handed over
// between two pools), its argument checks, a goroutine watching the
// context of every result, and stdlib's conversion of each value to a
// driver.Value before database/sql converted it again: about a third of
// trendql's own CPU time per statement in q1's profile (see README,
// "PostgreSQL performance"). A single statement needs no transaction: it
// reads one snapshot.
//
// Its results scan as database/sql scans them (see scanCompat), so the
// domain's code reads the same values on both paths; statements inside a
// transaction (a request's writes, an export's snapshot) keep going
// through database/sql.
type pgReader struct {
	pool *pgxpool.Pool
	// slots bounds the reads in flight as the reader pool's size did, so
	// that readers never hold every connection writers need.
	slots chan struct{}
}

func newPGReader(pool *pgxpool.Pool, n int) *pgReader {
	return &pgReader{pool: pool, slots: make(chan struct{}, n)}
}

// maxReadRetries is how many times a read is sent again when it failed
// before reaching the server (a pooled connection the server closed, say),
// as database/sql retries a driver.ErrBadConn.
const maxReadRetries = 2

func (r *pgReader) query(ctx context.Context, q string, args []any) (rows, error) {
	select {
	case r.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	sqlText, params := pgSQL(q), pgParams(args)
	for attempt := 0; ; attempt++ {
		res, err := r.pool.Query(ctx, sqlText, params...)
		if err == nil {
			return &pgRows{rows: res, release: r.release}, nil
		}
		if attempt < maxReadRetries && pgconn.SafeToRetry(err) && ctx.Err() == nil {
			continue
		}
		r.release()
		return nil, err
	}
}

func (r *pgReader) release() { <-r.slots }

func (r *pgReader) queryRow(ctx context.Context, q string, args []any) scanner {
	return rowOf(r.query(ctx, q, args))
}

// pgParams applies pgConn.CheckNamedValue's rules to a statement's
// arguments, in a new slice: Go booleans as 1 and 0, NUL in text as U+0001.
func pgParams(args []any) []any {
	out := make([]any, len(args))
	for i, a := range args {
		nv := driver.NamedValue{Ordinal: i + 1, Value: a}
		checkPGValue(&nv)
		out[i] = nv.Value
	}
	return out
}

// pgRows is a read's result; Close gives its reader slot back.
type pgRows struct {
	rows    pgx.Rows
	release func()
	closed  bool
	// The scan plan of each column, for the destination type it was made
	// for.
	plans []pgtype.ScanPlan
	types []reflect.Type
}

func (r *pgRows) Next() bool {
	if r.closed {
		return false
	}
	if r.rows.Next() {
		return true
	}
	r.Close()
	return false
}

func (r *pgRows) Scan(dest ...any) error {
	if r.closed {
		return errors.New("sql: Rows are closed")
	}
	return r.scanCompat(dest)
}

func (r *pgRows) Err() error { return r.rows.Err() }

func (r *pgRows) Close() error {
	if !r.closed {
		r.closed = true
		r.rows.Close()
		r.release()
	}
	return r.rows.Err()
}

// scanCompat assigns the current row to dest with database/sql's rules.
// pgx's own conversions are used where they give what database/sql gives
// (see pgxAgrees), one column at a time (pgx's Scan would end the result
// at the first column it refuses); any other pair (an integer flag into a
// bool, a number into a string, a destination of type *any) is converted
// as stdlib hands the value to database/sql and assigned by database/sql's
// own conversion.
func (r *pgRows) scanCompat(dest []any) error {
	fds := r.rows.FieldDescriptions()
	if len(dest) != len(fds) {
		return fmt.Errorf("sql: expected %d destination arguments in Scan, not %d", len(fds), len(dest))
	}
	raw := r.rows.RawValues()
	if r.plans == nil {
		r.plans = make([]pgtype.ScanPlan, len(fds))
		r.types = make([]reflect.Type, len(fds))
	}
	var vals []any
	for i, d := range dest {
		if t := reflect.TypeOf(d); r.types[i] != t {
			r.types[i] = t
			r.plans[i] = nil
			if pgxAgrees(fds[i].DataTypeOID, t) {
				r.plans[i] = r.rows.Conn().TypeMap().PlanScan(fds[i].DataTypeOID, fds[i].Format, d)
			}
		}
		if r.plans[i] != nil && r.plans[i].Scan(raw[i], d) == nil {
			continue
		}
		if vals == nil {
			var err error
			if vals, err = r.rows.Values(); err != nil {
				return err
			}
		}
		if err := assign(d, driverValue(fds[i], vals[i], raw[i])); err != nil {
			return fmt.Errorf("sql: Scan error on column index %d, name %q: %w", i, fds[i].Name, err)
		}
	}
	return nil
}

// pgxAgrees reports whether pgx scans a column of type oid into a
// destination of type t exactly as database/sql does: text into strings
// (named string types too), integers into integers, floats into floats,
// each directly or through a pointer for NULL. pgx is more permissive
// elsewhere (a number into a named string type, which database/sql
// refuses) or formats differently (a real into a string).
func pgxAgrees(oid uint32, t reflect.Type) bool {
	if t.Kind() != reflect.Pointer {
		return false
	}
	e := t.Elem()
	if e.Kind() == reflect.Pointer {
		e = e.Elem()
	}
	if e.PkgPath() != "" && e.Kind() != reflect.String {
		return false // a named type of another kind, sql.Null* or a Scanner: database/sql's way
	}
	switch oid {
	case pgtype.TextOID, pgtype.VarcharOID, pgtype.BPCharOID, pgtype.NameOID:
		return e.Kind() == reflect.String
	case pgtype.Int8OID, pgtype.Int4OID, pgtype.Int2OID:
		switch e.Kind() {
		case reflect.Int, reflect.Int64:
			return true
		}
	case pgtype.Float8OID:
		return e.Kind() == reflect.Float64
	}
	return false
}

// driverValue is the value stdlib gives database/sql for a column:
// integers as int64, floats as float64, JSON and bytea as []byte, other
// types as their text.
func driverValue(fd pgconn.FieldDescription, v any, raw []byte) any {
	if v == nil || raw == nil {
		return nil
	}
	switch fd.DataTypeOID {
	case pgtype.JSONOID:
		return append([]byte(nil), raw...)
	case pgtype.JSONBOID:
		if fd.Format == pgtype.BinaryFormatCode && len(raw) > 0 {
			raw = raw[1:] // the format's version byte
		}
		return append([]byte(nil), raw...)
	}
	switch x := v.(type) {
	case int16:
		return int64(x)
	case int32:
		return int64(x)
	case int64, float64, bool, string, []byte:
		return x
	case float32:
		return float64(x)
	case driver.Valuer:
		if dv, err := x.Value(); err == nil {
			return dv
		}
	}
	return fmt.Sprint(v)
}

// assign stores v into dest as database/sql's convertAssign does, through
// the sql.Null types whose Scan is that conversion.
func assign(dest, v any) error {
	switch d := dest.(type) {
	case *any:
		if b, ok := v.([]byte); ok {
			v = append([]byte(nil), b...)
		}
		*d = v
		return nil
	case sql.Scanner:
		return d.Scan(v)
	}
	p := reflect.ValueOf(dest)
	if p.Kind() != reflect.Pointer || p.IsNil() {
		return errors.New("destination not a pointer")
	}
	e := p.Elem()
	if e.Kind() == reflect.Pointer {
		if v == nil {
			e.SetZero()
			return nil
		}
		n := reflect.New(e.Type().Elem())
		if err := assign(n.Interface(), v); err != nil {
			return err
		}
		e.Set(n)
		return nil
	}
	if v == nil {
		if e.Kind() == reflect.Slice && e.Type().Elem().Kind() == reflect.Uint8 {
			e.SetZero()
			return nil
		}
		return fmt.Errorf("converting NULL to %s is unsupported", e.Kind())
	}
	switch e.Kind() {
	case reflect.String:
		// Into a string, database/sql formats numbers and booleans; into
		// a named string type, it takes text only.
		if _, text := v.(string); !text && e.Type() != reflect.TypeFor[string]() {
			b, ok := v.([]byte)
			if !ok {
				return fmt.Errorf("unsupported Scan, storing driver.Value type %T into type %T", v, dest)
			}
			v = string(b)
		}
		var n sql.NullString
		if err := n.Scan(v); err != nil {
			return err
		}
		e.SetString(n.String)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		var n sql.NullInt64
		if err := n.Scan(v); err != nil {
			return err
		}
		if e.OverflowInt(n.Int64) {
			return fmt.Errorf("converting driver.Value type %T (%v) to a %s: value out of range", v, v, e.Kind())
		}
		e.SetInt(n.Int64)
	case reflect.Bool:
		var n sql.NullBool
		if err := n.Scan(v); err != nil {
			return err
		}
		e.SetBool(n.Bool)
	case reflect.Float32, reflect.Float64:
		var n sql.NullFloat64
		if err := n.Scan(v); err != nil {
			return err
		}
		e.SetFloat(n.Float64)
	case reflect.Slice:
		if e.Type().Elem().Kind() != reflect.Uint8 {
			return fmt.Errorf("unsupported Scan, storing driver.Value type %T into type %T", v, dest)
		}
		if b, ok := v.([]byte); ok {
			e.SetBytes(append([]byte(nil), b...))
			break
		}
		var n sql.NullString
		if err := n.Scan(v); err != nil {
			return err
		}
		e.SetBytes([]byte(n.String))
	default:
		return fmt.Errorf("unsupported Scan, storing driver.Value type %T into type %T", v, dest)
	}
	return nil
}

// checkPGValue is the argument rule of both paths (see
// pgConn.CheckNamedValue).
func checkPGValue(nv *driver.NamedValue) {
	switch v := nv.Value.(type) {
	case bool:
		if v {
			nv.Value = int64(1)
		} else {
			nv.Value = int64(0)
		}
	case string:
		if strings.IndexByte(v, 0) >= 0 {
			nv.Value = strings.ReplaceAll(v, "\x00", "\x01")
		}
	}
}
