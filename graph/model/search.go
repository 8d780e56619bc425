package model

import (
	"context"

	"github.com/trendql/trendql/db"
)

// SearchConnection is a page of search hits.
type SearchConnection struct {
	Page  *db.Page[*db.SearchHit]
	Count CountFunc
}

// SearchEdge is a search hit with its cursor.
type SearchEdge struct {
	Cursor string        `json:"cursor"`
	Node   *db.SearchHit `json:"node"`
}

// Nodes returns the page's hits.
func (c *SearchConnection) Nodes() []*db.SearchHit { return c.Page.Items }

// Edges returns the page's hits with their cursors.
func (c *SearchConnection) Edges() []*SearchEdge {
	return edges(c.Page, func(cur string, n *db.SearchHit) *SearchEdge { return &SearchEdge{cur, n} })
}

// PageInfo returns where the page sits.
func (c *SearchConnection) PageInfo() *PageInfo { return pageInfo(c.Page) }

// TotalCount counts every hit of the search.
func (c *SearchConnection) TotalCount(ctx context.Context) (int, error) { return c.Count(ctx) }
