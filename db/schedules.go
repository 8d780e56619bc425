package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// Scheduled publishing. Each content item may have one pending publish and
// one pending unpublish, each at a time. Setting or clearing one is not a
// change of content (no version, no event) but is recorded in the schedule
// log with who did it. The server applies a due schedule by calling
// SetStatus — the very code of the publish and unpublish mutations — in one
// request transaction that also deletes the schedule row: the writer is
// single and the transaction immediate, so however many processes share the
// database, exactly one of them applies each schedule. Applying is an
// ordinary change: event (actor "schedule", the token of whoever set it),
// revision, webhooks, subscriptions and cache invalidation all follow from
// the event log as for any mutation.

// ScheduleSkew is how far in the past a schedule's time may be and still be
// accepted (it is then due at once): clocks of clients and server differ a
// little.
const ScheduleSkew = time.Second

// ScheduleActor is the actor of the events a schedule makes.
const ScheduleActor = "schedule"

// DefaultScheduleInterval is how often RunSchedules looks for schedules
// that other processes set, at the longest.
const DefaultScheduleInterval = 5 * time.Second

// The outcomes a schedule log entry records.
const (
	ScheduleScheduled = "SCHEDULED" // a schedule was set (or replaced)
	ScheduleCleared   = "CLEARED"   // a schedule was cleared by an editor
	ScheduleApplied   = "APPLIED"   // the server applied it
	ScheduleFailed    = "FAILED"    // applying it failed; it was dropped
	ScheduleCancelled = "CANCELLED" // the item was deleted, published or unpublished by hand first
)

// Schedule is an item's pending schedule: RFC 3339 times, nil when none.
type Schedule struct {
	PublishAt   *string
	UnpublishAt *string
}

// ItemKey names a content item by type and row id.
type ItemKey struct {
	Type TypeName
	ID   int64
}

// ScheduleChange is what to do with one of an item's schedules: Set false
// keeps it as it is; Set with a nil At clears it; Set with an At sets it,
// replacing the one there was.
type ScheduleChange struct {
	Set bool
	At  *time.Time
}

// ScheduleLogEntry is one line of the schedule log.
type ScheduleLogEntry struct {
	ID      int64
	At      string
	Type    TypeName
	ItemID  int64
	Slug    string
	Action  string // PUBLISH or UNPUBLISH
	Outcome string // see ScheduleScheduled and the others
	DueAt   string
	TokenID *int64
	Actor   string
	EventID *int64 // APPLIED: the revision it made
	Message string
}

// storedSchedule is one row of the schedules table.
type storedSchedule struct {
	typ         TypeName
	itemID      int64
	action      string
	dueAt       string
	tokenID     *int64
	actor       string
	scheduledAt string
}

// SetSchedule sets or clears an item's pending publish and unpublish (see
// ScheduleChange), as the caller in ctx. A time more than ScheduleSkew in
// the past, or an unpublish not after the publish (the one given, or the
// one already pending), is EINVALID naming "input.publishAt" or
// "input.unpublishAt"; an unknown item is ENOTFOUND. It changes nothing in
// the item itself.
func (d *DB) SetSchedule(ctx context.Context, t TypeName, id int64, publish, unpublish ScheduleChange) error {
	if !t.Content() {
		return Errorf(ENOTFOUND, "no %s items", t)
	}
	return d.writeTx(ctx, func(w *writer) error {
		tx := w.tx
		m, err := w.meta(t, id)
		if err != nil {
			return err
		}
		cur, err := tx.schedulesOf(t, id)
		if err != nil {
			return err
		}
		earliest := tx.Now.Add(-ScheduleSkew)
		next := map[string]*time.Time{}
		for _, c := range []struct {
			action, field string
			ch            ScheduleChange
		}{{ActionPublish, "input.publishAt", publish}, {ActionUnpublish, "input.unpublishAt", unpublish}} {
			if !c.ch.Set {
				if s := cur[c.action]; s != nil {
					at, err := time.Parse(time.RFC3339Nano, s.dueAt)
					if err != nil {
						return fmt.Errorf("schedule: stored time %q: %w", s.dueAt, err)
					}
					next[c.action] = &at
				}
				continue
			}
			if c.ch.At == nil {
				next[c.action] = nil
				continue
			}
			at := c.ch.At.UTC().Truncate(time.Millisecond)
			if at.Before(earliest) {
				return Invalid(c.field, "%s is in the past (the server's time is %s): give a future time", formatTime(at), formatTime(tx.Now))
			}
			if at.Year() > 9999 {
				return Invalid(c.field, "%s is too far in the future", c.ch.At.Format(time.RFC3339))
			}
			next[c.action] = &at
		}
		if p, u := next[ActionPublish], next[ActionUnpublish]; p != nil && u != nil && !u.After(*p) {
			if !unpublish.Set {
				return Invalid("input.publishAt", "publishAt %s is not before the pending unpublishAt %s: move or clear the unpublishAt too",
					formatTime(*p), formatTime(*u))
			}
			what := "the publishAt"
			if !publish.Set {
				what = "the pending publishAt"
			}
			return Invalid("input.unpublishAt", "unpublishAt %s is not after %s %s", formatTime(*u), what, formatTime(*p))
		}
		for _, c := range []struct {
			action string
			ch     ScheduleChange
		}{{ActionPublish, publish}, {ActionUnpublish, unpublish}} {
			if !c.ch.Set {
				continue
			}
			if err := tx.writeSchedule(t, id, m.slug, c.action, cur[c.action], next[c.action]); err != nil {
				return err
			}
		}
		return nil
	})
}

// writeSchedule sets (at non-nil) or clears one schedule and logs it.
// Clearing a schedule that is not there, or setting the time it has,
// changes and logs nothing.
func (tx *Tx) writeSchedule(t TypeName, id int64, slug, action string, cur *storedSchedule, at *time.Time) error {
	tokenID, actor := tx.actor()
	if at == nil {
		if cur == nil {
			return nil
		}
		if _, err := tx.exec("DELETE FROM schedules WHERE type = ? AND item_id = ? AND action = ?", string(t), id, action); err != nil {
			return fmt.Errorf("schedule: %w", err)
		}
		return tx.logSchedule(t, id, slug, action, ScheduleCleared, cur.dueAt, tokenID, actor, nil, "")
	}
	due := formatTime(*at)
	if cur != nil && cur.dueAt == due {
		return nil
	}
	_, err := tx.exec(`INSERT INTO schedules (type, item_id, action, due_at, token_id, actor, scheduled_at) VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (type, item_id, action) DO UPDATE SET due_at = excluded.due_at, token_id = excluded.token_id,
		actor = excluded.actor, scheduled_at = excluded.scheduled_at`,
		string(t), id, action, due, tokenID, actor, tx.now())
	if err != nil {
		return fmt.Errorf("schedule: %w", err)
	}
	tx.root().scheduled = true
	msg := ""
	if cur != nil {
		msg = "replaces " + cur.dueAt
	}
	return tx.logSchedule(t, id, slug, action, ScheduleScheduled, due, tokenID, actor, nil, msg)
}

// actor returns who makes the transaction's writes, as events record it.
func (tx *Tx) actor() (*int64, string) {
	if p := PrincipalFrom(tx.ctx); p != nil {
		var tokenID *int64
		if p.TokenID != 0 {
			id := p.TokenID
			tokenID = &id
		}
		return tokenID, p.Name
	}
	return nil, "cli"
}

func (tx *Tx) logSchedule(t TypeName, id int64, slug, action, outcome, due string, tokenID *int64, actor string, eventID *int64, msg string) error {
	_, err := tx.exec(`INSERT INTO schedule_log (at, type, item_id, slug, action, outcome, due_at, token_id, actor, event_id, message)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, tx.now(), string(t), id, slug, action, outcome, due, tokenID, actor, eventID, msg)
	if err != nil {
		return fmt.Errorf("schedule log: %w", err)
	}
	return nil
}

// schedulesOf reads an item's pending schedules, by action.
func (tx *Tx) schedulesOf(t TypeName, id int64) (map[string]*storedSchedule, error) {
	rows, err := tx.query("SELECT type, item_id, action, due_at, token_id, actor, scheduled_at FROM schedules WHERE type = ? AND item_id = ?", string(t), id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]*storedSchedule{}
	for rows.Next() {
		s, err := scanSchedule(rows)
		if err != nil {
			return nil, err
		}
		out[s.action] = s
	}
	return out, rows.Err()
}

func scanSchedule(s scanner) (*storedSchedule, error) {
	x := &storedSchedule{}
	err := s.Scan(&x.typ, &x.itemID, &x.action, &x.dueAt, &x.tokenID, &x.actor, &x.scheduledAt)
	return x, err
}

// SettleSchedules drops the schedules a publish or unpublish made by hand
// has overtaken, in ctx's transaction: publishing drops a pending publish
// (it happened; applied later it would publish whatever the item then is),
// unpublishing drops both (taking an item down is an editorial stop that
// no earlier plan should undo, and there is nothing left to take down).
// Each dropped schedule is logged as CANCELLED. ENOTFOUND for an unknown
// item.
func (d *DB) SettleSchedules(ctx context.Context, t TypeName, id int64, s Status) error {
	actions := []string{ActionPublish}
	if s == StatusDraft {
		actions = append(actions, ActionUnpublish)
	}
	return d.writeTx(ctx, func(w *writer) error {
		tx := w.tx
		cur, err := tx.schedulesOf(t, id)
		if err != nil || len(cur) == 0 {
			return err
		}
		m, err := w.meta(t, id)
		if err != nil {
			return err
		}
		tokenID, actor := tx.actor()
		for _, a := range actions {
			c := cur[a]
			if c == nil {
				continue
			}
			if _, err := tx.exec("DELETE FROM schedules WHERE type = ? AND item_id = ? AND action = ?", string(t), id, a); err != nil {
				return fmt.Errorf("schedule: %w", err)
			}
			msg := "published by hand first"
			if s == StatusDraft {
				msg = "unpublished by hand first"
			}
			if err := tx.logSchedule(t, id, m.slug, a, ScheduleCancelled, c.dueAt, tokenID, actor, nil, msg); err != nil {
				return err
			}
		}
		return nil
	})
}

// SchedulesOf returns the pending schedules of the given items (those with
// none are absent). Callers who may not read drafts get none: a planned
// take-down is editorial information.
func (d *DB) SchedulesOf(ctx context.Context, keys []ItemKey) (map[ItemKey]*Schedule, error) {
	out := make(map[ItemKey]*Schedule, len(keys))
	if !canSeeDrafts(ctx) || len(keys) == 0 {
		return out, nil
	}
	byType := map[TypeName][]any{}
	for _, k := range keys {
		byType[k.Type] = append(byType[k.Type], k.ID)
	}
	for t, ids := range byType {
		for start := 0; start < len(ids); start += 500 {
			chunk := ids[start:min(start+500, len(ids))]
			rows, err := d.query(ctx, "SELECT item_id, action, due_at FROM schedules WHERE type = ? AND item_id IN ("+placeholders(len(chunk))+")",
				append([]any{string(t)}, chunk...)...)
			if err != nil {
				return nil, err
			}
			for rows.Next() {
				var id int64
				var action, due string
				if err := rows.Scan(&id, &action, &due); err != nil {
					rows.Close()
					return nil, err
				}
				k := ItemKey{t, id}
				s := out[k]
				if s == nil {
					s = &Schedule{}
					out[k] = s
				}
				if action == ActionPublish {
					s.PublishAt = &due
				} else {
					s.UnpublishAt = &due
				}
			}
			err = rows.Err()
			rows.Close()
			if err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

// ScheduleLogFilter narrows the schedule log.
type ScheduleLogFilter struct {
	Item     *ItemKey
	Outcomes []string
}

// MaxScheduleLog is the most entries one ScheduleLog call returns.
const MaxScheduleLog = 100

// ScheduleLog returns the newest first entries of the schedule log that
// match f. first must be between 0 and MaxScheduleLog (EINVALID "first").
func (d *DB) ScheduleLog(ctx context.Context, f ScheduleLogFilter, first int) ([]*ScheduleLogEntry, error) {
	if first < 0 || first > MaxScheduleLog {
		return nil, Invalid("first", "first must be between 0 and %d, got %d", MaxScheduleLog, first)
	}
	w := where{}
	if f.Item != nil {
		w.add("type = ? AND item_id = ?", string(f.Item.Type), f.Item.ID)
	}
	if len(f.Outcomes) > 0 {
		args := make([]any, len(f.Outcomes))
		for i, o := range f.Outcomes {
			args[i] = o
		}
		w.add("outcome IN ("+placeholders(len(args))+")", args...)
	}
	rows, err := d.query(ctx, "SELECT id, at, type, item_id, slug, action, outcome, due_at, token_id, actor, event_id, message FROM schedule_log WHERE "+
		w.sql()+" ORDER BY id DESC LIMIT ?", append(w.args, first)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*ScheduleLogEntry{}
	for rows.Next() {
		e := &ScheduleLogEntry{}
		if err := rows.Scan(&e.ID, &e.At, &e.Type, &e.ItemID, &e.Slug, &e.Action, &e.Outcome, &e.DueAt, &e.TokenID, &e.Actor, &e.EventID, &e.Message); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// PruneScheduleLog deletes the schedule log's lines written before cutoff,
// in transactions of at most PruneBatch lines, and returns how many. The
// retention worker runs it with the event log's cutoff: the log's
// revisions go at the same age.
func (d *DB) PruneScheduleLog(ctx context.Context, cutoff time.Time) (int, error) {
	total := 0
	for {
		var n int
		err := d.writeTx(ctx, func(w *writer) error {
			if _, err := w.tx.exec("INSERT INTO events_pruning (one) VALUES (1)"); err != nil {
				return err
			}
			res, err := w.tx.exec("DELETE FROM schedule_log WHERE id IN (SELECT id FROM schedule_log WHERE at < ? ORDER BY id LIMIT ?)",
				formatTime(cutoff), PruneBatch)
			if err != nil {
				return err
			}
			k, _ := res.RowsAffected()
			n = int(k)
			_, err = w.tx.exec("DELETE FROM events_pruning")
			return err
		})
		if err != nil {
			return total, fmt.Errorf("prune schedule log: %w", err)
		}
		total += n
		if n < PruneBatch {
			return total, nil
		}
	}
}

// ScheduleCounts returns how many schedules this DB has applied and how
// many it dropped as failed, since it was opened.
func (d *DB) ScheduleCounts() (applied, failed int64) {
	return d.schedulesApplied.Load(), d.schedulesFailed.Load()
}

// NextScheduleDue returns the time of the earliest pending schedule; ok is
// false when there is none.
func (d *DB) NextScheduleDue(ctx context.Context) (at time.Time, ok bool, err error) {
	var due sql.NullString
	if err := d.queryRow(ctx, "SELECT min(due_at) FROM schedules").Scan(&due); err != nil {
		return time.Time{}, false, err
	}
	if !due.Valid {
		return time.Time{}, false, nil
	}
	at, err = time.Parse(time.RFC3339Nano, due.String)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("schedules: stored time %q: %w", due.String, err)
	}
	return at, true, nil
}

// ApplyDueSchedules applies every schedule due by d.Now(), oldest first,
// each in a transaction of its own, and reports how many were applied and
// how many failed. A schedule that cannot be applied (the change is
// refused: nothing to publish, a slug or rank now taken…) is dropped and
// logged as FAILED with the reason, and the others go on; it is never
// tried again. It stops early, leaving the rest due, when ctx ends or the
// database cannot be written.
func (d *DB) ApplyDueSchedules(ctx context.Context, log *slog.Logger) (applied, failed int, err error) {
	for ctx.Err() == nil {
		s, applyErr, err := d.applyNextSchedule(ctx)
		if err != nil {
			return applied, failed, err
		}
		if s == nil {
			return applied, failed, nil
		}
		if applyErr != nil {
			failed++
			d.schedulesFailed.Add(1)
			if log != nil {
				log.WarnContext(ctx, "schedules: a schedule could not be applied and was dropped",
					"type", s.typ, "id", EncodeID(s.typ, s.itemID), "action", s.action, "due", s.dueAt, "err", applyErr)
			}
			continue
		}
		applied++
		d.schedulesApplied.Add(1)
		if log != nil {
			log.InfoContext(ctx, "schedules: applied", "type", s.typ, "id", EncodeID(s.typ, s.itemID), "action", s.action, "due", s.dueAt)
		}
	}
	return applied, failed, ctx.Err()
}

// applyNextSchedule claims the oldest due schedule and applies it, in one
// request transaction: the claim (deleting the row) commits with the
// change, or not at all. s is nil when nothing is due. applyErr is the
// reason a claimed schedule could not be applied: it has then been dropped
// and logged, in a transaction of its own. err is a failure to reach the
// database (or ctx's end), after which the schedule stays due.
func (d *DB) applyNextSchedule(ctx context.Context) (s *storedSchedule, applyErr, err error) {
	rctx, req := d.BeginRequest(ctx)
	defer req.Rollback()
	var before int64
	err = d.writeTx(rctx, func(w *writer) error {
		r, err := scanSchedule(w.tx.queryRow(`DELETE FROM schedules WHERE (type, item_id, action) =
			(SELECT type, item_id, action FROM schedules WHERE due_at <= ? ORDER BY due_at, type, item_id, action LIMIT 1)
			RETURNING type, item_id, action, due_at, token_id, actor, scheduled_at`, w.tx.now()))
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		s = r
		return w.queryRow("SELECT coalesce(max(id), 0) FROM events").Scan(&before)
	})
	if err != nil || s == nil {
		return nil, nil, err
	}
	p := &Principal{Name: ScheduleActor, Role: RoleEditor}
	if s.tokenID != nil {
		p.TokenID = *s.tokenID
	}
	status := StatusPublished
	if s.action == ActionUnpublish {
		status = StatusDraft
	}
	actx := WithPrincipal(rctx, p)
	applyErr = d.SetStatus(actx, s.typ, s.itemID, status, nil)
	if applyErr == nil {
		applyErr = d.writeTx(actx, func(w *writer) error {
			var eventID sql.NullInt64
			err := w.queryRow("SELECT max(id) FROM events WHERE id > ? AND type = ? AND item_id = ?", before, string(s.typ), s.itemID).Scan(&eventID)
			if err != nil {
				return err
			}
			slug, msg := "", ""
			var ev *int64
			if eventID.Valid {
				ev = &eventID.Int64
			} else {
				msg = "nothing to change: the item was already " + map[Status]string{StatusPublished: "published", StatusDraft: "a draft"}[status]
			}
			m, err := w.meta(s.typ, s.itemID)
			if err != nil {
				return err
			}
			slug = m.slug
			return w.tx.logSchedule(s.typ, s.itemID, slug, s.action, ScheduleApplied, s.dueAt, s.tokenID, s.actor, ev, msg)
		})
	}
	if applyErr == nil {
		applyErr = req.Commit()
	}
	if applyErr == nil {
		return s, nil, nil
	}
	req.Rollback()
	if ctx.Err() != nil || ErrorCode(applyErr) == EINTERNAL && isTransient(applyErr) {
		// Not the schedule's fault: it stays due for the next try.
		return nil, nil, applyErr
	}
	if err := d.dropFailedSchedule(ctx, s, applyErr); err != nil {
		return nil, nil, err
	}
	return s, applyErr, nil
}

// isTransient reports whether err is the database being busy or the
// context ending, rather than a refusal of the change.
func isTransient(err error) bool {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var se interface{ Code() int }
	if errors.As(err, &se) {
		switch se.Code() & 0xff {
		case 5, 6: // SQLITE_BUSY, SQLITE_LOCKED
			return true
		}
	}
	return false
}

// dropFailedSchedule drops a schedule that could not be applied and logs
// why, unless it was changed (or claimed) in the meantime.
func (d *DB) dropFailedSchedule(ctx context.Context, s *storedSchedule, why error) error {
	return d.writeTx(ctx, func(w *writer) error {
		res, err := w.tx.exec("DELETE FROM schedules WHERE type = ? AND item_id = ? AND action = ? AND due_at = ? AND scheduled_at = ?",
			string(s.typ), s.itemID, s.action, s.dueAt, s.scheduledAt)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		slug := ""
		if m, err := w.meta(s.typ, s.itemID); err == nil {
			slug = m.slug
		}
		msg := ErrorMessage(why)
		var e *Error
		if errors.As(why, &e) && e.Field != "" {
			msg += " (field " + e.Field + ")"
		}
		return w.tx.logSchedule(s.typ, s.itemID, slug, s.action, ScheduleFailed, s.dueAt, s.tokenID, s.actor, nil, msg)
	})
}

// RunSchedules applies due schedules until ctx ends: at once (those that
// fell due while no server ran), then at each next due time, waking at
// least every interval (0: DefaultScheduleInterval) to see schedules other
// processes set, and at once when this process sets one.
func (d *DB) RunSchedules(ctx context.Context, interval time.Duration, log *slog.Logger) {
	if interval <= 0 {
		interval = DefaultScheduleInterval
	}
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		case <-d.scheduleWake:
			if !timer.Stop() {
				select {
				case <-timer.C:
				default:
				}
			}
		}
		wait := interval
		if _, _, err := d.ApplyDueSchedules(ctx, log); err != nil {
			if ctx.Err() == nil && log != nil {
				log.ErrorContext(ctx, "schedules: applying due schedules; trying again later", "err", err, "in", interval)
			}
		} else if at, ok, err := d.NextScheduleDue(ctx); err == nil && ok {
			// A floor, so that a clock that disagrees with the stored
			// times cannot spin the loop.
			wait = min(wait, max(at.Sub(d.Now()), 10*time.Millisecond))
		}
		timer.Reset(wait)
	}
}
