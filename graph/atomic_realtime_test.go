package graph_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/trendql/trendql/db"
)

// txChange is a change with its transaction id.
type txChange struct {
	Action        string
	ItemType      string
	TransactionID string
	Revision      struct {
		ID            string
		TransactionID string
		Slug          string
	}
}

const txChangeFields = `action itemType transactionId revision { id transactionId slug }`

// A mutation sent over the websocket follows the one-transaction rule too:
// when its k-th field fails, subscribers hear nothing (no event was
// written); when all succeed, websocket and SSE subscribers receive the
// request's changes as one group, back to back, in order, with one
// transaction id.
func TestAtomic_SubscribersSeeOneGroupPerRequest(t *testing.T) {
	l := newLive(t)
	since := l.head(t)
	sub, ack := dialWS(t, l.URL, nil, map[string]any{"Authorization": "Bearer " + l.viewer})
	if ack.Type != "connection_ack" {
		t.Fatalf("init: %+v", ack)
	}
	sub.subscribe(t, "s", `subscription($since: String) { contentChanged(since: $since) { `+txChangeFields+` } }`, since)
	sse := openSSE(t, l.URL, l.viewer, `subscription($since: String) { contentChanged(since: $since) { `+txChangeFields+` } }`, since)

	writer, ack := dialWS(t, l.URL, http.Header{"Authorization": {"Bearer " + l.editor}}, nil)
	if ack.Type != "connection_ack" {
		t.Fatalf("init: %+v", ack)
	}
	before := dumpDB(t, l.env)
	writer.subscribe(t, "m1", `mutation { a: createCompany(input: {name: "Group A"}) { id } b: createTrend(input: {name: "Group T", rank: 40, category: TOOLING}) { id }
		c: createCompany(input: {name: ""}) { id } }`, nil)
	m := writer.next(t)
	var failed struct {
		Data   json.RawMessage
		Errors []struct {
			Path       []any
			Extensions map[string]any
		}
	}
	json.Unmarshal(m.Payload, &failed)
	if m.Type != "next" || string(failed.Data) != "null" || len(failed.Errors) != 1 || failed.Errors[0].Path[0] != "c" {
		t.Fatalf("failed mutation over the websocket answered %s %s", m.Type, m.Payload)
	}
	if after := dumpDB(t, l.env); after != before {
		t.Fatalf("a failed websocket mutation changed the database:\n%s", diff(before, after))
	}
	sub.quiet(t)

	writer.subscribe(t, "m2", `mutation { a: createCompany(input: {name: "Group A"}) { id } b: createTrend(input: {name: "Group T", rank: 40, category: TOOLING}) { id }
		c: createCompany(input: {name: "Group C"}) { id } }`, nil)
	for m := writer.next(t); m.Type != "complete"; m = writer.next(t) {
		if m.Type != "next" {
			t.Fatalf("mutation: %s %s", m.Type, m.Payload)
		}
	}
	check := func(name string, got []txChange) {
		t.Helper()
		want := []string{"group-a", "group-t", "group-c"}
		for i, c := range got {
			if c.Revision.Slug != want[i] || c.Action != "CREATE" {
				t.Errorf("%s: change %d is %s %s, want CREATE %s", name, i, c.Action, c.Revision.Slug, want[i])
			}
			if c.TransactionID != got[0].Revision.ID || c.Revision.TransactionID != got[0].Revision.ID {
				t.Errorf("%s: change %d has transaction %s, want %s", name, i, c.TransactionID, got[0].Revision.ID)
			}
		}
	}
	var ws []txChange
	for len(ws) < 3 {
		m := sub.next(t)
		var r struct {
			Data struct{ ContentChanged txChange }
		}
		if err := json.Unmarshal(m.Payload, &r); err != nil || m.Type != "next" {
			t.Fatalf("subscription: %s %s", m.Type, m.Payload)
		}
		ws = append(ws, r.Data.ContentChanged)
	}
	check("websocket", ws)
	sub.quiet(t)
	var ss []txChange
	for len(ss) < 3 {
		var r struct {
			Data struct{ ContentChanged txChange }
		}
		if err := json.Unmarshal([]byte(sse.next(t)), &r); err != nil {
			t.Fatal(err)
		}
		ss = append(ss, r.Data.ContentChanged)
	}
	check("SSE", ss)
}

// A mutation sent as an SSE request follows the same rule: whatever the
// transport answers, a request whose second field fails writes nothing,
// and one that succeeds writes all of it in one transaction.
func TestAtomic_SSEMutationIsAtomicToo(t *testing.T) {
	l := newLive(t)
	send := func(query string) string {
		t.Helper()
		body, _ := json.Marshal(map[string]any{"query": query})
		req, _ := http.NewRequest(http.MethodPost, l.URL+"/graphql", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "text/event-stream")
		req.Header.Set("Authorization", "Bearer "+l.editor)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return fmt.Sprintf("%d %s", res.StatusCode, b)
	}
	before := dumpDB(t, l.env)
	got := send(`mutation { a: createCompany(input: {name: "SSE A"}) { id } b: createCompany(input: {name: ""}) { id } }`)
	if after := dumpDB(t, l.env); after != before {
		t.Fatalf("a failed SSE mutation (%s) changed the database:\n%s", got, diff(before, after))
	}
	got = send(`mutation { a: createCompany(input: {name: "SSE A"}) { id } b: createCompany(input: {name: "SSE B"}) { id } }`)
	var n int
	for _, slug := range []string{"sse-a", "sse-b"} {
		if _, err := l.DB.CompanyBySlug(db.WithPrincipal(context.Background(), &db.Principal{Role: db.RoleViewer}), slug); err == nil {
			n++
		}
	}
	want := 0
	if strings.Contains(got, `"data":{"a"`) {
		want = 2 // the transport ran it and said so
	}
	if n != want {
		t.Errorf("an SSE mutation (%s) wrote %d of its 2 companies, want %d", got, n, want)
	}
}
