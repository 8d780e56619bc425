package db_test

import (
	"context"
	"reflect"
	"testing"

	"github.com/trendql/trendql/db"
)

// lookupCase is one type's lookup by slug with every relation of it, read
// both ways: given to the lookup (With), and one read after the other.
type lookupCase struct {
	name string
	// with looks slug up on d with every relation of the type, the first
	// twice (two arms of one relation), and returns the item and the
	// relations' maps.
	with func(ctx context.Context, d *db.DB, slug string) (any, []any, error)
	// apart is the same read as the lookup then each relation alone.
	apart func(ctx context.Context, d *db.DB, slug string) (any, []any, error)
	// slugs lists the type's slugs.
	slugs func(ctx context.Context, d *db.DB) ([]string, error)
}

// relOf reads one relation of one item alone, and gives it to a lookup.
type relOf struct {
	load func(ctx context.Context, d *db.DB, id int64) (any, error)
	with func() (db.With, func() any)
}

func rel[C any](r *db.Rel[C]) relOf {
	return relOf{
		load: func(ctx context.Context, d *db.DB, id int64) (any, error) { return r.Load(ctx, d, []int64{id}) },
		with: func() (db.With, func() any) {
			var m map[int64][]C
			return r.With(&m), func() any { return m }
		},
	}
}

func lookupCaseOf[T db.Node](name string, bySlug func(*db.DB) func(context.Context, string, ...db.With) (T, error), rowID func(T) int64,
	list func(context.Context, *db.DB) ([]T, error), slugOf func(T) string, rels ...relOf) lookupCase {
	return lookupCase{
		name: name,
		with: func(ctx context.Context, d *db.DB, slug string) (any, []any, error) {
			var ws []db.With
			var got []func() any
			for _, r := range append([]relOf{rels[0]}, rels...) {
				w, g := r.with()
				ws, got = append(ws, w), append(got, g)
			}
			v, err := bySlug(d)(ctx, slug, ws...)
			var out []any
			all := append([]relOf{rels[0]}, rels...)
			for i, g := range got {
				m := g()
				// Not read with the item (a cold cache, a preview): the
				// caller reads it.
				if err == nil && reflect.ValueOf(m).IsNil() {
					if m, err = all[i].load(ctx, d, rowID(v)); err != nil {
						return nil, nil, err
					}
				}
				out = append(out, m)
			}
			return v, out, err
		},
		apart: func(ctx context.Context, d *db.DB, slug string) (any, []any, error) {
			v, err := bySlug(d)(ctx, slug)
			out := make([]any, len(rels)+1)
			for i, r := range append([]relOf{rels[0]}, rels...) {
				if err != nil { // nothing found: no relation read
					_, g := r.with()
					out[i] = g()
					continue
				}
				if out[i], err = r.load(ctx, d, rowID(v)); err != nil {
					return nil, nil, err
				}
			}
			return v, out, err
		},
		slugs: func(ctx context.Context, d *db.DB) ([]string, error) {
			items, err := list(ctx, d)
			var s []string
			for _, it := range items {
				s = append(s, slugOf(it))
			}
			return s, err
		},
	}
}

var lookupCases = []lookupCase{
	lookupCaseOf("framework", func(d *db.DB) func(context.Context, string, ...db.With) (*db.Framework, error) {
		return d.FrameworkBySlugWith
	},
		func(f *db.Framework) int64 { return f.RowID },
		func(ctx context.Context, d *db.DB) ([]*db.Framework, error) {
			p, err := d.Frameworks(ctx, nil, nil, db.PageArgs{First: ptr(100)})
			if err != nil {
				return nil, err
			}
			return p.Items, nil
		}, func(f *db.Framework) string { return f.Slug },
		rel(db.RelCompaniesOfFrameworks), rel(db.RelTrendsOfFrameworks), rel(db.RelFAQsOfFrameworks)),
	lookupCaseOf("company", func(d *db.DB) func(context.Context, string, ...db.With) (*db.Company, error) {
		return d.CompanyBySlugWith
	},
		func(c *db.Company) int64 { return c.RowID },
		func(ctx context.Context, d *db.DB) ([]*db.Company, error) {
			p, err := d.Companies(ctx, nil, nil, db.PageArgs{First: ptr(100)})
			if err != nil {
				return nil, err
			}
			return p.Items, nil
		}, func(c *db.Company) string { return c.Slug },
		rel(db.RelFrameworksOfCompanies), rel(db.RelTrendsOfCompanies)),
	lookupCaseOf("trend", func(d *db.DB) func(context.Context, string, ...db.With) (*db.Trend, error) { return d.TrendBySlugWith },
		func(t *db.Trend) int64 { return t.RowID },
		func(ctx context.Context, d *db.DB) ([]*db.Trend, error) {
			p, err := d.Trends(ctx, nil, nil, db.PageArgs{First: ptr(100)})
			if err != nil {
				return nil, err
			}
			return p.Items, nil
		}, func(t *db.Trend) string { return t.Slug },
		rel(db.RelFrameworksOfTrends), rel(db.RelCompaniesOfTrends), rel(db.RelFAQsOfTrends)),
	lookupCaseOf("faq", func(d *db.DB) func(context.Context, string, ...db.With) (*db.FAQ, error) { return d.FAQBySlugWith },
		func(q *db.FAQ) int64 { return q.RowID },
		func(ctx context.Context, d *db.DB) ([]*db.FAQ, error) {
			p, err := d.FAQs(ctx, nil, nil, db.PageArgs{First: ptr(100)})
			if err != nil {
				return nil, err
			}
			return p.Items, nil
		}, func(q *db.FAQ) string { return q.Slug },
		rel(db.RelFrameworksOfFAQs), rel(db.RelTrendsOfFAQs)),
}

// A lookup given its relations answers as the lookup and then each
// relation alone: every type and relation, found and missing slugs,
// anonymous callers (who see no draft), token holders and previews (which
// read without the row cache), cold and warm, and after writes. Warm, it
// costs one statement.
func TestLookupWith_AnswersAsApart(t *testing.T) {
	cached, plain := openPair(t, 0)
	editor := asEditor()
	anon := context.Background()
	// Drafts among the related rows: a company never published, linked
	// to a framework, and a published company unpublished.
	draft, err := cached.CreateCompany(editor, db.CompanyPatch{Name: ptr("Draft Company")})
	if err != nil {
		t.Fatal(err)
	}
	django, err := cached.FrameworkBySlug(editor, "django")
	if err != nil {
		t.Fatal(err)
	}
	cos, err := cached.CompaniesOfFrameworks(editor, []int64{django.RowID})
	if err != nil || len(cos[django.RowID]) < 2 {
		t.Fatalf("django's companies: %v, %v", cos, err)
	}
	ids := []int64{draft.RowID}
	for _, c := range cos[django.RowID] {
		ids = append(ids, c.RowID)
	}
	if _, err := cached.UpdateFramework(editor, django.RowID, db.FrameworkPatch{Companies: &ids}, nil); err != nil {
		t.Fatal(err)
	}
	if err := cached.Publish(editor, db.TypeFramework, django.RowID, nil); err != nil {
		t.Fatal(err)
	}
	if err := cached.Unpublish(editor, db.TypeCompany, cos[django.RowID][0].RowID, nil); err != nil {
		t.Fatal(err)
	}
	check := func(when string, warmCost bool) {
		t.Helper()
		for _, who := range []struct {
			name string
			ctx  context.Context
		}{{"anonymous", anon}, {"editor", editor}, {"preview", db.WithPreview(editor)}} {
			for _, c := range lookupCases {
				slugs, err := c.slugs(editor, plain)
				if err != nil || len(slugs) == 0 {
					t.Fatalf("%s slugs: %v, %v", c.name, slugs, err)
				}
				for _, slug := range append(slugs, "no-such-"+c.name) {
					wantV, wantRels, wantErr := c.apart(who.ctx, plain, slug)
					for _, round := range []string{"cold", "warm"} {
						q0 := cached.QueryCount()
						v, rels, err := c.with(who.ctx, cached, slug)
						cost := cached.QueryCount() - q0
						if db.ErrorCode(err) != db.ErrorCode(wantErr) || (err == nil) != (wantErr == nil) {
							t.Fatalf("%s, %s, %s %s (%s): error %v, want %v", when, who.name, c.name, slug, round, err, wantErr)
						}
						if !reflect.DeepEqual(v, wantV) {
							t.Errorf("%s, %s, %s %s (%s): item\n got %#v\nwant %#v", when, who.name, c.name, slug, round, v, wantV)
						}
						for i := range wantRels {
							if !reflect.DeepEqual(rels[i], wantRels[i]) {
								t.Errorf("%s, %s, %s %s (%s): relation %d\n got %#v\nwant %#v", when, who.name, c.name, slug, round, i, rels[i], wantRels[i])
							}
						}
						if round == "warm" && warmCost && who.name != "preview" && cost != 1 {
							t.Errorf("%s, %s, %s %s, warm: %d statements, want 1", when, who.name, c.name, slug, cost)
						}
					}
				}
			}
		}
	}
	check("seeded", true)
	// Writes: the next read sees them, through the cache's versions.
	co := cos[django.RowID][1]
	if _, err := cached.UpdateCompany(editor, co.RowID, db.CompanyPatch{Name: ptr("Renamed Company")}, nil); err != nil {
		t.Fatal(err)
	}
	if err := cached.Publish(editor, db.TypeCompany, co.RowID, nil); err != nil {
		t.Fatal(err)
	}
	if err := cached.Publish(editor, db.TypeCompany, draft.RowID, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := cached.Delete(editor, db.TypeCompany, cos[django.RowID][2].RowID, nil); err != nil {
		t.Fatal(err)
	}
	check("after writes", true)
	if st := cached.RowCacheStats(); st.Hits == 0 {
		t.Errorf("no hits: %+v", st)
	}
}
