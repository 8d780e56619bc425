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
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/trendql/trendql/db/dbtest"
)

// createToken runs `trendql token create` and returns the secret.
func createToken(t *testing.T, dbPath, role string) string {
	t.Helper()
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), []string{"token", "create", "--name", role, "--role", role, "--db", dbPath},
		func(string) string { return "" }, strings.NewReader(""), &stdout, &stderr)
	if err != nil {
		t.Fatalf("token create: %v: %s", err, stderr.String())
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	return lines[len(lines)-1]
}

// gql posts one operation with a token and decodes data into out.
func (s *server) gql(t *testing.T, token, query string, vars map[string]any, out any) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequest(http.MethodPost, s.URL+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var r struct {
		Data   json.RawMessage
		Errors []any
	}
	if err := json.NewDecoder(res.Body).Decode(&r); err != nil || len(r.Errors) > 0 {
		t.Fatalf("%s: %v %v", query, err, r.Errors)
	}
	if out != nil {
		json.Unmarshal(r.Data, out)
	}
}

func (s *server) createCompany(t *testing.T, token, name string) string {
	t.Helper()
	var r struct{ CreateCompany struct{ ID string } }
	s.gql(t, token, `mutation($n: String!) { createCompany(input: {name: $n}) { id } }`, map[string]any{"n": name}, &r)
	return r.CreateCompany.ID
}

// The changes cursor a build script keeps resumes exactly after a server
// restart; and shutting down does not wait for open subscription streams.
func TestRun_ChangesFeedAcrossRestartAndStreamsEndOnShutdown(t *testing.T) {
	dbPath := dbtest.NewDSN(t)
	s := startServer(t, nil, "--db", dbPath)
	editor := createToken(t, dbPath, "editor")
	var head struct{ ChangesCursor string }
	s.gql(t, "", `{ changesCursor }`, nil, &head)
	a := s.createCompany(t, editor, "Before Restart")

	// An SSE subscriber is connected when the server stops.
	body := strings.NewReader(`{"query":"subscription { contentChanged { action } }"}`)
	req, _ := http.NewRequest(http.MethodPost, s.URL+"/graphql", body)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "text/event-stream")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	streamEnded := make(chan struct{})
	go func() {
		defer close(streamEnded)
		sc := bufio.NewScanner(res.Body)
		for sc.Scan() {
		}
		res.Body.Close()
	}()
	time.Sleep(50 * time.Millisecond)
	start := time.Now()
	if err := s.stop(t); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("shutdown took %v with a subscription open (shutdown timeout 15s)", d)
	}
	select {
	case <-streamEnded:
	case <-time.After(5 * time.Second):
		t.Error("the SSE stream did not end with the server")
	}

	s = startServer(t, nil, "--db", dbPath)
	s.gql(t, editor, `mutation($id: ID!) { updateCompany(id: $id, input: {name: "After Restart"}) { id } }`, map[string]any{"id": a}, nil)
	s.gql(t, editor, `mutation($id: ID!) { publish(id: $id) { id } }`, map[string]any{"id": a}, nil)
	var f struct {
		Changes struct {
			Changes []struct {
				Action string
				ItemID string
			}
			HasMore bool
		}
	}
	s.gql(t, editor, `query($s: String) { changes(since: $s) { hasMore changes { action itemId } } }`, map[string]any{"s": head.ChangesCursor}, &f)
	var got []string
	for _, c := range f.Changes.Changes {
		if c.ItemID != a {
			t.Errorf("change of another item: %+v", c)
		}
		got = append(got, c.Action)
	}
	if strings.Join(got, " ") != "CREATE UPDATE PUBLISH" || f.Changes.HasMore {
		t.Errorf("changes since the cursor = %v", got)
	}
}

// A webhook request in flight when the server stops is cut short at the
// shutdown deadline, recorded as interrupted, and sent again after the
// restart; the receiver sees the same delivery id twice and the delivery
// ends up succeeded with both attempts on record.
func TestRun_WebhookInFlightAtShutdownIsDeliveredAfterRestart(t *testing.T) {
	dbPath := dbtest.NewDSN(t)
	var mu sync.Mutex
	var ids []string
	first := make(chan struct{})
	rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.ReadAll(r.Body) // then net/http notices the client going away
		mu.Lock()
		ids = append(ids, r.Header.Get("X-Trendql-Delivery"))
		n := len(ids)
		mu.Unlock()
		if n == 1 {
			close(first)
			<-r.Context().Done() // hang until the sender gives up
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	defer rc.Close()
	// The receiver is on 127.0.0.1, which webhooks may reach only when
	// allowed (see TestRun_WebhooksRefusePrivateTargetsByDefault).
	flags := []string{"--db", dbPath, "--shutdown-timeout", "300ms", "--webhook-backoff", "10ms", "--webhook-allow-private"}
	s := startServer(t, nil, flags...)
	admin := createToken(t, dbPath, "admin")
	var wh struct {
		CreateWebhook struct{ Webhook struct{ ID string } }
	}
	s.gql(t, admin, `mutation($u: String!) { createWebhook(input: {url: $u, types: [COMPANY]}) { webhook { id } } }`, map[string]any{"u": rc.URL}, &wh)

	start := time.Now()
	s.createCompany(t, admin, "Hooked")
	// The receiver holds its request until the sender gives up (the
	// webhook timeout, 10s): a mutation that waited would take that long.
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("the mutation took %v", d)
	}
	select {
	case <-first:
	case <-time.After(10 * time.Second):
		t.Fatal("no webhook request")
	}
	if err := s.stop(t); err != nil {
		t.Fatalf("stop: %v", err)
	}
	if !strings.Contains(s.stderr.String(), "cut short") {
		t.Errorf("no word of the interrupted request in the log: %s", s.stderr.String())
	}

	s = startServer(t, nil, flags...)
	type delivery struct {
		ID         string
		Status     string
		Attempts   int
		AttemptLog []struct {
			StatusCode *int
			Error      *string
		}
	}
	var r struct {
		Webhook struct{ Deliveries struct{ Nodes []delivery } }
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		s.gql(t, admin, `query($id: ID!) { webhook(id: $id) { deliveries { nodes { id status attempts attemptLog { statusCode error } } } } }`,
			map[string]any{"id": wh.CreateWebhook.Webhook.ID}, &r)
		if n := r.Webhook.Deliveries.Nodes; len(n) == 1 && n[0].Status == "SUCCEEDED" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not delivered after the restart: %+v\n%s", r, s.stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	x := r.Webhook.Deliveries.Nodes[0]
	mu.Lock()
	defer mu.Unlock()
	if len(ids) != 2 || ids[0] != x.ID || ids[1] != x.ID {
		t.Errorf("receiver got delivery ids %v, want %s twice", ids, x.ID)
	}
	if x.Attempts != 2 || len(x.AttemptLog) != 2 || x.AttemptLog[0].Error == nil || !strings.Contains(*x.AttemptLog[0].Error, "interrupted") ||
		x.AttemptLog[1].StatusCode == nil || *x.AttemptLog[1].StatusCode != 200 {
		t.Errorf("delivery %+v", x)
	}
}

func TestRun_WebhookFlagsAreChecked(t *testing.T) {
	for _, c := range []struct {
		args []string
		env  map[string]string
		want string
	}{
		{[]string{"serve", "--webhook-timeout", "0s"}, nil, "--webhook-timeout must be positive"},
		{[]string{"serve", "--webhook-max-attempts", "0"}, nil, "must be positive"},
		{[]string{"serve"}, map[string]string{"TRENDQL_WEBHOOK_BACKOFF": "soon"}, "TRENDQL_WEBHOOK_BACKOFF must be a positive duration"},
		{[]string{"serve"}, map[string]string{"TRENDQL_WEBHOOK_ALLOW_PRIVATE": "sure"}, "TRENDQL_WEBHOOK_ALLOW_PRIVATE must be true or false"},
	} {
		var stdout, stderr bytes.Buffer
		err := run(context.Background(), c.args, func(k string) string { return c.env[k] }, strings.NewReader(""), &stdout, &stderr)
		if code := exitCode(err, &stderr); code != 2 || !strings.Contains(stderr.String(), c.want) {
			t.Errorf("%v %v: exit %d, %s", c.args, c.env, code, stderr.String())
		}
	}
}

// TestRun_WebhooksRefusePrivateTargetsByDefault: the real server, without
// --webhook-allow-private, never sends a webhook to the loopback interface
// (the attempt records why); TRENDQL_WEBHOOK_ALLOW_PRIVATE=true allows it.
func TestRun_WebhooksRefusePrivateTargetsByDefault(t *testing.T) {
	var mu sync.Mutex
	got := 0
	rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got++
		mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	defer rc.Close()
	for _, c := range []struct {
		name    string
		env     map[string]string
		allowed bool
	}{
		{"default", nil, false},
		{"env allows", map[string]string{"TRENDQL_WEBHOOK_ALLOW_PRIVATE": "true"}, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			mu.Lock()
			got = 0
			mu.Unlock()
			dbPath := dbtest.NewDSN(t)
			s := startServer(t, c.env, "--db", dbPath, "--webhook-max-attempts", "1")
			defer s.stop(t)
			admin := createToken(t, dbPath, "admin")
			var wh struct {
				CreateWebhook struct{ Webhook struct{ ID string } }
			}
			s.gql(t, admin, `mutation($u: String!) { createWebhook(input: {url: $u}) { webhook { id } } }`, map[string]any{"u": rc.URL}, &wh)
			s.createCompany(t, admin, "Hooked")
			var r struct {
				Webhook struct {
					Deliveries struct {
						Nodes []struct {
							Status    string
							LastError *string
						}
					}
				}
			}
			deadline := time.Now().Add(10 * time.Second)
			for {
				s.gql(t, admin, `query($id: ID!) { webhook(id: $id) { deliveries { nodes { status lastError } } } }`,
					map[string]any{"id": wh.CreateWebhook.Webhook.ID}, &r)
				if n := r.Webhook.Deliveries.Nodes; len(n) == 1 && (n[0].Status == "SUCCEEDED" || n[0].Status == "DEAD") {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("delivery not finished: %+v", r)
				}
				time.Sleep(20 * time.Millisecond)
			}
			x := r.Webhook.Deliveries.Nodes[0]
			mu.Lock()
			n := got
			mu.Unlock()
			if c.allowed {
				if x.Status != "SUCCEEDED" || n != 1 {
					t.Errorf("allowed: %d requests, delivery %+v", n, x)
				}
				return
			}
			if n != 0 || x.Status != "DEAD" || x.LastError == nil || !strings.Contains(*x.LastError, "loopback") {
				t.Errorf("refused: %d requests, delivery %+v", n, x)
			}
		})
	}
}

// Through run() with the default flags: malformed websocket inits are
// closed with 4400 and release their sockets, and bad tokens are limited
// per address (401 twenty times, then 429 before any lookup).
func TestRun_HostileStreamsAndTokensWithTheDefaults(t *testing.T) {
	s := startServer(t, nil, "--db", dbtest.NewDSN(t))
	sockets := func() int { return serverSockets(t, s.URL) }
	http.DefaultClient.CloseIdleConnections()
	before := sockets()
	for i := range 30 {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(s.URL, "http")+"/graphql", &websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
		if err != nil {
			cancel()
			t.Fatal(err)
		}
		if n := sockets(); i == 0 && n < before+2 {
			t.Fatalf("an open websocket counts %d sockets, %d before: the count misses its two ends", n, before)
		}
		c.Write(ctx, websocket.MessageText, []byte(`{"type":"connection_init","payload":"x"}`))
		_, _, err = c.Read(ctx)
		cancel()
		if code := websocket.CloseStatus(err); code != 4400 {
			t.Fatalf("malformed init: %v, want close 4400", err)
		}
		c.CloseNow()
	}
	for deadline := time.Now().Add(20 * time.Second); sockets() > before; {
		if time.Now().After(deadline) {
			t.Fatalf("%d sockets open after 30 malformed inits, %d before", sockets(), before)
		}
		time.Sleep(50 * time.Millisecond)
	}

	statuses := map[int]int{}
	for i := range 40 {
		req, _ := http.NewRequest(http.MethodPost, s.URL+"/graphql", strings.NewReader(`{"query":"{ __typename }"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer tql_"+strconv.Itoa(i+1)+"_nope")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		statuses[res.StatusCode]++
	}
	if statuses[401] != 20 || statuses[429] != 20 {
		t.Errorf("40 bad tokens: %v, want 20×401 and 20×429", statuses)
	}
}

// Negative rate limits and caps are bad usage.
func TestRun_NegativeRateLimitsAreRefused(t *testing.T) {
	for _, flag := range []string{"--rate-limit=-1", "--auth-failure-burst=-1", "--max-subscriptions-per-client=-5"} {
		var stdout, stderr bytes.Buffer
		err := run(context.Background(), []string{"serve", "--db", dbtest.NewDSN(t), flag},
			func(string) string { return "" }, strings.NewReader(""), &stdout, &stderr)
		if code := exitCode(err, &stderr); code != 2 || !strings.Contains(stderr.String(), "must not be negative") {
			t.Errorf("%s: exit %d, %s", flag, code, stderr.String())
		}
	}
}

// serverSockets counts this process's open sockets that are connections to
// or from the server at url (both ends live in the test process), so that
// the database's own connections (a PostgreSQL pool opening one more, say)
// are not taken for leaked client connections.
func serverSockets(t *testing.T, url string) int {
	t.Helper()
	_, port, err := net.SplitHostPort(strings.TrimPrefix(url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := strconv.Atoi(port)
	if err != nil {
		t.Fatal(err)
	}
	hexPort := fmt.Sprintf(":%04X", p)
	// /proc/net/tcp{,6}: "sl local_address rem_address st ... uid timeout inode".
	inodes := map[string]bool{}
	for _, f := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n")[1:] {
			fs := strings.Fields(line)
			if len(fs) > 9 && (strings.HasSuffix(fs[1], hexPort) || strings.HasSuffix(fs[2], hexPort)) {
				inodes["socket:["+fs[9]+"]"] = true
			}
		}
	}
	ents, _ := os.ReadDir("/proc/self/fd")
	n := 0
	for _, e := range ents {
		if l, err := os.Readlink("/proc/self/fd/" + e.Name()); err == nil && inodes[l] {
			n++
		}
	}
	return n
}
