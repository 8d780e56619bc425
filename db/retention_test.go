package db_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/trendql/trendql/db"
	"github.com/trendql/trendql/db/dbtest"
)

// wantReason fails unless err is an EINVALID *db.Error on field with reason.
func wantReason(t *testing.T, what string, err error, field, reason string) {
	t.Helper()
	var de *db.Error
	if !errors.As(err, &de) || de.Code != db.EINVALID || de.Field != field || de.Reason != reason {
		t.Errorf("%s: %v (%#v), want EINVALID on %s with reason %s", what, err, de, field, reason)
	}
}

func TestRetention_PrunesOldEventsAndExpiresCursors(t *testing.T) {
	ctx := context.Background()
	d := mustOpen(t, dbtest.NewDSN(t), false)
	ed := db.WithPrincipal(ctx, &db.Principal{Name: "ed", Role: db.RoleEditor})
	start := time.Now().Add(-48 * time.Hour)
	d.Now = func() time.Time { return start }
	if err := d.Seed(ctx); err != nil {
		t.Fatal(err)
	}

	c, err := d.CreateCompany(ed, db.CompanyPatch{Name: ptr("Renamed 0")})
	if err != nil {
		t.Fatal(err)
	}
	oldCursor, _ := d.LastEventID(ctx)
	firstRevision := oldCursor
	for i := 1; i <= 14; i++ {
		if _, err := d.UpdateCompany(ed, c.RowID, db.CompanyPatch{Name: ptr(fmt.Sprintf("Renamed %d", i))}, nil); err != nil {
			t.Fatal(err)
		}
	}
	// An active webhook holds back what it has not been told about, and a
	// delivery holds its event.
	hook, err := d.CreateWebhook(ctx, db.WebhookInput{URL: ptr("https://hooks.example.com/x")})
	if err != nil {
		t.Fatal(err)
	}
	d.Now = time.Now
	if _, err := d.UpdateCompany(ed, c.RowID, db.CompanyPatch{Name: ptr("Young")}, nil); err != nil {
		t.Fatal(err)
	}
	head, _ := d.LastEventID(ctx)
	if n, err := d.PruneEvents(ctx, time.Now().Add(-time.Hour), 3); err != nil || n != 0 {
		t.Fatalf("with an active webhook behind, pruned %d (%v), want 0", n, err)
	}
	if _, err := d.EnqueueDeliveries(ctx, 1000); err != nil {
		t.Fatal(err)
	}

	// Keep 3 revisions: the company's 16 events lose the 13 old ones (its
	// 3 newest stay, one of them young); seeded items keep their one event.
	n, err := d.PruneEvents(ctx, time.Now().Add(-time.Hour), 3)
	if err != nil || n != 13 {
		t.Fatalf("pruned %d events (%v), want 13", n, err)
	}
	revs, err := d.Revisions(ctx, db.TypeCompany, c.RowID, db.PageArgs{First: ptr(100)})
	if err != nil || len(revs.Items) != 3 || revs.Items[0].ID != head {
		t.Fatalf("revisions after pruning: %d (%v)", len(revs.Items), err)
	}
	for _, e := range revs.Items {
		if len(e.Document) == 0 || string(e.Document) == "null" {
			t.Errorf("kept revision %d has no document", e.ID)
		}
	}
	pruned, err := d.PrunedThrough(ctx)
	if err != nil || pruned != revs.Items[2].ID-1 {
		t.Errorf("pruned through %d (%v), want %d", pruned, err, revs.Items[2].ID-1)
	}

	// The old cursor has expired: a clear, typed error, for anonymous
	// callers and token holders alike, never a page with a gap.
	for _, cctx := range []context.Context{ctx, db.WithPrincipal(ctx, viewer)} {
		_, err := d.Changes(cctx, oldCursor, 10, db.ChangeFilter{})
		wantReason(t, "changes from a pruned cursor", err, "since", db.ReasonCursorExpired)
		_, err = d.Changes(cctx, pruned-1, 0, db.ChangeFilter{})
		wantReason(t, "changes (first: 0) from a pruned cursor", err, "since", db.ReasonCursorExpired)
		// The company is a draft: anonymous callers see none of it.
		visible := cctx != ctx
		if p, err := d.Changes(cctx, pruned, 10, db.ChangeFilter{}); err != nil || (len(p.Events) > 0) != visible {
			t.Errorf("changes from the horizon: %v", err)
		}
		// No cursor: from where the log is whole.
		if p, err := d.Changes(cctx, 0, 100, db.ChangeFilter{}); err != nil || (len(p.Events) > 0) != visible || (visible && p.Events[0].ID <= pruned) {
			t.Errorf("changes without a cursor: %v", err)
		}
	}
	// A pruned revision: clear error when asked for or restored.
	_, err = d.Event(ctx, firstRevision)
	wantReason(t, "a pruned revision", err, "revisionId", db.ReasonRevisionExpired)
	_, _, err = d.Restore(ed, firstRevision, nil)
	wantReason(t, "restoring a pruned revision", err, "revisionId", db.ReasonRevisionExpired)
	if _, err := d.Event(ctx, head+1000); !db.IsNotFound(err) {
		t.Errorf("a revision that never was: %v, want not found", err)
	}
	// The delivery's event survives whatever the policy.
	dl, err := d.Deliveries(ctx, hook.ID, nil, db.PageArgs{})
	if err != nil || len(dl.Items) != 1 {
		t.Fatalf("deliveries: %v", err)
	}
	if _, err := d.PruneEvents(ctx, time.Now().Add(time.Hour), 1); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Event(ctx, *dl.Items[0].EventID); err != nil {
		t.Errorf("the event of a delivery was pruned: %v", err)
	}
	// Ids and versions go on from the log's memory: a new company gets a
	// fresh id, and the pruned one's next version follows its last.
	if _, err := d.UpdateCompany(ed, c.RowID, db.CompanyPatch{Name: ptr("Later")}, nil); err != nil {
		t.Fatal(err)
	}
	if got, _ := d.Company(db.WithPrincipal(ctx, viewer), c.RowID); got == nil || got.Version != 17 {
		t.Errorf("version after pruning: %+v, want 17", got)
	}
	if _, err := d.PruneEvents(ctx, time.Now(), 0); db.ErrorCode(err) != db.EINVALID {
		t.Errorf("keep 0: %v, want EINVALID", err)
	}
}
