package db

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
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
const bulkImportRecords = 1000

func (c *Content) records() int {
	return len(c.Companies) + len(c.Frameworks) + len(c.Trends) + len(c.FAQs)
}

// Import upserts a content document by slug in one transaction: items whose
// slug exists are updated (their version goes up only if something changed),
// others are created; relations are replaced by the document's. Items the
// document does not mention are left alone. The whole document is validated
// first: a bad one changes nothing and fails with EINVALID naming the record
// and field (e.g. "trends[3].rank"). With dryRun the transaction is rolled
// back and the result says what would have happened.
func (d *DB) Import(ctx context.Context, c *Content, dryRun bool) (*ImportResult, error) {
	if err := c.normalize(); err != nil {
		return nil, err
	}
	tx, err := d.BeginTx(ctx)
	if err != nil {
		return nil, fmt.Errorf("import: %w", err)
	}
	defer tx.Rollback()
	bulk := c.records() >= bulkImportRecords
	if bulk && !dryRun {
		if err := tx.suspendSearch(); err != nil {
			return nil, fmt.Errorf("import: %w", err)
		}
	}
	res, err := tx.importContent(c)
	if err != nil {
		return nil, err
	}
	if dryRun {
		return res, nil
	}
	if bulk {
		err = tx.rebuildSearch(res.changed() > 0)
	} else {
		err = tx.compactSearchAfter(res.changed())
	}
	if err != nil {
		return nil, fmt.Errorf("import: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("import: %w", err)
	}
	return res, nil
}

// normalize fills defaults (status PUBLISHED, empty lists) and validates
// every record on its own and the document as a whole.
func (c *Content) normalize() error {
	if c == nil {
		return Invalid("format", "empty document")
	}
	if c.Format != ContentFormat {
		return Invalid("format", "format must be %q, got %q", ContentFormat, truncate(c.Format, 40))
	}
	var v validator
	if a := c.Article; a != nil {
		v.text("article.title", a.Title, MaxNameLen, true)
		if !isoDateRE.MatchString(a.LastUpdated) {
			v.fail("article.lastUpdated", "lastUpdated must be an ISO date like 2024-01-29, got %q", truncate(a.LastUpdated, 40))
		}
		v.text("article.intro", a.Intro, MaxBodyLen, false)
		v.text("article.conclusion", a.Conclusion, MaxBodyLen, false)
		for i, s := range a.Sections {
			v.text(fmt.Sprintf("article.sections[%d].heading", i), s.Heading, MaxNameLen, true)
			v.text(fmt.Sprintf("article.sections[%d].body", i), s.Body, MaxBodyLen, false)
		}
		if a.Sections == nil {
			a.Sections = []SectionDoc{}
		}
	}
	status := func(s *Status, field string) {
		if *s == "" {
			*s = StatusPublished
		}
		v.status(field, *s)
	}
	// orEmpty makes absent lists empty, so documents compare and export alike.
	orEmpty := func(lists ...*[]string) {
		for _, l := range lists {
			if *l == nil {
				*l = []string{}
			}
		}
	}
	slugs := map[TypeName]map[string]bool{}
	for _, t := range Types {
		slugs[t] = map[string]bool{}
	}
	unique := func(t TypeName, field, slug string) {
		v.slug(field, slug)
		if slugs[t][slug] {
			v.fail(field, "slug %q appears twice", slug)
		}
		slugs[t][slug] = true
	}
	for i := range c.Companies {
		x := &c.Companies[i]
		p := fmt.Sprintf("companies[%d].", i)
		unique(TypeCompany, p+"slug", x.Slug)
		status(&x.Status, p+"status")
		x.validate(&v, p)
	}
	for i := range c.Frameworks {
		x := &c.Frameworks[i]
		p := fmt.Sprintf("frameworks[%d].", i)
		unique(TypeFramework, p+"slug", x.Slug)
		orEmpty(&x.Features, &x.Companies)
		status(&x.Status, p+"status")
		x.validate(&v, p)
	}
	ranks := map[int]bool{}
	for i := range c.Trends {
		x := &c.Trends[i]
		p := fmt.Sprintf("trends[%d].", i)
		unique(TypeTrend, p+"slug", x.Slug)
		if ranks[x.Rank] {
			v.fail(p+"rank", "rank %d appears twice", x.Rank)
		}
		ranks[x.Rank] = true
		orEmpty(&x.Highlights, &x.Examples, &x.Frameworks, &x.Companies)
		status(&x.Status, p+"status")
		x.validate(&v, p)
	}
	positions := map[int]bool{}
	for i := range c.FAQs {
		x := &c.FAQs[i]
		p := fmt.Sprintf("faqs[%d].", i)
		unique(TypeFAQ, p+"slug", x.Slug)
		if positions[x.Position] {
			v.fail(p+"position", "position %d appears twice", x.Position)
		}
		positions[x.Position] = true
		orEmpty(&x.Items, &x.Frameworks, &x.Trends)
		status(&x.Status, p+"status")
		x.validate(&v, p)
	}
	return v.err
}

// importContent applies a normalized document inside tx.
func (tx *Tx) importContent(c *Content) (*ImportResult, error) {
	res := newImportResult()
	cur, err := exportContent(tx.query)
	if err != nil {
		return nil, fmt.Errorf("import: %w", err)
	}
	ids, err := tx.slugIDs()
	if err != nil {
		return nil, fmt.Errorf("import: %w", err)
	}
	// refs checks that every slug a record names exists, in the file or
	// already in the database.
	var v validator
	refs := func(t TypeName, field string, l []string) {
		seen := map[string]bool{}
		for _, s := range l {
			if _, ok := ids[t][s]; !ok {
				v.fail(field, "no %s with slug %q in the file or the database", t, truncate(s, 64))
			}
			if seen[s] {
				v.fail(field, "%q is listed twice", truncate(s, 64))
			}
			seen[s] = true
		}
	}
	for _, x := range c.Companies {
		ids[TypeCompany][x.Slug] = ids[TypeCompany][x.Slug] // present (0 = to be created)
	}
	for _, x := range c.Frameworks {
		ids[TypeFramework][x.Slug] = ids[TypeFramework][x.Slug]
	}
	for _, x := range c.Trends {
		ids[TypeTrend][x.Slug] = ids[TypeTrend][x.Slug]
	}
	for i, x := range c.Frameworks {
		refs(TypeCompany, fmt.Sprintf("frameworks[%d].companies", i), x.Companies)
	}
	for i, x := range c.Trends {
		refs(TypeFramework, fmt.Sprintf("trends[%d].frameworks", i), x.Frameworks)
		refs(TypeCompany, fmt.Sprintf("trends[%d].companies", i), x.Companies)
	}
	for i, x := range c.FAQs {
		refs(TypeFramework, fmt.Sprintf("faqs[%d].frameworks", i), x.Frameworks)
		refs(TypeTrend, fmt.Sprintf("faqs[%d].trends", i), x.Trends)
	}
	if v.err != nil {
		return nil, v.err
	}
	if err := tx.checkUniqueNumbers(c, cur); err != nil {
		return nil, err
	}

	w := tx.writer()
	defer w.close()
	w.ids = ids

	if c.Article != nil && (cur.Article == nil || !reflect.DeepEqual(*c.Article, *cur.Article)) {
		if err := w.putArticle(cur.Article, c.Article); err != nil {
			return nil, fmt.Errorf("import: article: %w", err)
		}
		res.ArticleChanged = true
	}

	// apply writes one record unless it is unchanged.
	apply := func(t TypeName, slug string, old, doc any) error {
		id := ids[t][slug]
		switch {
		case old != nil && sameDoc(old, doc):
			res.Unchanged[t]++
			return nil
		case id == 0:
			res.Created[t]++
			_, err := w.put(t, 0, nil, doc, ActionCreate)
			return err
		default:
			res.Updated[t]++
			_, err := w.put(t, id, old, doc, ActionUpdate)
			return err
		}
	}
	curCompanies := indexPtr(cur.Companies, func(x *CompanyDoc) string { return x.Slug })
	for i := range c.Companies {
		x := &c.Companies[i]
		if err := apply(TypeCompany, x.Slug, orNil(curCompanies[x.Slug]), x); err != nil {
			return nil, fmt.Errorf("import: company %q: %w", x.Slug, err)
		}
	}
	curFrameworks := indexPtr(cur.Frameworks, func(x *FrameworkDoc) string { return x.Slug })
	for i := range c.Frameworks {
		x := &c.Frameworks[i]
		if err := apply(TypeFramework, x.Slug, orNil(curFrameworks[x.Slug]), x); err != nil {
			return nil, fmt.Errorf("import: framework %q: %w", x.Slug, err)
		}
	}
	// Ranks move freely within the file: park the trends it moves on
	// negative ranks first, so that swapping two ranks violates no UNIQUE.
	if _, err := tx.exec("UPDATE trends SET rank = -id WHERE slug IN (SELECT value FROM json_each(?))", movedJSON(cur.Trends, c.Trends, func(t TrendDoc) (string, int) { return t.Slug, t.Rank })); err != nil {
		return nil, fmt.Errorf("import: %w", err)
	}
	curTrends := indexPtr(cur.Trends, func(x *TrendDoc) string { return x.Slug })
	for i := range c.Trends {
		x := &c.Trends[i]
		if err := apply(TypeTrend, x.Slug, orNil(curTrends[x.Slug]), x); err != nil {
			return nil, fmt.Errorf("import: trend %q: %w", x.Slug, err)
		}
	}
	if _, err := tx.exec("UPDATE faqs SET position = -id WHERE slug IN (SELECT value FROM json_each(?))", movedJSON(cur.FAQs, c.FAQs, func(f FAQDoc) (string, int) { return f.Slug, f.Position })); err != nil {
		return nil, fmt.Errorf("import: %w", err)
	}
	curFAQs := indexPtr(cur.FAQs, func(x *FAQDoc) string { return x.Slug })
	for i := range c.FAQs {
		x := &c.FAQs[i]
		if err := apply(TypeFAQ, x.Slug, orNil(curFAQs[x.Slug]), x); err != nil {
			return nil, fmt.Errorf("import: faq %q: %w", x.Slug, err)
		}
	}
	return res, nil
}

// movedJSON lists, as a JSON array, the slugs of stored items the file
// gives another number (rank, position): only those need parking.
func movedJSON[T any](stored, file []T, key func(T) (string, int)) string {
	nums := make(map[string]int, len(stored))
	for _, x := range stored {
		slug, n := key(x)
		nums[slug] = n
	}
	moved := []string{}
	for _, x := range file {
		slug, n := key(x)
		if old, ok := nums[slug]; ok && old != n {
			moved = append(moved, slug)
		}
	}
	b, _ := json.Marshal(moved)
	return string(b)
}

// checkUniqueNumbers refuses a file whose ranks or positions collide with
// items the file does not mention.
func (tx *Tx) checkUniqueNumbers(c *Content, cur *Content) error {
	inFile := map[string]bool{}
	for _, t := range c.Trends {
		inFile[t.Slug] = true
	}
	taken := map[int]string{}
	for _, t := range cur.Trends {
		if !inFile[t.Slug] {
			taken[t.Rank] = t.Slug
		}
	}
	for i, t := range c.Trends {
		if other, ok := taken[t.Rank]; ok {
			return Invalid(fmt.Sprintf("trends[%d].rank", i), "rank %d is taken by trend %q, which the file does not change", t.Rank, other)
		}
	}
	inFile = map[string]bool{}
	for _, f := range c.FAQs {
		inFile[f.Slug] = true
	}
	taken = map[int]string{}
	for _, f := range cur.FAQs {
		if !inFile[f.Slug] {
			taken[f.Position] = f.Slug
		}
	}
	for i, f := range c.FAQs {
		if other, ok := taken[f.Position]; ok {
			return Invalid(fmt.Sprintf("faqs[%d].position", i), "position %d is taken by FAQ %q, which the file does not change", f.Position, other)
		}
	}
	return nil
}

// slugIDs maps every existing slug to its row id, per type.
func (tx *Tx) slugIDs() (map[TypeName]map[string]int64, error) {
	out := map[TypeName]map[string]int64{}
	for t, table := range map[TypeName]string{TypeCompany: "companies", TypeFramework: "frameworks", TypeTrend: "trends", TypeFAQ: "faqs"} {
		m := map[string]int64{}
		rows, err := tx.query("SELECT slug, id FROM " + table)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var s string
			var id int64
			if err := rows.Scan(&s, &id); err != nil {
				rows.Close()
				return nil, err
			}
			m[s] = id
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
		out[t] = m
	}
	return out, nil
}

// putArticle writes the article and its sections, with an event.
func (w *writer) putArticle(old, a *ArticleDoc) error {
	now := w.tx.now()
	var version int
	err := w.queryRow(`INSERT INTO article (id, title, last_updated, intro, conclusion, version, created_at, updated_at)
		VALUES (1, ?, ?, ?, ?, 1, ?, ?)
		ON CONFLICT (id) DO UPDATE SET title = excluded.title, last_updated = excluded.last_updated,
			intro = excluded.intro, conclusion = excluded.conclusion, version = version + 1, updated_at = excluded.updated_at
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
	_, err = w.tx.event(TypeArticle, 1, "article", action, version, StatusPublished, changedSince{orNil(old)}, a)
	return err
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

// indexPtr maps each element's key to a pointer to it.
func indexPtr[T any](l []T, key func(*T) string) map[string]*T {
	m := make(map[string]*T, len(l))
	for i := range l {
		m[key(&l[i])] = &l[i]
	}
	return m
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
	return nil
}
