package db

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
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
	ActionDiscard   = "DISCARD"
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
	// TxID names the transaction that wrote the event: the id of its first
	// event. The events of one request (or one import) share it.
	TxID int64

	// What anonymous callers see of it (see publicView): whether it is
	// public at all; publicForm, for events written since schema version 5,
	// whose public form was decided when written; and that form's fields
	// and document where they differ from changed and Document (nil: the
	// same).
	public        bool
	publicForm    bool
	publicChanged *string
	publicDoc     *string
	redacted      bool // this copy is already the public form (Redact)
}

// Public reports whether anonymous callers see the event: it changed what
// they can read (see publicView). Only public events reach the anonymous
// changes feed, anonymous subscriptions and webhooks without drafts, and
// only they move the public changes cursor.
func (e *Event) Public() bool { return e.public }

// Redact returns the event as callers who may not read drafts get it: no
// actor or token, the fields its public form changed, and that form as the
// document (links to items that were unpublished at the time left out).
// The document of an event written before schema version 5 has no stored
// public form: Projected reports false and the reader must project it.
func (e *Event) Redact() *Event {
	r := *e
	r.Actor, r.TokenID, r.redacted = "", nil, true
	if e.publicDoc != nil {
		r.Document = json.RawMessage(*e.publicDoc)
	}
	if e.publicChanged != nil {
		r.changed = *e.publicChanged
	}
	return &r
}

// Projected reports that the event's Document is already the public form
// (a Redact copy of an event whose public form was decided when written).
func (e *Event) Projected() bool { return e.redacted && e.publicForm }

// Changed returns the names of the fields the change touched.
func (e *Event) Changed() []string { return decodeList(e.changed) }

// TransactionID returns the global id of the transaction that wrote the
// event: the revision id of its first event.
func (e *Event) TransactionID() string { return EncodeID(TypeRevision, e.TxID) }

// ItemGlobalID returns the global id of the changed item.
func (e *Event) ItemGlobalID() string {
	if e.Type == TypeArticle {
		return ""
	}
	return EncodeID(e.Type, e.ItemID)
}

// changedSince marks an event whose changed fields event computes itself,
// by comparing the document with old (nil: a new item).
type changedSince struct {
	old any
	// prev, when set, is the document the item's previous event gets
	// (else old): publishing a draft compares with the live version (old)
	// but follows the draft (prev) in the item's history.
	prev any
	// draft: the change wrote a published item's draft, not its live
	// version; publicOld and publicNew, when set, say how its live version
	// changed too.
	draft                bool
	publicOld, publicNew any
}

// event appends one event in the transaction: the same commit makes the
// change and its record. changed is the list of changed fields, or a
// changedSince to compute it from the documents.
func (tx *Tx) event(t TypeName, id int64, slug, action string, version int, status Status, changed any, doc any) (int64, error) {
	return tx.appendEvent(false, t, id, slug, action, version, status, changed, doc)
}

// appendEvent is event; with queue set (a bulk import's copyBuffer) the
// event is buffered and written with the rows around it, in the same
// order, and its id (returned as 0) is not known yet.
func (tx *Tx) appendEvent(queue bool, t TypeName, id int64, slug, action string, version int, status Status, changed any, doc any) (int64, error) {
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
	tokenID, actor := tx.actor()
	if tx.statuses != nil && t.Content() {
		tx.statuses.set(t, id, status)
	}
	public, pubChanged, pubDoc, err := tx.publicView(t, action, status, changed, doc, b, fields)
	if err != nil {
		return 0, fmt.Errorf("event: %w", err)
	}
	// Most public forms equal the event's own document and fields: store
	// them only where they differ (a link to an unpublished item left out).
	if pubDoc != nil && *pubDoc == string(b) {
		pubDoc = nil
	}
	if pubChanged != nil && *pubChanged == encodeList(fields) {
		pubChanged = nil
	}
	// The item's previous event gets the document as it was before this
	// change; this one stores none, the content tables hold it, unless the
	// item is gone (see eventdocs.go).
	var prev any
	if c, ok := changed.(changedSince); ok {
		prev = c.old
		if c.prev != nil {
			prev = c.prev
		}
	}
	var document any
	if action == ActionDelete {
		prev, document = doc, string(b)
	}
	if !isNilDoc(prev) {
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
	root := tx.root()
	if root.txID == 0 {
		if root.txID, err = tx.nextEventID(); err != nil {
			return 0, fmt.Errorf("event: %w", err)
		}
	}
	if queue {
		err := tx.copyRow("events", eventCopyCols, []any{tx.now(), string(t), id, slug, action, version, string(status), tokenID, actor,
			encodeList(fields), document, public, 1, pubChanged, pubDoc, root.txID})
		if err != nil {
			return 0, fmt.Errorf("event: %w", err)
		}
		root.appended(t, id, public)
		return 0, nil
	}
	var eventID int64
	err = tx.queryRowPrepared(`INSERT INTO events (at, type, item_id, slug, action, version, status, token_id, actor, changed, document,
		public, public_form, public_changed, public_document, tx_id)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?) RETURNING id`,
		tx.now(), string(t), id, slug, action, version, string(status), tokenID, actor, encodeList(fields), document,
		public, pubChanged, pubDoc, root.txID).Scan(&eventID)
	if err != nil {
		return 0, fmt.Errorf("event: %w", err)
	}
	root.appended(t, id, public)
	return eventID, nil
}

// eventCopyCols are the columns appendEvent writes, in its INSERT's order.
var eventCopyCols = []string{"at", "type", "item_id", "slug", "action", "version", "status", "token_id", "actor", "changed", "document",
	"public", "public_form", "public_changed", "public_document", "tx_id"}

// publicView decides what anonymous callers see of an event, from the
// statuses inside the writing transaction. The event is public when it
// changes what they can read:
//
//   - an UNPUBLISH (a published item was taken down) or the DELETE of a
//     published item;
//   - any other change after which the item is PUBLISHED, when it was not
//     published before or its public form changed.
//
// The public form of a document leaves out links to items that are not
// published: so linking a published trend to a draft company, or the
// unlink that deleting that draft makes, changes nothing public and is not
// a public event. For a public event it returns the fields the public form
// changed and that form (as JSON); NULLs otherwise.
func (tx *Tx) publicView(t TypeName, action string, status Status, changed any, doc any, docJSON []byte, fields []string) (bool, *string, *string, error) {
	if !t.Content() {
		// The article is always published.
		list, d := encodeList(fields), string(docJSON)
		return true, &list, &d, nil
	}
	var old any
	if c, ok := changed.(changedSince); ok && !isNilDoc(c.old) {
		old = c.old
	}
	if c, ok := changed.(changedSince); ok && c.draft {
		// A draft is never public; only what the change did to the live
		// version can be.
		if c.publicNew == nil {
			return false, nil, nil, nil
		}
		old, doc = c.publicOld, c.publicNew
		var err error
		if docJSON, err = json.Marshal(doc); err != nil {
			return false, nil, nil, err
		}
		fields = changedFields(old, docJSON, doc)
		changed = changedSince{old: old}
	}
	switch {
	case action == ActionUnpublish, action == ActionDelete && status == StatusPublished:
	case action == ActionDelete, status != StatusPublished:
		return false, nil, nil, nil
	}
	published, err := tx.publishedRefs(doc, old)
	if err != nil {
		return false, nil, nil, err
	}
	// Most documents link only published items: their public form is the
	// document itself, and its JSON is docJSON (cloning and encoding it
	// again would give the same bytes).
	pubNew, newJSON := doc, docJSON
	if !allPublished(doc, published) {
		pubNew = publicForm(doc, published)
		if newJSON, err = json.Marshal(pubNew); err != nil {
			return false, nil, nil, err
		}
	}
	var pubFields []string
	switch {
	case action == ActionDelete:
		pubFields = []string{}
	case old == nil:
		pubFields = fields
		if _, computed := changed.(changedSince); !computed || pubNew != doc {
			pubFields = setFields(pubNew) // fields came from the caller, or the form differs
		}
	default:
		pubFields = changedFields(publicForm(old, published), newJSON, pubNew)
		if action != ActionUnpublish && docStatus(old) == StatusPublished && len(pubFields) == 0 {
			return false, nil, nil, nil // only drafts were touched
		}
	}
	list, d := encodeList(pubFields), string(newJSON)
	return true, &list, &d, nil
}

// publishedRefs returns which of the items the documents link to are
// published now, inside the transaction: one statement per linked type, or
// during a bulk import the transaction's status cache.
func (tx *Tx) publishedRefs(docs ...any) (map[SlugKey]bool, error) {
	if tx.statuses != nil {
		return tx.statuses.published(docs...)
	}
	byType := map[TypeName][]string{}
	for _, doc := range docs {
		for t, l := range refLists(doc) {
			byType[t] = append(byType[t], *l...)
		}
	}
	out := map[SlugKey]bool{}
	for t, slugs := range byType {
		if len(slugs) == 0 {
			continue
		}
		b, _ := json.Marshal(slugs)
		rows, err := tx.query("SELECT slug FROM "+tableOf[t]+" WHERE status = 'PUBLISHED' AND slug IN (SELECT value FROM json_each(?))", string(b))
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var s string
			if err := rows.Scan(&s); err != nil {
				rows.Close()
				return nil, err
			}
			out[SlugKey{t, s}] = true
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// allPublished reports whether published holds every item doc links to.
func allPublished(doc any, published map[SlugKey]bool) bool {
	for t, l := range refLists(doc) {
		for _, s := range *l {
			if !published[SlugKey{t, s}] {
				return false
			}
		}
	}
	return true
}

// statusCache knows, by row id, whether items are published, for the
// public forms of a bulk import's events: one SELECT per linked type per
// event cost a third of a large import's time. It learns each item's
// status from the events the transaction writes (every status change
// inside an import writes one) and asks the database once for an item it
// has not seen. Its memory is two bits per row id.
type statusCache struct {
	w          *writer
	known, pub map[TypeName]*bitset
}

func newStatusCache(w *writer) *statusCache {
	c := &statusCache{w: w, known: map[TypeName]*bitset{}, pub: map[TypeName]*bitset{}}
	for _, t := range Types {
		c.known[t], c.pub[t] = &bitset{}, &bitset{}
	}
	return c
}

// set records item id's status after a change.
func (c *statusCache) set(t TypeName, id int64, status Status) {
	c.known[t].add(id)
	if status == StatusPublished {
		c.pub[t].add(id)
	} else {
		c.pub[t].remove(id)
	}
}

// published answers as publishedRefs does.
func (c *statusCache) published(docs ...any) (map[SlugKey]bool, error) {
	out := map[SlugKey]bool{}
	for _, doc := range docs {
		for t, l := range refLists(doc) {
			for _, s := range *l {
				id, err := c.w.idOf(t, s)
				if err != nil {
					return nil, err
				}
				if id == 0 {
					continue
				}
				if !c.known[t].has(id) {
					var status Status
					if err := c.w.queryRow("SELECT status FROM "+tableOf[t]+" WHERE id = ?", id).Scan(&status); err != nil {
						return nil, err
					}
					c.set(t, id, status)
				}
				if c.pub[t].has(id) {
					out[SlugKey{t, s}] = true
				}
			}
		}
	}
	return out, nil
}

// publicForm returns a copy of doc without the links to items that
// published does not hold.
func publicForm(doc any, published map[SlugKey]bool) any {
	out := cloneDoc(doc)
	for t, l := range refLists(out) {
		kept := []string{}
		for _, s := range *l {
			if published[SlugKey{t, s}] {
				kept = append(kept, s)
			}
		}
		*l = kept
	}
	return out
}

// docStatus returns a content document's status.
func docStatus(doc any) Status {
	switch d := doc.(type) {
	case *CompanyDoc:
		return d.Status
	case *FrameworkDoc:
		return d.Status
	case *TrendDoc:
		return d.Status
	case *FAQDoc:
		return d.Status
	}
	return ""
}

// changedFields lists the JSON fields that differ between a document (new,
// as JSON newJSON) and old of the same type; for a new item (old nil), the
// fields it sets.
func changedFields(old any, newJSON []byte, new any) []string {
	if isNilDoc(old) {
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
	out := []string{}
	for _, f := range jsonFieldsOf(v.Type()) {
		if fv := v.Field(f.index); f.omitEmpty && (fv.IsZero() || (fv.Kind() == reflect.Slice || fv.Kind() == reflect.Map) && fv.Len() == 0) {
			continue
		}
		out = append(out, f.name)
	}
	return out
}

// jsonField is a struct field that encoding/json writes.
type jsonField struct {
	index     int
	name      string
	omitEmpty bool
}

// jsonFieldCache holds jsonFieldsOf's answers by type: a bulk import asks
// once per event, and reading the struct tags each time was a few percent
// of it.
var jsonFieldCache sync.Map // reflect.Type → []jsonField

// jsonFieldsOf returns the fields of struct type t that have a JSON name,
// in order.
func jsonFieldsOf(t reflect.Type) []jsonField {
	if l, ok := jsonFieldCache.Load(t); ok {
		return l.([]jsonField)
	}
	var out []jsonField
	for i := 0; i < t.NumField(); i++ {
		name, opts, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		if name == "" || name == "-" {
			continue
		}
		out = append(out, jsonField{index: i, name: name, omitEmpty: strings.Contains(opts, "omitempty")})
	}
	jsonFieldCache.Store(t, out)
	return out
}

// jsonFieldOrder returns a struct's JSON field names in declaration order.
func jsonFieldOrder(v any) []string {
	t := reflect.TypeOf(v)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	var out []string
	for _, f := range jsonFieldsOf(t) {
		out = append(out, f.name)
	}
	return out
}

const eventCols = "id, at, type, item_id, slug, action, version, status, token_id, actor, changed, document, public, public_form, public_changed, public_document, coalesce(tx_id, id)"

// nextEventID returns the id the next event appended in this transaction
// gets: the events table is AUTOINCREMENT, so it is one above the highest
// id ever handed out (sqlite_sequence), and nobody else can append while
// the writer is ours.
func (tx *Tx) nextEventID() (int64, error) { return tx.db.eng.nextEventID(tx) }

// scanEvent reads an event; one stored without a document (an item's
// newest) has a nil Document until fillDocuments gives it one.
func scanEvent(s scanner) (*Event, error) {
	e := &Event{}
	var doc sql.NullString
	err := s.Scan(&e.ID, &e.At, &e.Type, &e.ItemID, &e.Slug, &e.Action, &e.Version, &e.Status, &e.TokenID, &e.Actor, &e.changed, &doc,
		&e.public, &e.publicForm, &e.publicChanged, &e.publicDoc, &e.TxID)
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
	cols:         "e.id, e.at, e.type, e.item_id, e.slug, e.action, e.version, e.status, e.token_id, e.actor, e.changed, e.document, e.public, e.public_form, e.public_changed, e.public_document, coalesce(e.tx_id, e.id)",
	scan:         scanEvent,
	rowID:        func(e *Event) int64 { return e.ID },
	defaultOrder: "NEWEST",
	orders: map[string]orderCol[*Event]{
		// Newest first: the negated id keeps the keyset machinery ascending.
		"NEWEST": {expr: "-e.id", isInt: true, key: func(e *Event) any { return -e.ID }},
	},
}
