package db

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// DefaultSearchCacheBytes is the search cache's memory budget when Options
// leaves it at zero: thousands of pages of hits.
const DefaultSearchCacheBytes = 4 << 20

// searchCache keeps the ranked hits of recent searches (rows, scores and
// snippets; not their items, which the row cache keeps), by the search's
// meaning: its words, types, index, page size and cursor. Ranking is what
// a search costs: FTS5's BM25 scores every item that holds every word
// ("framework" is in most of the large set), so a popular search asked
// again, with other fields, in another document or by another client,
// costs a lookup here and the items' key read instead.
//
// Commits empty it before the committing call returns: the searches of
// token holders (whose index and scores count drafts) at every commit that
// appended events, anonymous searches (of the published items' index) only
// at commits that appended public events, those that change what
// anonymous callers can read. Writes by other processes (PostgreSQL
// replicas, a second server on one SQLite file) empty it all as soon as
// they are heard of. A search keeps what it ranked only if its half was
// not emptied since it began (the generation is unchanged), so hits from
// an old snapshot are never kept after a write. Previews and searches
// inside a write transaction never use it.
type searchCache struct {
	budget int64

	mu sync.Mutex
	// gens are the generations of the two halves: anonymous searches
	// (searchPublicIndex) and token holders' (searchAllIndex).
	gens    [2]uint64
	used    int64
	entries map[string]*searchEntry

	hits, misses atomic.Int64
}

type searchEntry struct {
	hits []SearchHit
	size int64
	half int // the index gens[half] guards
}

// searchHalf is the half of the cache a search of index idx is kept in.
func searchHalf(idx string) int {
	if idx == searchPublicIndex {
		return 0
	}
	return 1
}

func newSearchCache(budget int64) *searchCache {
	if budget <= 0 {
		return nil
	}
	return &searchCache{budget: budget, entries: map[string]*searchEntry{}}
}

// searchCacheKey names one page of one search exactly: what searchFTS5
// and the PostgreSQL search read.
func searchCacheKey(sq searchQuery, idx string, codes []int, after *searchKey, limit int) string {
	var b strings.Builder
	b.WriteString(idx)
	b.WriteByte(0)
	b.WriteString(sq.fts5())
	b.WriteByte(0)
	for _, c := range codes {
		b.WriteByte(byte('0' + c))
	}
	b.WriteByte(0)
	b.WriteString(strconv.Itoa(limit))
	if after != nil {
		b.WriteByte(0)
		b.WriteString(strconv.FormatFloat(after.score, 'g', -1, 64))
		b.WriteByte(0)
		b.WriteString(strconv.FormatInt(after.rowID, 10))
	}
	return b.String()
}

// get returns a copy of the hits kept for key, a search of index idx
// (without items), and the generation to pass to put when there are none.
func (c *searchCache) get(idx, key string) ([]*SearchHit, uint64, bool) {
	c.mu.Lock()
	e, gen := c.entries[key], c.gens[searchHalf(idx)]
	c.mu.Unlock()
	if e == nil {
		c.misses.Add(1)
		return nil, gen, false
	}
	c.hits.Add(1)
	out := make([]*SearchHit, len(e.hits))
	copies := make([]SearchHit, len(e.hits))
	for i := range e.hits {
		copies[i] = e.hits[i]
		out[i] = &copies[i]
	}
	return out, gen, true
}

// put keeps hits for key, a search of index idx, unless its half was
// emptied since gen.
func (c *searchCache) put(idx, key string, gen uint64, hits []*SearchHit) {
	e := &searchEntry{hits: make([]SearchHit, len(hits)), size: int64(len(key)) + 64, half: searchHalf(idx)}
	for i, h := range hits {
		e.hits[i] = SearchHit{rowID: h.rowID, Score: h.Score, Snippet: h.Snippet}
		e.size += int64(len(h.Snippet)) + 64
	}
	if e.size > c.budget/8 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gens[e.half] != gen {
		return
	}
	if old := c.entries[key]; old != nil {
		c.used -= old.size
	}
	c.entries[key] = e
	c.used += e.size
	// Over budget: drop entries (in the map's random order) down to seven
	// eighths of it.
	for k, old := range c.entries {
		if c.used <= c.budget-c.budget/8 {
			break
		}
		delete(c.entries, k)
		c.used -= old.size
	}
}

// clear forgets the searches a commit may have changed: token holders',
// and anonymous ones too when public (nothing when the cache is off).
func (c *searchCache) clear(public bool) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gens[1]++
	if public {
		c.gens[0]++
	}
	for k, e := range c.entries {
		if public || e.half == 1 {
			delete(c.entries, k)
			c.used -= e.size
		}
	}
}

// usesSearchCache reports whether a search with ctx may use the search
// cache: not a preview, not inside a write transaction.
func (d *DB) usesSearchCache(ctx context.Context) bool {
	return d.searches != nil && !Previewing(ctx) && d.requestTx(ctx) == nil
}

// SearchCacheStats are the search cache's counters, for metrics.
type SearchCacheStats struct {
	Budget, Bytes int64
	Entries       int
	Hits, Misses  int64
}

// SearchCacheStats reports the search cache's size and counters (zero
// when it is off).
func (d *DB) SearchCacheStats() SearchCacheStats {
	c := d.searches
	if c == nil {
		return SearchCacheStats{}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return SearchCacheStats{Budget: c.budget, Bytes: c.used, Entries: len(c.entries), Hits: c.hits.Load(), Misses: c.misses.Load()}
}
