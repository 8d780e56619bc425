package graph_test

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/client"
	"github.com/trendql/trendql/db"
)

// The article's facts, as a frontend would query them.
func TestArticleFacts_TrendsInRankOrder(t *testing.T) {
	e := newEnv(t)
	var resp struct {
		Trends struct {
			TotalCount int
			Nodes      []struct {
				Rank                 int
				Name, Slug, Category string
				Summary, Body        string
				Highlights, Examples []string
				Framework            *struct{ Name string }
				Companies            []struct{ Name string }
				Status               string
				Version              int
				CreatedAt, UpdatedAt string
				PublishedAt          *string
			}
		}
	}
	e.mustQuery(t, `{ trends(first: 10) { totalCount nodes { rank name slug category summary body highlights examples
		framework { name } companies { name } status version createdAt updatedAt publishedAt } } }`, &resp)
	want := []string{"Backend as a Service (BaaS)", "Django", "Serverless Computing", "Laravel", "Headless CMS",
		"Spring Boot", "Static Site Generators", "Elixir", "Go", "Ruby on Rails"}
	if resp.Trends.TotalCount != 10 || len(resp.Trends.Nodes) != 10 {
		t.Fatalf("totalCount=%d nodes=%d, want 10", resp.Trends.TotalCount, len(resp.Trends.Nodes))
	}
	for i, n := range resp.Trends.Nodes {
		if n.Rank != i+1 || n.Name != want[i] {
			t.Errorf("trend %d = #%d %q, want #%d %q", i, n.Rank, n.Name, i+1, want[i])
		}
		if n.Status != "PUBLISHED" || n.Version != 1 || n.PublishedAt == nil || n.CreatedAt == "" {
			t.Errorf("%s lifecycle: status=%s version=%d publishedAt=%v", n.Name, n.Status, n.Version, n.PublishedAt)
		}
		if n.Summary == "" || n.Body == "" {
			t.Errorf("%s has no summary or body", n.Name)
		}
	}
	byName := map[string]int{}
	for i, n := range resp.Trends.Nodes {
		byName[n.Name] = i
	}
	serverless := resp.Trends.Nodes[byName["Serverless Computing"]]
	if !reflect.DeepEqual(serverless.Examples, []string{"AWS Lambda", "Google Cloud Functions", "IBM OpenWhisk", "Microsoft Azure Functions"}) {
		t.Errorf("serverless examples = %v", serverless.Examples)
	}
	if len(serverless.Highlights) != 4 || !strings.Contains(serverless.Highlights[2], "pay-as-you-go") {
		t.Errorf("serverless highlights = %q", serverless.Highlights)
	}
	if ssg := resp.Trends.Nodes[byName["Static Site Generators"]]; !reflect.DeepEqual(ssg.Examples, []string{"Hugo", "Eleventy", "Pelican", "Gatsby"}) {
		t.Errorf("static site generator examples = %v", ssg.Examples)
	}
	if cms := resp.Trends.Nodes[byName["Headless CMS"]]; !reflect.DeepEqual(cms.Examples, []string{"Strapi", "Netlify CMS", "Sanity", "WordPress"}) {
		t.Errorf("headless CMS examples = %v", cms.Examples)
	}
	goTrend := resp.Trends.Nodes[byName["Go"]]
	if goTrend.Framework == nil || goTrend.Framework.Name != "Go" || goTrend.Category != "LANGUAGE" {
		t.Errorf("Go trend framework=%v category=%s", goTrend.Framework, goTrend.Category)
	}
	if len(goTrend.Highlights) != 7 || !strings.Contains(strings.Join(goTrend.Highlights, "|"), "garbage collection") {
		t.Errorf("Go highlights = %q", goTrend.Highlights)
	}
	baas := resp.Trends.Nodes[0]
	if names(baas.Companies) != "AWS,Microsoft Azure,Firebase" || baas.Framework != nil {
		t.Errorf("BaaS companies = %s framework=%v", names(baas.Companies), baas.Framework)
	}
}

func names[T any](l []T) string {
	var out []string
	for _, x := range l {
		out = append(out, reflect.ValueOf(x).FieldByName("Name").String())
	}
	return strings.Join(out, ",")
}

func TestArticleFacts_Frameworks(t *testing.T) {
	e := newEnv(t)
	type fw struct {
		Name, Kind        string
		Language, Creator *string
		FirstReleased     *int
		Architecture      *string
		Features          []string
		Companies         []struct{ Name string }
		Trends            []struct{ Name string }
	}
	cases := []struct {
		slug, name, kind, language, creator string
		year                                int
		companies                           string
	}{
		{"django", "Django", "FRAMEWORK", "Python", "", 0, "Spotify,Instagram,Prezi,Mozilla,Pinterest,Disqus"},
		{"laravel", "Laravel", "FRAMEWORK", "", "Taylor Otwell", 0, "9GAG,Crowdcube,PedidosYa,Razorpay,Pfizer,BBC,Lenovo"},
		{"spring-boot", "Spring Boot", "FRAMEWORK", "Java", "", 0, "Google,Trivago,Accenture,Microsoft,Intuit,Amazon,Udemy,iFood"},
		{"ruby-on-rails", "Ruby on Rails", "FRAMEWORK", "Ruby", "", 0, ""},
		{"go", "Go", "LANGUAGE", "Go", "Google", 2009, "Uber,DropBox,Twitch,Alibaba,American Express,Google"},
		{"elixir", "Elixir", "LANGUAGE", "Elixir", "", 2011, "PepsiCo,Discord,Mozilla"},
	}
	for _, c := range cases {
		t.Run(c.slug, func(t *testing.T) {
			var resp struct{ Framework *fw }
			e.mustQuery(t, `query($s: String!) { framework(slug: $s) { name kind language creator firstReleased architecture features
				companies { name } trends { name } } }`, &resp, client.Var("s", c.slug))
			f := resp.Framework
			if f == nil {
				t.Fatal("framework not found")
			}
			if f.Name != c.name || f.Kind != c.kind || deref(f.Language) != c.language || deref(f.Creator) != c.creator {
				t.Errorf("got %s %s language=%q creator=%q", f.Name, f.Kind, deref(f.Language), deref(f.Creator))
			}
			if (c.year == 0) != (f.FirstReleased == nil) || (f.FirstReleased != nil && *f.FirstReleased != c.year) {
				t.Errorf("firstReleased = %v, want %d", f.FirstReleased, c.year)
			}
			if got := names(f.Companies); got != c.companies {
				t.Errorf("companies = %s, want %s", got, c.companies)
			}
			if names(f.Trends) != c.name || len(f.Features) == 0 {
				t.Errorf("trends = %s features = %v", names(f.Trends), f.Features)
			}
		})
	}
	var rails struct{ Framework fw }
	e.mustQuery(t, `{ framework(slug: "ruby-on-rails") { name kind architecture features companies { name } trends { name } } }`, &rails)
	if deref(rails.Framework.Architecture) != "MVC" {
		t.Errorf("Rails architecture = %q", deref(rails.Framework.Architecture))
	}
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

func TestArticleFacts_CompaniesFAQsAndArticle(t *testing.T) {
	e := newEnv(t)
	var resp struct {
		Google struct {
			Name       string
			Frameworks []struct{ Name string }
			Trends     []struct{ Name string }
		}
		Mozilla struct{ Frameworks []struct{ Name string } }
		Faqs    struct {
			Nodes []struct {
				Position   int
				Question   string
				Answer     string
				Items      []string
				Frameworks []struct{ Name string }
				Trends     []struct{ Rank int }
			}
		}
		Article struct {
			Title, LastUpdated, Intro, Conclusion string
			Sections                              []struct{ Heading, Body string }
		}
	}
	e.mustQuery(t, `{
		google: company(slug: "google") { name frameworks { name } trends { name } }
		mozilla: company(slug: "mozilla") { frameworks { name } }
		faqs { nodes { position question answer items frameworks { name } trends { rank } } }
		article { title lastUpdated intro conclusion sections { heading body } }
	}`, &resp)
	if names(resp.Google.Frameworks) != "Go,Spring Boot" || names(resp.Google.Trends) != "Spring Boot,Go" {
		t.Errorf("Google frameworks=%s trends=%s", names(resp.Google.Frameworks), names(resp.Google.Trends))
	}
	if names(resp.Mozilla.Frameworks) != "Django,Elixir" {
		t.Errorf("Mozilla frameworks = %s", names(resp.Mozilla.Frameworks))
	}
	faqs := resp.Faqs.Nodes
	if len(faqs) != 4 {
		t.Fatalf("%d FAQs, want 4", len(faqs))
	}
	if faqs[0].Question != "What are the backend development trends for 2024?" || len(faqs[0].Items) != 10 || len(faqs[0].Trends) != 10 {
		t.Errorf("FAQ 1 = %q items=%d trends=%d", faqs[0].Question, len(faqs[0].Items), len(faqs[0].Trends))
	}
	for i, tr := range faqs[0].Trends {
		if tr.Rank != i+1 {
			t.Errorf("FAQ 1 trend %d has rank %d", i, tr.Rank)
		}
	}
	if names(faqs[1].Frameworks) != "Django,Laravel,Spring Boot,Go,Ruby on Rails" {
		t.Errorf("FAQ 2 frameworks = %s", names(faqs[1].Frameworks))
	}
	if !strings.Contains(faqs[3].Answer, "Java") || len(faqs[3].Items) != 0 {
		t.Errorf("FAQ 4 answer = %q", faqs[3].Answer)
	}
	a := resp.Article
	if a.Title != "Top Backend Development Trends to Follow" || a.LastUpdated != "2024-01-29" {
		t.Errorf("article = %q %q", a.Title, a.LastUpdated)
	}
	if len(a.Sections) != 3 || a.Sections[0].Heading != "What is Backend Development?" || !strings.Contains(a.Sections[2].Body, "Scalability") {
		t.Errorf("sections = %+v", a.Sections)
	}
	if !strings.Contains(a.Intro, "top 10 backend development trends") || !strings.Contains(a.Conclusion, "trend in 2024") {
		t.Errorf("intro/conclusion wrong: %q / %q", a.Intro[:60], a.Conclusion)
	}
}

func TestNodes_ResolveAnyGlobalID(t *testing.T) {
	e := newEnv(t)
	var ids struct {
		Trend     struct{ ID string }
		Framework struct{ ID string }
		Company   struct{ ID string }
		Faq       struct{ ID string }
	}
	e.mustQuery(t, `{ trend(slug: "go") { id } framework(slug: "go") { id } company(slug: "uber") { id } faq(slug: "which-backend-language-is-the-fastest") { id } }`, &ids)
	var resp struct {
		Nodes []map[string]any
		Node  map[string]any
	}
	missing := db.EncodeID(db.TypeTrend, 9999)
	e.mustQuery(t, `query($ids: [ID!]!, $one: ID!) {
		nodes(ids: $ids) { __typename id ... on Trend { name } ... on Framework { name } ... on Company { name } ... on FAQ { question } }
		node(id: $one) { id }
	}`, &resp, client.Var("ids", []string{ids.Trend.ID, ids.Framework.ID, ids.Company.ID, ids.Faq.ID, missing}), client.Var("one", missing))
	want := []string{"Trend", "Framework", "Company", "FAQ"}
	for i, w := range want {
		if resp.Nodes[i]["__typename"] != w {
			t.Errorf("nodes[%d] = %v, want a %s", i, resp.Nodes[i], w)
		}
	}
	if resp.Nodes[4] != nil || resp.Node != nil {
		t.Errorf("a missing id should resolve to null: %v %v", resp.Nodes[4], resp.Node)
	}
	if resp.Nodes[0]["name"] != "Go" || resp.Nodes[2]["name"] != "Uber" {
		t.Errorf("nodes = %v", resp.Nodes)
	}
	// Lookups by id agree with lookups by slug; a type mismatch is bad input.
	var byID struct{ Trend struct{ Slug string } }
	e.mustQuery(t, `query($id: ID!) { trend(id: $id) { slug } }`, &byID, client.Var("id", ids.Trend.ID))
	if byID.Trend.Slug != "go" {
		t.Errorf("trend(id:) slug = %q", byID.Trend.Slug)
	}
	r := e.post(t, `query($id: ID!) { trend(id: $id) { slug } }`, map[string]any{"id": ids.Company.ID})
	if r.code() != "BAD_USER_INPUT" {
		t.Errorf("trend(id: <company id>) code = %q", r.code())
	}
	r = e.post(t, `{ trend(slug: "go", id: "x") { slug } }`, nil)
	if r.code() != "BAD_USER_INPUT" {
		t.Errorf("trend(id:, slug:) code = %q", r.code())
	}
}

// Drafts are invisible to anonymous readers everywhere: lists, counts,
// relations, lookups and nodes.
func TestDrafts_InvisibleToAnonymous(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	_, err := e.DB.Import(ctx, &db.Content{Format: db.ContentFormat,
		Companies:  []db.CompanyDoc{{Slug: "secret-co", Name: "Secret Co", Status: db.StatusDraft}},
		Frameworks: []db.FrameworkDoc{{Slug: "phoenix", Name: "Phoenix", Kind: db.KindFramework, Language: "Elixir", Summary: "s", Companies: []string{"secret-co", "discord"}, Status: db.StatusDraft}},
	}, false)
	if err != nil {
		t.Fatal(err)
	}
	var resp struct {
		Frameworks struct {
			TotalCount int
			Nodes      []struct{ Slug string }
		}
		Framework *struct{ Name string }
		Discord   struct{ Frameworks []struct{ Name string } }
		Companies struct{ TotalCount int }
	}
	e.mustQuery(t, `{ frameworks(first: 100) { totalCount nodes { slug } } framework(slug: "phoenix") { name }
		discord: company(slug: "discord") { frameworks { name } } companies { totalCount } }`, &resp)
	if resp.Frameworks.TotalCount != 6 || len(resp.Frameworks.Nodes) != 6 || resp.Framework != nil {
		t.Errorf("anonymous sees drafts: %+v", resp)
	}
	if names(resp.Discord.Frameworks) != "Elixir" || resp.Companies.TotalCount != 31 {
		t.Errorf("anonymous sees draft relations: %s, %d companies", names(resp.Discord.Frameworks), resp.Companies.TotalCount)
	}
	// A viewer sees them (tokens are covered by the auth tests; here the
	// principal is set directly to prove the db rule).
	viewer := db.WithPrincipal(ctx, &db.Principal{Role: db.RoleViewer})
	n, err := e.DB.CountFrameworks(viewer, nil)
	if err != nil || n != 7 {
		t.Errorf("viewer count = %d, %v; want 7", n, err)
	}
	if _, err := e.DB.FrameworkBySlug(viewer, "phoenix"); err != nil {
		t.Errorf("viewer cannot read draft: %v", err)
	}
	if _, err := e.DB.FrameworkBySlug(ctx, "phoenix"); !db.IsNotFound(err) {
		t.Errorf("anonymous FrameworkBySlug(draft) err = %v, want not found", err)
	}
}

func TestFilters(t *testing.T) {
	e := newEnv(t)
	cases := []struct {
		name, list, filter, want string
	}{
		{"enum eq", "frameworks", `{ kind: { eq: LANGUAGE } }`, "Elixir,Go"},
		{"enum in", "trends", `{ category: { in: [TOOLING, LANGUAGE] } }`, "Static Site Generators,Elixir,Go"},
		{"contains ignores case", "companies", `{ name: { contains: "micro" } }`, "Microsoft,Microsoft Azure"},
		{"startsWith", "companies", `{ name: { startsWith: "a" } }`, "Accenture,Alibaba,Amazon,American Express,AWS"},
		{"int range", "trends", `{ rank: { gte: 3, lt: 6 } }`, "Serverless Computing,Laravel,Headless CMS"},
		{"int in", "trends", `{ rank: { in: [1, 10] } }`, "Backend as a Service (BaaS),Ruby on Rails"},
		{"isNull", "frameworks", `{ firstReleased: { isNull: false } }`, "Elixir,Go"},
		{"by related company slug", "frameworks", `{ company: { slug: "mozilla" } }`, "Django,Elixir"},
		{"by related framework", "companies", `{ framework: { slugIn: ["elixir"] } }`, "Discord,Mozilla,PepsiCo"},
		{"trend by company", "trends", `{ company: { slug: "google" } }`, "Spring Boot,Go"},
		{"trend by framework", "trends", `{ framework: { slug: "laravel" } }`, "Laravel"},
		{"AND", "frameworks", `{ AND: [{ kind: { eq: FRAMEWORK } }, { company: { slug: "google" } }] }`, "Spring Boot"},
		{"OR", "frameworks", `{ OR: [{ slug: { eq: "go" } }, { slug: { eq: "django" } }] }`, "Django,Go"},
		{"NOT", "frameworks", `{ NOT: { kind: { eq: FRAMEWORK } } }`, "Elixir,Go"},
		{"nested", "trends", `{ OR: [{ AND: [{ category: { eq: FRAMEWORK } }, { rank: { lte: 4 } }] }, { NOT: { rank: { lt: 10 } } }] }`, "Django,Laravel,Ruby on Rails"},
		{"empty OR matches nothing", "trends", `{ OR: [] }`, ""},
		{"empty in matches nothing", "companies", `{ slug: { in: [] } }`, ""},
		{"FAQ by trend", "faqs", `{ trend: { slug: "go" } }`, "What are the backend development trends for 2024?"},
		{"SQL in a string is just text", "companies", `{ name: { eq: "x' OR 1=1 --" } }`, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			field := "name"
			if c.list == "faqs" {
				field = "question"
			}
			q := fmt.Sprintf(`{ %s(filter: %s, first: 100) { totalCount nodes { %s } } }`, c.list, c.filter, field)
			var resp map[string]struct {
				TotalCount int
				Nodes      []map[string]string
			}
			e.mustQuery(t, q, &resp)
			var got []string
			for _, n := range resp[c.list].Nodes {
				got = append(got, n[field])
			}
			if strings.Join(got, ",") != c.want || resp[c.list].TotalCount != len(got) {
				t.Errorf("got %q (totalCount %d), want %q", strings.Join(got, ","), resp[c.list].TotalCount, c.want)
			}
		})
	}
}

func TestFilters_BadInput(t *testing.T) {
	e := newEnv(t)
	deep := `{ slug: { eq: "go" } }`
	for i := 0; i < 10; i++ {
		deep = `{ NOT: ` + deep + ` }`
	}
	many := make([]string, 101)
	for i := range many {
		many[i] = fmt.Sprint(i)
	}
	cases := []struct{ name, query, field string }{
		{"bad id", `{ trends(filter: { id: { eq: "nope" } }) { totalCount } }`, "filter.id.eq"},
		{"id of another type", `{ trends(filter: { framework: { id: "` + db.EncodeID(db.TypeCompany, 1) + `" } }) { totalCount } }`, "filter.framework.id"},
		{"too deep", `{ frameworks(filter: ` + deep + `) { totalCount } }`, "filter"},
		{"in too long", `{ trends(filter: { rank: { in: [` + strings.Join(many, ",") + `] } }) { totalCount } }`, "filter.rank.in"},
		{"duplicate order key", `{ trends(orderBy: [{ field: NAME }, { field: NAME }]) { totalCount } }`, "orderBy"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := e.post(t, c.query, nil)
			if r.code() != "BAD_USER_INPUT" || r.Errors[0].Extensions["field"] != c.field {
				t.Errorf("got %s field=%v: %s", r.code(), r.Errors[0].Extensions["field"], r.Body)
			}
		})
	}
}

func TestOrdering(t *testing.T) {
	e := newEnv(t)
	var resp struct {
		ByName  struct{ Nodes []struct{ Name string } }
		ByYear  struct{ Nodes []struct{ Name string } }
		RankDsc struct{ Nodes []struct{ Rank int } }
	}
	e.mustQuery(t, `{
		byName: frameworks { nodes { name } }
		byYear: frameworks(orderBy: [{ field: FIRST_RELEASED, direction: DESC }, { field: NAME }]) { nodes { name } }
		rankDsc: trends(first: 3, orderBy: [{ field: RANK, direction: DESC }]) { nodes { rank } }
	}`, &resp)
	if got := names(resp.ByName.Nodes); got != "Django,Elixir,Go,Laravel,Ruby on Rails,Spring Boot" {
		t.Errorf("by name: %s", got)
	}
	if got := names(resp.ByYear.Nodes); got != "Elixir,Go,Django,Laravel,Ruby on Rails,Spring Boot" {
		t.Errorf("by year desc: %s", got)
	}
	if r := resp.RankDsc.Nodes; len(r) != 3 || r[0].Rank != 10 || r[2].Rank != 8 {
		t.Errorf("rank desc: %v", r)
	}
}
