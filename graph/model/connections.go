// Package model holds the GraphQL-only types: connections, edges and page
// info around the db package's content types.
package model

import (
	"context"

	"github.com/trendql/trendql/db"
)

// PageInfo is Relay's page information.
type PageInfo struct {
	HasNextPage     bool    `json:"hasNextPage"`
	HasPreviousPage bool    `json:"hasPreviousPage"`
	StartCursor     *string `json:"startCursor"`
	EndCursor       *string `json:"endCursor"`
}

// CountFunc counts every item that matches a connection's filter. It runs
// only when a client selects totalCount.
type CountFunc func(ctx context.Context) (int, error)

func pageInfo[T any](p *db.Page[T]) *PageInfo {
	return &PageInfo{
		HasNextPage:     p.HasNextPage,
		HasPreviousPage: p.HasPreviousPage,
		StartCursor:     p.StartCursor(),
		EndCursor:       p.EndCursor(),
	}
}

func edges[T, E any](p *db.Page[T], mk func(cursor string, node T) E) []E {
	out := make([]E, len(p.Items))
	for i, n := range p.Items {
		out[i] = mk(p.Cursor(i), n)
	}
	return out
}

// TrendConnection is a page of trends.
type TrendConnection struct {
	Page  *db.Page[*db.Trend]
	Count CountFunc
}

// TrendEdge is a trend with its cursor.
type TrendEdge struct {
	Cursor string    `json:"cursor"`
	Node   *db.Trend `json:"node"`
}

// Nodes returns the page's trends.
func (c *TrendConnection) Nodes() []*db.Trend { return c.Page.Items }

// Edges returns the page's trends with their cursors.
func (c *TrendConnection) Edges() []*TrendEdge {
	return edges(c.Page, func(cur string, n *db.Trend) *TrendEdge { return &TrendEdge{cur, n} })
}

// PageInfo returns where the page sits.
func (c *TrendConnection) PageInfo() *PageInfo { return pageInfo(c.Page) }

// TotalCount counts all matching trends.
func (c *TrendConnection) TotalCount(ctx context.Context) (int, error) { return c.Count(ctx) }

// FrameworkConnection is a page of frameworks.
type FrameworkConnection struct {
	Page  *db.Page[*db.Framework]
	Count CountFunc
}

// FrameworkEdge is a framework with its cursor.
type FrameworkEdge struct {
	Cursor string        `json:"cursor"`
	Node   *db.Framework `json:"node"`
}

// Nodes returns the page's frameworks.
func (c *FrameworkConnection) Nodes() []*db.Framework { return c.Page.Items }

// Edges returns the page's frameworks with their cursors.
func (c *FrameworkConnection) Edges() []*FrameworkEdge {
	return edges(c.Page, func(cur string, n *db.Framework) *FrameworkEdge { return &FrameworkEdge{cur, n} })
}

// PageInfo returns where the page sits.
func (c *FrameworkConnection) PageInfo() *PageInfo { return pageInfo(c.Page) }

// TotalCount counts all matching frameworks.
func (c *FrameworkConnection) TotalCount(ctx context.Context) (int, error) { return c.Count(ctx) }

// CompanyConnection is a page of companies.
type CompanyConnection struct {
	Page  *db.Page[*db.Company]
	Count CountFunc
}

// CompanyEdge is a company with its cursor.
type CompanyEdge struct {
	Cursor string      `json:"cursor"`
	Node   *db.Company `json:"node"`
}

// Nodes returns the page's companies.
func (c *CompanyConnection) Nodes() []*db.Company { return c.Page.Items }

// Edges returns the page's companies with their cursors.
func (c *CompanyConnection) Edges() []*CompanyEdge {
	return edges(c.Page, func(cur string, n *db.Company) *CompanyEdge { return &CompanyEdge{cur, n} })
}

// PageInfo returns where the page sits.
func (c *CompanyConnection) PageInfo() *PageInfo { return pageInfo(c.Page) }

// TotalCount counts all matching companies.
func (c *CompanyConnection) TotalCount(ctx context.Context) (int, error) { return c.Count(ctx) }

// FAQConnection is a page of FAQs.
type FAQConnection struct {
	Page  *db.Page[*db.FAQ]
	Count CountFunc
}

// FAQEdge is a FAQ with its cursor.
type FAQEdge struct {
	Cursor string  `json:"cursor"`
	Node   *db.FAQ `json:"node"`
}

// Nodes returns the page's FAQs.
func (c *FAQConnection) Nodes() []*db.FAQ { return c.Page.Items }

// Edges returns the page's FAQs with their cursors.
func (c *FAQConnection) Edges() []*FAQEdge {
	return edges(c.Page, func(cur string, n *db.FAQ) *FAQEdge { return &FAQEdge{cur, n} })
}

// PageInfo returns where the page sits.
func (c *FAQConnection) PageInfo() *PageInfo { return pageInfo(c.Page) }

// TotalCount counts all matching FAQs.
func (c *FAQConnection) TotalCount(ctx context.Context) (int, error) { return c.Count(ctx) }

// RevisionConnection is a page of revisions (events).
type RevisionConnection struct {
	Page  *db.Page[*db.Event]
	Count CountFunc
}

// RevisionEdge is a revision with its cursor.
type RevisionEdge struct {
	Cursor string    `json:"cursor"`
	Node   *db.Event `json:"node"`
}

// Nodes returns the page's revisions.
func (c *RevisionConnection) Nodes() []*db.Event { return c.Page.Items }

// Edges returns the page's revisions with their cursors.
func (c *RevisionConnection) Edges() []*RevisionEdge {
	return edges(c.Page, func(cur string, n *db.Event) *RevisionEdge { return &RevisionEdge{cur, n} })
}

// PageInfo returns where the page sits.
func (c *RevisionConnection) PageInfo() *PageInfo { return pageInfo(c.Page) }

// TotalCount counts all matching revisions.
func (c *RevisionConnection) TotalCount(ctx context.Context) (int, error) { return c.Count(ctx) }

// WebhookDeliveryConnection is a page of a webhook's deliveries.
type WebhookDeliveryConnection struct {
	Page  *db.Page[*db.WebhookDelivery]
	Count CountFunc
}

// WebhookDeliveryEdge is a delivery with its cursor.
type WebhookDeliveryEdge struct {
	Cursor string              `json:"cursor"`
	Node   *db.WebhookDelivery `json:"node"`
}

// Nodes returns the page's deliveries.
func (c *WebhookDeliveryConnection) Nodes() []*db.WebhookDelivery { return c.Page.Items }

// Edges returns the page's deliveries with their cursors.
func (c *WebhookDeliveryConnection) Edges() []*WebhookDeliveryEdge {
	return edges(c.Page, func(cur string, n *db.WebhookDelivery) *WebhookDeliveryEdge { return &WebhookDeliveryEdge{cur, n} })
}

// PageInfo returns where the page sits.
func (c *WebhookDeliveryConnection) PageInfo() *PageInfo { return pageInfo(c.Page) }

// TotalCount counts all matching deliveries.
func (c *WebhookDeliveryConnection) TotalCount(ctx context.Context) (int, error) { return c.Count(ctx) }
