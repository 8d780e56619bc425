package db

import (
	"context"
	"database/sql"
	"fmt"
)

// rowsFunc runs a query: the reader pool's or a transaction's.
type rowsFunc func(q string, args ...any) (*sql.Rows, error)

// Export returns the whole content, drafts included, as one document in a
// stable order: companies and frameworks by slug, trends by rank, FAQs by
// position, relations in their own order. Two exports of the same content
// are identical, and Import of an export changes nothing.
func (d *DB) Export(ctx context.Context) (*Content, error) {
	// One read transaction, so the document is a consistent snapshot.
	tx, err := d.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	defer tx.Rollback()
	c, err := exportContent(func(q string, args ...any) (*sql.Rows, error) {
		d.queries.Add(1)
		return tx.QueryContext(ctx, q, args...)
	})
	if err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	return c, nil
}

func exportContent(query rowsFunc) (*Content, error) {
	c := &Content{Format: ContentFormat, Companies: []CompanyDoc{}, Frameworks: []FrameworkDoc{}, Trends: []TrendDoc{}, FAQs: []FAQDoc{}}
	var err error
	if c.Article, err = exportArticle(query); err != nil {
		return nil, err
	}
	// Relations as slug lists per owner id, in order.
	links := func(q string) (map[int64][]string, error) {
		rows, err := query(q)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		m := map[int64][]string{}
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
	fwCompanies, err := links("SELECT l.framework_id, c.slug FROM framework_companies l JOIN companies c ON c.id = l.company_id ORDER BY l.framework_id, l.position")
	if err != nil {
		return nil, err
	}
	trFrameworks, err := links("SELECT l.trend_id, f.slug FROM trend_frameworks l JOIN frameworks f ON f.id = l.framework_id ORDER BY l.trend_id, l.position")
	if err != nil {
		return nil, err
	}
	trCompanies, err := links("SELECT l.trend_id, c.slug FROM trend_companies l JOIN companies c ON c.id = l.company_id ORDER BY l.trend_id, l.position")
	if err != nil {
		return nil, err
	}
	faqFrameworks, err := links("SELECT l.faq_id, f.slug FROM faq_frameworks l JOIN frameworks f ON f.id = l.framework_id ORDER BY l.faq_id, l.position")
	if err != nil {
		return nil, err
	}
	faqTrends, err := links("SELECT l.faq_id, t.slug FROM faq_trends l JOIN trends t ON t.id = l.trend_id ORDER BY l.faq_id, l.position")
	if err != nil {
		return nil, err
	}
	orEmpty := func(l []string) []string {
		if l == nil {
			return []string{}
		}
		return l
	}

	err = eachRow(query, "SELECT "+sprintfCols(metaCols, "c")+", c.name FROM companies c ORDER BY c.slug", companyTable.scan, func(x *Company) {
		c.Companies = append(c.Companies, CompanyDoc{Slug: x.Slug, Name: x.Name, Status: x.Status})
	})
	if err != nil {
		return nil, err
	}
	err = eachRow(query, "SELECT "+frameworkTable.cols+" FROM frameworks f ORDER BY f.slug", frameworkTable.scan, func(x *Framework) {
		c.Frameworks = append(c.Frameworks, FrameworkDoc{
			Slug: x.Slug, Name: x.Name, Kind: x.Kind, Language: x.language, Creator: x.creator,
			FirstReleased: x.FirstReleased, Architecture: x.architecture, Summary: x.Summary,
			Features: x.Features(), Companies: orEmpty(fwCompanies[x.RowID]), Status: x.Status,
		})
	})
	if err != nil {
		return nil, err
	}
	err = eachRow(query, "SELECT "+trendTable.cols+" FROM trends t ORDER BY t.rank", trendTable.scan, func(x *Trend) {
		c.Trends = append(c.Trends, TrendDoc{
			Slug: x.Slug, Rank: x.Rank, Name: x.Name, Category: x.Category, Summary: x.Summary, Body: x.Body,
			Highlights: x.Highlights(), Examples: x.Examples(),
			Frameworks: orEmpty(trFrameworks[x.RowID]), Companies: orEmpty(trCompanies[x.RowID]), Status: x.Status,
		})
	})
	if err != nil {
		return nil, err
	}
	err = eachRow(query, "SELECT "+faqTable.cols+" FROM faqs q ORDER BY q.position", faqTable.scan, func(x *FAQ) {
		c.FAQs = append(c.FAQs, FAQDoc{
			Slug: x.Slug, Position: x.Position, Question: x.Question, Answer: x.Answer, Items: x.Items(),
			Frameworks: orEmpty(faqFrameworks[x.RowID]), Trends: orEmpty(faqTrends[x.RowID]), Status: x.Status,
		})
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

func eachRow[T any](query rowsFunc, q string, scan func(scanner) (T, error), fn func(T)) error {
	rows, err := query(q)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return err
		}
		fn(v)
	}
	return rows.Err()
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
