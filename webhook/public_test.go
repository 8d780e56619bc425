package webhook_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/trendql/trendql/db"
	"github.com/trendql/trendql/db/dbtest"
	"github.com/trendql/trendql/webhook"
)

// TestDispatch_WithoutDraftsSendsThePublicForm is the repro of issue 11
// item 6 at the dispatcher: a LINK from a published trend to a draft
// company is not a public change, so a webhook with includeDrafts: false
// gets no delivery for it; nor is the edit of the trend (its draft); the
// publication that follows comes without the actor and without the draft's
// slug, its changed fields only the public ones, while a webhook with
// drafts gets everything as recorded.
func TestDispatch_WithoutDraftsSendsThePublicForm(t *testing.T) {
	ctx := context.Background()
	d := openDB(t, dbtest.NewDSN(t))
	if err := d.Seed(ctx); err != nil {
		t.Fatal(err)
	}
	rc := newReceiver(t, func(_ int, w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) })
	no := false
	public := hook(t, d, rc.URL+"/public", db.WebhookInput{IncludeDrafts: &no})
	full := hook(t, d, rc.URL+"/full", db.WebhookInput{})
	start(t, d, webhook.Options{})

	trend, err := d.TrendBySlug(editor, "serverless-computing")
	if err != nil {
		t.Fatal(err)
	}
	draft := company(t, d, "Stealth Startup")
	if err := d.Link(editor, db.RelTrendCompany, trend.RowID, draft.RowID, true); err != nil {
		t.Fatal(err)
	}
	summary := "Public summary"
	if _, err := d.UpdateTrend(editor, trend.RowID, db.TrendPatch{Summary: &summary}, nil); err != nil {
		t.Fatal(err)
	}
	if err := d.Publish(editor, db.TypeTrend, trend.RowID, nil); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the deliveries", func() bool {
		a, _ := deliveries(t, d, full.ID)
		return len(a) == 4 && a[3].Status == db.DeliverySucceeded && len(rc.requests()) >= 5
	})
	pub, _ := deliveries(t, d, public.ID)
	if len(pub) != 1 {
		t.Fatalf("the webhook without drafts has %d deliveries, want the publication only", len(pub))
	}
	var sawPublic, sawLink bool
	for _, r := range rc.requests() {
		var p webhook.Payload
		if err := json.Unmarshal(r.Body, &p); err != nil || p.Event == nil {
			t.Fatalf("payload %s", r.Body)
		}
		body := string(r.Body)
		switch p.WebhookID {
		case db.EncodeID(db.TypeWebhook, public.ID):
			sawPublic = true
			if p.Event.Action != db.ActionPublish || p.Event.Actor != "" || strings.Contains(body, "stealth") ||
				strings.Join(p.Event.ChangedFields, ",") != "summary" || !strings.Contains(string(p.Event.Document), "Public summary") {
				t.Errorf("the webhook without drafts got %s", body)
			}
		case db.EncodeID(db.TypeWebhook, full.ID):
			if p.Event.Action == db.ActionLink {
				sawLink = p.Event.Actor == "test" && strings.Contains(string(p.Event.Document), "stealth-startup")
			}
		}
	}
	if !sawPublic || !sawLink {
		t.Errorf("public delivery seen %v, full LINK with actor and slug seen %v", sawPublic, sawLink)
	}
}
