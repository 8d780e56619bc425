// Package benchdata makes content documents for benchmarks: it converts the
// shared load-test data set (format trendql-bench-1) into a db.Content
// document, and generates synthetic sets of any size for go test -bench.
package benchdata

import (
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/trendql/trendql/db"
)

// Format is the format name of the shared load-test data set.
const Format = "trendql-bench-1"

// Set is the shared load-test data set as stored in large.json.gz.
type Set struct {
	Format    string `json:"format"`
	Companies []struct {
		Name string `json:"name"`
		Slug string `json:"slug"`
	} `json:"companies"`
	Frameworks []struct {
		Name          string   `json:"name"`
		Slug          string   `json:"slug"`
		Language      string   `json:"language"`
		Creator       *string  `json:"creator"`
		FirstReleased *int     `json:"firstReleased"`
		Architecture  *string  `json:"architecture"`
		Summary       string   `json:"summary"`
		Companies     []string `json:"companies"`
	} `json:"frameworks"`
	Trends []struct {
		Rank       int      `json:"rank"`
		Name       string   `json:"name"`
		Slug       string   `json:"slug"`
		Category   string   `json:"category"`
		Summary    string   `json:"summary"`
		Body       string   `json:"body"`
		Frameworks []string `json:"frameworks"`
	} `json:"trends"`
	FAQs []struct {
		Position int    `json:"position"`
		Question string `json:"question"`
		Answer   string `json:"answer"`
	} `json:"faqs"`
}

// categories maps the data set's lower-case category words to the schema's.
var categories = map[string]db.Category{
	"api":          db.CategoryAPI,
	"architecture": db.CategoryArchitecture,
	"framework":    db.CategoryFramework,
	"tooling":      db.CategoryTooling,
	"language":     db.CategoryLanguage,
}

// ReadFile reads a data set file, gzip-compressed when its name ends in .gz,
// and converts it with Convert.
func ReadFile(path string) (*db.Content, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var r io.Reader = f
	if strings.HasSuffix(path, ".gz") {
		zr, err := gzip.NewReader(f)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		defer zr.Close()
		r = zr
	}
	var s Set
	if err := json.NewDecoder(r).Decode(&s); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	c, err := Convert(&s)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// Convert turns a trendql-bench-1 set into a content document: categories
// upper-cased to the schema's, every framework of kind FRAMEWORK, everything
// PUBLISHED, missing lists empty, and FAQs (which have no slug in the set)
// slugged from their question.
func Convert(s *Set) (*db.Content, error) {
	if s.Format != Format {
		return nil, fmt.Errorf("format must be %q, got %q", Format, s.Format)
	}
	c := &db.Content{
		Format:     db.ContentFormat,
		Companies:  make([]db.CompanyDoc, 0, len(s.Companies)),
		Frameworks: make([]db.FrameworkDoc, 0, len(s.Frameworks)),
		Trends:     make([]db.TrendDoc, 0, len(s.Trends)),
		FAQs:       make([]db.FAQDoc, 0, len(s.FAQs)),
	}
	for _, x := range s.Companies {
		c.Companies = append(c.Companies, db.CompanyDoc{Slug: x.Slug, Name: x.Name, Status: db.StatusPublished})
	}
	for _, x := range s.Frameworks {
		c.Frameworks = append(c.Frameworks, db.FrameworkDoc{
			Slug: x.Slug, Name: x.Name, Kind: db.KindFramework,
			Language: x.Language, Creator: deref(x.Creator), FirstReleased: x.FirstReleased,
			Architecture: deref(x.Architecture), Summary: x.Summary,
			Features: []string{}, Companies: orEmpty(x.Companies), Status: db.StatusPublished,
		})
	}
	for i, x := range s.Trends {
		cat, ok := categories[strings.ToLower(x.Category)]
		if !ok {
			return nil, fmt.Errorf("trends[%d].category: unknown category %q", i, x.Category)
		}
		c.Trends = append(c.Trends, db.TrendDoc{
			Slug: x.Slug, Rank: x.Rank, Name: x.Name, Category: cat, Summary: x.Summary, Body: x.Body,
			Highlights: []string{}, Examples: []string{}, Frameworks: orEmpty(x.Frameworks), Companies: []string{},
			Status: db.StatusPublished,
		})
	}
	seen := map[string]bool{}
	for _, x := range s.FAQs {
		slug := faqSlug(x.Question, x.Position, seen)
		c.FAQs = append(c.FAQs, db.FAQDoc{
			Slug: slug, Position: x.Position, Question: x.Question, Answer: x.Answer,
			Items: []string{}, Frameworks: []string{}, Trends: []string{}, Status: db.StatusPublished,
		})
	}
	return c, nil
}

// faqSlug derives a unique slug from a question, cut at a word boundary to
// the slug length limit.
func faqSlug(question string, position int, seen map[string]bool) string {
	s := db.Slugify(question)
	if len(s) > 80 {
		s = s[:80]
		if i := strings.LastIndexByte(s, '-'); i > 0 {
			s = s[:i]
		}
	}
	if s == "" || seen[s] {
		s = strings.Trim(fmt.Sprintf("%s-%d", s, position), "-")
	}
	seen[s] = true
	return s
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func orEmpty(l []string) []string {
	if l == nil {
		return []string{}
	}
	return l
}

// Sizes says how big a synthetic content set is.
type Sizes struct {
	Companies, Frameworks, Trends int
	// LinksPerFramework is how many companies each framework names.
	LinksPerFramework int
	// BodyBytes is the approximate length of each trend's body.
	BodyBytes int
}

// Large are the sizes of the shared load-test set: 2,000 companies,
// 10,000 frameworks with 5 companies each, 5,000 trends with ≈1.5 KB bodies.
var Large = Sizes{Companies: 2000, Frameworks: 10000, Trends: 5000, LinksPerFramework: 5, BodyBytes: 1500}

// Synthetic generates a deterministic content set of the given sizes,
// shaped like the shared load-test set, all published. The first framework
// is "django", so the reference query q1 finds it.
func Synthetic(z Sizes) *db.Content {
	c := &db.Content{Format: db.ContentFormat, FAQs: []db.FAQDoc{}}
	for i := range z.Companies {
		c.Companies = append(c.Companies, db.CompanyDoc{
			Slug: fmt.Sprintf("company-%04d", i+1), Name: fmt.Sprintf("Company %04d", i+1), Status: db.StatusPublished,
		})
	}
	langs := []string{"Python", "Go", "Java", "JavaScript", "Ruby", "PHP", "Elixir", "Rust", "C#", "Kotlin"}
	for i := range z.Frameworks {
		name, slug := fmt.Sprintf("Framework %05d", i+1), fmt.Sprintf("framework-%05d", i+1)
		if i == 0 {
			name, slug = "Django", "django"
		}
		year := 1995 + i%30
		var companies []string
		for j := range min(z.LinksPerFramework, z.Companies) {
			companies = append(companies, c.Companies[(i*7+j*13)%z.Companies].Slug)
		}
		companies = dedupe(companies)
		f := db.FrameworkDoc{
			Slug: slug, Name: name, Kind: db.KindFramework, Language: langs[i%len(langs)],
			Summary:  fmt.Sprintf("%s is a %s web framework with routing, an ORM and migrations.", name, langs[i%len(langs)]),
			Features: []string{}, Companies: companies, Status: db.StatusPublished,
		}
		if i%5 != 0 {
			f.Creator = fmt.Sprintf("Creator %d", i%97)
			f.FirstReleased = &year
		}
		if i%6 != 0 {
			f.Architecture = "MVC (Model-View-Controller)"
		}
		c.Frameworks = append(c.Frameworks, f)
	}
	cats := []db.Category{db.CategoryAPI, db.CategoryArchitecture, db.CategoryFramework, db.CategoryTooling}
	para := "Backend teams adopt this trend to ship faster, with fewer moving parts and clearer contracts between services. "
	for i := range z.Trends {
		body := strings.Repeat(para, max(1, z.BodyBytes/len(para)))
		var fw []string
		if z.Frameworks > 0 {
			fw = []string{c.Frameworks[i%z.Frameworks].Slug}
		}
		c.Trends = append(c.Trends, db.TrendDoc{
			Slug: fmt.Sprintf("trend-%05d", i+1), Rank: i + 1, Name: fmt.Sprintf("Trend %05d", i+1),
			Category: cats[i%len(cats)], Summary: fmt.Sprintf("Trend %d in one sentence, for list pages.", i+1),
			Body: body, Highlights: []string{}, Examples: []string{}, Frameworks: orEmpty(fw), Companies: []string{},
			Status: db.StatusPublished,
		})
	}
	return c
}

func dedupe(l []string) []string {
	seen := map[string]bool{}
	out := l[:0]
	for _, s := range l {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// Scale returns a content set n times the size of c: copy 1 is c itself,
// copy k (2..n) repeats every record with "-xK" appended to its slug and
// " (K)" to its name, its relations pointing into the same copy, and trend
// ranks and FAQ positions shifted past the copies before it. So the shape
// (links per item, body sizes, the share of drafts) stays that of c while
// every count grows n times. The first copy keeps c's slugs, so the
// reference queries (framework "django") still find what they look for.
func Scale(c *db.Content, n int) *db.Content {
	if n <= 1 {
		return c
	}
	out := &db.Content{
		Format:     c.Format,
		Article:    c.Article,
		Companies:  make([]db.CompanyDoc, 0, n*len(c.Companies)),
		Frameworks: make([]db.FrameworkDoc, 0, n*len(c.Frameworks)),
		Trends:     make([]db.TrendDoc, 0, n*len(c.Trends)),
		FAQs:       make([]db.FAQDoc, 0, n*len(c.FAQs)),
	}
	maxRank, maxPos := 0, 0
	for _, t := range c.Trends {
		maxRank = max(maxRank, t.Rank)
	}
	for _, f := range c.FAQs {
		maxPos = max(maxPos, f.Position)
	}
	for k := 1; k <= n; k++ {
		slug := func(s string) string {
			if k == 1 {
				return s
			}
			return fmt.Sprintf("%s-x%d", s, k)
		}
		name := func(s string) string {
			if k == 1 {
				return s
			}
			return fmt.Sprintf("%s (%d)", s, k)
		}
		slugs := func(l []string) []string {
			out := make([]string, len(l))
			for i, s := range l {
				out[i] = slug(s)
			}
			return out
		}
		for _, x := range c.Companies {
			x.Slug, x.Name = slug(x.Slug), name(x.Name)
			out.Companies = append(out.Companies, x)
		}
		for _, x := range c.Frameworks {
			x.Slug, x.Name, x.Companies = slug(x.Slug), name(x.Name), slugs(x.Companies)
			out.Frameworks = append(out.Frameworks, x)
		}
		for _, x := range c.Trends {
			x.Slug, x.Name, x.Rank = slug(x.Slug), name(x.Name), x.Rank+(k-1)*maxRank
			x.Frameworks, x.Companies = slugs(x.Frameworks), slugs(x.Companies)
			out.Trends = append(out.Trends, x)
		}
		for _, x := range c.FAQs {
			x.Slug, x.Question, x.Position = slug(x.Slug), name(x.Question), x.Position+(k-1)*maxPos
			x.Frameworks, x.Trends = slugs(x.Frameworks), slugs(x.Trends)
			out.FAQs = append(out.FAQs, x)
		}
	}
	return out
}
