package db

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// rowsFunc runs a query: the reader pool's or a transaction's.
type rowsFunc func(q string, args ...any) (rows, error)

// exportPage is how many items one keyset-paged export query reads.
const exportPage = 500

// Export returns the whole content, drafts included, as one document in a
// stable order: companies and frameworks by slug, trends by rank, FAQs by
// position, relations in their own order. Two exports of the same content
// are identical, and Import of an export changes nothing. It holds the
// whole content in memory; ExportTo streams the same document.
func (d *DB) Export(ctx context.Context) (*Content, error) {
	c := &Content{Format: ContentFormat, Companies: []CompanyDoc{}, Frameworks: []FrameworkDoc{}, Trends: []TrendDoc{}, FAQs: []FAQDoc{}}
	err := d.exportWith(ctx, func(a *ArticleDoc) error { c.Article = a; return nil }, func(rec any) error {
		switch x := rec.(type) {
		case *CompanyDoc:
			c.Companies = append(c.Companies, *x)
		case *FrameworkDoc:
			c.Frameworks = append(c.Frameworks, *x)
		case *TrendDoc:
			c.Trends = append(c.Trends, *x)
		case *FAQDoc:
			c.FAQs = append(c.FAQs, *x)
		}
		return nil
	}, func(string) error { return nil })
	if err != nil {
		return nil, err
	}
	return c, nil
}

// ExportTo writes the document Export returns to out as indented JSON,
// byte for byte what encoding/json's Encoder with a two-space indent
// writes for it, streaming: it reads the content in keyset-paged batches
// inside one read transaction (so the document is one consistent snapshot)
// and holds one batch at a time, never the whole content.
func (d *DB) ExportTo(ctx context.Context, out io.Writer) error {
	bw := bufio.NewWriterSize(out, 64<<10)
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	first := true // the first record of the current list
	// encode writes v indented as a value at the given depth: the
	// Encoder's own indentation, less its trailing newline.
	encode := func(prefix string, v any) error {
		buf.Reset()
		enc.SetIndent(prefix, "  ")
		if err := enc.Encode(v); err != nil {
			return err
		}
		_, err := bw.Write(bytes.TrimSuffix(buf.Bytes(), []byte("\n")))
		return err
	}
	bw.WriteString("{\n  \"format\": " + strconv.Quote(ContentFormat))
	list := ""
	endList := func() {
		if list == "" {
			return
		}
		if first {
			bw.WriteString("[]")
		} else {
			bw.WriteString("\n  ]")
		}
	}
	err := d.exportWith(ctx, func(a *ArticleDoc) error {
		if a == nil {
			return nil
		}
		bw.WriteString(",\n  \"article\": ")
		return encode("  ", a)
	}, func(rec any) error {
		if first {
			bw.WriteString("[\n    ")
			first = false
		} else {
			bw.WriteString(",\n    ")
		}
		return encode("    ", rec)
	}, func(name string) error {
		endList()
		list, first = name, true
		_, err := bw.WriteString(",\n  \"" + name + "\": ")
		return err
	})
	if err != nil {
		return err
	}
	endList()
	bw.WriteString("\n}\n")
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	return nil
}

// exportWith reads the content in one read transaction and hands it out in
// document order: the article (nil when there is none), then for each list
// its name and its records.
func (d *DB) exportWith(ctx context.Context, article func(*ArticleDoc) error, record func(any) error, list func(string) error) error {
	// One read transaction, so the document is a consistent snapshot.
	tx, err := d.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	defer tx.Rollback()
	query := func(q string, args ...any) (rows, error) {
		d.queries.Add(1)
		return tx.QueryContext(ctx, q, args...)
	}
	if err := exportContent(query, article, record, list); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	return nil
}

// exportContent reads every list in keyset-paged batches of exportPage
// items, with the relations of each batch in one query per relation.
func exportContent(query rowsFunc, article func(*ArticleDoc) error, record func(any) error, list func(string) error) error {
	a, err := exportArticle(query)
	if err != nil {
		return err
	}
	if err := article(a); err != nil {
		return err
	}
	// links reads one relation of a batch: slug lists per owner id, in order.
	links := func(q string, ids []int64) (map[int64][]string, error) {
		rows, err := query(q, idList(ids))
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		m := make(map[int64][]string, len(ids))
		for rows.Next() {
			var id int64
			var slug string
			if err := rows.Scan(&id, &slug); err != nil {
				return nil, err
			}
			m[id] = append(m[id], slug)
		}
		return m, rows.Err()
	}
	linkQuery := func(l link, target string) string {
		return "SELECT l." + l.from + ", x.slug FROM " + l.table + " l JOIN " + target + " x ON x.id = l." + l.to +
			" WHERE l." + l.from + " IN (SELECT CAST(value AS INTEGER) FROM json_each(?)) ORDER BY l." + l.from + ", l.position"
	}
	orEmpty := func(l []string) []string {
		if l == nil {
			return []string{}
		}
		return l
	}

	if err := list("companies"); err != nil {
		return err
	}
	err = pages(query, "SELECT "+companyTable.cols+" FROM companies c WHERE c.slug > ? ORDER BY c.slug LIMIT ?", "",
		companyTable.scan, func(x *Company) any { return x.Slug }, func(batch []*Company) error {
			drafts, err := exportDrafts[CompanyDoc](query, TypeCompany, rowIDs(batch, func(x *Company) int64 { return x.RowID }))
			if err != nil {
				return err
			}
			for _, x := range batch {
				if err := record(&CompanyDoc{Slug: x.Slug, Name: x.Name, Status: x.Status, Draft: drafts[x.RowID]}); err != nil {
					return err
				}
			}
			return nil
		})
	if err != nil {
		return err
	}

	if err := list("frameworks"); err != nil {
		return err
	}
	err = pages(query, "SELECT "+frameworkTable.cols+" FROM frameworks f WHERE f.slug > ? ORDER BY f.slug LIMIT ?", "",
		frameworkTable.scan, func(x *Framework) any { return x.Slug }, func(batch []*Framework) error {
			ids := rowIDs(batch, func(x *Framework) int64 { return x.RowID })
			companies, err := links(linkQuery(linkFrameworkCompanies, "companies"), ids)
			if err != nil {
				return err
			}
			drafts, err := exportDrafts[FrameworkDoc](query, TypeFramework, ids)
			if err != nil {
				return err
			}
			for _, x := range batch {
				err := record(&FrameworkDoc{
					Slug: x.Slug, Name: x.Name, Kind: x.Kind, Language: x.language, Creator: x.creator,
					FirstReleased: x.FirstReleased, Architecture: x.architecture, Summary: x.Summary,
					Features: x.Features(), Companies: orEmpty(companies[x.RowID]), Status: x.Status, Draft: drafts[x.RowID],
				})
				if err != nil {
					return err
				}
			}
			return nil
		})
	if err != nil {
		return err
	}

	if err := list("trends"); err != nil {
		return err
	}
	err = pages(query, "SELECT "+trendTable.cols+" FROM trends t WHERE t.rank > ? ORDER BY t.rank LIMIT ?", 0,
		trendTable.scan, func(x *Trend) any { return x.Rank }, func(batch []*Trend) error {
			ids := rowIDs(batch, func(x *Trend) int64 { return x.RowID })
			frameworks, err := links(linkQuery(linkTrendFrameworks, "frameworks"), ids)
			if err != nil {
				return err
			}
			companies, err := links(linkQuery(linkTrendCompanies, "companies"), ids)
			if err != nil {
				return err
			}
			drafts, err := exportDrafts[TrendDoc](query, TypeTrend, ids)
			if err != nil {
				return err
			}
			for _, x := range batch {
				err := record(&TrendDoc{
					Slug: x.Slug, Rank: x.Rank, Name: x.Name, Category: x.Category, Summary: x.Summary, Body: x.Body,
					Highlights: x.Highlights(), Examples: x.Examples(),
					Frameworks: orEmpty(frameworks[x.RowID]), Companies: orEmpty(companies[x.RowID]), Status: x.Status, Draft: drafts[x.RowID],
				})
				if err != nil {
					return err
				}
			}
			return nil
		})
	if err != nil {
		return err
	}

	if err := list("faqs"); err != nil {
		return err
	}
	return pages(query, "SELECT "+faqTable.cols+" FROM faqs q WHERE q.position > ? ORDER BY q.position LIMIT ?", 0,
		faqTable.scan, func(x *FAQ) any { return x.Position }, func(batch []*FAQ) error {
			ids := rowIDs(batch, func(x *FAQ) int64 { return x.RowID })
			frameworks, err := links(linkQuery(linkFAQFrameworks, "frameworks"), ids)
			if err != nil {
				return err
			}
			trends, err := links(linkQuery(linkFAQTrends, "trends"), ids)
			if err != nil {
				return err
			}
			drafts, err := exportDrafts[FAQDoc](query, TypeFAQ, ids)
			if err != nil {
				return err
			}
			for _, x := range batch {
				err := record(&FAQDoc{
					Slug: x.Slug, Position: x.Position, Question: x.Question, Answer: x.Answer, Items: x.Items(),
					Frameworks: orEmpty(frameworks[x.RowID]), Trends: orEmpty(trends[x.RowID]), Status: x.Status, Draft: drafts[x.RowID],
				})
				if err != nil {
					return err
				}
			}
			return nil
		})
}

// pages runs a keyset-paged query (its two arguments: the last key seen,
// the page size) from the key before every key until a short page, and
// hands each page to fn.
func pages[T any](query rowsFunc, q string, from any, scan func(scanner) (T, error), key func(T) any, fn func([]T) error) error {
	after := from
	batch := make([]T, 0, exportPage)
	for {
		batch = batch[:0]
		rows, err := query(q, after, exportPage)
		if err != nil {
			return err
		}
		for rows.Next() {
			v, err := scan(rows)
			if err != nil {
				rows.Close()
				return err
			}
			batch = append(batch, v)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if len(batch) == 0 {
			return nil
		}
		if err := fn(batch); err != nil {
			return err
		}
		if len(batch) < exportPage {
			return nil
		}
		after = key(batch[len(batch)-1])
	}
}

func rowIDs[T any](batch []T, id func(T) int64) []int64 {
	out := make([]int64, len(batch))
	for i, x := range batch {
		out[i] = id(x)
	}
	return out
}

// idList is a JSON array of row ids, for json_each.
func idList(ids []int64) string {
	var b strings.Builder
	b.WriteByte('[')
	for i, id := range ids {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.FormatInt(id, 10))
	}
	b.WriteByte(']')
	return b.String()
}

func exportArticle(query rowsFunc) (*ArticleDoc, error) {
	rows, err := query("SELECT title, last_updated, intro, conclusion FROM article WHERE id = 1")
	if err != nil {
		return nil, err
	}
	var a *ArticleDoc
	for rows.Next() {
		a = &ArticleDoc{Sections: []SectionDoc{}}
		if err := rows.Scan(&a.Title, &a.LastUpdated, &a.Intro, &a.Conclusion); err != nil {
			rows.Close()
			return nil, err
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil || a == nil {
		return nil, err
	}
	rows, err = query("SELECT heading, body FROM article_sections ORDER BY position")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var s SectionDoc
		if err := rows.Scan(&s.Heading, &s.Body); err != nil {
			return nil, err
		}
		a.Sections = append(a.Sections, s)
	}
	return a, rows.Err()
}

// exportDrafts reads the pending drafts of a batch of items, by row id:
// documents without a status, naming the items they link to by their live
// slugs (as the file's records do), so that an import resolves them
// whatever order it writes the drafts in.
func exportDrafts[D any](query rowsFunc, t TypeName, ids []int64) (map[int64]*D, error) {
	docs, err := documentsFrom(query, t, ids, docSource{
		items:   func(string) string { return draftTableOf[t] },
		links:   func(table string) string { return table + "_drafts" },
		targets: contentOf,
		status:  string(StatusPublished),
	})
	if err != nil {
		return nil, err
	}
	out := make(map[int64]*D, len(docs))
	for id, b := range docs {
		d := new(D)
		if err := json.Unmarshal(b, d); err != nil {
			return nil, err
		}
		setStatus(d, "")
		out[id] = d
	}
	return out, nil
}

// exportDraftDoc reads one item's draft as a file's record has it (nil
// when it has none).
func exportDraftDoc(query rowsFunc, t TypeName, id int64) (any, error) {
	switch t {
	case TypeCompany:
		return oneDraft[CompanyDoc](query, t, id)
	case TypeFramework:
		return oneDraft[FrameworkDoc](query, t, id)
	case TypeTrend:
		return oneDraft[TrendDoc](query, t, id)
	case TypeFAQ:
		return oneDraft[FAQDoc](query, t, id)
	}
	return nil, nil
}

func oneDraft[D any](query rowsFunc, t TypeName, id int64) (any, error) {
	m, err := exportDrafts[D](query, t, []int64{id})
	if err != nil || m[id] == nil {
		return nil, err
	}
	return m[id], nil
}
