package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/trendql/trendql/db/dbtest"
)

// metricOf reads one sample from the /metrics of the server at base: the
// line that starts with name (labels included, if any) and a space. ok is
// false when there is no such line (a labelled counter has none before its
// first sample).
func metricOf(tb testing.TB, c *http.Client, base, name string) (v float64, ok bool) {
	tb.Helper()
	res, err := c.Get(base + "/metrics")
	if err != nil {
		tb.Fatal(err)
	}
	defer res.Body.Close()
	sc := bufio.NewScanner(res.Body)
	for sc.Scan() {
		if s, found := strings.CutPrefix(sc.Text(), name+" "); found {
			if _, err := fmt.Sscan(s, &v); err != nil {
				tb.Fatalf("metric %s: %q", name, s)
			}
			return v, true
		}
	}
	return 0, false
}

// server is trendql started through run(), as the binary starts it.
type server struct {
	URL    string
	cancel context.CancelFunc
	done   chan error
	stderr *syncBuffer
}

type syncBuffer struct {
	mu  chan struct{}
	buf bytes.Buffer
}

func newSyncBuffer() *syncBuffer { return &syncBuffer{mu: make(chan struct{}, 1)} }

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu <- struct{}{}
	defer func() { <-b.mu }()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu <- struct{}{}
	defer func() { <-b.mu }()
	return b.buf.String()
}

// startServer runs `trendql serve` with args (plus a free loopback port)
// and waits for it to listen.
func startServer(t *testing.T, env map[string]string, args ...string) *server {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	s := &server{cancel: cancel, done: make(chan error, 1), stderr: newSyncBuffer()}
	getenv := func(k string) string { return env[k] }
	go func() {
		err := run(ctx, append([]string{"serve", "--addr", "127.0.0.1:0"}, args...), getenv, strings.NewReader(""), pw, s.stderr)
		pw.Close()
		s.done <- err
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		cancel()
		t.Fatalf("server did not start: %v; stderr: %s; run: %v", err, s.stderr.String(), <-s.done)
	}
	go io.Copy(io.Discard, pr)
	s.URL = strings.TrimSpace(strings.TrimPrefix(line, "listening on "))
	t.Cleanup(func() { s.stop(t) })
	return s
}

func (s *server) stop(t *testing.T) error {
	s.cancel()
	select {
	case err := <-s.done:
		s.done <- err
		return err
	case <-time.After(20 * time.Second):
		t.Fatal("server did not shut down")
		return nil
	}
}

func (s *server) query(t *testing.T, q string) map[string]any {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"query": q})
	res, err := http.Post(s.URL+"/graphql", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	return out
}

// End to end through run(): a new database is created and seeded, the API
// answers, and SIGTERM-style cancellation finishes the request in flight.
func TestRun_ServesTheArticleAndShutsDownGracefully(t *testing.T) {
	dbPath := dbtest.NewDSN(t)
	s := startServer(t, nil, "--db", dbPath)
	out := s.query(t, `{ trends(first: 10) { nodes { rank name } } }`)
	nodes := out["data"].(map[string]any)["trends"].(map[string]any)["nodes"].([]any)
	if len(nodes) != 10 || nodes[0].(map[string]any)["name"] != "Backend as a Service (BaaS)" {
		t.Fatalf("trends = %v", out)
	}
	for _, path := range []string{"/healthz", "/readyz", "/metrics"} {
		res, err := http.Get(s.URL + path)
		if err != nil || res.StatusCode != 200 {
			t.Fatalf("GET %s: %v %v", path, res, err)
		}
		res.Body.Close()
	}

	// A request in flight: headers sent, body still coming.
	conn, err := net.Dial("tcp", strings.TrimPrefix(s.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	body := `{"query":"{ article { title } }"}`
	fmt.Fprintf(conn, "POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", len(body), body[:10])
	time.Sleep(100 * time.Millisecond) // let the server start reading
	s.cancel()                         // what SIGINT/SIGTERM do
	time.Sleep(100 * time.Millisecond)
	select {
	case err := <-s.done:
		t.Fatalf("server stopped with a request in flight: %v", err)
	default:
	}
	io.WriteString(conn, body[10:])
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("in-flight request lost: %v", err)
	}
	got, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 || !strings.Contains(string(got), "Top Backend Development Trends") {
		t.Fatalf("in-flight request: %d %s", res.StatusCode, got)
	}
	if err := s.stop(t); err != nil {
		t.Fatalf("run returned %v after shutdown", err)
	}
	if !strings.Contains(s.stderr.String(), "shutting down") {
		t.Errorf("no shutdown log: %s", s.stderr.String())
	}

	// Restarting on the same file migrates and never re-seeds.
	s2 := startServer(t, nil, "--db", dbPath)
	out = s2.query(t, `{ trends { totalCount } }`)
	if n := out["data"].(map[string]any)["trends"].(map[string]any)["totalCount"]; n != float64(10) {
		t.Errorf("after restart totalCount = %v", n)
	}
}

func TestRun_EnvironmentAndFlags(t *testing.T) {
	envDB, flagDB := dbtest.NewDSN(t), dbtest.NewDSN(t)
	// A database the server used was seeded: it has the article's trends.
	used := func(dsn string) bool {
		var n int
		return dbtest.RawSQL(t, dsn).QueryRow("SELECT count(*) FROM trends").Scan(&n) == nil && n == 10
	}
	s := startServer(t, map[string]string{"TRENDQL_DB": envDB, "TRENDQL_CORS_ORIGINS": "https://a.example, https://b.example"})
	req, _ := http.NewRequest("OPTIONS", s.URL+"/graphql", nil)
	req.Header.Set("Origin", "https://b.example")
	req.Header.Set("Access-Control-Request-Method", "POST")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.Header.Get("Access-Control-Allow-Origin") != "https://b.example" {
		t.Errorf("TRENDQL_CORS_ORIGINS not applied: %v", res.Header)
	}
	if !used(envDB) {
		t.Error("TRENDQL_DB not used")
	}
	s.stop(t)
	// A flag wins over the environment.
	s = startServer(t, map[string]string{"TRENDQL_DB": envDB}, "--db", flagDB)
	if !used(flagDB) {
		t.Error("--db did not win over TRENDQL_DB")
	}
	s.stop(t)
	// --no-seed creates an empty database.
	s = startServer(t, nil, "--db", dbtest.NewDSN(t), "--no-seed")
	out := s.query(t, `{ trends { totalCount } }`)
	if n := out["data"].(map[string]any)["trends"].(map[string]any)["totalCount"]; n != float64(0) {
		t.Errorf("--no-seed database has %v trends", n)
	}
}

func TestRun_FailuresAreOneClearSentence(t *testing.T) {
	dir := t.TempDir()
	notDB := filepath.Join(dir, "notes.txt")
	os.WriteFile(notDB, []byte(strings.Repeat("these are my notes, not a database\n", 10)), 0o644)
	cases := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"directory missing", []string{"serve", "--db", filepath.Join(dir, "missing", "x.db")}, 1, "cannot open database"},
		{"not a database", []string{"serve", "--db", notDB}, 1, "is not a trendql database"},
		{"database is a directory", []string{"serve", "--db", dir}, 1, "is a directory"},
		{"unknown flag", []string{"serve", "--nope"}, 2, "flag provided but not defined"},
		{"unknown command", []string{"frobnicate"}, 2, "unknown command"},
		{"stray argument", []string{"serve", "extra"}, 2, "unexpected argument"},
		{"address in use", []string{"serve", "--addr", "256.0.0.1:99999", "--db", filepath.Join(dir, "ok.db")}, 1, "cannot listen"},
		{"negative event retention", []string{"serve", "--event-retention", "-1h"}, 2, "--event-retention must not be negative"},
		{"no revision kept", []string{"serve", "--keep-revisions", "0"}, 2, "--keep-revisions must be at least 1"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := run(context.Background(), c.args, func(string) string { return "" }, strings.NewReader(""), &stdout, &stderr)
			code := exitCode(err, &stderr)
			msg := stderr.String()
			if code != c.code || !strings.Contains(msg, c.want) {
				t.Fatalf("exit %d, stderr %q; want exit %d containing %q", code, msg, c.code, c.want)
			}
			last := strings.TrimSpace(msg[strings.LastIndex(strings.TrimSpace(msg), "\n")+1:])
			if !strings.HasPrefix(last, "trendql: ") || strings.Count(last, "\n") > 0 {
				t.Errorf("last stderr line is not one sentence: %q", last)
			}
		})
	}
	before, _ := os.ReadFile(notDB)
	if !strings.HasPrefix(string(before), "these are my notes") {
		t.Error("the foreign file was changed")
	}
}

func TestServing_OnlyTheServerGetsTheGCDefaults(t *testing.T) {
	for args, want := range map[string]bool{
		"": true, "serve --db x": true, "--addr :1": true,
		"import f.json": false, "export": false, "token list": false, "backup out.db": false,
	} {
		if got := serving(strings.Fields(args)); got != want {
			t.Errorf("serving(%q) = %v, want %v", args, got, want)
		}
	}
}
