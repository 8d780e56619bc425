package db

import (
	"context"
	"strings"
)

// Limits on filter shapes, so a hostile filter cannot build huge SQL.
const (
	maxFilterDepth = 6
	maxFilterTerms = 64
	maxInList      = 100
)

// StringFilter matches a text field. Eq, Ne and In compare exactly;
// Contains and StartsWith ignore ASCII case. All given operators must hold.
type StringFilter struct {
	Eq         *string  `json:"eq"`
	Ne         *string  `json:"ne"`
	In         []string `json:"in"`
	Contains   *string  `json:"contains"`
	StartsWith *string  `json:"startsWith"`
}

// IntFilter matches a number field. All given operators must hold.
// IsNull matches a missing value (true) or a present one (false).
type IntFilter struct {
	Eq     *int  `json:"eq"`
	Ne     *int  `json:"ne"`
	In     []int `json:"in"`
	Gt     *int  `json:"gt"`
	Gte    *int  `json:"gte"`
	Lt     *int  `json:"lt"`
	Lte    *int  `json:"lte"`
	IsNull *bool `json:"isNull"`
}

// StatusFilter matches the publication status.
type StatusFilter struct {
	Eq *Status  `json:"eq"`
	In []Status `json:"in"`
}

// CategoryFilter matches a trend's category.
type CategoryFilter struct {
	Eq *Category  `json:"eq"`
	In []Category `json:"in"`
}

// KindFilter matches a framework's kind.
type KindFilter struct {
	Eq *FrameworkKind  `json:"eq"`
	In []FrameworkKind `json:"in"`
}

// IDFilter matches an item's own global id.
type IDFilter struct {
	Eq *string  `json:"eq"`
	In []string `json:"in"`
}

// RelationFilter matches items related to at least one visible item that
// has one of the given ids or slugs. All given operators must hold.
type RelationFilter struct {
	ID     *string  `json:"id"`
	Slug   *string  `json:"slug"`
	IDIn   []string `json:"idIn"`
	SlugIn []string `json:"slugIn"`
}

// filterBuilder turns filter structs into SQL conditions with arguments.
type filterBuilder struct {
	ctx   context.Context
	terms int
}

func (b *filterBuilder) term(field string) error {
	b.terms++
	if b.terms > maxFilterTerms {
		return Invalid(field, "filter has more than %d conditions", maxFilterTerms)
	}
	return nil
}

func inList[T any](field string, vals []T) ([]any, error) {
	if len(vals) > maxInList {
		return nil, Invalid(field, "in takes at most %d values", maxInList)
	}
	out := make([]any, len(vals))
	for i, v := range vals {
		out[i] = v
	}
	return out, nil
}

func placeholders(n int) string {
	if n == 0 {
		return "NULL" // "x IN (NULL)" matches nothing, like an empty set
	}
	return strings.TrimSuffix(strings.Repeat("?,", n), ",")
}

func (b *filterBuilder) str(w *where, field, expr string, f *StringFilter) error {
	if f == nil {
		return nil
	}
	if err := b.term(field); err != nil {
		return err
	}
	if f.Eq != nil {
		w.add(expr+" = ?", *f.Eq)
	}
	if f.Ne != nil {
		w.add(expr+" <> ?", *f.Ne)
	}
	if f.In != nil {
		args, err := inList(field+".in", f.In)
		if err != nil {
			return err
		}
		w.add(expr+" IN ("+placeholders(len(args))+")", args...)
	}
	// instr on lower-cased text: no LIKE wildcards to escape.
	if f.Contains != nil {
		w.add("instr(lower("+expr+"), lower(?)) > 0", *f.Contains)
	}
	if f.StartsWith != nil {
		w.add("substr(lower("+expr+"), 1, length(?)) = lower(?)", *f.StartsWith, *f.StartsWith)
	}
	return nil
}

func (b *filterBuilder) int(w *where, field, expr string, f *IntFilter) error {
	if f == nil {
		return nil
	}
	if err := b.term(field); err != nil {
		return err
	}
	ops := []struct {
		v  *int
		op string
	}{{f.Eq, "="}, {f.Ne, "<>"}, {f.Gt, ">"}, {f.Gte, ">="}, {f.Lt, "<"}, {f.Lte, "<="}}
	for _, o := range ops {
		if o.v != nil {
			w.add(expr+" "+o.op+" ?", *o.v)
		}
	}
	if f.In != nil {
		args, err := inList(field+".in", f.In)
		if err != nil {
			return err
		}
		w.add(expr+" IN ("+placeholders(len(args))+")", args...)
	}
	if f.IsNull != nil {
		if *f.IsNull {
			w.add(expr + " IS NULL")
		} else {
			w.add(expr + " IS NOT NULL")
		}
	}
	return nil
}

// enum adds eq/in conditions for an enum-valued column.
func enum[T ~string](b *filterBuilder, w *where, field, expr string, eq *T, in []T) error {
	if err := b.term(field); err != nil {
		return err
	}
	if eq != nil {
		w.add(expr+" = ?", string(*eq))
	}
	if in != nil {
		args, err := inList(field+".in", in)
		if err != nil {
			return err
		}
		for i := range args {
			args[i] = string(in[i])
		}
		w.add(expr+" IN ("+placeholders(len(args))+")", args...)
	}
	return nil
}

func (b *filterBuilder) status(w *where, alias string, f *StatusFilter) error {
	if f == nil {
		return nil
	}
	return enum(b, w, "filter.status", alias+".status", f.Eq, f.In)
}

func (b *filterBuilder) id(w *where, alias string, t TypeName, f *IDFilter) error {
	if f == nil {
		return nil
	}
	if err := b.term("filter.id"); err != nil {
		return err
	}
	if f.Eq != nil {
		n, err := DecodeIDOf("filter.id.eq", t, *f.Eq)
		if err != nil {
			return err
		}
		w.add(alias+".id = ?", n)
	}
	if f.In != nil {
		args, err := inList("filter.id.in", f.In)
		if err != nil {
			return err
		}
		for i, id := range f.In {
			if args[i], err = DecodeIDOf("filter.id.in", t, id); err != nil {
				return err
			}
		}
		w.add(alias+".id IN ("+placeholders(len(args))+")", args...)
	}
	return nil
}

// relation adds "related through l to a visible row of table target that
// matches f". alias is the filtered table's alias.
func (b *filterBuilder) relation(w *where, field, alias string, l link, target string, t TypeName, f *RelationFilter) error {
	if f == nil {
		return nil
	}
	if err := b.term(field); err != nil {
		return err
	}
	var sub where
	if f.ID != nil {
		n, err := DecodeIDOf(field+".id", t, *f.ID)
		if err != nil {
			return err
		}
		sub.add("x.id = ?", n)
	}
	if f.Slug != nil {
		sub.add("x.slug = ?", *f.Slug)
	}
	if f.IDIn != nil {
		args, err := inList(field+".idIn", f.IDIn)
		if err != nil {
			return err
		}
		for i, id := range f.IDIn {
			if args[i], err = DecodeIDOf(field+".idIn", t, id); err != nil {
				return err
			}
		}
		sub.add("x.id IN ("+placeholders(len(args))+")", args...)
	}
	if f.SlugIn != nil {
		args, err := inList(field+".slugIn", f.SlugIn)
		if err != nil {
			return err
		}
		sub.add("x.slug IN ("+placeholders(len(args))+")", args...)
	}
	visible(b.ctx, &sub, "x")
	if Previewing(b.ctx) {
		// The drafted owners' links and the others' (see related).
		exists := func(from, extra string) string {
			return "EXISTS (SELECT 1 FROM " + from + " l JOIN " + target + "_overlay x ON x.id = l." + l.to +
				" WHERE l." + l.from + " = " + alias + ".id AND " + sub.sql() + extra + ")"
		}
		w.add("("+exists(l.table+"_drafts", "")+" OR "+exists(l.table, " AND "+linkNotDrafted(l.table))+")",
			twice(sub.args)...)
		return nil
	}
	w.add("EXISTS (SELECT 1 FROM "+l.table+" l JOIN "+target+" x ON x.id = l."+l.to+
		" WHERE l."+l.from+" = "+alias+".id AND "+sub.sql()+")", sub.args...)
	return nil
}

// logic combines AND, OR and NOT sub-filters, each built by one.
func logic[F any](b *filterBuilder, w *where, depth int, and, or []*F, not *F, one func(*F, int) (where, error)) error {
	if depth > maxFilterDepth {
		return Invalid("filter", "filter is nested deeper than %d levels", maxFilterDepth)
	}
	for _, f := range and {
		if f == nil {
			continue
		}
		sub, err := one(f, depth+1)
		if err != nil {
			return err
		}
		w.add("("+sub.sql()+")", sub.args...)
	}
	if or != nil {
		var parts []string
		var args []any
		for _, f := range or {
			if f == nil {
				continue
			}
			sub, err := one(f, depth+1)
			if err != nil {
				return err
			}
			parts = append(parts, "("+sub.sql()+")")
			args = append(args, sub.args...)
		}
		if len(parts) == 0 {
			parts = []string{"FALSE"} // OR of nothing matches nothing
		}
		w.add("("+strings.Join(parts, " OR ")+")", args...)
	}
	if not != nil {
		sub, err := one(not, depth+1)
		if err != nil {
			return err
		}
		w.add("NOT ("+sub.sql()+")", sub.args...)
	}
	return nil
}

// contentFilter is one of the per-type filters: it builds its conditions.
type contentFilter[F any] interface {
	*F
	sql(b *filterBuilder, depth int) (where, error)
}

// sortKey is one of the per-type sort keys (nil: none).
type sortKey interface{ key() (string, Direction) }

// buildFilter builds a filter's conditions plus the drafts rule for the
// caller in ctx; a nil filter matches everything visible.
func buildFilter[T, F any, PF contentFilter[F]](ctx context.Context, tb *table[T], f PF) (where, error) {
	var w where
	if f != nil {
		var err error
		if w, err = f.sql(&filterBuilder{ctx: ctx}, 0); err != nil {
			return w, err
		}
	}
	visible(ctx, &w, tb.alias)
	return w, nil
}

// listOf reads one page of tb's visible rows that match f, in order.
func listOf[T, F any, PF contentFilter[F], O sortKey](ctx context.Context, d *DB, tb *table[T], f PF, order []O, pa PageArgs) (*Page[T], error) {
	w, err := buildFilter(ctx, tb, f)
	if err != nil {
		return nil, err
	}
	fields := make([]string, 0, len(order))
	dirs := make([]Direction, 0, len(order))
	for _, o := range order {
		if field, dir := o.key(); field != "" {
			fields, dirs = append(fields, field), append(dirs, dir)
		}
	}
	return list(ctx, d, tb, w, fields, dirs, pa)
}

// countOf counts tb's visible rows that match f.
func countOf[T, F any, PF contentFilter[F]](ctx context.Context, d *DB, tb *table[T], f PF) (int, error) {
	w, err := buildFilter(ctx, tb, f)
	if err != nil {
		return 0, err
	}
	return count(ctx, d, tb, w)
}
