package db_test

import (
	"context"
	"testing"

	"github.com/trendql/trendql/db"
	"github.com/trendql/trendql/db/dbtest"
)

func TestChangeCursor_RoundTripAndRefusals(t *testing.T) {
	for _, id := range []int64{0, 1, 42, 1 << 40} {
		got, err := db.DecodeChangeCursor("since", db.EncodeChangeCursor(id))
		if err != nil || got != id {
			t.Errorf("round trip %d: %d, %v", id, got, err)
		}
	}
	for _, bad := range []string{"", "x", db.EncodeID(db.TypeRevision, 3), "Y2hhbmdlczotMQ", "Y2hhbmdlczowMQ"} {
		if _, err := db.DecodeChangeCursor("since", bad); db.ErrorCode(err) != db.EINVALID {
			t.Errorf("DecodeChangeCursor(%q) err = %v, want EINVALID", bad, err)
		}
	}
}

// A cursor is an event id, and the log is in the file: it resumes after a
// restart exactly where it left off.
func TestChanges_CursorSurvivesRestart(t *testing.T) {
	ctx := context.Background()
	viewer := db.WithPrincipal(ctx, &db.Principal{TokenID: 1, Name: "v", Role: db.RoleViewer})
	path := dbtest.NewDSN(t)
	d := mustOpen(t, path, true)
	head, err := d.LastEventID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	c, err := d.CreateCompany(viewer, db.CompanyPatch{Name: ptr("Before Restart")})
	if err != nil {
		t.Fatal(err)
	}
	page, err := d.Changes(viewer, head, 100, db.ChangeFilter{})
	if err != nil || len(page.Events) != 1 {
		t.Fatalf("before restart: %+v, %v", page, err)
	}
	cursor := db.EncodeChangeCursor(page.Next)
	d.Close()

	d = mustOpen(t, path, true)
	if _, err := d.UpdateCompany(viewer, c.RowID, db.CompanyPatch{Name: ptr("After Restart")}, nil); err != nil {
		t.Fatal(err)
	}
	if err := d.SetStatus(viewer, db.TypeCompany, c.RowID, db.StatusPublished, nil); err != nil {
		t.Fatal(err)
	}
	after, err := db.DecodeChangeCursor("since", cursor)
	if err != nil {
		t.Fatal(err)
	}
	page, err = d.Changes(viewer, after, 100, db.ChangeFilter{})
	if err != nil || len(page.Events) != 2 || page.Events[0].Action != db.ActionUpdate || page.Events[1].Action != db.ActionPublish || page.HasMore {
		t.Fatalf("after restart: %+v, %v", page, err)
	}
	// Anonymous: the draft's update is invisible, the publication is not.
	page, err = d.Changes(ctx, after, 100, db.ChangeFilter{})
	if err != nil || len(page.Events) != 1 || page.Events[0].Action != db.ActionPublish {
		t.Fatalf("anonymous after restart: %+v, %v", page, err)
	}
	// Filters: by type, and by item.
	page, _ = d.Changes(viewer, 0, 1000, db.ChangeFilter{Types: []db.TypeName{db.TypeCompany}, ItemID: &c.RowID})
	if len(page.Events) != 3 {
		t.Errorf("item filter: %d events, want 3", len(page.Events))
	}
}
