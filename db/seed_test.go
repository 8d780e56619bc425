package db

import (
	"encoding/json"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// The seed's tests check the document against the facts of the article
// "Top Backend Development Trends to Follow". They need no database and do
// not read the article itself.

func TestSeedFormatAndStatus(t *testing.T) {
	c := ArticleContent()
	if c.Format != ContentFormat {
		t.Errorf("Format = %q, want %q", c.Format, ContentFormat)
	}
	for _, x := range c.Companies {
		if x.Status != StatusPublished {
			t.Errorf("company %s: Status = %q", x.Slug, x.Status)
		}
	}
	for _, x := range c.Frameworks {
		if x.Status != StatusPublished {
			t.Errorf("framework %s: Status = %q", x.Slug, x.Status)
		}
	}
	for _, x := range c.Trends {
		if x.Status != StatusPublished {
			t.Errorf("trend %s: Status = %q", x.Slug, x.Status)
		}
	}
	for _, x := range c.FAQs {
		if x.Status != StatusPublished {
			t.Errorf("faq %s: Status = %q", x.Slug, x.Status)
		}
	}
}

func TestSeedArticle(t *testing.T) {
	a := ArticleContent().Article
	if a == nil {
		t.Fatal("Article is nil")
	}
	if a.Title != "Top Backend Development Trends to Follow" {
		t.Errorf("Title = %q", a.Title)
	}
	if a.LastUpdated != "2024-01-29" {
		t.Errorf("LastUpdated = %q", a.LastUpdated)
	}
	var headings []string
	for _, s := range a.Sections {
		headings = append(headings, s.Heading)
	}
	wantHeadings := []string{
		"What is Backend Development?",
		"Who is a Backend Developer?",
		"What are the Benefits of using Backend Frameworks?",
	}
	if !reflect.DeepEqual(headings, wantHeadings) {
		t.Errorf("section headings = %q, want %q", headings, wantHeadings)
	}
	for _, tc := range []struct{ where, text, phrase string }{
		{"intro", a.Intro, "The software development industry is expanding rapidly due to technological advancements."},
		{"intro", a.Intro, "In this blog, we will discuss in detail about top 10 backend development trends."},
		{"intro", a.Intro, "Key among these are backend as a service (BaaS), serverless computing, Spring Boot, and Go."},
		{"section 1", a.Sections[0].Body, "Backend developers use tools like Oracle, MySQL, and SQL"},
		{"section 2", a.Sections[1].Body, "this profession is expected to grow 13% by the year 2028"},
		{"section 3", a.Sections[2].Body, "- **Enhanced security**: The use of backend frameworks provides enhanced security measures like encryption, data validation, and authentication."},
		{"section 3", a.Sections[2].Body, "- **Scalability**: Backend frameworks help developers to scale their applications quickly as per the business requirement."},
		{"conclusion", a.Conclusion, "Backend developers are currently in great demand and top tech giants are paying exceptionally well to hire these professionals."},
	} {
		if !strings.Contains(tc.text, tc.phrase) {
			t.Errorf("%s lacks %q", tc.where, tc.phrase)
		}
	}
	// Page chrome stays out.
	all := a.Title + a.Intro + a.Conclusion
	for _, s := range a.Sections {
		all += s.Heading + s.Body
	}
	for _, chrome := range []string{"Open In App", "Like Article", "Similar Reads", "Suggest improvement", "[2024 Updated]", "Last Updated"} {
		if strings.Contains(all, chrome) {
			t.Errorf("article contains page chrome %q", chrome)
		}
	}
}

func TestSeedTrends(t *testing.T) {
	want := []struct {
		slug, name string
		category   Category
	}{
		{"backend-as-a-service", "Backend as a Service (BaaS)", CategoryArchitecture},
		{"django", "Django", CategoryFramework},
		{"serverless-computing", "Serverless Computing", CategoryArchitecture},
		{"laravel", "Laravel", CategoryFramework},
		{"headless-cms", "Headless CMS", CategoryArchitecture},
		{"spring-boot", "Spring Boot", CategoryFramework},
		{"static-site-generators", "Static Site Generators", CategoryTooling},
		{"elixir", "Elixir", CategoryLanguage},
		{"go", "Go", CategoryLanguage},
		{"ruby-on-rails", "Ruby on Rails", CategoryFramework},
	}
	trends := ArticleContent().Trends
	if len(trends) != len(want) {
		t.Fatalf("%d trends, want %d", len(trends), len(want))
	}
	for i, w := range want {
		tr := trends[i]
		if tr.Rank != i+1 || tr.Slug != w.slug || tr.Name != w.name || tr.Category != w.category {
			t.Errorf("trend %d = {rank %d, %q, %q, %s}, want {rank %d, %q, %q, %s}",
				i, tr.Rank, tr.Slug, tr.Name, tr.Category, i+1, w.slug, w.name, w.category)
		}
		if tr.Summary == "" || tr.Body == "" {
			t.Errorf("trend %s: empty summary or body", tr.Slug)
		}
	}
}

func TestSeedTrendLinks(t *testing.T) {
	byTrend := map[string]struct{ frameworks, companies []string }{
		"backend-as-a-service":   {[]string{}, []string{"aws", "microsoft-azure", "firebase"}},
		"django":                 {[]string{"django"}, []string{"spotify", "instagram", "prezi", "mozilla", "pinterest", "disqus"}},
		"serverless-computing":   {[]string{}, []string{}},
		"laravel":                {[]string{"laravel"}, []string{"9gag", "crowdcube", "pedidosya", "razorpay", "pfizer", "bbc", "lenovo"}},
		"headless-cms":           {[]string{}, []string{}},
		"spring-boot":            {[]string{"spring-boot"}, []string{"google", "trivago", "accenture", "microsoft", "intuit", "amazon", "udemy", "ifood"}},
		"static-site-generators": {[]string{}, []string{}},
		"elixir":                 {[]string{"elixir"}, []string{"pepsico", "discord", "mozilla"}},
		"go":                     {[]string{"go"}, []string{"uber", "dropbox", "twitch", "alibaba", "american-express", "google"}},
		"ruby-on-rails":          {[]string{"ruby-on-rails"}, []string{}},
	}
	c := ArticleContent()
	fwCompanies := map[string][]string{}
	for _, f := range c.Frameworks {
		fwCompanies[f.Slug] = f.Companies
	}
	for _, tr := range c.Trends {
		w, ok := byTrend[tr.Slug]
		if !ok {
			t.Errorf("unexpected trend %s", tr.Slug)
			continue
		}
		if !reflect.DeepEqual(tr.Frameworks, w.frameworks) {
			t.Errorf("trend %s: Frameworks = %q, want %q", tr.Slug, tr.Frameworks, w.frameworks)
		}
		if !reflect.DeepEqual(tr.Companies, w.companies) {
			t.Errorf("trend %s: Companies = %q, want %q", tr.Slug, tr.Companies, w.companies)
		}
		// A framework trend names the same users as its framework.
		if len(tr.Frameworks) > 0 && !reflect.DeepEqual(tr.Companies, fwCompanies[tr.Frameworks[0]]) {
			t.Errorf("trend %s: Companies = %q, framework %s has %q",
				tr.Slug, tr.Companies, tr.Frameworks[0], fwCompanies[tr.Frameworks[0]])
		}
	}
}

func TestSeedTrendExamples(t *testing.T) {
	want := map[string][]string{
		"backend-as-a-service":   {},
		"django":                 {},
		"serverless-computing":   {"AWS Lambda", "Google Cloud Functions", "IBM OpenWhisk", "Microsoft Azure Functions"},
		"laravel":                {},
		"headless-cms":           {"Strapi", "Netlify CMS", "Sanity", "WordPress"},
		"spring-boot":            {},
		"static-site-generators": {"Hugo", "Eleventy", "Pelican", "Gatsby"},
		"elixir":                 {},
		"go":                     {},
		"ruby-on-rails":          {},
	}
	for _, tr := range ArticleContent().Trends {
		if !reflect.DeepEqual(tr.Examples, want[tr.Slug]) {
			t.Errorf("trend %s: Examples = %q, want %q", tr.Slug, tr.Examples, want[tr.Slug])
		}
		// Every example is named in the body.
		for _, ex := range tr.Examples {
			if !strings.Contains(tr.Body, ex) {
				t.Errorf("trend %s: example %q not in body", tr.Slug, ex)
			}
		}
	}
}

func TestSeedTrendHighlights(t *testing.T) {
	wantCount := map[string]int{
		"backend-as-a-service":   0,
		"django":                 4,
		"serverless-computing":   4,
		"laravel":                4,
		"headless-cms":           0,
		"spring-boot":            4,
		"static-site-generators": 0,
		"elixir":                 0,
		"go":                     7,
		"ruby-on-rails":          5, // DRY and CoC, then three key features
	}
	for _, tr := range ArticleContent().Trends {
		if len(tr.Highlights) != wantCount[tr.Slug] {
			t.Errorf("trend %s: %d highlights, want %d", tr.Slug, len(tr.Highlights), wantCount[tr.Slug])
		}
		// The highlights are the body's bullets, in order, without Markdown.
		var bullets []string
		for _, line := range strings.Split(tr.Body, "\n") {
			if item, ok := strings.CutPrefix(line, "- "); ok {
				bullets = append(bullets, strings.ReplaceAll(item, "**", ""))
			}
		}
		if bullets == nil {
			bullets = []string{}
		}
		if !reflect.DeepEqual(tr.Highlights, bullets) {
			t.Errorf("trend %s: Highlights = %q, body bullets %q", tr.Slug, tr.Highlights, bullets)
		}
		for _, h := range tr.Highlights {
			if h != strings.TrimSpace(h) || strings.HasSuffix(h, ",") || strings.Contains(h, "**") {
				t.Errorf("trend %s: untidy highlight %q", tr.Slug, h)
			}
		}
	}
	rails := seedTrend(t, ArticleContent(), "ruby-on-rails")
	if !strings.HasPrefix(rails.Highlights[0], "DRY (Don’t repeat yourself): ") ||
		!strings.HasPrefix(rails.Highlights[1], "CoC (Convention over Configuration): ") ||
		!strings.HasPrefix(rails.Highlights[2], "Speedy software development: ") {
		t.Errorf("ruby-on-rails highlights out of order: %q", rails.Highlights)
	}
}

// TestSeedTrendBodies checks key sentences of each trend's section,
// verbatim from the article.
func TestSeedTrendBodies(t *testing.T) {
	c := ArticleContent()
	for _, tc := range []struct{ slug, phrase string }{
		{"backend-as-a-service", "refers to a cloud-based model where technical teams outsource the backend services of an application to an external service provider."},
		{"backend-as-a-service", "Some of the popular BaaS service providers are AWS, Microsoft Azure, and Firebase"},
		{"django", "It is a high-level framework developed by Python that follows model-view-template architectural patterns."},
		{"django", "Top companies that use Django are Spotify, Instagram, Prezi, Mozilla, Pinterest, Disqus, etc."},
		{"django", "- **Great community support**: This framework has a large user base"},
		{"serverless-computing", "It is a cloud computing model in which a cloud provider allocates resources on demand"},
		{"serverless-computing", "- Developers are charged on a pay-as-you-go plan"},
		{"laravel", "Laravel is a free and open-source framework created by Taylor Otwell"},
		{"laravel", "It is used by some of the top companies like 9GAG, Crowdcube, PedidosYa, Ratio Razorpay, Pfizer, BBC, Lenovo, and a lot more."},
		{"laravel", "It has a unique queuing system that allows you to postpone certain website tasks which fosters high performance."},
		{"headless-cms", "It separates the content body from the presentation layer."},
		{"headless-cms", "In this setup, the frontend and backend of the application are separated which makes it easier to mitigate targeted attacks."},
		{"spring-boot", "Spring boot is an open-source Java-based framework that helps you create production-grade standalone applications."},
		{"spring-boot", "- For using spring boot no XML configuration and WAR files are required."},
		{"static-site-generators", "It is a tool that generates a full static HTML website based on raw data."},
		{"static-site-generators", "the website doesn’t need server-side processes to run."},
		{"elixir", "It was created in 2011 and is currently one of the most loved programming languages as per Stack Overflow."},
		{"elixir", "It is used by some of the popular organizations like PepsiCo, Discord, and Mozilla."},
		{"go", "Go or GoLang is an Object-oriented programming language developed by Google in 2009."},
		{"go", "Companies that use Go in their tech stacks are Uber, DropBox, Twitch, Alibaba, American Express, and Google."},
		{"go", "- Designed for multi-core processors"},
		{"ruby-on-rails", "It supports MVC architecture and uses software engineering paradigms like"},
		{"ruby-on-rails", "- **Safe and secure**: It is highly safe and secure. Further, it supports both behavior-driven and test-driven development."},
	} {
		if body := seedTrend(t, c, tc.slug).Body; !strings.Contains(body, tc.phrase) {
			t.Errorf("trend %s: body lacks %q", tc.slug, tc.phrase)
		}
	}
}

func TestSeedFrameworks(t *testing.T) {
	type fw struct {
		kind                            FrameworkKind
		language, creator, architecture string
		firstReleased                   int // 0: not stated
		features                        int
	}
	want := map[string]fw{
		"django":        {KindFramework, "Python", "", "model-view-template (MVT)", 0, 4},
		"laravel":       {KindFramework, "", "Taylor Otwell", "", 0, 4},
		"spring-boot":   {KindFramework, "Java", "", "", 0, 4},
		"ruby-on-rails": {KindFramework, "Ruby", "", "MVC", 0, 3},
		"go":            {KindLanguage, "Go", "Google", "", 2009, 7},
		"elixir":        {KindLanguage, "Elixir", "", "", 2011, 1},
	}
	frameworks := ArticleContent().Frameworks
	if len(frameworks) != len(want) {
		t.Errorf("%d frameworks, want %d", len(frameworks), len(want))
	}
	for _, f := range frameworks {
		w, ok := want[f.Slug]
		if !ok {
			t.Errorf("unexpected framework %s", f.Slug)
			continue
		}
		year := 0
		if f.FirstReleased != nil {
			year = *f.FirstReleased
		}
		got := fw{f.Kind, f.Language, f.Creator, f.Architecture, year, len(f.Features)}
		if got != w {
			t.Errorf("framework %s = %+v, want %+v", f.Slug, got, w)
		}
		if f.Name == "" || f.Summary == "" {
			t.Errorf("framework %s: empty name or summary", f.Slug)
		}
	}
	django := seedFramework(t, ArticleContent(), "django")
	if want := []string{"Enhanced security", "Rapid development", "Highly Scalable", "Great community support"}; !reflect.DeepEqual(django.Features, want) {
		t.Errorf("django features = %q, want %q", django.Features, want)
	}
	laravel := seedFramework(t, ArticleContent(), "laravel")
	if want := []string{"Great flexibility", "High performance", "Easy maintenance", "Automated testing"}; !reflect.DeepEqual(laravel.Features, want) {
		t.Errorf("laravel features = %q, want %q", laravel.Features, want)
	}
}

// TestSeedFrameworkCompanies checks the users of each framework, by name,
// in the article's order ("Ratio Razorpay" read as Razorpay).
func TestSeedFrameworkCompanies(t *testing.T) {
	c := ArticleContent()
	names := map[string]string{}
	for _, co := range c.Companies {
		names[co.Slug] = co.Name
	}
	for _, tc := range []struct {
		framework string
		companies []string
	}{
		{"django", []string{"Spotify", "Instagram", "Prezi", "Mozilla", "Pinterest", "Disqus"}},
		{"laravel", []string{"9GAG", "Crowdcube", "PedidosYa", "Razorpay", "Pfizer", "BBC", "Lenovo"}},
		{"spring-boot", []string{"Google", "Trivago", "Accenture", "Microsoft", "Intuit", "Amazon", "Udemy", "iFood"}},
		{"go", []string{"Uber", "DropBox", "Twitch", "Alibaba", "American Express", "Google"}},
		{"elixir", []string{"PepsiCo", "Discord", "Mozilla"}},
		{"ruby-on-rails", []string{}},
	} {
		got := []string{}
		for _, slug := range seedFramework(t, c, tc.framework).Companies {
			got = append(got, names[slug])
		}
		if !reflect.DeepEqual(got, tc.companies) {
			t.Errorf("framework %s: companies %q, want %q", tc.framework, got, tc.companies)
		}
	}
}

func TestSeedCompanies(t *testing.T) {
	c := ArticleContent()
	// 6 Django + 7 Laravel + 8 Spring Boot + 3 Elixir + 6 Go + 3 BaaS
	// providers, less Mozilla and Google named twice.
	if len(c.Companies) != 31 {
		t.Errorf("%d companies, want 31", len(c.Companies))
	}
	if !sort.SliceIsSorted(c.Companies, func(i, j int) bool { return c.Companies[i].Slug < c.Companies[j].Slug }) {
		t.Error("companies not sorted by slug")
	}
	for _, co := range c.Companies {
		if !seedIsSlug(co.Slug) {
			t.Errorf("company slug %q is not lower-kebab", co.Slug)
		}
	}
	for slug, name := range map[string]string{
		"9gag":             "9GAG",
		"american-express": "American Express",
		"microsoft-azure":  "Microsoft Azure",
		"aws":              "AWS",
		"razorpay":         "Razorpay",
		"ifood":            "iFood",
	} {
		if got := seedCompany(t, c, slug).Name; got != name {
			t.Errorf("company %s: Name = %q, want %q", slug, got, name)
		}
	}
}

func TestSeedFAQs(t *testing.T) {
	faqs := ArticleContent().FAQs
	want := []struct {
		slug, question    string
		items, frameworks []string
		trends            []string
	}{
		{
			"what-are-the-backend-development-trends-for-2024",
			"What are the backend development trends for 2024?",
			[]string{"Backend as a Service (BaaS)", "Django", "Serverless Computing", "Laravel", "Headless CMS", "Spring Boot", "Static Site Generators", "Elixir", "Go", "Ruby on Rails"},
			[]string{},
			[]string{"backend-as-a-service", "django", "serverless-computing", "laravel", "headless-cms", "spring-boot", "static-site-generators", "elixir", "go", "ruby-on-rails"},
		},
		{
			"which-is-the-best-backend-framework-in-2024",
			"Which is the best backend framework in 2024?",
			[]string{"Django", "Laravel", "Spring Boot", "Go", "Ruby on Rails"},
			[]string{"django", "laravel", "spring-boot", "go", "ruby-on-rails"},
			[]string{},
		},
		{
			"should-i-learn-backend-in-2024",
			"Should I learn backend in 2024?",
			[]string{}, []string{}, []string{},
		},
		{
			"which-backend-language-is-the-fastest",
			"Which backend language is the fastest?",
			[]string{}, []string{}, []string{},
		},
	}
	if len(faqs) != len(want) {
		t.Fatalf("%d FAQs, want %d", len(faqs), len(want))
	}
	for i, w := range want {
		f := faqs[i]
		if f.Position != i+1 || f.Slug != w.slug || f.Question != w.question {
			t.Errorf("faq %d = {%d, %q, %q}, want {%d, %q, %q}", i, f.Position, f.Slug, f.Question, i+1, w.slug, w.question)
		}
		if !reflect.DeepEqual(f.Items, w.items) {
			t.Errorf("faq %s: Items = %q, want %q", f.Slug, f.Items, w.items)
		}
		if !reflect.DeepEqual(f.Frameworks, w.frameworks) {
			t.Errorf("faq %s: Frameworks = %q, want %q", f.Slug, f.Frameworks, w.frameworks)
		}
		if !reflect.DeepEqual(f.Trends, w.trends) {
			t.Errorf("faq %s: Trends = %q, want %q", f.Slug, f.Trends, w.trends)
		}
		// A list answer lists its items, numbered, in order.
		for j, item := range f.Items {
			line := strconv.Itoa(j+1) + ". " + item
			if !strings.Contains(f.Answer, line+"\n") && !strings.HasSuffix(f.Answer, line) {
				t.Errorf("faq %s: answer lacks %q", f.Slug, line)
			}
		}
	}
	// The FAQ list repeats the trend names.
	trends := ArticleContent().Trends
	for i, item := range faqs[0].Items {
		if trends[i].Name != item {
			t.Errorf("faq 1 item %d = %q, trend name %q", i, item, trends[i].Name)
		}
	}
	if !strings.Contains(faqs[0].Answer, "The Latest Backend Development trends are:") {
		t.Errorf("faq 1 answer = %q", faqs[0].Answer)
	}
	if !strings.Contains(faqs[3].Answer, "Overall Java is considered fastest Backend Programming Language.") {
		t.Errorf("faq 4 answer = %q", faqs[3].Answer)
	}
}

// TestSeedReferences checks that every slug a trend, framework or FAQ
// refers to exists, and that slugs are unique, lower-kebab, per type.
func TestSeedReferences(t *testing.T) {
	c := ArticleContent()
	companies, frameworks, trends, faqs := map[string]bool{}, map[string]bool{}, map[string]bool{}, map[string]bool{}
	add := func(kind string, set map[string]bool, slug string) {
		if set[slug] {
			t.Errorf("duplicate %s slug %q", kind, slug)
		}
		if !seedIsSlug(slug) {
			t.Errorf("%s slug %q is not lower-kebab", kind, slug)
		}
		set[slug] = true
	}
	for _, x := range c.Companies {
		add("company", companies, x.Slug)
	}
	for _, x := range c.Frameworks {
		add("framework", frameworks, x.Slug)
	}
	for _, x := range c.Trends {
		add("trend", trends, x.Slug)
	}
	for _, x := range c.FAQs {
		add("faq", faqs, x.Slug)
	}
	check := func(from, kind string, set map[string]bool, slugs []string) {
		for _, s := range slugs {
			if !set[s] {
				t.Errorf("%s refers to unknown %s %q", from, kind, s)
			}
		}
	}
	used := map[string]bool{}
	for _, f := range c.Frameworks {
		check("framework "+f.Slug, "company", companies, f.Companies)
		for _, s := range f.Companies {
			used[s] = true
		}
	}
	for _, tr := range c.Trends {
		check("trend "+tr.Slug, "framework", frameworks, tr.Frameworks)
		check("trend "+tr.Slug, "company", companies, tr.Companies)
		for _, s := range tr.Companies {
			used[s] = true
		}
	}
	for _, f := range c.FAQs {
		check("faq "+f.Slug, "framework", frameworks, f.Frameworks)
		check("faq "+f.Slug, "trend", trends, f.Trends)
	}
	// Every company is named by some framework or trend.
	for slug := range companies {
		if !used[slug] {
			t.Errorf("company %s is not referenced", slug)
		}
	}
}

// TestSeedNoNilSlices checks that no list is nil: a document encodes every
// list as an array, never null.
func TestSeedNoNilSlices(t *testing.T) {
	b, err := json.Marshal(ArticleContent())
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "null") {
		t.Errorf("document encodes a null: %s", b)
	}
	var back Content
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(&back, ArticleContent()) {
		t.Error("document does not survive a JSON round trip")
	}
}

// TestSeedFresh checks that each call returns a document of its own.
func TestSeedFresh(t *testing.T) {
	a, b := ArticleContent(), ArticleContent()
	a.Trends[0].Name = "changed"
	a.Frameworks[0].Companies[0] = "changed"
	*a.Frameworks[1].FirstReleased = 1
	a.Article.Title = "changed"
	if reflect.DeepEqual(a, b) || b.Trends[0].Name == "changed" || b.Frameworks[0].Companies[0] == "changed" ||
		*b.Frameworks[1].FirstReleased == 1 || b.Article.Title == "changed" {
		t.Error("ArticleContent shares state between calls")
	}
}

func seedTrend(t *testing.T, c *Content, slug string) TrendDoc {
	t.Helper()
	for _, x := range c.Trends {
		if x.Slug == slug {
			return x
		}
	}
	t.Fatalf("no trend %q", slug)
	return TrendDoc{}
}

func seedFramework(t *testing.T, c *Content, slug string) FrameworkDoc {
	t.Helper()
	for _, x := range c.Frameworks {
		if x.Slug == slug {
			return x
		}
	}
	t.Fatalf("no framework %q", slug)
	return FrameworkDoc{}
}

func seedCompany(t *testing.T, c *Content, slug string) CompanyDoc {
	t.Helper()
	for _, x := range c.Companies {
		if x.Slug == slug {
			return x
		}
	}
	t.Fatalf("no company %q", slug)
	return CompanyDoc{}
}

// seedIsSlug reports whether s is lower-kebab: lower-case letters and
// digits in words joined by single hyphens.
func seedIsSlug(s string) bool {
	if s == "" {
		return false
	}
	for _, word := range strings.Split(s, "-") {
		if word == "" {
			return false
		}
		for _, r := range word {
			if (r < 'a' || r > 'z') && (r < '0' || r > '9') {
				return false
			}
		}
	}
	return true
}
