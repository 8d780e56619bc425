package db

import "context"

// FAQOrderField is what a list of FAQs can be sorted by.
type FAQOrderField string

// The FAQ sort fields.
const (
	FAQOrderPosition  FAQOrderField = "POSITION"
	FAQOrderCreatedAt FAQOrderField = "CREATED_AT"
	FAQOrderUpdatedAt FAQOrderField = "UPDATED_AT"
)

// FAQOrder is one sort key of a FAQ list.
type FAQOrder struct {
	Field     FAQOrderField `json:"field"`
	Direction Direction     `json:"direction"`
}

func (o *FAQOrder) key() (string, Direction) {
	if o == nil {
		return "", ""
	}
	return string(o.Field), o.Direction
}

// FAQFilter selects FAQs. All given fields must hold; AND, OR and NOT
// combine nested filters.
type FAQFilter struct {
	And       []*FAQFilter    `json:"AND"`
	Or        []*FAQFilter    `json:"OR"`
	Not       *FAQFilter      `json:"NOT"`
	ID        *IDFilter       `json:"id"`
	Slug      *StringFilter   `json:"slug"`
	Question  *StringFilter   `json:"question"`
	Position  *IntFilter      `json:"position"`
	Status    *StatusFilter   `json:"status"`
	Framework *RelationFilter `json:"framework"`
	Trend     *RelationFilter `json:"trend"`
}

var faqTable = func() *table[*FAQ] {
	tb := &table[*FAQ]{
		typ: TypeFAQ, name: "faqs", alias: "q",
		cols: sprintfCols(metaCols, "q") + ", q.position, q.question, q.answer, q.items",
		scan: func(s scanner) (*FAQ, error) {
			f := &FAQ{}
			err := s.Scan(append(scanMeta(&f.Meta), &f.Position, &f.Question, &f.Answer, &f.items)...)
			return f, err
		},
		rowID:        func(f *FAQ) int64 { return f.RowID },
		meta:         func(f *FAQ) *Meta { return &f.Meta },
		clone:        func(f *FAQ) *FAQ { x := *f; return &x },
		size:         func(f *FAQ) int64 { return metaSize(&f.Meta) + int64(len(f.Question)+len(f.Answer)+len(f.items)) },
		orders:       metaOrders("q", func(f *FAQ) *Meta { return &f.Meta }),
		defaultOrder: string(FAQOrderPosition),
	}
	tb.orders["POSITION"] = orderCol[*FAQ]{expr: "q.position", isInt: true, key: func(f *FAQ) any { return int64(f.Position) }}
	return tb
}()

var (
	linkFAQFrameworks = link{table: "faq_frameworks", from: "faq_id", to: "framework_id"}
	linkFrameworkFAQs = link{table: "faq_frameworks", from: "framework_id", to: "faq_id", order: "q.position"}
	linkFAQTrends     = link{table: "faq_trends", from: "faq_id", to: "trend_id"}
	linkTrendFAQs     = link{table: "faq_trends", from: "trend_id", to: "faq_id", order: "q.position"}
)

func (f *FAQFilter) sql(b *filterBuilder, depth int) (where, error) {
	var w where
	if f == nil {
		return w, nil
	}
	if err := logic(b, &w, depth, f.And, f.Or, f.Not, func(g *FAQFilter, d int) (where, error) { return g.sql(b, d) }); err != nil {
		return w, err
	}
	if err := b.id(&w, "q", TypeFAQ, f.ID); err != nil {
		return w, err
	}
	if err := b.str(&w, "filter.slug", "q.slug", f.Slug); err != nil {
		return w, err
	}
	if err := b.str(&w, "filter.question", "q.question", f.Question); err != nil {
		return w, err
	}
	if err := b.int(&w, "filter.position", "q.position", f.Position); err != nil {
		return w, err
	}
	if err := b.status(&w, "q", f.Status); err != nil {
		return w, err
	}
	if err := b.relation(&w, "filter.framework", "q", linkFAQFrameworks, "frameworks", TypeFramework, f.Framework); err != nil {
		return w, err
	}
	if err := b.relation(&w, "filter.trend", "q", linkFAQTrends, "trends", TypeTrend, f.Trend); err != nil {
		return w, err
	}
	return w, nil
}

// FAQs returns one page of the FAQs visible to the caller that match f,
// sorted by order (default: position). EINVALID for bad page sizes,
// cursors, filters or orderings.
func (d *DB) FAQs(ctx context.Context, f *FAQFilter, order []*FAQOrder, pa PageArgs) (*Page[*FAQ], error) {
	return listOf(ctx, d, faqTable, f, order, pa)
}

// CountFAQs returns how many visible FAQs match f.
func (d *DB) CountFAQs(ctx context.Context, f *FAQFilter) (int, error) {
	return countOf(ctx, d, faqTable, f)
}

// FAQ returns the visible FAQ with the given row id; ENOTFOUND if none.
func (d *DB) FAQ(ctx context.Context, id int64) (*FAQ, error) {
	return get(ctx, d, faqTable, "q.id = ?", id)
}

// FAQBySlug returns the visible FAQ with the given slug; ENOTFOUND if none.
func (d *DB) FAQBySlug(ctx context.Context, slug string) (*FAQ, error) {
	return d.FAQBySlugWith(ctx, slug)
}

// FAQBySlugWith is FAQBySlug, reading the relations rels of the FAQ
// it finds too, in the same statement when it can (see With).
func (d *DB) FAQBySlugWith(ctx context.Context, slug string, rels ...With) (*FAQ, error) {
	return getWith(ctx, d, faqTable, rels, "q.slug = ?", slug)
}

// FAQsByIDs returns the visible FAQs with the given row ids, by id.
func (d *DB) FAQsByIDs(ctx context.Context, ids []int64) (map[int64]*FAQ, error) {
	return byIDs(ctx, d, faqTable, ids)
}

// FrameworksOfFAQs returns the visible frameworks each FAQ's list names, in order.
func (d *DB) FrameworksOfFAQs(ctx context.Context, faqIDs []int64) (map[int64][]*Framework, error) {
	return RelFrameworksOfFAQs.Load(ctx, d, faqIDs)
}

// TrendsOfFAQs returns the visible trends each FAQ's list names, in order.
func (d *DB) TrendsOfFAQs(ctx context.Context, faqIDs []int64) (map[int64][]*Trend, error) {
	return RelTrendsOfFAQs.Load(ctx, d, faqIDs)
}

// FAQsOfTrends returns, for each trend, the visible FAQs that name it.
func (d *DB) FAQsOfTrends(ctx context.Context, trendIDs []int64) (map[int64][]*FAQ, error) {
	return RelFAQsOfTrends.Load(ctx, d, trendIDs)
}

// FAQsOfFrameworks returns, for each framework, the visible FAQs that name it.
func (d *DB) FAQsOfFrameworks(ctx context.Context, frameworkIDs []int64) (map[int64][]*FAQ, error) {
	return RelFAQsOfFrameworks.Load(ctx, d, frameworkIDs)
}
