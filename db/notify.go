package db

import (
	"context"
	"database/sql"
	"errors"
	"sync"
	"time"
)

// hub wakes listeners when events are committed. A wake-up says only "the
// log grew": listeners read what is new from the events table, so a missed
// or merged wake-up loses nothing.
type hub struct {
	mu        sync.Mutex
	listeners map[chan struct{}]struct{}
	hooks     []func(types []TypeName)
	// publicHooks run only for commits that changed what anonymous
	// callers can read.
	publicHooks []func(types []TypeName)
}

// broadcast wakes listeners and runs the commit hooks with the types that
// changed (nil: unknown, maybe all), and the public hooks with the types
// of the public events among them when there are some, or nil when types
// is nil.
func (h *hub) broadcast(types, public []TypeName) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, fn := range h.hooks {
		fn(types)
	}
	if types == nil || len(public) > 0 {
		for _, fn := range h.publicHooks {
			fn(public)
		}
	}
	for ch := range h.listeners {
		select {
		case ch <- struct{}{}:
		default: // already pending
		}
	}
}

// listen registers a new listener.
func (h *hub) listen() (<-chan struct{}, func()) {
	ch := make(chan struct{}, 1)
	h.mu.Lock()
	if h.listeners == nil {
		h.listeners = map[chan struct{}]struct{}{}
	}
	h.listeners[ch] = struct{}{}
	h.mu.Unlock()
	return ch, func() {
		h.mu.Lock()
		delete(h.listeners, ch)
		h.mu.Unlock()
	}
}

// OnCommit registers fn to run synchronously after every commit that
// appended events, before the committing call returns, with the content
// types it changed (nil when another process changed something unknown).
// fn must be quick: caches use it to invalidate exactly when data changes.
func (d *DB) OnCommit(fn func(types []TypeName)) {
	d.hub.mu.Lock()
	defer d.hub.mu.Unlock()
	d.hub.hooks = append(d.hub.hooks, fn)
}

// OnPublicChange registers fn as OnCommit does, to run only after commits
// that appended public events: those that change what anonymous callers
// can read (a publish, an unpublish, an edit of an item that is live
// after it; not a draft). fn gets the types of those events (nil when
// another process changed something unknown). Caches of anonymous answers
// use it: an editor saving drafts leaves them warm.
func (d *DB) OnPublicChange(fn func(types []TypeName)) {
	d.hub.mu.Lock()
	defer d.hub.mu.Unlock()
	d.hub.publicHooks = append(d.hub.publicHooks, fn)
}

// externalWrite passes on a write another process committed, known only
// by the types it changed (nil: unknown), as if public.
func (d *DB) externalWrite(types []TypeName) { d.externalWriteOf(types, types) }

// externalWriteOf passes on a write another process committed, known by
// the types it changed (nil: unknown) and those of them whose events were
// public: the row cache forgets the types, the search cache the searches
// they may change, then listeners and hooks run as for a commit of this
// process.
func (d *DB) externalWriteOf(types, public []TypeName) {
	d.rows.flush(types)
	d.searches.clear(types == nil || len(public) > 0)
	d.hub.broadcast(types, public)
}

// Listen returns a channel that receives a value (coalesced) after every
// commit that appended events, and a function to stop listening.
func (d *DB) Listen() (<-chan struct{}, func()) { return d.hub.listen() }

// LastEventID returns the id of the newest event (0 for none).
func (d *DB) LastEventID(ctx context.Context) (int64, error) {
	var id sql.NullInt64
	if err := d.queryRow(ctx, "SELECT max(id) FROM events").Scan(&id); err != nil {
		return 0, err
	}
	return id.Int64, nil
}

// EventsAfter returns up to limit events with ids above after, oldest
// first.
func (d *DB) EventsAfter(ctx context.Context, after int64, limit int) ([]*Event, error) {
	rows, err := d.query(ctx, "SELECT "+eventCols+" FROM events WHERE id > ? ORDER BY id LIMIT ?", after, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*Event
	for rows.Next() {
		e, err := scanEvent(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows.Close()
	return out, d.fillDocuments(ctx, out)
}

// WatchExternal wakes listeners when another process (a CLI import, say)
// appends events: it polls the newest event id every interval until ctx
// ends. Writes through this DB wake listeners at once without it.
//
// On PostgreSQL every replica's commits notify the others (LISTEN/NOTIFY),
// so they invalidate their caches and wake their subscribers and webhook
// workers at once; the poll stays as the safety net for a lost
// connection.
func (d *DB) WatchExternal(ctx context.Context, interval time.Duration) {
	d.eng.watch(ctx, d, interval)
}

func (d *DB) pollExternal(ctx context.Context, interval time.Duration) {
	last, err := d.LastEventID(ctx)
	if err == nil {
		// Another process may have written since this one opened the
		// database: the relation cache learns of it here, not by a change.
		d.rels.caughtUp(last)
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		id, err := d.LastEventID(ctx)
		if err != nil {
			if errors.Is(err, context.Canceled) {
				return
			}
			continue
		}
		if id != last {
			last = id
			d.externalWrite(nil)
			d.rels.caughtUp(id)
		}
	}
}
