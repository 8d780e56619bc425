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
// Any commit that appended events empties it, as do writes by other
// processes (PostgreSQL replicas, a second server on one SQLite file),
// before the committing call returns. A search keeps what it ranked only
// if no commit happened since it began (the generation is unchanged), so
// hits from an old snapshot are never kept after a write. Previews and
// searches inside a write transaction never use it.
type searchCache struct {
	budget int64

	mu      sync.Mutex
	gen     uint64
	used    int64
	entries map[string]*searchEntry

	hits, misses atomic.Int64
}

type searchEntry struct {
	hits []SearchHit
	size int64
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

// get returns a copy of the hits kept for key (without items), and the
// generation to pass to put when there are none.
func (c *searchCache) get(key string) ([]*SearchHit, uint64, bool) {
	c.mu.Lock()
	e, gen := c.entries[key], c.gen
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

// put keeps hits for key, unless a commit happened since gen.
func (c *searchCache) put(key string, gen uint64, hits []*SearchHit) {
	e := &searchEntry{hits: make([]SearchHit, len(hits)), size: int64(len(key)) + 64}
	for i, h := range hits {
		e.hits[i] = SearchHit{rowID: h.rowID, Score: h.Score, Snippet: h.Snippet}
		e.size += int64(len(h.Snippet)) + 64
	}
	if e.size > c.budget/8 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen != gen {
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

// clear forgets every search, for a commit (nothing when the cache is off).
func (c *searchCache) clear() {
	if c == nil {
		return
	}
	c.mu.Lock()
	c.gen++
	if len(c.entries) > 0 {
		clear(c.entries)
		c.used = 0
	}
	c.mu.Unlock()
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
