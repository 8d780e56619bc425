package graph_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/trendql/trendql/db"
)

const scheduleMutation = `mutation($id: ID!, $in: ScheduleInput!) { schedule(id: $id, input: $in) {
	id ... on Trend { version publishAt unpublishAt } ... on Company { version publishAt unpublishAt } } }`

// future is a time the tests schedule at: far enough that nothing applies
// it while they run.
func future(d time.Duration) string { return time.Now().UTC().Add(d).Format(time.RFC3339) }

type scheduled struct {
	ID          string
	Version     int
	PublishAt   *string
	UnpublishAt *string
}

func (e *env) schedule(t *testing.T, tok, id string, in map[string]any) scheduled {
	t.Helper()
	var out struct{ Schedule scheduled }
	e.mutate(t, tok, scheduleMutation, map[string]any{"id": id, "in": in}, &out)
	return out.Schedule
}

func same(p *string, want string) bool {
	if p == nil {
		return want == ""
	}
	got, err1 := time.Parse(time.RFC3339Nano, *p)
	w, err2 := time.Parse(time.RFC3339Nano, want)
	return err1 == nil && err2 == nil && got.Equal(w)
}

// A field of the input left out keeps that schedule, null clears it, a
// time sets it; none of it changes the item's version or the event log;
// the schedule log says who did what. Token holders read the schedule on
// every read path; anonymous callers read null.
func TestSchedule_SetKeepClearAndWhoSeesIt(t *testing.T) {
	e := newEnv(t)
	tk := newTokens(t, e)
	fx := newFixture(t, e)
	events := eventCount(t, e)
	p1, u1 := future(time.Hour), future(2*time.Hour)
	got := e.schedule(t, tk.editor, fx.google, map[string]any{"publishAt": p1, "unpublishAt": u1})
	if !same(got.PublishAt, p1) || !same(got.UnpublishAt, u1) {
		t.Fatalf("set both: %+v", got)
	}
	version := got.Version
	u2 := future(3 * time.Hour)
	got = e.schedule(t, tk.editor, fx.google, map[string]any{"unpublishAt": u2})
	if !same(got.PublishAt, p1) || !same(got.UnpublishAt, u2) {
		t.Fatalf("publishAt left out must be kept, unpublishAt moved: %+v", got)
	}
	got = e.schedule(t, tk.editor, fx.google, map[string]any{"publishAt": nil})
	if got.PublishAt != nil || !same(got.UnpublishAt, u2) {
		t.Fatalf("publishAt null must clear it and keep unpublishAt: %+v", got)
	}
	got = e.schedule(t, tk.editor, fx.google, map[string]any{})
	if got.PublishAt != nil || !same(got.UnpublishAt, u2) || got.Version != version {
		t.Fatalf("an empty input changes nothing: %+v", got)
	}
	if n := eventCount(t, e); n != events {
		t.Fatalf("scheduling appended %d events", n-events)
	}

	const read = `query($id: ID!) {
		company(slug: "google") { unpublishAt }
		companies(filter: {slug: {eq: "google"}}) { nodes { unpublishAt } }
		node(id: $id) { ... on Company { unpublishAt publishAt } }
		search(query: "google", types: [COMPANY]) { nodes { node { ... on Company { unpublishAt } } } }
	}`
	for _, c := range []struct {
		who  string
		tok  string
		want bool
	}{{"anonymous", "", false}, {"viewer", tk.viewer, true}, {"editor", tk.editor, true}, {"admin", tk.admin, true}} {
		r := e.post(t, read, map[string]any{"id": fx.google}, bearer(c.tok)...)
		if len(r.Errors) > 0 {
			t.Fatalf("%s: %s", c.who, r.Body)
		}
		var out struct {
			Company   struct{ UnpublishAt *string }
			Companies struct {
				Nodes []struct{ UnpublishAt *string }
			}
			Node   struct{ UnpublishAt, PublishAt *string }
			Search struct {
				Nodes []struct{ Node struct{ UnpublishAt *string } }
			}
		}
		json.Unmarshal(r.Data, &out)
		seen := []*string{out.Company.UnpublishAt, out.Companies.Nodes[0].UnpublishAt, out.Node.UnpublishAt, out.Search.Nodes[0].Node.UnpublishAt}
		for i, v := range seen {
			if c.want && !same(v, u2) || !c.want && v != nil {
				t.Errorf("%s, read path %d: unpublishAt %v", c.who, i, v)
			}
		}
	}

	var log struct {
		ScheduleLog []struct {
			Outcome, Action, Actor string
			TokenID                *string
			DueAt                  string
		}
	}
	r := e.post(t, `query($id: ID!) { scheduleLog(itemId: $id) { outcome action actor tokenId dueAt } }`, map[string]any{"id": fx.google}, bearer(tk.editor)...)
	json.Unmarshal(r.Data, &log)
	want := []string{"CLEARED PUBLISH", "SCHEDULED UNPUBLISH", "SCHEDULED UNPUBLISH", "SCHEDULED PUBLISH"}
	if len(log.ScheduleLog) != len(want) {
		t.Fatalf("schedule log: %s", r.Body)
	}
	for i, l := range log.ScheduleLog {
		if l.Outcome+" "+l.Action != want[i] || l.Actor != "editor-bot" || l.TokenID == nil {
			t.Errorf("log line %d: %+v, want %s by editor-bot", i, l, want[i])
		}
	}
}

// Schedules on a page of items cost one statement, whatever the page size.
func TestSchedule_ListCostsOneStatement(t *testing.T) {
	e := newEnv(t)
	tk := newTokens(t, e)
	const q = `query($n: Int) { trends(first: $n) { nodes { rank publishAt unpublishAt } } }`
	cost := func(n int) int64 {
		before := e.DB.QueryCount()
		r := e.post(t, q, map[string]any{"n": n}, bearer(tk.viewer)...)
		if len(r.Errors) > 0 {
			t.Fatal(r.Body)
		}
		return e.DB.QueryCount() - before
	}
	one, ten := cost(1), cost(10)
	if ten != one {
		t.Errorf("publishAt on 10 trends cost %d statements, on 1 %d", ten, one)
	}
}

// Every refusal is one error with its code (and the field at fault) on
// POST, and changes nothing: no schedule, no schedule log line, no event.
func TestSchedule_RefusalsChangeNothing(t *testing.T) {
	e := newEnv(t)
	tk := newTokens(t, e)
	fx := newFixture(t, e)
	e.schedule(t, tk.editor, fx.trend, map[string]any{"unpublishAt": future(2 * time.Hour)})
	past := time.Now().UTC().Add(-time.Minute).Format(time.RFC3339)
	cases := []struct {
		name  string
		tok   string
		id    string
		in    map[string]any
		code  string
		field string
	}{
		{"publishAt in the past", tk.editor, fx.trend, map[string]any{"publishAt": past}, "BAD_USER_INPUT", "input.publishAt"},
		{"unpublishAt in the past", tk.editor, fx.trend, map[string]any{"unpublishAt": past}, "BAD_USER_INPUT", "input.unpublishAt"},
		{"unpublishAt before publishAt", tk.editor, fx.trend, map[string]any{"publishAt": future(3 * time.Hour), "unpublishAt": future(time.Hour)}, "BAD_USER_INPUT", "input.unpublishAt"},
		{"unpublishAt at publishAt", tk.editor, fx.trend, map[string]any{"publishAt": future(3 * time.Hour), "unpublishAt": future(3 * time.Hour)}, "BAD_USER_INPUT", "input.unpublishAt"},
		{"publishAt after the pending unpublishAt", tk.editor, fx.trend, map[string]any{"publishAt": future(5 * time.Hour)}, "BAD_USER_INPUT", "input.publishAt"},
		{"not a time", tk.editor, fx.trend, map[string]any{"publishAt": "tomorrow at noon"}, "BAD_USER_INPUT", "input.publishAt"},
		{"a date without a time", tk.editor, fx.trend, map[string]any{"unpublishAt": "2999-01-01"}, "BAD_USER_INPUT", "input.unpublishAt"},
		{"year 10000", tk.editor, fx.trend, map[string]any{"publishAt": "10000-01-01T00:00:00Z"}, "BAD_USER_INPUT", "input.publishAt"},
		{"malformed id", tk.editor, "nope", map[string]any{"publishAt": future(time.Hour)}, "BAD_USER_INPUT", "id"},
		{"a token's id", tk.editor, fx.victimToken, map[string]any{"publishAt": future(time.Hour)}, "BAD_USER_INPUT", "id"},
		{"unknown item", tk.editor, db.EncodeID(db.TypeTrend, 99999), map[string]any{"publishAt": future(time.Hour)}, "NOT_FOUND", ""},
		{"anonymous", "", fx.trend, map[string]any{"publishAt": future(time.Hour)}, "UNAUTHENTICATED", ""},
		{"viewer", tk.viewer, fx.trend, map[string]any{"publishAt": future(time.Hour)}, "FORBIDDEN", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := snapshot(t, e)
			r := e.post(t, scheduleMutation, map[string]any{"id": c.id, "in": c.in}, bearer(c.tok)...)
			assertNoLeak(t, r.Body)
			if len(r.Errors) != 1 || r.code() != c.code || string(r.Data) != "null" {
				t.Fatalf("got %s, want one %s", r.Body, c.code)
			}
			if f, _ := r.Errors[0].Extensions["field"].(string); f != c.field {
				t.Errorf("extensions.field %q, want %q: %s", f, c.field, r.Body)
			}
			if after := snapshot(t, e); after != before {
				t.Fatalf("a refusal changed something:\n%s", diff(before, after))
			}
		})
	}
}

// A request whose schedule is fine but whose other mutation fails
// schedules nothing, whichever comes first.
func TestSchedule_OneTransactionWithTheRestOfTheRequest(t *testing.T) {
	e := newEnv(t)
	tk := newTokens(t, e)
	fx := newFixture(t, e)
	for _, q := range []string{
		`mutation($id: ID!, $at: DateTime!) {
			a: schedule(id: $id, input: {publishAt: $at}) { id }
			b: updateTrend(id: $id, input: {name: ""}) { id } }`,
		`mutation($id: ID!, $at: DateTime!) {
			b: updateTrend(id: $id, input: {summary: "fine"}) { id }
			a: schedule(id: $id, input: {publishAt: $at}) { id }
			c: deleteCompany(id: "` + db.EncodeID(db.TypeCompany, 99999) + `") { deletedId } }`,
	} {
		before := snapshot(t, e)
		r := e.post(t, q, map[string]any{"id": fx.trend, "at": future(time.Hour)}, bearer(tk.editor)...)
		if len(r.Errors) != 1 || string(r.Data) != "null" {
			t.Fatalf("want one error and no data: %s", r.Body)
		}
		if after := snapshot(t, e); after != before {
			t.Fatalf("a failed request left a schedule:\n%s", diff(before, after))
		}
	}
}

// Publishing by hand drops a pending publishAt (it happened), and
// unpublishing by hand drops both: an earlier plan must not undo a
// take-down. The log says so (CANCELLED).
func TestSchedule_PublishingByHandOvertakesTheSchedule(t *testing.T) {
	e := newEnv(t)
	tk := newTokens(t, e)
	fx := newFixture(t, e)
	p, u := future(time.Hour), future(2*time.Hour)
	e.schedule(t, tk.editor, fx.coB, map[string]any{"publishAt": p, "unpublishAt": u})
	var out struct {
		Publish scheduled
	}
	e.mutate(t, tk.editor, `mutation($id: ID!) { publish(id: $id) { ... on Company { publishAt unpublishAt } } }`, map[string]any{"id": fx.coB}, &out)
	if out.Publish.PublishAt != nil || !same(out.Publish.UnpublishAt, u) {
		t.Fatalf("after publishing by hand: %+v", out.Publish)
	}
	var out2 struct {
		Unpublish scheduled
	}
	e.schedule(t, tk.editor, fx.coB, map[string]any{"publishAt": future(90 * time.Minute)})
	e.mutate(t, tk.editor, `mutation($id: ID!) { unpublish(id: $id) { ... on Company { publishAt unpublishAt } } }`, map[string]any{"id": fx.coB}, &out2)
	if out2.Unpublish.PublishAt != nil || out2.Unpublish.UnpublishAt != nil {
		t.Fatalf("after unpublishing by hand: %+v", out2.Unpublish)
	}
	var log struct {
		ScheduleLog []struct{ Action, Message string }
	}
	r := e.post(t, `query($id: ID!) { scheduleLog(itemId: $id, outcomes: [CANCELLED]) { action message } }`, map[string]any{"id": fx.coB}, bearer(tk.editor)...)
	json.Unmarshal(r.Data, &log)
	if len(log.ScheduleLog) != 3 {
		t.Fatalf("cancelled entries: %s", r.Body)
	}
}

// Applied by the server, a schedule is an ordinary change seen through the
// handler: the anonymous response cache is invalidated, the revision names
// the actor "schedule", and the schedule log links the revision.
func TestSchedule_AppliedThroughTheHandler(t *testing.T) {
	e := newEnv(t)
	tk := newTokens(t, e)
	fx := newFixture(t, e)
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		e.DB.RunSchedules(ctx, time.Hour, nil)
	}()
	defer func() {
		stop()
		<-done
	}()
	const anon = `{ companies(filter: {slug: {eq: "fixture-b"}}) { totalCount } }`
	count := func() int {
		r := e.post(t, anon, nil)
		var out struct{ Companies struct{ TotalCount int } }
		json.Unmarshal(r.Data, &out)
		return out.Companies.TotalCount
	}
	if count() != 0 || count() != 0 {
		t.Fatal("anonymous callers see a draft")
	}
	e.schedule(t, tk.editor, fx.coB, map[string]any{"publishAt": time.Now().UTC().Add(500 * time.Millisecond).Format(time.RFC3339Nano)})
	deadline := time.Now().Add(30 * time.Second)
	for count() != 1 {
		if time.Now().After(deadline) {
			t.Fatal("the scheduled publication never reached anonymous readers")
		}
		time.Sleep(20 * time.Millisecond)
	}
	var revs struct {
		Node struct {
			Revisions struct {
				Nodes []struct{ ID, Action, Actor string }
			}
		}
	}
	r := e.post(t, `query($id: ID!) { node(id: $id) { ... on Company { revisions(first: 1) { nodes { id action actor } } } } }`,
		map[string]any{"id": fx.coB}, bearer(tk.admin)...)
	json.Unmarshal(r.Data, &revs)
	if n := revs.Node.Revisions.Nodes; len(n) != 1 || n[0].Action != "PUBLISH" || n[0].Actor != db.ScheduleActor {
		t.Fatalf("newest revision: %s", r.Body)
	}
	var log struct {
		ScheduleLog []struct{ RevisionID *string }
	}
	r = e.post(t, `query($id: ID!) { scheduleLog(itemId: $id, outcomes: [APPLIED]) { revisionId } }`, map[string]any{"id": fx.coB}, bearer(tk.editor)...)
	json.Unmarshal(r.Data, &log)
	if len(log.ScheduleLog) != 1 || log.ScheduleLog[0].RevisionID == nil || *log.ScheduleLog[0].RevisionID != revs.Node.Revisions.Nodes[0].ID {
		t.Fatalf("applied entry: %s", r.Body)
	}
	if r.Status != http.StatusOK {
		t.Fatal(r.Body)
	}
	if n := e.metric(t, "trendql_schedules_applied_total"); n != 1 {
		t.Errorf("trendql_schedules_applied_total = %v, want 1", n)
	}
	if n := e.metric(t, "trendql_schedules_failed_total"); n != 0 {
		t.Errorf("trendql_schedules_failed_total = %v, want 0", n)
	}
}

// Refusals are the same on every transport that carries a mutation (the
// websocket), the transports that carry none refuse it before it runs (an
// SSE request, HTTP GET), and none changes anything; a schedule applied by the server reaches a websocket
// subscriber as a PUBLISH by "schedule".
func TestSchedule_EveryTransport(t *testing.T) {
	l := newLive(t)
	var c struct{ CreateCompany struct{ ID string } }
	l.gql(t, l.editor, `mutation { createCompany(input: {name: "Wire Co"}) { id } }`, nil, &c)
	id := c.CreateCompany.ID
	past := time.Now().UTC().Add(-time.Hour).Format(time.RFC3339)
	vars := func(at string) map[string]any { return map[string]any{"id": id, "in": map[string]any{"publishAt": at}} }

	before := dumpDB(t, l.env)
	for _, w := range []struct {
		who, token, at, code, field string
	}{
		{"editor, a past time", l.editor, past, "BAD_USER_INPUT", "input.publishAt"},
		{"editor, not a time", l.editor, "noon", "BAD_USER_INPUT", "input.publishAt"},
		{"viewer", l.viewer, future(time.Hour), "FORBIDDEN", ""},
		{"anonymous", "", future(time.Hour), "UNAUTHENTICATED", ""},
	} {
		var init map[string]any
		if w.token != "" {
			init = map[string]any{"Authorization": "Bearer " + w.token}
		}
		ws, ack := dialWS(t, l.URL, nil, init)
		if ack.Type != "connection_ack" {
			t.Fatalf("%s: init %+v", w.who, ack)
		}
		ws.subscribe(t, "m", scheduleMutation, vars(w.at))
		m := ws.next(t)
		var r struct {
			Data   json.RawMessage
			Errors []struct{ Extensions map[string]any }
		}
		json.Unmarshal(m.Payload, &r)
		if m.Type != "next" || string(r.Data) != "null" || len(r.Errors) != 1 || r.Errors[0].Extensions["code"] != w.code ||
			w.field != "" && r.Errors[0].Extensions["field"] != w.field {
			t.Errorf("websocket, %s: %s %s, want %s", w.who, m.Type, m.Payload, w.code)
		}

		body, _ := json.Marshal(map[string]any{"query": scheduleMutation, "variables": vars(w.at)})
		req, _ := http.NewRequest(http.MethodPost, l.URL+"/graphql", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "text/event-stream")
		if w.token != "" {
			req.Header.Set("Authorization", "Bearer "+w.token)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		// Queries and mutations are never answered as a stream (the
		// contract): the SSE request is refused before it runs.
		if res.StatusCode != http.StatusNotAcceptable {
			t.Errorf("SSE, %s: %d %s, want 406", w.who, res.StatusCode, b)
		}
	}
	q := url.Values{"query": {`mutation { schedule(id: "` + id + `", input: {publishAt: "` + future(time.Hour) + `"}) { id } }`}}
	req, _ := http.NewRequest(http.MethodGet, l.URL+"/graphql?"+q.Encode(), nil)
	req.Header.Set("Authorization", "Bearer "+l.editor)
	req.Header.Set("Accept", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if after := dumpDB(t, l.env); after != before {
		t.Fatalf("a refused schedule changed the database:\n%s", diff(before, after))
	}

	ctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		l.DB.RunSchedules(ctx, time.Hour, nil)
	}()
	defer func() {
		stop()
		<-done
	}()
	sub, ack := dialWS(t, l.URL, nil, map[string]any{"Authorization": "Bearer " + l.viewer})
	if ack.Type != "connection_ack" {
		t.Fatalf("init: %+v", ack)
	}
	sub.subscribe(t, "s", `subscription { contentChanged(types: [COMPANY]) { action itemId revision { actor } } }`, nil)
	sub.quiet(t)
	writer, _ := dialWS(t, l.URL, nil, map[string]any{"Authorization": "Bearer " + l.editor})
	writer.subscribe(t, "m", scheduleMutation, vars(time.Now().UTC().Add(300*time.Millisecond).Format(time.RFC3339Nano)))
	if m := writer.next(t); m.Type != "next" || strings.Contains(string(m.Payload), "errors") {
		t.Fatalf("schedule over the websocket: %s %s", m.Type, m.Payload)
	}
	var got struct {
		Data struct {
			ContentChanged struct {
				Action, ItemID string
				Revision       struct{ Actor string }
			}
		}
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case m := <-sub.msgs:
			json.Unmarshal(m.Payload, &got)
		case <-time.After(time.Until(deadline)):
			t.Fatal("the websocket subscriber heard nothing of the applied schedule")
		}
		if got.Data.ContentChanged.Action != "" {
			break
		}
	}
	if c := got.Data.ContentChanged; c.Action != "PUBLISH" || c.ItemID != id || c.Revision.Actor != db.ScheduleActor {
		t.Fatalf("subscriber got %+v", c)
	}
}
