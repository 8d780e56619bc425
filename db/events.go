package db

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"
)

// Actions recorded in the event log.
const (
	ActionCreate    = "CREATE"
	ActionUpdate    = "UPDATE"
	ActionDelete    = "DELETE"
	ActionPublish   = "PUBLISH"
	ActionUnpublish = "UNPUBLISH"
	ActionLink      = "LINK"
	ActionUnlink    = "UNLINK"
	ActionRestore   = "RESTORE"
)

// TypeArticle names the article in the event log (it is not a Node).
const TypeArticle TypeName = "Article"

// Event is one change to content, as recorded in the event log.
type Event struct {
	ID       int64
	At       string
	Type     TypeName
	ItemID   int64
	Slug     string
	Action   string
	Version  int
	Status   Status
	TokenID  *int64
	Actor    string
	changed  string
	Document json.RawMessage // the item's document after the change (before it, for DELETE)
}

// Changed returns the names of the fields the change touched.
func (e *Event) Changed() []string { return decodeList(e.changed) }

// ItemGlobalID returns the global id of the changed item.
func (e *Event) ItemGlobalID() string {
	if e.Type == TypeArticle {
		return ""
	}
	return EncodeID(e.Type, e.ItemID)
}

// changedSince marks an event whose changed fields event computes itself,
// by comparing the document with old (nil: a new item).
type changedSince struct{ old any }

// event appends one event in the transaction: the same commit makes the
// change and its record. changed is the list of changed fields, or a
// changedSince to compute it from the documents.
func (tx *Tx) event(t TypeName, id int64, slug, action string, version int, status Status, changed any, doc any) (int64, error) {
	b, err := json.Marshal(doc)
	if err != nil {
		return 0, fmt.Errorf("event: %w", err)
	}
	var fields []string
	switch c := changed.(type) {
	case []string:
		fields = c
	case changedSince:
		fields = changedFields(c.old, b, doc)
	}
	var tokenID *int64
	actor := "cli"
	if p := PrincipalFrom(tx.ctx); p != nil {
		tokenID, actor = &p.TokenID, p.Name
	}
	// The item's previous event gets the document as it was before this
	// change; this one stores none, the content tables hold it, unless the
	// item is gone (see eventdocs.go).
	var prev any
	if c, ok := changed.(changedSince); ok {
		prev = c.old
	}
	var document any
	if action == ActionDelete {
		prev, document = doc, string(b)
	}
	if prev != nil && !reflect.ValueOf(prev).IsNil() {
		pb := b
		if action != ActionDelete {
			if pb, err = json.Marshal(prev); err != nil {
				return 0, fmt.Errorf("event: %w", err)
			}
		}
		if err := tx.fillPrevious(t, id, pb); err != nil {
			return 0, fmt.Errorf("event: %w", err)
		}
	}
	r, err := tx.execPrepared(`INSERT INTO events (at, type, item_id, slug, action, version, status, token_id, actor, changed, document)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		tx.now(), string(t), id, slug, action, version, string(status), tokenID, actor, encodeList(fields), document)
	if err != nil {
		return 0, fmt.Errorf("event: %w", err)
	}
	if !slices.Contains(tx.events, t) {
		tx.events = append(tx.events, t)
	}
	return r.LastInsertId()
}

// changedFields lists the JSON fields that differ between a document (new,
// as JSON newJSON) and old of the same type; for a new item (old nil), the
// fields it sets.
func changedFields(old any, newJSON []byte, new any) []string {
	if old == nil || reflect.ValueOf(old).IsNil() {
		return setFields(new)
	}
	var a, b map[string]json.RawMessage
	json.Unmarshal(newJSON, &b)
	{
		ab, _ := json.Marshal(old)
		json.Unmarshal(ab, &a)
	}
	out := []string{}
	for _, k := range jsonFieldOrder(new) {
		if string(a[k]) != string(b[k]) {
			out = append(out, k)
		}
	}
	return out
}

// setFields returns the JSON fields a new document sets: all but the
// omitempty ones left empty — what its JSON holds, without decoding it.
func setFields(doc any) []string {
	v := reflect.Indirect(reflect.ValueOf(doc))
	t := v.Type()
	out := []string{}
	for i := 0; i < t.NumField(); i++ {
		name, opts, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		if name == "" || name == "-" {
			continue
		}
		if strings.Contains(opts, "omitempty") && v.Field(i).IsZero() {
			continue
		}
		if f := v.Field(i); strings.Contains(opts, "omitempty") && (f.Kind() == reflect.Slice || f.Kind() == reflect.Map) && f.Len() == 0 {
			continue
		}
		out = append(out, name)
	}
	return out
}

// jsonFieldOrder returns a struct's JSON field names in declaration order.
func jsonFieldOrder(v any) []string {
	t := reflect.TypeOf(v)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	var out []string
	for i := 0; i < t.NumField(); i++ {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		if name != "" && name != "-" {
			out = append(out, name)
		}
	}
	return out
}

const eventCols = "id, at, type, item_id, slug, action, version, status, token_id, actor, changed, document"

// scanEvent reads an event; one stored without a document (an item's
// newest) has a nil Document until fillDocuments gives it one.
func scanEvent(s scanner) (*Event, error) {
	e := &Event{}
	var doc sql.NullString
	err := s.Scan(&e.ID, &e.At, &e.Type, &e.ItemID, &e.Slug, &e.Action, &e.Version, &e.Status, &e.TokenID, &e.Actor, &e.changed, &doc)
	if doc.Valid {
		e.Document = json.RawMessage(doc.String)
	}
	return e, err
}

// EventFilter selects events for the audit log; all given fields must
// hold.
type EventFilter struct {
	Types    []TypeName
	ItemType TypeName // with ItemID: the changed item's type
	ItemID   *int64
	Actions  []string
	TokenID  *int64
	Since    *string // RFC 3339, any offset or precision: events at or after
}

func (f EventFilter) build() (where, error) {
	w := where{}
	if len(f.Types) > 0 {
		args, err := inList("filter.types", f.Types)
		if err != nil {
			return w, err
		}
		for i := range args {
			args[i] = string(f.Types[i])
		}
		w.add("e.type IN ("+placeholders(len(args))+")", args...)
	}
	if f.ItemID != nil {
		w.add("e.type = ? AND e.item_id = ?", string(f.ItemType), *f.ItemID)
	}
	if len(f.Actions) > 0 {
		args, err := inList("filter.actions", f.Actions)
		if err != nil {
			return w, err
		}
		w.add("e.action IN ("+placeholders(len(args))+")", args...)
	}
	if f.TokenID != nil {
		w.add("e.token_id = ?", *f.TokenID)
	}
	if f.Since != nil {
		// Times are stored in one fixed format (UTC, milliseconds), so
		// they compare as text only against that same format.
		t, err := time.Parse(time.RFC3339Nano, *f.Since)
		if err != nil {
			return w, Invalid("filter.since", "since must be an RFC 3339 time like 2024-01-29T10:00:00Z, got %q", truncate(*f.Since, 40))
		}
		w.add("e.at >= ?", formatTime(t.Truncate(time.Millisecond)))
	}
	return w, nil
}

// Events returns one page of the event log, newest first. Admin only; the
// caller checks the role.
func (d *DB) Events(ctx context.Context, f EventFilter, pa PageArgs) (*Page[*Event], error) {
	w, err := f.build()
	if err != nil {
		return nil, err
	}
	p, err := list(ctx, d, eventTable, w, nil, nil, pa)
	return d.eventPage(ctx, p, err)
}

// eventPage gives a page of events their documents.
func (d *DB) eventPage(ctx context.Context, p *Page[*Event], err error) (*Page[*Event], error) {
	if err != nil {
		return nil, err
	}
	if err := d.fillDocuments(ctx, p.Items); err != nil {
		return nil, err
	}
	return p, nil
}

// CountEvents counts the events that match f.
func (d *DB) CountEvents(ctx context.Context, f EventFilter) (int, error) {
	w, err := f.build()
	if err != nil {
		return 0, err
	}
	return count(ctx, d, eventTable, w)
}

// Revisions returns an item's history, newest first: every event that
// changed it. Viewer and above; the caller checks the role.
func (d *DB) Revisions(ctx context.Context, t TypeName, id int64, pa PageArgs) (*Page[*Event], error) {
	w := where{}
	w.add("e.type = ? AND e.item_id = ?", string(t), id)
	p, err := list(ctx, d, eventTable, w, nil, nil, pa)
	return d.eventPage(ctx, p, err)
}

// CountRevisions counts an item's events.
func (d *DB) CountRevisions(ctx context.Context, t TypeName, id int64) (int, error) {
	w := where{}
	w.add("e.type = ? AND e.item_id = ?", string(t), id)
	return count(ctx, d, eventTable, w)
}

// Event returns one event by id; ENOTFOUND if none, EINVALID (field
// "revisionId", Reason ReasonRevisionExpired) if retention removed it.
func (d *DB) Event(ctx context.Context, id int64) (*Event, error) {
	e, err := scanEvent(d.queryRow(ctx, "SELECT "+eventCols+" FROM events WHERE id = ?", id))
	if err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			if pruned, perr := d.PrunedThrough(ctx); perr == nil && id > 0 && id <= pruned {
				return nil, revisionExpired("revisionId", id)
			}
			return nil, Errorf(ENOTFOUND, "no revision %d", id)
		}
		return nil, fmt.Errorf("event: %w", err)
	}
	if err := d.fillDocuments(ctx, []*Event{e}); err != nil {
		return nil, err
	}
	return e, nil
}

var eventTable = &table[*Event]{
	typ: "Event", name: "events", alias: "e",
	cols:         "e.id, e.at, e.type, e.item_id, e.slug, e.action, e.version, e.status, e.token_id, e.actor, e.changed, e.document",
	scan:         scanEvent,
	rowID:        func(e *Event) int64 { return e.ID },
	defaultOrder: "NEWEST",
	orders: map[string]orderCol[*Event]{
		// Newest first: the negated id keeps the keyset machinery ascending.
		"NEWEST": {expr: "-e.id", isInt: true, key: func(e *Event) any { return -e.ID }},
	},
}
