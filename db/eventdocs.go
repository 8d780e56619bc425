package db

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
)

// Event documents (migrations/0007_events_retention.sql). The newest event
// of an item stores no document: the content tables hold it. When the item
// changes again, the writer fills the previous event's document in with the
// item as it was before the change, in the same transaction. Readers fill in
// the documents of the events still without one from the content tables,
// in the same snapshot as the events, so that a document is always the item
// right after its event.

// fillPrevious gives the newest event of item (t, id), if it has no
// document yet, the document prev: the item as it was before the change
// about to be recorded.
func (tx *Tx) fillPrevious(t TypeName, id int64, prev []byte) error {
	_, err := tx.execPrepared(`UPDATE events SET document = ?
		WHERE id = (SELECT max(id) FROM events WHERE type = ? AND item_id = ?) AND document IS NULL`,
		string(prev), string(t), id)
	return err
}

// fillDocuments gives the events read without a document the current
// document of their item, in one read transaction: an event that a writer
// filled in since it was read gets its stored document instead, so a
// document is never newer than its event.
func (d *DB) fillDocuments(ctx context.Context, events []*Event) error {
	if !needDocuments(events) {
		return nil
	}
	tx, err := d.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return fmt.Errorf("event documents: %w", err)
	}
	defer tx.Rollback()
	return fillDocuments(func(q string, args ...any) (rows, error) {
		d.queries.Add(1)
		return tx.QueryContext(ctx, q, args...)
	}, events)
}

// fillDocuments is DB.fillDocuments inside a write transaction.
func (tx *Tx) fillDocuments(events []*Event) error {
	if !needDocuments(events) {
		return nil
	}
	return fillDocuments(tx.query, events)
}

func needDocuments(events []*Event) bool {
	for _, e := range events {
		if e.Document == nil {
			return true
		}
	}
	return false
}

func fillDocuments(query rowsFunc, events []*Event) error {
	var ids []int64
	for _, e := range events {
		if e.Document == nil {
			ids = append(ids, e.ID)
		}
	}
	stored := map[int64]string{}
	err := eachDocRow(query, "SELECT id, document FROM events WHERE document IS NOT NULL AND id IN (SELECT CAST(value AS INTEGER) FROM json_each(?))",
		[]any{int64sJSON(ids)}, func(r rows) error {
			var id int64
			var doc string
			if err := r.Scan(&id, &doc); err != nil {
				return err
			}
			stored[id] = doc
			return nil
		})
	if err != nil {
		return fmt.Errorf("event documents: %w", err)
	}
	byType := map[TypeName][]int64{}
	for _, e := range events {
		if e.Document != nil {
			continue
		}
		if doc, ok := stored[e.ID]; ok {
			e.Document = json.RawMessage(doc)
			continue
		}
		byType[e.Type] = append(byType[e.Type], e.ItemID)
	}
	current := map[TypeName]map[int64]json.RawMessage{}
	for t, ids := range byType {
		docs, err := currentDocuments(query, t, ids)
		if err != nil {
			return fmt.Errorf("event documents: %w", err)
		}
		current[t] = docs
	}
	for _, e := range events {
		if e.Document != nil {
			continue
		}
		if doc, ok := current[e.Type][e.ItemID]; ok {
			e.Document = doc
		} else {
			// Only a write outside trendql could leave an item's newest
			// event without its item.
			e.Document = json.RawMessage("null")
		}
	}
	return nil
}

// eachDocRow runs a query and calls fn for each row.
func eachDocRow(query rowsFunc, q string, args []any, fn func(rows) error) error {
	rows, err := query(q, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

// slugList is the SQL for an item's ordered link slugs as a JSON array.
func slugList(linkTable, from, to, target, owner string) string {
	return fmt.Sprintf(`(SELECT json_group_array(slug) FROM (SELECT x.slug FROM %s l JOIN %s x ON x.id = l.%s
		WHERE l.%s = %s ORDER BY l.position) AS s)`, linkTable, target, to, from, owner)
}

// previewSlugList is slugList with drafts applied: a drafted owner's links
// from the drafts link table, the others' from the link table, the items
// they name by their preview slugs (see related: a view of both link
// tables would be read whole).
func previewSlugList(linkTable, from, to, target, owner string) string {
	return fmt.Sprintf(`(SELECT json_group_array(slug) FROM (
		SELECT x.slug, l.position FROM %s_drafts l JOIN %s_overlay x ON x.id = l.%s WHERE l.%s = %s
		UNION ALL
		SELECT x.slug, l.position FROM %s l JOIN %s_overlay x ON x.id = l.%s WHERE l.%s = %s AND %s
		ORDER BY 2) AS s)`, linkTable, target, to, from, owner, linkTable, target, to, from, owner, linkNotDrafted(linkTable))
}

// currentDocuments reads the documents of items of type t as they are now,
// drafts applied (an item's newest event may be an edit of its draft),
// as JSON in the form the event log stores (json.Marshal of the type's
// document), one statement per type.
func currentDocuments(query rowsFunc, t TypeName, ids []int64) (map[int64]json.RawMessage, error) {
	return documentsFrom(query, t, ids, docSource{items: previewOf, preview: true})
}

// docSource says where documentsFrom reads: the items' table (or view) of
// each content table, the link tables', and where the slugs of the items
// they link to come from. status, when set, is every item's status (a
// drafts table has none).
type docSource struct {
	items, links, targets func(table string) string
	status                string
	// preview: the links and the items they name as a preview reads them
	// (links and targets are then unused).
	preview bool
}

// slugs is the SQL of an item's ordered link slugs, from src.
func (src docSource) slugs(linkTable, from, to, target, owner string) string {
	if src.preview {
		return previewSlugList(linkTable, from, to, target, owner)
	}
	return slugList(src.links(linkTable), from, to, src.targets(target), owner)
}

func previewOf(table string) string { return table + "_preview" }
func overlayOf(table string) string { return table + "_overlay" }
func contentOf(table string) string { return table }

// documentsFrom reads items' documents from where src says, one statement
// whatever the number of items.
func documentsFrom(query rowsFunc, t TypeName, ids []int64, src docSource) (map[int64]json.RawMessage, error) {
	status := func(alias string) string {
		if src.status != "" {
			return "'" + src.status + "'"
		}
		return alias + "status"
	}
	out := map[int64]json.RawMessage{}
	add := func(id int64, doc any) error {
		b, err := json.Marshal(doc)
		out[id] = b
		return err
	}
	in := []any{int64sJSON(ids)}
	const inIDs = " IN (SELECT CAST(value AS INTEGER) FROM json_each(?))"
	list := func(s string, dst *[]string) error { return json.Unmarshal([]byte(s), dst) }
	switch t {
	case TypeCompany:
		return out, eachDocRow(query, "SELECT id, slug, name, "+status("")+" FROM "+src.items("companies")+" WHERE id"+inIDs, in, func(r rows) error {
			var id int64
			d := &CompanyDoc{}
			if err := r.Scan(&id, &d.Slug, &d.Name, &d.Status); err != nil {
				return err
			}
			return add(id, d)
		})
	case TypeFramework:
		q := "SELECT f.id, f.slug, f.name, f.kind, f.language, f.creator, f.first_released, f.architecture, f.summary, f.features, " + status("f.") + ", " +
			src.slugs("framework_companies", "framework_id", "company_id", "companies", "f.id") + " FROM " + src.items("frameworks") + " f WHERE f.id" + inIDs
		return out, eachDocRow(query, q, in, func(r rows) error {
			var id int64
			var features, companies string
			d := &FrameworkDoc{}
			if err := r.Scan(&id, &d.Slug, &d.Name, &d.Kind, &d.Language, &d.Creator, &d.FirstReleased, &d.Architecture, &d.Summary, &features, &d.Status, &companies); err != nil {
				return err
			}
			d.Features = decodeList(features)
			if err := list(companies, &d.Companies); err != nil {
				return err
			}
			return add(id, d)
		})
	case TypeTrend:
		q := "SELECT t.id, t.slug, t.rank, t.name, t.category, t.summary, t.body, t.highlights, t.examples, " + status("t.") + ", " +
			src.slugs("trend_frameworks", "trend_id", "framework_id", "frameworks", "t.id") + ", " +
			src.slugs("trend_companies", "trend_id", "company_id", "companies", "t.id") + " FROM " + src.items("trends") + " t WHERE t.id" + inIDs
		return out, eachDocRow(query, q, in, func(r rows) error {
			var id int64
			var highlights, examples, frameworks, companies string
			d := &TrendDoc{}
			if err := r.Scan(&id, &d.Slug, &d.Rank, &d.Name, &d.Category, &d.Summary, &d.Body, &highlights, &examples, &d.Status, &frameworks, &companies); err != nil {
				return err
			}
			d.Highlights, d.Examples = decodeList(highlights), decodeList(examples)
			if err := list(frameworks, &d.Frameworks); err != nil {
				return err
			}
			if err := list(companies, &d.Companies); err != nil {
				return err
			}
			return add(id, d)
		})
	case TypeFAQ:
		q := "SELECT q.id, q.slug, q.position, q.question, q.answer, q.items, " + status("q.") + ", " +
			src.slugs("faq_frameworks", "faq_id", "framework_id", "frameworks", "q.id") + ", " +
			src.slugs("faq_trends", "faq_id", "trend_id", "trends", "q.id") + " FROM " + src.items("faqs") + " q WHERE q.id" + inIDs
		return out, eachDocRow(query, q, in, func(r rows) error {
			var id int64
			var items, frameworks, trends string
			d := &FAQDoc{}
			if err := r.Scan(&id, &d.Slug, &d.Position, &d.Question, &d.Answer, &items, &d.Status, &frameworks, &trends); err != nil {
				return err
			}
			d.Items = decodeList(items)
			if err := list(frameworks, &d.Frameworks); err != nil {
				return err
			}
			if err := list(trends, &d.Trends); err != nil {
				return err
			}
			return add(id, d)
		})
	case TypeArticle:
		q := `SELECT title, last_updated, intro, conclusion,
			(SELECT json_group_array(json_object('heading', heading, 'body', body)) FROM (SELECT heading, body FROM article_sections ORDER BY position) AS s)
			FROM article WHERE id = 1`
		return out, eachDocRow(query, q, nil, func(r rows) error {
			a := &ArticleDoc{}
			var sections string
			if err := r.Scan(&a.Title, &a.LastUpdated, &a.Intro, &a.Conclusion, &sections); err != nil {
				return err
			}
			if err := json.Unmarshal([]byte(sections), &a.Sections); err != nil {
				return err
			}
			return add(1, a)
		})
	}
	return out, nil
}

// pinLinkers stores, before item (t, id) changes its slug, the documents
// of the items that link to it in their newest events, if those have none:
// a document left NULL means "the item as it is now", and after the rename
// it would name the item by its new slug, which its event never saw.
func (w *writer) pinLinkers(t TypeName, id int64) error {
	for _, ol := range ownerLinks {
		if ol.rel.Other != t {
			continue
		}
		owners, err := w.ownersOf(ol.link, id)
		if err != nil {
			return err
		}
		for _, o := range owners {
			var open bool
			err := w.queryRow(`SELECT EXISTS (SELECT 1 FROM events WHERE id = (SELECT max(id) FROM events WHERE type = ? AND item_id = ?)
				AND document IS NULL)`, string(ol.rel.Owner), o).Scan(&open)
			if err != nil {
				return err
			}
			if !open {
				continue
			}
			// loadDoc gives linked slugs their real values, parked or not.
			doc, _, err := w.loadDoc(ol.rel.Owner, o)
			if err != nil {
				return err
			}
			b, err := json.Marshal(doc)
			if err != nil {
				return err
			}
			if err := w.tx.fillPrevious(ol.rel.Owner, o, b); err != nil {
				return err
			}
		}
	}
	return nil
}
