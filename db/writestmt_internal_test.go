package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/trendql/trendql/db/dbtest"
)

func openSeededWriter(t *testing.T) *DB {
	t.Helper()
	ctx := context.Background()
	d, _, err := Open(ctx, dbtest.NewDSN(t), Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	if err := d.Seed(ctx); err != nil {
		t.Fatal(err)
	}
	return d
}

// A write's statements are prepared once for the writer pool and shared
// by the transactions after it, checked out while a result is open: the
// same statement run again while its rows are read, nested, and as a one
// row read, answers as if each run had its own statement.
func TestWriteStmt_SharedStatementsAnswerAsApart(t *testing.T) {
	d := openSeededWriter(t)
	ctx := context.Background()
	const q = `SELECT id, slug FROM companies WHERE id >= ? ORDER BY id LIMIT 3`
	// answer reads q's rows from id from, running q again (nested) for
	// each row, as a result of its own and as one row.
	var answer func(tx *Tx, from int64, depth int) (string, error)
	answer = func(tx *Tx, from int64, depth int) (string, error) {
		rows, err := tx.query(q, from)
		if err != nil {
			return "", err
		}
		defer rows.Close()
		out := ""
		for rows.Next() {
			var id int64
			var slug string
			if err := rows.Scan(&id, &slug); err != nil {
				return "", err
			}
			var one string
			if err := tx.queryRow(q, id+1).Scan(new(int64), &one); err != nil {
				return "", err
			}
			out += fmt.Sprintf("%d %s (next %s)\n", id, slug, one)
			if depth < 2 {
				inner, err := answer(tx, id+1, depth+1)
				if err != nil {
					return "", err
				}
				out += inner
			}
		}
		return out, rows.Err()
	}
	run := func() string {
		tx, err := d.beginTx(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback()
		got, err := answer(tx, 1, 0)
		if err != nil {
			t.Fatal(err)
		}
		if err := tx.queryRow(q, 1<<40).Scan(new(int64), new(string)); !errors.Is(err, sql.ErrNoRows) {
			t.Errorf("a one-row read of no row: %v, want sql.ErrNoRows", err)
		}
		return got
	}
	// The first transaction runs q unprepared (the pool cannot prepare
	// while it holds the connection); the second begins by preparing it
	// and shares it.
	// (PostgreSQL runs them unprepared: pgx keeps its own statements.)
	first := run()
	d.stmtMu.RLock()
	pending := d.wpending[q]
	d.stmtMu.RUnlock()
	if !pending && d.eng.preparesReads() {
		t.Fatal("the statement was not queued for preparing")
	}
	second := run()
	d.stmtMu.RLock()
	prepared := d.wstmts[q] != nil
	d.stmtMu.RUnlock()
	if !prepared && d.eng.preparesReads() {
		t.Fatal("the statement was not prepared for the writer pool")
	}
	if first != second || first == "" {
		t.Errorf("shared statements answered\n%s\nunshared ones\n%s", second, first)
	}
}

// A request's resolvers read in its transaction at once: each reads its
// own rows, whichever of them holds the shared statement.
func TestWriteStmt_ConcurrentReadsInARequest(t *testing.T) {
	d := openSeededWriter(t)
	const q = `SELECT id FROM frameworks WHERE id >= ? ORDER BY id LIMIT 5`
	want := func(from int64) string {
		rows, err := d.read.Query(q, from)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		s := ""
		for rows.Next() {
			var id int64
			rows.Scan(&id)
			s += fmt.Sprint(id, " ")
		}
		return s
	}
	// Two requests: in the first, q runs unprepared (and is queued); the
	// second's transaction begins by preparing it, and shares it.
	for round := 0; round < 2; round++ {
		ctx, req := d.BeginRequest(WithPrincipal(context.Background(), &Principal{Name: "t", Role: RoleEditor}))
		// A write begins the request's transaction; reads then run in it.
		tx, err := d.BeginTx(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		errs := make(chan error, 16)
		for g := range 8 {
			wg.Go(func() {
				for i := range 20 {
					from := int64(1 + (g+i)%7)
					rows, err := d.query(ctx, q, from)
					if err != nil {
						errs <- err
						return
					}
					s := ""
					for rows.Next() {
						var id int64
						rows.Scan(&id)
						s += fmt.Sprint(id, " ")
					}
					rows.Close()
					if w := want(from); s != w {
						errs <- fmt.Errorf("from %d: %q, want %q", from, s, w)
						return
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Errorf("round %d: %v", round, err)
		}
		if err := req.Rollback(); err != nil {
			t.Fatal(err)
		}
	}
	d.stmtMu.RLock()
	prepared := d.wstmts[q] != nil
	d.stmtMu.RUnlock()
	if !prepared && d.eng.preparesReads() {
		t.Error("the statement was never prepared for the writer pool: the test proves nothing")
	}
}
