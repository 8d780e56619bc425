package graph_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// A changes cursor older than what the event log keeps is refused with a
// typed error on every transport and for every role, never answered with
// a gap; so is a pruned revision.
func TestRetention_ExpiredCursorIsATypedErrorEverywhere(t *testing.T) {
	l := newLive(t)
	var head struct{ ChangesCursor string }
	l.gql(t, l.viewer, `{ changesCursor }`, nil, &head)
	old := head.ChangesCursor
	id := l.createCompany(t, "Soon Pruned")
	l.publish(t, id, true)
	// The renames go to the published company's draft: pruning below takes
	// its newest public event (the publish) too, and the anonymous
	// changesCursor must still hand out a cursor that works.
	for _, n := range []string{"One", "Two", "Three"} {
		l.rename(t, id, n)
	}
	var revs struct {
		Node struct {
			Revisions struct{ Nodes []struct{ ID string } }
		}
	}
	l.gql(t, l.viewer, `query($id: ID!) { node(id: $id) { ... on Company { revisions(first: 10) { nodes { id } } } } }`, map[string]any{"id": id}, &revs)
	all := revs.Node.Revisions.Nodes
	if len(all) != 5 {
		t.Fatalf("%d revisions", len(all))
	}
	// Keep each item's newest revision only.
	if n, err := l.DB.PruneEvents(context.Background(), time.Now().Add(time.Hour), 1); err != nil || n < 4 {
		t.Fatalf("pruned %d events: %v", n, err)
	}

	isExpired := func(ext map[string]any) bool {
		return ext["code"] == "BAD_USER_INPUT" && ext["field"] == "since" && ext["reason"] == "CURSOR_EXPIRED"
	}
	const feed = `query($since: String) { changes(since: $since) { cursor changes { action } } }`
	for _, token := range []string{"", l.viewer, l.editor, l.admin} {
		// POST.
		res := l.try(t, token, feed, map[string]any{"since": old})
		if len(res.Errors) != 1 || !isExpired(res.Errors[0].Extensions) || !strings.Contains(res.Errors[0].Message, "full sync") {
			t.Errorf("POST (token %v): %s", token != "", res.Body)
		}
		// GET.
		q := url.Values{"query": {feed}, "variables": {`{"since":"` + old + `"}`}}
		req, _ := http.NewRequest(http.MethodGet, l.URL+"/graphql?"+q.Encode(), nil)
		req.Header.Set("Accept", "application/json")
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		if res := l.do(t, req); len(res.Errors) != 1 || !isExpired(res.Errors[0].Extensions) {
			t.Errorf("GET (token %v): %s", token != "", res.Body)
		}
		// The current cursor still works.
		var now struct{ ChangesCursor string }
		l.gql(t, token, `{ changesCursor }`, nil, &now)
		if res := l.try(t, token, feed, map[string]any{"since": now.ChangesCursor}); len(res.Errors) != 0 {
			t.Errorf("fresh cursor (token %v): %s", token != "", res.Body)
		}
	}

	// Subscriptions resuming from it: websocket and SSE.
	for _, sub := range []struct{ query string }{
		{`subscription($since: String) { contentChanged(since: $since) { action } }`},
		{`subscription($since: String) { itemChanged(id: "` + id + `", since: $since) { action } }`},
	} {
		for _, token := range []string{"", l.viewer} {
			var payload map[string]any
			if token != "" {
				payload = map[string]any{"authorization": "Bearer " + token}
			}
			ws, _ := dialWS(t, l.URL, nil, payload)
			ws.subscribe(t, "1", sub.query, map[string]any{"since": old})
			if m := ws.next(t); !strings.Contains(string(m.Payload), "CURSOR_EXPIRED") || !strings.Contains(string(m.Payload), "BAD_USER_INPUT") {
				t.Errorf("websocket %s (token %v): %s %s", sub.query, token != "", m.Type, m.Payload)
			}
			sse := openSSE(t, l.URL, token, sub.query, map[string]any{"since": old})
			if ev := sse.next(t); !strings.Contains(ev, "CURSOR_EXPIRED") || !strings.Contains(ev, `"since"`) {
				t.Errorf("SSE %s (token %v): %s", sub.query, token != "", ev)
			}
		}
	}

	// A pruned revision cannot be restored, and says why.
	res := l.try(t, l.editor, `mutation($r: ID!) { restoreRevision(revisionId: $r) { id } }`, map[string]any{"r": all[len(all)-1].ID})
	if len(res.Errors) != 1 || res.Errors[0].Extensions["reason"] != "REVISION_EXPIRED" || res.Errors[0].Extensions["code"] != "BAD_USER_INPUT" {
		t.Errorf("restoring a pruned revision: %s", res.Body)
	}
}
