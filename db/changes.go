package db

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// The changes feed: the event log read forwards from a cursor, as the
// `changes` query, the subscriptions and build scripts see it.
//
// Visibility. A caller who may read drafts (viewer and above) sees every
// event as recorded. Anyone else sees only the public events (Event.Public:
// those that changed what anonymous readers can read — an item published
// after the change whose public form changed, the deletion of a published
// item, an UNPUBLISH, which a frontend must hear to take the item down), and
// each in its public form (Event.Redact): no actor, links to items that
// were unpublished at the time left out, only the fields that form changed.
// Nothing a draft holds ever reaches an anonymous caller through the feed:
// creating, editing, linking or deleting a draft — including linking a
// published item to a draft — is invisible to them, and does not move
// their cursor either.
//
// Ordering. Event ids grow in commit order (one writer at a time), so "every
// event with an id above N" is exactly "everything committed after event N",
// and a cursor is just an event id.

// Limits of one page of the changes feed.
const (
	DefaultChangesPage = 100
	MaxChangesPage     = 1000
)

// changeCursorPrefix marks a changes cursor, so a cursor of another list is
// refused instead of misread.
const changeCursorPrefix = "changes:"

// EncodeChangeCursor returns the opaque cursor that resumes the changes feed
// after event id (0: from the start of the log).
func EncodeChangeCursor(id int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(changeCursorPrefix + strconv.FormatInt(id, 10)))
}

// DecodeChangeCursor parses a cursor made by EncodeChangeCursor. EINVALID,
// naming field, for anything else.
func DecodeChangeCursor(field, cursor string) (int64, error) {
	bad := Invalid(field, "%q is not a changes cursor", truncate(cursor, 64))
	if len(cursor) > 64 {
		return 0, bad
	}
	raw, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil {
		return 0, bad
	}
	num, ok := strings.CutPrefix(string(raw), changeCursorPrefix)
	n, err := strconv.ParseInt(num, 10, 64)
	if !ok || err != nil || n < 0 || strconv.FormatInt(n, 10) != num {
		return 0, bad
	}
	return n, nil
}

// ChangeFilter narrows the changes feed. The zero value selects every
// event: every content type and the article.
type ChangeFilter struct {
	// Types keeps only changes to these types; empty keeps all, the
	// article included.
	Types []TypeName
	// ItemID, with exactly one type in Types, keeps only that item's changes.
	ItemID *int64
}

// ChangePage is one page of the changes feed.
type ChangePage struct {
	// Events are the changes after the cursor, oldest first.
	Events []*Event
	// Next is the event id to resume from: the last event returned, or,
	// when nothing more matches, the newest event the caller may see (so a
	// filtered reader does not scan the same skipped events again, and an
	// anonymous one's cursor moves only on public events).
	Next int64
	// HasMore reports that more matching events wait after Next.
	HasMore bool
}

// publicEventSQL is the visibility rule above, for callers who may not read
// drafts.
const publicEventSQL = "e.public = 1"

// EventVisible reports whether the caller in ctx may see event e in the
// changes feed (the rule in SQL is publicEventSQL).
func EventVisible(ctx context.Context, e *Event) bool {
	return canSeeDrafts(ctx) || e.Public()
}

// heads returns the newest event id, and the newest one the caller in ctx
// may see (the same for viewers and above), in one statement.
func (d *DB) heads(ctx context.Context) (head, visible, pruned int64, err error) {
	var h, v, p sql.NullInt64
	q := "SELECT (SELECT max(id) FROM events), (SELECT max(id) FROM events WHERE public = 1), (SELECT pruned_through FROM event_retention WHERE id = 1)"
	if err := d.queryRow(ctx, q).Scan(&h, &v, &p); err != nil {
		return 0, 0, 0, err
	}
	if canSeeDrafts(ctx) {
		return h.Int64, h.Int64, p.Int64, nil
	}
	// Retention keeps each item's newest revision, which may be a draft's:
	// the newest public event can be gone. No public event lies between it
	// and where the log is whole, so the public head is there, and a cursor
	// handed out now is not born expired.
	return h.Int64, max(v.Int64, p.Int64), p.Int64, nil
}

// ChangesCursor returns the event id of the newest change the caller in ctx
// may see: for callers who may not read drafts, the newest public event,
// so that draft activity never moves it.
func (d *DB) ChangesCursor(ctx context.Context) (int64, error) {
	_, visible, _, err := d.heads(ctx)
	if err != nil {
		return 0, fmt.Errorf("changes cursor: %w", err)
	}
	return visible, nil
}

// Changes returns up to limit events after event id after that match f and
// that the caller in ctx may see, oldest first. A cursor beyond the newest
// event (one from another database, or from before a restore) fails with
// EINVALID on field "since", rather than silently skipping what comes next;
// so does a cursor older than the newest event retention deleted (with
// Reason ReasonCursorExpired: start a full sync). after 0 reads from the
// start of what the log keeps. Three statements at most, whatever the
// filter.
func (d *DB) Changes(ctx context.Context, after int64, limit int, f ChangeFilter) (*ChangePage, error) {
	if limit < 0 || limit > MaxChangesPage {
		return nil, Invalid("first", "first must be between 0 and %d, got %d", MaxChangesPage, limit)
	}
	// Read the head first: whatever commits after this has a larger id, so
	// "no match up to head" lets the cursor move to head without skipping
	// anything. A caller who may not read drafts moves only as far as the
	// newest public event: their cursor must not tell that drafts changed.
	head, visible, pruned, err := d.heads(ctx)
	if err != nil {
		return nil, fmt.Errorf("changes: %w", err)
	}
	if after > head {
		return nil, Invalid("since", "the cursor is ahead of the event log (it belongs to another database?)")
	}
	// Retention deleted events up to pruned: a cursor before it has missed
	// some, and says so rather than skipping them. Without a cursor the feed
	// starts where the log is whole.
	switch {
	case after == 0:
		after = pruned
	case after < pruned:
		return nil, cursorExpired(after, pruned)
	}
	page := &ChangePage{Events: []*Event{}, Next: after}
	if after >= visible {
		return page, nil
	}
	w := where{}
	w.add("e.id > ? AND e.id <= ?", after, visible)
	drafts := canSeeDrafts(ctx)
	if !drafts {
		w.add(publicEventSQL)
	}
	if len(f.Types) > 0 {
		types := make([]string, len(f.Types))
		for i, t := range f.Types {
			types[i] = string(t)
		}
		b, _ := json.Marshal(types)
		w.add("e.type IN (SELECT value FROM json_each(?))", string(b))
	}
	if f.ItemID != nil {
		w.add("e.item_id = ?", *f.ItemID)
	}
	q := fmt.Sprintf("SELECT %s FROM events e WHERE %s ORDER BY e.id LIMIT ?", eventTable.cols, w.sql())
	events, err := scanAll(ctx, d, eventTable, q, append(w.args, limit+1)...)
	if err != nil {
		return nil, fmt.Errorf("changes: %w", err)
	}
	if !drafts {
		for i, e := range events {
			events[i] = e.Redact()
		}
	}
	if len(events) > limit {
		events = events[:limit+1]
	}
	if err := d.fillDocuments(ctx, events[:min(len(events), limit)]); err != nil {
		return nil, fmt.Errorf("changes: %w", err)
	}
	if len(events) > limit {
		page.Events, page.HasMore = events[:limit], true
		if limit > 0 {
			page.Next = events[limit-1].ID
		}
		return page, nil
	}
	page.Events, page.Next = events, visible
	return page, nil
}

// SlugKey names an item by type and slug, as documents refer to each other.
type SlugKey struct {
	Type TypeName
	Slug string
}

// Refs returns the items an event's document links to (a trend's
// frameworks and companies, say), by type and slug.
func (e *Event) Refs() []SlugKey {
	if !e.Type.Content() {
		return nil
	}
	doc := newDoc(e.Type)
	if err := json.Unmarshal(e.Document, doc); err != nil {
		return nil
	}
	var out []SlugKey
	for t, l := range refLists(doc) {
		for _, s := range *l {
			out = append(out, SlugKey{t, s})
		}
	}
	return out
}

// PublicDocument returns the event's document with the links to items that
// public does not report as published removed. Events written since schema
// version 5 carry their public form (see Redact); this projects the older
// ones when they are read.
func (e *Event) PublicDocument(public func(SlugKey) bool) (json.RawMessage, error) {
	if !e.Type.Content() {
		return e.Document, nil
	}
	doc := newDoc(e.Type)
	if err := json.Unmarshal(e.Document, doc); err != nil {
		return nil, fmt.Errorf("public document: %w", err)
	}
	for t, l := range refLists(doc) {
		kept := []string{}
		for _, s := range *l {
			if public(SlugKey{t, s}) {
				kept = append(kept, s)
			}
		}
		*l = kept
	}
	b, err := json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("public document: %w", err)
	}
	return b, nil
}

// PublishedSlugs reports which of the given items exist and are published,
// keyed like keys; absent keys are not published. One statement per
// content type asked about.
func (d *DB) PublishedSlugs(ctx context.Context, keys []SlugKey) (map[SlugKey]bool, error) {
	byType := map[TypeName][]string{}
	for _, k := range keys {
		if tableOf[k.Type] != "" {
			byType[k.Type] = append(byType[k.Type], k.Slug)
		}
	}
	out := make(map[SlugKey]bool, len(keys))
	for t, slugs := range byType {
		b, _ := json.Marshal(slugs)
		rows, err := d.query(ctx, "SELECT slug FROM "+tableOf[t]+" WHERE status = 'PUBLISHED' AND slug IN (SELECT value FROM json_each(?))", string(b))
		if err != nil {
			return nil, fmt.Errorf("published slugs: %w", err)
		}
		for rows.Next() {
			var s string
			if err := rows.Scan(&s); err != nil {
				rows.Close()
				return nil, fmt.Errorf("published slugs: %w", err)
			}
			out[SlugKey{t, s}] = true
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, fmt.Errorf("published slugs: %w", err)
		}
	}
	return out, nil
}

// TokenActive reports whether the token behind p still works (not revoked,
// not expired), so long-lived connections can drop a revoked token's
// rights. An anonymous principal is always "active".
func (d *DB) TokenActive(ctx context.Context, p *Principal) (bool, error) {
	if p == nil {
		return true, nil
	}
	var n int
	err := d.queryRow(ctx, "SELECT count(*) FROM tokens WHERE id = ? AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?)",
		p.TokenID, formatTime(d.Now())).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("token active: %w", err)
	}
	return n == 1, nil
}
