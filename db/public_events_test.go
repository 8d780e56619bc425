package db_test

import (
	"context"
	"strings"
	"testing"

	"github.com/trendql/trendql/db"
	"github.com/trendql/trendql/db/dbtest"
)

// TestPublicEvents_Rules walks an item's life and checks, change by change,
// whether anonymous callers see it, with which fields, and that the public
// cursor moves exactly when they do (issue 11 items 6 and 7).
func TestPublicEvents_Rules(t *testing.T) {
	ctx := context.Background()
	ed := asEditor()
	viewer := db.WithPrincipal(ctx, &db.Principal{TokenID: 2, Name: "v", Role: db.RoleViewer})
	d := mustOpen(t, dbtest.NewDSN(t), true)
	trend, err := d.TrendBySlug(viewer, "serverless-computing")
	if err != nil {
		t.Fatal(err)
	}
	uber, err := d.CompanyBySlug(viewer, "uber")
	if err != nil {
		t.Fatal(err)
	}
	var draft, pub *db.Company
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	steps := []struct {
		name    string
		do      func()
		public  bool
		changed string // the public changed fields, when public
		absent  string // must not appear in the public document
	}{
		{"create a draft", func() {
			c, err := d.CreateCompany(ed, db.CompanyPatch{Name: ptr("Stealth Startup")})
			must(err)
			draft = c
		}, false, "", ""},
		{"edit a draft", func() {
			_, err := d.UpdateCompany(ed, draft.RowID, db.CompanyPatch{Name: ptr("Stealth Startup Two")}, nil)
			must(err)
		}, false, "", ""},
		{"link a published trend to a draft", func() {
			must(d.Link(ed, db.RelTrendCompany, trend.RowID, draft.RowID, true))
		}, false, "", ""},
		{"edit a published trend (its draft)", func() {
			_, err := d.UpdateTrend(ed, trend.RowID, db.TrendPatch{Summary: ptr("Public summary")}, nil)
			must(err)
		}, false, "", ""},
		{"publish the draft of a trend that links a draft", func() {
			must(d.Publish(ed, db.TypeTrend, trend.RowID, nil))
		}, true, "summary", "stealth"},
		{"discard a draft", func() {
			_, err := d.UpdateTrend(ed, trend.RowID, db.TrendPatch{Summary: ptr("Never live")}, nil)
			must(err)
			must(d.DiscardDraft(ed, db.TypeTrend, trend.RowID, nil))
		}, false, "", ""},
		{"one edit that changes the summary and links a draft, published", func() {
			ids := []int64{uber.RowID, draft.RowID}
			_, err := d.UpdateTrend(ed, trend.RowID, db.TrendPatch{Summary: ptr("Another"), Companies: &ids}, nil)
			must(err)
			must(d.Publish(ed, db.TypeTrend, trend.RowID, nil))
		}, true, "summary,companies", "stealth"},
		{"publish a company", func() {
			c, err := d.CreateCompany(ed, db.CompanyPatch{Name: ptr("Launch Co")})
			must(err)
			pub = c
			must(d.SetStatus(ed, db.TypeCompany, c.RowID, db.StatusPublished, nil))
		}, true, "status", ""},
		{"link a published trend to a published company, published", func() {
			must(d.Link(ed, db.RelTrendCompany, trend.RowID, pub.RowID, true))
			must(d.Publish(ed, db.TypeTrend, trend.RowID, nil))
		}, true, "companies", "stealth"},
		{"unpublish", func() {
			must(d.SetStatus(ed, db.TypeCompany, pub.RowID, db.StatusDraft, nil))
		}, true, "status", ""},
		{"edit the unpublished company", func() {
			_, err := d.UpdateCompany(ed, pub.RowID, db.CompanyPatch{Name: ptr("Launch Co Secret")}, nil)
			must(err)
		}, false, "", ""},
		{"delete a draft linked from a published trend", func() {
			_, err := d.Delete(ed, db.TypeCompany, draft.RowID, nil)
			must(err)
		}, false, "", ""},
		{"delete a published company", func() {
			_, err := d.Delete(ed, db.TypeCompany, uber.RowID, nil)
			must(err)
		}, true, "companies", ""}, // the trend's UNLINK; the DELETE follows
	}
	for _, s := range steps {
		before, err := d.ChangesCursor(ctx)
		must(err)
		all, err := d.ChangesCursor(viewer)
		must(err)
		s.do()
		after, err := d.ChangesCursor(ctx)
		must(err)
		page, err := d.Changes(ctx, before, 100, db.ChangeFilter{})
		must(err)
		everything, err := d.Changes(viewer, all, 100, db.ChangeFilter{})
		must(err)
		if len(everything.Events) == 0 {
			t.Fatalf("%s: no event at all", s.name)
		}
		if !s.public {
			if after != before || len(page.Events) != 0 || page.Next != before {
				t.Errorf("%s: public cursor %d → %d, %d public events", s.name, before, after, len(page.Events))
			}
			continue
		}
		if after == before || len(page.Events) == 0 || page.Next != after {
			t.Errorf("%s: public cursor %d → %d (page next %d), %d public events", s.name, before, after, page.Next, len(page.Events))
			continue
		}
		e := page.Events[0]
		if got := strings.Join(e.Changed(), ","); got != s.changed {
			t.Errorf("%s: public changed fields %q, want %q", s.name, got, s.changed)
		}
		if e.Actor != "" || e.TokenID != nil || !e.Projected() {
			t.Errorf("%s: actor %q token %v projected %v", s.name, e.Actor, e.TokenID, e.Projected())
		}
		if s.absent != "" && strings.Contains(string(e.Document), s.absent) {
			t.Errorf("%s: public document holds %q: %s", s.name, s.absent, e.Document)
		}
		if v := everything.Events[0]; v.Actor != "test" || v.Projected() {
			t.Errorf("%s: the viewer's event is redacted: actor %q", s.name, v.Actor)
		}
	}
}
