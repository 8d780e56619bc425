package db_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/trendql/trendql/db"
	"github.com/trendql/trendql/db/dbtest"
)

// openSearchPair opens one seeded database twice: with the search cache
// (at its default budget) and without it (nor the row cache), so that
// every search can be checked against an uncached one.
func openSearchPair(t *testing.T) (cached, plain *db.DB) {
	return openTwice(t, db.Options{}, db.Options{RowCacheBytes: -1, SearchCacheBytes: -1})
}

// searchWalk renders every page of a search (three hits a page, at most
// five pages) as the caller in ctx gets them: hits with exact scores,
// snippets, items' versions and cursors, and the pages' flags.
func searchWalk(ctx context.Context, d *db.DB, query string, types []db.TypeName) (string, error) {
	var b strings.Builder
	var after *string
	for page := 0; page < 5; page++ {
		p, err := d.Search(ctx, query, types, db.PageArgs{First: intp(3), After: after})
		if err != nil {
			return "", err
		}
		fmt.Fprintf(&b, "page %d next=%v prev=%v\n", page, p.HasNextPage, p.HasPreviousPage)
		for i, h := range p.Items {
			fmt.Fprintf(&b, "  %s v%d %s %s %s\n", hitName(h), nodeVersion(h.Node), strconv.FormatFloat(h.Score, 'g', -1, 64), h.Snippet, p.Cursor(i))
		}
		if !p.HasNextPage || len(p.Items) == 0 {
			break
		}
		c := p.Cursor(len(p.Items) - 1)
		after = &c
	}
	return b.String(), nil
}

func nodeVersion(n db.Node) int {
	switch n := n.(type) {
	case *db.Trend:
		return n.Version
	case *db.Framework:
		return n.Version
	case *db.Company:
		return n.Version
	case *db.FAQ:
		return n.Version
	}
	return -1
}

// The search cache answers every search, page and caller exactly as a
// database without it, cold and warm, and after every kind of write: a
// create, an edit, a draft, a publish, an unpublish, a delete.
func TestSearchCache_AnswersAsWithoutIt(t *testing.T) {
	cached, plain := openSearchPair(t)
	callers := map[string]context.Context{
		"anonymous": context.Background(),
		"viewer":    db.WithPrincipal(context.Background(), viewer),
		"editor":    asEditor(),
		"preview":   db.WithPreview(asViewer()),
	}
	searches := []struct {
		query string
		types []db.TypeName
	}{
		{"go", nil},
		{"framework", nil},
		{"data", []db.TypeName{db.TypeFramework}},
		{"api gr", nil}, // the last word as a prefix
		{"cloud native", []db.TypeName{db.TypeTrend, db.TypeFAQ}},
		{"zorblax", nil},
	}
	compare := func(when string) {
		t.Helper()
		for name, ctx := range callers {
			for _, s := range searches {
				want, err := searchWalk(ctx, plain, s.query, s.types)
				if err != nil {
					t.Fatalf("%s: %s: %q: %v", when, name, s.query, err)
				}
				for _, round := range []string{"first", "again"} {
					got, err := searchWalk(ctx, cached, s.query, s.types)
					if err != nil {
						t.Fatalf("%s: %s: %q: %v", when, name, s.query, err)
					}
					if got != want {
						t.Errorf("%s, %s search, %s: %q %v:\n%s\nwant (without the cache):\n%s", when, round, name, s.query, s.types, got, want)
					}
				}
			}
		}
	}
	compare("cold")
	if st := cached.SearchCacheStats(); st.Hits == 0 || st.Entries == 0 || st.Bytes <= 0 {
		t.Fatalf("searches asked twice were never answered by the cache: %+v", st)
	}

	editor := asEditor()
	f, err := cached.FrameworkBySlug(editor, "django")
	if err != nil {
		t.Fatal(err)
	}
	writes := []struct {
		name  string
		write func() error
	}{
		{"a new published trend", func() error {
			cat := db.CategoryArchitecture
			t2, err := cached.CreateTrend(editor, db.TrendPatch{Slug: ptr("zorblax-go"), Rank: ptr(40), Name: ptr("Zorblax Go"), Category: &cat,
				Summary: ptr("Cloud native data on Go."), Body: ptr("A framework for zorblax.")})
			if err != nil {
				return err
			}
			return cached.Publish(editor, db.TypeTrend, t2.RowID, nil)
		}},
		{"a draft of a published framework", func() error {
			_, err := cached.UpdateFramework(editor, f.RowID, db.FrameworkPatch{Name: ptr("Django Zorblax"), Summary: ptr("Go data framework.")}, nil)
			return err
		}},
		{"publishing the draft", func() error { return cached.Publish(editor, db.TypeFramework, f.RowID, nil) }},
		{"unpublishing it", func() error { return cached.Unpublish(editor, db.TypeFramework, f.RowID, nil) }},
		{"deleting it", func() error { _, err := cached.Delete(editor, db.TypeFramework, f.RowID, nil); return err }},
	}
	for _, w := range writes {
		before := cached.SearchCacheStats()
		if err := w.write(); err != nil {
			t.Fatalf("%s: %v", w.name, err)
		}
		// A draft changes nothing anonymous callers can read: their
		// searches stay kept, token holders' are ranked again.
		if w.name == "a draft of a published framework" {
			after := cached.SearchCacheStats()
			if after.Entries == 0 || after.Entries >= before.Entries {
				t.Errorf("after a draft, the cache went from %d to %d searches: want the anonymous ones kept, the others dropped", before.Entries, after.Entries)
			}
			mustSearch(t, context.Background(), cached, "go", nil, db.PageArgs{First: intp(3)})
			if st := cached.SearchCacheStats(); st.Hits != after.Hits+1 || st.Misses != after.Misses {
				t.Errorf("an anonymous search after a draft was ranked again: %+v, then %+v", after, st)
			}
		}
		compare("after " + w.name)
	}
}

// A search inside a write transaction reads what the transaction wrote
// and is never kept; previews never use the cache either.
func TestSearchCache_NotForPreviewsNorWrites(t *testing.T) {
	d := MustOpenDB(t)
	preview := db.WithPreview(asViewer())
	mustSearch(t, preview, d, "go", nil, db.PageArgs{})
	mustSearch(t, preview, d, "go", nil, db.PageArgs{})
	if st := d.SearchCacheStats(); st.Hits != 0 || st.Misses != 0 || st.Entries != 0 {
		t.Errorf("previews used the search cache: %+v", st)
	}

	mustSearch(t, context.Background(), d, "zorblax", nil, db.PageArgs{}) // kept: no hits
	ctx, req := d.BeginRequest(asEditor())
	cat := db.CategoryArchitecture
	if _, err := d.CreateTrend(ctx, db.TrendPatch{Slug: ptr("zorblax"), Rank: ptr(40), Name: ptr("Zorblax"), Category: &cat, Summary: ptr("S."), Body: ptr("B.")}); err != nil {
		t.Fatal(err)
	}
	if got := hitNames(mustSearch(t, ctx, d, "zorblax", nil, db.PageArgs{})); len(got) != 1 {
		t.Errorf("inside the transaction, zorblax finds %q, want the new trend", got)
	}
	if err := req.Rollback(); err != nil {
		t.Fatal(err)
	}
	if got := hitNames(mustSearch(t, asEditor(), d, "zorblax", nil, db.PageArgs{})); len(got) != 0 {
		t.Errorf("after the rollback, zorblax finds %q, want nothing", got)
	}
}

// Another process's write (a second server on the file, another replica)
// empties the cache as soon as this process hears of it.
func TestSearchCache_OtherProcessesWritesEmptyIt(t *testing.T) {
	dsn := dbtest.NewDSN(t)
	a := mustOpen(t, dsn, true)
	b := mustOpen(t, dsn, false)
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	go a.WatchExternal(ctx, 10*time.Millisecond)
	anon := context.Background()
	mustSearch(t, anon, a, "zorblax", nil, db.PageArgs{})
	mustSearch(t, anon, a, "zorblax", nil, db.PageArgs{})
	if a.SearchCacheStats().Hits == 0 {
		t.Fatal("the search asked twice was not kept")
	}
	// The watcher may start after a first write: each try writes again.
	deadline := time.Now().Add(10 * time.Second)
	for rank := 40; len(mustSearch(t, anon, a, "zorblax", nil, db.PageArgs{}).Items) != 1; rank++ {
		if time.Now().After(deadline) {
			t.Fatal("another process's write was never seen by the search")
		}
		mustImport(t, b, db.Content{Trends: []db.TrendDoc{{Slug: "zorblax", Rank: rank, Name: "Zorblax", Category: db.CategoryArchitecture, Summary: "S.", Body: "B."}}})
		time.Sleep(20 * time.Millisecond)
	}
}

// A small budget holds: the cache drops searches and answers stay right.
func TestSearchCache_StaysWithinItsBudget(t *testing.T) {
	dsn := dbtest.NewDSN(t)
	mustOpen(t, dsn, true)
	d, _, err := db.Open(context.Background(), dsn, db.Options{SearchCacheBytes: 4 << 10})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	plain, _, err := db.Open(context.Background(), dsn, db.Options{SearchCacheBytes: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	for _, q := range []string{"go", "data", "cloud", "api", "framework", "server", "java", "python", "go", "data"} {
		want, err := searchWalk(context.Background(), plain, q, nil)
		if err != nil {
			t.Fatal(err)
		}
		got, err := searchWalk(context.Background(), d, q, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("%q:\n%s\nwant:\n%s", q, got, want)
		}
		if st := d.SearchCacheStats(); st.Bytes > st.Budget {
			t.Fatalf("the cache holds %d bytes, over its budget of %d", st.Bytes, st.Budget)
		}
	}
}
