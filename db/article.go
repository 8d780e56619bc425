package db

import (
	"context"
	"database/sql"
	"fmt"
)

// Article returns the article's page content with its sections in order.
// ENOTFOUND when the database has no article (created with --no-seed).
func (d *DB) Article(ctx context.Context) (*Article, error) {
	a := &Article{}
	err := d.queryRow(ctx, "SELECT title, last_updated, intro, conclusion, updated_at FROM article WHERE id = 1").
		Scan(&a.Title, &a.LastUpdated, &a.Intro, &a.Conclusion, &a.UpdatedAt)
	if err == sql.ErrNoRows {
		return nil, Errorf(ENOTFOUND, "this database has no article")
	}
	if err != nil {
		return nil, fmt.Errorf("article: %w", err)
	}
	rows, err := d.query(ctx, "SELECT heading, body FROM article_sections ORDER BY position")
	if err != nil {
		return nil, fmt.Errorf("article sections: %w", err)
	}
	defer rows.Close()
	a.Sections = []*Section{}
	for rows.Next() {
		s := &Section{}
		if err := rows.Scan(&s.Heading, &s.Body); err != nil {
			return nil, fmt.Errorf("article sections: %w", err)
		}
		a.Sections = append(a.Sections, s)
	}
	return a, rows.Err()
}
