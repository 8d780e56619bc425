package graph_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/trendql/trendql/graph"
	"github.com/trendql/trendql/webhook"
)

// draftScene is a server whose seed content gets one pending draft on a
// published item of each type (see writeDrafts), with the global ids of
// those items and of the companies their drafts link.
type draftScene struct {
	*live
	fw, tr, co, faq string // the Go framework, the Serverless trend, Uber, the first FAQ
	spotify         string
}

// newDraftScene starts a seeded server with a token of each role; no
// drafts yet.
func newDraftScene(t testing.TB) *draftScene {
	t.Helper()
	s := &draftScene{live: newLive(t)}
	var ids struct {
		Fw, Tr, Co, Faq, Spotify struct{ ID string }
	}
	s.gql(t, "", `{ fw: framework(slug: "go") { id } tr: trend(slug: "serverless-computing") { id } co: company(slug: "uber") { id }
		faq: faq(slug: "what-are-the-backend-development-trends-for-2024") { id } spotify: company(slug: "spotify") { id } }`, nil, &ids)
	s.fw, s.tr, s.co, s.faq, s.spotify = ids.Fw.ID, ids.Tr.ID, ids.Co.ID, ids.Faq.ID, ids.Spotify.ID
	return s
}

// ids are the scene's ids as query variables.
func (s *draftScene) ids() map[string]any {
	return map[string]any{"fw": s.fw, "tr": s.tr, "co": s.co, "faq": s.faq, "spotify": s.spotify}
}

// draftMutation edits the four published items, in one request: each
// edit is the item's draft. Every kind of field changes: names, slugs,
// texts, a rank and a position (moving the items in their lists), and
// links (through input lists and through a link mutation), so every read
// path has something to show or hide.
const draftMutation = `mutation($fw: ID!, $tr: ID!, $co: ID!, $faq: ID!, $spotify: ID!) {
	f: updateFramework(id: $fw, input: {name: "The Go Language", slug: "golang", summary: "Quokka-grade concurrency for the cloud.", companies: [$co, $spotify]}) { id }
	t: updateTrend(id: $tr, input: {name: "Serverless Quokka Computing", slug: "serverless", rank: 11, frameworks: [$fw]}) { id }
	l: linkTrendCompany(trendId: $tr, companyId: $spotify) { id }
	c: updateCompany(id: $co, input: {name: "Quokka Mobility", slug: "quokka-mobility"}) { id }
	q: updateFAQ(id: $faq, input: {question: "Which trends matter for quokkas?", slug: "quokka-trends", position: 9, frameworks: [$fw], trends: [$tr]}) { id }
}`

// writeDrafts runs draftMutation as an editor.
func (s *draftScene) writeDrafts(t testing.TB) {
	t.Helper()
	s.gql(t, s.editor, draftMutation, s.ids(), nil)
}

// publishAll publishes the four drafts in one request.
const publishAll = `mutation($fw: ID!, $tr: ID!, $co: ID!, $faq: ID!) {
	a: publish(id: $fw) { id } b: publish(id: $tr) { id } c: publish(id: $co) { id } d: publish(id: $faq) { id } }`

// read runs a query that must succeed and returns the response body.
func (s *draftScene) read(t testing.TB, query string, headers ...string) string {
	t.Helper()
	r := s.post(t, query, s.ids(), headers...)
	if r.Status != http.StatusOK || len(r.Errors) > 0 {
		t.Fatalf("HTTP %d %s\n%s", r.Status, r.Body, query)
	}
	return r.Body
}

// preview is the headers of a preview request with a token.
func preview(tok string) []string { return append(bearer(tok), graph.PreviewHeader, "true") }

// draftRead is one read path: a query (variables: the scene's ids), what
// only its live answer holds and what only its preview holds.
type draftRead struct {
	name, query string
	live, draft []string
}

// draftReads are the read paths checked against the scene's drafts: each
// list with its count, filters (relation filters by old and new slugs,
// status), orders, a page with cursors, every relation in both
// directions, lookups by id, old slug, new slug, node and nodes, and
// search.
var draftReads = []draftRead{
	{name: "trends", query: `{ trends { totalCount nodes { slug rank name } } }`,
		live:  []string{`{"slug":"django","rank":2,"name":"Django"},{"slug":"serverless-computing","rank":3,"name":"Serverless Computing"},{"slug":"laravel"`},
		draft: []string{`{"slug":"ruby-on-rails","rank":10,"name":"Ruby on Rails"},{"slug":"serverless","rank":11,"name":"Serverless Quokka Computing"}]`}},
	{name: "frameworks", query: `{ frameworks { totalCount nodes { slug name } } }`,
		live:  []string{`{"slug":"elixir","name":"Elixir"},{"slug":"go","name":"Go"},{"slug":"laravel"`},
		draft: []string{`{"slug":"spring-boot","name":"Spring Boot"},{"slug":"golang","name":"The Go Language"}]`}},
	{name: "companies", query: `{ companies(first: 100) { totalCount nodes { slug name } } }`,
		live:  []string{`{"slug":"twitch","name":"Twitch"},{"slug":"uber","name":"Uber"},{"slug":"udemy"`},
		draft: []string{`{"slug":"prezi","name":"Prezi"},{"slug":"quokka-mobility","name":"Quokka Mobility"},{"slug":"razorpay"`}},
	{name: "faqs", query: `{ faqs { totalCount nodes { slug position question } } }`,
		live:  []string{`"nodes":[{"slug":"what-are-the-backend-development-trends-for-2024","position":1,`},
		draft: []string{`"nodes":[{"slug":"which-is-the-best-backend-framework-in-2024","position":2`, `{"slug":"quokka-trends","position":9,"question":"Which trends matter for quokkas?"}]`}},
	{name: "a page with cursors", query: `{ trends(first: 3) { edges { cursor node { slug } } pageInfo { startCursor endCursor hasNextPage } } }`,
		live:  []string{`"node":{"slug":"serverless-computing"}`},
		draft: []string{`"node":{"slug":"laravel"}`}},
	{name: "filter on a changed field", query: `{ trends(filter: {name: {contains: "quokka"}}) { totalCount nodes { slug } } r: trends(filter: {rank: {gt: 10}}) { totalCount } }`,
		live:  []string{`"trends":{"totalCount":0,"nodes":[]},"r":{"totalCount":0}`},
		draft: []string{`"trends":{"totalCount":1,"nodes":[{"slug":"serverless"}]},"r":{"totalCount":1}`}},
	{name: "filter on a changed slug", query: `{ old: frameworks(filter: {slug: {eq: "go"}}) { totalCount } new: frameworks(filter: {slug: {in: ["golang"]}}) { totalCount } }`,
		live:  []string{`"old":{"totalCount":1},"new":{"totalCount":0}`},
		draft: []string{`"old":{"totalCount":0},"new":{"totalCount":1}`}},
	{name: "filter on a position", query: `{ faqs(filter: {position: {eq: 1}}) { totalCount nodes { slug } } }`,
		live:  []string{`"totalCount":1,"nodes":[{"slug":"what-are-the-backend-development-trends-for-2024"}]`},
		draft: []string{`"totalCount":0`}},
	{name: "relation filters", query: `{ bySpotify: trends(filter: {company: {slug: "spotify"}}) { nodes { slug } }
		byGo: companies(first: 100, filter: {framework: {slug: "go"}}) { totalCount }
		byGolang: companies(filter: {framework: {slugIn: ["golang"]}}) { nodes { slug } }
		byServerless: faqs(filter: {trend: {slug: "serverless"}}) { nodes { slug } }
		byGoFramework: trends(filter: {framework: {slug: "golang"}}) { nodes { slug } } }`,
		live: []string{`"bySpotify":{"nodes":[{"slug":"django"}]},"byGo":{"totalCount":6},"byGolang":{"nodes":[]},"byServerless":{"nodes":[]},"byGoFramework":{"nodes":[]}`},
		draft: []string{`"bySpotify":{"nodes":[{"slug":"django"},{"slug":"serverless"}]},"byGo":{"totalCount":0}`,
			`"byGolang":{"nodes":[{"slug":"quokka-mobility"},{"slug":"spotify"}]},"byServerless":{"nodes":[{"slug":"quokka-trends"}]}`, `"byGoFramework":{"nodes":[{"slug":"go"},{"slug":"serverless"}]}`}},
	{name: "relation filter by id", query: `query($fw: ID!) { companies(first: 100, filter: {framework: {id: $fw}}) { totalCount } }`,
		live: []string{`"totalCount":6`}, draft: []string{`"totalCount":2`}},
	{name: "status filter", query: `{ companies(filter: {status: {eq: PUBLISHED}, name: {startsWith: "quokka"}}) { totalCount } t: trends(filter: {status: {in: [PUBLISHED]}, slug: {eq: "serverless"}}) { totalCount } }`,
		live: []string{`"companies":{"totalCount":0},"t":{"totalCount":0}`}, draft: []string{`"companies":{"totalCount":1},"t":{"totalCount":1}`}},
	{name: "orders", query: `{ companies(first: 3, orderBy: [{field: NAME, direction: DESC}]) { nodes { slug } }
		faqs(first: 1, orderBy: [{field: POSITION, direction: DESC}]) { nodes { slug } }
		trends(first: 1, orderBy: [{field: RANK, direction: DESC}]) { nodes { slug } } }`,
		live:  []string{`"companies":{"nodes":[{"slug":"udemy"},{"slug":"uber"},{"slug":"twitch"}]},"faqs":{"nodes":[{"slug":"which-backend-language-is-the-fastest"}]},"trends":{"nodes":[{"slug":"ruby-on-rails"}]}`},
		draft: []string{`"companies":{"nodes":[{"slug":"udemy"},{"slug":"twitch"},{"slug":"trivago"}]},"faqs":{"nodes":[{"slug":"quokka-trends"}]},"trends":{"nodes":[{"slug":"serverless"}]}`}},
	{name: "framework relations", query: `query($fw: ID!) { framework(id: $fw) { slug companies { slug } trends { slug } faqs { slug } } }`,
		live:  []string{`"companies":[{"slug":"uber"},{"slug":"dropbox"},{"slug":"twitch"},{"slug":"alibaba"},{"slug":"american-express"},{"slug":"google"}],"trends":[{"slug":"go"}],"faqs":[{"slug":"which-is-the-best-backend-framework-in-2024"}]`},
		draft: []string{`"companies":[{"slug":"quokka-mobility"},{"slug":"spotify"}],"trends":[{"slug":"go"},{"slug":"serverless"}],"faqs":[{"slug":"which-is-the-best-backend-framework-in-2024"},{"slug":"quokka-trends"}]`}},
	{name: "trend relations", query: `query($tr: ID!) { trend(id: $tr) { framework { slug } frameworks { slug } companies { slug name } faqs { slug } } go: trend(slug: "go") { companies { slug name } } }`,
		live: []string{`"trend":{"framework":null,"frameworks":[],"companies":[],"faqs":[{"slug":"what-are-the-backend-development-trends-for-2024"}]}`,
			`"go":{"companies":[{"slug":"uber","name":"Uber"},`},
		draft: []string{`"trend":{"framework":{"slug":"golang"},"frameworks":[{"slug":"golang"}],"companies":[{"slug":"spotify","name":"Spotify"}],"faqs":[{"slug":"quokka-trends"}]}`,
			`"go":{"companies":[{"slug":"quokka-mobility","name":"Quokka Mobility"},`}},
	{name: "company relations", query: `query($co: ID!, $spotify: ID!) { company(id: $co) { frameworks { slug } trends { slug } } spotify: company(id: $spotify) { frameworks { slug } trends { slug } }
		dropbox: company(slug: "dropbox") { frameworks { slug } trends { slug } } }`,
		live: []string{`"company":{"frameworks":[{"slug":"go"}],"trends":[{"slug":"go"}]},"spotify":{"frameworks":[{"slug":"django"}],"trends":[{"slug":"django"}]}`,
			`"dropbox":{"frameworks":[{"slug":"go"}],"trends":[{"slug":"go"}]}`},
		draft: []string{`"company":{"frameworks":[{"slug":"golang"}],"trends":[{"slug":"go"}]}`,
			`"spotify":{"frameworks":[{"slug":"django"},{"slug":"golang"}],"trends":[{"slug":"django"},{"slug":"serverless"}]}`,
			`"dropbox":{"frameworks":[],"trends":[{"slug":"go"}]}`}},
	{name: "faq relations", query: `query($faq: ID!) { faq(id: $faq) { frameworks { slug } trends { slug } } }`,
		live:  []string{`"frameworks":[],"trends":[{"slug":"backend-as-a-service"},{"slug":"django"},{"slug":"serverless-computing"},`},
		draft: []string{`"frameworks":[{"slug":"golang"}],"trends":[{"slug":"serverless"}]`}},
	{name: "lookups by slug", query: `{ oldF: framework(slug: "go") { name } newF: framework(slug: "golang") { name }
		oldT: trend(slug: "serverless-computing") { name } newT: trend(slug: "serverless") { name }
		oldC: company(slug: "uber") { name } newC: company(slug: "quokka-mobility") { name }
		oldQ: faq(slug: "what-are-the-backend-development-trends-for-2024") { position } newQ: faq(slug: "quokka-trends") { position } }`,
		live:  []string{`"oldF":{"name":"Go"},"newF":null,"oldT":{"name":"Serverless Computing"},"newT":null,"oldC":{"name":"Uber"},"newC":null,"oldQ":{"position":1},"newQ":null`},
		draft: []string{`"oldF":null,"newF":{"name":"The Go Language"},"oldT":null,"newT":{"name":"Serverless Quokka Computing"},"oldC":null,"newC":{"name":"Quokka Mobility"},"oldQ":null,"newQ":{"position":9}`}},
	{name: "lookups by id, node and nodes", query: `query($fw: ID!, $tr: ID!, $co: ID!, $faq: ID!) {
		framework(id: $fw) { name } trend(id: $tr) { rank } company(id: $co) { slug } faq(id: $faq) { question }
		node(id: $co) { ... on Company { name } }
		nodes(ids: [$fw, $tr, $co, $faq]) { ... on Framework { name } ... on Trend { name } ... on Company { name } ... on FAQ { question } } }`,
		live:  []string{`"framework":{"name":"Go"},"trend":{"rank":3},"company":{"slug":"uber"},"faq":{"question":"What are the backend development trends for 2024?"},"node":{"name":"Uber"},"nodes":[{"name":"Go"},{"name":"Serverless Computing"},{"name":"Uber"},{"question":"What are the backend development trends for 2024?"}]`},
		draft: []string{`"framework":{"name":"The Go Language"},"trend":{"rank":11},"company":{"slug":"quokka-mobility"},"faq":{"question":"Which trends matter for quokkas?"},"node":{"name":"Quokka Mobility"},"nodes":[{"name":"The Go Language"},{"name":"Serverless Quokka Computing"},{"name":"Quokka Mobility"},{"question":"Which trends matter for quokkas?"}]`}},
	{name: "search for a draft's words", query: `{ search(query: "quokka") { totalCount nodes { node { id } } } }`,
		live:  []string{`"totalCount":0`},
		draft: []string{`"totalCount":4`, `"id":"RnJhbWV3b3JrOjM"`, `"id":"VHJlbmQ6Mw"`, `"id":"Q29tcGFueTozMA"`, `"id":"RkFROjE"`}},
	{name: "search for words a draft removes", query: `{ search(query: "oriented", types: [FRAMEWORK]) { totalCount } u: search(query: "uber", types: [COMPANY]) { totalCount } }`,
		live:  []string{`"search":{"totalCount":1},"u":{"totalCount":1}`},
		draft: []string{`"search":{"totalCount":0},"u":{"totalCount":0}`}},
}

// TestDrafts_EveryReadPathIsLiveWithoutAPreview gives a published item of
// each type a pending draft, then reads every read path as each caller:
// anonymous callers and token holders without the preview header get the
// answers they got before the drafts, byte for byte; a preview (viewer or
// editor, POST or GET) shows the drafts. Publishing shows everyone what
// the preview showed; a discarded draft leaves the preview live again.
func TestDrafts_EveryReadPathIsLiveWithoutAPreview(t *testing.T) {
	s := newDraftScene(t)
	before := map[string]string{}
	for _, r := range draftReads {
		before[r.name] = s.read(t, r.query)
		for _, want := range r.live {
			if !strings.Contains(before[r.name], want) {
				t.Fatalf("%s: the seed does not answer %s (the test is out of date): %s", r.name, want, before[r.name])
			}
		}
	}
	s.writeDrafts(t)

	previews := map[string]string{}
	for _, r := range draftReads {
		t.Run(r.name, func(t *testing.T) {
			for who, h := range map[string][]string{"anonymous": nil, "viewer": bearer(s.viewer), "editor": bearer(s.editor), "admin": bearer(s.admin),
				"anonymous GET": nil, "viewer GET": bearer(s.viewer)} {
				var got string
				if strings.HasSuffix(who, "GET") {
					got = s.get(t, r.query, h...)
				} else {
					got = s.read(t, r.query, h...)
				}
				if got != before[r.name] {
					t.Errorf("%s without a preview sees the drafts:\n got %s\nwant %s", who, got, before[r.name])
				}
			}
			p := s.read(t, r.query, preview(s.viewer)...)
			for _, want := range r.draft {
				if !strings.Contains(p, want) {
					t.Errorf("the preview misses %s: %s", want, p)
				}
			}
			for _, gone := range r.live {
				if strings.Contains(p, gone) {
					t.Errorf("the preview still shows the live %s: %s", gone, p)
				}
			}
			for who, got := range map[string]string{"editor": s.read(t, r.query, preview(s.editor)...), "admin": s.read(t, r.query, preview(s.admin)...),
				"viewer GET": s.get(t, r.query, preview(s.viewer)...)} {
				if got != p {
					t.Errorf("the %s preview differs from the viewer's:\n%s\n%s", who, got, p)
				}
			}
			previews[r.name] = p
		})
	}

	// Published: everyone reads what the preview showed (search scores
	// aside: the index held the drafts beside the live rows).
	s.gql(t, s.editor, publishAll, s.ids(), nil)
	for _, r := range draftReads {
		for who, h := range map[string][]string{"anonymous": nil, "viewer": bearer(s.viewer), "viewer preview": preview(s.viewer)} {
			got := s.read(t, r.query, h...)
			if strings.HasPrefix(r.name, "search") {
				for _, want := range r.draft {
					if !strings.Contains(got, want) {
						t.Errorf("%s: %s after publish misses %s: %s", r.name, who, want, got)
					}
				}
			} else if got != previews[r.name] {
				t.Errorf("%s: %s after publish:\n got %s\nwant the preview %s", r.name, who, got, previews[r.name])
			}
		}
	}

	// A new draft, discarded: the preview is the live content again.
	published := map[string]string{}
	for _, r := range draftReads {
		published[r.name] = s.read(t, r.query)
	}
	s.gql(t, s.editor, `mutation($fw: ID!, $co: ID!, $tr: ID!, $faq: ID!) {
		updateFramework(id: $fw, input: {name: "Go Again", slug: "go"}) { id } updateCompany(id: $co, input: {name: "Uber"}) { id }
		updateTrend(id: $tr, input: {rank: 12}) { id } unlinkFAQFramework(faqId: $faq, frameworkId: $fw) { id } }`, s.ids(), nil)
	if p := s.read(t, draftReads[1].query, preview(s.viewer)...); !strings.Contains(p, "Go Again") {
		t.Fatalf("the second draft is not in the preview: %s", p)
	}
	s.gql(t, s.editor, `mutation($fw: ID!, $co: ID!, $tr: ID!, $faq: ID!) {
		a: discardDraft(id: $fw) { id } b: discardDraft(id: $co) { id } c: discardDraft(id: $tr) { id } d: discardDraft(id: $faq) { id } }`, s.ids(), nil)
	for _, r := range draftReads {
		if strings.HasPrefix(r.name, "search") {
			continue
		}
		for who, h := range map[string][]string{"anonymous": nil, "viewer preview": preview(s.viewer)} {
			if got := s.read(t, r.query, h...); got != published[r.name] {
				t.Errorf("%s: %s after discard:\n got %s\nwant %s", r.name, who, got, published[r.name])
			}
		}
	}
}

// get runs a query over GET that must succeed and returns the body.
func (s *draftScene) get(t testing.TB, query string, headers ...string) string {
	t.Helper()
	r := s.do(t, getReq(query, s.ids(), headers...))
	if r.Status != http.StatusOK || len(r.Errors) > 0 {
		t.Fatalf("GET: HTTP %d %s\n%s", r.Status, r.Body, query)
	}
	return r.Body
}

// TestDrafts_CursorsWalkEachVersionsOrder pages through each list with
// small pages, following endCursor: without a preview the pages visit the
// live order, in a preview the drafts' order (moved by a rank, a position
// and renames), each item once.
func TestDrafts_CursorsWalkEachVersionsOrder(t *testing.T) {
	s := newDraftScene(t)
	walk := func(field, order string, size int, headers ...string) string {
		t.Helper()
		var out []string
		var after *string
		for range 50 {
			r := s.post(t, `query($n: Int, $after: String) { x: `+field+`(first: $n, after: $after`+order+`) { nodes { slug } pageInfo { hasNextPage endCursor } } }`,
				map[string]any{"n": size, "after": after}, headers...)
			var page struct {
				X struct {
					Nodes    []struct{ Slug string }
					PageInfo struct {
						HasNextPage bool
						EndCursor   *string
					}
				}
			}
			if len(r.Errors) > 0 || json.Unmarshal(r.Data, &page) != nil {
				t.Fatalf("%s: %s", field, r.Body)
			}
			for _, n := range page.X.Nodes {
				out = append(out, n.Slug)
			}
			if !page.X.PageInfo.HasNextPage {
				return strings.Join(out, " ")
			}
			after = page.X.PageInfo.EndCursor
		}
		t.Fatalf("%s: no last page", field)
		return ""
	}
	type list struct{ field, order string }
	lists := []list{{"trends", ""}, {"frameworks", ""}, {"companies", ""}, {"faqs", ""},
		{"companies", `, orderBy: [{field: NAME, direction: DESC}]`}, {"trends", `, orderBy: [{field: NAME}]`}}
	live := map[list]string{}
	for _, l := range lists {
		live[l] = walk(l.field, l.order, 100)
	}
	s.writeDrafts(t)
	replace := func(order, old, new string) string { return strings.Replace(order, old, new, 1) }
	move := func(order, slug, before string) string {
		order = strings.Replace(" "+order+" ", " "+slug+" ", " ", 1)
		if before == "" {
			return strings.TrimSpace(order) + " " + slug
		}
		return strings.TrimSpace(strings.Replace(order, " "+before+" ", " "+slug+" "+before+" ", 1))
	}
	want := map[list]string{
		lists[0]: move(live[lists[0]], "serverless-computing", ""),
		lists[1]: move(live[lists[1]], "go", ""),
		lists[2]: move(live[lists[2]], "uber", "razorpay"),
		lists[3]: move(live[lists[3]], "what-are-the-backend-development-trends-for-2024", ""),
		lists[4]: move(live[lists[4]], "uber", "prezi"),
		lists[5]: live[lists[5]],
	}
	slugs := map[string][2]string{"trends": {"serverless-computing", "serverless"}, "frameworks": {"go", "golang"},
		"companies": {"uber", "quokka-mobility"}, "faqs": {"what-are-the-backend-development-trends-for-2024", "quokka-trends"}}
	for l, w := range want {
		s := slugs[l.field]
		want[l] = strings.TrimSpace(replace(" "+w+" ", " "+s[0]+" ", " "+s[1]+" "))
	}
	for _, l := range lists {
		for _, size := range []int{1, 2, 7} {
			for who, h := range map[string][]string{"anonymous": nil, "viewer": bearer(s.viewer)} {
				if got := walk(l.field, l.order, size, h...); got != live[l] {
					t.Errorf("%s%s in pages of %d, %s: %s\nwant the live %s", l.field, l.order, size, who, got, live[l])
				}
			}
			if got := walk(l.field, l.order, size, preview(s.editor)...); got != want[l] {
				t.Errorf("%s%s in pages of %d, preview: %s\nwant %s", l.field, l.order, size, got, want[l])
			}
		}
	}
}

// TestDrafts_UnpublishedChangesForTokenHoldersOnly: hasUnpublishedChanges
// and unpublishedChanges tell token holders (with or without a preview)
// which fields a draft changes, with both values; anonymous callers get
// false and nothing; items without a draft, and drafts after publish or
// discard, have none.
func TestDrafts_UnpublishedChangesForTokenHoldersOnly(t *testing.T) {
	s := newDraftScene(t)
	s.writeDrafts(t)
	q := `query($fw: ID!, $tr: ID!, $co: ID!, $faq: ID!, $spotify: ID!) {
		nodes(ids: [$fw, $tr, $co, $faq, $spotify]) {
			... on Framework { hasUnpublishedChanges unpublishedChanges { field live draft } }
			... on Trend { hasUnpublishedChanges unpublishedChanges { field live draft } }
			... on Company { hasUnpublishedChanges unpublishedChanges { field live draft } }
			... on FAQ { hasUnpublishedChanges unpublishedChanges { field live draft } } } }`
	type fc struct {
		Field       string
		Live, Draft any
	}
	type item struct {
		HasUnpublishedChanges bool
		UnpublishedChanges    []fc
	}
	get := func(headers ...string) []item {
		t.Helper()
		var out struct{ Nodes []item }
		r := s.post(t, q, s.ids(), headers...)
		if len(r.Errors) > 0 || json.Unmarshal(r.Data, &out) != nil || len(out.Nodes) != 5 {
			t.Fatalf("%s", r.Body)
		}
		return out.Nodes
	}
	fields := func(it item) string {
		var f []string
		for _, c := range it.UnpublishedChanges {
			f = append(f, c.Field)
		}
		return strings.Join(f, ",")
	}
	for _, it := range get() {
		if it.HasUnpublishedChanges || len(it.UnpublishedChanges) != 0 {
			t.Errorf("anonymous callers learn of a draft: %+v", it)
		}
	}
	wantFields := []string{"slug,name,summary,companies", "slug,rank,name,frameworks,companies", "slug,name", "slug,position,question,frameworks,trends", ""}
	for who, h := range map[string][]string{"viewer": bearer(s.viewer), "editor": bearer(s.editor), "viewer preview": preview(s.viewer)} {
		got := get(h...)
		for i, it := range got {
			if it.HasUnpublishedChanges != (wantFields[i] != "") || fields(it) != wantFields[i] {
				t.Errorf("%s: item %d has %v, changes %s; want %s", who, i, it.HasUnpublishedChanges, fields(it), wantFields[i])
			}
		}
		if c := got[2].UnpublishedChanges; len(c) == 2 && (c[1].Live != "Uber" || c[1].Draft != "Quokka Mobility") {
			t.Errorf("%s: the company's name change is %+v", who, c[1])
		}
		if c := got[1].UnpublishedChanges; len(c) == 5 && (c[1].Live != float64(3) || c[1].Draft != float64(11)) {
			t.Errorf("%s: the trend's rank change is %+v", who, c[1])
		}
	}
	// Published or discarded: no pending changes left.
	s.gql(t, s.editor, `mutation($fw: ID!, $tr: ID!, $co: ID!, $faq: ID!) {
		a: publish(id: $fw) { id } b: discardDraft(id: $tr) { id } c: publish(id: $co) { id } d: discardDraft(id: $faq) { id } }`, s.ids(), nil)
	for _, it := range get(bearer(s.viewer)...) {
		if it.HasUnpublishedChanges || len(it.UnpublishedChanges) != 0 {
			t.Errorf("after publish and discard: %+v", it)
		}
	}
}

// TestDrafts_SearchSnippetsFollowThePreview: a preview's hits mark the
// draft's words in the draft's text; searches without one never show a
// draft's text, even for words the draft and the live version share.
func TestDrafts_SearchSnippetsFollowThePreview(t *testing.T) {
	s := newDraftScene(t)
	s.writeDrafts(t)
	type hits struct {
		Search struct {
			Nodes []struct {
				Node    struct{ ID string }
				Snippet string
			}
		}
	}
	find := func(q string, headers ...string) map[string]string {
		t.Helper()
		var out hits
		r := s.post(t, `query($q: String!) { search(query: $q) { nodes { node { id } snippet } } }`, map[string]any{"q": q}, headers...)
		if len(r.Errors) > 0 || json.Unmarshal(r.Data, &out) != nil {
			t.Fatal(r.Body)
		}
		m := map[string]string{}
		for _, n := range out.Search.Nodes {
			m[n.Node.ID] = n.Snippet
		}
		return m
	}
	p := find("quokka", preview(s.viewer)...)
	for id, want := range map[string]string{s.co: "<mark>Quokka</mark> Mobility", s.tr: "Serverless <mark>Quokka</mark> Computing",
		s.faq: "Which trends matter for <mark>quokkas</mark>?", s.fw: "<mark>Quokka</mark>-grade concurrency for the cloud."} {
		if p[id] != want {
			t.Errorf("preview snippet of %s = %q, want %q", id, p[id], want)
		}
	}
	// "serverless computing" is in both versions of the trend: one hit
	// each, from the version the caller reads.
	for who, h := range map[string][]string{"anonymous": nil, "viewer": bearer(s.viewer), "preview": preview(s.viewer)} {
		var out hits
		r := s.post(t, `{ search(query: "serverless computing", types: [TREND]) { nodes { node { id } snippet } } }`, nil, h...)
		if len(r.Errors) > 0 || json.Unmarshal(r.Data, &out) != nil {
			t.Fatal(r.Body)
		}
		if len(out.Search.Nodes) != 1 || out.Search.Nodes[0].Node.ID != s.tr {
			t.Errorf("%s: hits %+v, want the trend once", who, out.Search.Nodes)
		}
	}
	// Pages of a preview search visit each hit once.
	seen := map[string]bool{}
	var after *string
	for range 10 {
		var page struct {
			Search struct {
				TotalCount int
				Nodes      []struct{ Node struct{ ID string } }
				PageInfo   struct {
					HasNextPage bool
					EndCursor   *string
				}
			}
		}
		r := s.post(t, `query($after: String) { search(query: "quokka", first: 1, after: $after) { totalCount nodes { node { id } } pageInfo { hasNextPage endCursor } } }`,
			map[string]any{"after": after}, preview(s.viewer)...)
		if len(r.Errors) > 0 || json.Unmarshal(r.Data, &page) != nil || len(page.Search.Nodes) != 1 || page.Search.TotalCount != 4 {
			t.Fatalf("a page of a preview search: %s", r.Body)
		}
		if id := page.Search.Nodes[0].Node.ID; seen[id] {
			t.Errorf("a preview search's pages visit %s twice", id)
		}
		seen[page.Search.Nodes[0].Node.ID] = true
		if !page.Search.PageInfo.HasNextPage {
			break
		}
		after = page.Search.PageInfo.EndCursor
	}
	if len(seen) != 4 {
		t.Errorf("the pages of a preview search visit %d items, want 4", len(seen))
	}
	for who, h := range map[string][]string{"anonymous": nil, "viewer": bearer(s.viewer)} {
		for id, sn := range find("computing", h...) {
			if strings.Contains(sn, "Quokka") {
				t.Errorf("%s: the snippet of %s shows the draft: %q", who, id, sn)
			}
		}
	}
}

// TestDrafts_ResponseCacheNeverShowsADraft: an anonymous response cached
// before a draft is written stays the live one (the draft is no reason to
// refresh it, and a refresh would show the same); a preview is never
// answered from it nor stored in it for anonymous callers; publish makes
// the next anonymous read fresh. Over POST and GET.
func TestDrafts_ResponseCacheNeverShowsADraft(t *testing.T) {
	s := newDraftScene(t)
	q := `query($co: ID!, $fw: ID!) { trends(first: 3) { nodes { slug name } } company(id: $co) { name } framework(id: $fw) { name companies { slug } }
		faqs(first: 1) { nodes { question } } search(query: "quokka") { totalCount } }`
	fresh := `{ companies(first: 100) { nodes { name } } faq(slug: "quokka-trends") { question } }`
	reads := map[string]func(q string, headers ...string) string{
		"POST": func(q string, headers ...string) string { return s.read(t, q, headers...) },
		"GET":  func(q string, headers ...string) string { return s.get(t, q, headers...) },
	}
	before := map[string]string{}
	for name, read := range reads {
		read(q)
		hits := s.metric(t, "trendql_response_cache_hits_total")
		before[name] = read(q)
		if s.metric(t, "trendql_response_cache_hits_total") != hits+1 {
			t.Fatalf("%s: the anonymous read was not cached: the test proves nothing", name)
		}
	}
	s.writeDrafts(t)
	for name, read := range reads {
		if got := read(q); got != before[name] {
			t.Errorf("%s: the cached anonymous response shows the draft: %s", name, got)
		}
		p := read(q, preview(s.viewer)...)
		if !strings.Contains(p, "Quokka Mobility") || !strings.Contains(p, `"totalCount":4`) || !strings.Contains(p, `"name":"The Go Language"`) {
			t.Errorf("%s: the preview was answered from the anonymous cache: %s", name, p)
		}
		if got := read(q, bearer(s.viewer)...); got != before[name] {
			t.Errorf("%s: a token without a preview sees the draft: %s", name, got)
		}
		if got := read(q); got != before[name] {
			t.Errorf("%s: after a preview, the anonymous response shows the draft: %s", name, got)
		}
		// A query first asked in a preview: its answer is not kept for
		// anonymous callers.
		if p := read(fresh, preview(s.editor)...); !strings.Contains(p, "Quokka Mobility") || !strings.Contains(p, "quokkas") {
			t.Fatalf("%s: preview %s", name, p)
		}
		for range 2 {
			if a := read(fresh); strings.Contains(a, "Quokka") || !strings.Contains(a, `"faq":null`) {
				t.Errorf("%s: the anonymous read after a preview of the same query: %s", name, a)
			}
		}
	}
	s.gql(t, s.editor, publishAll, s.ids(), nil)
	for name, read := range reads {
		got := read(q)
		if !strings.Contains(got, "Quokka Mobility") || !strings.Contains(got, `"totalCount":4`) || !strings.Contains(got, `"name":"The Go Language"`) {
			t.Errorf("%s: the cached response is stale after publish: %s", name, got)
		}
		if a := read(fresh); !strings.Contains(a, "Quokka Mobility") || !strings.Contains(a, "quokkas") {
			t.Errorf("%s: stale after publish: %s", name, a)
		}
	}
}

// TestDrafts_NoPublicChannelCarriesADraft: draft edits of published items
// reach no anonymous channel — the changes feed and changesCursor,
// contentChanged and itemChanged over websocket, SSE and multipart, a
// webhook without drafts — and the publication reaches each of them once
// per item, in its public form. Token holders hear the draft edits; a
// preview subscription's node is the draft, one without a preview the live
// version.
func TestDrafts_NoPublicChannelCarriesADraft(t *testing.T) {
	s := newDraftScene(t)
	ctx := context.Background()
	rec, rc := newHookReceiver(t)
	var pub, all struct {
		CreateWebhook struct{ Webhook struct{ ID string } }
	}
	s.gql(t, s.admin, `mutation($u: String!) { createWebhook(input: {url: $u, includeDrafts: false}) { webhook { id } } }`, map[string]any{"u": rc.URL}, &pub)
	s.gql(t, s.admin, `mutation($u: String!) { createWebhook(input: {url: $u}) { webhook { id } } }`, map[string]any{"u": rc.URL}, &all)
	disp := webhook.New(webhook.Options{DB: s.DB, AllowPrivateTargets: true, BackoffBase: 10 * time.Millisecond})
	disp.Start()
	defer disp.Shutdown(ctx)

	var start struct{ ChangesCursor string }
	s.gql(t, "", `{ changesCursor }`, nil, &start)
	head := s.head(t)
	feedQ := `subscription($since: String) { contentChanged(since: $since) { ` + changeFields + ` } }`
	itemQ := `subscription($id: ID!, $since: String) { itemChanged(id: $id, since: $since) { ` + changeFields + ` } }`
	companyQ := `subscription($since: String) { contentChanged(since: $since, types: [COMPANY]) { ` + changeFields + ` } }`
	itemVars := map[string]any{"id": s.co, "since": head["since"]}
	anonWS, _ := dialWS(t, s.URL, nil, nil)
	anonWS.subscribe(t, "feed", feedQ, head)
	anonWS.subscribe(t, "item", itemQ, itemVars)
	anonSSE := openSSE(t, s.URL, "", feedQ, head)
	anonItemSSE := openSSE(t, s.URL, "", itemQ, itemVars)
	anonMP := openMultipart(t, s.URL, "", feedQ, head)
	// Token holders, with and without a preview, on each transport.
	viewerWS, ack := dialWS(t, s.URL, nil, map[string]any{"Authorization": "Bearer " + s.viewer})
	previewWS, pack := dialWS(t, s.URL, nil, map[string]any{"Authorization": "Bearer " + s.viewer, "preview": true})
	if ack.Type != "connection_ack" || pack.Type != "connection_ack" {
		t.Fatalf("connection_init: %+v %+v", ack, pack)
	}
	viewerWS.subscribe(t, "c", companyQ, head)
	previewWS.subscribe(t, "c", companyQ, head)
	previewHeader := http.Header{"Authorization": {"Bearer " + s.viewer}, graph.PreviewHeader: {"true"}}
	viewerSSE := openSSE(t, s.URL, s.viewer, companyQ, head)
	previewSSE := openSSEHeader(t, s.URL, previewHeader, companyQ, head)
	mp, res := tryMultipartHeader(t, s.URL, previewHeader, companyQ, head)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("preview multipart: HTTP %d", res.StatusCode)
	}
	go mp.read()
	previewMP := mp

	s.writeDrafts(t)

	// Token holders hear the company's draft edit: its node is the live
	// company without a preview, the draft in one.
	for name, got := range map[string][]change{"websocket": viewerWS.changes(t, 1), "SSE": viewerSSE.changes(t, 1)} {
		if got[0].Action != "UPDATE" || got[0].Node == nil || got[0].Node.Name != "Uber" || !strings.Contains(string(got[0].Revision.Document), "Quokka Mobility") {
			t.Errorf("viewer %s: %+v %s, want the draft's UPDATE with the live node", name, got[0], got[0].Revision.Document)
		}
	}
	for name, got := range map[string][]change{"websocket": previewWS.changes(t, 1), "SSE": previewSSE.changes(t, 1), "multipart": previewMP.changes(t, 1)} {
		if got[0].Action != "UPDATE" || got[0].Node == nil || got[0].Node.Name != "Quokka Mobility" {
			t.Errorf("preview %s: %+v, want the draft's UPDATE with the draft as node", name, got[0])
		}
	}
	// The anonymous cursor and feed do not move.
	var mid struct{ ChangesCursor string }
	s.gql(t, "", `{ changesCursor }`, nil, &mid)
	if mid.ChangesCursor != start.ChangesCursor {
		t.Errorf("the anonymous changesCursor moved on draft edits: %s → %s", start.ChangesCursor, mid.ChangesCursor)
	}
	if f := s.changes(t, "", map[string]any{"since": start.ChangesCursor}); len(f.Changes) != 0 || f.Cursor != start.ChangesCursor {
		t.Errorf("the anonymous feed after draft edits: %s, cursor %s", summary(f.Changes), f.Cursor)
	}
	if f := s.changes(t, s.viewer, map[string]any{"since": head["since"]}); len(f.Changes) != 5 {
		t.Errorf("the viewer's feed: %s, want the five draft edits", summary(f.Changes))
	}

	s.gql(t, s.editor, publishAll, s.ids(), nil)

	// Anonymous channels: the four publications first (a draft edit that
	// leaked would come before them), in their public form.
	checkPublications := func(channel string, got []change) {
		t.Helper()
		var items []string
		for _, c := range got {
			items = append(items, c.Action+" "+c.ItemID)
			if c.Revision.Actor != "" {
				t.Errorf("%s: actor %q", channel, c.Revision.Actor)
			}
		}
		want := []string{"PUBLISH " + s.fw, "PUBLISH " + s.tr, "PUBLISH " + s.co, "PUBLISH " + s.faq}
		if strings.Join(items, ", ") != strings.Join(want, ", ") {
			t.Errorf("%s: %s, want %s", channel, strings.Join(items, ", "), strings.Join(want, ", "))
		}
		if len(got) == 4 && (got[2].Node == nil || got[2].Node.Name != "Quokka Mobility" || !strings.Contains(string(got[2].Revision.Document), "quokka-mobility")) {
			t.Errorf("%s: the company's publication %+v %s", channel, got[2], got[2].Revision.Document)
		}
	}
	var wsFeed []change
	var wsItem []change
	for len(wsFeed) < 4 || len(wsItem) < 1 {
		m := anonWS.next(t)
		if m.Type != "next" {
			t.Fatalf("anonymous websocket: %s %s", m.Type, m.Payload)
		}
		if m.ID == "feed" {
			wsFeed = append(wsFeed, decodeChange(t, m.Payload))
		} else {
			wsItem = append(wsItem, decodeChange(t, m.Payload))
		}
	}
	checkPublications("websocket contentChanged", wsFeed)
	checkPublications("SSE contentChanged", anonSSE.changes(t, 4))
	checkPublications("multipart contentChanged", anonMP.changes(t, 4))
	for name, got := range map[string][]change{"websocket": wsItem, "SSE": anonItemSSE.changes(t, 1)} {
		if got[0].Action != "PUBLISH" || got[0].ItemID != s.co || !strings.Contains(string(got[0].Revision.Document), "Quokka Mobility") {
			t.Errorf("anonymous itemChanged %s: %+v", name, got[0])
		}
	}
	feed := s.changes(t, "", map[string]any{"since": start.ChangesCursor})
	checkPublications("the changes feed", feed.Changes)
	anonWS.quiet(t)

	waitFor(t, "the webhooks to receive their changes", func() bool {
		p, _ := rec.events(pub.CreateWebhook.Webhook.ID)
		a, _ := rec.events(all.CreateWebhook.Webhook.ID)
		return len(p) >= 4 && len(a) >= 9
	})
	pubGot, _ := rec.events(pub.CreateWebhook.Webhook.ID)
	var actions []string
	for _, p := range pubGot {
		id := ""
		if p.Event.ItemID != nil {
			id = *p.Event.ItemID
		}
		actions = append(actions, p.Event.Action+" "+id)
		if p.Event.Actor != "" {
			t.Errorf("the webhook without drafts got the actor %q", p.Event.Actor)
		}
	}
	// Each change is its own delivery, sent concurrently: compare as sets.
	want := []string{"PUBLISH " + s.fw, "PUBLISH " + s.tr, "PUBLISH " + s.co, "PUBLISH " + s.faq}
	slices.Sort(actions)
	slices.Sort(want)
	if got, want := strings.Join(actions, ", "), strings.Join(want, ", "); got != want {
		t.Errorf("the webhook without drafts got %s, want %s", got, want)
	}
	allGot, _ := rec.events(all.CreateWebhook.Webhook.ID)
	if len(allGot) != 9 {
		t.Errorf("the webhook with drafts got %d events, want the 5 draft edits and the 4 publications", len(allGot))
	}
}

// stateQuery reads every item's version and pending-draft flag.
const stateQuery = `{ trends { nodes { id slug rank name version updatedAt hasUnpublishedChanges } }
	frameworks { nodes { id slug name summary version updatedAt hasUnpublishedChanges companies { slug } } }
	companies(first: 100) { nodes { id slug name version updatedAt hasUnpublishedChanges } }
	faqs { nodes { id slug position question version updatedAt hasUnpublishedChanges trends { slug } } } }`

// state is everything a refused request could have changed: the
// snapshot (content, event count, tokens), the preview and the live
// content with versions and pending-draft flags.
func (s *draftScene) state(t testing.TB) string {
	t.Helper()
	return snapshot(t, s.env) + "\npreview: " + s.read(t, stateQuery, preview(s.admin)...) + "\nlive: " + s.read(t, stateQuery, bearer(s.admin)...)
}

// TestDrafts_BadPreviewSwitchIsRefusedEverywhere: the preview header
// without a token is 401 UNAUTHENTICATED, a value other than true or false
// is 400 BAD_USER_INPUT on the header, on every HTTP transport (GET, POST,
// SSE, multipart) and for mutations too, which then write nothing; over a
// websocket, preview: true without a token closes with 4403 and a preview
// that is not a boolean with 4400.
func TestDrafts_BadPreviewSwitchIsRefusedEverywhere(t *testing.T) {
	s := newDraftScene(t)
	s.writeDrafts(t)
	before := s.state(t)
	query := `{ companies(first: 100) { totalCount } }`
	sub := `subscription { contentChanged { action } }`
	mut := `mutation($co: ID!) { updateCompany(id: $co, input: {name: "Refused"}) { id } }`
	type transport struct {
		name string
		req  func(headers ...string) *http.Request
	}
	post := func(q, accept string) func(headers ...string) *http.Request {
		return func(headers ...string) *http.Request {
			body, _ := json.Marshal(map[string]any{"query": q, "variables": s.ids()})
			r := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(string(body)))
			r.Header.Set("Content-Type", "application/json")
			r.Header.Set("Accept", accept)
			for i := 0; i+1 < len(headers); i += 2 {
				r.Header.Set(headers[i], headers[i+1])
			}
			return r
		}
	}
	transports := []transport{
		{"POST", post(query, "application/json")},
		{"GET", func(headers ...string) *http.Request { return getReq(query, nil, headers...) }},
		{"SSE", post(sub, "text/event-stream")},
		{"multipart", post(sub, acceptApolloMP)},
		{"POST mutation", post(mut, "application/json")},
	}
	cases := []struct {
		name    string
		headers []string
		status  int
		code    string
	}{
		{"preview without a token", []string{graph.PreviewHeader, "true"}, http.StatusUnauthorized, "UNAUTHENTICATED"},
		{"preview without a token, in capitals", []string{graph.PreviewHeader, "TRUE"}, http.StatusUnauthorized, "UNAUTHENTICATED"},
		{"preview yes", append(bearer(s.editor), graph.PreviewHeader, "yes"), http.StatusBadRequest, "BAD_USER_INPUT"},
		{"preview 1", append(bearer(s.editor), graph.PreviewHeader, "1"), http.StatusBadRequest, "BAD_USER_INPUT"},
		{"preview true, true", append(bearer(s.editor), graph.PreviewHeader, "true, true"), http.StatusBadRequest, "BAD_USER_INPUT"},
		{"preview yes without a token", []string{graph.PreviewHeader, "yes"}, http.StatusBadRequest, "BAD_USER_INPUT"},
	}
	for _, c := range cases {
		for _, tr := range transports {
			t.Run(c.name+" over "+tr.name, func(t *testing.T) {
				r := s.do(t, tr.req(c.headers...))
				if r.Status != c.status || r.code() != c.code {
					t.Fatalf("HTTP %d %q, want %d %s: %s", r.Status, r.code(), c.status, c.code, r.Body)
				}
				if c.code == "BAD_USER_INPUT" && r.Errors[0].Extensions["field"] != graph.PreviewHeader {
					t.Errorf("extensions.field = %v, want %s: %s", r.Errors[0].Extensions["field"], graph.PreviewHeader, r.Body)
				}
				if c.status == http.StatusUnauthorized && !strings.HasPrefix(r.Header.Get("WWW-Authenticate"), "Bearer") {
					t.Errorf("no WWW-Authenticate challenge: %v", r.Header)
				}
				if len(r.Data) > 0 && string(r.Data) != "null" {
					t.Errorf("a refused request has data: %s", r.Body)
				}
				assertNoLeak(t, r.Body)
			})
		}
	}
	// "false" is the default, spelled out.
	if got, want := s.read(t, query, graph.PreviewHeader, "false"), s.read(t, query); got != want {
		t.Errorf("preview false: %s, want %s", got, want)
	}
	for _, c := range []struct {
		name    string
		payload map[string]any
		code    int
	}{
		{"preview without a token", map[string]any{"preview": true}, 4403},
		{"preview with a bad token", map[string]any{"preview": true, "Authorization": "Bearer tql_1_nope"}, 4403},
		{"preview yes", map[string]any{"preview": "yes", "Authorization": "Bearer " + s.viewer}, 4400},
		{"preview yes without a token", map[string]any{"preview": "yes"}, 4400},
		{"preview 1", map[string]any{"preview": 1, "Authorization": "Bearer " + s.viewer}, 4400},
	} {
		t.Run("websocket "+c.name, func(t *testing.T) {
			_, first := dialWS(t, s.URL, nil, c.payload)
			if first.Type != "closed" || first.Close == nil || int(first.Close.Code) != c.code {
				t.Errorf("connection_init %v: %+v %s, want close %d", c.payload, first, first.Close, c.code)
			}
		})
	}
	// preview: false with no token is an anonymous connection; the token
	// may also come with the upgrade request instead of the payload.
	if _, ack := dialWS(t, s.URL, nil, map[string]any{"preview": false}); ack.Type != "connection_ack" {
		t.Errorf("preview false: %+v", ack)
	}
	ws, ack := dialWS(t, s.URL, http.Header{"Authorization": {"Bearer " + s.viewer}}, map[string]any{"preview": true})
	if ack.Type != "connection_ack" {
		t.Fatalf("preview with the token on the upgrade: %+v", ack)
	}
	ws.send(t, wsMsg{ID: "q", Type: "subscribe", Payload: json.RawMessage(`{"query":"{ company(slug: \"quokka-mobility\") { name } }"}`)})
	if m := ws.next(t); m.Type != "next" || !strings.Contains(string(m.Payload), "Quokka Mobility") {
		t.Errorf("a query over the preview websocket: %s %s", m.Type, m.Payload)
	}
	if after := s.state(t); after != before {
		t.Fatalf("a refused request changed something:\n%s", diff(before, after))
	}
}

// TestDrafts_BadPublishAndDiscardChangeNothing: publishing a published item
// with no draft, discarding where there is no draft, and a stale ifVersion
// on either are refused with a coded error naming the field; alone or as
// the k-th mutation of a request, nothing at all is written.
func TestDrafts_BadPublishAndDiscardChangeNothing(t *testing.T) {
	s := newDraftScene(t)
	var google struct{ Company struct{ ID string } }
	s.gql(t, "", `{ company(slug: "google") { id } }`, nil, &google)
	draftCo := s.createCompany(t, "Never Published")
	s.writeDrafts(t)
	var v struct {
		Company struct{ Version int }
	}
	r := s.post(t, `query($co: ID!) { company(id: $co) { version } }`, s.ids(), preview(s.viewer)...)
	if json.Unmarshal(r.Data, &v) != nil || v.Company.Version < 2 {
		t.Fatalf("the draft's version: %s", r.Body)
	}
	// The ids and versions go into the documents as literals.
	lit := strings.NewReplacer("$google", `"`+google.Company.ID+`"`, "$draft", `"`+draftCo+`"`, "$fw", `"`+s.fw+`"`, "$tr", `"`+s.tr+`"`,
		"$co", `"`+s.co+`"`, "$faq", `"`+s.faq+`"`, "$spotify", `"`+s.spotify+`"`,
		"$stale", strconv.Itoa(v.Company.Version-1), "$current", strconv.Itoa(v.Company.Version))
	cases := []struct {
		name, body, path, code, field string
	}{
		{"publish a published item with no draft", `bad: publish(id: $google) { id }`, "bad", "BAD_USER_INPUT", "id"},
		{"discard where there is no draft", `bad: discardDraft(id: $google) { id }`, "bad", "BAD_USER_INPUT", "id"},
		{"discard a DRAFT item", `bad: discardDraft(id: $draft) { id }`, "bad", "BAD_USER_INPUT", "id"},
		{"discard at a stale version", `bad: discardDraft(id: $co, ifVersion: $stale) { id }`, "bad", "CONFLICT", "ifVersion"},
		{"publish at a stale version", `bad: publish(id: $co, ifVersion: $stale) { id }`, "bad", "CONFLICT", "ifVersion"},
		{"edit at the live version, not the draft's", `bad: updateCompany(id: $co, input: {name: "Stale"}, ifVersion: $stale) { id }`, "bad", "CONFLICT", "ifVersion"},
		{"discard a revision id", `bad: discardDraft(id: "UmV2aXNpb246MQ") { id }`, "bad", "BAD_USER_INPUT", "id"},
		{"discard an unknown item", `bad: discardDraft(id: "Q29tcGFueTo5OTk5OTk") { id }`, "bad", "NOT_FOUND", ""},
		{"an edit, then publishing an item with no draft", `a: updateCompany(id: $spotify, input: {name: "Half"}) { id } bad: publish(id: $google) { id }`, "bad", "BAD_USER_INPUT", "id"},
		{"a publish, then a discard with none", `a: publish(id: $fw) { id } b: publish(id: $co, ifVersion: $current) { id } bad: discardDraft(id: $google) { id }`, "bad", "BAD_USER_INPUT", "id"},
		{"a discard, then a publish with none", `a: discardDraft(id: $tr) { id } bad: publish(id: $google) { id } c: discardDraft(id: $faq) { id }`, "bad", "BAD_USER_INPUT", "id"},
		{"publish, then discard the draft just published", `a: updateFAQ(id: $faq, input: {answer: "More"}) { id } b: publish(id: $faq) { id } bad: discardDraft(id: $faq) { id }`, "bad", "BAD_USER_INPUT", "id"},
		{"discard, then publish the draft just discarded", `a: discardDraft(id: $co) { id } bad: publish(id: $co) { id }`, "bad", "BAD_USER_INPUT", "id"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := s.state(t)
			r := s.post(t, "mutation { "+lit.Replace(c.body)+" }", nil, bearer(s.editor)...)
			if string(r.Data) != "null" || len(r.Errors) != 1 {
				t.Fatalf("want data null and one error: %s", r.Body)
			}
			e := r.Errors[0]
			if r.code() != c.code || (c.field != "" && e.Extensions["field"] != c.field) || len(e.Path) != 1 || e.Path[0] != c.path {
				t.Errorf("got %s on %v at %v, want %s on %q at [%s]: %s", r.code(), e.Extensions["field"], e.Path, c.code, c.field, c.path, r.Body)
			}
			assertNoLeak(t, r.Body)
			if after := s.state(t); after != before {
				t.Fatalf("the refused request changed something:\n%s", diff(before, after))
			}
		})
	}
}

// TestDrafts_PreviewCostsAConstantNumberOfStatements: a preview of a page
// of frameworks with their companies, trends and pending changes costs the
// same number of SQL statements for one framework as for all of them,
// whether none or every one of them has a draft; so does the same page
// without a preview, for token holders and anonymous callers.
func TestDrafts_PreviewCostsAConstantNumberOfStatements(t *testing.T) {
	s := newDraftScene(t)
	q := `query($n: Int) { frameworks(first: $n) { totalCount nodes { slug name companies { slug name frameworks { slug } }
		trends { slug companies { slug } } faqs { slug } hasUnpublishedChanges unpublishedChanges { field live draft } } } }`
	nonce := 0
	cost := func(n int, headers ...string) int64 {
		t.Helper()
		// A variable of its own: never answered from the response cache.
		nonce++
		before := s.DB.QueryCount()
		r := s.post(t, q, map[string]any{"n": n, "nonce": nonce}, headers...)
		var out struct {
			Frameworks struct{ Nodes []any }
		}
		if len(r.Errors) > 0 || json.Unmarshal(r.Data, &out) != nil || len(out.Frameworks.Nodes) != n {
			t.Fatalf("first %d: %s", n, r.Body)
		}
		return s.DB.QueryCount() - before
	}
	// Every relation, schedule and draft field of a page is fetched for
	// the whole page by its first item (siblings), not batched by a time
	// window: the count is exact, even on a busy machine, so one try each
	// and the same count every time (once the row cache is warm).
	check := func(when string) {
		t.Helper()
		for who, h := range map[string][]string{"preview": preview(s.viewer), "viewer": bearer(s.viewer), "anonymous": nil} {
			cost(6, h...) // the row cache's first read of a row costs one statement more
			one, two, all := cost(1, h...), cost(2, h...), cost(6, h...)
			if again := cost(6, h...); again != all {
				t.Errorf("%s, %s: 6 frameworks cost %d statements, then %d", when, who, all, again)
			}
			t.Logf("%s, %s: %d statements for 1 framework, %d for 2, %d for 6", when, who, one, two, all)
			if two != one || all != one {
				t.Errorf("%s, %s: %d statements for 1 framework, %d for 2, %d for 6", when, who, one, two, all)
			}
		}
	}
	check("no drafts")
	var fws struct {
		Frameworks struct{ Nodes []struct{ ID string } }
	}
	s.gql(t, "", `{ frameworks { nodes { id } } }`, nil, &fws)
	for i, f := range fws.Frameworks.Nodes {
		s.gql(t, s.editor, `mutation($id: ID!, $c: [ID!], $s: String!) { updateFramework(id: $id, input: {summary: $s, companies: $c}) { id } }`,
			map[string]any{"id": f.ID, "c": []string{s.spotify, s.co}, "s": "Draft summary " + strconv.Itoa(i)}, nil)
	}
	s.gql(t, s.editor, `mutation($co: ID!, $spotify: ID!) { a: updateCompany(id: $co, input: {name: "Uber Draft"}) { id }
		b: updateCompany(id: $spotify, input: {name: "Spotify Draft"}) { id } }`, s.ids(), nil)
	check("every framework and its companies drafted")
}

// TestDrafts_PreviewFromABrowserFrontend: a frontend on another origin
// can send the preview header (the CORS preflight allows it), and the
// preview it gets is never stored by a shared or browser cache.
func TestDrafts_PreviewFromABrowserFrontend(t *testing.T) {
	e := newEnv(t, func(o *graph.Options) { o.CORSOrigins = []string{"https://preview.example"} })
	viewer := token(t, e, "viewer")
	pre := httptest.NewRequest(http.MethodOptions, "/graphql", nil)
	pre.Header.Set("Origin", "https://preview.example")
	pre.Header.Set("Access-Control-Request-Method", "GET")
	pre.Header.Set("Access-Control-Request-Headers", "authorization, x-trendql-preview")
	rec := httptest.NewRecorder()
	e.Handler.ServeHTTP(rec, pre)
	allowed := strings.ToLower(rec.Header().Get("Access-Control-Allow-Headers"))
	if rec.Header().Get("Access-Control-Allow-Origin") != "https://preview.example" || !strings.Contains(allowed, "x-trendql-preview") {
		t.Fatalf("preflight for a preview: %d %v", rec.Code, rec.Header())
	}
	for _, req := range []*http.Request{
		getReq(`{ companies { totalCount } }`, nil, append(bearer(viewer), graph.PreviewHeader, "true", "Origin", "https://preview.example")...),
		jsonReq(`{"query":"{ companies { totalCount } }"}`),
	} {
		req.Header.Set("Origin", "https://preview.example")
		req.Header.Set("Authorization", "Bearer "+viewer)
		req.Header.Set(graph.PreviewHeader, "true")
		r := e.do(t, req)
		if r.Status != http.StatusOK || r.Header.Get("Access-Control-Allow-Origin") != "https://preview.example" {
			t.Errorf("%s preview from the frontend: %d %v", req.Method, r.Status, r.Header)
		}
		if cc := r.Header.Get("Cache-Control"); !strings.Contains(cc, "no-store") || strings.Contains(cc, "public") {
			t.Errorf("%s preview: Cache-Control %q, want private, no-store", req.Method, cc)
		}
	}
}

// TestDrafts_MutationAnswersReadThePreview: a script reads back what it
// wrote, nested fields included, even without the preview header; ifVersion
// is the draft's version; unpublishing keeps a draft's edits as the item's
// content.
func TestDrafts_MutationAnswersReadThePreview(t *testing.T) {
	s := newDraftScene(t)
	s.writeDrafts(t)
	var out struct {
		UpdateTrend struct {
			Name, Slug            string
			Rank, Version         int
			HasUnpublishedChanges bool
			Frameworks            []struct {
				Name      string
				Companies []struct{ Name string }
			}
			Faqs []struct{ Question string }
		}
	}
	var live struct{ Trend struct{ Version int } }
	s.gql(t, s.viewer, `query($tr: ID!) { trend(id: $tr) { version } }`, s.ids(), &live)
	var draft struct{ Trend struct{ Version int } }
	r := s.post(t, `query($tr: ID!) { trend(id: $tr) { version } }`, s.ids(), preview(s.viewer)...)
	if json.Unmarshal(r.Data, &draft) != nil || draft.Trend.Version <= live.Trend.Version {
		t.Fatalf("the draft's version %d is not above the live %d: %s", draft.Trend.Version, live.Trend.Version, r.Body)
	}
	vars := s.ids()
	vars["v"] = draft.Trend.Version
	s.gql(t, s.editor, `mutation($tr: ID!, $v: Int) { updateTrend(id: $tr, input: {summary: "Read back"}, ifVersion: $v) {
		name slug rank version hasUnpublishedChanges frameworks { name companies { name } } faqs { question } } }`, vars, &out)
	u := out.UpdateTrend
	if u.Name != "Serverless Quokka Computing" || u.Slug != "serverless" || u.Rank != 11 || u.Version != draft.Trend.Version+1 || !u.HasUnpublishedChanges {
		t.Errorf("the mutation answered %+v, want the draft at version %d", u, draft.Trend.Version+1)
	}
	if len(u.Frameworks) != 1 || u.Frameworks[0].Name != "The Go Language" || len(u.Frameworks[0].Companies) != 2 ||
		u.Frameworks[0].Companies[0].Name != "Quokka Mobility" || len(u.Faqs) != 1 || u.Faqs[0].Question != "Which trends matter for quokkas?" {
		t.Errorf("nested fields of the answer are not the preview: %+v", u)
	}

	// Unpublish keeps the draft's edits: a DRAFT item with the draft's
	// content, no pending changes, hidden from anonymous callers; publish
	// shows that content to everyone.
	var un struct {
		Unpublish struct {
			Name, Status          string
			HasUnpublishedChanges bool
		}
	}
	s.gql(t, s.editor, `mutation($co: ID!) { unpublish(id: $co) { ... on Company { name status hasUnpublishedChanges } } }`, s.ids(), &un)
	if un.Unpublish.Name != "Quokka Mobility" || un.Unpublish.Status != "DRAFT" || un.Unpublish.HasUnpublishedChanges {
		t.Errorf("unpublish answered %+v", un.Unpublish)
	}
	var got struct {
		Company *struct{ Name, Slug string }
	}
	s.gql(t, s.viewer, `query($co: ID!) { company(id: $co) { name slug } }`, s.ids(), &got)
	if got.Company == nil || got.Company.Name != "Quokka Mobility" || got.Company.Slug != "quokka-mobility" {
		t.Errorf("a viewer without a preview reads the unpublished company as %+v", got.Company)
	}
	got.Company = nil
	s.gql(t, "", `query($co: ID!) { company(id: $co) { name slug } }`, s.ids(), &got)
	if got.Company != nil {
		t.Errorf("anonymous callers read the unpublished company: %+v", got.Company)
	}
	s.gql(t, s.editor, `mutation($co: ID!) { publish(id: $co) { id } }`, s.ids(), nil)
	s.gql(t, "", `query($co: ID!) { company(id: $co) { name slug } }`, s.ids(), &got)
	if got.Company == nil || got.Company.Name != "Quokka Mobility" {
		t.Errorf("after publish, anonymous callers read %+v", got.Company)
	}
}
