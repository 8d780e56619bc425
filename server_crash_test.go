package main

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trendql/trendql/db/dbtest"
)

// buildBinary builds trendql into a temp dir.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "trendql")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// proc is trendql serving in its own process.
type proc struct {
	cmd  *exec.Cmd
	URL  string
	done chan error
}

// startProc starts `trendql serve` on a free port and waits for its
// "listening on" line.
func startProc(t *testing.T, bin, dbPath string) *proc {
	t.Helper()
	cmd := exec.Command(bin, "serve", "--db", dbPath, "--addr", "127.0.0.1:0")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{cmd: cmd, done: make(chan error, 1)}
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		if sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		io.Copy(io.Discard, stdout)
	}()
	go func() { p.done <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-p.done
		p.done <- nil
	})
	select {
	case line, ok := <-lines:
		url, found := strings.CutPrefix(line, "listening on ")
		if !ok || !found {
			t.Fatalf("server did not start: %q; stderr: %s", line, stderr.String())
		}
		p.URL = url
	case <-time.After(30 * time.Second):
		t.Fatalf("server did not start in 30s; stderr: %s", stderr.String())
	}
	return p
}

// wait waits for the process to end, at most d.
func (p *proc) wait(t *testing.T, d time.Duration) {
	t.Helper()
	select {
	case err := <-p.done:
		p.done <- err
	case <-time.After(d):
		t.Fatal("the server process did not end")
	}
}

// openRaw opens the database directly, without trendql.
func openRaw(t *testing.T, path string) *sql.DB {
	t.Helper()
	return dbtest.RawSQL(t, path)
}

// rebind turns the ? placeholders of q into PostgreSQL's $1, $2… when the
// tests run on PostgreSQL, so one statement serves both engines (the
// statements here have no ? inside literals).
func rebind(q string) string {
	if dbtest.Engine() != dbtest.Postgres {
		return q
	}
	var b strings.Builder
	n := 0
	for _, r := range q {
		if r == '?' {
			n++
			fmt.Fprintf(&b, "$%d", n)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

func queryInt(t *testing.T, d *sql.DB, q string, args ...any) int {
	t.Helper()
	var n int
	if err := d.QueryRow(rebind(q), args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

// checkIntegrity runs SQLite's own checks on the file.
func checkIntegrity(t *testing.T, path string) {
	t.Helper()
	if dbtest.Engine() != dbtest.SQLite {
		// PostgreSQL has no file-level check to run, and enforces foreign
		// keys at every commit: the tests' own counts are the check.
		return
	}
	d := openRaw(t, path)
	var res string
	if err := d.QueryRow("PRAGMA integrity_check").Scan(&res); err != nil || res != "ok" {
		t.Fatalf("integrity_check = %q, %v", res, err)
	}
	rows, err := d.Query("PRAGMA foreign_key_check")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	if rows.Next() {
		t.Fatal("foreign_key_check found dangling links")
	}
	d.Close()
}

// The server is killed (SIGKILL) in the middle of a write load and
// restarted on the same file: every write it acknowledged is there,
// nothing is half-applied (each company has exactly its one CREATE event
// and no event names a company that is not there), and SQLite's
// integrity and foreign-key checks pass.
func TestCrash_SIGKILLDuringWritesLosesNoAcknowledgedWrite(t *testing.T) {
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
	raw := openRaw(t, dbPath)
	seedEvents := queryInt(t, raw, "SELECT count(*) FROM events")
	seedCompanies := queryInt(t, raw, "SELECT count(*) FROM companies")
	raw.Close()

	srv := startProc(t, bin, dbPath)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	hc := &http.Client{Timeout: 10 * time.Second}
	const workers, killAfter = 6, 150
	var mu sync.Mutex
	var acked []string
	killed := make(chan struct{})
	var killOnce sync.Once
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := 0; k < 5000 && ctx.Err() == nil; k++ {
				name := fmt.Sprintf("Crash Co %d %d", w, k)
				body, _ := json.Marshal(map[string]any{
					"query":     `mutation($n: String!) { createCompany(input: {name: $n}) { id name } }`,
					"variables": map[string]any{"n": name},
				})
				req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"/graphql", bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", "Bearer "+token)
				res, err := hc.Do(req)
				if err != nil {
					select {
					case <-killed:
						return // the server is gone, as intended
					default:
						t.Errorf("worker %d: %v", w, err)
						return
					}
				}
				var answer struct {
					Data *struct{ CreateCompany struct{ Name string } }
				}
				decodeErr := json.NewDecoder(res.Body).Decode(&answer)
				res.Body.Close()
				if decodeErr != nil || answer.Data == nil || answer.Data.CreateCompany.Name != name {
					select {
					case <-killed:
						return // cut off mid-answer: not acknowledged
					default:
						t.Errorf("worker %d: write %q not acknowledged: %v", w, name, decodeErr)
						return
					}
				}
				mu.Lock()
				acked = append(acked, name)
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
	t.Logf("killed the server after %d acknowledged writes", len(acked))

	checkIntegrity(t, dbPath)

	// Restart on the same file: it serves, and every acknowledged write is
	// there.
	srv2 := startProc(t, bin, dbPath)
	present := map[string]bool{}
	var after *string
	for pages := 0; ; pages++ {
		if pages > 200 {
			t.Fatal("paging does not end")
		}
		var page struct {
			Data struct {
				Companies struct {
					Nodes    []struct{ Name string }
					PageInfo struct {
						HasNextPage bool
						EndCursor   *string
					}
				}
			}
		}
		body, _ := json.Marshal(map[string]any{
			"query":     `query($after: String) { companies(first: 100, after: $after, filter: {name: {startsWith: "Crash Co "}}) { nodes { name } pageInfo { hasNextPage endCursor } } }`,
			"variables": map[string]any{"after": after},
		})
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv2.URL+"/graphql", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+token)
		res, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		err = json.NewDecoder(res.Body).Decode(&page)
		res.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range page.Data.Companies.Nodes {
			present[n.Name] = true
		}
		if !page.Data.Companies.PageInfo.HasNextPage {
			break
		}
		after = page.Data.Companies.PageInfo.EndCursor
	}
	for _, name := range acked {
		if !present[name] {
			t.Errorf("acknowledged write %q is lost", name)
		}
	}
	srv2.cmd.Process.Signal(os.Interrupt)
	srv2.wait(t, 30*time.Second)

	// Nothing half-applied: each company made by the load has exactly one
	// event, its CREATE; no event names a company that is not there; the
	// event log grew by exactly the companies made.
	checkIntegrity(t, dbPath)
	d := openRaw(t, dbPath)
	companies := queryInt(t, d, "SELECT count(*) FROM companies")
	made := companies - seedCompanies
	if made < len(acked) || made != len(present) {
		t.Errorf("%d companies made, %d acknowledged, %d listed", made, len(acked), len(present))
	}
	if n := queryInt(t, d, "SELECT count(*) FROM events"); n != seedEvents+made {
		t.Errorf("%d events, want %d seed events + %d companies made", n, seedEvents, made)
	}
	if n := queryInt(t, d, `SELECT count(*) FROM companies c WHERE c.name LIKE 'Crash Co %' AND
		(SELECT count(*) FROM events e WHERE e.type = 'Company' AND e.item_id = c.id AND e.action = 'CREATE') <> 1`); n != 0 {
		t.Errorf("%d companies without exactly one CREATE event", n)
	}
	if n := queryInt(t, d, `SELECT count(*) FROM events e WHERE e.type = 'Company'
		AND NOT EXISTS (SELECT 1 FROM companies c WHERE c.id = e.item_id)`); n != 0 {
		t.Errorf("%d events name companies that are not there", n)
	}
}
