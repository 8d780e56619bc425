package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trendql/trendql/db/dbtest"
)

// The server is killed (SIGKILL) while clients send requests of 20
// mutations each: after it, every request is in the database whole or not
// at all — each request's 20 companies are all there or none is, with
// their 20 events under one transaction id — and every acknowledged
// request is whole.
func TestCrash_SIGKILLDuringMultiMutationRequestsLeavesAllOrNone(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and kills it: not in -short")
	}
	bin := buildBinary(t)
	dbPath := dbtest.NewDSN(t)
	out, err := exec.Command(bin, "token", "create", "--name", "loader", "--role", "editor", "--db", dbPath).Output()
	if err != nil {
		t.Fatalf("token create: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	token := lines[len(lines)-1]

	const fields = 20
	// Variables cannot be spliced into strings: build each name in full.
	query := func(batch string) string {
		var b strings.Builder
		b.WriteString("mutation {")
		for i := range fields {
			fmt.Fprintf(&b, ` f%d: createCompany(input: {name: "Kill %s %d %s"}) { id }`, i, batch, i, strings.Repeat("x", 150))
		}
		b.WriteString(" }")
		return b.String()
	}

	srv := startProc(t, bin, dbPath)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	hc := &http.Client{Timeout: 20 * time.Second}
	const workers, killAfter = 4, 25
	var mu sync.Mutex
	acked := map[string]bool{}
	killed := make(chan struct{})
	var killOnce sync.Once
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := 0; k < 1000 && ctx.Err() == nil; k++ {
				batch := fmt.Sprintf("b%d-%d", w, k)
				body, _ := json.Marshal(map[string]any{"query": query(batch)})
				req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"/graphql", bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", "Bearer "+token)
				res, err := hc.Do(req)
				if err != nil {
					select {
					case <-killed:
						return
					default:
						t.Errorf("worker %d: %v", w, err)
						return
					}
				}
				var answer struct {
					Data   map[string]struct{ ID string }
					Errors []any
				}
				decodeErr := json.NewDecoder(res.Body).Decode(&answer)
				res.Body.Close()
				if decodeErr != nil || len(answer.Data) != fields || len(answer.Errors) > 0 {
					select {
					case <-killed:
						return
					default:
						t.Errorf("worker %d: request %s not acknowledged: %v %v", w, batch, decodeErr, answer.Errors)
						return
					}
				}
				mu.Lock()
				acked[batch] = true
				n := len(acked)
				mu.Unlock()
				if n >= killAfter {
					killOnce.Do(func() {
						close(killed)
						srv.cmd.Process.Signal(os.Kill)
					})
				}
			}
		}()
	}
	wg.Wait()
	srv.wait(t, 30*time.Second)
	select {
	case <-killed:
	default:
		t.Fatalf("the load ended before the kill (%d acknowledged)", len(acked))
	}
	checkIntegrity(t, dbPath)

	d := openRaw(t, dbPath)
	// Grouped here rather than in SQL, which would need each engine's own
	// string functions: names are "Kill <request> <field>".
	rows, err := d.Query(`SELECT name FROM companies WHERE name LIKE 'Kill %'`)
	if err != nil {
		t.Fatal(err)
	}
	present := map[string]int{}
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		b, _, _ := strings.Cut(strings.TrimPrefix(name, "Kill "), " ")
		present[b]++
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	rows.Close()
	for b, n := range present {
		if n != fields {
			t.Errorf("request %s is half there: %d of %d companies", b, n, fields)
		}
	}
	for b := range acked {
		if present[b] != fields {
			t.Errorf("acknowledged request %s has %d of %d companies", b, present[b], fields)
		}
	}
	// An item's newest event stores no document (the content table holds
	// it): the request each event belongs to is read from its company.
	// (Grouped here, in Go: the SQL both engines speak has no common
	// string search.)
	rows, err = d.Query(`SELECT e.tx_id, c.name
		FROM events e JOIN companies c ON e.type = 'Company' AND c.id = e.item_id WHERE e.slug LIKE 'kill-%'`)
	if err != nil {
		t.Fatal(err)
	}
	type group struct {
		n       int
		batches map[string]bool
	}
	groups := map[int64]*group{}
	for rows.Next() {
		var tx sql.NullInt64
		var name string
		if err := rows.Scan(&tx, &name); err != nil {
			t.Fatal(err)
		}
		if !tx.Valid {
			t.Errorf("an event of %q has no transaction id", name)
			continue
		}
		g := groups[tx.Int64]
		if g == nil {
			g = &group{batches: map[string]bool{}}
			groups[tx.Int64] = g
		}
		g.n++
		batch, _, _ := strings.Cut(name[min(5, len(name)):], " ") // "Kill <batch> <n>"
		g.batches[batch] = true
	}
	rows.Close()
	txs := len(groups)
	for tx, g := range groups {
		if g.n != fields || len(g.batches) != 1 {
			t.Errorf("transaction %v holds %d events of %d requests, want %d of one", tx, g.n, len(g.batches), fields)
		}
	}
	if txs != len(present) {
		t.Errorf("%d transactions for %d requests present", txs, len(present))
	}
	t.Logf("killed after %d acknowledged requests; %d requests in the database", len(acked), len(present))
}
