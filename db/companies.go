package db

import (
	"context"
	"fmt"
)

// CompanyOrderField is what a list of companies can be sorted by.
type CompanyOrderField string

// The company sort fields.
const (
	CompanyOrderName      CompanyOrderField = "NAME"
	CompanyOrderCreatedAt CompanyOrderField = "CREATED_AT"
	CompanyOrderUpdatedAt CompanyOrderField = "UPDATED_AT"
)

// CompanyOrder is one sort key of a company list.
type CompanyOrder struct {
	Field     CompanyOrderField `json:"field"`
	Direction Direction         `json:"direction"`
}

func (o *CompanyOrder) key() (string, Direction) {
	if o == nil {
		return "", ""
	}
	return string(o.Field), o.Direction
}

// CompanyFilter selects companies. All given fields must hold; AND, OR and
// NOT combine nested filters.
type CompanyFilter struct {
	And       []*CompanyFilter `json:"AND"`
	Or        []*CompanyFilter `json:"OR"`
	Not       *CompanyFilter   `json:"NOT"`
	ID        *IDFilter        `json:"id"`
	Slug      *StringFilter    `json:"slug"`
	Name      *StringFilter    `json:"name"`
	Status    *StatusFilter    `json:"status"`
	Framework *RelationFilter  `json:"framework"`
	Trend     *RelationFilter  `json:"trend"`
}

var companyTable = func() *table[*Company] {
	tb := &table[*Company]{
		typ: TypeCompany, name: "companies", alias: "c",
		cols: sprintfCols(metaCols, "c") + ", c.name",
		scan: func(s scanner) (*Company, error) {
			c := &Company{}
			err := s.Scan(append(scanMeta(&c.Meta), &c.Name)...)
			return c, err
		},
		rowID:        func(c *Company) int64 { return c.RowID },
		meta:         func(c *Company) *Meta { return &c.Meta },
		clone:        func(c *Company) *Company { x := *c; return &x },
		size:         func(c *Company) int64 { return metaSize(&c.Meta) + int64(len(c.Name)) },
		orders:       metaOrders("c", func(c *Company) *Meta { return &c.Meta }),
		defaultOrder: string(CompanyOrderName),
	}
	tb.orders["NAME"] = orderCol[*Company]{expr: "c.name COLLATE NOCASE", key: func(c *Company) any { return c.Name }}
	return tb
}()

func sprintfCols(format, alias string) string { return fmt.Sprintf(format, alias) }

func (f *CompanyFilter) sql(b *filterBuilder, depth int) (where, error) {
	var w where
	if f == nil {
		return w, nil
	}
	if err := logic(b, &w, depth, f.And, f.Or, f.Not, func(g *CompanyFilter, d int) (where, error) { return g.sql(b, d) }); err != nil {
		return w, err
	}
	if err := b.id(&w, "c", TypeCompany, f.ID); err != nil {
		return w, err
	}
	if err := b.str(&w, "filter.slug", "c.slug", f.Slug); err != nil {
		return w, err
	}
	if err := b.str(&w, "filter.name", "c.name", f.Name); err != nil {
		return w, err
	}
	if err := b.status(&w, "c", f.Status); err != nil {
		return w, err
	}
	if err := b.relation(&w, "filter.framework", "c", linkCompanyFrameworks, "frameworks", TypeFramework, f.Framework); err != nil {
		return w, err
	}
	if err := b.relation(&w, "filter.trend", "c", linkCompanyTrends, "trends", TypeTrend, f.Trend); err != nil {
		return w, err
	}
	return w, nil
}

// Companies returns one page of the companies visible to the caller that
// match f, sorted by order (default: name). EINVALID for bad page sizes,
// cursors, filters or orderings.
func (d *DB) Companies(ctx context.Context, f *CompanyFilter, order []*CompanyOrder, pa PageArgs) (*Page[*Company], error) {
	return listOf(ctx, d, companyTable, f, order, pa)
}

// CountCompanies returns how many visible companies match f.
func (d *DB) CountCompanies(ctx context.Context, f *CompanyFilter) (int, error) {
	return countOf(ctx, d, companyTable, f)
}

// Company returns the visible company with the given row id; ENOTFOUND if none.
func (d *DB) Company(ctx context.Context, id int64) (*Company, error) {
	return get(ctx, d, companyTable, "c.id = ?", id)
}

// CompanyBySlug returns the visible company with the given slug; ENOTFOUND if none.
func (d *DB) CompanyBySlug(ctx context.Context, slug string) (*Company, error) {
	return d.CompanyBySlugWith(ctx, slug)
}

// CompanyBySlugWith is CompanyBySlug, reading the relations rels of the company
// it finds too, in the same statement when it can (see With).
func (d *DB) CompanyBySlugWith(ctx context.Context, slug string, rels ...With) (*Company, error) {
	return getWith(ctx, d, companyTable, rels, "c.slug = ?", slug)
}

// CompaniesByIDs returns the visible companies with the given row ids, by id.
func (d *DB) CompaniesByIDs(ctx context.Context, ids []int64) (map[int64]*Company, error) {
	return byIDs(ctx, d, companyTable, ids)
}

// FrameworksOfCompanies returns, for each company, the visible frameworks
// it uses, by name.
func (d *DB) FrameworksOfCompanies(ctx context.Context, companyIDs []int64) (map[int64][]*Framework, error) {
	return RelFrameworksOfCompanies.Load(ctx, d, companyIDs)
}

// TrendsOfCompanies returns, for each company, the visible trends that name
// it, by rank.
func (d *DB) TrendsOfCompanies(ctx context.Context, companyIDs []int64) (map[int64][]*Trend, error) {
	return RelTrendsOfCompanies.Load(ctx, d, companyIDs)
}
