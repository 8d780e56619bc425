package db_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"testing"

	"github.com/trendql/trendql/db"
	"github.com/trendql/trendql/db/dbtest"
)

var viewer = &db.Principal{Name: "test", Role: db.RoleViewer}

// hitName is a hit's type and name (a FAQ's question), for messages and
// comparisons.
func hitName(h *db.SearchHit) string {
	switch n := h.Node.(type) {
	case *db.Trend:
		return "Trend " + n.Name
	case *db.Framework:
		return "Framework " + n.Name
	case *db.Company:
		return "Company " + n.Name
	case *db.FAQ:
		return "FAQ " + n.Question
	}
	return fmt.Sprintf("%T", h.Node)
}

func hitNames(p *db.Page[*db.SearchHit]) []string {
	out := make([]string, len(p.Items))
	for i, h := range p.Items {
		out[i] = hitName(h)
	}
	return out
}

func mustSearch(t *testing.T, ctx context.Context, d *db.DB, query string, types []db.TypeName, pa db.PageArgs) *db.Page[*db.SearchHit] {
	t.Helper()
	p, err := d.Search(ctx, query, types, pa)
	if err != nil {
		t.Fatalf("Search(%q): %v", query, err)
	}
	return p
}

func mustImport(t *testing.T, d *db.DB, c db.Content) {
	t.Helper()
	c.Format = db.ContentFormat
	if _, err := d.Import(context.Background(), &c, false); err != nil {
		t.Fatalf("Import: %v", err)
	}
}

func intp(n int) *int { return &n }

func TestSearch_BestHitFirst(t *testing.T) {
	d := MustOpenDB(t)
	ctx := context.Background()
	for _, tc := range []struct {
		query string
		want  []string // any of these is the right first hit
	}{
		{"Otwell", []string{"Framework Laravel", "Trend Laravel"}},
		{"garbage collection", []string{"Framework Go", "Trend Go"}},
		{"serverles", []string{"Trend Serverless Computing"}}, // a prefix, as typed
		{"serverless computing", []string{"Trend Serverless Computing"}},
		{"go", []string{"Framework Go", "Trend Go"}}, // the word before Google and GoLang
		{"Uber", []string{"Company Uber"}},           // a name outranks a mention
		{"taylor otwell laravel", []string{"Framework Laravel", "Trend Laravel"}},
		{"should I learn backend", []string{"FAQ Should I learn backend in 2024?"}},
	} {
		t.Run(tc.query, func(t *testing.T) {
			p := mustSearch(t, ctx, d, tc.query, nil, db.PageArgs{})
			if len(p.Items) == 0 {
				t.Fatal("no hits")
			}
			got := hitName(p.Items[0])
			ok := false
			for _, w := range tc.want {
				ok = ok || got == w
			}
			if !ok {
				t.Errorf("first hit %q, want one of %q (all: %q)", got, tc.want, hitNames(p))
			}
			for i := 1; i < len(p.Items); i++ {
				if p.Items[i].Score > p.Items[i-1].Score {
					t.Errorf("hit %d scores %v, more than hit %d's %v", i, p.Items[i].Score, i-1, p.Items[i-1].Score)
				}
			}
		})
	}
}

func TestSearch_SnippetMarksMatchedWordsAndEscapesTheRest(t *testing.T) {
	d := MustOpenDB(t)
	ctx := context.Background()
	p := mustSearch(t, ctx, d, "garbage collection", nil, db.PageArgs{})
	if len(p.Items) == 0 || !strings.Contains(p.Items[0].Snippet, "<mark>garbage</mark> <mark>collection</mark>") {
		t.Fatalf("snippets %q lack the marked words", snippets(p))
	}

	mustImport(t, d, db.Content{FAQs: []db.FAQDoc{{
		Slug: "markup", Position: 99, Question: "Does markup survive?",
		Answer: "Use <b>bold</b> & \"quotes\" or 'apostrophes'\n\n  with zebrafish <mark>here</mark>.",
	}}})
	p = mustSearch(t, ctx, d, "zebrafish", nil, db.PageArgs{})
	if len(p.Items) != 1 {
		t.Fatalf("%d hits, want 1", len(p.Items))
	}
	want := "Use &lt;b&gt;bold&lt;/b&gt; &amp; &#34;quotes&#34; or &#39;apostrophes&#39; with <mark>zebrafish</mark> &lt;mark&gt;here&lt;/mark&gt;."
	if got := p.Items[0].Snippet; got != want {
		t.Errorf("snippet\n got %s\nwant %s", got, want)
	}
}

func snippets(p *db.Page[*db.SearchHit]) []string {
	out := make([]string, len(p.Items))
	for i, h := range p.Items {
		out[i] = h.Snippet
	}
	return out
}

func TestSearch_TypesFilter(t *testing.T) {
	d := MustOpenDB(t)
	ctx := context.Background()
	all := mustSearch(t, ctx, d, "go", nil, db.PageArgs{First: intp(100)})
	seen := map[string]bool{}
	for _, h := range all.Items {
		seen[strings.Fields(hitName(h))[0]] = true
	}
	if len(seen) < 3 {
		t.Fatalf("types %v: want hits of several types to filter", seen)
	}
	for _, types := range [][]db.TypeName{
		{db.TypeTrend}, {db.TypeFramework}, {db.TypeCompany}, {db.TypeFAQ},
		{db.TypeTrend, db.TypeFAQ}, {db.TypeFAQ, db.TypeFAQ},
	} {
		p := mustSearch(t, ctx, d, "go", types, db.PageArgs{First: intp(100)})
		n, err := d.CountSearch(ctx, "go", types)
		if err != nil || n != len(p.Items) {
			t.Errorf("types %v: CountSearch = %d, %v; want %d", types, n, err, len(p.Items))
		}
		if len(p.Items) == 0 {
			t.Errorf("types %v: no hits", types)
		}
		for _, h := range p.Items {
			typ := db.TypeName(strings.Fields(hitName(h))[0])
			if !contains(types, typ) {
				t.Errorf("types %v: hit %s", types, hitName(h))
			}
		}
	}
	p := mustSearch(t, ctx, d, "go", []db.TypeName{}, db.PageArgs{})
	if n, _ := d.CountSearch(ctx, "go", []db.TypeName{}); len(p.Items) != 0 || n != 0 || p.HasNextPage {
		t.Errorf("an empty types list found %d (count %d), want nothing", len(p.Items), n)
	}
}

func contains[T comparable](l []T, v T) bool {
	for _, x := range l {
		if x == v {
			return true
		}
	}
	return false
}

func TestSearch_StemmingAndDiacritics(t *testing.T) {
	d := MustOpenDB(t)
	ctx := context.Background()
	mustImport(t, d, db.Content{
		Companies: []db.CompanyDoc{
			{Slug: "cafe-societe", Name: "Café Société"},  // composed é
			{Slug: "cafe-noir", Name: "Cafe\u0301 Noir"},  // e + combining acute
			{Slug: "smorgasbord", Name: "Smörgåsbord AB"}, // ö, å
		},
		Trends: []db.TrendDoc{{
			Slug: "dessert", Rank: 50, Name: "Dessert Driven Development", Category: db.CategoryTooling,
			Summary: "Crème brûlée for every deploy.", Body: "The developers were deploying daily.",
		}},
	})
	for _, tc := range []struct {
		query string
		want  []string
	}{
		{"cafe ", []string{"Company Cafe\u0301 Noir", "Company Café Société"}},
		{"CAFÉ ", []string{"Company Cafe\u0301 Noir", "Company Café Société"}},
		{"cafe\u0301 ", []string{"Company Cafe\u0301 Noir", "Company Café Société"}},
		{"societe", []string{"Company Café Société"}},
		{"smorgasbord", []string{"Company Smörgåsbord AB"}},
		{"creme brulee", []string{"Trend Dessert Driven Development"}},
		{"crème brûlée", []string{"Trend Dessert Driven Development"}},
		// Stemming: each form finds the others.
		{"deploys ", []string{"Trend Dessert Driven Development"}},
		{"deployed ", []string{"Trend Dessert Driven Development"}},
		{"developer dessert ", []string{"Trend Dessert Driven Development"}},
	} {
		p := mustSearch(t, ctx, d, tc.query, nil, db.PageArgs{})
		got := hitNames(p)
		for _, w := range tc.want {
			if !contains(got, w) {
				t.Errorf("%q found %q, want %q among them", tc.query, got, w)
			}
		}
	}
	// "frameworks" finds the article's "framework" items (and exact
	// spelling is no requirement: the FAQ says "framework" only).
	p := mustSearch(t, ctx, d, "frameworks ", nil, db.PageArgs{First: intp(100)})
	if !contains(hitNames(p), "FAQ Which is the best backend framework in 2024?") {
		t.Errorf(`"frameworks" found %q, want the FAQ about the best framework`, hitNames(p))
	}
	if len(p.Items) > 0 && !strings.Contains(p.Items[0].Snippet, "<mark>framework</mark>") {
		t.Errorf("snippet %q does not mark the stemmed match", p.Items[0].Snippet)
	}
}

func TestSearch_PrefixOnlyForTheWordBeingTyped(t *testing.T) {
	d := MustOpenDB(t)
	ctx := context.Background()
	for _, tc := range []struct {
		query string
		hits  bool
	}{
		{"serverles", true},            // still typing: a prefix
		{"serverles ", false},          // a finished word: no word "serverles"
		{"serverles computing", false}, // only the last word is a prefix
		{"computing serverles", true},
		{"serv comput", false},
	} {
		p := mustSearch(t, ctx, d, tc.query, nil, db.PageArgs{})
		if got := len(p.Items) > 0; got != tc.hits {
			t.Errorf("%q: hits %q, want hits: %v", tc.query, hitNames(p), tc.hits)
		}
	}
}

func TestSearch_WritesAreSearchableAtOnce(t *testing.T) {
	d := MustOpenDB(t)
	ctx := context.Background()
	count := func(q string) int {
		t.Helper()
		n, err := d.CountSearch(ctx, q, nil)
		if err != nil {
			t.Fatal(err)
		}
		p := mustSearch(t, ctx, d, q, nil, db.PageArgs{})
		if len(p.Items) != n {
			t.Fatalf("%q: %d hits on the first page, count %d", q, len(p.Items), n)
		}
		return n
	}
	trend := db.TrendDoc{
		Slug: "quantum-backends", Rank: 11, Name: "Quantum Backends", Category: db.CategoryArchitecture,
		Summary: "Backends on qubits.", Body: "Zorblax entanglement as a service.",
		Highlights: []string{"Superposed caching"}, Examples: []string{"Qiskit Cloud"},
	}
	mustImport(t, d, db.Content{Trends: []db.TrendDoc{trend}})
	for _, q := range []string{"quantum", "zorblax", "superposed", "qiskit", "qubits"} {
		if n := count(q); n != 1 {
			t.Errorf("after create: %q finds %d, want 1", q, n)
		}
	}

	trend.Name, trend.Body, trend.Highlights = "Photonic Backends", "Light speed.", []string{"Lasers"}
	mustImport(t, d, db.Content{Trends: []db.TrendDoc{trend}})
	for q, want := range map[string]int{"quantum": 0, "zorblax": 0, "superposed": 0, "photonic": 1, "lasers": 1, "qiskit": 1} {
		if n := count(q); n != want {
			t.Errorf("after update: %q finds %d, want %d", q, n, want)
		}
	}

	// Relations feed a framework's index row: the companies that use it.
	mustImport(t, d, db.Content{
		Companies:  []db.CompanyDoc{{Slug: "initech", Name: "Initech"}},
		Frameworks: []db.FrameworkDoc{{Slug: "tps", Name: "TPS", Kind: db.KindFramework, Summary: "Reports.", Companies: []string{"initech"}}},
	})
	if got := hitNames(mustSearch(t, ctx, d, "initech", nil, db.PageArgs{})); len(got) != 2 || got[0] != "Company Initech" || got[1] != "Framework TPS" {
		t.Errorf("initech finds %q, want the company, then the framework that it uses", got)
	}
	mustImport(t, d, db.Content{Companies: []db.CompanyDoc{{Slug: "initech", Name: "Intertrode"}}})
	if n := count("initech"); n != 0 {
		t.Errorf("after the rename, initech finds %d, want 0", n)
	}
	if got := hitNames(mustSearch(t, ctx, d, "intertrode", nil, db.PageArgs{})); len(got) != 2 {
		t.Errorf("intertrode finds %q, want the company and the framework", got)
	}
	mustImport(t, d, db.Content{Frameworks: []db.FrameworkDoc{{Slug: "tps", Name: "TPS", Kind: db.KindFramework, Summary: "Reports."}}})
	if got := hitNames(mustSearch(t, ctx, d, "intertrode", nil, db.PageArgs{})); len(got) != 1 {
		t.Errorf("after unlinking, intertrode finds %q, want the company alone", got)
	}
}

func TestSearch_DraftsOnlyWithAToken(t *testing.T) {
	d := MustOpenDB(t)
	anon := context.Background()
	tok := db.WithPrincipal(anon, viewer)
	mustImport(t, d, db.Content{
		Companies:  []db.CompanyDoc{{Slug: "hushco", Name: "Hushco", Status: db.StatusDraft}},
		Frameworks: []db.FrameworkDoc{{Slug: "openframe", Name: "Openframe", Kind: db.KindFramework, Summary: "Public.", Companies: []string{"hushco"}}},
		Trends: []db.TrendDoc{{
			Slug: "secret-sauce", Rank: 11, Name: "Secret Sauce", Category: db.CategoryTooling,
			Summary: "Not yet announced.", Body: "Classified.", Status: db.StatusDraft,
		}},
	})
	for _, tc := range []struct {
		ctx   context.Context
		query string
		want  []string
	}{
		{anon, "secret sauce", nil},
		{tok, "secret sauce", []string{"Trend Secret Sauce"}},
		// A draft company's name is not searchable, not even through the
		// published framework that lists it.
		{anon, "hushco", nil},
		{tok, "hushco", []string{"Company Hushco"}},
		{anon, "openframe", []string{"Framework Openframe"}},
	} {
		p := mustSearch(t, tc.ctx, d, tc.query, nil, db.PageArgs{})
		n, err := d.CountSearch(tc.ctx, tc.query, nil)
		if got := hitNames(p); strings.Join(got, "|") != strings.Join(tc.want, "|") || err != nil || n != len(tc.want) {
			t.Errorf("%q (token: %v) finds %q (count %d, %v), want %q", tc.query, tc.ctx != anon, got, n, err, tc.want)
		}
	}

	// Publishing makes them searchable by everyone.
	mustImport(t, d, db.Content{
		Companies: []db.CompanyDoc{{Slug: "hushco", Name: "Hushco"}},
		Trends: []db.TrendDoc{{
			Slug: "secret-sauce", Rank: 11, Name: "Secret Sauce", Category: db.CategoryTooling,
			Summary: "Not yet announced.", Body: "Classified.",
		}},
	})
	if got := hitNames(mustSearch(t, anon, d, "secret sauce", nil, db.PageArgs{})); len(got) != 1 {
		t.Errorf("published trend: anonymous search finds %q", got)
	}
	if got := hitNames(mustSearch(t, anon, d, "hushco", nil, db.PageArgs{})); len(got) != 2 {
		t.Errorf("published company: anonymous search finds %q, want the company and its framework", got)
	}
}

func TestSearch_PagesGiveEveryHitOnce(t *testing.T) {
	d := MustOpenDB(t)
	ctx := context.Background()
	// Thirty companies whose names score the same for "acme": ties.
	var companies []db.CompanyDoc
	for i := range 30 {
		companies = append(companies, db.CompanyDoc{Slug: fmt.Sprintf("acme-%d", i), Name: fmt.Sprintf("Acme %d", i)})
	}
	mustImport(t, d, db.Content{Companies: companies})

	for _, tc := range []struct {
		query string
		types []db.TypeName
		size  int
	}{
		{"acme", nil, 7},
		{"acme", nil, 1},
		{"backend", nil, 3},
		{"the", nil, 4},
		{"the", []db.TypeName{db.TypeTrend, db.TypeFAQ}, 5},
	} {
		t.Run(fmt.Sprintf("%s/%v/%d", tc.query, tc.types, tc.size), func(t *testing.T) {
			all := mustSearch(t, ctx, d, tc.query, tc.types, db.PageArgs{First: intp(100)})
			total, err := d.CountSearch(ctx, tc.query, tc.types)
			if err != nil || total != len(all.Items) || all.HasNextPage {
				t.Fatalf("one page has %d hits (more: %v), count %d, %v", len(all.Items), all.HasNextPage, total, err)
			}
			if total < 2*tc.size {
				t.Fatalf("only %d hits: too few to page", total)
			}
			var got []*db.SearchHit
			var after *string
			for pages := 0; ; pages++ {
				if pages > total {
					t.Fatal("pages never end")
				}
				p := mustSearch(t, ctx, d, tc.query, tc.types, db.PageArgs{First: intp(tc.size), After: after})
				if p.HasPreviousPage != (after != nil) {
					t.Errorf("page %d: hasPreviousPage %v", pages, p.HasPreviousPage)
				}
				got = append(got, p.Items...)
				if !p.HasNextPage {
					break
				}
				if len(p.Items) != tc.size {
					t.Fatalf("page %d has %d hits and more follow", pages, len(p.Items))
				}
				after = p.EndCursor()
			}
			if len(got) != len(all.Items) {
				t.Fatalf("pages gave %d hits, one page %d", len(got), len(all.Items))
			}
			for i := range got {
				if got[i].Node.ID() != all.Items[i].Node.ID() || got[i].Score != all.Items[i].Score {
					t.Errorf("hit %d: paged %s %v, one page %s %v", i, hitName(got[i]), got[i].Score, hitName(all.Items[i]), all.Items[i].Score)
				}
			}
		})
	}
}

func TestSearch_RefusesBadArguments(t *testing.T) {
	d := MustOpenDB(t)
	ctx := context.Background()
	p := mustSearch(t, ctx, d, "backend", nil, db.PageArgs{First: intp(2)})
	cursor := *p.EndCursor()
	other := *mustSearch(t, ctx, d, "framework", nil, db.PageArgs{First: intp(2)}).EndCursor()
	str := func(s string) *string { return &s }
	for _, tc := range []struct {
		name  string
		query string
		types []db.TypeName
		pa    db.PageArgs
		field string
	}{
		{"empty", "", nil, db.PageArgs{}, "query"},
		{"blank", " \t\n ", nil, db.PageArgs{}, "query"},
		{"punctuation only", `"*()-:^{}`, nil, db.PageArgs{}, "query"},
		{"emoji only", "🚀🔥", nil, db.PageArgs{}, "query"},
		{"combining marks only", "\u0301\u0308", nil, db.PageArgs{}, "query"},
		{"too long", strings.Repeat("a", db.MaxSearchQueryLen+1), nil, db.PageArgs{}, "query"},
		{"too many words", strings.Repeat("go ", db.MaxSearchQueryWords+1), nil, db.PageArgs{}, "query"},
		{"negative first", "go", nil, db.PageArgs{First: intp(-1)}, "first"},
		{"first over max", "go", nil, db.PageArgs{First: intp(db.MaxPageSize + 1)}, "first"},
		{"last", "go", nil, db.PageArgs{Last: intp(2)}, "last"},
		{"before", "go", nil, db.PageArgs{Before: &cursor}, "before"},
		{"cursor not base64", "backend", nil, db.PageArgs{After: str("!!")}, "after"},
		{"cursor of a list", "backend", nil, db.PageArgs{After: str("WyJSQU5LLElEIiwxLDFd")}, "after"},
		{"cursor of another query", "backend", nil, db.PageArgs{After: &other}, "after"},
		{"cursor of other types", "backend", []db.TypeName{db.TypeTrend}, db.PageArgs{After: &cursor}, "after"},
		{"cursor with NaN", "backend", nil, db.PageArgs{After: str(reSign(cursor, math.NaN()))}, "after"},
		{"unknown type", "go", []db.TypeName{"Article"}, db.PageArgs{}, "types"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := d.Search(ctx, tc.query, tc.types, tc.pa)
			var e *db.Error
			if !asError(err, &e) || e.Code != db.EINVALID || e.Field != tc.field {
				t.Fatalf("Search: %v; want EINVALID on %s", err, tc.field)
			}
			if tc.pa == (db.PageArgs{}) {
				if _, err := d.CountSearch(ctx, tc.query, tc.types); db.ErrorCode(err) != db.EINVALID {
					t.Errorf("CountSearch: %v, want EINVALID", err)
				}
			}
		})
	}
	// Exactly the limits are fine.
	for _, q := range []string{strings.Repeat("a", db.MaxSearchQueryLen), strings.TrimSpace(strings.Repeat("go ", db.MaxSearchQueryWords))} {
		if _, err := d.Search(ctx, q, nil, db.PageArgs{First: intp(0)}); err != nil {
			t.Errorf("Search(%.20q…): %v", q, err)
		}
	}
}

// A search ranks its hits in one statement and reads their items in one
// per type; asked again before any write, its ranking comes from the
// search cache and only the items are read.
func TestSearch_CostsOneStatementPlusOnePerType(t *testing.T) {
	d := MustOpenDB(t)
	ctx := context.Background()
	mustSearch(t, ctx, d, "go", nil, db.PageArgs{First: intp(100)}) // the row cache warm
	for _, c := range []struct {
		name    string
		ranking int64
	}{{"another page size", 1}, {"the same search again", 0}} {
		before := d.QueryCount()
		p := mustSearch(t, ctx, d, "go", nil, db.PageArgs{First: intp(99)})
		types := map[string]bool{}
		for _, h := range p.Items {
			types[strings.Fields(hitName(h))[0]] = true
		}
		if got, want := d.QueryCount()-before, c.ranking+int64(len(types)); got != want {
			t.Errorf("%s: %d hits of %d types cost %d statements, want %d", c.name, len(p.Items), len(types), got, want)
		}
	}
}

func asError(err error, target **db.Error) bool { return errors.As(err, target) }

// reSign returns cursor with its score replaced: a tampered cursor.
func reSign(cursor string, score float64) string {
	raw, _ := base64.RawURLEncoding.DecodeString(cursor)
	parts := strings.Split(string(raw), ":")
	parts[2] = strconv.FormatFloat(score, 'g', -1, 64)
	return base64.RawURLEncoding.EncodeToString([]byte(strings.Join(parts, ":")))
}

// anonymousHits renders an anonymous search's hits with their exact scores
// and snippets, for byte-for-byte comparison.
func anonymousHits(t *testing.T, d *db.DB, query string) string {
	t.Helper()
	var b strings.Builder
	for _, h := range mustSearch(t, context.Background(), d, query, nil, db.PageArgs{First: intp(100)}).Items {
		fmt.Fprintf(&b, "%s %s %s\n", hitName(h), strconv.FormatFloat(h.Score, 'g', -1, 64), h.Snippet)
	}
	return b.String()
}

func TestSearch_AnonymousScoresIgnoreDrafts(t *testing.T) {
	d := MustOpenDB(t)
	tok := db.WithPrincipal(context.Background(), viewer)
	queries := []string{"serverless", "framework", "go", "laravel"}
	before := map[string]string{}
	for _, q := range queries {
		if before[q] = anonymousHits(t, d, q); before[q] == "" {
			t.Fatalf("%q finds nothing in the article: pick another query", q)
		}
	}
	viewerBefore := fmt.Sprint(mustSearch(t, tok, d, "serverless", nil, db.PageArgs{}).Items[0].Score)

	// New drafts full of the queries' words, then their text edited, a
	// published item taken back to draft, and a draft company linked to a
	// published framework.
	mustImport(t, d, db.Content{
		Companies: []db.CompanyDoc{{Slug: "draftco", Name: "Serverless Framework Go Laravel", Status: db.StatusDraft}},
		Trends: []db.TrendDoc{{
			Slug: "draft-trend", Rank: 90, Name: "Serverless serverless", Category: db.CategoryTooling,
			Summary: "Framework go framework.", Body: strings.Repeat("serverless framework go laravel php ", 50), Status: db.StatusDraft,
		}},
	})
	mustImport(t, d, db.Content{
		Trends: []db.TrendDoc{{
			Slug: "draft-trend", Rank: 90, Name: "Serverless", Category: db.CategoryTooling,
			Summary: "Go.", Body: strings.Repeat("framework php ", 500), Status: db.StatusDraft,
		}},
	})
	dt, err := d.TrendBySlug(tok, "draft-trend")
	if err != nil {
		t.Fatal(err)
	}
	editor := db.WithPrincipal(context.Background(), &db.Principal{Name: "ed", Role: db.RoleEditor})
	if _, err := d.UpdateTrend(editor, dt.RowID, db.TrendPatch{Body: ptr("Go go go serverless.")}, nil); err != nil {
		t.Fatal(err)
	}
	for _, q := range queries {
		if got := anonymousHits(t, d, q); got != before[q] {
			t.Errorf("anonymous %q changed with drafts:\nbefore:\n%s\nafter:\n%s", q, before[q], got)
		}
	}
	// The token holders' index does hold the drafts: the test could see
	// them if they leaked.
	if got := hitNames(mustSearch(t, tok, d, "serverless", nil, db.PageArgs{First: intp(100)})); !contains(got, "Trend Serverless") || !contains(got, "Company Serverless Framework Go Laravel") {
		t.Errorf("a viewer's search for serverless finds %q: the drafts are not indexed", got)
	}
	// On SQLite, BM25 weighs words by the documents of the index, so the
	// drafts move every score of the token holders' index; PostgreSQL's
	// ts_rank scores each document on its own (README, "On PostgreSQL").
	if dbtest.Engine() == dbtest.SQLite {
		if got := fmt.Sprint(mustSearch(t, tok, d, "serverless", nil, db.PageArgs{}).Items[0].Score); got == viewerBefore {
			t.Errorf("a viewer's top score for serverless stayed %s with drafts added: the drafts are not indexed", got)
		}
	}
}

// A cursor from a token holder's search pages the full index, whose scores
// do not compare with the public one's: an anonymous caller handing it on
// is refused rather than given a page that skips or repeats hits.
func TestSearch_CursorOfAnotherIndexIsRefused(t *testing.T) {
	d := MustOpenDB(t)
	tok := db.WithPrincipal(context.Background(), viewer)
	p := mustSearch(t, tok, d, "framework", nil, db.PageArgs{First: intp(1)})
	if !p.HasNextPage {
		t.Fatal("one page only")
	}
	after := p.EndCursor()
	if _, err := d.Search(tok, "framework", nil, db.PageArgs{First: intp(1), After: after}); err != nil {
		t.Fatalf("the token holder's own cursor: %v", err)
	}
	_, err := d.Search(context.Background(), "framework", nil, db.PageArgs{First: intp(1), After: after})
	if db.ErrorCode(err) != db.EINVALID {
		t.Errorf("anonymous search with a viewer's cursor: %v, want EINVALID on after", err)
	}
}

// Punctuation separates words on both engines, as the query's words are
// cut: PostgreSQL's parser would keep "node.js", versions, e-mail
// addresses and URLs whole, and "node" would not find Node.js.
func TestSearch_PunctuationSeparatesWords(t *testing.T) {
	d := MustOpenDB(t)
	ctx := context.Background()
	mustImport(t, d, db.Content{Trends: []db.TrendDoc{{
		Slug: "punctuated", Rank: 60, Name: "Punctuated Stack", Category: db.CategoryTooling,
		Summary: "Quokka runs on Node.js, go1.22 and C++.",
		Body:    "Write to ops@wombat.example or see https://wombat.example/docs_page; it's semi—colon «quoted» text.",
	}}})
	for _, q := range []string{"node", "js", "node js", "node.js", "go1", "22", "go1.22", "ops", "wombat example", "docs page", "semi", "colon", "quoted", "it s"} {
		got := hitNames(mustSearch(t, ctx, d, q+" ", nil, db.PageArgs{}))
		if !contains(got, "Trend Punctuated Stack") {
			t.Errorf("%q finds %q, want the trend", q, got)
		}
	}
	p := mustSearch(t, ctx, d, "quokka node js", nil, db.PageArgs{})
	if len(p.Items) != 1 || !strings.Contains(p.Items[0].Snippet, "<mark>Node</mark>.<mark>js</mark>") {
		t.Errorf("snippets %q, want Node.js marked as two words with its dot kept", snippets(p))
	}
}

// The query is plain text on both engines: FTS5's and tsquery's operators
// are separators, so a query full of them finds what its words find.
func TestSearch_QuerySyntaxIsPlainText(t *testing.T) {
	d := MustOpenDB(t)
	ctx := context.Background()
	for _, tc := range []struct{ query, words string }{
		{"go & !rust", "go rust"},
		{"go | framework", "go framework"},
		{"'go':* <-> framework:A", "go framework a"},
		{`(go) & !(django) \ '' "`, "go django "},
		{"garbage <2> collection:*", "garbage 2 collection"},
		{"NEAR(go framework) OR go*", "near go framework or go "},
		{`'); SELECT 1; --`, "select 1 "},
	} {
		want := mustSearch(t, ctx, d, tc.words, nil, db.PageArgs{First: intp(100)})
		got := mustSearch(t, ctx, d, tc.query, nil, db.PageArgs{First: intp(100)})
		if fmt.Sprint(hitNames(got), snippets(got)) != fmt.Sprint(hitNames(want), snippets(want)) {
			t.Errorf("%q finds %q, want what %q finds: %q", tc.query, hitNames(got), tc.words, hitNames(want))
		}
	}
}

// Stop words are words: a query of common words finds the items that
// hold them, on both engines (PostgreSQL's english configuration would
// drop them and find nothing).
func TestSearch_CommonWordsAreSearchable(t *testing.T) {
	d := MustOpenDB(t)
	ctx := context.Background()
	for _, tc := range []struct{ query, want string }{
		{"what are the", "FAQ What are the backend development trends for 2024?"},
		{"which is the best", "FAQ Which is the best backend framework in 2024?"},
	} {
		got := hitNames(mustSearch(t, ctx, d, tc.query, nil, db.PageArgs{First: intp(100)}))
		if !contains(got, tc.want) {
			t.Errorf("%q finds %q, want %q among them", tc.query, got, tc.want)
		}
	}
}

// A snippet is a window of about two dozen words of one column, with "…"
// where words of the column were left out, and none where it reaches the
// column's start or end.
func TestSearch_SnippetEllipses(t *testing.T) {
	d := MustOpenDB(t)
	ctx := context.Background()
	filler := strings.TrimSpace(strings.Repeat("lorem ipsum dolor sit amet ", 12))
	mustImport(t, d, db.Content{FAQs: []db.FAQDoc{
		{Slug: "middle", Position: 90, Question: "Middle?", Answer: filler + " zebrafish " + filler + "."},
		{Slug: "start", Position: 91, Question: "Start?", Answer: "Narwhal " + filler + "."},
		{Slug: "end", Position: 92, Question: "End?", Answer: filler + " axolotl."},
		{Slug: "short", Position: 93, Question: "Short?", Answer: "A capybara swims."},
	}})
	for _, tc := range []struct {
		query        string
		before, tail bool
		mark         string
	}{
		{"zebrafish", true, true, "<mark>zebrafish</mark>"},
		{"narwhal", false, true, "<mark>Narwhal</mark>"},
		{"axolotl", true, false, "<mark>axolotl</mark>."},
		{"capybara", false, false, "A <mark>capybara</mark> swims."},
	} {
		p := mustSearch(t, ctx, d, tc.query+" ", nil, db.PageArgs{})
		if len(p.Items) != 1 {
			t.Fatalf("%q: %d hits", tc.query, len(p.Items))
		}
		s := p.Items[0].Snippet
		if strings.HasPrefix(s, "…") != tc.before || strings.HasSuffix(s, "…") != tc.tail || !strings.Contains(s, tc.mark) {
			t.Errorf("%q: snippet %q, want … before: %v, after: %v, and %s", tc.query, s, tc.before, tc.tail, tc.mark)
		}
		if n := len(strings.Fields(s)); tc.before && tc.tail && (n < 16 || n > 30) {
			t.Errorf("%q: snippet of %d words, want about 24: %q", tc.query, n, s)
		}
	}
}
