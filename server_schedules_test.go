package main

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trendql/trendql/db/dbtest"
)

// soon is an RFC 3339 time d from now.
func soon(d time.Duration) string { return time.Now().UTC().Add(d).Format(time.RFC3339Nano) }

// eventually polls cond until it holds, failing after a generous time: the
// machine may be busy, and the test waits for a condition, never a delay.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(45 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// anonymousCount is how many companies with slug an anonymous caller sees.
func (s *server) anonymousCount(t *testing.T, slug string) int {
	t.Helper()
	var out struct{ Companies struct{ TotalCount int } }
	s.gql(t, "", `query($s: String!) { companies(filter: {slug: {eq: $s}}) { totalCount } }`, map[string]any{"s": slug}, &out)
	return out.Companies.TotalCount
}

// Through run(): a schedule that falls due while the server runs is
// applied as an ordinary change — the anonymous (cached) read shows it, an
// anonymous SSE subscriber and a webhook receive the PUBLISH, and the
// audit log records it with actor "schedule" and the token that set it.
func TestRun_ScheduleAppliedWhileRunningIsAnOrdinaryChange(t *testing.T) {
	var mu sync.Mutex
	var hooks []string
	rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		hooks = append(hooks, string(b))
		mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	defer rc.Close()
	dbPath := dbtest.NewDSN(t)
	s := startServer(t, map[string]string{"TRENDQL_WEBHOOK_ALLOW_PRIVATE": "true"}, "--db", dbPath)
	admin, editor := createToken(t, dbPath, "admin"), createToken(t, dbPath, "editor")
	s.gql(t, admin, `mutation($u: String!) { createWebhook(input: {url: $u}) { webhook { id } } }`, map[string]any{"u": rc.URL}, nil)
	id := s.createCompany(t, editor, "Timed Launch")
	if s.anonymousCount(t, "timed-launch") != 0 || s.anonymousCount(t, "timed-launch") != 0 {
		t.Fatal("anonymous callers see a draft")
	}

	req, _ := http.NewRequest(http.MethodPost, s.URL+"/graphql",
		strings.NewReader(`{"query":"subscription { contentChanged(types: [COMPANY]) { revision { action itemId actor } } }"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "text/event-stream")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	streamed := make(chan string, 16)
	go func() {
		sc := bufio.NewScanner(res.Body)
		for sc.Scan() {
			if line, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
				streamed <- line
			}
		}
		close(streamed)
	}()

	s.gql(t, editor, `mutation($id: ID!, $at: DateTime!) { schedule(id: $id, input: {publishAt: $at}) { id } }`,
		map[string]any{"id": id, "at": soon(time.Second)}, nil)
	eventually(t, "the anonymous read to show the scheduled company", func() bool { return s.anonymousCount(t, "timed-launch") == 1 })

	select {
	case line := <-streamed:
		if !strings.Contains(line, `"PUBLISH"`) || !strings.Contains(line, id) || strings.Contains(line, "schedule") {
			t.Errorf("anonymous subscriber got %s, want the PUBLISH without its actor", line)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the subscriber got no event")
	}
	eventually(t, "the webhook delivery", func() bool {
		mu.Lock()
		defer mu.Unlock()
		for _, h := range hooks {
			if strings.Contains(h, `"action":"PUBLISH"`) && strings.Contains(h, id) && strings.Contains(h, `"actor":"schedule"`) {
				return true
			}
		}
		return false
	})
	var audit struct {
		AuditLog struct {
			Nodes []struct {
				Action, Actor string
			}
		}
	}
	s.gql(t, admin, `query($id: ID!) { auditLog(first: 1, filter: {itemId: $id}) { nodes { action actor } } }`, map[string]any{"id": id}, &audit)
	if n := audit.AuditLog.Nodes; len(n) != 1 || n[0].Action != "PUBLISH" || n[0].Actor != "schedule" {
		t.Fatalf("audit log: %+v", audit)
	}
	var tokenID int
	raw := openRaw(t, dbPath)
	if err := raw.QueryRow("SELECT token_id FROM events WHERE actor = 'schedule'").Scan(&tokenID); err != nil {
		t.Fatal(err)
	}
	if want := queryInt(t, raw, "SELECT id FROM tokens WHERE name = 'editor'"); tokenID != want {
		t.Errorf("the event's token is %d, want the editor's %d", tokenID, want)
	}
}

// A schedule that falls due while no server runs is applied when one
// starts: at start, not at the next periodic look (an hour away here).
func TestRun_ScheduleDueWhileStoppedIsAppliedAtStart(t *testing.T) {
	dbPath := dbtest.NewDSN(t)
	s := startServer(t, nil, "--db", dbPath)
	editor := createToken(t, dbPath, "editor")
	id := s.createCompany(t, editor, "Weekend Launch")
	due := time.Now().Add(6 * time.Second)
	s.gql(t, editor, `mutation($id: ID!, $at: DateTime!) { schedule(id: $id, input: {publishAt: $at}) { id } }`,
		map[string]any{"id": id, "at": due.UTC().Format(time.RFC3339Nano)}, nil)
	if err := s.stop(t); err != nil {
		t.Fatal(err)
	}
	raw := openRaw(t, dbPath)
	if time.Now().After(due) {
		t.Fatal("the server took longer to stop than the schedule's lead time")
	}
	eventually(t, "the schedule's time to pass", func() bool { return time.Now().After(due.Add(100 * time.Millisecond)) })
	if n := queryInt(t, raw, "SELECT count(*) FROM companies WHERE slug = 'weekend-launch' AND status = 'DRAFT'"); n != 1 {
		t.Fatal("the company was published while no server ran")
	}
	s = startServer(t, nil, "--db", dbPath, "--schedule-interval", "1h")
	eventually(t, "the overdue schedule to be applied at start", func() bool { return s.anonymousCount(t, "weekend-launch") == 1 })
	if n := queryInt(t, raw, "SELECT count(*) FROM schedules"); n != 0 {
		t.Errorf("%d schedules left", n)
	}
}

// Two servers on one database file, with many schedules falling due at
// the same moment, set through both: each schedule is applied exactly
// once — one PUBLISH event per item, one APPLIED line per schedule — and
// both servers' caches hear of it, whichever applied it.
func TestRun_TwoServersOnOneDatabaseApplyEachScheduleOnce(t *testing.T) {
	dbPath := dbtest.NewDSN(t)
	a := startServer(t, nil, "--db", dbPath, "--schedule-interval", "100ms")
	editor := createToken(t, dbPath, "editor")
	b := startServer(t, nil, "--db", dbPath, "--schedule-interval", "100ms")
	// Requests of 10 fields (the root-field limit is 20), alternating
	// between the servers.
	const n, batch = 40, 10
	at := soon(5 * time.Second)
	for k := 0; k < n/batch; k++ {
		var create, sched strings.Builder
		create.WriteString("mutation {")
		for i := k * batch; i < (k+1)*batch; i++ {
			fmt.Fprintf(&create, ` c%d: createCompany(input: {name: "Twin %d"}) { id }`, i, i)
		}
		create.WriteString(" }")
		var created map[string]struct{ ID string }
		a.gql(t, editor, create.String(), nil, &created)
		if len(created) != batch {
			t.Fatalf("created %d", len(created))
		}
		sched.WriteString("mutation($at: DateTime!) {")
		for alias, c := range created {
			fmt.Fprintf(&sched, ` %s: schedule(id: %q, input: {publishAt: $at}) { id }`, alias, c.ID)
		}
		sched.WriteString(" }")
		[]*server{a, b}[k%2].gql(t, editor, sched.String(), map[string]any{"at": at}, nil)
	}
	if time.Now().After(mustParse(t, at)) {
		t.Fatal("setting the schedules took longer than their lead time: they did not fall due together")
	}
	// Both servers' anonymous responses are cached before the schedules
	// fall due; whichever server applies one, both must show it.
	for _, s := range []*server{a, b} {
		if s.anonymousCount(t, "twin-0") != 0 || s.anonymousCount(t, "twin-0") != 0 {
			t.Fatal("anonymous callers see a draft")
		}
	}

	raw := openRaw(t, dbPath)
	eventually(t, "every schedule to be applied", func() bool {
		return queryInt(t, raw, "SELECT count(*) FROM companies WHERE slug LIKE 'twin-%' AND status = 'PUBLISHED'") == n
	})
	if got := queryInt(t, raw, "SELECT count(*) FROM events WHERE action = 'PUBLISH' AND actor = 'schedule'"); got != n {
		t.Errorf("%d PUBLISH events by schedule, want %d", got, n)
	}
	if dup := queryInt(t, raw, "SELECT count(*) FROM (SELECT item_id FROM events WHERE action = 'PUBLISH' AND slug LIKE 'twin-%' GROUP BY type, item_id HAVING count(*) > 1) AS dup"); dup != 0 {
		t.Errorf("%d items published twice", dup)
	}
	if got := queryInt(t, raw, "SELECT count(*) FROM schedule_log WHERE outcome = 'APPLIED'"); got != n {
		t.Errorf("%d APPLIED lines, want %d", got, n)
	}
	if got := queryInt(t, raw, "SELECT count(*) FROM schedule_log WHERE outcome = 'FAILED'"); got != 0 {
		t.Errorf("%d FAILED lines", got)
	}
	for _, s := range []*server{a, b} {
		eventually(t, "each server's anonymous read to show the published twin", func() bool { return s.anonymousCount(t, "twin-0") == 1 })
	}
	for _, s := range []*server{a, b} {
		if err := s.stop(t); err != nil {
			t.Fatal(err)
		}
	}
}

func mustParse(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}
