package db

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"
)

// relCache keeps, on SQLite, what anonymous relation reads found: for a
// link (one side of a link table) and an owner, the ids and versions of
// its visible related rows, in order. With the row cache holding those
// rows at those versions, a relation is answered without reading its
// links (q2's 100 links of 20 frameworks were most of its CPU).
//
// It is exact by the event log, whose ids grow in commit order on SQLite
// (one writer). Every content change appends events in its transaction:
//   - through is the newest event id up to which every event is accounted
//     for. This process's commits report their event ids (from the
//     transaction's first to the newest), and through moves on over each
//     one contiguous with it; another process's events leave a gap, which
//     only the watcher closes (it sees the newest id change and calls
//     caughtUp, which counts every link as changed at that id).
//   - touched holds, per link, the newest accounted-for event of a type on
//     either side of it (a conservative test: any event of the owner's or
//     the related type may change the link's rows, their order or their
//     visibility).
//   - An entry records the newest event id read before its links were
//     read (at). A read that sees the newest event id e uses an entry only
//     if e <= through (every event it can see is accounted for) and
//     touched <= at <= e: no event that may change it lies between what
//     it was read from and what the read sees.
//
// An entry read from a later state than its at is harmless: a change after
// at raises touched above it once accounted for, and a read that can see
// that change's event is past through until then.
type relCache struct {
	mu      sync.RWMutex
	through int64
	pending map[int64]int64 // committed ranges first -> last, not yet contiguous with through
	touched map[string]int64
	entries map[relKey]*relEntry
	bytes   int64
	budget  int64

	hits, misses atomic.Int64
}

type relKey struct {
	link string // the link's table and owner column
	from int64
}

type relEntry struct {
	at          int64
	ids, versns []int64
}

// maxPendingRanges bounds the commits kept while a gap in the log is open.
const maxPendingRanges = 4096

// relEntryOverhead estimates an entry's memory besides its ids: the key,
// the entry, the map slot.
const relEntryOverhead = 128

func newRelCache(budget int64, through int64) *relCache {
	return &relCache{
		through: through,
		pending: map[int64]int64{},
		touched: map[string]int64{},
		entries: map[relKey]*relEntry{},
		budget:  budget,
	}
}

// linkTypes are the content types on each side of the link tables: an
// event of either may change a link's rows.
var linkTypes = map[string][2]TypeName{
	"framework_companies": {TypeFramework, TypeCompany},
	"trend_companies":     {TypeTrend, TypeCompany},
	"trend_frameworks":    {TypeTrend, TypeFramework},
	"faq_frameworks":      {TypeFAQ, TypeFramework},
	"faq_trends":          {TypeFAQ, TypeTrend},
}

// relLinkName names one side of a link.
func relLinkName(l link) string { return l.table + "." + l.from }

// committed accounts for this process's commit of events first..last of
// the given types (nil: any).
func (c *relCache) committed(first, last int64, types []TypeName) {
	if c == nil || first <= 0 || last < first {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.touch(last, types)
	if len(c.pending) >= maxPendingRanges {
		// A gap nobody closes (no watcher runs): through stays where it
		// is whatever is kept, so keep nothing rather than grow.
		clear(c.pending)
	}
	c.pending[first] = last
	c.advance()
}

// advance moves through over the reported commits contiguous with it,
// and forgets those it has passed. c.mu is held.
func (c *relCache) advance() {
	for {
		l, ok := c.pending[c.through+1]
		if !ok {
			break
		}
		delete(c.pending, c.through+1)
		c.through = l
	}
	for f, l := range c.pending {
		if l <= c.through {
			delete(c.pending, f)
		}
	}
}

// caughtUp accounts for every event up to id, written by anyone: the
// watcher saw the log reach id and knows nothing of what changed.
func (c *relCache) caughtUp(id int64) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if id <= c.through {
		return // this process's own commits, accounted for with their types
	}
	c.touch(id, nil)
	c.through = id
	c.advance()
}

// touch marks the links with a side of these types (nil: all) changed at
// id. c.mu is held.
func (c *relCache) touch(id int64, types []TypeName) {
	for name, sides := range linkSides {
		if types != nil && !slices.Contains(types, sides[0]) && !slices.Contains(types, sides[1]) {
			continue
		}
		if c.touched[name] < id {
			c.touched[name] = id
		}
	}
}

// linkSides are both sides of every link table (named as relLinkName
// names them), each with the types of the table's two sides.
var linkSides = func() map[string][2]TypeName {
	column := map[TypeName]string{TypeFramework: "framework_id", TypeCompany: "company_id", TypeTrend: "trend_id", TypeFAQ: "faq_id"}
	out := map[string][2]TypeName{}
	for table, sides := range linkTypes {
		for _, t := range sides {
			out[table+"."+column[t]] = sides
		}
	}
	return out
}()

// get returns the related ids and versions of every owner, if it has all
// of them usable by a read that sees the newest event id e.
func (c *relCache) get(link string, owners []int64, e int64) (map[int64]*relEntry, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if e > c.through {
		return nil, false
	}
	touched := c.touched[link]
	out := make(map[int64]*relEntry, len(owners))
	for _, id := range owners {
		r := c.entries[relKey{link, id}]
		if r == nil || r.at < touched || r.at > e {
			return nil, false
		}
		out[id] = r
	}
	return out, true
}

// put keeps what a read found for each owner, read after it saw the
// newest event id at; owners without related rows are kept empty.
func (c *relCache) put(link string, at int64, owners []int64, found map[int64]*relEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if at < c.touched[link] {
		return // changed since: no read could use it
	}
	for _, id := range owners {
		r := found[id]
		if r == nil {
			r = &relEntry{}
		}
		r.at = at
		k := relKey{link, id}
		if old := c.entries[k]; old != nil {
			c.bytes -= relEntrySize(old)
		}
		c.entries[k] = r
		c.bytes += relEntrySize(r)
	}
	if c.bytes > c.budget {
		// Over budget: start again. Entries are small and quickly read
		// again; the row cache's budget is what bounds the rows.
		c.entries = map[relKey]*relEntry{}
		c.bytes = 0
	}
}

func relEntrySize(r *relEntry) int64 { return relEntryOverhead + 16*int64(len(r.ids)) }

// usesRelCache reports whether a relation read with ctx may use the
// relation cache: an anonymous read (rows filtered to published ones)
// that may use the row cache.
func (d *DB) usesRelCache(ctx context.Context) bool {
	return d.rels != nil && !canSeeDrafts(ctx) && d.usesRowCache(ctx)
}

// cachedRelated is related through the relation cache (see relCache): the
// newest event id, then, when every owner's entry is usable and the row
// cache has every row at its version, no other statement; otherwise the
// row cache's read of the link, kept for the next.
func cachedRelated[T any](ctx context.Context, d *DB, tb *table[T], l link, ids []int64, read func() ([]T, []int64, error)) (map[int64][]T, error) {
	e, err := d.LastEventID(ctx)
	if err != nil {
		return nil, err
	}
	name := relLinkName(l)
	c := d.rels
	if got, ok := c.get(name, ids, e); ok {
		out := make(map[int64][]T, len(ids))
		n := 0
		for _, id := range ids {
			list, hit := relRows(d, tb, got[id])
			if !hit {
				out = nil
				break
			}
			if len(list) > 0 { // as a read of the links answers
				out[id] = list
			}
			n += len(list)
		}
		if out != nil {
			c.hits.Add(1)
			d.rows.hits.Add(int64(n))
			return out, nil
		}
	}
	c.misses.Add(1)
	items, from, err := read()
	if err != nil {
		return nil, err
	}
	out := make(map[int64][]T, len(ids))
	found := make(map[int64]*relEntry, len(ids))
	for i, v := range items {
		out[from[i]] = append(out[from[i]], v)
		r := found[from[i]]
		if r == nil {
			r = &relEntry{}
			found[from[i]] = r
		}
		m := tb.meta(v)
		r.ids = append(r.ids, m.RowID)
		r.versns = append(r.versns, int64(m.Version))
	}
	c.put(name, e, ids, found)
	return out, nil
}

// relRows takes an entry's rows from the row cache at their versions
// (nil for none); false when one is not there.
func relRows[T any](d *DB, tb *table[T], r *relEntry) ([]T, bool) {
	var out []T
	for i, id := range r.ids {
		v, ok := d.rows.get(tb.typ, id, r.versns[i])
		if !ok {
			return nil, false
		}
		out = append(out, tb.clone(v.(T)))
	}
	return out, true
}

// lastEventSeqSQL reads the newest event id ever given out (SQLite's
// AUTOINCREMENT counter, which pruning never lowers).
const lastEventSeqSQL = "SELECT coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'events'), 0)"
