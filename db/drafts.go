package db

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
)

// Drafts of published items (migrations/0009_drafts.sql). A published
// item's row in its content table is its live version; editing it writes
// its draft (a row of the same id in its *_drafts table, and the whole
// lists of its links in the *_drafts link tables). Publishing copies the
// draft over the live version; discarding drops it. An item that is not
// published has no separate draft: it is edited in place.
//
// Every document the writer reads and writes is the preview (drafts
// applied): items name the items they link to by their preview slugs, and
// slugs are resolved in the preview.

// draftTableOf maps content types to their drafts tables.
var draftTableOf = map[TypeName]string{
	TypeTrend: "trend_drafts", TypeFramework: "framework_drafts", TypeCompany: "company_drafts", TypeFAQ: "faq_drafts",
}

// itemKey names one content item.
type itemKey struct {
	t  TypeName
	id int64
}

// anyDrafts reports whether a draft may exist in the transaction: reads
// and slug look-ups use the plain content tables while there is none (the
// preview views cost more). Known once per transaction; a draft written
// in it sets it.
func (tx *Tx) anyDrafts() (bool, error) {
	root := tx.root()
	if root.drafts == 0 {
		var some bool
		err := tx.queryRow(`SELECT EXISTS (SELECT 1 FROM trend_drafts) OR EXISTS (SELECT 1 FROM framework_drafts)
			OR EXISTS (SELECT 1 FROM company_drafts) OR EXISTS (SELECT 1 FROM faq_drafts)`).Scan(&some)
		if err != nil {
			return false, err
		}
		root.drafts = 1
		if some {
			root.drafts = 2
		}
	}
	return root.drafts == 2, nil
}

// view is the table or view the writer reads items of table from: the
// preview when a draft may exist.
func (w *writer) view(table string) (string, error) {
	some, err := w.tx.anyDrafts()
	if err != nil || !some {
		return table, err
	}
	return table + "_preview", nil
}

// versionFloor is the highest version item (t, id) has had: its preview
// version, or a later one its event log recorded (a discarded draft's
// versions are never given again, so a version never names two contents).
func (w *writer) versionFloor(t TypeName, m itemMeta) (int, error) {
	if m.status != StatusPublished {
		return m.version, nil
	}
	var last int
	err := w.queryRow("SELECT coalesce(max(version), 0) FROM events WHERE type = ? AND item_id = ?", string(t), m.id).Scan(&last)
	return max(last, m.version), err
}

// loadLiveDoc reads a published item's live document (drafts not applied).
func (w *writer) loadLiveDoc(t TypeName, id int64, m itemMeta) (any, error) {
	live := m
	live.drafted = false
	live.slug = m.liveSlug
	doc, err := w.loadParkedDoc(t, id, live)
	if err != nil {
		return nil, err
	}
	slug, _, num, numField := docFields(doc)
	*slug = m.liveSlug
	if num != nil {
		*num = w.tx.realValue(t, numField, id, *num).(int)
	}
	return doc, nil
}

// putDraft writes doc as the draft of published item (t, id), at the
// version after every one it has had, then its links where they changed
// (all of them when the draft is new), then its event. o.liveOld and
// o.liveNew, when set, say how the same change altered the live version
// too (an item it linked to was deleted): the event is then public as a
// change of the live version would be, and the live row's version
// follows.
func (w *writer) putDraft(t TypeName, m itemMeta, old, doc any, action string, o putOpts) error {
	id := m.id
	row, err := docRow(doc, old)
	if err != nil {
		return err
	}
	version := m.version + 1
	if !m.drafted {
		floor, err := w.versionFloor(t, m)
		if err != nil {
			return err
		}
		version = floor + 1
	}
	if oldSlug, _, _, _ := docFields(old); oldSlug != nil && *oldSlug != row.slug {
		if err := w.pinLinkers(t, id); err != nil {
			return err
		}
	}
	now := w.tx.now()
	table := draftTableOf[t]
	if !m.drafted {
		q := "INSERT INTO " + table + " (id, " + joinCols(row.cols) + ", version, updated_at) VALUES (" + placeholders(len(row.cols)+3) + ")"
		args := append([]any{id}, row.vals...)
		if _, err := w.exec(q, append(args, version, now)...); err != nil {
			return err
		}
	} else {
		set := ""
		for _, c := range row.cols {
			set += c + " = ?, "
		}
		q := "UPDATE " + table + " SET " + set + "version = ?, updated_at = ? WHERE id = ?"
		if _, err := w.exec(q, append(row.vals, version, now, id)...); err != nil {
			return err
		}
	}
	w.tx.root().drafts = 2
	w.remember(t, row.slug, id)
	for _, l := range row.links {
		if m.drafted && slices.Equal(l.old, l.slugs) {
			continue
		}
		to, err := w.idsOf(l.to, l.slugs)
		if err != nil {
			return err
		}
		if err := w.setLinksIn(l.l.table+"_drafts", l.l, id, to, !m.drafted); err != nil {
			return err
		}
	}
	if o.liveNew != nil {
		if _, err := w.exec("UPDATE "+tableOf[t]+" SET version = ?, updated_at = ? WHERE id = ?", version, now, id); err != nil {
			return err
		}
	}
	w.checkInPreview(t, id)
	cs := changedSince{old: old, draft: true, publicOld: o.liveOld, publicNew: o.liveNew}
	_, err = w.tx.event(t, id, row.slug, action, version, m.status, cs, doc)
	return err
}

// putOpts are the variations of a write: see put and putDraft.
type putOpts struct {
	// floor: the new version is above it (and above the stored one).
	floor int
	// prev is the document the item's previous event had, when it is not
	// old (publishing a draft: old is the live version, prev the draft).
	prev any
	// liveOld, liveNew: for a draft write, how the live version changed too.
	liveOld, liveNew any
}

// checkInPreview has the commit check that item (t, id)'s unique values
// are its own in the preview too (drafts may hold values the content
// tables' UNIQUE constraints do not see).
func (w *writer) checkInPreview(t TypeName, id int64) {
	if some, err := w.tx.anyDrafts(); err != nil || !some {
		// With no draft the content tables' constraints are the preview's;
		// a draft written later in the transaction checks itself against
		// every item. (An error here comes back at the next statement.)
		return
	}
	root := w.tx.root()
	if root.uniqueInPreview == nil {
		root.uniqueInPreview = map[itemKey]previewCheck{}
	}
	prefix := w.fieldPrefix
	if prefix == "" {
		prefix = "input."
	}
	root.uniqueInPreview[itemKey{t, id}] = previewCheck{blame: w.tx.ctx.Value(blameKey{}), prefix: prefix}
}

// previewCheck is who to blame when an item's unique value is held twice
// in the preview: the request's field, and the prefix of the field named.
type previewCheck struct {
	blame  any
	prefix string
}

// checkPreviewUnique runs the checks checkInPreview asked for, when any
// draft exists: a slug, rank or position held by two items in the preview
// fails the commit with the error of the write that took it.
func (tx *Tx) checkPreviewUnique() error {
	if len(tx.uniqueInPreview) == 0 {
		return nil
	}
	if some, err := tx.anyDrafts(); err != nil || !some {
		return err
	}
	keys := make([]itemKey, 0, len(tx.uniqueInPreview))
	for k := range tx.uniqueInPreview {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b itemKey) int { return cmp.Or(cmp.Compare(a.t, b.t), cmp.Compare(a.id, b.id)) })
	for _, k := range keys {
		view := tableOf[k.t] + "_preview"
		for _, col := range uniqueCols[k.t] {
			// Two look-ups, each on one table: a join of the view with
			// itself would read it whole.
			var v any
			err := tx.queryRow("SELECT "+col+" FROM "+view+" WHERE id = ?", k.id).Scan(&v)
			if errors.Is(err, sql.ErrNoRows) {
				continue // deleted since
			}
			if err != nil {
				return err
			}
			var holder string
			err = tx.queryRow("SELECT slug FROM "+view+" WHERE "+col+" = ? AND id <> ? LIMIT 1", v, k.id).Scan(&holder)
			if errors.Is(err, sql.ErrNoRows) {
				continue
			}
			if err != nil {
				return err
			}
			c := tx.uniqueInPreview[k]
			var uerr error
			if col == "slug" {
				uerr = Invalid(c.prefix+"slug", "slug %q is taken by another %s in the preview (drafts applied)", v, k.t)
			} else {
				uerr = Invalid(c.prefix+col, "%s %v is taken by %s %q in the preview (drafts applied)", col, v, k.t, holder)
			}
			if c.blame != nil {
				return &BlamedError{Err: uerr, Blame: c.blame}
			}
			return uerr
		}
	}
	tx.uniqueInPreview = nil
	return nil
}

// dropDraft deletes item (t, id)'s draft and its links.
func (w *writer) dropDraft(t TypeName, id int64) error {
	_, err := w.exec("DELETE FROM "+draftTableOf[t]+" WHERE id = ?", id)
	return err
}

// publishItem makes an item's preview its live version: a draft item is
// published; a published one's draft replaces its live version. A
// published item without a draft has nothing to publish (EINVALID).
func (w *writer) publishItem(t TypeName, id int64, ifVersion *int) error {
	m, err := w.meta(t, id)
	if err != nil {
		return err
	}
	if err := checkVersion(t, m, ifVersion); err != nil {
		return err
	}
	if m.status == StatusPublished && !m.drafted {
		return Invalid("id", "%s %s is published and has no unpublished changes: there is nothing to publish", t, EncodeID(t, id))
	}
	return w.replaceLive(t, m, StatusPublished, ActionPublish)
}

// unpublishItem takes a published item down: it becomes a DRAFT holding
// its preview (a pending draft's edits are kept, as the item's content).
// Unpublishing a draft changes nothing.
func (w *writer) unpublishItem(t TypeName, id int64, ifVersion *int) error {
	m, err := w.meta(t, id)
	if err != nil {
		return err
	}
	if err := checkVersion(t, m, ifVersion); err != nil {
		return err
	}
	if m.status != StatusPublished {
		return nil
	}
	return w.replaceLive(t, m, StatusDraft, ActionUnpublish)
}

// replaceLive writes item m's preview, with status s, over its row in the
// content table, and drops its draft.
func (w *writer) replaceLive(t TypeName, m itemMeta, s Status, action string) error {
	preview, err := w.loadDocAs(t, m)
	if err != nil {
		return err
	}
	old := preview
	if m.drafted {
		if old, err = w.loadLiveDoc(t, m.id, m); err != nil {
			return err
		}
	}
	doc := cloneDoc(preview)
	setStatus(doc, s)
	// A row an older trendql let in (or a write outside trendql) must not
	// go live as it is.
	if err := validateDoc(doc, "input."); err != nil {
		return err
	}
	floor, err := w.versionFloor(t, m)
	if err != nil {
		return err
	}
	if m.drafted {
		// The draft goes first: the content table's row then takes its
		// values without the draft's links still pointing at it.
		if err := w.dropDraft(t, m.id); err != nil {
			return err
		}
	}
	_, err = w.putWith(t, m.id, old, doc, action, putOpts{floor: floor, prev: preview})
	return err
}

// discardDraft drops a published item's draft: its preview is its live
// version again. EINVALID when it has none.
func (w *writer) discardDraft(t TypeName, id int64, ifVersion *int) error {
	m, err := w.meta(t, id)
	if err != nil {
		return err
	}
	if err := checkVersion(t, m, ifVersion); err != nil {
		return err
	}
	if !m.drafted {
		return Invalid("id", "%s %s has no unpublished changes to discard", t, EncodeID(t, id))
	}
	draft, err := w.loadDocAs(t, m)
	if err != nil {
		return err
	}
	live, err := w.loadLiveDoc(t, id, m)
	if err != nil {
		return err
	}
	if m.slug != m.liveSlug {
		if err := w.pinLinkers(t, id); err != nil {
			return err
		}
	}
	if err := w.dropDraft(t, id); err != nil {
		return err
	}
	w.remember(t, m.liveSlug, id)
	w.checkInPreview(t, id)
	_, err = w.tx.event(t, id, m.liveSlug, ActionDiscard, m.version+1, m.status, changedSince{old: draft, draft: true}, live)
	return err
}

// Publish publishes an item: a draft item becomes PUBLISHED; a published
// item's pending draft becomes its live version. ENOTFOUND, ECONFLICT,
// EINVALID when it is published with no draft.
func (d *DB) Publish(ctx context.Context, t TypeName, id int64, ifVersion *int) error {
	return d.writeTx(ctx, func(w *writer) error { return w.publishItem(t, id, ifVersion) })
}

// Unpublish takes a published item down (it becomes a DRAFT holding its
// pending edits, if any). Unpublishing a draft changes nothing.
// ENOTFOUND, ECONFLICT.
func (d *DB) Unpublish(ctx context.Context, t TypeName, id int64, ifVersion *int) error {
	return d.writeTx(ctx, func(w *writer) error { return w.unpublishItem(t, id, ifVersion) })
}

// DiscardDraft drops a published item's pending draft. ENOTFOUND,
// ECONFLICT, EINVALID when it has none.
func (d *DB) DiscardDraft(ctx context.Context, t TypeName, id int64, ifVersion *int) error {
	return d.writeTx(ctx, func(w *writer) error { return w.discardDraft(t, id, ifVersion) })
}

// FieldChange is one field in which a published item's draft differs
// from its live version: both values as JSON (null when absent).
type FieldChange struct {
	Field string
	Live  []byte
	Draft []byte
}

// DraftedIDs returns which of the given items of type t have a pending
// draft, for the caller in ctx: none for anonymous callers. One statement.
func (d *DB) DraftedIDs(ctx context.Context, t TypeName, ids []int64) (map[int64]bool, error) {
	out := map[int64]bool{}
	if !canSeeDrafts(ctx) || len(ids) == 0 {
		return out, nil
	}
	rows, err := d.query(ctx, "SELECT id FROM "+draftTableOf[t]+" WHERE id IN (SELECT CAST(value AS INTEGER) FROM json_each(?))", int64sJSON(ids))
	if err != nil {
		return nil, fmt.Errorf("drafts of %s: %w", t, err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out[id] = true
	}
	return out, rows.Err()
}

// UnpublishedChanges returns, for each of the given items of type t that
// has a pending draft, the fields in which the draft differs from the live
// version, in document order; nothing for anonymous callers. Two
// statements (the live and the preview documents) whatever the number of
// items.
func (d *DB) UnpublishedChanges(ctx context.Context, t TypeName, ids []int64) (map[int64][]FieldChange, error) {
	out := map[int64][]FieldChange{}
	drafted, err := d.DraftedIDs(ctx, t, ids)
	if err != nil || len(drafted) == 0 {
		return out, err
	}
	var with []int64
	for id := range drafted {
		with = append(with, id)
	}
	slices.Sort(with)
	query := func(q string, args ...any) (rows, error) { return d.query(ctx, q, args...) }
	preview, err := currentDocuments(query, t, with)
	if err != nil {
		return nil, err
	}
	live, err := liveDocuments(query, t, with)
	if err != nil {
		return nil, err
	}
	for _, id := range with {
		var a, b map[string]json.RawMessage
		if err := json.Unmarshal(live[id], &a); err != nil {
			return nil, err
		}
		if err := json.Unmarshal(preview[id], &b); err != nil {
			return nil, err
		}
		changes := []FieldChange{}
		for _, f := range jsonFieldOrder(newDoc(t)) {
			if f == "status" || string(a[f]) == string(b[f]) {
				continue
			}
			changes = append(changes, FieldChange{Field: f, Live: orNull(a[f]), Draft: orNull(b[f])})
		}
		out[id] = changes
	}
	return out, nil
}

func orNull(b json.RawMessage) []byte {
	if len(b) == 0 {
		return []byte("null")
	}
	return b
}

// liveDocuments reads items' live documents (drafts not applied), naming
// the items they link to by their preview slugs, as every document does.
func liveDocuments(query rowsFunc, t TypeName, ids []int64) (map[int64]json.RawMessage, error) {
	return documentsFrom(query, t, ids, docSource{items: contentOf, links: contentOf, targets: overlayOf})
}

// docRowOf is what put and putDraft write of a document.
type docRowOf struct {
	slug   string
	status Status
	cols   []string
	vals   []any
	links  []docLinks
}

// docLinks is one relation list of a document, with its old value.
type docLinks struct {
	l          link
	to         TypeName
	slugs, old []string
}

// docRow splits a document into its row's columns and its link lists
// (with old's lists, for the ones that changed).
func docRow(doc, old any) (docRowOf, error) {
	var r docRowOf
	add := func(l link, to TypeName, slugs, old []string) {
		r.links = append(r.links, docLinks{l, to, slugs, old})
	}
	switch d := doc.(type) {
	case *CompanyDoc:
		r.slug, r.status = d.Slug, d.Status
		r.cols, r.vals = []string{"slug", "name"}, []any{d.Slug, d.Name}
	case *FrameworkDoc:
		r.slug, r.status = d.Slug, d.Status
		r.cols = []string{"slug", "name", "kind", "language", "creator", "first_released", "architecture", "summary", "features"}
		r.vals = []any{d.Slug, d.Name, string(d.Kind), d.Language, d.Creator, d.FirstReleased, d.Architecture, d.Summary, encodeList(d.Features)}
		o, _ := old.(*FrameworkDoc)
		add(linkFrameworkCompanies, TypeCompany, d.Companies, oldList(o, func(o *FrameworkDoc) []string { return o.Companies }))
	case *TrendDoc:
		r.slug, r.status = d.Slug, d.Status
		r.cols = []string{"slug", "rank", "name", "category", "summary", "body", "highlights", "examples"}
		r.vals = []any{d.Slug, d.Rank, d.Name, string(d.Category), d.Summary, d.Body, encodeList(d.Highlights), encodeList(d.Examples)}
		o, _ := old.(*TrendDoc)
		add(linkTrendFrameworks, TypeFramework, d.Frameworks, oldList(o, func(o *TrendDoc) []string { return o.Frameworks }))
		add(linkTrendCompanies, TypeCompany, d.Companies, oldList(o, func(o *TrendDoc) []string { return o.Companies }))
	case *FAQDoc:
		r.slug, r.status = d.Slug, d.Status
		r.cols = []string{"slug", "position", "question", "answer", "items"}
		r.vals = []any{d.Slug, d.Position, d.Question, d.Answer, encodeList(d.Items)}
		o, _ := old.(*FAQDoc)
		add(linkFAQFrameworks, TypeFramework, d.Frameworks, oldList(o, func(o *FAQDoc) []string { return o.Frameworks }))
		add(linkFAQTrends, TypeTrend, d.Trends, oldList(o, func(o *FAQDoc) []string { return o.Trends }))
	default:
		return r, fmt.Errorf("put: unknown document %T", doc)
	}
	return r, nil
}

// isNilDoc reports whether a document is absent.
func isNilDoc(doc any) bool { return doc == nil || reflect.ValueOf(doc).IsNil() }
