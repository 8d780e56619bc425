package db

import "context"

// TrendOrderField is what a list of trends can be sorted by.
type TrendOrderField string

// The trend sort fields.
const (
	TrendOrderRank      TrendOrderField = "RANK"
	TrendOrderName      TrendOrderField = "NAME"
	TrendOrderCreatedAt TrendOrderField = "CREATED_AT"
	TrendOrderUpdatedAt TrendOrderField = "UPDATED_AT"
)

// TrendOrder is one sort key of a trend list.
type TrendOrder struct {
	Field     TrendOrderField `json:"field"`
	Direction Direction       `json:"direction"`
}

func (o *TrendOrder) key() (string, Direction) {
	if o == nil {
		return "", ""
	}
	return string(o.Field), o.Direction
}

// TrendFilter selects trends. All given fields must hold; AND, OR and NOT
// combine nested filters.
type TrendFilter struct {
	And       []*TrendFilter  `json:"AND"`
	Or        []*TrendFilter  `json:"OR"`
	Not       *TrendFilter    `json:"NOT"`
	ID        *IDFilter       `json:"id"`
	Slug      *StringFilter   `json:"slug"`
	Name      *StringFilter   `json:"name"`
	Rank      *IntFilter      `json:"rank"`
	Category  *CategoryFilter `json:"category"`
	Status    *StatusFilter   `json:"status"`
	Framework *RelationFilter `json:"framework"`
	Company   *RelationFilter `json:"company"`
}

const metaCols = "%[1]s.id, %[1]s.slug, %[1]s.status, %[1]s.version, %[1]s.created_at, %[1]s.updated_at, %[1]s.published_at"

func scanMeta(m *Meta) []any {
	return []any{&m.RowID, &m.Slug, &m.Status, &m.Version, &m.CreatedAt, &m.UpdatedAt, &m.PublishedAt}
}

func metaOrders[T any](alias string, meta func(T) *Meta) map[string]orderCol[T] {
	return map[string]orderCol[T]{
		"CREATED_AT": {expr: alias + ".created_at", key: func(v T) any { return meta(v).CreatedAt }},
		"UPDATED_AT": {expr: alias + ".updated_at", key: func(v T) any { return meta(v).UpdatedAt }},
	}
}

var trendTable = func() *table[*Trend] {
	tb := &table[*Trend]{
		typ: TypeTrend, name: "trends", alias: "t",
		cols: sprintfCols(metaCols, "t") + ", t.rank, t.name, t.category, t.summary, t.body, t.highlights, t.examples",
		scan: func(s scanner) (*Trend, error) {
			t := &Trend{}
			err := s.Scan(append(scanMeta(&t.Meta), &t.Rank, &t.Name, &t.Category, &t.Summary, &t.Body, &t.highlights, &t.examples)...)
			return t, err
		},
		rowID: func(t *Trend) int64 { return t.RowID },
		meta:  func(t *Trend) *Meta { return &t.Meta },
		clone: func(t *Trend) *Trend { x := *t; return &x },
		size: func(t *Trend) int64 {
			return metaSize(&t.Meta) + int64(len(t.Name)+len(t.Category)+len(t.Summary)+len(t.Body)+len(t.highlights)+len(t.examples))
		},
		orders:       metaOrders("t", func(t *Trend) *Meta { return &t.Meta }),
		defaultOrder: string(TrendOrderRank),
	}
	tb.orders["RANK"] = orderCol[*Trend]{expr: "t.rank", isInt: true, key: func(t *Trend) any { return int64(t.Rank) }}
	tb.orders["NAME"] = orderCol[*Trend]{expr: "t.name COLLATE NOCASE", key: func(t *Trend) any { return t.Name }}
	return tb
}()

// The relations of trends, read from either side.
var (
	linkTrendCompanies  = link{table: "trend_companies", from: "trend_id", to: "company_id"}
	linkCompanyTrends   = link{table: "trend_companies", from: "company_id", to: "trend_id", order: "t.rank"}
	linkTrendFrameworks = link{table: "trend_frameworks", from: "trend_id", to: "framework_id"}
	linkFrameworkTrends = link{table: "trend_frameworks", from: "framework_id", to: "trend_id", order: "t.rank"}
)

func (f *TrendFilter) sql(b *filterBuilder, depth int) (where, error) {
	var w where
	if f == nil {
		return w, nil
	}
	if err := logic(b, &w, depth, f.And, f.Or, f.Not, func(g *TrendFilter, d int) (where, error) { return g.sql(b, d) }); err != nil {
		return w, err
	}
	if err := b.id(&w, "t", TypeTrend, f.ID); err != nil {
		return w, err
	}
	if err := b.str(&w, "filter.slug", "t.slug", f.Slug); err != nil {
		return w, err
	}
	if err := b.str(&w, "filter.name", "t.name", f.Name); err != nil {
		return w, err
	}
	if err := b.int(&w, "filter.rank", "t.rank", f.Rank); err != nil {
		return w, err
	}
	if f.Category != nil {
		if err := enum(b, &w, "filter.category", "t.category", f.Category.Eq, f.Category.In); err != nil {
			return w, err
		}
	}
	if err := b.status(&w, "t", f.Status); err != nil {
		return w, err
	}
	if err := b.relation(&w, "filter.framework", "t", linkTrendFrameworks, "frameworks", TypeFramework, f.Framework); err != nil {
		return w, err
	}
	if err := b.relation(&w, "filter.company", "t", linkTrendCompanies, "companies", TypeCompany, f.Company); err != nil {
		return w, err
	}
	return w, nil
}

// Trends returns one page of the trends visible to the caller that match f,
// sorted by order (default: rank). EINVALID for bad page sizes, cursors,
// filters or orderings.
func (d *DB) Trends(ctx context.Context, f *TrendFilter, order []*TrendOrder, pa PageArgs) (*Page[*Trend], error) {
	return listOf(ctx, d, trendTable, f, order, pa)
}

// CountTrends returns how many visible trends match f.
func (d *DB) CountTrends(ctx context.Context, f *TrendFilter) (int, error) {
	return countOf(ctx, d, trendTable, f)
}

// Trend returns the visible trend with the given row id; ENOTFOUND if none.
func (d *DB) Trend(ctx context.Context, id int64) (*Trend, error) {
	return get(ctx, d, trendTable, "t.id = ?", id)
}

// TrendBySlug returns the visible trend with the given slug; ENOTFOUND if none.
func (d *DB) TrendBySlug(ctx context.Context, slug string) (*Trend, error) {
	return d.TrendBySlugWith(ctx, slug)
}

// TrendBySlugWith is TrendBySlug, reading the relations rels of the trend
// it finds too, in the same statement when it can (see With).
func (d *DB) TrendBySlugWith(ctx context.Context, slug string, rels ...With) (*Trend, error) {
	return getWith(ctx, d, trendTable, rels, "t.slug = ?", slug)
}

// TrendsByIDs returns the visible trends with the given row ids, by id.
func (d *DB) TrendsByIDs(ctx context.Context, ids []int64) (map[int64]*Trend, error) {
	return byIDs(ctx, d, trendTable, ids)
}

// CompaniesOfTrends returns each trend's visible companies, in order.
func (d *DB) CompaniesOfTrends(ctx context.Context, trendIDs []int64) (map[int64][]*Company, error) {
	return RelCompaniesOfTrends.Load(ctx, d, trendIDs)
}

// FrameworksOfTrends returns each trend's visible frameworks, in order; the
// first is the trend's main framework.
func (d *DB) FrameworksOfTrends(ctx context.Context, trendIDs []int64) (map[int64][]*Framework, error) {
	return RelFrameworksOfTrends.Load(ctx, d, trendIDs)
}
