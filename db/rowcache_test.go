package db_test

import (
	"context"
	"fmt"
	"reflect"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/trendql/trendql/db"
	"github.com/trendql/trendql/db/dbtest"
)

// openPair opens one seeded database twice: with the row cache (at
// cacheBytes; 0 is the default budget) and without it, so that every read
// can be checked against the uncached one. The search cache is off in
// both: a warm search would cost one statement less, which is not the row
// cache's doing.
func openPair(t *testing.T, cacheBytes int64) (cached, plain *db.DB) {
	return openTwice(t, db.Options{RowCacheBytes: cacheBytes, SearchCacheBytes: -1}, db.Options{RowCacheBytes: -1, SearchCacheBytes: -1})
}

// openTwice creates and seeds a database and opens it twice, with the
// options a and b.
func openTwice(t *testing.T, a, b db.Options) (*db.DB, *db.DB) {
	t.Helper()
	dsn := dbtest.NewDSN(t)
	mustOpen(t, dsn, true) // creates and seeds it
	open := func(o db.Options) *db.DB {
		d, _, err := db.Open(context.Background(), dsn, o)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { d.Close() })
		return d
	}
	return open(a), open(b)
}

// rowReads are the storage reads the row cache serves, as one value each
// (items, pages' flags and cursors, relations' maps), for comparing.
func rowReads(ctx context.Context, d *db.DB) (map[string]any, error) {
	out := map[string]any{}
	page := func(name string, items any, next, prev bool, cursors []string, err error) error {
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		out[name] = []any{items, next, prev, cursors}
		return nil
	}
	cursors := func(n int, c func(int) string) []string {
		var s []string
		for i := 0; i < n; i++ {
			s = append(s, c(i))
		}
		return s
	}
	fw, err := d.Frameworks(ctx, nil, nil, db.PageArgs{First: ptr(5)})
	if err == nil {
		err = page("frameworks", fw.Items, fw.HasNextPage, fw.HasPreviousPage, cursors(len(fw.Items), fw.Cursor), nil)
	}
	if err != nil {
		return nil, err
	}
	if len(fw.Items) > 0 {
		after := fw.Cursor(len(fw.Items) - 1)
		fw2, err := d.Frameworks(ctx, nil, nil, db.PageArgs{First: ptr(100), After: &after})
		if err != nil {
			return nil, err
		}
		if err := page("frameworks after", fw2.Items, fw2.HasNextPage, fw2.HasPreviousPage, cursors(len(fw2.Items), fw2.Cursor), nil); err != nil {
			return nil, err
		}
	}
	tr, err := d.Trends(ctx, nil, nil, db.PageArgs{Last: ptr(7)})
	if err := page("trends", func() any {
		if tr == nil {
			return nil
		}
		return tr.Items
	}(), tr != nil && tr.HasNextPage, tr != nil && tr.HasPreviousPage, nil, err); err != nil {
		return nil, err
	}
	co, err := d.Companies(ctx, nil, nil, db.PageArgs{First: ptr(100)})
	if err != nil {
		return nil, err
	}
	out["companies"] = co.Items
	fq, err := d.FAQs(ctx, nil, nil, db.PageArgs{})
	if err != nil {
		return nil, err
	}
	out["faqs"] = fq.Items
	var fwIDs, coIDs, trIDs []int64
	for _, f := range fw.Items {
		fwIDs = append(fwIDs, f.RowID)
	}
	for _, c := range co.Items {
		coIDs = append(coIDs, c.RowID)
	}
	for _, x := range tr.Items {
		trIDs = append(trIDs, x.RowID)
	}
	if out["companies of frameworks"], err = d.CompaniesOfFrameworks(ctx, fwIDs); err != nil {
		return nil, err
	}
	if out["frameworks of companies"], err = d.FrameworksOfCompanies(ctx, coIDs); err != nil {
		return nil, err
	}
	if out["trends by ids"], err = d.TrendsByIDs(ctx, append(trIDs, 999999)); err != nil {
		return nil, err
	}
	if out["django"], err = d.FrameworkBySlug(ctx, "django"); err != nil {
		return nil, err
	}
	_, err = d.FrameworkBySlug(ctx, "no-such-framework")
	out["missing"] = db.ErrorCode(err)
	hits, err := d.Search(ctx, "go", nil, db.PageArgs{First: ptr(20)})
	if err != nil {
		return nil, err
	}
	var nodes []any
	for _, h := range hits.Items {
		nodes = append(nodes, h.Node)
	}
	out["search nodes"] = nodes
	return out, nil
}

// The cache changes no answer: every read equals the uncached read, cold
// and warm, for anonymous callers and token holders, and costs no more
// statements warm, and at most one more per read cold.
func TestRowCache_AnswersAsWithoutIt(t *testing.T) {
	cached, plain := openPair(t, 0)
	editor := db.WithPrincipal(context.Background(), &db.Principal{TokenID: 1, Name: "test", Role: db.RoleEditor})
	// A draft, so that token holders and anonymous callers differ.
	if _, err := cached.CreateCompany(editor, db.CompanyPatch{Name: ptr("Draft Company")}); err != nil {
		t.Fatal(err)
	}
	for _, who := range []struct {
		name string
		ctx  context.Context
	}{{"anonymous", context.Background()}, {"editor", editor}} {
		p0 := plain.QueryCount()
		want, err := rowReads(who.ctx, plain)
		if err != nil {
			t.Fatal(err)
		}
		uncachedCost := plain.QueryCount() - p0
		for _, round := range []string{"cold", "warm"} {
			c0 := cached.QueryCount()
			got, err := rowReads(who.ctx, cached)
			if err != nil {
				t.Fatal(err)
			}
			cost := cached.QueryCount() - c0
			for k := range want {
				if !reflect.DeepEqual(got[k], want[k]) {
					t.Errorf("%s, %s cache: %s differs:\n got %#v\nwant %#v", who.name, round, k, got[k], want[k])
				}
			}
			switch {
			case round == "warm" && cost != uncachedCost:
				t.Errorf("%s, warm cache: %d statements, want %d as without it", who.name, cost, uncachedCost)
			case round == "cold" && (cost < uncachedCost || cost > 2*uncachedCost):
				t.Errorf("%s, cold cache: %d statements, want between %d and %d", who.name, cost, uncachedCost, 2*uncachedCost)
			}
		}
	}
	if st := cached.RowCacheStats(); st.Hits == 0 || st.Rows == 0 || st.Bytes <= 0 || st.Bytes > st.Budget {
		t.Errorf("stats after warm reads: %+v", st)
	}
	if st := plain.RowCacheStats(); st != (db.RowCacheStats{}) {
		t.Errorf("a database opened with the cache off reports %+v", st)
	}
}

// Every write through the database leaves the cache: the next read sees
// it, whoever reads.
func TestRowCache_WritesAreSeenAtOnce(t *testing.T) {
	d, _ := openPair(t, 0)
	anon := context.Background()
	editor := asEditor()
	read := func(ctx context.Context) (*db.Framework, error) { return d.FrameworkBySlug(ctx, "django") }
	f, err := read(anon)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := read(anon); err != nil { // cached now
		t.Fatal(err)
	}
	// A draft edit: anonymous callers keep the live version, the editor
	// (no preview) reads the content table's row, the live one too.
	if _, err := d.UpdateFramework(editor, f.RowID, db.FrameworkPatch{Summary: ptr("Edited summary.")}, nil); err != nil {
		t.Fatal(err)
	}
	for _, ctx := range []context.Context{anon, editor} {
		g, err := read(ctx)
		if err != nil || g.Summary != f.Summary {
			t.Fatalf("after a draft edit: %v, %v; want the live summary %q", g, err, f.Summary)
		}
	}
	if err := d.Publish(editor, db.TypeFramework, f.RowID, nil); err != nil {
		t.Fatal(err)
	}
	for _, ctx := range []context.Context{anon, editor} {
		g, err := read(ctx)
		if err != nil || g.Summary != "Edited summary." || g.Version <= f.Version {
			t.Fatalf("after publishing: %+v, %v", g, err)
		}
	}
	if err := d.Unpublish(editor, db.TypeFramework, f.RowID, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := read(anon); db.ErrorCode(err) != db.ENOTFOUND {
		t.Fatalf("anonymous read after unpublishing: %v, want ENOTFOUND", err)
	}
	if g, err := read(editor); err != nil || g.Status != db.StatusDraft {
		t.Fatalf("editor's read after unpublishing: %+v, %v", g, err)
	}
	if _, err := d.Delete(editor, db.TypeFramework, f.RowID, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := read(editor); db.ErrorCode(err) != db.ENOTFOUND {
		t.Fatalf("read after deleting: %v, want ENOTFOUND", err)
	}
}

// Another process's write (a second server on the file, another replica)
// is seen by the next read even before this process hears of it: the row
// is used only at the version the database returns.
func TestRowCache_OtherProcessesWritesAreSeenAtOnce(t *testing.T) {
	dsn := dbtest.NewDSN(t)
	a := mustOpen(t, dsn, true)
	b := mustOpen(t, dsn, false)
	ctx := context.Background()
	c, err := a.CompanyBySlug(ctx, "spotify")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.CompanyBySlug(ctx, "spotify"); err != nil {
		t.Fatal(err)
	}
	hits := a.RowCacheStats().Hits
	editor := asEditor()
	if _, err := b.UpdateCompany(editor, c.RowID, db.CompanyPatch{Name: ptr("Spotify AB")}, nil); err != nil {
		t.Fatal(err)
	}
	if err := b.Publish(editor, db.TypeCompany, c.RowID, nil); err != nil {
		t.Fatal(err)
	}
	got, err := a.CompanyBySlug(ctx, "spotify")
	if err != nil || got.Name != "Spotify AB" {
		t.Fatalf("after another process's write: %+v, %v", got, err)
	}
	if a.RowCacheStats().Hits != hits {
		t.Errorf("the stale row was a hit")
	}
}

// A small budget holds: the cache evicts and the answers stay right.
func TestRowCache_StaysWithinItsBudget(t *testing.T) {
	const budget = 8 << 10
	d, plain := openPair(t, budget)
	ctx := context.Background()
	for i := 0; i < 3; i++ {
		got, err := rowReads(ctx, d)
		if err != nil {
			t.Fatal(err)
		}
		want, err := rowReads(ctx, plain)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("round %d: answers differ from the uncached ones", i)
		}
		if st := d.RowCacheStats(); st.Bytes > budget {
			t.Fatalf("round %d: %d bytes cached, budget %d", i, st.Bytes, budget)
		}
	}
	if st := d.RowCacheStats(); st.Evictions == 0 || st.Rows == 0 {
		t.Errorf("stats: %+v; want evictions, and rows kept", st)
	}
}

// Readers racing a writer never get a row whose content is not its
// version's: the writer names the company after the version each edit
// makes, and every read must agree.
func TestRowCache_ReadersRacingWritesSeeWholeRows(t *testing.T) {
	d, _ := openPair(t, 0)
	editor := asEditor()
	c, err := d.CreateCompany(editor, db.CompanyPatch{Name: ptr("v1")})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	done := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(done)
		version := c.Version
		for i := 0; i < 60 && ctx.Err() == nil; i++ {
			u, err := d.UpdateCompany(editor, c.RowID, db.CompanyPatch{Name: ptr("v" + strconv.Itoa(version+1))}, &version)
			if err != nil {
				errs <- err
				return
			}
			version = u.Version
		}
	}()
	for r := 0; r < 4; r++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-done:
					return
				default:
				}
				byID, err := d.CompaniesByIDs(editor, []int64{c.RowID})
				if err != nil {
					errs <- err
					return
				}
				page, err := d.Companies(editor, nil, nil, db.PageArgs{First: ptr(100)})
				if err != nil {
					errs <- err
					return
				}
				for _, x := range append(page.Items, byID[c.RowID]) {
					if x != nil && x.RowID == c.RowID && x.Name != "v"+strconv.Itoa(x.Version) {
						errs <- fmt.Errorf("read %q at version %d", x.Name, x.Version)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	got, err := d.CompaniesByIDs(editor, []int64{c.RowID})
	if err != nil || got[c.RowID] == nil || got[c.RowID].Name != "v"+strconv.Itoa(got[c.RowID].Version) || got[c.RowID].Version < 2 {
		t.Fatalf("last read: %+v, %v", got[c.RowID], err)
	}
}
