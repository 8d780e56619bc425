package graph

import (
	"context"
	"encoding/binary"
	"strconv"
	"unsafe"

	"github.com/99designs/gqlgen/graphql"
	"github.com/trendql/trendql/db"
)

// run is one execution of a plan: what was fetched, by plan field, and
// the response being written.
type run struct {
	ctx   context.Context
	f     *fastReads
	ec    *executionContext
	vals  map[*pfield]any // a root field's page or item; a relation's map by parent row id
	count map[*pfield]int // totalCount, by plan field
	// later is what the root fields fetch once every root field has its
	// page or item: counts and relations. Most errors (arguments, cursors,
	// page sizes, ids) show at the root, so an operation that falls back
	// to gqlgen has cost at most one statement per root field here.
	later []func() error
	// byID batches the root lookups by id, per type: one statement for
	// all of them, as the dataloader gives gqlgen's concurrent resolvers.
	byID    map[db.TypeName]any
	lookups []func() error
	// pre holds the relations a lookup by slug read with its item (a
	// relation field's *map by parent row id), until fetchRel takes them.
	pre map[*pfield]any
	buf []byte
}

// execute fetches and writes p's answer; any error means "let gqlgen
// answer", which will report it as it always has.
func (f *fastReads) execute(ctx context.Context, oc *graphql.OperationContext, p *plan) (data []byte, err error) {
	defer func() {
		// A panic here is a defect of the fast path, never the request's:
		// gqlgen answers (and reports it if it is the request's).
		if r := recover(); r != nil {
			data, err = nil, errFallback
		}
	}()
	x := &run{ctx: ctx, f: f, ec: newExecutionContext(oc, f.es, nil), vals: map[*pfield]any{}, count: map[*pfield]int{}}
	if err := x.fetchRoot(p.root); err != nil {
		return nil, err
	}
	// Room for what this plan wrote last time: a 16 KB page grew its
	// buffer three times, copying it each time.
	x.buf = make([]byte, 0, max(4096, p.size.Load()*9/8))
	x.writeRoot(p.root)
	p.size.Store(int64(len(x.buf)))
	return x.buf, nil
}

// args coerces a root field's arguments with gqlgen's generated code.
func (x *run) args(pf *pfield, coerce func(*executionContext, context.Context, map[string]any) (map[string]any, error)) (map[string]any, error) {
	return coerce(x.ec, x.ctx, pf.field.ArgumentMap(x.ec.Variables))
}

func argPtr[T any](m map[string]any, name string) *T {
	v, _ := m[name].(*T)
	return v
}

func pageArgs(m map[string]any) db.PageArgs {
	return db.PageArgs{First: argPtr[int](m, "first"), After: argPtr[string](m, "after"),
		Last: argPtr[int](m, "last"), Before: argPtr[string](m, "before")}
}

func (x *run) fetchRoot(o *pobj) error {
	d := x.f.db
	for _, pf := range o.fields {
		switch pf.kind {
		case kTypename:
		case kTrends:
			a, err := x.args(pf, (*executionContext).field_Query_trends_args)
			if err != nil {
				return err
			}
			filter, _ := a["filter"].(*db.TrendFilter)
			order, _ := a["orderBy"].([]*db.TrendOrder)
			page, err := d.Trends(x.ctx, filter, order, pageArgs(a))
			if err != nil {
				return err
			}
			if err := fetchConn(x, pf, page, func() (int, error) { return d.CountTrends(x.ctx, filter) }, x.fetchTrends); err != nil {
				return err
			}
		case kFrameworks:
			a, err := x.args(pf, (*executionContext).field_Query_frameworks_args)
			if err != nil {
				return err
			}
			filter, _ := a["filter"].(*db.FrameworkFilter)
			order, _ := a["orderBy"].([]*db.FrameworkOrder)
			page, err := d.Frameworks(x.ctx, filter, order, pageArgs(a))
			if err != nil {
				return err
			}
			if err := fetchConn(x, pf, page, func() (int, error) { return d.CountFrameworks(x.ctx, filter) }, x.fetchFrameworks); err != nil {
				return err
			}
		case kCompanies:
			a, err := x.args(pf, (*executionContext).field_Query_companies_args)
			if err != nil {
				return err
			}
			filter, _ := a["filter"].(*db.CompanyFilter)
			order, _ := a["orderBy"].([]*db.CompanyOrder)
			page, err := d.Companies(x.ctx, filter, order, pageArgs(a))
			if err != nil {
				return err
			}
			if err := fetchConn(x, pf, page, func() (int, error) { return d.CountCompanies(x.ctx, filter) }, x.fetchCompanies); err != nil {
				return err
			}
		case kFAQs:
			a, err := x.args(pf, (*executionContext).field_Query_faqs_args)
			if err != nil {
				return err
			}
			filter, _ := a["filter"].(*db.FAQFilter)
			order, _ := a["orderBy"].([]*db.FAQOrder)
			page, err := d.FAQs(x.ctx, filter, order, pageArgs(a))
			if err != nil {
				return err
			}
			if err := fetchConn(x, pf, page, func() (int, error) { return d.CountFAQs(x.ctx, filter) }, x.fetchFAQs); err != nil {
				return err
			}
		case kTrend:
			if err := fetchOne(x, pf, db.TypeTrend, (*executionContext).field_Query_trend_args, d.TrendsByIDs, d.TrendBySlugWith, x.fetchTrends); err != nil {
				return err
			}
		case kFramework:
			if err := fetchOne(x, pf, db.TypeFramework, (*executionContext).field_Query_framework_args, d.FrameworksByIDs, d.FrameworkBySlugWith, x.fetchFrameworks); err != nil {
				return err
			}
		case kCompany:
			if err := fetchOne(x, pf, db.TypeCompany, (*executionContext).field_Query_company_args, d.CompaniesByIDs, d.CompanyBySlugWith, x.fetchCompanies); err != nil {
				return err
			}
		case kFAQ:
			if err := fetchOne(x, pf, db.TypeFAQ, (*executionContext).field_Query_faq_args, d.FAQsByIDs, d.FAQBySlugWith, x.fetchFAQs); err != nil {
				return err
			}
		default:
			return errNotCompilable
		}
	}
	for _, f := range x.lookups {
		if err := f(); err != nil {
			return err
		}
	}
	for _, f := range x.later {
		if err := f(); err != nil {
			return err
		}
	}
	return nil
}

// fetchConn keeps a page for a connection field, counts it once per
// totalCount field (as gqlgen does), and fetches the relations its nodes
// and edges select.
func fetchConn[T db.Node](x *run, pf *pfield, page *db.Page[T], count func() (int, error), fetch func(*pobj, []T) error) error {
	x.vals[pf] = page
	x.later = append(x.later, func() error {
		for _, cf := range pf.sub.fields {
			switch cf.kind {
			case kTotalCount:
				n, err := count()
				if err != nil {
					return err
				}
				x.count[cf] = n
			case kNodes:
				if err := fetch(cf.sub, page.Items); err != nil {
					return err
				}
			case kEdges:
				for _, ef := range cf.sub.fields {
					if ef.kind == kEdgeNode {
						if err := fetch(ef.sub, page.Items); err != nil {
							return err
						}
					}
				}
			}
		}
		return nil
	})
	return nil
}

// idBatch is the root lookups of one type by id.
type idBatch[T db.Node] struct {
	ids []int64
	pfs []*pfield
}

// fetchOne resolves a lookup by id or slug as the resolver does: null
// when absent; an invalid id, or both or neither of id and slug, is an
// error gqlgen reports.
func fetchOne[T db.Node](x *run, pf *pfield, t db.TypeName,
	coerce func(*executionContext, context.Context, map[string]any) (map[string]any, error),
	byIDs func(context.Context, []int64) (map[int64]T, error), bySlug func(context.Context, string, ...db.With) (T, error),
	fetch func(*pobj, []T) error) error {
	a, err := x.args(pf, coerce)
	if err != nil {
		return err
	}
	id, slug := argPtr[string](a, "id"), argPtr[string](a, "slug")
	var v T
	var found bool
	switch {
	case (id == nil) == (slug == nil):
		return errFallback
	case id != nil:
		n, err := db.DecodeIDOf("id", t, *id)
		if err != nil {
			return err
		}
		b, _ := x.byID[t].(*idBatch[T])
		if b == nil {
			if x.byID == nil {
				x.byID = map[db.TypeName]any{}
			}
			b = &idBatch[T]{}
			x.byID[t] = b
			x.lookups = append(x.lookups, func() error {
				m, err := byIDs(x.ctx, b.ids)
				if err != nil {
					return err
				}
				for i, pf := range b.pfs {
					if v, ok := m[b.ids[i]]; ok {
						x.vals[pf] = v
						x.later = append(x.later, func() error { return fetch(pf.sub, []T{v}) })
					}
				}
				return nil
			})
		}
		b.ids, b.pfs = append(b.ids, n), append(b.pfs, pf)
		return nil
	default:
		v, err = bySlug(x.ctx, *slug, x.prefetch(t, pf.sub)...)
		if db.IsNotFound(err) {
			break
		}
		if err != nil {
			return err
		}
		found = true
	}
	if !found {
		return nil
	}
	x.vals[pf] = v
	x.later = append(x.later, func() error { return fetch(pf.sub, []T{v}) })
	return nil
}

// prefetch is what a lookup of a t reads with its item: the relations
// the plan asks for, each into x.pre for fetchRel.
func (x *run) prefetch(t db.TypeName, o *pobj) []db.With {
	var out []db.With
	for _, pf := range o.fields {
		if with := lookupRels[t][pf.kind]; with != nil {
			if x.pre == nil {
				x.pre = map[*pfield]any{}
			}
			w, dst := with()
			x.pre[pf] = dst
			out = append(out, w)
		}
	}
	return out
}

// lookupRels are, by type and plan field kind, the relations a lookup
// reads with its item: fetchTrends, fetchFrameworks, fetchCompanies and
// fetchFAQs read the same.
var lookupRels = map[db.TypeName]map[kind]func() (db.With, any){
	db.TypeTrend: {kRelFramework: relWith(db.RelFrameworksOfTrends), kRelFrameworks: relWith(db.RelFrameworksOfTrends),
		kRelCompanies: relWith(db.RelCompaniesOfTrends), kRelFAQs: relWith(db.RelFAQsOfTrends)},
	db.TypeFramework: {kRelCompanies: relWith(db.RelCompaniesOfFrameworks), kRelTrends: relWith(db.RelTrendsOfFrameworks),
		kRelFAQs: relWith(db.RelFAQsOfFrameworks)},
	db.TypeCompany: {kRelFrameworks: relWith(db.RelFrameworksOfCompanies), kRelTrends: relWith(db.RelTrendsOfCompanies)},
	db.TypeFAQ:     {kRelFrameworks: relWith(db.RelFrameworksOfFAQs), kRelTrends: relWith(db.RelTrendsOfFAQs)},
}

func relWith[C any](r *db.Rel[C]) func() (db.With, any) {
	return func() (db.With, any) {
		dst := new(map[int64][]C)
		return r.With(dst), dst
	}
}

// fetchRel fetches one relation for all items of a level in one
// statement, keeps it for the writer, and returns the related items (the
// first of each list only, for a single-valued relation).
func fetchRel[P db.Node, C db.Node](x *run, pf *pfield, items []P, rel *db.Rel[C], firstOnly bool) ([]C, error) {
	ids := make([]int64, 0, len(items))
	seen := make(map[int64]bool, len(items))
	for _, it := range items {
		if id := rowID(it); !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	var m map[int64][]C
	if p, ok := x.pre[pf].(*map[int64][]C); ok && *p != nil {
		m = *p // read with the lookup of its only item
		delete(x.pre, pf)
	} else {
		var err error
		if m, err = rel.Load(x.ctx, x.f.db, ids); err != nil {
			return nil, err
		}
	}
	x.vals[pf] = m
	var out []C
	for _, id := range ids {
		l := m[id]
		if firstOnly && len(l) > 1 {
			l = l[:1]
		}
		out = append(out, l...)
	}
	return out, nil
}

func (x *run) fetchTrends(o *pobj, items []*db.Trend) error {
	if len(items) == 0 {
		return nil
	}
	for _, pf := range o.fields {
		var err error
		switch pf.kind {
		case kRelFramework, kRelFrameworks:
			var c []*db.Framework
			if c, err = fetchRel(x, pf, items, db.RelFrameworksOfTrends, pf.kind == kRelFramework); err == nil {
				err = x.fetchFrameworks(pf.sub, c)
			}
		case kRelCompanies:
			var c []*db.Company
			if c, err = fetchRel(x, pf, items, db.RelCompaniesOfTrends, false); err == nil {
				err = x.fetchCompanies(pf.sub, c)
			}
		case kRelFAQs:
			var c []*db.FAQ
			if c, err = fetchRel(x, pf, items, db.RelFAQsOfTrends, false); err == nil {
				err = x.fetchFAQs(pf.sub, c)
			}
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (x *run) fetchFrameworks(o *pobj, items []*db.Framework) error {
	if len(items) == 0 {
		return nil
	}
	for _, pf := range o.fields {
		var err error
		switch pf.kind {
		case kRelCompanies:
			var c []*db.Company
			if c, err = fetchRel(x, pf, items, db.RelCompaniesOfFrameworks, false); err == nil {
				err = x.fetchCompanies(pf.sub, c)
			}
		case kRelTrends:
			var c []*db.Trend
			if c, err = fetchRel(x, pf, items, db.RelTrendsOfFrameworks, false); err == nil {
				err = x.fetchTrends(pf.sub, c)
			}
		case kRelFAQs:
			var c []*db.FAQ
			if c, err = fetchRel(x, pf, items, db.RelFAQsOfFrameworks, false); err == nil {
				err = x.fetchFAQs(pf.sub, c)
			}
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (x *run) fetchCompanies(o *pobj, items []*db.Company) error {
	if len(items) == 0 {
		return nil
	}
	for _, pf := range o.fields {
		var err error
		switch pf.kind {
		case kRelFrameworks:
			var c []*db.Framework
			if c, err = fetchRel(x, pf, items, db.RelFrameworksOfCompanies, false); err == nil {
				err = x.fetchFrameworks(pf.sub, c)
			}
		case kRelTrends:
			var c []*db.Trend
			if c, err = fetchRel(x, pf, items, db.RelTrendsOfCompanies, false); err == nil {
				err = x.fetchTrends(pf.sub, c)
			}
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (x *run) fetchFAQs(o *pobj, items []*db.FAQ) error {
	if len(items) == 0 {
		return nil
	}
	for _, pf := range o.fields {
		var err error
		switch pf.kind {
		case kRelFrameworks:
			var c []*db.Framework
			if c, err = fetchRel(x, pf, items, db.RelFrameworksOfFAQs, false); err == nil {
				err = x.fetchFrameworks(pf.sub, c)
			}
		case kRelTrends:
			var c []*db.Trend
			if c, err = fetchRel(x, pf, items, db.RelTrendsOfFAQs, false); err == nil {
				err = x.fetchTrends(pf.sub, c)
			}
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// Writing: the bytes gqlgen's marshalers write (graphql.MarshalString's
// escaping, strconv integers, no spaces).

func (x *run) str(s string) { x.buf = appendQuoted(x.buf, s) }

func (x *run) optStr(s *string) {
	if s == nil {
		x.buf = append(x.buf, "null"...)
		return
	}
	x.str(*s)
}

func (x *run) int(n int) { x.buf = strconv.AppendInt(x.buf, int64(n), 10) }

func (x *run) bool(b bool) { x.buf = strconv.AppendBool(x.buf, b) }

func (x *run) strs(l []string) {
	x.buf = append(x.buf, '[')
	for i, s := range l {
		if i > 0 {
			x.buf = append(x.buf, ',')
		}
		x.str(s)
	}
	x.buf = append(x.buf, ']')
}

const hexDigits = "0123456789ABCDEF"

// appendQuoted is graphql.MarshalString's escaping (writeQuotedString),
// byte by byte: every byte it escapes is ASCII, and it copies the rest
// as it is (invalid UTF-8 included), so decoding runes, as gqlgen's loop
// does, only cost time.
func appendQuoted(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		// Eight bytes at a time while none needs escaping: most text
		// has none, and the per-byte loop was an eighth of a 16 KB
		// page's CPU time.
		if i+8 <= len(s) && !escapes8(s[i:i+8]) {
			i += 8
			continue
		}
		end := min(i+8, len(s))
		for ; i < end; i++ {
			c := s[i]
			if c >= 0x20 && c != '\\' && c != '"' {
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\t':
				b = append(b, `\t`...)
			case '\r':
				b = append(b, `\r`...)
			case '\n':
				b = append(b, `\n`...)
			case '\\':
				b = append(b, `\\`...)
			case '"':
				b = append(b, `\"`...)
			default:
				b = append(b, `\u00`...)
				b = append(b, hexDigits[c>>4], hexDigits[c&0xf])
			}
			start = i + 1
		}
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// escapes8 reports whether any of eight bytes may need escaping in a JSON
// string (a control character, a quote or a backslash), testing them as
// one word: a byte is below 0x20, or equal to a given byte, when a borrow
// reaches its top bit. It may say yes for none (a borrow from a lower
// byte that matched), never no for one; appendQuoted then looks at each.
//
// s must have eight bytes; they are read as one word, in place.
func escapes8(s string) bool {
	const ones, tops = 0x0101010101010101, 0x8080808080808080
	x := binary.LittleEndian.Uint64(unsafe.Slice(unsafe.StringData(s), 8))
	q, bs := x^(ones*'"'), x^(ones*'\\')
	return ((x-ones*0x20)&^x|(q-ones)&^q|(bs-ones)&^bs)&tops != 0
}

// key writes the comma before every field but the first, and the field's
// response key.
func (x *run) key(i int, pf *pfield) {
	if i > 0 {
		x.buf = append(x.buf, ',')
	}
	x.buf = append(x.buf, pf.key...)
}

func (x *run) writeRoot(o *pobj) {
	x.buf = append(x.buf, '{')
	for i, pf := range o.fields {
		x.key(i, pf)
		switch pf.kind {
		case kTypename:
			x.str("Query")
		case kTrends:
			writeConn(x, pf, x.vals[pf].(*db.Page[*db.Trend]), x.writeTrend)
		case kFrameworks:
			writeConn(x, pf, x.vals[pf].(*db.Page[*db.Framework]), x.writeFramework)
		case kCompanies:
			writeConn(x, pf, x.vals[pf].(*db.Page[*db.Company]), x.writeCompany)
		case kFAQs:
			writeConn(x, pf, x.vals[pf].(*db.Page[*db.FAQ]), x.writeFAQ)
		case kTrend:
			writeOne(x, pf, x.writeTrend)
		case kFramework:
			writeOne(x, pf, x.writeFramework)
		case kCompany:
			writeOne(x, pf, x.writeCompany)
		case kFAQ:
			writeOne(x, pf, x.writeFAQ)
		}
	}
	x.buf = append(x.buf, '}')
}

func writeOne[T db.Node](x *run, pf *pfield, write func(*pobj, T)) {
	v, ok := x.vals[pf].(T)
	if !ok {
		x.buf = append(x.buf, "null"...)
		return
	}
	write(pf.sub, v)
}

func writeConn[T db.Node](x *run, pf *pfield, p *db.Page[T], write func(*pobj, T)) {
	o := pf.sub
	x.buf = append(x.buf, '{')
	for i, cf := range o.fields {
		x.key(i, cf)
		switch cf.kind {
		case kTypename:
			x.str(o.typ)
		case kTotalCount:
			x.int(x.count[cf])
		case kNodes:
			x.buf = append(x.buf, '[')
			for j, it := range p.Items {
				if j > 0 {
					x.buf = append(x.buf, ',')
				}
				write(cf.sub, it)
			}
			x.buf = append(x.buf, ']')
		case kEdges:
			x.buf = append(x.buf, '[')
			for j, it := range p.Items {
				if j > 0 {
					x.buf = append(x.buf, ',')
				}
				x.buf = append(x.buf, '{')
				for k, ef := range cf.sub.fields {
					x.key(k, ef)
					switch ef.kind {
					case kTypename:
						x.str(cf.sub.typ)
					case kCursor:
						x.str(p.Cursor(j))
					case kEdgeNode:
						write(ef.sub, it)
					}
				}
				x.buf = append(x.buf, '}')
			}
			x.buf = append(x.buf, ']')
		case kPageInfo:
			x.buf = append(x.buf, '{')
			for k, pi := range cf.sub.fields {
				x.key(k, pi)
				switch pi.kind {
				case kTypename:
					x.str("PageInfo")
				case kHasNext:
					x.bool(p.HasNextPage)
				case kHasPrev:
					x.bool(p.HasPreviousPage)
				case kStartCursor:
					x.optStr(p.StartCursor())
				case kEndCursor:
					x.optStr(p.EndCursor())
				}
			}
			x.buf = append(x.buf, '}')
		}
	}
	x.buf = append(x.buf, '}')
}

// meta writes the lifecycle fields every content type shares; false when
// pf is not one of them.
func (x *run) meta(pf *pfield, m *db.Meta, id func() string) bool {
	switch pf.kind {
	case kID:
		x.str(id())
	case kSlug:
		x.str(m.Slug)
	case kStatus:
		x.str(string(m.Status))
	case kVersion:
		x.int(m.Version)
	case kCreatedAt:
		x.str(m.CreatedAt)
	case kUpdatedAt:
		x.str(m.UpdatedAt)
	case kPublishedAt:
		x.optStr(m.PublishedAt)
	default:
		return false
	}
	return true
}

// writeList writes a relation's items of one parent.
func writeList[C db.Node](x *run, pf *pfield, parent int64, write func(*pobj, C)) {
	l := x.vals[pf].(map[int64][]C)[parent]
	x.buf = append(x.buf, '[')
	for i, it := range l {
		if i > 0 {
			x.buf = append(x.buf, ',')
		}
		write(pf.sub, it)
	}
	x.buf = append(x.buf, ']')
}

func (x *run) writeTrend(o *pobj, t *db.Trend) {
	x.buf = append(x.buf, '{')
	for i, pf := range o.fields {
		x.key(i, pf)
		if x.meta(pf, &t.Meta, t.ID) {
			continue
		}
		switch pf.kind {
		case kTypename:
			x.str("Trend")
		case kRank:
			x.int(t.Rank)
		case kName:
			x.str(t.Name)
		case kCategory:
			x.str(string(t.Category))
		case kSummary:
			x.str(t.Summary)
		case kBody:
			x.str(t.Body)
		case kHighlights:
			x.strs(t.Highlights())
		case kExamples:
			x.strs(t.Examples())
		case kRelFramework:
			l := x.vals[pf].(map[int64][]*db.Framework)[t.RowID]
			if len(l) == 0 {
				x.buf = append(x.buf, "null"...)
			} else {
				x.writeFramework(pf.sub, l[0])
			}
		case kRelFrameworks:
			writeList(x, pf, t.RowID, x.writeFramework)
		case kRelCompanies:
			writeList(x, pf, t.RowID, x.writeCompany)
		case kRelFAQs:
			writeList(x, pf, t.RowID, x.writeFAQ)
		}
	}
	x.buf = append(x.buf, '}')
}

func (x *run) writeFramework(o *pobj, f *db.Framework) {
	x.buf = append(x.buf, '{')
	for i, pf := range o.fields {
		x.key(i, pf)
		if x.meta(pf, &f.Meta, f.ID) {
			continue
		}
		switch pf.kind {
		case kTypename:
			x.str("Framework")
		case kName:
			x.str(f.Name)
		case kKind:
			x.str(string(f.Kind))
		case kLanguage:
			x.optStr(f.Language())
		case kCreator:
			x.optStr(f.Creator())
		case kFirstReleased:
			if f.FirstReleased == nil {
				x.buf = append(x.buf, "null"...)
			} else {
				x.int(*f.FirstReleased)
			}
		case kArchitecture:
			x.optStr(f.Architecture())
		case kSummary:
			x.str(f.Summary)
		case kFeatures:
			x.strs(f.Features())
		case kRelCompanies:
			writeList(x, pf, f.RowID, x.writeCompany)
		case kRelTrends:
			writeList(x, pf, f.RowID, x.writeTrend)
		case kRelFAQs:
			writeList(x, pf, f.RowID, x.writeFAQ)
		}
	}
	x.buf = append(x.buf, '}')
}

func (x *run) writeCompany(o *pobj, c *db.Company) {
	x.buf = append(x.buf, '{')
	for i, pf := range o.fields {
		x.key(i, pf)
		if x.meta(pf, &c.Meta, c.ID) {
			continue
		}
		switch pf.kind {
		case kTypename:
			x.str("Company")
		case kName:
			x.str(c.Name)
		case kRelFrameworks:
			writeList(x, pf, c.RowID, x.writeFramework)
		case kRelTrends:
			writeList(x, pf, c.RowID, x.writeTrend)
		}
	}
	x.buf = append(x.buf, '}')
}

func (x *run) writeFAQ(o *pobj, q *db.FAQ) {
	x.buf = append(x.buf, '{')
	for i, pf := range o.fields {
		x.key(i, pf)
		if x.meta(pf, &q.Meta, q.ID) {
			continue
		}
		switch pf.kind {
		case kTypename:
			x.str("FAQ")
		case kPosition:
			x.int(q.Position)
		case kQuestion:
			x.str(q.Question)
		case kAnswer:
			x.str(q.Answer)
		case kItems:
			x.strs(q.Items())
		case kRelFrameworks:
			writeList(x, pf, q.RowID, x.writeFramework)
		case kRelTrends:
			writeList(x, pf, q.RowID, x.writeTrend)
		}
	}
	x.buf = append(x.buf, '}')
}
