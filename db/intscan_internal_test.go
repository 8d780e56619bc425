package db

import (
	"context"
	"testing"
)

// The key reads' integer scanner gives what database/sql's Scan into
// *int64 gives, on every engine (SQLite's *sql.Rows through *any, pgx's
// reader natively), and refuses what is not an integer.
func TestIntScanner_ScansAsDatabaseSQL(t *testing.T) {
	d := openSeededWriter(t)
	ctx := context.Background()
	const q = "SELECT id, version FROM companies ORDER BY id"
	var want [][2]int64
	rows, err := d.query(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id, v int64
		if err := rows.Scan(&id, &v); err != nil {
			t.Fatal(err)
		}
		want = append(want, [2]int64{id, v})
	}
	rows.Close()
	if len(want) == 0 {
		t.Fatal("no companies")
	}
	rows, err = d.query(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	s := newIntScanner()
	var got [][2]int64
	for rows.Next() {
		var id, v int64
		if err := s.scan(rows, &id, &v); err != nil {
			t.Fatal(err)
		}
		got = append(got, [2]int64{id, v})
	}
	rows.Close()
	if len(got) != len(want) {
		t.Fatalf("%d rows, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("row %d: %v, want %v", i, got[i], want[i])
		}
	}

	one := func(q string, dst ...*int64) error {
		t.Helper()
		rows, err := d.query(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		if !rows.Next() {
			t.Fatalf("%s: no row", q)
		}
		return s.scan(rows, dst...)
	}
	var a, b, c, e, f int64
	if err := one("SELECT 7, -8, 9000000000, 0", &a, &b, &c, &e); err != nil || a != 7 || b != -8 || c != 9000000000 || e != 0 {
		t.Errorf("four integers: %v %d %d %d %d", err, a, b, c, e)
	}
	for _, bad := range []string{"SELECT 1, NULL", "SELECT 1, 'x'"} {
		if err := one(bad, &a, &b); err == nil {
			t.Errorf("%s: scanned as integers", bad)
		}
	}
	if err := one("SELECT 1, 2, 3, 4, 5", &a, &b, &c, &e, &f); err == nil {
		t.Error("five columns: scanned")
	}
}
