package db_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/trendql/trendql/db"
	"github.com/trendql/trendql/db/dbtest"
)

// benchCorpus is a synthetic document of n items (40% trends, 20% each
// frameworks, companies and FAQs), one in ten a draft. Its text is drawn
// from a Zipf distribution over a generated vocabulary, salted with real
// words the benchmarks search for, so that common and rare words, long
// posting lists and prefixes all occur.
func benchCorpus(n int) *db.Content {
	r := rand.New(rand.NewPCG(1, 2))
	syllables := strings.Fields("ba be bi bo bu da de di do du ka ke ki ko ku la le li lo lu ma me mi mo mu na ne ni no nu ra re ri ro ru sa se si so su ta te ti to tu va ve vi vo vu")
	vocab := make([]string, 0, 5000)
	for len(vocab) < cap(vocab) {
		var b strings.Builder
		for range 2 + r.IntN(3) {
			b.WriteString(syllables[r.IntN(len(syllables))])
		}
		vocab = append(vocab, b.String())
	}
	// Real words at chosen ranks: common ones near the top, rare ones far.
	for rank, w := range map[int]string{10: "performance", 11: "framework", 12: "database", 13: "cloud",
		14: "developer", 15: "security", 16: "scalable", 300: "serverless", 500: "garbage", 600: "collection"} {
		vocab[rank] = w
	}
	zipf := rand.NewZipf(r, 1.1, 2, uint64(len(vocab)-1))
	text := func(words int) string {
		var b strings.Builder
		for i := range words {
			if i > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(vocab[zipf.Uint64()])
		}
		return b.String()
	}
	status := func(i int) db.Status {
		if i%10 == 9 {
			return db.StatusDraft
		}
		return db.StatusPublished
	}
	list := func(k, words int) []string {
		out := make([]string, k)
		for i := range out {
			out[i] = text(words)
		}
		return out
	}
	c := &db.Content{Format: db.ContentFormat}
	nc, nf, nq := n/5, n/5, n/5
	nt := n - nc - nf - nq
	for i := range nc {
		c.Companies = append(c.Companies, db.CompanyDoc{Slug: fmt.Sprintf("company-%d", i), Name: text(2), Status: status(i)})
	}
	for i := range nf {
		c.Frameworks = append(c.Frameworks, db.FrameworkDoc{
			Slug: fmt.Sprintf("framework-%d", i), Name: text(2), Kind: db.KindFramework,
			Language: text(1), Creator: text(2), Summary: text(30), Features: list(4, 3),
			Companies: []string{fmt.Sprintf("company-%d", i%nc), fmt.Sprintf("company-%d", (i*7+1)%nc)},
			Status:    status(i),
		})
	}
	for i := range nt {
		c.Trends = append(c.Trends, db.TrendDoc{
			Slug: fmt.Sprintf("trend-%d", i), Rank: i + 1, Name: text(3), Category: db.CategoryArchitecture,
			Summary: text(30), Body: text(250), Highlights: list(4, 8), Examples: list(2, 2),
			Frameworks: []string{}, Companies: []string{fmt.Sprintf("company-%d", i%nc)},
			Status: status(i),
		})
	}
	for i := range nq {
		c.FAQs = append(c.FAQs, db.FAQDoc{
			Slug: fmt.Sprintf("faq-%d", i), Position: i + 1, Question: text(8) + "?", Answer: text(80),
			Items: list(3, 2), Frameworks: []string{}, Trends: []string{}, Status: status(i),
		})
	}
	return c
}

// BenchmarkSearch runs searches of several shapes over a 10,000-item
// corpus, built once (untimed) for all of them.
func BenchmarkSearch(b *testing.B) {
	ctx := context.Background()
	d := mustOpen(b, dbtest.NewDSN(b), false)
	if _, err := d.Import(ctx, benchCorpus(10000), false); err != nil {
		b.Fatal(err)
	}
	first := func(n int) *int { return &n }
	// The cursor that starts page 21 of 20-hit pages.
	deep := func(query string) *string {
		var after *string
		for range 20 {
			p, err := d.Search(ctx, query, nil, db.PageArgs{First: first(20), After: after})
			if err != nil || !p.HasNextPage {
				b.Fatalf("%q has no page 21: %v", query, err)
			}
			after = p.EndCursor()
		}
		return after
	}
	for _, bc := range []struct {
		name  string
		query string
		types []db.TypeName
		after *string
		count bool
	}{
		{name: "OneWord", query: "performance "},
		{name: "RareWord", query: "garbage "},
		{name: "TwoWords", query: "garbage collection "},
		{name: "Prefix", query: "perf"},
		{name: "ShortPrefix", query: "ba"},
		{name: "TypesFilter", query: "performance ", types: []db.TypeName{db.TypeFramework}},
		{name: "DeepPage", query: "performance ", after: deep("performance ")},
		{name: "TotalCount", query: "performance ", count: true},
	} {
		b.Run(bc.name, func(b *testing.B) {
			hits, err := d.CountSearch(ctx, bc.query, bc.types)
			if err != nil || hits == 0 {
				b.Fatalf("%q: %d hits, %v", bc.query, hits, err)
			}
			b.ReportAllocs()
			for b.Loop() {
				var err error
				if bc.count {
					_, err = d.CountSearch(ctx, bc.query, bc.types)
				} else {
					_, err = d.Search(ctx, bc.query, bc.types, db.PageArgs{First: first(20), After: bc.after})
				}
				if err != nil {
					b.Fatal(err)
				}
			}
			// How many items the query matches: the ranking's work.
			b.ReportMetric(float64(hits), "hits")
		})
	}
}
