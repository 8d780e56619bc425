package db

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
)

// DefaultRowCacheBytes is the row cache's memory budget when Options
// leaves it at zero: room for every item of the benchmark's large set
// (about 20 MB decoded), far more than a site's hot pages need.
const DefaultRowCacheBytes = 32 << 20

// rowCache keeps decoded content rows (companies, frameworks, trends,
// FAQs, as their content tables hold them: the live version of a
// published item, the working copy of one never published) by type and
// id, with the version they were read at. A read first asks the database
// only which rows it wants and at which versions (two integers a row,
// where decoding every column was most of an uncached read's time), takes
// those it has, and reads the rest in full with the same statement, then
// keeps them.
//
// The event log invalidates it exactly: every committed event removes its
// item, once before the commit (under the writer, so no later write can
// commit first) and once after. A reader may keep what it read only if no
// invalidation of that type happened since its statement began (the type's
// epoch is unchanged), so a row read from an old snapshot is never kept
// after its item changed. Writes by other processes (PostgreSQL replicas,
// a second server on one SQLite file) are known only by type: they empty
// that type. Versions guard what is left: a row is used only at the
// version the database just returned for it.
//
// Drafts and previews never use it (previews read other tables), nor do
// reads inside a write transaction (they may see uncommitted rows).
type rowCache struct {
	budget    int64
	used      atomic.Int64
	hits      atomic.Int64
	misses    atomic.Int64
	evictions atomic.Int64
	// types holds one shard per content type, fixed at construction.
	types map[TypeName]*rowShard
	order []*rowShard // the same shards, in a fixed order (eviction)
	// evicting serialises eviction sweeps.
	evicting sync.Mutex
}

type rowShard struct {
	mu    sync.RWMutex
	epoch uint64
	rows  map[int64]*cachedRow
}

type cachedRow struct {
	version int64
	value   any
	size    int64
	// used is set by a hit and cleared by an eviction sweep, which takes
	// rows not used since its last pass first (the CLOCK algorithm).
	used atomic.Bool
}

// cachedTypes are the types whose rows the cache keeps.
var cachedTypes = []TypeName{TypeCompany, TypeFramework, TypeTrend, TypeFAQ}

func newRowCache(budget int64) *rowCache {
	if budget <= 0 {
		return nil
	}
	c := &rowCache{budget: budget, types: map[TypeName]*rowShard{}}
	for _, t := range cachedTypes {
		s := &rowShard{rows: map[int64]*cachedRow{}}
		c.types[t] = s
		c.order = append(c.order, s)
	}
	return c
}

// RowCacheStats are the row cache's counters, for metrics.
type RowCacheStats struct {
	Budget, Bytes, Rows     int64
	Hits, Misses, Evictions int64
	// The relation cache's relation reads answered from memory and read
	// from the database (SQLite only; see relcache.go).
	RelationHits, RelationMisses int64
}

// RowCacheStats reports the row cache's size and counters (zero when it
// is off).
func (d *DB) RowCacheStats() RowCacheStats {
	c := d.rows
	if c == nil {
		return RowCacheStats{}
	}
	var n int64
	for _, s := range c.order {
		s.mu.RLock()
		n += int64(len(s.rows))
		s.mu.RUnlock()
	}
	st := RowCacheStats{Budget: c.budget, Bytes: c.used.Load(), Rows: n,
		Hits: c.hits.Load(), Misses: c.misses.Load(), Evictions: c.evictions.Load()}
	if r := d.rels; r != nil {
		st.RelationHits, st.RelationMisses = r.hits.Load(), r.misses.Load()
	}
	return st
}

func (c *rowCache) epoch(t TypeName) uint64 {
	s := c.types[t]
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.epoch
}

// get returns the row of t with this id if the cache has it at version.
func (c *rowCache) get(t TypeName, id, version int64) (any, bool) {
	s := c.types[t]
	s.mu.RLock()
	r := s.rows[id]
	s.mu.RUnlock()
	if r == nil || r.version != version {
		return nil, false
	}
	if !r.used.Load() {
		r.used.Store(true)
	}
	return r.value, true
}

// put keeps value as the row of t with this id at version, unless t was
// invalidated since epoch (the reader's statement may predate a commit).
func (c *rowCache) put(t TypeName, epoch uint64, id, version int64, value any, size int64) {
	if size > c.budget/8 {
		return
	}
	s := c.types[t]
	s.mu.Lock()
	if s.epoch != epoch {
		s.mu.Unlock()
		return
	}
	if old := s.rows[id]; old != nil {
		c.used.Add(-old.size)
	}
	s.rows[id] = &cachedRow{version: version, value: value, size: size}
	used := c.used.Add(size)
	s.mu.Unlock()
	if used > c.budget {
		c.evict()
	}
}

// evict removes rows until the cache uses at most seven eighths of its
// budget: first those not used since the last sweep, then any.
func (c *rowCache) evict() {
	if !c.evicting.TryLock() {
		return // another sweep is running
	}
	defer c.evicting.Unlock()
	target := c.budget - c.budget/8
	for pass := 0; pass < 2 && c.used.Load() > target; pass++ {
		for _, s := range c.order {
			s.mu.Lock()
			for id, r := range s.rows {
				if c.used.Load() <= target {
					break
				}
				if pass == 0 && r.used.Swap(false) {
					continue
				}
				delete(s.rows, id)
				c.used.Add(-r.size)
				c.evictions.Add(1)
			}
			s.mu.Unlock()
		}
	}
}

// invalidate removes the given items and moves their types' epochs on
// (nothing when the cache is off).
func (c *rowCache) invalidate(items []itemKey) {
	if c == nil {
		return
	}
	for _, k := range items {
		s := c.types[k.t]
		if s == nil {
			continue
		}
		s.mu.Lock()
		s.epoch++
		if r := s.rows[k.id]; r != nil {
			delete(s.rows, k.id)
			c.used.Add(-r.size)
		}
		s.mu.Unlock()
	}
}

// flush empties the given types (nil: all of them), for writes known only
// by type (nothing when the cache is off).
func (c *rowCache) flush(types []TypeName) {
	if c == nil {
		return
	}
	for _, t := range cachedTypes {
		if types != nil && !slices.Contains(types, t) {
			continue
		}
		s := c.types[t]
		s.mu.Lock()
		s.epoch++
		for id, r := range s.rows {
			delete(s.rows, id)
			c.used.Add(-r.size)
		}
		s.mu.Unlock()
	}
}

// usesRowCache reports whether a read with ctx may use the row cache:
// not a preview, not inside a write transaction.
func (d *DB) usesRowCache(ctx context.Context) bool {
	return d.rows != nil && !Previewing(ctx) && d.requestTx(ctx) == nil
}

// keyCols is the select list of a cached read: the row id and version.
func (tb *table[T]) keyCols() string {
	return tb.alias + ".id, " + tb.alias + ".version"
}

// cachedRead runs a read of tb's rows through the row cache. build returns
// the statement for a select list: first it runs with the key columns
// (after the link's column when prefixed), and if every row is in the
// cache at its version, that is the answer; otherwise it runs again with
// the full columns, and the rows read are kept. from receives each row's
// prefix column when prefixed.
func cachedRead[T any](ctx context.Context, d *DB, tb *table[T], prefix string, build func(cols string) string, args []any) (items []T, from []int64, err error) {
	c := d.rows
	epoch := c.epoch(tb.typ)
	cols := tb.keyCols()
	if prefix != "" {
		cols = prefix + ", " + cols
	}
	rows, err := d.query(ctx, build(cols), args...)
	if err != nil {
		return nil, nil, fmt.Errorf("list %s: %w", tb.typ, err)
	}
	missed := false
	keys := newIntScanner()
	for rows.Next() {
		var f, id, version int64
		if prefix != "" {
			err = keys.scan(rows, &f, &id, &version)
		} else {
			err = keys.scan(rows, &id, &version)
		}
		if err != nil {
			rows.Close()
			return nil, nil, fmt.Errorf("scan %s: %w", tb.typ, err)
		}
		v, ok := c.get(tb.typ, id, version)
		if !ok {
			missed = true
			break
		}
		items = append(items, tb.clone(v.(T)))
		if prefix != "" {
			from = append(from, f)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("list %s: %w", tb.typ, err)
	}
	if !missed {
		c.hits.Add(int64(len(items)))
		if items == nil {
			items = []T{}
		}
		return items, from, nil
	}
	c.misses.Add(1)
	cols = tb.cols
	if prefix != "" {
		cols = prefix + ", " + cols
	}
	rows, err = d.query(ctx, build(cols), args...)
	if err != nil {
		return nil, nil, fmt.Errorf("list %s: %w", tb.typ, err)
	}
	defer rows.Close()
	items, from = []T{}, from[:0]
	for rows.Next() {
		var f int64
		var v T
		if prefix != "" {
			v, err = tb.scan(prefixScanner{s: rows, first: &f})
			from = append(from, f)
		} else {
			v, err = tb.scan(rows)
		}
		if err != nil {
			return nil, nil, fmt.Errorf("scan %s: %w", tb.typ, err)
		}
		items = append(items, v)
		m := tb.meta(v)
		c.put(tb.typ, epoch, m.RowID, int64(m.Version), tb.clone(v), tb.size(v))
	}
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("list %s: %w", tb.typ, err)
	}
	return items, from, nil
}

// intScanner scans rows of integer columns (a key read's ids and
// versions). database/sql assigns an integer to *int64 by reflection, a
// good part of a key read's Go time on SQLite; into *any it is a plain
// copy, so SQLite's rows are scanned that way and asserted, through
// destinations made once per read rather than once per row. Other
// engines' readers (pgx) scan *int64 natively.
type intScanner struct {
	vals [4]any
	ptrs [4]any
	ints [4]int64
}

func newIntScanner() *intScanner {
	s := &intScanner{}
	for i := range s.vals {
		s.ptrs[i] = &s.vals[i]
	}
	return s
}

// scan scans the current row of r into dst (at most four columns).
func (s *intScanner) scan(r rows, dst ...*int64) error {
	if len(dst) > len(s.vals) {
		return fmt.Errorf("sql: %d integer columns, at most %d", len(dst), len(s.vals))
	}
	sr, ok := r.(*sql.Rows)
	if !ok {
		for i := range dst {
			s.ptrs[i] = &s.ints[i]
		}
		err := r.Scan(s.ptrs[:len(dst)]...)
		for i := range dst {
			s.ptrs[i] = &s.vals[i]
			*dst[i] = s.ints[i]
		}
		return err
	}
	if err := sr.Scan(s.ptrs[:len(dst)]...); err != nil {
		return err
	}
	for i, p := range dst {
		n, ok := s.vals[i].(int64)
		if !ok {
			return fmt.Errorf("sql: Scan column index %d: %T is not an integer", i, s.vals[i])
		}
		*p = n
	}
	return nil
}

// metaSize estimates the memory a row's Meta holds, with the row's own
// overhead (the struct, the cache entry, the map slot).
func metaSize(m *Meta) int64 {
	n := int64(200 + len(m.Slug) + len(m.Status) + len(m.CreatedAt) + len(m.UpdatedAt))
	if m.PublishedAt != nil {
		n += 16 + int64(len(*m.PublishedAt))
	}
	return n
}
