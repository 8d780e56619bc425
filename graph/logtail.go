package graph

import (
	"context"
	"slices"
	"sync"

	"github.com/trendql/trendql/db"
)

// logTail reads the event log once per commit for every live
// subscription: one goroutine follows the log and appends what each commit
// added to a shared list, and each subscription walks that list from its
// own cursor, keeping the events it matches and may see (the rules of
// db.Changes, applied in memory). A subscription that is behind the list —
// one replaying from a since cursor, say — reads the log itself until it
// catches up. The goroutine runs while there are subscriptions.
type logTail struct {
	db *db.DB

	mu  sync.Mutex
	run *tailRun // nil while no subscription runs
}

// tailRun is one life of the tail goroutine, from its first subscription
// to its last (or to a failed read of the log, after which the next
// subscription starts a new one).
type tailRun struct {
	users  int
	stop   func()
	cur    *tailNode // the next batch to come
	failed bool
}

// tailNode is one batch of events: those with ids in (after, upTo]. ready
// is closed once it is filled; err is set when the log could not be read.
type tailNode struct {
	after  int64
	ready  chan struct{}
	events []*db.Event
	upTo   int64
	err    error
	next   *tailNode
}

// tailBatch is how many events one read of the log takes.
const tailBatch = 1000

func newLogTail(d *db.DB) *logTail { return &logTail{db: d} }

// join registers a subscription and returns the batch to wait for next;
// leave must be called when it ends. The returned node's after is the
// newest event the tail had read: a cursor behind it must catch up from
// the log first.
func (t *logTail) join(ctx context.Context) (*tailNode, func(), error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.run == nil || t.run.failed {
		// Listen before reading the head, so a commit in between still
		// wakes the tail.
		wake, unlisten := t.db.Listen()
		head, err := t.db.LastEventID(ctx)
		if err != nil {
			unlisten()
			return nil, nil, err
		}
		tctx, cancel := context.WithCancel(context.Background())
		run := &tailRun{stop: func() { cancel(); unlisten() }, cur: &tailNode{after: head, ready: make(chan struct{})}}
		t.run = run
		go t.follow(tctx, run, wake)
	}
	run := t.run
	run.users++
	var once sync.Once
	return run.cur, func() {
		once.Do(func() {
			t.mu.Lock()
			defer t.mu.Unlock()
			if run.users--; run.users == 0 {
				run.stop()
				if t.run == run {
					t.run = nil
				}
			}
		})
	}, nil
}

// follow fills run's nodes, one per read of the log, until ctx ends.
func (t *logTail) follow(ctx context.Context, run *tailRun, wake <-chan struct{}) {
	t.mu.Lock()
	n := run.cur
	t.mu.Unlock()
	for {
		select {
		case <-ctx.Done():
			return
		case <-wake:
		}
		for {
			events, err := t.db.EventsAfter(ctx, n.after, tailBatch)
			if ctx.Err() != nil {
				return
			}
			if err == nil && len(events) == 0 {
				break
			}
			next := &tailNode{ready: make(chan struct{})}
			t.mu.Lock()
			n.events, n.err, n.next = events, err, next
			n.upTo = n.after
			if len(events) > 0 {
				n.upTo = events[len(events)-1].ID
			}
			next.after = n.upTo
			run.cur = next
			run.failed = err != nil
			t.mu.Unlock()
			close(n.ready)
			if err != nil {
				return // its subscriptions end with an error
			}
			n = next
			if len(events) < tailBatch {
				break
			}
		}
	}
}

// matches reports whether e passes f (the filter db.Changes applies in
// SQL).
func matches(f db.ChangeFilter, e *db.Event) bool {
	if len(f.Types) > 0 && !slices.Contains(f.Types, e.Type) {
		return false
	}
	return f.ItemID == nil || e.ItemID == *f.ItemID
}
