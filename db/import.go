package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"slices"
	"strings"
)

// ImportResult says what an import did (or, dry, would do) per type.
type ImportResult struct {
	Created, Updated, Unchanged map[TypeName]int
	ArticleChanged              bool
}

func newImportResult() *ImportResult {
	return &ImportResult{Created: map[TypeName]int{}, Updated: map[TypeName]int{}, Unchanged: map[TypeName]int{}}
}

// changed is how many items the import created or updated.
func (r *ImportResult) changed() int {
	n := 0
	for _, t := range Types {
		n += r.Created[t] + r.Updated[t]
	}
	return n
}

// bulkImportRecords is the size from which an import rebuilds the search
// index once at its end instead of updating it row by row.
var bulkImportRecords = 1000

// importCacheKiB is the writer's page cache during an import.
const importCacheKiB = 16 << 10

// Import upserts a content document by slug in one transaction: items whose
// slug exists are updated (their version goes up only if something changed),
// others are created; relations are replaced by the document's. Items the
// document does not mention are left alone. A bad document changes nothing
// and fails with EINVALID naming the record and field (e.g.
// "trends[3].rank"). With dryRun the transaction is rolled back and the
// result says what would have happened.
func (d *DB) Import(ctx context.Context, c *Content, dryRun bool) (*ImportResult, error) {
	if c == nil {
		return nil, Invalid("format", "empty document")
	}
	records := len(c.Companies) + len(c.Frameworks) + len(c.Trends) + len(c.FAQs)
	return d.importWith(ctx, dryRun, records, func(sink contentSink) error { return c.feed(sink) })
}

// ImportFrom imports the content document read from r as Import does,
// streaming: it holds one record at a time, never the document, so memory
// stays bounded whatever the file's size (a capped cache of slugs and row
// ids resolves the references between records). Errors are Import's, and
// for a malformed file EINVALID naming the record and field (invalid
// UTF-8, a field twice, a wrong type) or the line and column of broken
// JSON; either way nothing is changed. The file is read twice: first to check its JSON and count its
// records (broken JSON or more than MaxImportRecords of a kind is refused
// before anything is written), then to import it. A source that cannot
// seek (standard input) is first copied to a temporary file, so the write
// transaction is not held open while a slow source trickles in, and a
// syntax error can be placed at its line.
func (d *DB) ImportFrom(ctx context.Context, r io.Reader, dryRun bool) (*ImportResult, error) {
	if !seekable(r) {
		f, err := os.CreateTemp("", "trendql-import-*.json")
		if err != nil {
			return nil, fmt.Errorf("import: %w", err)
		}
		defer os.Remove(f.Name())
		defer f.Close()
		if _, err := io.Copy(f, r); err != nil {
			return nil, fmt.Errorf("import: read content: %w", err)
		}
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return nil, fmt.Errorf("import: %w", err)
		}
		r = f
	}
	// A first pass over the file (fast: records are checked as JSON, not
	// decoded) refuses broken JSON and too many records before the write
	// transaction begins; the second pass imports.
	rs := r.(io.ReadSeeker)
	start, err := rs.Seek(0, io.SeekCurrent)
	if err != nil {
		return nil, fmt.Errorf("import: %w", err)
	}
	records, err := scanContent(rs)
	if err != nil {
		return nil, err
	}
	if _, err := rs.Seek(start, io.SeekStart); err != nil {
		return nil, fmt.Errorf("import: %w", err)
	}
	return d.importWith(ctx, dryRun, records, func(sink contentSink) error {
		return pipeContent(sink, func(s contentSink) error { return readContent(rs, s) })
	})
}

// seekable reports whether r can be read again from where it is: an
// *os.File can be a pipe, which cannot.
func seekable(r io.Reader) bool {
	s, ok := r.(io.Seeker)
	if !ok {
		return false
	}
	_, err := s.Seek(0, io.SeekCurrent)
	return err == nil
}

// importWith runs one import: feed delivers the document, of the given
// number of records, to an importer working inside one write transaction.
func (d *DB) importWith(ctx context.Context, dryRun bool, records int, feed func(contentSink) error) (*ImportResult, error) {
	// A bigger page cache for the writer while it imports: a large import
	// touches every index all the time, and with SQLite's default 2 MiB
	// it spilled and re-read pages throughout. (Statement journals stay in
	// temporary files: in memory they cost 400 MB at the search index's
	// rebuild, one statement that rewrites the whole index.)
	// Inside a request's transaction (see BeginRequest) the one writer
	// connection is the request's: taking it here would wait for ever, so
	// the import joins the transaction with the cache it has.
	if requestFrom(ctx, d) == nil && d.eng.name() == "sqlite" {
		var cacheSize int
		if err := d.write.QueryRowContext(ctx, "PRAGMA cache_size").Scan(&cacheSize); err != nil {
			return nil, fmt.Errorf("import: %w", err)
		}
		if _, err := d.write.ExecContext(ctx, fmt.Sprintf("PRAGMA cache_size = %d", -importCacheKiB)); err != nil {
			return nil, fmt.Errorf("import: %w", err)
		}
		defer d.write.ExecContext(context.WithoutCancel(ctx), fmt.Sprintf("PRAGMA cache_size = %d", cacheSize))
	}
	var tx *Tx
	var conn *sql.Conn
	var err error
	if requestFrom(ctx, d) == nil && d.eng.name() == "postgres" {
		// The transaction's own connection, whose pgx connection a bulk
		// import writes its new rows through with COPY (see copyBuffer).
		if conn, err = d.write.Conn(ctx); err != nil {
			return nil, fmt.Errorf("import: %w", err)
		}
		defer conn.Close()
		tx, err = d.beginTxOn(ctx, conn)
	} else {
		tx, err = d.BeginTx(ctx)
	}
	if err != nil {
		return nil, fmt.Errorf("import: %w", err)
	}
	defer tx.Rollback()
	w := tx.writer()
	im := &importer{tx: tx, w: w, res: newImportResult(), written: map[TypeName]*bitset{}, fresh: map[TypeName]bool{},
		ranks: map[int]int{}, positions: map[int]int{}, conn: conn, bulkFrom: bulkImportRecords}
	if records >= bulkImportRecords {
		// Known to be big: the bulk path from the first record, so that
		// its caches (statuses, row ids) know every item the file writes.
		im.bulkFrom = 1
	}
	w.liveSlugs = true // records name items by their live slugs
	for _, t := range Types {
		im.written[t] = &bitset{}
		// A type with no rows yet (a new database) has no slug to look
		// up: the writer then knows every id from what it writes.
		var exists bool
		if err := tx.queryRow("SELECT EXISTS (SELECT 1 FROM " + tableOf[t] + ")").Scan(&exists); err != nil {
			return nil, fmt.Errorf("import: %w", err)
		}
		if !exists {
			w.complete[t] = true
			im.fresh[t] = true
		}
	}
	if err := feed(im); err != nil {
		return nil, err
	}
	if w.links != nil {
		if err := w.links.flush(w); err != nil {
			return nil, fmt.Errorf("import: %w", err)
		}
	}
	// Written before the end of a dry run too, so that it fails where
	// the import would.
	if err := tx.flushCopies(); err != nil {
		return nil, fmt.Errorf("import: %w", err)
	}
	if err := im.applyDrafts(); err != nil {
		return nil, err
	}
	if err := tx.checkPreviewUnique(); err != nil {
		return nil, fmt.Errorf("import: %w", err)
	}
	if dryRun {
		return im.res, nil
	}
	if im.bulk {
		if err := d.eng.afterBulkWrite(tx); err != nil {
			return nil, fmt.Errorf("import: %w", err)
		}
	}
	if im.bulk {
		err = tx.rebuildSearch(im.res.changed() > 0, im.triggers)
	} else {
		err = tx.compactSearchAfter(im.res.changed())
	}
	if err != nil {
		return nil, fmt.Errorf("import: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("import: %w", err)
	}
	return im.res, nil
}

// feed hands an in-memory document to a sink, as readContent does a file.
func (c *Content) feed(sink contentSink) error {
	if c.Format != ContentFormat {
		return Invalid("format", "format must be %q, got %q", ContentFormat, truncate(c.Format, 40))
	}
	if c.Article != nil {
		a := *c.Article
		if err := sink.article(&a); err != nil {
			return err
		}
	}
	for _, l := range []struct {
		name string
		n    int
	}{{"companies", len(c.Companies)}, {"frameworks", len(c.Frameworks)}, {"trends", len(c.Trends)}, {"faqs", len(c.FAQs)}} {
		if l.n > MaxImportRecords {
			return Invalid(l.name, "the document has more than %d %s; the limit is %d of each kind", MaxImportRecords, l.name, MaxImportRecords)
		}
	}
	// Records are copied: the importer fills defaults in what it gets.
	for i, x := range c.Companies {
		if err := sink.company(i, &x); err != nil {
			return err
		}
	}
	for i, x := range c.Frameworks {
		x.Features, x.Companies = slices.Clone(x.Features), slices.Clone(x.Companies)
		if err := sink.framework(i, &x); err != nil {
			return err
		}
	}
	for i, x := range c.Trends {
		x.Highlights, x.Examples = slices.Clone(x.Highlights), slices.Clone(x.Examples)
		x.Frameworks, x.Companies = slices.Clone(x.Frameworks), slices.Clone(x.Companies)
		if err := sink.trend(i, &x); err != nil {
			return err
		}
	}
	for i, x := range c.FAQs {
		x.Items, x.Frameworks, x.Trends = slices.Clone(x.Items), slices.Clone(x.Frameworks), slices.Clone(x.Trends)
		if err := sink.faq(i, &x); err != nil {
			return err
		}
	}
	return sink.end(true)
}

// importer applies a document record by record inside one transaction:
// each record is validated on its own (fields, references to records
// before it or in the database) and written at once; what needs the whole
// document (a slug, rank or position given twice, a rank still held by an
// item the file does not mention) is checked as it goes and at the end.
// Any error rolls everything back.
type importer struct {
	tx  *Tx
	w   *writer
	res *ImportResult
	// written marks, by row id, the items the file gave so far (created,
	// updated or unchanged), per type: a bit per id where a set of slugs
	// would grow with the file.
	written map[TypeName]*bitset
	// fresh marks the types that had no rows when the import began: no
	// stored item can hold a number the file gives.
	fresh map[TypeName]bool
	// ranks and positions map the numbers the file gave to the index of
	// the record that gave them.
	ranks, positions map[int]int
	records          int
	bulkFrom         int      // the record from which the import is bulk
	bulk             bool     // the search index is suspended until the end
	triggers         []string // the search triggers suspendSearch dropped
	// parked says that stored trends or FAQs were moved to a negative rank
	// or position to free theirs for a record of the file; each must come
	// back in the file (with another number) or the file is refused.
	parkedTrends, parkedFAQs bool
	// drafts are the records' drafts, written once every record is (they
	// may name items that come later in the file).
	drafts []pendingDraft
	// conn is the transaction's connection on PostgreSQL (nil on SQLite,
	// and inside a request), for the bulk path's copyBuffer.
	conn *sql.Conn
}

// pendingDraft is a record's draft, to be written at the end.
type pendingDraft struct {
	t      TypeName
	slug   string // the item's (live) slug
	prefix string // the record's path, for errors: "trends[3].draft."
	doc    any
}

// begin counts a record and switches to bulk mode (the search index
// rebuilt once at the end, instead of row by row) once the import is big,
// or at its first record when the file is known to be.
func (im *importer) begin() error {
	im.records++
	if im.records == im.bulkFrom {
		triggers, err := im.tx.suspendSearch()
		if err != nil {
			return fmt.Errorf("import: %w", err)
		}
		im.triggers = triggers
		im.bulk = true
		im.tx.statuses = newStatusCache(im.w)
		im.w.links = &linkBuffer{pending: map[string][]any{}}
		if im.conn != nil {
			im.tx.copies = newCopyBuffer(im.conn)
			im.w.copyTypes = im.fresh
		}
	}
	return nil
}

func (im *importer) format(string) error { return nil }

func (im *importer) article(a *ArticleDoc) error {
	var v validator
	v.name("article.title", a.Title, MaxNameLen, true)
	if !isoDateRE.MatchString(a.LastUpdated) {
		v.fail("article.lastUpdated", "lastUpdated must be an ISO date like 2024-01-29, got %q", truncate(a.LastUpdated, 40))
	}
	v.text("article.intro", a.Intro, MaxBodyLen, false)
	v.text("article.conclusion", a.Conclusion, MaxBodyLen, false)
	for i, s := range a.Sections {
		v.name(fmt.Sprintf("article.sections[%d].heading", i), s.Heading, MaxNameLen, true)
		v.text(fmt.Sprintf("article.sections[%d].body", i), s.Body, MaxBodyLen, false)
	}
	if v.err != nil {
		return v.err
	}
	if a.Sections == nil {
		a.Sections = []SectionDoc{}
	}
	cur, err := exportArticle(im.tx.query)
	if err != nil {
		return fmt.Errorf("import: %w", err)
	}
	if cur != nil && reflect.DeepEqual(*a, *cur) {
		return nil
	}
	if err := im.w.putArticle(cur, a); err != nil {
		return fmt.Errorf("import: article: %w", err)
	}
	im.res.ArticleChanged = true
	return nil
}

// common checks and fills what every record has: a slug given once, a
// status (PUBLISHED when absent).
func (im *importer) common(v *validator, t TypeName, p, slug string, status *Status) error {
	v.slug(p+"slug", slug)
	if v.err == nil {
		id, err := im.w.idOf(t, slug)
		if err != nil {
			return fmt.Errorf("import: %w", err)
		}
		if im.written[t].has(id) {
			v.fail(p+"slug", "slug %q appears twice", truncate(slug, 64))
		}
	}
	if *status == "" {
		*status = StatusPublished
	}
	return nil
}

// bitset is a set of row ids.
type bitset struct{ words []uint64 }

func (b *bitset) has(id int64) bool {
	i := id >> 6
	return id > 0 && i < int64(len(b.words)) && b.words[i]&(1<<(id&63)) != 0
}

func (b *bitset) remove(id int64) {
	if i := id >> 6; id > 0 && i < int64(len(b.words)) {
		b.words[i] &^= 1 << (id & 63)
	}
}

func (b *bitset) add(id int64) {
	i := int(id >> 6)
	if i >= len(b.words) {
		b.words = append(b.words, make([]uint64, i+1-len(b.words))...)
	}
	b.words[i] |= 1 << (id & 63)
}

// refs checks that every slug a record names exists: earlier in the file
// (already written) or in the database.
func (im *importer) refs(v *validator, t TypeName, field string, l []string) error {
	for _, s := range l {
		id, err := im.w.idOf(t, s)
		if err != nil {
			return fmt.Errorf("import: %w", err)
		}
		if id == 0 {
			v.fail(field, "no %s with slug %q in the file or the database", t, truncate(s, 64))
			return nil
		}
	}
	return nil
}

// apply writes one validated record unless it is unchanged; draft is its
// pending draft (nil for none), written at the end (see applyDrafts).
func (im *importer) apply(t TypeName, slug string, doc, draft any, p string, fix func(old any)) error {
	id, err := im.w.idOf(t, slug)
	if err != nil {
		return err
	}
	if !isNilDoc(draft) {
		im.drafts = append(im.drafts, pendingDraft{t: t, slug: slug, prefix: p + "draft.", doc: draft})
	}
	if id == 0 {
		im.res.Created[t]++
		id, err := im.w.put(t, 0, nil, doc, ActionCreate)
		im.written[t].add(id)
		return err
	}
	im.written[t].add(id)
	m, err := im.w.meta(t, id)
	if err != nil {
		return err
	}
	if m.drafted {
		// The stored item has a draft: unchanged when the record has the
		// same live version and the same draft; otherwise the stored
		// draft goes, and the record's (if any) is written at the end.
		live, err := im.w.loadLiveDoc(t, id, m)
		if err != nil {
			return err
		}
		if fix != nil {
			fix(live)
		}
		if !isNilDoc(draft) && sameDoc(live, doc) {
			same, err := im.sameDraft(t, m, draft)
			if err != nil {
				return err
			}
			if same {
				im.drafts = im.drafts[:len(im.drafts)-1]
				im.res.Unchanged[t]++
				return nil
			}
		}
		if err := im.w.discardDraft(t, id, nil); err != nil {
			return err
		}
	}
	old, _, err := im.w.loadDoc(t, id)
	if err != nil {
		return err
	}
	if fix != nil {
		fix(old)
	}
	if sameDoc(old, doc) {
		if m.drafted {
			im.res.Updated[t]++ // its draft went
		} else {
			im.res.Unchanged[t]++
		}
		return nil
	}
	im.res.Updated[t]++
	_, err = im.w.put(t, id, old, doc, ActionUpdate)
	return err
}

// sameDraft reports whether the stored item m's draft is draft (a record's,
// naming the items it links to by their live slugs).
func (im *importer) sameDraft(t TypeName, m itemMeta, draft any) (bool, error) {
	stored, err := exportDraftDoc(im.tx.query, t, m.id)
	if err != nil {
		return false, err
	}
	return sameDoc(stored, draft), nil
}

// applyDrafts writes the records' drafts, once every record is written:
// the items they link to are named by their live slugs, resolved here.
func (im *importer) applyDrafts() error {
	for _, pd := range im.drafts {
		id, err := im.w.idOf(pd.t, pd.slug)
		if err != nil {
			return err
		}
		m, err := im.w.meta(pd.t, id)
		if err != nil {
			return err
		}
		im.w.liveSlugs = false // the draft is written as the preview has it
		old, err := im.w.loadDocAs(pd.t, m)
		im.w.liveSlugs = true
		if err != nil {
			return err
		}
		doc := cloneDoc(pd.doc)
		setStatus(doc, m.status)
		for lt, l := range refLists(doc) {
			for i, s := range *l {
				if (*l)[i], err = im.previewSlug(lt, s); err != nil {
					return err
				}
			}
		}
		if sameDoc(old, doc) {
			continue
		}
		im.w.fieldPrefix, im.w.liveSlugs = pd.prefix, false
		err = im.w.putDraft(pd.t, m, old, doc, ActionUpdate, putOpts{})
		im.w.fieldPrefix, im.w.liveSlugs = "", true
		if err != nil {
			return fmt.Errorf("import: %s %q: draft: %w", pd.t, pd.slug, err)
		}
	}
	return nil
}

// previewSlug is the preview slug of the item of type t whose live slug is
// slug (its draft's, once written).
func (im *importer) previewSlug(t TypeName, slug string) (string, error) {
	var s string
	err := im.tx.queryRow("SELECT coalesce(d.slug, m.slug) FROM "+tableOf[t]+" m LEFT JOIN "+draftTableOf[t]+" d ON d.id = m.id WHERE m.slug = ?", slug).Scan(&s)
	if errors.Is(err, sql.ErrNoRows) {
		return slug, nil // checked when the record was read: a parked slug
	}
	return s, err
}

// validateDraft checks a record's draft: only a published item has one;
// it has no status or draft of its own; its fields are valid and the
// items it names exist.
func (im *importer) validateDraft(v *validator, p string, status Status, draft any) error {
	if isNilDoc(draft) {
		return nil
	}
	if status != StatusPublished {
		v.fail(p+"draft", "only a published item has a draft; this one is %s", status)
		return nil
	}
	if docStatus(draft) != "" {
		v.fail(p+"draft.status", "a draft has no status of its own")
		return nil
	}
	if takeDraft(draft) != nil {
		v.fail(p+"draft.draft", "a draft has no draft")
	}
	// Validated as the published item it will be; stored without a status.
	setStatus(draft, StatusPublished)
	defer setStatus(draft, "")
	return im.checkDoc(v, p+"draft.", draft)
}

// checkRecord checks a record and its draft, which it takes out of the
// record (the draft is written apart, at the end) and returns.
func (im *importer) checkRecord(v *validator, p string, doc any) (any, error) {
	draft := takeDraft(doc)
	if err := im.checkDoc(v, p, doc); err != nil {
		return nil, err
	}
	if v.err != nil {
		return draft, nil
	}
	return draft, im.validateDraft(v, p, docStatus(doc), draft)
}

// checkDoc checks a record (or a record's draft: p names it): its empty
// lists filled in, its fields valid, and the items it names existing,
// earlier in the file or in the database.
func (im *importer) checkDoc(v *validator, p string, doc any) error {
	type refs struct {
		t     TypeName
		field string
		slugs []string
	}
	var named []refs
	switch d := doc.(type) {
	case *CompanyDoc:
		d.validate(v, p)
	case *FrameworkDoc:
		orEmpty(&d.Features, &d.Companies)
		d.validate(v, p)
		named = []refs{{TypeCompany, "companies", d.Companies}}
	case *TrendDoc:
		orEmpty(&d.Highlights, &d.Examples, &d.Frameworks, &d.Companies)
		d.validate(v, p)
		named = []refs{{TypeFramework, "frameworks", d.Frameworks}, {TypeCompany, "companies", d.Companies}}
	case *FAQDoc:
		orEmpty(&d.Items, &d.Frameworks, &d.Trends)
		d.validate(v, p)
		named = []refs{{TypeFramework, "frameworks", d.Frameworks}, {TypeTrend, "trends", d.Trends}}
	}
	for _, r := range named {
		if v.err != nil {
			break
		}
		if err := im.refs(v, r.t, p+r.field, r.slugs); err != nil {
			return err
		}
	}
	return nil
}

// takeDraft removes a record's draft from it and returns it (nil when it
// has none).
func takeDraft(doc any) any {
	switch d := doc.(type) {
	case *CompanyDoc:
		if x := d.Draft; x != nil {
			d.Draft = nil
			return x
		}
	case *FrameworkDoc:
		if x := d.Draft; x != nil {
			d.Draft = nil
			return x
		}
	case *TrendDoc:
		if x := d.Draft; x != nil {
			d.Draft = nil
			return x
		}
	case *FAQDoc:
		if x := d.Draft; x != nil {
			d.Draft = nil
			return x
		}
	}
	return nil
}

func orEmpty(lists ...*[]string) {
	for _, l := range lists {
		if *l == nil {
			*l = []string{}
		}
	}
}

func (im *importer) company(i int, x *CompanyDoc) error {
	if err := im.begin(); err != nil {
		return err
	}
	var v validator
	p := fmt.Sprintf("companies[%d].", i)
	if err := im.common(&v, TypeCompany, p, x.Slug, &x.Status); err != nil {
		return err
	}
	draft, err := im.checkRecord(&v, p, x)
	if err != nil {
		return err
	}
	if v.err != nil {
		return v.err
	}
	if err := im.apply(TypeCompany, x.Slug, x, draft, p, nil); err != nil {
		return fmt.Errorf("import: company %q: %w", x.Slug, err)
	}
	return nil
}

func (im *importer) framework(i int, x *FrameworkDoc) error {
	if err := im.begin(); err != nil {
		return err
	}
	var v validator
	p := fmt.Sprintf("frameworks[%d].", i)
	if err := im.common(&v, TypeFramework, p, x.Slug, &x.Status); err != nil {
		return err
	}
	draft, err := im.checkRecord(&v, p, x)
	if err != nil {
		return err
	}
	if v.err != nil {
		return v.err
	}
	if err := im.apply(TypeFramework, x.Slug, x, draft, p, nil); err != nil {
		return fmt.Errorf("import: framework %q: %w", x.Slug, err)
	}
	return nil
}

func (im *importer) trend(i int, x *TrendDoc) error {
	if err := im.begin(); err != nil {
		return err
	}
	var v validator
	p := fmt.Sprintf("trends[%d].", i)
	if err := im.common(&v, TypeTrend, p, x.Slug, &x.Status); err != nil {
		return err
	}
	if _, ok := im.ranks[x.Rank]; ok {
		v.fail(p+"rank", "rank %d appears twice", x.Rank)
	}
	im.ranks[x.Rank] = i
	draft, err := im.checkRecord(&v, p, x)
	if err != nil {
		return err
	}
	if v.err != nil {
		return v.err
	}
	parked, err := im.park(TypeTrend, "rank", x.Slug, x.Rank)
	if err != nil {
		return fmt.Errorf("import: trend %q: %w", x.Slug, err)
	}
	im.parkedTrends = im.parkedTrends || parked
	unpark := func(old any) {
		if o := old.(*TrendDoc); o.Rank < 0 {
			o.Rank = -o.Rank
		}
	}
	if err := im.apply(TypeTrend, x.Slug, x, draft, p, unpark); err != nil {
		return fmt.Errorf("import: trend %q: %w", x.Slug, err)
	}
	return nil
}

func (im *importer) faq(i int, x *FAQDoc) error {
	if err := im.begin(); err != nil {
		return err
	}
	var v validator
	p := fmt.Sprintf("faqs[%d].", i)
	if err := im.common(&v, TypeFAQ, p, x.Slug, &x.Status); err != nil {
		return err
	}
	if _, ok := im.positions[x.Position]; ok {
		v.fail(p+"position", "position %d appears twice", x.Position)
	}
	im.positions[x.Position] = i
	draft, err := im.checkRecord(&v, p, x)
	if err != nil {
		return err
	}
	if v.err != nil {
		return v.err
	}
	parked, err := im.park(TypeFAQ, "position", x.Slug, x.Position)
	if err != nil {
		return fmt.Errorf("import: faq %q: %w", x.Slug, err)
	}
	im.parkedFAQs = im.parkedFAQs || parked
	unpark := func(old any) {
		if o := old.(*FAQDoc); o.Position < 0 {
			o.Position = -o.Position
		}
	}
	if err := im.apply(TypeFAQ, x.Slug, x, draft, p, unpark); err != nil {
		return fmt.Errorf("import: faq %q: %w", x.Slug, err)
	}
	return nil
}

// park frees number n (a rank or position, col) of type t for the record
// slug: a stored item of another slug holding it moves to -n, which no
// item holds (numbers are positive). Ranks move freely within a file
// (two trends may swap theirs) because of this; a parked item the file
// never gives a new number is refused at the end. A type that had no rows
// when the import began has nothing to park.
func (im *importer) park(t TypeName, col, slug string, n int) (bool, error) {
	if im.fresh[t] {
		return false, nil
	}
	r, err := im.w.exec("UPDATE "+tableOf[t]+" SET "+col+" = -"+col+" WHERE "+col+" = ? AND slug <> ?", n, slug)
	if err != nil {
		return false, err
	}
	moved, err := r.RowsAffected()
	return moved > 0, err
}

// end checks what only the whole document shows: the format was given,
// and no stored item the file does not mention lost its number to the
// file.
func (im *importer) end(formatSeen bool) error {
	if !formatSeen {
		return Invalid("format", "format must be %q, got %q", ContentFormat, "")
	}
	check := func(table, col, list, what string, parked bool, byNumber map[int]int) error {
		if !parked {
			return nil
		}
		var slug string
		var n int
		err := im.tx.queryRow("SELECT slug, -"+col+" FROM "+table+" WHERE "+col+" < 0 ORDER BY "+col+" DESC LIMIT 1").Scan(&slug, &n)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		} else if err != nil {
			return fmt.Errorf("import: %w", err)
		}
		return Invalid(fmt.Sprintf("%s[%d].%s", list, byNumber[n], col), "%s %d is taken by %s %q, which the file does not change", col, n, what, slug)
	}
	if err := check("trends", "rank", "trends", "trend", im.parkedTrends, im.ranks); err != nil {
		return err
	}
	return check("faqs", "position", "faqs", "FAQ", im.parkedFAQs, im.positions)
}

// putArticle writes the article and its sections, with an event.
func (w *writer) putArticle(old, a *ArticleDoc) error {
	now := w.tx.now()
	var version int
	err := w.queryRow(`INSERT INTO article (id, title, last_updated, intro, conclusion, version, created_at, updated_at)
		VALUES (1, ?, ?, ?, ?, 1, ?, ?)
		ON CONFLICT (id) DO UPDATE SET title = excluded.title, last_updated = excluded.last_updated,
			intro = excluded.intro, conclusion = excluded.conclusion, version = article.version + 1, updated_at = excluded.updated_at
		RETURNING version`,
		a.Title, a.LastUpdated, a.Intro, a.Conclusion, now, now).Scan(&version)
	if err != nil {
		return err
	}
	if _, err := w.exec("DELETE FROM article_sections"); err != nil {
		return err
	}
	for i, s := range a.Sections {
		if _, err := w.exec("INSERT INTO article_sections (position, heading, body) VALUES (?, ?, ?)", i+1, s.Heading, s.Body); err != nil {
			return err
		}
	}
	action := ActionUpdate
	if old == nil {
		action = ActionCreate
	}
	_, err = w.tx.event(TypeArticle, 1, "article", action, version, StatusPublished, changedSince{old: orNil(old)}, a)
	return err
}

// linkBuffer holds a bulk import's new links and writes them linkBatch
// rows at a time, per link table, instead of one statement per item. Every
// statement on a table with foreign keys may have to be undone halfway, so
// SQLite first copies each page it changes into a statement journal: once
// per statement and page. One item's links touch a few pages of each of
// the table's indexes (the index by the linked side is written in random
// order), so the 10x set's 100,000 statements copied most of those pages
// over and over; a batch copies each once. Nothing reads a link table
// during an import before the buffer is flushed (an item appears once in a
// file, and the search index is rebuilt after the flush).
type linkBuffer struct {
	pending map[string][]any // by link table: from, to, position, ...
	tables  []link           // in the order first seen, for the final flush
}

// linkBatch is the most rows one of linkBuffer's statements writes (three
// parameters each, within SQLite's 32,766).
const linkBatch = 4096

func (b *linkBuffer) add(w *writer, l link, from int64, to []int64) error {
	args, ok := b.pending[l.table]
	if !ok {
		b.tables = append(b.tables, l)
	}
	for i, id := range to {
		args = append(args, from, id, i+1)
	}
	b.pending[l.table] = args
	if len(args) < 3*linkBatch {
		return nil
	}
	return b.write(w, l, false)
}

// write writes l's pending links in statements of linkBatch rows, and
// with all the rest too.
func (b *linkBuffer) write(w *writer, l link, all bool) error {
	args := b.pending[l.table]
	for len(args) >= 3*linkBatch || (all && len(args) > 0) {
		n := min(len(args)/3, linkBatch)
		q := "INSERT INTO " + l.table + " (" + l.from + ", " + l.to + ", position) VALUES " +
			strings.TrimSuffix(strings.Repeat("(?, ?, ?), ", n), ", ")
		if _, err := w.exec(q, args[:3*n]...); err != nil {
			return err
		}
		args = args[3*n:]
	}
	b.pending[l.table] = append(b.pending[l.table][:0], args...)
	return nil
}

// flush writes every pending link.
func (b *linkBuffer) flush(w *writer) error {
	for _, l := range b.tables {
		if err := b.write(w, l, true); err != nil {
			return err
		}
	}
	return nil
}

func joinCols(cols []string) string {
	out := ""
	for i, c := range cols {
		if i > 0 {
			out += ", "
		}
		out += c
	}
	return out
}

// orNil turns a typed nil pointer into a nil interface.
func orNil[T any](p *T) any {
	if p == nil {
		return nil
	}
	return p
}

// Seed loads the article into a new database.
func (d *DB) Seed(ctx context.Context) error {
	if _, err := d.Import(ctx, ArticleContent(), false); err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	return d.SkipSeed(ctx)
}

// SkipSeed records that a new database is seeded or stays empty (Open
// reported it created). On SQLite a database is new only while its file
// is empty, and there is nothing to record; a PostgreSQL database stays
// new (see migratePG) until this runs, so that a replica starting while
// another is between creating and seeding it does not serve it empty.
func (d *DB) SkipSeed(ctx context.Context) error {
	if d.eng.name() != "postgres" {
		return nil
	}
	tx, err := d.beginTx(ctx)
	if err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.exec("DELETE FROM trendql_meta WHERE key = 'seed'"); err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	return tx.Commit()
}
