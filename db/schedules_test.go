package db_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trendql/trendql/db"
	"github.com/trendql/trendql/db/dbtest"
)

// clock is a test clock: a DB's Now reads it, tests move it.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock(d ...*db.DB) *clock {
	c := &clock{t: time.Now().UTC()}
	for _, x := range d {
		x.Now = c.Now
	}
	return c
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func at(t time.Time) db.ScheduleChange { return db.ScheduleChange{Set: true, At: &t} }

var keep = db.ScheduleChange{}

func scheduleOf(t *testing.T, d *db.DB, typ db.TypeName, id int64) db.Schedule {
	t.Helper()
	m, err := d.SchedulesOf(asEditor(), []db.ItemKey{{Type: typ, ID: id}})
	if err != nil {
		t.Fatal(err)
	}
	if s := m[db.ItemKey{Type: typ, ID: id}]; s != nil {
		return *s
	}
	return db.Schedule{}
}

func str(p *string) string {
	if p == nil {
		return "<nil>"
	}
	return *p
}

// A schedule is applied once due, by the publish code itself: the item is
// published by an event whose actor is "schedule" and whose token is the
// one that set it; the schedule is gone and the log says who set it and
// which revision applying it made. Setting it changed neither the item's
// version nor the event log.
func TestSchedules_AppliedWhenDueAsAnOrdinaryChange(t *testing.T) {
	d := MustOpenDB(t)
	clk := newClock(d)
	ctx := asEditor()
	co, err := d.CreateCompany(ctx, db.CompanyPatch{Name: ptr("Scheduled Co")})
	if err != nil {
		t.Fatal(err)
	}
	events, _ := d.LastEventID(ctx)
	pub, unpub := clk.Now().Add(time.Hour), clk.Now().Add(2*time.Hour)
	if err := d.SetSchedule(ctx, db.TypeCompany, co.RowID, at(pub), at(unpub)); err != nil {
		t.Fatal(err)
	}
	if n, _ := d.LastEventID(ctx); n != events {
		t.Fatalf("setting a schedule appended events: %d → %d", events, n)
	}
	if got, _ := d.Company(ctx, co.RowID); got.Version != co.Version {
		t.Fatalf("setting a schedule changed the version: %d → %d", co.Version, got.Version)
	}
	s := scheduleOf(t, d, db.TypeCompany, co.RowID)
	if str(s.PublishAt) != pub.Truncate(time.Millisecond).Format("2006-01-02T15:04:05.000Z07:00") || s.UnpublishAt == nil {
		t.Fatalf("schedule read back: %s %s", str(s.PublishAt), str(s.UnpublishAt))
	}
	if anon, _ := d.SchedulesOf(context.Background(), []db.ItemKey{{Type: db.TypeCompany, ID: co.RowID}}); len(anon) != 0 {
		t.Fatal("an anonymous caller sees a schedule")
	}

	if a, f, err := d.ApplyDueSchedules(context.Background(), nil); err != nil || a+f != 0 {
		t.Fatalf("nothing is due yet: applied %d, failed %d, %v", a, f, err)
	}
	clk.Add(time.Hour)
	if a, f, err := d.ApplyDueSchedules(context.Background(), nil); err != nil || a != 1 || f != 0 {
		t.Fatalf("applied %d, failed %d, %v; want 1 applied", a, f, err)
	}
	got, err := d.Company(ctx, co.RowID)
	if err != nil || got.Status != db.StatusPublished || got.Version != co.Version+1 {
		t.Fatalf("after the schedule: %v %+v", err, got)
	}
	revs, err := d.Revisions(ctx, db.TypeCompany, co.RowID, db.PageArgs{First: ptr(1)})
	if err != nil {
		t.Fatal(err)
	}
	e := revs.Items[0]
	if e.Action != db.ActionPublish || e.Actor != db.ScheduleActor || e.TokenID == nil || *e.TokenID != 1 {
		t.Fatalf("the event: %s by %q token %v", e.Action, e.Actor, e.TokenID)
	}
	s = scheduleOf(t, d, db.TypeCompany, co.RowID)
	if s.PublishAt != nil || s.UnpublishAt == nil {
		t.Fatalf("after publishing: publishAt %s unpublishAt %s", str(s.PublishAt), str(s.UnpublishAt))
	}
	log, err := d.ScheduleLog(ctx, db.ScheduleLogFilter{Item: &db.ItemKey{Type: db.TypeCompany, ID: co.RowID}}, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(log) != 3 || log[0].Outcome != db.ScheduleApplied || log[0].EventID == nil || *log[0].EventID != e.ID ||
		log[0].Actor != "test" || log[0].TokenID == nil || log[1].Outcome != db.ScheduleScheduled || log[2].Outcome != db.ScheduleScheduled {
		t.Fatalf("schedule log: %+v", log)
	}

	clk.Add(time.Hour)
	if a, _, err := d.ApplyDueSchedules(context.Background(), nil); err != nil || a != 1 {
		t.Fatalf("unpublish: applied %d, %v", a, err)
	}
	if got, _ := d.Company(ctx, co.RowID); got.Status != db.StatusDraft {
		t.Fatalf("after the unpublish schedule: %s", got.Status)
	}
	if s := scheduleOf(t, d, db.TypeCompany, co.RowID); s.PublishAt != nil || s.UnpublishAt != nil {
		t.Fatal("a schedule is left after both were applied")
	}
}

// Every refusal is EINVALID or ENOTFOUND naming its field, and changes
// nothing: the schedules and the log are as they were.
func TestSchedules_Refusals(t *testing.T) {
	d := MustOpenDB(t)
	clk := newClock(d)
	ctx := asEditor()
	co, err := d.CreateCompany(ctx, db.CompanyPatch{Name: ptr("Refused Co")})
	if err != nil {
		t.Fatal(err)
	}
	now := clk.Now()
	if err := d.SetSchedule(ctx, db.TypeCompany, co.RowID, keep, at(now.Add(2*time.Hour))); err != nil {
		t.Fatal(err)
	}
	clear := db.ScheduleChange{Set: true}
	cases := []struct {
		name       string
		typ        db.TypeName
		id         int64
		pub, unpub db.ScheduleChange
		code       string
		field      string
	}{
		{"publish in the past", db.TypeCompany, co.RowID, at(now.Add(-time.Minute)), keep, db.EINVALID, "input.publishAt"},
		{"unpublish in the past", db.TypeCompany, co.RowID, keep, at(now.Add(-2 * time.Second)), db.EINVALID, "input.unpublishAt"},
		{"unpublish before the publish given", db.TypeCompany, co.RowID, at(now.Add(3 * time.Hour)), at(now.Add(time.Hour)), db.EINVALID, "input.unpublishAt"},
		{"unpublish at the publish given", db.TypeCompany, co.RowID, at(now.Add(time.Hour)), at(now.Add(time.Hour)), db.EINVALID, "input.unpublishAt"},
		{"publish after the pending unpublish", db.TypeCompany, co.RowID, at(now.Add(3 * time.Hour)), keep, db.EINVALID, "input.publishAt"},
		{"year past 9999", db.TypeCompany, co.RowID, at(time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)), clear, db.EINVALID, "input.publishAt"},
		{"unknown item", db.TypeCompany, 99999, at(now.Add(time.Hour)), keep, db.ENOTFOUND, ""},
		{"not a content type", db.TypeToken, 1, at(now.Add(time.Hour)), keep, db.ENOTFOUND, ""},
	}
	before := dumpSchedules(t, d)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := d.SetSchedule(ctx, c.typ, c.id, c.pub, c.unpub)
			var e *db.Error
			if db.ErrorCode(err) != c.code || c.field != "" && (!asError(err, &e) || e.Field != c.field) {
				t.Fatalf("got %v, want %s on %q", err, c.code, c.field)
			}
			if after := dumpSchedules(t, d); after != before {
				t.Fatalf("a refusal changed the schedules:\n%s\n%s", before, after)
			}
		})
	}
	// Within the skew a time just past is accepted, and due at once.
	if err := d.SetSchedule(ctx, db.TypeCompany, co.RowID, at(now.Add(-500*time.Millisecond)), keep); err != nil {
		t.Fatalf("a time within the clock skew: %v", err)
	}
	if a, _, err := d.ApplyDueSchedules(context.Background(), nil); err != nil || a != 1 {
		t.Fatalf("applied %d, %v", a, err)
	}
}

// dumpSchedules is the pending schedules and the log, as text.
func dumpSchedules(t *testing.T, d *db.DB) string {
	t.Helper()
	c := dbtest.RawSQL(t, d.Path())
	rows, err := c.Query("SELECT type, item_id, action, due_at FROM schedules ORDER BY type, item_id, action")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var s strings.Builder
	for rows.Next() {
		var typ, id, action, due any
		if err := rows.Scan(&typ, &id, &action, &due); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&s, "%s%v%s%v;", typ, id, action, due)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := c.QueryRow("SELECT count(*) FROM schedule_log").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%s|%d", s.String(), n)
}

// A schedule that cannot be applied is dropped and logged as FAILED with
// the reason; it is not tried again, and the schedules after it are
// applied all the same. Deleting an item drops its schedules (CANCELLED).
func TestSchedules_FailureIsDroppedAndLogged(t *testing.T) {
	d := MustOpenDB(t)
	clk := newClock(d)
	ctx := asEditor()
	bad, err := d.CreateCompany(ctx, db.CompanyPatch{Name: ptr("Broken Co")})
	if err != nil {
		t.Fatal(err)
	}
	good, err := d.CreateCompany(ctx, db.CompanyPatch{Name: ptr("Fine Co")})
	if err != nil {
		t.Fatal(err)
	}
	gone, err := d.CreateCompany(ctx, db.CompanyPatch{Name: ptr("Gone Co")})
	if err != nil {
		t.Fatal(err)
	}
	for i, id := range []int64{bad.RowID, good.RowID, gone.RowID} {
		if err := d.SetSchedule(ctx, db.TypeCompany, id, at(clk.Now().Add(time.Duration(i+1)*time.Minute)), keep); err != nil {
			t.Fatal(err)
		}
	}
	// A row the rules of today refuse (an older trendql let it in, say):
	// publishing it fails validation.
	c := dbtest.RawSQL(t, d.Path())
	if _, err := c.Exec(fmt.Sprintf("UPDATE companies SET name = '' WHERE id = %d", bad.RowID)); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Delete(ctx, db.TypeCompany, gone.RowID, nil); err != nil {
		t.Fatal(err)
	}
	clk.Add(time.Hour)
	if a, f, err := d.ApplyDueSchedules(context.Background(), nil); err != nil || a != 1 || f != 1 {
		t.Fatalf("applied %d, failed %d, %v; want 1 and 1", a, f, err)
	}
	if got, _ := d.Company(ctx, good.RowID); got.Status != db.StatusPublished {
		t.Fatal("the schedule after a failed one was not applied")
	}
	if a, f, err := d.ApplyDueSchedules(context.Background(), nil); err != nil || a+f != 0 {
		t.Fatalf("a failed schedule was tried again: applied %d, failed %d, %v", a, f, err)
	}
	failed, err := d.ScheduleLog(ctx, db.ScheduleLogFilter{Outcomes: []string{db.ScheduleFailed}}, 10)
	if err != nil || len(failed) != 1 || failed[0].ItemID != bad.RowID || failed[0].Message == "" {
		t.Fatalf("failed entries: %v %+v", err, failed)
	}
	t.Logf("failure recorded: %s", failed[0].Message)
	cancelled, err := d.ScheduleLog(ctx, db.ScheduleLogFilter{Item: &db.ItemKey{Type: db.TypeCompany, ID: gone.RowID}, Outcomes: []string{db.ScheduleCancelled}}, 10)
	if err != nil || len(cancelled) != 1 || cancelled[0].Slug != "gone-co" {
		t.Fatalf("cancelled entries: %v %+v", err, cancelled)
	}
	if _, err := d.ScheduleLog(ctx, db.ScheduleLogFilter{}, db.MaxScheduleLog+1); db.ErrorCode(err) != db.EINVALID {
		t.Fatalf("an oversized page: %v", err)
	}
}

// Two handles on one database file (two server processes) applying the
// same many due schedules at once apply each exactly once: one PUBLISH
// event per item, one APPLIED entry per schedule.
func TestSchedules_TwoProcessesApplyEachOnce(t *testing.T) {
	path := dbtest.NewDSN(t)
	a := mustOpen(t, path, true)
	b := mustOpen(t, path, false)
	clk := newClock(a, b)
	ctx := asEditor()
	const n = 60
	ids := make([]int64, n)
	for i := range ids {
		co, err := a.CreateCompany(ctx, db.CompanyPatch{Name: ptr(fmt.Sprintf("Twin %d", i))})
		if err != nil {
			t.Fatal(err)
		}
		ids[i] = co.RowID
		if err := a.SetSchedule(ctx, db.TypeCompany, co.RowID, at(clk.Now().Add(time.Minute)), keep); err != nil {
			t.Fatal(err)
		}
	}
	clk.Add(time.Hour)
	var wg sync.WaitGroup
	counts := make([][2]int, 4)
	errs := make([]error, 4)
	for i := range 4 {
		wg.Go(func() {
			d := a
			if i%2 == 1 {
				d = b
			}
			counts[i][0], counts[i][1], errs[i] = d.ApplyDueSchedules(context.Background(), nil)
		})
	}
	wg.Wait()
	total := 0
	for i := range counts {
		if errs[i] != nil || counts[i][1] != 0 {
			t.Fatalf("worker %d: %v, %d failed", i, errs[i], counts[i][1])
		}
		total += counts[i][0]
	}
	if total != n {
		t.Fatalf("applied %d in all, want %d", total, n)
	}
	pubs, err := a.CountEvents(ctx, db.EventFilter{Actions: []string{db.ActionPublish}})
	if err != nil {
		t.Fatal(err)
	}
	seedPubs := countSeedPublishes(t)
	if pubs-seedPubs != n {
		t.Fatalf("%d PUBLISH events, want %d", pubs-seedPubs, n)
	}
	applied, err := a.ScheduleLog(ctx, db.ScheduleLogFilter{Outcomes: []string{db.ScheduleApplied}}, 100)
	if err != nil || len(applied) != n {
		t.Fatalf("%d APPLIED entries, want %d (%v)", len(applied), n, err)
	}
	seen := map[int64]bool{}
	for _, e := range applied {
		if seen[e.ItemID] || e.EventID == nil {
			t.Fatalf("item %d applied twice or without a revision", e.ItemID)
		}
		seen[e.ItemID] = true
	}
}

// countSeedPublishes is how many PUBLISH events a fresh database has.
func countSeedPublishes(t *testing.T) int {
	t.Helper()
	d := MustOpenDB(t)
	n, err := d.CountEvents(asEditor(), db.EventFilter{Actions: []string{db.ActionPublish}})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// RunSchedules applies what is due at once when it starts (what fell due
// while no server ran), wakes at once for a schedule this process sets,
// and returns when its context ends.
func TestSchedules_RunAppliesAtStartAndOnTime(t *testing.T) {
	d := MustOpenDB(t)
	ctx := asEditor()
	co, err := d.CreateCompany(ctx, db.CompanyPatch{Name: ptr("Overdue Co")})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.SetSchedule(ctx, db.TypeCompany, co.RowID, at(time.Now()), keep); err != nil {
		t.Fatal(err)
	}
	later, err := d.CreateCompany(ctx, db.CompanyPatch{Name: ptr("Later Co")})
	if err != nil {
		t.Fatal(err)
	}
	run, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		// An interval far longer than the test: only the start, the due
		// time and the wake-up can apply anything.
		d.RunSchedules(run, time.Hour, nil)
	}()
	waitFor(t, "the overdue schedule applied at start", func() bool {
		c, _ := d.Company(ctx, co.RowID)
		return c.Status == db.StatusPublished
	})
	if err := d.SetSchedule(ctx, db.TypeCompany, later.RowID, at(time.Now().Add(300*time.Millisecond)), keep); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the new schedule applied on time", func() bool {
		c, _ := d.Company(ctx, later.RowID)
		return c.Status == db.StatusPublished
	})
	stop()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("RunSchedules did not return after its context ended")
	}
}

// waitFor polls cond until it holds, failing after a generous time (the
// machine may be busy).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// The schedule log is append-only except for retention, which prunes its
// lines at the event log's age; pending schedules are not touched.
func TestSchedules_LogIsPrunedOnlyByRetention(t *testing.T) {
	d := MustOpenDB(t)
	clk := newClock(d)
	ctx := asEditor()
	co, err := d.CreateCompany(ctx, db.CompanyPatch{Name: ptr("Pruned Co")})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.SetSchedule(ctx, db.TypeCompany, co.RowID, at(clk.Now().Add(48*time.Hour)), keep); err != nil {
		t.Fatal(err)
	}
	c := dbtest.RawSQL(t, d.Path())
	if _, err := c.Exec("DELETE FROM schedule_log"); err == nil {
		t.Fatal("the schedule log let a DELETE through")
	}
	if _, err := c.Exec("UPDATE schedule_log SET actor = 'someone else'"); err == nil {
		t.Fatal("the schedule log let an UPDATE through")
	}
	if n, err := d.PruneScheduleLog(context.Background(), clk.Now().Add(-time.Hour)); err != nil || n != 0 {
		t.Fatalf("pruned %d young lines, %v", n, err)
	}
	clk.Add(24 * time.Hour)
	if err := d.SetSchedule(ctx, db.TypeCompany, co.RowID, keep, at(clk.Now().Add(48*time.Hour))); err != nil {
		t.Fatal(err)
	}
	if n, err := d.PruneScheduleLog(context.Background(), clk.Now().Add(-time.Hour)); err != nil || n != 1 {
		t.Fatalf("pruned %d lines, want the one older than the cutoff: %v", n, err)
	}
	log, err := d.ScheduleLog(ctx, db.ScheduleLogFilter{}, 10)
	if err != nil || len(log) != 1 || log[0].Action != db.ActionUnpublish {
		t.Fatalf("left: %v %+v", err, log)
	}
	if s := scheduleOf(t, d, db.TypeCompany, co.RowID); s.PublishAt == nil || s.UnpublishAt == nil {
		t.Fatal("pruning the log dropped a pending schedule")
	}
}

// A publishAt on a published item publishes its pending draft, as the
// draft is when the time comes; with no draft then, there is nothing to
// publish: the schedule fails, is logged, and the live version stays.
func TestSchedules_PublishTheDraftOfAPublishedItem(t *testing.T) {
	d := MustOpenDB(t)
	clk := newClock(d)
	ctx := asEditor()
	anon := context.Background()
	trs, err := d.Trends(anon, nil, nil, db.PageArgs{})
	if err != nil {
		t.Fatal(err)
	}
	drafted, plain := trs.Items[0], trs.Items[1]
	if _, err := d.UpdateTrend(ctx, drafted.RowID, db.TrendPatch{Summary: ptr("Planned for Monday")}, nil); err != nil {
		t.Fatal(err)
	}
	for _, x := range []*db.Trend{drafted, plain} {
		if err := d.SetSchedule(ctx, db.TypeTrend, x.RowID, at(clk.Now().Add(time.Minute)), keep); err != nil {
			t.Fatal(err)
		}
	}
	// Edited again after scheduling: the draft as it is at the time goes live.
	if _, err := d.UpdateTrend(ctx, drafted.RowID, db.TrendPatch{Summary: ptr("Planned for Monday, final")}, nil); err != nil {
		t.Fatal(err)
	}
	if live, _ := d.Trend(anon, drafted.RowID); live.Summary != drafted.Summary {
		t.Fatalf("the draft is live before its time: %q", live.Summary)
	}
	clk.Add(2 * time.Minute)
	if a, f, err := d.ApplyDueSchedules(anon, nil); err != nil || a != 1 || f != 1 {
		t.Fatalf("applied %d, failed %d, %v; want 1 and 1", a, f, err)
	}
	if live, _ := d.Trend(anon, drafted.RowID); live.Summary != "Planned for Monday, final" {
		t.Errorf("after its publishAt the live summary is %q", live.Summary)
	}
	if has, _ := d.DraftedIDs(ctx, db.TypeTrend, []int64{drafted.RowID}); has[drafted.RowID] {
		t.Error("the published draft is still pending")
	}
	if live, _ := d.Trend(anon, plain.RowID); live.Version != plain.Version {
		t.Errorf("the trend with nothing to publish changed: %+v", live)
	}
	failed, err := d.ScheduleLog(ctx, db.ScheduleLogFilter{Outcomes: []string{db.ScheduleFailed}}, 10)
	if err != nil || len(failed) != 1 || failed[0].ItemID != plain.RowID || !strings.Contains(failed[0].Message, "nothing to publish") {
		t.Fatalf("failed entries: %v %+v", err, failed)
	}
}
