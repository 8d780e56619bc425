package db

import "testing"

// The relation cache's account of the log: through moves over this
// process's commits only while they are contiguous, in whatever order
// their reports arrive; a gap (another process's events) holds it until
// the watcher catches up; an entry is usable only between a touch of its
// link and what the read sees.
func TestRelCache_AccountOfTheLog(t *testing.T) {
	c := newRelCache(1<<20, 10)
	const link = "framework_companies.framework_id"
	c.put(link, 10, []int64{1}, map[int64]*relEntry{1: {ids: []int64{7}, versns: []int64{1}}})
	if _, ok := c.get(link, []int64{1}, 10); !ok {
		t.Fatal("entry read at 10 not usable at 10")
	}
	if _, ok := c.get(link, []int64{1}, 9); ok {
		t.Error("entry read at 10 used by a read at 9")
	}
	// Commits 13..14 report before 11..12: through waits, then takes both.
	c.committed(13, 14, []TypeName{TypeTrend})
	if c.through != 10 {
		t.Fatalf("through %d after a report past a gap", c.through)
	}
	if _, ok := c.get(link, []int64{1}, 14); ok {
		t.Error("used by a read that sees events not yet accounted for")
	}
	c.committed(11, 12, []TypeName{TypeFAQ})
	if c.through != 14 || len(c.pending) != 0 {
		t.Fatalf("through %d, pending %v", c.through, c.pending)
	}
	// Trend and FAQ events do not touch frameworks' companies.
	if _, ok := c.get(link, []int64{1}, 14); !ok {
		t.Error("an entry untouched by 11..14 not usable")
	}
	c.committed(15, 15, []TypeName{TypeCompany})
	if _, ok := c.get(link, []int64{1}, 15); ok {
		t.Error("an entry used after a company event")
	}
	if _, ok := c.get("trend_frameworks.trend_id", nil, 15); !ok {
		t.Error("no owners: nothing to miss")
	}
	// Another process writes 16..20; this one commits 21: a gap.
	c.committed(21, 21, []TypeName{TypeTrend})
	if c.through != 15 {
		t.Fatalf("through %d over a gap", c.through)
	}
	// The watcher sees 20: every link counts as changed at 20, and
	// through moves on over this process's 21, reported already.
	c.caughtUp(20)
	if c.through != 21 || c.touched[link] != 20 || len(c.pending) != 0 {
		t.Fatalf("after catching up to 20: through %d, touched %d, pending %v", c.through, c.touched[link], c.pending)
	}
	c.put(link, 21, []int64{1, 2}, map[int64]*relEntry{1: {ids: []int64{7}, versns: []int64{2}}})
	if got, ok := c.get(link, []int64{1, 2}, 21); !ok || len(got[2].ids) != 0 || got[1].versns[0] != 2 {
		t.Errorf("after catching up: %v, %v", got, ok)
	}
	// The watcher's report of this process's own commits changes nothing.
	c.committed(22, 23, []TypeName{TypeTrend})
	c.caughtUp(23)
	if _, ok := c.get(link, []int64{1}, 23); !ok {
		t.Error("the watcher's report of accounted-for events emptied the cache")
	}
	// A put read before a touch is refused.
	c.committed(24, 24, []TypeName{TypeFramework})
	c.put(link, 23, []int64{3}, nil)
	if _, ok := c.entries[relKey{link, 3}]; ok {
		t.Error("kept an entry read before a touch of its link")
	}
	// A gap nobody closes keeps a bounded number of reports.
	for i := int64(0); i < 2*maxPendingRanges; i++ {
		c.committed(1000+2*i, 1000+2*i, nil)
	}
	if len(c.pending) > maxPendingRanges {
		t.Errorf("%d reports kept", len(c.pending))
	}
	// Over budget, it starts again.
	small := newRelCache(4*relEntryOverhead, 0)
	for i := int64(1); i <= 10; i++ {
		small.put(link, 0, []int64{i}, nil)
	}
	if small.bytes > small.budget {
		t.Errorf("%d bytes, budget %d", small.bytes, small.budget)
	}
}
