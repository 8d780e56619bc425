package graph_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trendql/trendql/webhook"
)

// hookReceiver records webhook payloads per webhook id.
type hookReceiver struct {
	mu   sync.Mutex
	got  map[string][]webhook.Payload
	raws map[string][]string
}

// newHookReceiver starts a webhook receiver that records every payload,
// closed at the test's end.
func newHookReceiver(t *testing.T) (*hookReceiver, *httptest.Server) {
	rec := &hookReceiver{got: map[string][]webhook.Payload{}, raws: map[string][]string{}}
	rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var p webhook.Payload
		json.Unmarshal(body, &p)
		rec.mu.Lock()
		rec.got[p.WebhookID] = append(rec.got[p.WebhookID], p)
		rec.raws[p.WebhookID] = append(rec.raws[p.WebhookID], string(body))
		rec.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(rc.Close)
	return rec, rc
}

func (h *hookReceiver) events(id string) ([]webhook.Payload, []string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]webhook.Payload(nil), h.got[id]...), append([]string(nil), h.raws[id]...)
}

// TestDraftActivity_ReachesNoPublicChannel is the repro of issue 11 items
// 6 and 7, run through every channel anonymous parties have: the changes
// feed and changesCursor, websocket and SSE subscriptions (contentChanged
// and itemChanged), and a webhook with includeDrafts: false. An editor
// creates a draft company, links a published trend to it and edits the
// trend's summary (both in the trend's draft), publishes the trend, and
// deletes the draft company (which unlinks it). Anonymous channels must
// carry only the publication, in its public form (no draft slug, no actor,
// only the public fields), and the public cursor must not move on the
// draft activity; viewers and a webhook with drafts hear everything.
func TestDraftActivity_ReachesNoPublicChannel(t *testing.T) {
	l := newLive(t)
	ctx := context.Background()
	rec, rc := newHookReceiver(t)
	var pub, all struct {
		CreateWebhook struct{ Webhook struct{ ID string } }
	}
	l.gql(t, l.admin, `mutation($u: String!) { createWebhook(input: {url: $u, includeDrafts: false}) { webhook { id } } }`, map[string]any{"u": rc.URL}, &pub)
	l.gql(t, l.admin, `mutation($u: String!) { createWebhook(input: {url: $u}) { webhook { id } } }`, map[string]any{"u": rc.URL}, &all)
	// The receiver is on 127.0.0.1: allowed explicitly.
	disp := webhook.New(webhook.Options{DB: l.DB, AllowPrivateTargets: true, BackoffBase: 10 * time.Millisecond})
	disp.Start()
	defer disp.Shutdown(ctx)

	var tr struct{ Trend struct{ ID string } }
	l.gql(t, "", `{ trend(slug: "serverless-computing") { id } }`, nil, &tr)
	var start struct{ ChangesCursor string }
	l.gql(t, "", `{ changesCursor }`, nil, &start)

	// Every subscription replays from the head now, so none can miss a
	// change however long it takes to start.
	since := l.head(t)["since"]
	fields := `action itemType itemId revision { actor changedFields document }`
	feedQ := `subscription($since: String) { contentChanged(since: $since) { ` + fields + ` } }`
	itemQ := `subscription($id: ID!, $since: String) { itemChanged(id: $id, since: $since) { ` + fields + ` } }`
	feedVars := map[string]any{"since": since}
	itemVars := map[string]any{"id": tr.Trend.ID, "since": since}
	anonWS, _ := dialWS(t, l.URL, nil, nil)
	anonWS.subscribe(t, "feed", feedQ, feedVars)
	anonWS.subscribe(t, "item", itemQ, itemVars)
	anonSSE := openSSE(t, l.URL, "", feedQ, feedVars)
	anonItemSSE := openSSE(t, l.URL, "", itemQ, itemVars)
	viewerWS, _ := dialWS(t, l.URL, http.Header{"Authorization": {"Bearer " + l.viewer}}, nil)
	viewerWS.subscribe(t, "feed", feedQ, feedVars)

	stealth := l.createCompany(t, "Stealth Startup")
	l.gql(t, l.editor, `mutation($t: ID!, $c: ID!) { linkTrendCompany(trendId: $t, companyId: $c) { id } }`,
		map[string]any{"t": tr.Trend.ID, "c": stealth}, nil)
	l.gql(t, l.editor, `mutation($t: ID!) { updateTrend(id: $t, input: {summary: "Public summary"}) { id } }`, map[string]any{"t": tr.Trend.ID}, nil)

	// Draft-only activity: the public cursor and the anonymous feed's
	// cursor stay where they were.
	var mid struct{ ChangesCursor string }
	l.gql(t, "", `{ changesCursor }`, nil, &mid)
	if mid.ChangesCursor != start.ChangesCursor {
		t.Errorf("changesCursor moved on draft-only activity: %s → %s", start.ChangesCursor, mid.ChangesCursor)
	}
	if f := l.changes(t, "", map[string]any{"since": start.ChangesCursor}); len(f.Changes) != 0 || f.Cursor != start.ChangesCursor {
		t.Errorf("anonymous feed after draft-only activity: %s, cursor %s", summary(f.Changes), f.Cursor)
	}
	var viewerHead struct{ ChangesCursor string }
	l.gql(t, l.viewer, `{ changesCursor }`, nil, &viewerHead)
	if viewerHead.ChangesCursor == start.ChangesCursor {
		t.Error("the viewer's cursor did not move")
	}

	l.publish(t, tr.Trend.ID, true) // the draft goes live: public
	l.deleteCompany(t, stealth)     // unlinks it from the trend: draft activity again
	uber := idOf(t, l.env, "company", "uber")
	// A last public change, to know the streams caught up.
	l.gql(t, l.editor, `mutation($id: ID!) { updateCompany(id: $id, input: {name: "Uber Technologies"}) { id } publish(id: $id) { id } }`,
		map[string]any{"id": uber}, nil)

	checkPublic := func(channel string, payloads []string, wantItems int) {
		t.Helper()
		if len(payloads) != wantItems {
			t.Errorf("%s: %d changes, want %d", channel, len(payloads), wantItems)
		}
		for _, p := range payloads {
			for _, leak := range []string{"stealth", "Stealth", `"editor"`, `"LINK"`, `"UNLINK"`, `"CREATE"`, `"DELETE"`} {
				if strings.Contains(p, leak) {
					t.Errorf("%s leaks %s: %s", channel, leak, p)
				}
			}
		}
		if len(payloads) > 0 {
			first := payloads[0]
			if !strings.Contains(first, `"changedFields":["summary"]`) || !strings.Contains(first, "Public summary") || !strings.Contains(first, `"companies":[`) {
				t.Errorf("%s: the public edit is not in its public form: %s", channel, first)
			}
		}
	}
	var got []string
	for len(got) < 2 {
		m := anonWS.next(t)
		if m.ID == "feed" {
			got = append(got, string(m.Payload))
		} else {
			checkPublic("anonymous itemChanged (websocket)", []string{string(m.Payload)}, 1)
		}
	}
	checkPublic("anonymous contentChanged (websocket)", got, 2)
	checkPublic("anonymous contentChanged (SSE)", []string{anonSSE.next(t), anonSSE.next(t)}, 2)
	checkPublic("anonymous itemChanged (SSE)", []string{anonItemSSE.next(t)}, 1)
	anonWS.quiet(t)

	feed := l.changes(t, "", map[string]any{"since": start.ChangesCursor})
	var feedRaw []string
	for _, c := range feed.Changes {
		b, _ := json.Marshal(map[string]any{"action": c.Action, "document": c.Revision.Document, "actor": c.Revision.Actor})
		feedRaw = append(feedRaw, string(b))
	}
	if summary(feed.Changes) == "" || len(feed.Changes) != 2 || feed.Changes[0].Action != "PUBLISH" {
		t.Errorf("anonymous feed: %s", summary(feed.Changes))
	}
	for _, raw := range feedRaw {
		if strings.Contains(raw, "stealth") || strings.Contains(raw, `"actor":"editor"`) {
			t.Errorf("anonymous feed leaks: %s", raw)
		}
	}
	var changed struct {
		Changes struct {
			Changes []struct {
				Revision struct{ ChangedFields []string }
			}
		}
	}
	l.gql(t, "", `query($s: String) { changes(since: $s) { changes { revision { changedFields } } } }`, map[string]any{"s": start.ChangesCursor}, &changed)
	if c := changed.Changes.Changes; len(c) == 0 || strings.Join(c[0].Revision.ChangedFields, ",") != "summary" {
		t.Errorf("anonymous changedFields: %+v", c)
	}

	viewerGot := viewerWS.changes(t, 8)
	var actions []string
	for _, c := range viewerGot {
		actions = append(actions, c.Action)
	}
	if s := strings.Join(actions, " "); s != "CREATE LINK UPDATE PUBLISH UNLINK DELETE UPDATE PUBLISH" {
		t.Errorf("viewer changes: %s", s)
	}

	waitFor(t, "the webhooks to receive their changes", func() bool {
		p, _ := rec.events(pub.CreateWebhook.Webhook.ID)
		a, _ := rec.events(all.CreateWebhook.Webhook.ID)
		return len(p) >= 2 && len(a) >= 8
	})
	// Both webhooks' deliveries of an event are queued in one transaction:
	// once the one with drafts has all eight, the other's are all queued.
	var d struct {
		Webhook struct{ Deliveries struct{ TotalCount int } }
	}
	l.gql(t, l.admin, `query($id: ID!) { webhook(id: $id) { deliveries { totalCount } } }`, map[string]any{"id": pub.CreateWebhook.Webhook.ID}, &d)
	if d.Webhook.Deliveries.TotalCount != 2 {
		t.Errorf("the webhook without drafts has %d deliveries, want 2", d.Webhook.Deliveries.TotalCount)
	}
	pubGot, pubRaw := rec.events(pub.CreateWebhook.Webhook.ID)
	checkPublic("webhook without drafts", pubRaw, 2)
	for _, p := range pubGot {
		if p.Event == nil || p.Event.Actor != "" {
			t.Errorf("webhook without drafts: actor in %+v", p.Event)
		}
	}
	if len(pubGot) > 0 && (pubGot[0].Event.Action != "PUBLISH" || strings.Join(pubGot[0].Event.ChangedFields, ",") != "summary") {
		t.Errorf("webhook without drafts: %+v", pubGot[0].Event)
	}
	// The webhook's document is the feed's, byte for byte.
	if len(pubGot) > 0 && len(feed.Changes) > 0 && string(pubGot[0].Event.Document) != string(feed.Changes[0].Revision.Document) {
		t.Errorf("webhook document %s differs from the feed's %s", pubGot[0].Event.Document, feed.Changes[0].Revision.Document)
	}
	allGot, _ := rec.events(all.CreateWebhook.Webhook.ID)
	sawLink := false
	for _, p := range allGot {
		if p.Event.Action == "LINK" {
			sawLink = p.Event.Actor == "editor" && strings.Contains(string(p.Event.Document), "stealth-startup")
		}
	}
	if !sawLink {
		t.Error("the webhook with drafts did not get the LINK with its actor and the draft's slug")
	}
}
