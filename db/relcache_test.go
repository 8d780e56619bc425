package db_test

import (
	"context"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/trendql/trendql/db"
	"github.com/trendql/trendql/db/dbtest"
)

// relationReads reads every relation, from each side, of every item an
// anonymous caller can see, as one comparable value per relation.
func relationReads(ctx context.Context, d *db.DB) (map[string]any, error) {
	ids := func(rows any) []int64 {
		var out []int64
		v := reflect.ValueOf(rows)
		for i := 0; i < v.Len(); i++ {
			out = append(out, v.Index(i).Elem().FieldByName("RowID").Int())
		}
		return out
	}
	fw, err := d.Frameworks(ctx, nil, nil, db.PageArgs{First: ptr(100)})
	if err != nil {
		return nil, err
	}
	co, err := d.Companies(ctx, nil, nil, db.PageArgs{First: ptr(100)})
	if err != nil {
		return nil, err
	}
	tr, err := d.Trends(ctx, nil, nil, db.PageArgs{First: ptr(100)})
	if err != nil {
		return nil, err
	}
	fq, err := d.FAQs(ctx, nil, nil, db.PageArgs{})
	if err != nil {
		return nil, err
	}
	// Ids nobody can see (a draft's, a deleted one's) read as no rows.
	f, c, t, q := append(ids(fw.Items), 999999), append(ids(co.Items), 999999), ids(tr.Items), ids(fq.Items)
	out := map[string]any{}
	for name, read := range map[string]func() (any, error){
		"companies of frameworks": func() (any, error) { return d.CompaniesOfFrameworks(ctx, f) },
		"trends of frameworks":    func() (any, error) { return d.TrendsOfFrameworks(ctx, f) },
		"faqs of frameworks":      func() (any, error) { return d.FAQsOfFrameworks(ctx, f) },
		"frameworks of companies": func() (any, error) { return d.FrameworksOfCompanies(ctx, c) },
		"trends of companies":     func() (any, error) { return d.TrendsOfCompanies(ctx, c) },
		"companies of trends":     func() (any, error) { return d.CompaniesOfTrends(ctx, t) },
		"frameworks of trends":    func() (any, error) { return d.FrameworksOfTrends(ctx, t) },
		"faqs of trends":          func() (any, error) { return d.FAQsOfTrends(ctx, t) },
		"frameworks of faqs":      func() (any, error) { return d.FrameworksOfFAQs(ctx, q) },
		"trends of faqs":          func() (any, error) { return d.TrendsOfFAQs(ctx, q) },
	} {
		v, err := read()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		out[name] = v
	}
	// Lookups given their relations, which read them with the item when
	// they can and leave them to the caller otherwise (as the compiled
	// read path does).
	for _, x := range fw.Items {
		var cos map[int64][]*db.Company
		var trs map[int64][]*db.Trend
		f, err := d.FrameworkBySlugWith(ctx, x.Slug, db.RelCompaniesOfFrameworks.With(&cos), db.RelTrendsOfFrameworks.With(&trs))
		if err != nil {
			return nil, fmt.Errorf("framework %s: %w", x.Slug, err)
		}
		if cos == nil {
			cos, err = db.RelCompaniesOfFrameworks.Load(ctx, d, []int64{f.RowID})
		}
		if trs == nil && err == nil {
			trs, err = db.RelTrendsOfFrameworks.Load(ctx, d, []int64{f.RowID})
		}
		if err != nil {
			return nil, err
		}
		out["framework "+x.Slug+" with its relations"] = []any{f, cos, trs}
	}
	for _, x := range co.Items {
		var fws map[int64][]*db.Framework
		c, err := d.CompanyBySlugWith(ctx, x.Slug, db.RelFrameworksOfCompanies.With(&fws))
		if err != nil {
			return nil, fmt.Errorf("company %s: %w", x.Slug, err)
		}
		if fws == nil {
			if fws, err = db.RelFrameworksOfCompanies.Load(ctx, d, []int64{c.RowID}); err != nil {
				return nil, err
			}
		}
		out["company "+x.Slug+" with its frameworks"] = []any{c, fws}
	}
	return out, nil
}

// The relation cache changes no answer: after each kind of write that can
// change a relation (its links, the order of its rows, their visibility,
// their content), every relation read, cold and warm, equals a read of a
// database without caches; and warm reads are answered from memory.
func TestRelationCache_AnswersAsWithoutItThroughWrites(t *testing.T) {
	cached, plain := openPair(t, 0)
	anon := context.Background()
	editor := asEditor()
	django, err := cached.FrameworkBySlug(anon, "django")
	if err != nil {
		t.Fatal(err)
	}
	spotify, err := cached.CompanyBySlug(anon, "spotify")
	if err != nil {
		t.Fatal(err)
	}
	trends, err := cached.Trends(anon, nil, nil, db.PageArgs{First: ptr(2)})
	if err != nil {
		t.Fatal(err)
	}
	linked, err := cached.CompaniesOfFrameworks(anon, []int64{django.RowID})
	if err != nil || len(linked[django.RowID]) < 2 {
		t.Fatalf("django's companies: %v, %v", linked, err)
	}
	first := linked[django.RowID][0]
	var fresh *db.Company
	steps := []struct {
		name  string
		write func() error
	}{
		{"nothing", func() error { return nil }},
		{"a draft of a linked company", func() error {
			_, err := cached.UpdateCompany(editor, first.RowID, db.CompanyPatch{Name: ptr("Draft name")}, nil)
			return err
		}},
		{"publishing it (content)", func() error { return cached.Publish(editor, db.TypeCompany, first.RowID, nil) }},
		{"unpublishing a linked company (visibility)", func() error { return cached.Unpublish(editor, db.TypeCompany, first.RowID, nil) }},
		{"publishing it again", func() error { return cached.Publish(editor, db.TypeCompany, first.RowID, nil) }},
		{"reordering a framework's companies (links)", func() error {
			ids := []int64{}
			for i := len(linked[django.RowID]) - 1; i >= 0; i-- {
				ids = append(ids, linked[django.RowID][i].RowID)
			}
			if _, err := cached.UpdateFramework(editor, django.RowID, db.FrameworkPatch{Companies: &ids}, nil); err != nil {
				return err
			}
			return cached.Publish(editor, db.TypeFramework, django.RowID, nil)
		}},
		{"renaming a framework (order of a company's frameworks)", func() error {
			if _, err := cached.UpdateFramework(editor, django.RowID, db.FrameworkPatch{Name: ptr("AAA Django")}, nil); err != nil {
				return err
			}
			return cached.Publish(editor, db.TypeFramework, django.RowID, nil)
		}},
		{"swapping two trends' ranks (order of trends)", func() error {
			a, b := trends.Items[0], trends.Items[1]
			if _, err := cached.UpdateTrend(editor, a.RowID, db.TrendPatch{Rank: ptr(9000)}, nil); err != nil {
				return err
			}
			if err := cached.Publish(editor, db.TypeTrend, a.RowID, nil); err != nil {
				return err
			}
			if _, err := cached.UpdateTrend(editor, b.RowID, db.TrendPatch{Rank: ptr(a.Rank)}, nil); err != nil {
				return err
			}
			if err := cached.Publish(editor, db.TypeTrend, b.RowID, nil); err != nil {
				return err
			}
			if _, err := cached.UpdateTrend(editor, a.RowID, db.TrendPatch{Rank: ptr(b.Rank)}, nil); err != nil {
				return err
			}
			return cached.Publish(editor, db.TypeTrend, a.RowID, nil)
		}},
		{"a new company linked and published", func() error {
			var err error
			if fresh, err = cached.CreateCompany(editor, db.CompanyPatch{Name: ptr("Fresh Co")}); err != nil {
				return err
			}
			if err := cached.Publish(editor, db.TypeCompany, fresh.RowID, nil); err != nil {
				return err
			}
			ids := []int64{fresh.RowID, spotify.RowID}
			if _, err := cached.UpdateFramework(editor, django.RowID, db.FrameworkPatch{Companies: &ids}, nil); err != nil {
				return err
			}
			return cached.Publish(editor, db.TypeFramework, django.RowID, nil)
		}},
		{"deleting a linked company", func() error {
			_, err := cached.Delete(editor, db.TypeCompany, fresh.RowID, nil)
			return err
		}},
		{"unpublishing a framework", func() error { return cached.Unpublish(editor, db.TypeFramework, django.RowID, nil) }},
	}
	for _, s := range steps {
		if err := s.write(); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		want, err := relationReads(anon, plain)
		if err != nil {
			t.Fatal(err)
		}
		for _, round := range []string{"cold", "warm"} {
			before, missesBefore := cached.RowCacheStats().RelationHits, cached.RowCacheStats().RelationMisses
			got, err := relationReads(anon, cached)
			if err != nil {
				t.Fatal(err)
			}
			for k := range want {
				if !reflect.DeepEqual(got[k], want[k]) {
					t.Errorf("after %s, %s: %s differ:\n got %s\nwant %s", s.name, round, k, relString(got[k]), relString(want[k]))
				}
			}
			st := cached.RowCacheStats()
			hits, misses := st.RelationHits-before, st.RelationMisses-missesBefore
			switch {
			case !relCacheOn(cached) && hits+misses != 0:
				t.Errorf("after %s, %s: the relation cache is off on %s, yet %d hits and %d misses", s.name, round, cached.Engine(), hits, misses)
			case relCacheOn(cached) && round == "warm" && (hits < 10 || misses != 0):
				t.Errorf("after %s, warm: %d relation reads from memory, %d not", s.name, hits, misses)
			}
		}
	}
	// Token holders never use it.
	before := cached.RowCacheStats()
	if _, err := relationReads(editor, cached); err != nil {
		t.Fatal(err)
	}
	if after := cached.RowCacheStats(); after.RelationHits != before.RelationHits || after.RelationMisses != before.RelationMisses {
		t.Errorf("an editor's reads used the relation cache: %+v, then %+v", before, after)
	}
}

// relCacheOn says whether d keeps a relation cache: on SQLite, not on
// PostgreSQL, where event ids need not grow in commit order. The tests
// check the answers on both engines, and the cache's use where it is on.
func relCacheOn(d *db.DB) bool { return d.Engine() == "sqlite" }

// relString shows a relation map by its rows' ids, names and versions.
func relString(m any) string {
	v := reflect.ValueOf(m)
	switch v.Kind() {
	case reflect.Slice: // a lookup with its relations
		out := "["
		for i := 0; i < v.Len(); i++ {
			out += " " + relString(v.Index(i).Interface())
		}
		return out + " ]"
	case reflect.Pointer:
		if v.IsNil() {
			return "nil"
		}
		r := v.Elem()
		return fmt.Sprintf("%d %q v%d", r.FieldByName("RowID").Int(), r.FieldByName("Name").String(), r.FieldByName("Version").Int())
	}
	out := "{"
	for _, k := range v.MapKeys() {
		out += fmt.Sprintf(" %d:[", k.Int())
		l := v.MapIndex(k)
		for i := 0; i < l.Len(); i++ {
			r := l.Index(i).Elem()
			out += fmt.Sprintf(" %d %q v%d", r.FieldByName("RowID").Int(), r.FieldByName("Name").String(), r.FieldByName("Version").Int())
		}
		out += " ]"
	}
	return out + " }"
}

// Another process's write to a relation is seen by the next read, before
// this process hears of it: its events leave a gap in the log this process
// accounts for, and until the watcher closes it, relation reads go to the
// database. Once the watcher has seen the log move, they are answered from
// memory again, and rightly.
func TestRelationCache_OtherProcessesWritesAreSeenAtOnce(t *testing.T) {
	dsn := dbtest.NewDSN(t)
	a := mustOpen(t, dsn, true)
	b := mustOpen(t, dsn, false)
	anon := context.Background()
	django, err := a.FrameworkBySlug(anon, "django")
	if err != nil {
		t.Fatal(err)
	}
	read := func() []*db.Company {
		t.Helper()
		m, err := a.CompaniesOfFrameworks(anon, []int64{django.RowID})
		if err != nil {
			t.Fatal(err)
		}
		return m[django.RowID]
	}
	linked := read()
	read()
	hits := a.RowCacheStats().RelationHits
	if (hits == 0) == relCacheOn(a) || len(linked) < 2 {
		t.Fatalf("warm read on %s: %d hits, %d companies", a.Engine(), hits, len(linked))
	}
	// b unpublishes django's first company, then drops its second from
	// the links.
	editor := asEditor()
	if err := b.Unpublish(editor, db.TypeCompany, linked[0].RowID, nil); err != nil {
		t.Fatal(err)
	}
	if got := read(); len(got) != len(linked)-1 || got[0].RowID != linked[1].RowID {
		t.Fatalf("after another process unpublished a company: %d companies, first %d", len(got), got[0].RowID)
	}
	var rest []int64
	for _, c := range linked[2:] {
		rest = append(rest, c.RowID)
	}
	if _, err := b.UpdateFramework(editor, django.RowID, db.FrameworkPatch{Companies: &rest}, nil); err != nil {
		t.Fatal(err)
	}
	if err := b.Publish(editor, db.TypeFramework, django.RowID, nil); err != nil {
		t.Fatal(err)
	}
	// a's own write after b's (publishing the company again, no longer
	// linked): its events are not contiguous with what a accounted for.
	if err := a.Publish(editor, db.TypeCompany, linked[0].RowID, nil); err != nil {
		t.Fatal(err)
	}
	want := rest
	for range 2 {
		got := read()
		var ids []int64
		for _, c := range got {
			ids = append(ids, c.RowID)
		}
		if !reflect.DeepEqual(ids, want) {
			t.Fatalf("after both processes' writes: %v, want %v", ids, want)
		}
	}
	if a.RowCacheStats().RelationHits != hits {
		t.Errorf("a relation read was answered from memory with another process's events unaccounted for")
	}
	// The watcher sees the log move and closes the gap.
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); a.WatchExternal(ctx, 10*time.Millisecond) }()
	defer func() { cancel(); wg.Wait() }()
	if err := b.Unpublish(editor, db.TypeCompany, rest[0], nil); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); ; {
		before := a.RowCacheStats().RelationHits
		got := read()
		if len(got) != len(rest)-1 || got[0].RowID != rest[1] {
			t.Fatalf("after b unpublished %d: %d companies, want %d", rest[0], len(got), len(rest)-1)
		}
		if a.RowCacheStats().RelationHits > before || !relCacheOn(a) {
			break // answered from memory again (or, without the cache, right)
		}
		if time.Now().After(deadline) {
			t.Fatal("relation reads never answered from memory again after the watcher saw the log move")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Readers filling the cache while a writer changes a relation never make
// a later read stale: after each commit returns, a read sees it, however
// the readers' fills raced it.
func TestRelationCache_ReadersRacingWritesNeverLeaveItStale(t *testing.T) {
	d, _ := openPair(t, 0)
	anon := context.Background()
	editor := asEditor()
	django, err := d.FrameworkBySlug(anon, "django")
	if err != nil {
		t.Fatal(err)
	}
	m, err := d.CompaniesOfFrameworks(anon, []int64{django.RowID})
	if err != nil {
		t.Fatal(err)
	}
	n := len(m[django.RowID])
	company := m[django.RowID][0].RowID
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				if _, err := d.CompaniesOfFrameworks(anon, []int64{django.RowID}); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	published := true
	for i := range 60 {
		var err error
		if published {
			err = d.Unpublish(editor, db.TypeCompany, company, nil)
		} else {
			err = d.Publish(editor, db.TypeCompany, company, nil)
		}
		if err != nil {
			t.Fatal(err)
		}
		published = !published
		want := n
		if !published {
			want = n - 1
		}
		m, err := d.CompaniesOfFrameworks(anon, []int64{django.RowID})
		if err != nil {
			t.Fatal(err)
		}
		if got := len(m[django.RowID]); got != want {
			t.Fatalf("write %d: %d companies after the commit, want %d", i, got, want)
		}
	}
	cancel()
	wg.Wait()
	if st := d.RowCacheStats(); (st.RelationHits == 0) == relCacheOn(d) {
		t.Errorf("relation reads answered from memory on %s: %+v", d.Engine(), st)
	}
}
