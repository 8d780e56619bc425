package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
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

// litestreamBin finds Litestream 0.5: $TRENDQL_LITESTREAM, then PATH, then
// the tool cache .ci/run installs it into (go install with GOBIN set to
// $XDG_CACHE_HOME/trendql/bin, not in go.mod). Locally a missing binary
// skips the test, saying how to get it; under CI=true it fails it.
func litestreamBin(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("TRENDQL_LITESTREAM"); p != "" {
		return p
	}
	if p, err := exec.LookPath("litestream"); err == nil {
		return p
	}
	if dir, err := os.UserCacheDir(); err == nil {
		p := filepath.Join(dir, "trendql", "bin", "litestream")
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	const get = "GOBIN=$HOME/.cache/trendql/bin go install github.com/benbjohnson/litestream/cmd/litestream@v0.5.18"
	if os.Getenv("CI") == "true" {
		t.Fatalf("litestream is not installed, and CI must run this test (.ci/run installs it: %s)", get)
	}
	t.Skipf("litestream is not installed: skipping (CI installs it; locally: %s)", get)
	return ""
}

// companyNames reads the names of the companies in a database file.
func companyNames(t *testing.T, path string) map[string]bool {
	t.Helper()
	d := openRaw(t, path)
	defer d.Close()
	rows, err := d.Query("SELECT name FROM companies")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	names := map[string]bool{}
	for rows.Next() {
		var n string
		rows.Scan(&n)
		names[n] = true
	}
	return names
}

// Continuous backup: trendql serves while Litestream 0.5 replicates its
// database to a file replica; writes go through the real server; both
// processes are killed with SIGKILL; `litestream restore` brings back a
// database that holds every acknowledged write, passes SQLite's checks and
// that trendql serves again.
func TestLitestream_RestoreHasEveryAcknowledgedWrite(t *testing.T) {
	dbtest.SkipUnlessSQLite(t, "Litestream replicates SQLite files")
	if testing.Short() {
		t.Skip("builds the binary and runs Litestream: not in -short")
	}
	litestream := litestreamBin(t)
	bin := buildBinary(t)
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "trendql.db")
	replica := "file://" + filepath.Join(dir, "replica")

	out, err := exec.Command(bin, "token", "create", "--name", "loader", "--role", "editor", "--db", dbPath).Output()
	if err != nil {
		t.Fatalf("token create: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	token := lines[len(lines)-1]

	var lsLog bytes.Buffer
	ls := exec.Command(litestream, "replicate", dbPath, replica)
	ls.Stdout, ls.Stderr = &lsLog, &lsLog
	if err := ls.Start(); err != nil {
		t.Fatal(err)
	}
	lsDone := make(chan error, 1)
	go func() { lsDone <- ls.Wait() }()
	t.Cleanup(func() {
		ls.Process.Kill()
		<-lsDone
		if t.Failed() {
			t.Logf("litestream log:\n%s", lsLog.String())
		}
	})

	srv := startProc(t, bin, dbPath)
	hc := &http.Client{Timeout: 30 * time.Second}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	// Writes from a few clients at once: creates, then a rename of each,
	// so that both new pages and rewritten ones must reach the replica.
	var mu sync.Mutex
	var acked []string
	var wg sync.WaitGroup
	for w := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range 25 {
				var r struct {
					Data   *struct{ CreateCompany struct{ ID, Name string } }
					Errors []any
				}
				name := fmt.Sprintf("Replicated %d %d", w, k)
				gqlPost(ctx, t, hc, srv.URL, token, `mutation($n: String!) { createCompany(input: {name: $n}) { id name } }`, map[string]any{"n": name}, &r)
				if r.Data == nil || r.Data.CreateCompany.Name != name {
					t.Errorf("create %q not acknowledged: %v", name, r.Errors)
					return
				}
				renamed := name + " renamed"
				var u struct {
					Data *struct{ UpdateCompany struct{ Name string } }
				}
				gqlPost(ctx, t, hc, srv.URL, token, `mutation($id: ID!, $n: String!) { updateCompany(id: $id, input: {name: $n}) { name } }`,
					map[string]any{"id": r.Data.CreateCompany.ID, "n": renamed}, &u)
				if u.Data == nil || u.Data.UpdateCompany.Name != renamed {
					t.Errorf("rename of %q not acknowledged", name)
					return
				}
				mu.Lock()
				acked = append(acked, renamed)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	// The application dies first, at once.
	srv.cmd.Process.Signal(os.Kill)
	srv.wait(t, 30*time.Second)

	// Litestream ships what the WAL holds within its sync interval (1 s by
	// default): wait until a restore has every acknowledged write, then
	// kill Litestream too.
	restore := func(name string) (string, error) {
		outPath := filepath.Join(dir, name)
		cmd := exec.Command(litestream, "restore", "-o", outPath, replica)
		if out, err := cmd.CombinedOutput(); err != nil {
			return "", fmt.Errorf("litestream restore: %v\n%s", err, out)
		}
		return outPath, nil
	}
	missing := func(path string) []string {
		have := companyNames(t, path)
		var out []string
		for _, n := range acked {
			if !have[n] {
				out = append(out, n)
			}
		}
		return out
	}
	deadline := time.Now().Add(90 * time.Second)
	for i := 0; ; i++ {
		p, err := restore(fmt.Sprintf("probe-%d.db", i))
		if err == nil && len(missing(p)) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 90 s the replica still lacks acknowledged writes: %v", err)
		}
		time.Sleep(250 * time.Millisecond)
	}
	ls.Process.Signal(os.Kill)
	<-lsDone
	lsDone <- nil

	final, err := restore("restored.db")
	if err != nil {
		t.Fatal(err)
	}
	if m := missing(final); len(m) > 0 {
		t.Fatalf("the restored database lacks %d of %d acknowledged writes, e.g. %q", len(m), len(acked), m[0])
	}
	checkIntegrity(t, final)
	t.Logf("restored %d acknowledged writes from the replica", len(acked))

	// trendql serves the restored file, the writes included.
	srv2 := startProc(t, bin, final)
	var r struct {
		Data *struct{ Companies struct{ TotalCount int } }
	}
	gqlPost(ctx, t, hc, srv2.URL, token, `{ companies(filter: {name: {startsWith: "Replicated "}}) { totalCount } }`, nil, &r)
	if r.Data == nil || r.Data.Companies.TotalCount != len(acked) {
		t.Errorf("the restored server lists %+v companies, want %d", r.Data, len(acked))
	}
	srv2.cmd.Process.Signal(os.Interrupt)
	srv2.wait(t, 30*time.Second)
}

// gqlPost sends one GraphQL request and decodes the answer into out.
func gqlPost(ctx context.Context, t *testing.T, hc *http.Client, url, token, query string, vars map[string]any, out any) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := hc.Do(req)
	if err != nil {
		t.Errorf("POST: %v", err)
		return
	}
	defer res.Body.Close()
	if err := json.NewDecoder(res.Body).Decode(out); err != nil {
		t.Errorf("answer: %v", err)
	}
}
