package main

// Many `trendql serve` processes on one PostgreSQL database behave as one
// server (issue 14, "Many replicas"). Each test starts real replicas, built
// once with `go build`, on a database of its own, and kills them with
// SIGKILL where a crash is the point.

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/jackc/pgx/v5"
	"github.com/trendql/trendql/db"
	"github.com/trendql/trendql/db/dbtest"
)

// replicaDatabase returns the URL of a new, empty PostgreSQL database on
// the cluster named by TRENDQL_TEST_POSTGRES (an admin URL), dropped when
// the test ends, whichever engine the suite runs on (dbtest.NewDSN gives
// PostgreSQL only under TRENDQL_TEST_ENGINE=postgres). Without a cluster
// the test is skipped, except under CI, where it fails.
func replicaDatabase(tb testing.TB) string {
	tb.Helper()
	// Whatever engine the suite runs on: replicas share PostgreSQL.
	admin := dbtest.RequirePostgres(tb)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		tb.Fatalf("connecting to TRENDQL_TEST_POSTGRES: %v", err)
	}
	defer conn.Close(ctx)
	name := "trendql_replicas_" + strings.ToLower(rand.Text()[:12])
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		tb.Fatalf("create database: %v", err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, admin)
		if err != nil {
			tb.Errorf("dropping %s: %v", name, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP DATABASE "+name+" WITH (FORCE)"); err != nil {
			tb.Errorf("dropping %s: %v", name, err)
		}
	})
	u, err := url.Parse(admin)
	if err != nil {
		tb.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}

// pgQueryInt runs one query on the database directly, without trendql.
func pgQueryInt(tb testing.TB, dbURL, q string, args ...any) int {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		tb.Fatal(err)
	}
	defer conn.Close(ctx)
	var n int
	if err := conn.QueryRow(ctx, q, args...).Scan(&n); err != nil {
		tb.Fatalf("%s: %v", q, err)
	}
	return n
}

var (
	replicaBinOnce sync.Once
	replicaBin     string
	replicaBinErr  error
)

// replicaBinary builds trendql once for all the replica tests.
func replicaBinary(tb testing.TB) string {
	tb.Helper()
	replicaBinOnce.Do(func() {
		dir, err := os.MkdirTemp("", "trendql-replicas")
		if err != nil {
			replicaBinErr = err
			return
		}
		replicaBin = filepath.Join(dir, "trendql")
		out, err := exec.Command("go", "build", "-o", replicaBin, ".").CombinedOutput()
		if err != nil {
			replicaBinErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if replicaBinErr != nil {
		tb.Fatal(replicaBinErr)
	}
	return replicaBin
}

// replicaDefaults are flags every test replica gets: no rate limits (the
// tests poll), no access log.
var replicaDefaults = []string{"--rate-limit", "0", "--token-rate-limit", "0", "--auth-failure-rate", "0", "--no-access-log"}

// replica is one `trendql serve` process.
type replica struct {
	name   string
	bin    string
	args   []string
	cmd    *exec.Cmd
	URL    string
	stderr *syncBuffer
	done   chan error
}

// startReplica starts `trendql serve` on the database with args and waits
// for it to listen.
func startReplica(tb testing.TB, name, dbURL string, args ...string) *replica {
	tb.Helper()
	r := &replica{name: name, bin: replicaBinary(tb), args: append(append([]string{"serve", "--db", dbURL, "--addr", "127.0.0.1:0"}, replicaDefaults...), args...)}
	if err := r.start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(r.kill)
	return r
}

func (r *replica) start() error {
	r.cmd = exec.Command(r.bin, r.args...)
	r.stderr = newSyncBuffer()
	r.cmd.Stderr = r.stderr
	stdout, err := r.cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := r.cmd.Start(); err != nil {
		return err
	}
	r.done = make(chan error, 1)
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		if sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		io.Copy(io.Discard, stdout)
	}()
	cmd, done := r.cmd, r.done
	go func() { done <- cmd.Wait() }()
	select {
	case line := <-lines:
		u, ok := strings.CutPrefix(line, "listening on ")
		if !ok {
			r.kill()
			return fmt.Errorf("replica %s did not start: %q; stderr: %s", r.name, line, r.stderr.String())
		}
		r.URL = u
		return nil
	case <-time.After(60 * time.Second):
		r.kill()
		return fmt.Errorf("replica %s did not start in 60s; stderr: %s", r.name, r.stderr.String())
	}
}

// kill ends the process with SIGKILL (no shutdown of any kind) and waits.
func (r *replica) kill() {
	if r.cmd == nil || r.cmd.Process == nil {
		return
	}
	select {
	case err := <-r.done:
		r.done <- err
		return
	default:
	}
	r.cmd.Process.Kill()
	err := <-r.done
	r.done <- err
}

// gqlResult is one GraphQL answer.
type gqlResult struct {
	Data   json.RawMessage
	Errors []struct {
		Message    string
		Extensions map[string]any
	}
}

var replicaClient = &http.Client{Timeout: 30 * time.Second}

// post sends one operation to the replica, with a token unless it is "".
func (r *replica) post(ctx context.Context, token, query string, vars map[string]any) (*gqlResult, error) {
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.URL+"/graphql", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := replicaClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	var out gqlResult
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
		return nil, fmt.Errorf("HTTP %d: %w", res.StatusCode, err)
	}
	return &out, nil
}

// must posts and fails the test on any error; it decodes data into out.
func (r *replica) must(tb testing.TB, token, query string, vars map[string]any, out any) {
	tb.Helper()
	res, err := r.post(context.Background(), token, query, vars)
	if err != nil {
		tb.Fatalf("%s: %s: %v", r.name, query, err)
	}
	if len(res.Errors) > 0 {
		tb.Fatalf("%s: %s: %+v", r.name, query, res.Errors)
	}
	if out != nil {
		if err := json.Unmarshal(res.Data, out); err != nil {
			tb.Fatal(err)
		}
	}
}

// replicaToken creates a token with `trendql token create` on the
// database.
func replicaToken(tb testing.TB, dbURL, role string) string {
	tb.Helper()
	out, err := exec.Command(replicaBinary(tb), "token", "create", "--name", role+"-"+strings.ToLower(rand.Text()[:6]), "--role", role, "--db", dbURL).Output()
	if err != nil {
		tb.Fatalf("token create: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	return lines[len(lines)-1]
}

// startReplicas starts n replicas on one database: the first creates and
// seeds it, the others join.
func startReplicas(tb testing.TB, dbURL string, n int, args ...string) []*replica {
	tb.Helper()
	rs := make([]*replica, n)
	for i := range rs {
		rs[i] = startReplica(tb, string(rune('A'+i)), dbURL, args...)
	}
	return rs
}

// createPublished creates a company and publishes it (two requests), so
// anonymous readers see it; it returns the company's id.
func (r *replica) createPublished(tb testing.TB, token, name string) string {
	tb.Helper()
	var c struct{ CreateCompany struct{ ID string } }
	r.must(tb, token, `mutation($n: String!) { createCompany(input: {name: $n}) { id } }`, map[string]any{"n": name}, &c)
	r.must(tb, token, `mutation($id: ID!) { publish(id: $id) { id } }`, map[string]any{"id": c.CreateCompany.ID}, nil)
	return c.CreateCompany.ID
}

const companyCountQuery = `{ companies(first: 1) { totalCount } }`

// anonymousCompanies is what an anonymous reader of the replica sees.
func (r *replica) anonymousCompanies(tb testing.TB) int {
	tb.Helper()
	var c struct{ Companies struct{ TotalCount int } }
	r.must(tb, "", companyCountQuery, nil, &c)
	return c.Companies.TotalCount
}

// metric reads one counter from the replica's /metrics.
func (r *replica) metric(tb testing.TB, name string) float64 {
	tb.Helper()
	v, ok := metricOf(tb, replicaClient, r.URL, name)
	if !ok {
		tb.Fatalf("%s: no metric %s", r.name, name)
	}
	return v
}

// waitFor polls cond until it holds, failing after a generous deadline:
// these tests run on a busy machine, and what they prove is that the
// condition comes to hold, not how fast.
func waitFor(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// percentile returns the p-th percentile (0–100) of ds.
func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(float64(len(s)-1) * p / 100)
	return s[i]
}

// A write through any replica makes every replica's cached anonymous
// answers stale: on the writing replica before the mutation answers, and
// on the others through LISTEN/NOTIFY (the poll is set to an hour, so
// nothing else can). The latency on the others is measured and logged.
func TestReplicas_WriteInvalidatesEveryReplicasCache(t *testing.T) {
	dbURL := replicaDatabase(t)
	rs := startReplicas(t, dbURL, 3, "--watch-interval", "1h")
	editor := replicaToken(t, dbURL, "editor")
	want := rs[0].anonymousCompanies(t)
	// cached waits until a repeated anonymous read on r is answered from
	// its cache: a read that began before an invalidation arrived is
	// stored as already stale, so the first repeat may miss.
	cached := func(r *replica) {
		waitFor(t, r.name+"'s cache to hold the count", func() bool {
			hits := r.metric(t, "trendql_response_cache_hits_total")
			r.anonymousCompanies(t)
			return r.metric(t, "trendql_response_cache_hits_total") == hits+1
		})
	}
	// heard returns once every replica has heard of w's commits so far:
	// w publishes a framework, and notifications arrive in commit order,
	// so a replica that shows it has handled every earlier one.
	const frameworks = `{ frameworks(first: 1) { totalCount } }`
	markers := 0
	heard := func(w *replica) {
		markers++
		var m struct{ CreateFramework struct{ ID string } }
		w.must(t, editor, `mutation($n: String!) { createFramework(input: {name: $n, kind: FRAMEWORK}) { id } }`, map[string]any{"n": fmt.Sprintf("Marker %d", markers)}, &m)
		w.must(t, editor, `mutation($id: ID!) { publish(id: $id) { id } }`, map[string]any{"id": m.CreateFramework.ID}, nil)
		var f struct{ Frameworks struct{ TotalCount int } }
		w.must(t, "", frameworks, nil, &f)
		n := f.Frameworks.TotalCount
		for _, r := range rs {
			waitFor(t, r.name+" to show "+w.name+"'s marker", func() bool {
				r.must(t, "", frameworks, nil, &f)
				return f.Frameworks.TotalCount == n
			})
		}
	}
	for _, r := range rs {
		if got := r.anonymousCompanies(t); got != want {
			t.Fatalf("%s: %d companies, want %d", r.name, got, want)
		}
		cached(r)
	}
	var lags []time.Duration
	for i := range 30 {
		w := rs[i%3]
		// Created as a draft (anonymous readers do not see it); once
		// every replica serves the count from its cache again, publishing
		// it is the one change that can make the cached count stale.
		var c struct{ CreateCompany struct{ ID string } }
		w.must(t, editor, `mutation($n: String!) { createCompany(input: {name: $n}) { id } }`, map[string]any{"n": fmt.Sprintf("Replicated %d", i)}, &c)
		heard(w)
		for _, r := range rs {
			cached(r)
		}
		w.must(t, editor, `mutation($id: ID!) { publish(id: $id) { id } }`, map[string]any{"id": c.CreateCompany.ID}, nil)
		acked := time.Now()
		want++
		if got := w.anonymousCompanies(t); got != want {
			t.Fatalf("write %d: the writing replica %s answers %d companies right after the write, want %d", i, w.name, got, want)
		}
		for _, r := range rs {
			if r == w {
				continue
			}
			for r.anonymousCompanies(t) != want {
				if time.Since(acked) > 30*time.Second {
					t.Fatalf("write %d on %s: %s still answers the stale count after 30s", i, w.name, r.name)
				}
				time.Sleep(time.Millisecond)
			}
			lags = append(lags, time.Since(acked))
		}
	}

	// A commit without events (setting a schedule) changes nothing an
	// anonymous answer holds: it must not empty the other replicas'
	// caches.
	var c struct{ CreateCompany struct{ ID string } }
	rs[0].must(t, editor, `mutation { createCompany(input: {name: "Scheduled Later"}) { id } }`, nil, &c)
	heard(rs[0])
	cached(rs[1])
	rs[0].must(t, editor, `mutation($id: ID!, $at: DateTime!) { schedule(id: $id, input: {publishAt: $at}) { id } }`,
		map[string]any{"id": c.CreateCompany.ID, "at": soon(time.Hour)}, nil)
	heard(rs[0])
	hits := rs[1].metric(t, "trendql_response_cache_hits_total")
	rs[1].anonymousCompanies(t)
	if rs[1].metric(t, "trendql_response_cache_hits_total") != hits+1 {
		t.Error("setting a schedule on A emptied B's cached answers about companies")
	}

	// A draft of a published company changes nothing anonymous callers
	// can read: the notification says its events were not public, so B
	// keeps its cached answers about companies; publishing the draft
	// empties them.
	id := rs[0].createPublished(t, editor, "Drafted Later")
	heard(rs[0])
	cached(rs[1])
	rs[0].must(t, editor, `mutation($id: ID!) { updateCompany(id: $id, input: {name: "Drafted Name"}) { id } }`, map[string]any{"id": id}, nil)
	heard(rs[0])
	hits = rs[1].metric(t, "trendql_response_cache_hits_total")
	rs[1].anonymousCompanies(t)
	if rs[1].metric(t, "trendql_response_cache_hits_total") != hits+1 {
		t.Error("a draft on A emptied B's cached answers about companies")
	}
	nameOnB := func() string {
		var out struct{ Node struct{ Name string } }
		rs[1].must(t, "", `query($id: ID!) { node(id: $id) { ... on Company { name } } }`, map[string]any{"id": id}, &out)
		return out.Node.Name
	}
	if strings.Contains(nameOnB(), "Drafted Name") {
		t.Error("B shows the draft's name to anonymous callers")
	}
	rs[0].must(t, editor, `mutation($id: ID!) { publish(id: $id) { id } }`, map[string]any{"id": id}, nil)
	waitFor(t, "B to show the published draft", func() bool { return strings.Contains(nameOnB(), "Drafted Name") })

	t.Logf("a write's invalidation seen on the other replicas (%d samples, poll every 1 ms, includes one read): p50 %v, p99 %v, max %v",
		len(lags), percentile(lags, 50), percentile(lags, 99), percentile(lags, 100))
}

// sseSubscribe opens an SSE subscription and sends each payload's data on
// the returned channel until ctx ends.
func sseSubscribe(t *testing.T, ctx context.Context, r *replica, token, query string, vars map[string]any) <-chan json.RawMessage {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, r.URL+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != http.StatusOK {
		t.Fatalf("SSE: HTTP %d", res.StatusCode)
	}
	out := make(chan json.RawMessage, 1000)
	go func() {
		defer close(out)
		defer res.Body.Close()
		sc := bufio.NewScanner(res.Body)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			data, ok := strings.CutPrefix(sc.Text(), "data: ")
			if !ok || strings.TrimSpace(data) == "" {
				continue
			}
			var m struct{ Data json.RawMessage }
			if json.Unmarshal([]byte(data), &m) == nil && m.Data != nil {
				out <- m.Data
			}
		}
	}()
	return out
}

// wsSubscribe opens a graphql-transport-ws subscription.
func wsSubscribe(t *testing.T, ctx context.Context, r *replica, token, query string, vars map[string]any) <-chan json.RawMessage {
	t.Helper()
	c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(r.URL, "http")+"/graphql", &websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
	if err != nil {
		t.Fatal(err)
	}
	c.SetReadLimit(1 << 22)
	send := func(v any) {
		b, _ := json.Marshal(v)
		if err := c.Write(ctx, websocket.MessageText, b); err != nil {
			t.Fatal(err)
		}
	}
	send(map[string]any{"type": "connection_init", "payload": map[string]any{"Authorization": "Bearer " + token}})
	_, ack, err := c.Read(ctx)
	if err != nil || !strings.Contains(string(ack), "connection_ack") {
		t.Fatalf("websocket: no ack: %s %v", ack, err)
	}
	send(map[string]any{"id": "1", "type": "subscribe", "payload": map[string]any{"query": query, "variables": vars}})
	out := make(chan json.RawMessage, 1000)
	go func() {
		defer close(out)
		defer c.CloseNow()
		for {
			_, b, err := c.Read(ctx)
			if err != nil {
				return
			}
			var m struct {
				Type    string
				Payload struct{ Data json.RawMessage }
			}
			if json.Unmarshal(b, &m) == nil && m.Type == "next" {
				out <- m.Payload.Data
			}
		}
	}()
	return out
}

type feedChange struct {
	Cursor string
	Action string
	ItemID string
}

// feed reads the whole changes feed after since on the replica.
func (r *replica) feed(t *testing.T, token, since string) []feedChange {
	t.Helper()
	var all []feedChange
	for {
		var f struct {
			Changes struct {
				Changes []feedChange
				Cursor  string
				HasMore bool
			}
		}
		r.must(t, token, `query($s: String) { changes(since: $s, first: 1000) { cursor hasMore changes { cursor action itemId } } }`, map[string]any{"s": since}, &f)
		all = append(all, f.Changes.Changes...)
		since = f.Changes.Cursor
		if !f.Changes.HasMore {
			return all
		}
	}
}

// Writers on all three replicas at once; a websocket subscriber on B and
// an SSE subscriber on C each receive every change once, in the log's one
// order, which is also what the changes feed says on every replica.
func TestReplicas_SubscribersAndFeedSeeEveryReplicasWritesInOneOrder(t *testing.T) {
	dbURL := replicaDatabase(t)
	rs := startReplicas(t, dbURL, 3)
	editor := replicaToken(t, dbURL, "editor")
	viewer := replicaToken(t, dbURL, "viewer")
	var head struct{ ChangesCursor string }
	rs[0].must(t, viewer, `{ changesCursor }`, nil, &head)

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	const sub = `subscription($s: String) { contentChanged(since: $s) { cursor action itemId } }`
	streams := map[string]<-chan json.RawMessage{
		"graphql-ws on B": wsSubscribe(t, ctx, rs[1], viewer, sub, map[string]any{"s": head.ChangesCursor}),
		"SSE on C":        sseSubscribe(t, ctx, rs[2], viewer, sub, map[string]any{"s": head.ChangesCursor}),
	}
	const perWriter = 25
	var wg sync.WaitGroup
	for w, r := range rs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range perWriter {
				res, err := r.post(ctx, editor, `mutation($n: String!) { createCompany(input: {name: $n}) { id } }`, map[string]any{"n": fmt.Sprintf("Ordered %d-%d", w, k)})
				if err != nil || len(res.Errors) > 0 {
					t.Errorf("writer on %s: %v %v", r.name, err, res)
					return
				}
			}
		}()
	}
	wg.Wait()
	want := rs[0].feed(t, viewer, head.ChangesCursor)
	if len(want) != 3*perWriter {
		t.Fatalf("the feed has %d changes, want %d", len(want), 3*perWriter)
	}
	for _, r := range rs[1:] {
		if got := r.feed(t, viewer, head.ChangesCursor); !slices.Equal(got, want) {
			t.Errorf("the feed on %s differs from A's", r.name)
		}
	}
	for name, ch := range streams {
		var got []feedChange
		for len(got) < len(want) {
			select {
			case data, ok := <-ch:
				if !ok {
					t.Fatalf("%s ended after %d changes", name, len(got))
				}
				var m struct{ ContentChanged feedChange }
				json.Unmarshal(data, &m)
				got = append(got, m.ContentChanged)
			case <-time.After(60 * time.Second):
				t.Fatalf("%s: %d of %d changes after 60s", name, len(got), len(want))
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s received the changes in another order, or skipped or repeated one", name)
		}
		select {
		case data := <-ch:
			t.Errorf("%s: one change too many: %s", name, data)
		case <-time.After(300 * time.Millisecond):
		}
	}
}

// webhookReceiver records what it receives: each delivery id, how often,
// and whether two attempts of one delivery were ever in flight at once.
type webhookReceiver struct {
	mu       sync.Mutex
	got      map[string]int
	inFlight map[string]int
	overlaps []string
}

func (wr *webhookReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	id := r.Header.Get("X-Trendql-Delivery")
	wr.mu.Lock()
	wr.inFlight[id]++
	if wr.inFlight[id] > 1 {
		wr.overlaps = append(wr.overlaps, id)
	}
	wr.mu.Unlock()
	defer func() {
		wr.mu.Lock()
		wr.inFlight[id]--
		wr.mu.Unlock()
	}()
	if _, err := io.ReadAll(r.Body); err != nil {
		return // the sender died mid-request
	}
	// Slow enough that kills land mid-delivery.
	time.Sleep(time.Duration(len(id)%7) * 15 * time.Millisecond)
	wr.mu.Lock()
	wr.got[id]++
	wr.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// Replicas are SIGKILLed and restarted, one at a time, while writers keep
// writing through whichever are up. Every change becomes one delivery, the
// receiver gets every delivery, no two attempts of one delivery are ever
// in flight at once, and a delivery reaches the receiver twice only when
// the replica sending it died before recording the answer (its attempt is
// on record as interrupted). Every acknowledged write is in the database.
func TestReplicas_WebhooksSurviveKilledReplicas(t *testing.T) {
	dbURL := replicaDatabase(t)
	recv := &webhookReceiver{got: map[string]int{}, inFlight: map[string]int{}}
	rc := httptest.NewServer(recv)
	defer rc.Close()
	flags := []string{"--webhook-allow-private", "--webhook-timeout", "2s", "--webhook-lease", "4s",
		"--webhook-backoff", "100ms", "--webhook-backoff-max", "500ms", "--webhook-concurrency", "8"}
	rs := startReplicas(t, dbURL, 3, flags...)
	admin := replicaToken(t, dbURL, "admin")
	rs[0].must(t, admin, `mutation($u: String!) { createWebhook(input: {url: $u, types: [COMPANY]}) { webhook { id } } }`, map[string]any{"u": rc.URL}, nil)

	var mu sync.Mutex // guards the replicas' URLs while they restart
	up := []bool{true, true, true}
	pick := func(k int) *replica {
		mu.Lock()
		defer mu.Unlock()
		for i := range 3 {
			if j := (k + i) % 3; up[j] {
				return rs[j]
			}
		}
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	stop := make(chan struct{})
	var acked sync.Map
	var nAcked atomic.Int64
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := 0; ; k++ {
				select {
				case <-stop:
					return
				default:
				}
				r := pick(w + k)
				if r == nil {
					time.Sleep(10 * time.Millisecond)
					continue
				}
				mu.Lock()
				u := r.URL
				mu.Unlock()
				name := fmt.Sprintf("Hooked %d-%d", w, k)
				body, _ := json.Marshal(map[string]any{"query": `mutation($n: String!) { createCompany(input: {name: $n}) { name } }`, "variables": map[string]any{"n": name}})
				req, _ := http.NewRequestWithContext(ctx, http.MethodPost, u+"/graphql", bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", "Bearer "+admin)
				res, err := replicaClient.Do(req)
				if err != nil {
					continue // killed under us: not acknowledged
				}
				var out struct {
					Data *struct{ CreateCompany struct{ Name string } }
				}
				err = json.NewDecoder(res.Body).Decode(&out)
				res.Body.Close()
				if err == nil && out.Data != nil && out.Data.CreateCompany.Name == name {
					acked.Store(name, true)
					nAcked.Add(1)
				}
			}
		}()
	}
	kills := 0
	for round := range 6 {
		time.Sleep(700 * time.Millisecond)
		i := round % 3
		mu.Lock()
		up[i] = false
		mu.Unlock()
		rs[i].kill()
		kills++
		time.Sleep(200 * time.Millisecond)
		mu.Lock() // the writers read the URL it changes
		err := rs[i].start()
		up[i] = true
		mu.Unlock()
		if err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(500 * time.Millisecond)
	close(stop)
	wg.Wait()
	t.Logf("%d acknowledged writes through replicas killed %d times", nAcked.Load(), kills)
	if nAcked.Load() < 20 {
		t.Fatalf("only %d writes acknowledged: the load did not run", nAcked.Load())
	}

	acked.Range(func(k, _ any) bool {
		if n := pgQueryInt(t, dbURL, "SELECT count(*) FROM companies WHERE name = $1", k.(string)); n != 1 {
			t.Errorf("acknowledged write %q: %d rows", k, n)
		}
		return true
	})
	events := pgQueryInt(t, dbURL, "SELECT count(*) FROM events WHERE type = 'Company' AND id > (SELECT after_event_id FROM webhooks)")
	deadline := time.Now().Add(90 * time.Second)
	for pgQueryInt(t, dbURL, "SELECT count(*) FROM webhook_deliveries WHERE status = 'succeeded'") != events ||
		pgQueryInt(t, dbURL, "SELECT count(*) FROM webhook_deliveries") != events {
		if time.Now().After(deadline) {
			t.Fatalf("after 90s: %d events, %d deliveries, %d succeeded, %d pending, %d failed, %d dead; %d attempts in flight; the dispatch cursor at %d of %d\nA's log: %s",
				events, pgQueryInt(t, dbURL, "SELECT count(*) FROM webhook_deliveries"),
				pgQueryInt(t, dbURL, "SELECT count(*) FROM webhook_deliveries WHERE status = 'succeeded'"),
				pgQueryInt(t, dbURL, "SELECT count(*) FROM webhook_deliveries WHERE status = 'pending'"),
				pgQueryInt(t, dbURL, "SELECT count(*) FROM webhook_deliveries WHERE status = 'failed'"),
				pgQueryInt(t, dbURL, "SELECT count(*) FROM webhook_deliveries WHERE status = 'dead'"),
				pgQueryInt(t, dbURL, "SELECT count(*) FROM webhook_attempts WHERE finished_at IS NULL"),
				pgQueryInt(t, dbURL, "SELECT last_event_id::int FROM webhook_dispatch"),
				pgQueryInt(t, dbURL, "SELECT max(id)::int FROM events"), rs[0].stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if n := pgQueryInt(t, dbURL, "SELECT count(*) FROM (SELECT event_id FROM webhook_deliveries GROUP BY event_id HAVING count(*) > 1) x"); n != 0 {
		t.Errorf("%d events queued twice", n)
	}
	ctx2, cancel2 := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel2()
	conn, err := pgx.Connect(ctx2, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx2)
	rows, err := conn.Query(ctx2, `SELECT x.id, (SELECT count(*) FROM webhook_attempts a WHERE a.delivery_id = x.id AND a.error LIKE 'interrupted%') FROM webhook_deliveries x`)
	if err != nil {
		t.Fatal(err)
	}
	interrupted := map[string]int{}
	var ids []string
	for rows.Next() {
		var id, n int64
		if err := rows.Scan(&id, &n); err != nil {
			t.Fatal(err)
		}
		gid := db.EncodeID(db.TypeWebhookDelivery, id)
		ids = append(ids, gid)
		interrupted[gid] = int(n)
	}
	rows.Close()
	recv.mu.Lock()
	defer recv.mu.Unlock()
	if len(recv.overlaps) > 0 {
		t.Errorf("two attempts of one delivery were in flight at once: %v", recv.overlaps)
	}
	twice := 0
	for _, id := range ids {
		switch n := recv.got[id]; {
		case n == 0:
			t.Errorf("delivery %s never reached the receiver", id)
		case n > 1+interrupted[id]:
			t.Errorf("delivery %s reached the receiver %d times with %d interrupted attempts", id, n, interrupted[id])
		case n > 1:
			twice++
		}
	}
	if len(recv.got) != len(ids) {
		t.Errorf("the receiver got %d distinct deliveries, the database has %d", len(recv.got), len(ids))
	}
	t.Logf("%d deliveries; %d reached the receiver again after their sender was killed before recording the answer (receivers deduplicate by X-Trendql-Delivery)", len(ids), twice)
}

// Due schedules set through three replicas are applied exactly once, by
// whichever replica claims each first.
func TestReplicas_ScheduleAppliedOnce(t *testing.T) {
	dbURL := replicaDatabase(t)
	rs := startReplicas(t, dbURL, 3, "--schedule-interval", "100ms")
	editor := replicaToken(t, dbURL, "editor")
	const n, batch = 45, 15
	at := soon(6 * time.Second)
	for k := range n / batch {
		var create strings.Builder
		create.WriteString("mutation {")
		for i := k * batch; i < (k+1)*batch; i++ {
			fmt.Fprintf(&create, ` c%d: createCompany(input: {name: "Triplet %d"}) { id }`, i, i)
		}
		create.WriteString(" }")
		var created map[string]struct{ ID string }
		rs[k].must(t, editor, create.String(), nil, &created)
		var sched strings.Builder
		sched.WriteString("mutation($at: DateTime!) {")
		for alias, c := range created {
			fmt.Fprintf(&sched, ` %s: schedule(id: %q, input: {publishAt: $at}) { id }`, alias, c.ID)
		}
		sched.WriteString(" }")
		rs[(k+1)%3].must(t, editor, sched.String(), map[string]any{"at": at}, nil)
	}
	if time.Now().After(mustParse(t, at)) {
		t.Fatal("setting the schedules took longer than their lead time")
	}
	waitFor(t, "every schedule to be applied", func() bool {
		return pgQueryInt(t, dbURL, "SELECT count(*) FROM companies WHERE slug LIKE 'triplet-%' AND status = 'PUBLISHED'") == n
	})
	time.Sleep(500 * time.Millisecond) // room for a second application, were there one
	if got := pgQueryInt(t, dbURL, "SELECT count(*) FROM events WHERE action = 'PUBLISH' AND actor = 'schedule'"); got != n {
		t.Errorf("%d PUBLISH events by schedule, want %d", got, n)
	}
	if got := pgQueryInt(t, dbURL, "SELECT count(*) FROM schedule_log WHERE outcome = 'APPLIED'"); got != n {
		t.Errorf("%d APPLIED lines, want %d", got, n)
	}
	if got := pgQueryInt(t, dbURL, "SELECT count(*) FROM schedule_log WHERE outcome = 'FAILED'"); got != 0 {
		t.Errorf("%d FAILED lines", got)
	}
	for _, r := range rs {
		if r.anonymousCount(t, "triplet-0") != 1 {
			t.Errorf("%s does not show the published item", r.name)
		}
	}
}

// anonymousCount is how many companies with the slug anonymous readers of
// the replica see.
func (r *replica) anonymousCount(tb testing.TB, slug string) int {
	tb.Helper()
	var c struct{ Company *struct{ ID string } }
	r.must(tb, "", `query($s: String) { company(slug: $s) { id } }`, map[string]any{"s": slug}, &c)
	if c.Company == nil {
		return 0
	}
	return 1
}

// One replica is SIGKILLed in the middle of a write load: every write it
// acknowledged is in the database exactly once with its one CREATE event,
// and the others go on writing (its writer lock died with it).
func TestReplicas_SIGKILLMidWriteLosesNoAcknowledgedWrite(t *testing.T) {
	dbURL := replicaDatabase(t)
	rs := startReplicas(t, dbURL, 3)
	editor := replicaToken(t, dbURL, "editor")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var mu sync.Mutex
	var acked []string
	killed := make(chan struct{})
	var once sync.Once
	var wg sync.WaitGroup
	for w := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := 0; k < 5000; k++ {
				name := fmt.Sprintf("Killed %d-%d", w, k)
				res, err := rs[0].post(ctx, editor, `mutation($n: String!) { createCompany(input: {name: $n}) { name } }`, map[string]any{"n": name})
				if err != nil || len(res.Errors) > 0 {
					select {
					case <-killed:
						return
					default:
						t.Errorf("write before the kill failed: %v %v", err, res)
						return
					}
				}
				mu.Lock()
				acked = append(acked, name)
				n := len(acked)
				mu.Unlock()
				if n >= 150 {
					once.Do(func() {
						close(killed)
						rs[0].kill()
					})
				}
			}
		}()
	}
	wg.Wait()
	select {
	case <-killed:
	default:
		t.Fatal("the load ended before the kill")
	}
	for _, name := range acked {
		if n := pgQueryInt(t, dbURL, "SELECT count(*) FROM companies WHERE name = $1", name); n != 1 {
			t.Errorf("acknowledged %q: %d rows", name, n)
		}
	}
	if n := pgQueryInt(t, dbURL, "SELECT count(*) FROM companies c WHERE name LIKE 'Killed %' AND (SELECT count(*) FROM events e WHERE e.type = 'Company' AND e.item_id = c.id AND e.action = 'CREATE') != 1"); n != 0 {
		t.Errorf("%d companies without exactly one CREATE event", n)
	}
	if n := pgQueryInt(t, dbURL, "SELECT count(*) FROM events e WHERE e.type = 'Company' AND e.action = 'CREATE' AND NOT EXISTS (SELECT 1 FROM companies c WHERE c.id = e.item_id)"); n != 0 {
		t.Errorf("%d CREATE events of companies that are not there", n)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		rs[1].createPublished(t, editor, "After The Kill")
	}()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		t.Fatal("B cannot write after A was killed: the writer lock outlived its holder")
	}
	if rs[2].anonymousCompanies(t) != rs[1].anonymousCompanies(t) {
		t.Error("B and C disagree after the kill")
	}
	t.Logf("killed A after %d acknowledged writes", len(acked))
}

// Three replicas started at once on an empty database: one migrates and
// seeds, the others wait for the migration and find nothing to do; all
// three serve the one article.
func TestReplicas_ConcurrentStartsOnAnEmptyDatabaseMigrateOnce(t *testing.T) {
	dbURL := replicaDatabase(t)
	replicaBinary(t)
	rs := make([]*replica, 3)
	errs := make([]error, 3)
	var wg sync.WaitGroup
	for i := range rs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rs[i] = &replica{name: string(rune('A' + i)), bin: replicaBinary(t), args: append([]string{"serve", "--db", dbURL, "--addr", "127.0.0.1:0"}, replicaDefaults...)}
			errs[i] = rs[i].start()
		}()
	}
	wg.Wait()
	for i, r := range rs {
		t.Cleanup(r.kill)
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
	}
	if v := pgQueryInt(t, dbURL, "SELECT value::int FROM trendql_meta WHERE key = 'schema_version'"); v < 1 {
		t.Errorf("schema_version %d", v)
	}
	if n := pgQueryInt(t, dbURL, "SELECT count(DISTINCT tx_id) FROM events"); n != 1 {
		t.Errorf("the events come from %d transactions, want the one seed", n)
	}
	if n := pgQueryInt(t, dbURL, "SELECT count(*) FROM trends"); n != 10 {
		t.Errorf("%d trends, want the article's 10", n)
	}
	for _, r := range rs {
		var a struct{ Trends struct{ TotalCount int } }
		waitFor(t, r.name+" to serve the seeded article", func() bool {
			r.must(t, "", `{ trends { totalCount } }`, nil, &a)
			return a.Trends.TotalCount == 10
		})
	}
}

// pgProxy stands between a replica and PostgreSQL, so a test can make the
// database unreachable for that replica alone (the cluster is shared) and
// bring it back.
type pgProxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	mode   string // "up", "refuse" (close at once), "blackhole" (never answer)
	conns  map[net.Conn]bool
}

func newPGProxy(t *testing.T, target string) *pgProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &pgProxy{ln: ln, target: target, mode: "up", conns: map[net.Conn]bool{}}
	go p.serve()
	t.Cleanup(func() {
		ln.Close()
		p.set("refuse")
	})
	return p
}

func (p *pgProxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		mode := p.mode
		p.conns[c] = true
		p.mu.Unlock()
		switch mode {
		case "refuse":
			c.Close()
		case "blackhole":
			// held open, unanswered, until the mode changes
		default:
			go p.pipe(c)
		}
	}
}

func (p *pgProxy) pipe(c net.Conn) {
	s, err := net.Dial("tcp", p.target)
	if err != nil {
		c.Close()
		return
	}
	p.mu.Lock()
	p.conns[s] = true
	p.mu.Unlock()
	go func() { io.Copy(s, c); s.Close(); c.Close() }()
	io.Copy(c, s)
	s.Close()
	c.Close()
}

// set changes the mode and cuts every connection open so far.
func (p *pgProxy) set(mode string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.mode = mode
	for c := range p.conns {
		c.Close()
	}
	clear(p.conns)
}

// readyz returns /readyz's status, body and how long it took.
func (r *replica) readyz(t *testing.T, path string) (int, string, time.Duration) {
	t.Helper()
	start := time.Now()
	res, err := replicaClient.Get(r.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b), time.Since(start)
}

// With PostgreSQL unreachable (refused, then swallowing packets), /readyz
// answers 503 at once with the reason, /healthz stays 200; when the
// database is back the replica is ready again by itself, serves, and a
// write another replica made during the outage reaches its cache. The
// password in the URL is never logged.
func TestReplicas_ReadinessWhenPostgreSQLIsUnreachable(t *testing.T) {
	dbURL := replicaDatabase(t)
	other := startReplica(t, "D", dbURL)
	editor := replicaToken(t, dbURL, "editor")
	u, _ := url.Parse(dbURL)
	proxy := newPGProxy(t, u.Host)
	const password = "s3cret-not-to-be-logged"
	u.Host = proxy.ln.Addr().String()
	u.User = url.UserPassword(u.User.Username(), password)
	r := startReplica(t, "R", u.String(), "--watch-interval", "1h", "--request-timeout", "5s")
	if code, body, _ := r.readyz(t, "/readyz"); code != 200 || body != "ok\n" {
		t.Fatalf("/readyz = %d %q before the outage", code, body)
	}
	before := r.anonymousCompanies(t)
	r.anonymousCompanies(t) // cached

	for _, mode := range []string{"refuse", "blackhole"} {
		proxy.set(mode)
		var took []time.Duration
		for range 3 {
			code, body, d := r.readyz(t, "/readyz")
			took = append(took, d)
			if code != http.StatusServiceUnavailable || !strings.HasPrefix(body, "not ready: PostgreSQL does not answer: ") {
				t.Errorf("%s: /readyz = %d %q, want 503 with the reason", mode, code, body)
			}
			if strings.Contains(body, password) || strings.Contains(body, u.Host) {
				t.Errorf("%s: /readyz names the URL: %q", mode, body)
			}
			if d > 5*time.Second {
				t.Errorf("%s: /readyz took %v", mode, d)
			}
			if code, _, _ := r.readyz(t, "/healthz"); code != 200 {
				t.Errorf("%s: /healthz = %d", mode, code)
			}
		}
		_, body, _ := r.readyz(t, "/readyz")
		t.Logf("PostgreSQL %s: /readyz answered 503 in %v (%q)", mode, took, strings.TrimSpace(body))
		// An uncached read fails with a coded error that names nothing.
		ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
		res, err := r.post(ctx, "", `{ trends(first: 3) { nodes { name } } }`, nil)
		cancel()
		if err != nil || len(res.Errors) == 0 || res.Errors[0].Extensions["code"] != "INTERNAL_SERVER_ERROR" ||
			strings.Contains(res.Errors[0].Message, u.Host) || strings.Contains(res.Errors[0].Message, password) {
			t.Errorf("%s: a read answers %v %+v", mode, err, res)
		}
	}
	// A write elsewhere while R cannot hear of it.
	other.createPublished(t, editor, "During The Outage")

	proxy.set("up")
	waitFor(t, "R to be ready again", func() bool {
		code, _, _ := r.readyz(t, "/readyz")
		return code == 200
	})
	waitFor(t, "R's cache to show the write made during the outage", func() bool {
		return r.anonymousCompanies(t) == before+1
	})
	r.createPublished(t, editor, "After The Outage")
	if got := other.anonymousCompanies(t); got != before+2 {
		t.Errorf("D sees %d companies, want %d", got, before+2)
	}
	if strings.Contains(r.stderr.String(), password) {
		t.Errorf("the password is in the log:\n%s", r.stderr.String())
	}
}

// The write rate with serialised writers: concurrent mutation clients
// spread over three replicas, each request one createCompany. Reported:
// writes/s and the latency percentiles.
func BenchmarkReplicas_WriteRate(b *testing.B) {
	dbURL := replicaDatabase(b)
	rs := startReplicas(b, dbURL, 3)
	editor := replicaToken(b, dbURL, "editor")
	before := rs[0].metric(b, "trendql_db_queries_total")
	rs[0].must(b, editor, `mutation { createCompany(input: {name: "Counted"}) { id } }`, nil, nil)
	b.Logf("one createCompany request costs %v SQL statements (each a round trip to PostgreSQL, under the writer lock)", rs[0].metric(b, "trendql_db_queries_total")-before)
	for _, shape := range []struct{ replicas, clients int }{{1, 12}, {3, 3}, {3, 12}, {3, 48}} {
		b.Run(fmt.Sprintf("replicas=%d/clients=%d", shape.replicas, shape.clients), func(b *testing.B) {
			clients := shape.clients
			var next atomic.Int64
			var mu sync.Mutex
			var lat []time.Duration
			b.ResetTimer()
			start := time.Now()
			var wg sync.WaitGroup
			for c := range clients {
				wg.Add(1)
				go func() {
					defer wg.Done()
					r := rs[c%shape.replicas]
					var mine []time.Duration
					for {
						i := next.Add(1)
						if i > int64(b.N) {
							break
						}
						t0 := time.Now()
						res, err := r.post(context.Background(), editor, `mutation($n: String!) { createCompany(input: {name: $n}) { id } }`,
							map[string]any{"n": fmt.Sprintf("Rate %d %d %s", clients, i, rand.Text()[:6])})
						if err != nil || len(res.Errors) > 0 {
							b.Errorf("write: %v %v", err, res)
							return
						}
						mine = append(mine, time.Since(t0))
					}
					mu.Lock()
					lat = append(lat, mine...)
					mu.Unlock()
				}()
			}
			wg.Wait()
			elapsed := time.Since(start)
			b.StopTimer()
			sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "writes/s")
			b.ReportMetric(float64(percentile(lat, 50).Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(percentile(lat, 99).Microseconds())/1000, "p99-ms")
		})
	}
}

// A replica may run with --no-webhooks; a ping or a retry asked of it
// (no event: nothing for the watch to notice) still wakes the replicas
// that send at once, rather than at their next idle look (30 s).
func TestReplicas_PingThroughAReplicaThatSendsNoWebhooks(t *testing.T) {
	dbURL := replicaDatabase(t)
	got := make(chan string, 10)
	rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.ReadAll(r.Body)
		got <- r.Header.Get("X-Trendql-Event")
	}))
	defer rc.Close()
	a := startReplica(t, "A", dbURL, "--no-webhooks")
	startReplica(t, "B", dbURL, "--webhook-allow-private", "--watch-interval", "1h")
	admin := replicaToken(t, dbURL, "admin")
	var wh struct {
		CreateWebhook struct{ Webhook struct{ ID string } }
	}
	a.must(t, admin, `mutation($u: String!) { createWebhook(input: {url: $u, types: [COMPANY]}) { webhook { id } } }`, map[string]any{"u": rc.URL}, &wh)
	// B's dispatcher has looked and found nothing due: it idles.
	time.Sleep(500 * time.Millisecond)
	var ping struct{ TestWebhook struct{ ID string } }
	a.must(t, admin, `mutation($id: ID!) { testWebhook(id: $id) { id } }`, map[string]any{"id": wh.CreateWebhook.Webhook.ID}, &ping)
	start := time.Now()
	select {
	case ev := <-got:
		if ev != "ping" {
			t.Errorf("X-Trendql-Event = %q", ev)
		}
		t.Logf("the ping asked of A was sent by B after %v", time.Since(start))
	case <-time.After(20 * time.Second):
		t.Fatal("B did not send the ping asked of A within 20s: it was not woken")
	}
	// The retry must come after B recorded the ping's success, which
	// would otherwise stand over it.
	waitFor(t, "the ping to be recorded as succeeded", func() bool {
		return pgQueryInt(t, dbURL, "SELECT count(*) FROM webhook_deliveries WHERE status = 'succeeded'") == 1
	})
	time.Sleep(500 * time.Millisecond) // B idles again
	a.must(t, admin, `mutation($id: ID!) { retryWebhookDelivery(id: $id) { id } }`, map[string]any{"id": ping.TestWebhook.ID}, nil)
	start = time.Now()
	select {
	case <-got:
		t.Logf("the retry asked of A was sent by B after %v", time.Since(start))
	case <-time.After(20 * time.Second):
		t.Fatal("B did not send the retry asked of A within 20s")
	}
}

// A webhook lease no longer than the attempt's timeout would let another
// replica start a second attempt while the first is in flight: refused as
// bad usage, from the flag and from the environment.
func TestRun_WebhookLeaseMustExceedTheTimeout(t *testing.T) {
	dbPath := filepath.Join(t.TempDir(), "trendql.db")
	for _, c := range []struct {
		args []string
		env  map[string]string
	}{
		{args: []string{"--webhook-timeout", "10s", "--webhook-lease", "10s"}},
		{args: []string{"--webhook-lease", "-1s"}},
		{args: []string{"--webhook-timeout", "5s"}, env: map[string]string{"TRENDQL_WEBHOOK_LEASE": "2s"}},
		{env: map[string]string{"TRENDQL_WEBHOOK_LEASE": "soon"}},
	} {
		var stderr bytes.Buffer
		err := run(context.Background(), append([]string{"serve", "--db", dbPath, "--addr", "127.0.0.1:0"}, c.args...),
			func(k string) string { return c.env[k] }, strings.NewReader(""), io.Discard, &stderr)
		if code := exitCode(err, &stderr); code != 2 || !strings.Contains(strings.ToLower(stderr.String()), "lease") {
			t.Errorf("%v %v: exit %d, %q", c.args, c.env, code, stderr.String())
		}
	}
}
