package db

import (
	"context"
	"database/sql"
	"fmt"
	"reflect"
	"testing"
	"time"
)

// openPGForRead opens a new PostgreSQL database (whatever the selected
// engine) for the direct reader's tests, with three reader slots.
func openPGForRead(t *testing.T) (*DB, *pgReader) {
	t.Helper()
	dsn := freshPostgres(t).Config().ConnString()
	d, _, err := Open(context.Background(), dsn, Options{ReadConns: 3})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d, d.eng.(*postgresEngine).read
}

// The direct reader scans as database/sql does: every column type the
// schema returns (bigint, integer, text, NULL, floats, JSON, boolean) into
// every kind of destination the package scans into reads the same value,
// or fails alike, on both paths. A destination pgx refuses (an integer
// flag into a bool, a number into a string, text into an int) goes
// through database/sql's conversion.
func TestPGReader_ScansAsDatabaseSQL(t *testing.T) {
	d, r := openPGForRead(t)
	ctx := context.Background()
	type status string
	columns := []string{
		"CAST(42 AS bigint)", "CAST(-7 AS integer)", "CAST(3 AS smallint)", "CAST(0 AS bigint)", "CAST(1 AS bigint)",
		"'text'", "'12'", "''", "NULL", "CAST(NULL AS bigint)", "CAST(NULL AS text)",
		"CAST(2.5 AS float8)", "CAST(0.25 AS real)", "CAST(ts_rank('a'::tsvector, 'a'::tsquery) AS float4)",
		"json_build_object('a', 1, 'b', 'x')", "CAST('[1,2]' AS jsonb)", "trendql_json_array(1)",
		"true", "false", "count(*)", "sum(1)", "CAST(10000000000 AS bigint)",
	}
	dests := map[string]func() any{
		"*string":         func() any { return new(string) },
		"*int64":          func() any { return new(int64) },
		"*int":            func() any { return new(int) },
		"*int32":          func() any { return new(int32) },
		"*bool":           func() any { return new(bool) },
		"*float64":        func() any { return new(float64) },
		"*any":            func() any { return new(any) },
		"**string":        func() any { return new(*string) },
		"**int":           func() any { return new(*int) },
		"*[]byte":         func() any { return new([]byte) },
		"*status":         func() any { return new(status) },
		"*sql.NullString": func() any { return new(sql.NullString) },
		"*sql.NullInt64":  func() any { return new(sql.NullInt64) },
		"*sql.NullBool":   func() any { return new(sql.NullBool) },
	}
	for _, col := range columns {
		q := pgNative + "\nSELECT " + col
		if col == "count(*)" || col == "sum(1)" {
			q += " FROM generate_series(1, 3)"
		}
		for name, mk := range dests {
			viaSQL, viaPGX := mk(), mk()
			errSQL := d.read.QueryRowContext(ctx, q).Scan(viaSQL)
			errPGX := r.queryRow(ctx, q, nil).Scan(viaPGX)
			if (errSQL == nil) != (errPGX == nil) {
				t.Errorf("SELECT %s into %s: database/sql says %v, the direct reader %v", col, name, errSQL, errPGX)
				continue
			}
			if errSQL == nil && !reflect.DeepEqual(viaSQL, viaPGX) {
				t.Errorf("SELECT %s into %s: database/sql reads %s, the direct reader %s", col, name, show(viaSQL), show(viaPGX))
			}
		}
	}
	// Several rows, several columns, a mix of direct and converted ones.
	q := pgNative + "\nSELECT i, CAST(i % 2 AS bigint), 'n' || i, CASE WHEN i = 2 THEN NULL ELSE i END FROM generate_series(1, 4) AS g(i) ORDER BY 1"
	read := func(rs rows, err error) []string {
		if err != nil {
			t.Fatal(err)
		}
		defer rs.Close()
		var out []string
		for rs.Next() {
			var id int64
			var odd bool
			var name string
			var maybe *int
			if err := rs.Scan(&id, &odd, &name, &maybe); err != nil {
				t.Fatal(err)
			}
			out = append(out, fmt.Sprintf("%d %v %s %s", id, odd, name, show(&maybe)))
		}
		if err := rs.Err(); err != nil {
			t.Fatal(err)
		}
		return out
	}
	a := read(d.read.QueryContext(ctx, q))
	b := read(r.query(ctx, q, nil))
	if !reflect.DeepEqual(a, b) {
		t.Errorf("rows: database/sql %q, the direct reader %q", a, b)
	}
	// Arguments follow the writer's rules: booleans as 1 and 0, NUL as U+0001.
	var n int
	var text string
	if err := r.queryRow(ctx, "SELECT CAST(? AS bigint) * 10 + CAST(? AS bigint), ?", []any{true, false, "a\x00b"}).Scan(&n, &text); err != nil {
		t.Fatal(err)
	}
	if n != 10 || text != "a\x01b" {
		t.Errorf("arguments read back as %d, %q", n, text)
	}
	if err := r.queryRow(ctx, pgNative+"\nSELECT 1 WHERE false", nil).Scan(new(int)); err != sql.ErrNoRows {
		t.Errorf("no row: %v, want sql.ErrNoRows", err)
	}
}

func show(v any) string {
	e := reflect.ValueOf(v).Elem()
	for e.Kind() == reflect.Pointer || e.Kind() == reflect.Interface {
		if e.IsNil() {
			return "nil"
		}
		e = e.Elem()
	}
	return fmt.Sprintf("%T(%#v)", e.Interface(), e.Interface())
}

// Every way a read ends gives its slot back: read to the end, closed
// early, a row found or not, a failed statement, a failed scan. With three
// slots, a leak would block the fourth read of the loop for ever; the
// deadline turns that into a failure.
func TestPGReader_ReleasesSlots(t *testing.T) {
	_, r := openPGForRead(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	series := pgNative + "\nSELECT i FROM generate_series(1, 3) AS g(i)"
	for i := 0; i < 4*cap(r.slots); i++ {
		rs, err := r.query(ctx, series, nil)
		if err != nil {
			t.Fatal(err)
		}
		for rs.Next() {
		}
		rs.Close()
		rs, err = r.query(ctx, series, nil)
		if err != nil {
			t.Fatal(err)
		}
		rs.Next()
		rs.Close()
		if err := r.queryRow(ctx, series, nil).Scan(new(int)); err != nil {
			t.Fatal(err)
		}
		if err := r.queryRow(ctx, series+" WHERE false", nil).Scan(new(int)); err != sql.ErrNoRows {
			t.Fatalf("no row: %v", err)
		}
		if err := r.queryRow(ctx, pgNative+"\nSELECT no_such_column", nil).Scan(new(int)); err == nil {
			t.Fatal("a statement that cannot run succeeded")
		}
		if err := r.queryRow(ctx, pgNative+"\nSELECT 'x'", nil).Scan(new(int)); err == nil {
			t.Fatal("text scanned into an int")
		}
	}
	if n := len(r.slots); n != 0 {
		t.Errorf("%d slots still taken", n)
	}
}
