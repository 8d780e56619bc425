package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// Retention: how long the event log keeps what (see README, "Operating the
// database"). The event log is the changes feed, the audit log and every
// item's revision history at once, so one policy covers all three:
//
//   - Events older than Retention.Events are deleted, except each item's
//     newest Retention.KeepRevisions revisions (so every item can still be
//     restored to its recent versions, and its newest event, which holds
//     its id and version history, is never lost), the events not yet
//     turned into deliveries while active webhooks exist, and the events a
//     webhook delivery refers to.
//   - A changes cursor older than the newest pruned event is refused
//     (EINVALID on "since", ReasonCursorExpired): its owner has missed
//     changes and must start a full sync.
//   - Finished webhook deliveries have their own retention (webhook
//     package, --webhook-retention).
//   - The schedule log's lines older than Retention.Events are deleted
//     too (PruneScheduleLog).
//
// The worker deletes in transactions of at most PruneBatch events, so a
// writer never waits behind it for long.

// Defaults of the retention policy: events are kept for ever, which is what
// trendql always did, and each item keeps at least its last 10 revisions
// once a retention is set.
const (
	DefaultEventRetention = 0
	DefaultKeepRevisions  = 10
	// PruneBatch is the most events one pruning transaction deletes.
	PruneBatch = 500
	// DefaultPruneInterval is how often the worker prunes.
	DefaultPruneInterval = time.Hour
)

// Retention is a retention policy for the event log.
type Retention struct {
	// Events is how long events are kept; 0 keeps them for ever.
	Events time.Duration
	// KeepRevisions is how many of each item's newest revisions are kept
	// whatever their age; at least 1.
	KeepRevisions int
	// Interval is how often RunRetention prunes; 0 means
	// DefaultPruneInterval.
	Interval time.Duration
}

// RunRetention prunes the event log by r every r.Interval (and once at
// start) until ctx ends. It does nothing when r keeps events for ever.
func (d *DB) RunRetention(ctx context.Context, r Retention, log *slog.Logger) {
	if r.Events <= 0 {
		return
	}
	every := r.Interval
	if every <= 0 {
		every = DefaultPruneInterval
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		cutoff := d.Now().Add(-r.Events)
		n, err := d.PruneEvents(ctx, cutoff, r.KeepRevisions)
		switch {
		case err != nil && ctx.Err() == nil:
			log.ErrorContext(ctx, "retention: pruning the event log", "err", err)
		case n > 0:
			log.InfoContext(ctx, "retention: pruned the event log", "events", n)
		}
		n, err = d.PruneScheduleLog(ctx, cutoff)
		switch {
		case err != nil && ctx.Err() == nil:
			log.ErrorContext(ctx, "retention: pruning the schedule log", "err", err)
		case n > 0:
			log.InfoContext(ctx, "retention: pruned the schedule log", "lines", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// PruneEvents deletes the events recorded before cutoff that the policy
// lets go (see Retention: each item keeps its newest keep revisions, at
// least one; undispatched events and those deliveries refer to stay), in
// transactions of at most PruneBatch events, oldest first. It returns how
// many it deleted. EINVALID when keep < 1.
func (d *DB) PruneEvents(ctx context.Context, cutoff time.Time, keep int) (int, error) {
	if keep < 1 {
		return 0, Invalid("keepRevisions", "each item keeps at least its newest revision, got %d", keep)
	}
	before := formatTime(cutoff)
	total := 0
	var from int64
	for {
		n, next, done, err := d.pruneWindow(ctx, from, before, keep)
		total += n
		if err != nil || done {
			return total, err
		}
		from = next
	}
}

// pruneWindow prunes among the PruneBatch events after event from, in one
// transaction. It returns how many it deleted, where the next window
// starts, and whether it reached events too young (or the end of the log).
func (d *DB) pruneWindow(ctx context.Context, from int64, before string, keep int) (n int, next int64, done bool, err error) {
	tx, err := d.BeginTx(ctx)
	if err != nil {
		return 0, 0, true, fmt.Errorf("prune events: %w", err)
	}
	defer tx.Rollback()
	// The window: up to PruneBatch events, stopping before the first one
	// recorded at or after the cutoff (ids grow with time).
	var to, young sql.NullInt64
	var count int
	err = tx.queryRow(`SELECT max(id) FILTER (WHERE at < ?2), min(id) FILTER (WHERE at >= ?2), count(*)
		FROM (SELECT id, at FROM events WHERE id > ?1 ORDER BY id LIMIT ?3) AS w`, from, before, PruneBatch).Scan(&to, &young, &count)
	if err != nil {
		return 0, 0, true, fmt.Errorf("prune events: %w", err)
	}
	if young.Valid && (!to.Valid || to.Int64 > young.Int64) {
		to = sql.NullInt64{Int64: young.Int64 - 1, Valid: true}
	}
	done = young.Valid || count < PruneBatch
	if !to.Valid || to.Int64 <= from {
		return 0, from, true, nil
	}
	if _, err := tx.exec("INSERT INTO events_pruning (one) VALUES (1)"); err != nil {
		return 0, 0, true, fmt.Errorf("prune events: %w", err)
	}
	rows, err := tx.query(`DELETE FROM events WHERE id IN (
		SELECT e.id FROM events e
		 WHERE e.id > ?1 AND e.id <= ?2
		   AND (e.id <= (SELECT last_event_id FROM webhook_dispatch WHERE id = 1)
		        OR NOT EXISTS (SELECT 1 FROM webhooks WHERE active = 1))
		   AND (SELECT x.id FROM events x WHERE x.type = e.type AND x.item_id = e.item_id AND x.id > e.id
		         ORDER BY x.id LIMIT 1 OFFSET ?3) IS NOT NULL
		   AND NOT EXISTS (SELECT 1 FROM webhook_deliveries w WHERE w.event_id = e.id))
		RETURNING id`, from, to.Int64, keep-1)
	if err != nil {
		return 0, 0, true, fmt.Errorf("prune events: %w", err)
	}
	var newest int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return 0, 0, true, fmt.Errorf("prune events: %w", err)
		}
		n++
		newest = max(newest, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, 0, true, fmt.Errorf("prune events: %w", err)
	}
	if _, err := tx.exec("DELETE FROM events_pruning"); err != nil {
		return 0, 0, true, fmt.Errorf("prune events: %w", err)
	}
	if n > 0 {
		if _, err := tx.exec("UPDATE event_retention SET pruned_through = max(pruned_through, ?) WHERE id = 1", newest); err != nil {
			return 0, 0, true, fmt.Errorf("prune events: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return 0, 0, true, fmt.Errorf("prune events: %w", err)
	}
	return n, to.Int64, done, nil
}

// PrunedThrough returns the id of the newest event retention ever deleted
// (0: none): changes cursors before it have expired.
func (d *DB) PrunedThrough(ctx context.Context) (int64, error) {
	var id int64
	err := d.queryRow(ctx, "SELECT pruned_through FROM event_retention WHERE id = 1").Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return id, err
}

// cursorExpired is the error for a changes cursor older than the log keeps.
func cursorExpired(after, prunedThrough int64) error {
	return &Error{Code: EINVALID, Field: "since", Reason: ReasonCursorExpired, Message: fmt.Sprintf(
		"the cursor has expired: changes up to %d were removed by the event log's retention after it; "+
			"start a full sync (read the content, take changesCursor) and follow changes from there", prunedThrough)}
}

// revisionExpired is the error for a revision retention removed.
func revisionExpired(field string, id int64) error {
	return &Error{Code: EINVALID, Field: field, Reason: ReasonRevisionExpired, Message: fmt.Sprintf(
		"revision %d is no longer kept: the event log's retention removed it", id)}
}
