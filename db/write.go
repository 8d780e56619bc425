package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// itemMeta is the lifecycle state of one stored item.
type itemMeta struct {
	id      int64
	slug    string // in the preview: the draft's, when it has one
	version int    // in the preview
	status  Status
	// drafted: a published item with a pending draft; liveSlug is the
	// slug of its live version (its slug when it has no draft).
	drafted  bool
	liveSlug string
}

// tableOf maps content types to their SQL tables.
var tableOf = map[TypeName]string{
	TypeTrend: "trends", TypeFramework: "frameworks", TypeCompany: "companies", TypeFAQ: "faqs",
}

// writer does the writes of one transaction: rows, links and their events.
// Import and every mutation go through it, so both keep versions, times,
// links and the event log the same way.
type writer struct {
	tx  *Tx
	ids map[TypeName]map[string]int64 // slug → row id, filled lazily
	// complete marks the types whose every row is in ids (the type had
	// none when the transaction began): a slug not there has no row.
	complete map[TypeName]bool
	nextID   map[TypeName]int64 // the id the next new item of a type gets
	// restoring is the revision a restore writes back, so a unique value
	// it cannot have is reported as that revision's fault.
	restoring int64
	// links, when set (a bulk import), holds new links to be written in
	// large batches (see linkBuffer).
	links *linkBuffer
	// fieldPrefix names the record a write comes from in the errors found
	// at commit ("input." when empty: a mutation's argument).
	fieldPrefix string
	// liveSlugs: slugs name items by their live slug, not their preview
	// one (a content file's records do).
	liveSlugs bool
	// copyTypes are the types whose new items a bulk import buffers when
	// the transaction has a copyBuffer: those it found empty.
	copyTypes map[TypeName]bool
}

func (tx *Tx) writer() *writer {
	return &writer{tx: tx, ids: map[TypeName]map[string]int64{}, complete: map[TypeName]bool{}, nextID: map[TypeName]int64{}}
}

// exec runs a write's statement, prepared once (see Tx.take).
func (w *writer) exec(q string, args ...any) (sql.Result, error) {
	return w.tx.execPrepared(q, args...)
}

// idOf returns the row id of the item of type t with the given slug, or 0.
func (w *writer) idOf(t TypeName, slug string) (int64, error) {
	m := w.ids[t]
	if m == nil {
		m = map[string]int64{}
		w.ids[t] = m
	}
	if id, ok := m[slug]; ok || w.complete[t] {
		return id, nil
	}
	var id int64
	view, err := w.view(tableOf[t])
	if err != nil {
		return 0, err
	}
	if w.liveSlugs {
		view = tableOf[t]
	}
	err = w.queryRow("SELECT id FROM "+view+" WHERE slug = ?", slug).Scan(&id)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return 0, err
	}
	if id != 0 {
		w.remember(t, slug, id)
	}
	return id, nil
}

func (w *writer) idsOf(t TypeName, slugs []string) ([]int64, error) {
	out := make([]int64, len(slugs))
	for i, s := range slugs {
		id, err := w.idOf(t, s)
		if err != nil {
			return nil, err
		}
		if id == 0 {
			return nil, Errorf(EINVALID, "no %s with slug %q", t, s)
		}
		out[i] = id
	}
	return out, nil
}

// meta reads an item's lifecycle state; ENOTFOUND when it does not exist.
// The slug is the item's real one even while it is parked (see park), and
// the writer remembers that this slug names this item.
func (w *writer) meta(t TypeName, id int64) (itemMeta, error) {
	m := itemMeta{id: id}
	err := w.queryRow("SELECT slug, version, status FROM "+tableOf[t]+" WHERE id = ?", id).Scan(&m.slug, &m.version, &m.status)
	if errors.Is(err, sql.ErrNoRows) {
		return m, Errorf(ENOTFOUND, "%s %s not found", t, EncodeID(t, id))
	}
	if err != nil {
		return m, err
	}
	m.slug = w.tx.realValue(t, "slug", id, m.slug).(string)
	m.liveSlug = m.slug
	if some, err := w.tx.anyDrafts(); err != nil {
		return m, err
	} else if some {
		err := w.queryRow("SELECT slug, version FROM "+draftTableOf[t]+" WHERE id = ?", id).Scan(&m.slug, &m.version)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return m, err
		}
		m.drafted = err == nil
	}
	w.remember(t, m.slug, id)
	return m, nil
}

// linkSlugs reads the slugs an item links to through l, in order: the
// real slugs of parked items (see park), which the writer remembers as
// naming those items, so writing the list back links the same items.
func (w *writer) linkSlugs(table string, l link, target TypeName, id int64) ([]string, error) {
	slug := "coalesce(d.slug, x.slug), d.id IS NOT NULL"
	if w.liveSlugs {
		slug = "x.slug, 0"
	}
	rows, err := w.tx.query("SELECT x.id, "+slug+" FROM "+table+" l JOIN "+tableOf[target]+" x ON x.id = l."+l.to+
		" LEFT JOIN "+draftTableOf[target]+" d ON d.id = x.id WHERE l."+l.from+" = ? ORDER BY l.position", id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []string{}
	for rows.Next() {
		var to int64
		var s string
		var drafted bool
		if err := rows.Scan(&to, &s, &drafted); err != nil {
			return nil, err
		}
		if !drafted {
			s = w.tx.realValue(target, "slug", to, s).(string)
		}
		w.remember(target, s, to)
		out = append(out, s)
	}
	return out, rows.Err()
}

// loadDoc reads one item as its content document, drafts applied.
func (w *writer) loadDoc(t TypeName, id int64) (any, itemMeta, error) {
	m, err := w.meta(t, id)
	if err != nil {
		return nil, m, err
	}
	doc, err := w.loadDocAs(t, m)
	return doc, m, err
}

// loadDocAs reads the document of the item m describes, drafts applied.
func (w *writer) loadDocAs(t TypeName, m itemMeta) (any, error) {
	doc, err := w.loadParkedDoc(t, m.id, m)
	if err != nil {
		return nil, err
	}
	if m.drafted {
		return doc, nil // a draft's values are never parked
	}
	// A parked row's document holds its real values (see park).
	slug, _, num, numField := docFields(doc)
	*slug = w.tx.realValue(t, "slug", m.id, *slug).(string)
	if num != nil {
		*num = w.tx.realValue(t, numField, m.id, *num).(int)
	}
	return doc, nil
}

// loadParkedDoc reads one item's document as stored: its draft's when m
// says it has one.
func (w *writer) loadParkedDoc(t TypeName, id int64, m itemMeta) (any, error) {
	var err error
	q := func(tb string, cols string) string {
		if m.drafted {
			tb = draftTableOf[t]
		}
		return "SELECT " + cols + " FROM " + tb + " WHERE id = ?"
	}
	linkSlugs := func(l link, target TypeName, id int64) ([]string, error) {
		table := l.table
		if m.drafted {
			table += "_drafts"
		}
		return w.linkSlugs(table, l, target, id)
	}
	switch t {
	case TypeCompany:
		d := &CompanyDoc{Slug: m.slug, Status: m.status}
		err = w.queryRow(q("companies", "name"), id).Scan(&d.Name)
		return d, err
	case TypeFramework:
		d := &FrameworkDoc{Slug: m.slug, Status: m.status}
		var features string
		err = w.queryRow(q("frameworks", "name, kind, language, creator, first_released, architecture, summary, features"), id).
			Scan(&d.Name, &d.Kind, &d.Language, &d.Creator, &d.FirstReleased, &d.Architecture, &d.Summary, &features)
		if err != nil {
			return nil, err
		}
		d.Features = decodeList(features)
		d.Companies, err = linkSlugs(linkFrameworkCompanies, TypeCompany, id)
		return d, err
	case TypeTrend:
		d := &TrendDoc{Slug: m.slug, Status: m.status}
		var highlights, examples string
		err = w.queryRow(q("trends", "rank, name, category, summary, body, highlights, examples"), id).
			Scan(&d.Rank, &d.Name, &d.Category, &d.Summary, &d.Body, &highlights, &examples)
		if err != nil {
			return nil, err
		}
		d.Highlights, d.Examples = decodeList(highlights), decodeList(examples)
		if d.Frameworks, err = linkSlugs(linkTrendFrameworks, TypeFramework, id); err != nil {
			return nil, err
		}
		d.Companies, err = linkSlugs(linkTrendCompanies, TypeCompany, id)
		return d, err
	case TypeFAQ:
		d := &FAQDoc{Slug: m.slug, Status: m.status}
		var items string
		err = w.queryRow(q("faqs", "position, question, answer, items"), id).Scan(&d.Position, &d.Question, &d.Answer, &items)
		if err != nil {
			return nil, err
		}
		d.Items = decodeList(items)
		if d.Frameworks, err = linkSlugs(linkFAQFrameworks, TypeFramework, id); err != nil {
			return nil, err
		}
		d.Trends, err = linkSlugs(linkFAQTrends, TypeTrend, id)
		return d, err
	}
	return nil, fmt.Errorf("unknown type %s", t)
}

// put writes a document to the content table: a new row when old is nil
// (with a fresh id when id is 0, else with id: a deleted item coming back),
// else an update of row id (version + 1); then its links where they
// changed, then its event. old is the stored document. It returns the row
// id.
func (w *writer) put(t TypeName, id int64, old, doc any, action string) (int64, error) {
	return w.putWith(t, id, old, doc, action, putOpts{})
}

// putWith is put with the variations of o.
func (w *writer) putWith(t TypeName, id int64, old, doc any, action string, o putOpts) (int64, error) {
	row, err := docRow(doc, old)
	if err != nil {
		return 0, err
	}
	cols, vals, links, slug, status := row.cols, row.vals, row.links, row.slug, row.status
	table := tableOf[t]
	now := w.tx.now()
	var version int
	comesBack := old == nil && id != 0
	if old == nil && id == 0 {
		// Row ids are never reused: an id names one item for good, so an
		// old global id never finds a newer item and revisions (keyed by
		// type and id) never mix two items' histories. A new item gets an
		// id above every id its type has ever had (the event log remembers
		// deleted ones); an item restored after deletion gets its own id
		// back and goes on from the version its deletion recorded.
		// The transaction holds the write lock: once the next id is known,
		// the ones after it are too (an import creates thousands). A
		// savepoint rolled back after taking one leaves a gap, never a
		// reuse.
		if id = w.nextID[t]; id == 0 {
			err := w.queryRow("SELECT max(coalesce((SELECT max(id) FROM "+table+"), 0), "+
				"coalesce((SELECT max(item_id) FROM events WHERE type = ?), 0)) + 1", string(t)).Scan(&id)
			if err != nil {
				return 0, err
			}
		}
		w.nextID[t] = id + 1
	}
	if comesBack {
		err := w.queryRow("SELECT coalesce(max(version), 0) + 1 FROM events WHERE type = ? AND item_id = ?", string(t), id).Scan(&version)
		if err != nil {
			return 0, err
		}
	}
	if !isNilDoc(old) {
		if oldSlug, _, _, _ := docFields(old); oldSlug != nil && *oldSlug != slug {
			if err := w.pinLinkers(t, id); err != nil {
				return 0, err
			}
		}
	}
	write := func() error {
		if old == nil {
			var published any
			if status == StatusPublished {
				published = now
			}
			q := "INSERT INTO " + table + " (id, " + joinCols(cols) + ", status, version, created_at, updated_at, published_at) VALUES (" +
				placeholders(len(cols)+6) + ")"
			args := append([]any{id}, vals...)
			_, err := w.exec(q, append(args, string(status), max(version, 1), now, now, published)...)
			return err
		}
		set := ""
		for _, c := range cols {
			set += c + " = ?, "
		}
		// published_at keeps the first publication while the item stays
		// published, and is cleared when it goes back to draft.
		q := "UPDATE " + table + " SET " + set + "status = ?, version = max(version, ?) + 1, updated_at = ?, " +
			"published_at = CASE WHEN ? = 'PUBLISHED' THEN coalesce(published_at, ?) ELSE NULL END WHERE id = ? RETURNING version"
		return w.queryRow(q, append(vals, string(status), o.floor, now, string(status), now, id)...).Scan(&version)
	}
	if old == nil && w.copying(t) {
		// A new item of a type the import found empty: no stored row holds
		// its slug, rank or position, and the import refused any the file
		// gives twice, so the row cannot fail on them and needs no
		// savepoint; it waits in the buffer with the others.
		var published any
		if status == StatusPublished {
			published = now
		}
		allCols := append(append([]string{"id"}, cols...), "status", "version", "created_at", "updated_at", "published_at")
		allVals := append(append([]any{id}, vals...), string(status), max(version, 1), now, now, published)
		err = w.tx.copyRow(table, allCols, allVals)
	} else {
		err = w.tx.try(write)
		if w.tx.isUniqueViolation(err) {
			// Unique values are checked at commit, not here (see park): the
			// rows holding ours give them up for now, and we write again.
			if err := w.freeUnique(t, id, cols, vals); err != nil {
				return 0, err
			}
			err = write()
		}
	}
	if err != nil {
		return 0, err
	}
	version = max(version, 1)
	w.tx.unpark(t, id)
	w.remember(t, slug, id)
	for _, l := range links {
		if old != nil && slices.Equal(l.old, l.slugs) {
			continue
		}
		to, err := w.idsOf(l.to, l.slugs)
		if err != nil {
			return 0, err
		}
		if err := w.setLinks(l.l, id, to, old == nil); err != nil {
			return 0, err
		}
	}
	w.checkInPreview(t, id)
	queue := w.tx.root().copies != nil
	if _, err := w.tx.appendEvent(queue, t, id, slug, action, version, status, changedSince{old: old, prev: o.prev}, doc); err != nil {
		return 0, err
	}
	return id, nil
}

// freeUnique makes the document's unique values (slug, rank, position)
// free for row id before it is written: another row holding one is parked
// (see park), and the commit fails if it is still parked then.
func (w *writer) freeUnique(t TypeName, id int64, cols []string, vals []any) error {
	for _, c := range uniqueCols[t] {
		v := vals[slices.Index(cols, c)]
		err := w.park(t, c, id, v, func(holder string) error { return w.uniqueErr(t, c, v, holder) })
		if err != nil {
			return err
		}
	}
	return nil
}

// uniqueErr is the error of a write whose unique value another item still
// holds at commit.
func (w *writer) uniqueErr(t TypeName, col string, v any, holder string) error {
	var err error
	if col == "slug" {
		err = Invalid("input.slug", "slug %q is taken by another %s", v, t)
	} else {
		err = Invalid("input."+col, "%s %d is taken by %s %q", col, v, t, holder)
	}
	if w.restoring != 0 {
		err = restoreConflict(w.restoring, err)
	}
	return err
}

func oldList[D any](o *D, get func(*D) []string) []string {
	if o == nil {
		return nil
	}
	return get(o)
}

// queryRow runs a one-row statement, prepared once (see Tx.take).
func (w *writer) queryRow(q string, args ...any) scanner {
	return w.tx.queryRowPrepared(q, args...)
}

func (w *writer) remember(t TypeName, slug string, id int64) {
	m := w.ids[t]
	if m == nil || len(m) >= maxCachedIDs {
		// Past the cap the cache starts over (and no longer knows every
		// row), so that a huge import's memory stays bounded; misses are
		// one indexed look-up each.
		if m != nil {
			w.complete[t] = false
		}
		m = map[string]int64{}
		w.ids[t] = m
	}
	m[slug] = id
}

// maxCachedIDs bounds the slug → id cache of one type (about 25 MiB).
const maxCachedIDs = 250_000

// setLinks replaces the links of one item on l's "from" side.
// A new item (fresh) has no links to delete. The links go in as multi-row
// INSERTs of up to linkChunk rows: one statement per item instead of one
// per link made a bulk import of 50,000 links a third faster.
func (w *writer) setLinks(l link, from int64, to []int64, fresh bool) error {
	return w.setLinksIn(l.table, l, from, to, fresh)
}

// setLinksIn is setLinks into table: l's own, or its drafts table.
func (w *writer) setLinksIn(table string, l link, from int64, to []int64, fresh bool) error {
	if !fresh {
		if _, err := w.exec("DELETE FROM "+table+" WHERE "+l.from+" = ?", from); err != nil {
			return err
		}
	}
	if w.links != nil && table == l.table {
		return w.links.add(w, l, from, to)
	}
	for start := 0; start < len(to); start += linkChunk {
		chunk := to[start:min(start+linkChunk, len(to))]
		q := "INSERT INTO " + table + " (" + l.from + ", " + l.to + ", position) VALUES " +
			strings.TrimSuffix(strings.Repeat("(?, ?, ?), ", len(chunk)), ", ")
		args := make([]any, 0, 3*len(chunk))
		for i, id := range chunk {
			args = append(args, from, id, start+i+1)
		}
		if _, err := w.exec(q, args...); err != nil {
			return err
		}
	}
	return nil
}

// linkChunk is the most link rows one INSERT writes.
const linkChunk = 16

// sameDoc reports whether two documents hold the same content.
func sameDoc(a, b any) bool { return reflect.DeepEqual(a, b) }

// writeTx runs fn in one write transaction and commits it.
func (d *DB) writeTx(ctx context.Context, fn func(w *writer) error) error {
	tx, err := d.BeginTx(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	w := tx.writer()
	if err := fn(w); err != nil {
		return err
	}
	return tx.Commit()
}

// isUniqueViolation reports whether err is SQLite refusing a duplicate
// value of a UNIQUE column.
// try runs fn, a statement whose failure the caller handles and goes on
// from. SQLite goes on after a failed statement; PostgreSQL aborts the
// transaction, so there fn runs inside a savepoint that its failure rolls
// back to.
func (tx *Tx) try(fn func() error) error {
	if !tx.db.eng.abortsOnError() {
		return fn()
	}
	if _, err := tx.exec("SAVEPOINT trendql_try"); err != nil {
		return err
	}
	if err := fn(); err != nil {
		if _, rerr := tx.exec("ROLLBACK TO SAVEPOINT trendql_try; RELEASE SAVEPOINT trendql_try"); rerr != nil {
			return errors.Join(err, rerr)
		}
		return err
	}
	_, err := tx.exec("RELEASE SAVEPOINT trendql_try")
	return err
}

func (tx *Tx) isUniqueViolation(err error) bool {
	return tx.db.eng.isUniqueViolation(err)
}

func isSQLiteUniqueViolation(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE
}
