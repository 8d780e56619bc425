package db

import "context"

// FrameworkOrderField is what a list of frameworks can be sorted by.
type FrameworkOrderField string

// The framework sort fields.
const (
	FrameworkOrderName          FrameworkOrderField = "NAME"
	FrameworkOrderFirstReleased FrameworkOrderField = "FIRST_RELEASED"
	FrameworkOrderCreatedAt     FrameworkOrderField = "CREATED_AT"
	FrameworkOrderUpdatedAt     FrameworkOrderField = "UPDATED_AT"
)

// FrameworkOrder is one sort key of a framework list.
type FrameworkOrder struct {
	Field     FrameworkOrderField `json:"field"`
	Direction Direction           `json:"direction"`
}

func (o *FrameworkOrder) key() (string, Direction) {
	if o == nil {
		return "", ""
	}
	return string(o.Field), o.Direction
}

// FrameworkFilter selects frameworks. All given fields must hold; AND, OR
// and NOT combine nested filters.
type FrameworkFilter struct {
	And           []*FrameworkFilter `json:"AND"`
	Or            []*FrameworkFilter `json:"OR"`
	Not           *FrameworkFilter   `json:"NOT"`
	ID            *IDFilter          `json:"id"`
	Slug          *StringFilter      `json:"slug"`
	Name          *StringFilter      `json:"name"`
	Kind          *KindFilter        `json:"kind"`
	Language      *StringFilter      `json:"language"`
	Creator       *StringFilter      `json:"creator"`
	FirstReleased *IntFilter         `json:"firstReleased"`
	Status        *StatusFilter      `json:"status"`
	Company       *RelationFilter    `json:"company"`
	Trend         *RelationFilter    `json:"trend"`
}

var frameworkTable = func() *table[*Framework] {
	tb := &table[*Framework]{
		typ: TypeFramework, name: "frameworks", alias: "f",
		cols: sprintfCols(metaCols, "f") + ", f.name, f.kind, f.language, f.creator, f.first_released, f.architecture, f.summary, f.features",
		scan: func(s scanner) (*Framework, error) {
			f := &Framework{}
			err := s.Scan(append(scanMeta(&f.Meta), &f.Name, &f.Kind, &f.language, &f.creator, &f.FirstReleased, &f.architecture, &f.Summary, &f.features)...)
			return f, err
		},
		rowID: func(f *Framework) int64 { return f.RowID },
		meta:  func(f *Framework) *Meta { return &f.Meta },
		clone: func(f *Framework) *Framework { x := *f; return &x },
		size: func(f *Framework) int64 {
			return metaSize(&f.Meta) + int64(len(f.Name)+len(f.Kind)+len(f.Summary)+len(f.language)+len(f.creator)+len(f.architecture)+len(f.features)+8)
		},
		orders:       metaOrders("f", func(f *Framework) *Meta { return &f.Meta }),
		defaultOrder: string(FrameworkOrderName),
	}
	tb.orders["NAME"] = orderCol[*Framework]{expr: "f.name COLLATE NOCASE", key: func(f *Framework) any { return f.Name }}
	// Frameworks without a release year sort first ascending: the cursor
	// needs a non-null key, so NULL reads as the smallest integer.
	tb.orders["FIRST_RELEASED"] = orderCol[*Framework]{expr: "ifnull(f.first_released, -9223372036854775808)", isInt: true,
		key: func(f *Framework) any {
			if f.FirstReleased == nil {
				return int64(-9223372036854775808)
			}
			return int64(*f.FirstReleased)
		}}
	return tb
}()

var (
	linkFrameworkCompanies = link{table: "framework_companies", from: "framework_id", to: "company_id"}
	linkCompanyFrameworks  = link{table: "framework_companies", from: "company_id", to: "framework_id", order: "f.name COLLATE NOCASE, f.id"}
)

func (f *FrameworkFilter) sql(b *filterBuilder, depth int) (where, error) {
	var w where
	if f == nil {
		return w, nil
	}
	if err := logic(b, &w, depth, f.And, f.Or, f.Not, func(g *FrameworkFilter, d int) (where, error) { return g.sql(b, d) }); err != nil {
		return w, err
	}
	if err := b.id(&w, "f", TypeFramework, f.ID); err != nil {
		return w, err
	}
	for _, s := range []struct {
		field, expr string
		f           *StringFilter
	}{
		{"filter.slug", "f.slug", f.Slug}, {"filter.name", "f.name", f.Name},
		{"filter.language", "f.language", f.Language}, {"filter.creator", "f.creator", f.Creator},
	} {
		if err := b.str(&w, s.field, s.expr, s.f); err != nil {
			return w, err
		}
	}
	if f.Kind != nil {
		if err := enum(b, &w, "filter.kind", "f.kind", f.Kind.Eq, f.Kind.In); err != nil {
			return w, err
		}
	}
	if err := b.int(&w, "filter.firstReleased", "f.first_released", f.FirstReleased); err != nil {
		return w, err
	}
	if err := b.status(&w, "f", f.Status); err != nil {
		return w, err
	}
	if err := b.relation(&w, "filter.company", "f", linkFrameworkCompanies, "companies", TypeCompany, f.Company); err != nil {
		return w, err
	}
	if err := b.relation(&w, "filter.trend", "f", linkFrameworkTrends, "trends", TypeTrend, f.Trend); err != nil {
		return w, err
	}
	return w, nil
}

// Frameworks returns one page of the frameworks visible to the caller that
// match f, sorted by order (default: name). EINVALID for bad page sizes,
// cursors, filters or orderings.
func (d *DB) Frameworks(ctx context.Context, f *FrameworkFilter, order []*FrameworkOrder, pa PageArgs) (*Page[*Framework], error) {
	return listOf(ctx, d, frameworkTable, f, order, pa)
}

// CountFrameworks returns how many visible frameworks match f.
func (d *DB) CountFrameworks(ctx context.Context, f *FrameworkFilter) (int, error) {
	return countOf(ctx, d, frameworkTable, f)
}

// Framework returns the visible framework with the given row id; ENOTFOUND if none.
func (d *DB) Framework(ctx context.Context, id int64) (*Framework, error) {
	return get(ctx, d, frameworkTable, "f.id = ?", id)
}

// FrameworkBySlug returns the visible framework with the given slug; ENOTFOUND if none.
func (d *DB) FrameworkBySlug(ctx context.Context, slug string) (*Framework, error) {
	return d.FrameworkBySlugWith(ctx, slug)
}

// FrameworkBySlugWith is FrameworkBySlug, reading the relations rels of the framework
// it finds too, in the same statement when it can (see With).
func (d *DB) FrameworkBySlugWith(ctx context.Context, slug string, rels ...With) (*Framework, error) {
	return getWith(ctx, d, frameworkTable, rels, "f.slug = ?", slug)
}

// FrameworksByIDs returns the visible frameworks with the given row ids, by id.
func (d *DB) FrameworksByIDs(ctx context.Context, ids []int64) (map[int64]*Framework, error) {
	return byIDs(ctx, d, frameworkTable, ids)
}

// CompaniesOfFrameworks returns, for each framework, the visible companies
// that use it, in order.
func (d *DB) CompaniesOfFrameworks(ctx context.Context, frameworkIDs []int64) (map[int64][]*Company, error) {
	return RelCompaniesOfFrameworks.Load(ctx, d, frameworkIDs)
}

// TrendsOfFrameworks returns, for each framework, the visible trends about it.
func (d *DB) TrendsOfFrameworks(ctx context.Context, frameworkIDs []int64) (map[int64][]*Trend, error) {
	return RelTrendsOfFrameworks.Load(ctx, d, frameworkIDs)
}
