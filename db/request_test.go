package db_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/trendql/trendql/db"
)

// Writes made with a request's context commit together: reads made with
// it see them before the commit, readers outside see nothing until it, and
// the events share one transaction id, the first one's id.
func TestRequest_WritesCommitTogether(t *testing.T) {
	d := MustOpenDB(t)
	ctx, req := d.BeginRequest(asEditor())
	a, err := d.CreateCompany(ctx, db.CompanyPatch{Name: ptr("Req A")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.CompanyBySlug(ctx, "req-a"); err != nil {
		t.Errorf("the request does not read its own write: %v", err)
	}
	if _, err := d.CompanyBySlug(asEditor(), "req-a"); !db.IsNotFound(err) {
		t.Errorf("a reader outside the request sees its uncommitted write: %v", err)
	}
	b, err := d.UpdateCompany(ctx, a.RowID, db.CompanyPatch{Name: ptr("Req A2")}, nil)
	if err != nil || b.Name != "Req A2" {
		t.Fatalf("update in the request: %v %+v", err, b)
	}
	if err := req.Commit(); err != nil {
		t.Fatal(err)
	}
	evs, err := d.Revisions(asEditor(), db.TypeCompany, a.RowID, db.PageArgs{})
	if err != nil || len(evs.Items) != 2 {
		t.Fatalf("revisions: %v %d", err, len(evs.Items))
	}
	if evs.Items[0].TxID != evs.Items[1].ID || evs.Items[1].TxID != evs.Items[1].ID {
		t.Errorf("transaction ids %d, %d; want both %d", evs.Items[0].TxID, evs.Items[1].TxID, evs.Items[1].ID)
	}
	if _, err := d.CreateCompany(ctx, db.CompanyPatch{Name: ptr("Too late")}); err == nil {
		t.Error("a write after the request's commit was accepted")
	}
}

// A request whose context ends before its commit writes nothing: the
// request timeout bounds how long it holds the writer.
func TestRequest_ContextEndingRollsBack(t *testing.T) {
	d := MustOpenDB(t)
	base, cancel := context.WithCancel(asEditor())
	ctx, req := d.BeginRequest(base)
	if _, err := d.CreateCompany(ctx, db.CompanyPatch{Name: ptr("Cancelled")}); err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := req.Commit(); err == nil {
		t.Fatal("commit after the context ended succeeded")
	}
	if _, err := d.CompanyBySlug(asEditor(), "cancelled"); !db.IsNotFound(err) {
		t.Errorf("the cancelled request's write is there: %v", err)
	}
	// The writer is free again.
	if _, err := d.CreateCompany(asEditor(), db.CompanyPatch{Name: ptr("After")}); err != nil {
		t.Fatal(err)
	}
}

// A dry-run import inside a request rolls back only its own writes (a
// savepoint); the request's other writes commit.
func TestRequest_DryRunInsideARequestUndoesOnlyItself(t *testing.T) {
	d := MustOpenDB(t)
	ctx, req := d.BeginRequest(asEditor())
	if _, err := d.CreateCompany(ctx, db.CompanyPatch{Name: ptr("Kept One")}); err != nil {
		t.Fatal(err)
	}
	c := &db.Content{Format: db.ContentFormat, Companies: []db.CompanyDoc{{Slug: "dry-run-co", Name: "Dry Run Co", Status: db.StatusDraft}}}
	if _, err := d.Import(ctx, c, true); err != nil {
		t.Fatal(err)
	}
	if _, err := d.CreateCompany(ctx, db.CompanyPatch{Name: ptr("Kept Two")}); err != nil {
		t.Fatal(err)
	}
	if err := req.Commit(); err != nil {
		t.Fatal(err)
	}
	for slug, want := range map[string]bool{"kept-one": true, "kept-two": true, "dry-run-co": false} {
		_, err := d.CompanyBySlug(asEditor(), slug)
		if (err == nil) != want {
			t.Errorf("%s present = %v, want %v", slug, err == nil, want)
		}
	}
}

// Unique values are checked at commit: a swap works, and a value left
// held twice fails the commit with EINVALID carrying the blame of the
// write that took it, and nothing is written.
func TestRequest_UniqueValuesCheckedAtCommit(t *testing.T) {
	d := MustOpenDB(t)
	trs, err := d.Trends(asEditor(), nil, nil, db.PageArgs{})
	if err != nil {
		t.Fatal(err)
	}
	t1, t2 := trs.Items[0], trs.Items[1]
	ctx, req := d.BeginRequest(asEditor())
	if _, err := d.UpdateTrend(ctx, t1.RowID, db.TrendPatch{Rank: ptr(t2.Rank)}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := d.UpdateTrend(ctx, t2.RowID, db.TrendPatch{Rank: ptr(t1.Rank)}, nil); err != nil {
		t.Fatal(err)
	}
	// The trends are published: the edits are drafts, and publishing the
	// two in the same request swaps the live ranks.
	for _, x := range []*db.Trend{t1, t2} {
		if err := d.Publish(ctx, db.TypeTrend, x.RowID, nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := req.Commit(); err != nil {
		t.Fatalf("swap: %v", err)
	}
	n1, _ := d.Trend(asEditor(), t1.RowID)
	n2, _ := d.Trend(asEditor(), t2.RowID)
	if n1.Rank != t2.Rank || n2.Rank != t1.Rank {
		t.Errorf("after the swap ranks are %d, %d", n1.Rank, n2.Rank)
	}

	ctx, req = d.BeginRequest(asEditor())
	if _, err := d.UpdateTrend(db.WithBlame(ctx, "field b"), t1.RowID, db.TrendPatch{Rank: ptr(n2.Rank)}, nil); err != nil {
		t.Fatal(err)
	}
	err = req.Commit()
	var de *db.Error
	if !errors.As(err, &de) || de.Code != db.EINVALID || de.Field != "input.rank" || db.Blamed(err) != "field b" {
		t.Fatalf("commit with a rank held twice: %v (blame %v)", err, db.Blamed(err))
	}
	m1, _ := d.Trend(asEditor(), t1.RowID)
	if m1.Rank != n1.Rank || m1.Version != n1.Version {
		t.Errorf("the failed request changed trend 1: %+v", m1)
	}
	if p, _ := d.Trend(db.WithPreview(asEditor()), t1.RowID); p.Version != n1.Version {
		t.Errorf("the failed request left a draft of trend 1: %+v", p)
	}
}

// A new item can take the rank of one deleted later in the same request.
func TestRequest_TakeTheRankOfAnItemDeletedLater(t *testing.T) {
	d := MustOpenDB(t)
	trs, err := d.Trends(asEditor(), nil, nil, db.PageArgs{})
	if err != nil {
		t.Fatal(err)
	}
	old := trs.Items[0]
	ctx, req := d.BeginRequest(asEditor())
	cat := db.CategoryTooling
	nt, err := d.CreateTrend(ctx, db.TrendPatch{Name: ptr("New First"), Rank: ptr(old.Rank), Category: &cat})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Delete(ctx, db.TypeTrend, old.RowID, nil); err != nil {
		t.Fatal(err)
	}
	if err := req.Commit(); err != nil {
		t.Fatalf("commit: %v", err)
	}
	got, err := d.Trend(asEditor(), nt.RowID)
	if err != nil || got.Rank != old.Rank {
		t.Fatalf("the new trend: %+v %v", got, err)
	}
	del, err := d.Revisions(asEditor(), db.TypeTrend, old.RowID, db.PageArgs{})
	if err != nil {
		t.Fatal(err)
	}
	if e := del.Items[0]; e.Action != db.ActionDelete || e.Slug != old.Slug || !strings.Contains(string(e.Document), `"rank":`+strconv.Itoa(old.Rank)) {
		t.Errorf("the deletion records %s %s %s, want the item's real slug and rank", e.Action, e.Slug, e.Document)
	}
}

// A slug taken and then given up again in the same request goes back to
// the item that had it: the request changes nothing for that item.
func TestRequest_AValueTakenAndGivenUpReturns(t *testing.T) {
	d := MustOpenDB(t)
	g, err := d.CompanyBySlug(asEditor(), "google")
	if err != nil {
		t.Fatal(err)
	}
	m, err := d.CompanyBySlug(asEditor(), "microsoft")
	if err != nil {
		t.Fatal(err)
	}
	ctx, req := d.BeginRequest(asEditor())
	if _, err := d.UpdateCompany(ctx, m.RowID, db.CompanyPatch{Slug: ptr("google")}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := d.UpdateCompany(ctx, m.RowID, db.CompanyPatch{Slug: ptr("microsoft-corp")}, nil); err != nil {
		t.Fatal(err)
	}
	if err := req.Commit(); err != nil {
		t.Fatalf("commit: %v", err)
	}
	g2, err := d.Company(asEditor(), g.RowID)
	if err != nil || g2.Slug != "google" || g2.Version != g.Version {
		t.Errorf("google after the request: %+v %v, want slug google at version %d", g2, err, g.Version)
	}
}
