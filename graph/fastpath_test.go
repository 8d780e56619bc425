package graph_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/trendql/trendql/bench/benchdata"
	"github.com/trendql/trendql/db"
	"github.com/trendql/trendql/db/dbtest"
	"github.com/trendql/trendql/graph"
)

// The compiled read path must answer exactly as gqlgen does. These tests
// generate random valid read operations from the schema and send each one
// to two handlers over one database, one with the fast path and one
// without, as anonymous callers, viewers and viewers in preview, and
// require byte-identical answers (status, content type and body).

// diffEnv is a database with two handlers over it: fast (the default) and
// slow (gqlgen alone), and the request headers of each kind of caller.
type diffEnv struct {
	d          *db.DB
	fast, slow http.Handler
	// plain is gqlgen's execution over the same database opened without
	// the row cache: the general path for both the fast path and the
	// cache.
	plain   http.Handler
	callers map[string]map[string]string
	// known values the generator picks arguments from
	slugs, ids, cursors map[string][]string
}

func newDiffEnv(t testing.TB, d *db.DB) *diffEnv {
	t.Helper()
	giveDrafts(t, d)
	_, secret, err := d.CreateToken(context.Background(), "diff", db.RoleViewer, 0)
	if err != nil {
		t.Fatal(err)
	}
	uncached, _, err := db.Open(context.Background(), d.Path(), db.Options{RowCacheBytes: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { uncached.Close() })
	e := &diffEnv{
		d:     d,
		fast:  graph.NewHandler(graph.Options{DB: d, ResponseCacheEntries: -1}),
		slow:  graph.NewHandler(graph.Options{DB: d, ResponseCacheEntries: -1, DisableFastReads: true}),
		plain: graph.NewHandler(graph.Options{DB: uncached, ResponseCacheEntries: -1, DisableFastReads: true}),
		callers: map[string]map[string]string{
			"anonymous": {},
			"viewer":    {"Authorization": "Bearer " + secret},
			"preview":   {"Authorization": "Bearer " + secret, "X-Trendql-Preview": "true"},
		},
		slugs: map[string][]string{}, ids: map[string][]string{}, cursors: map[string][]string{},
	}
	for _, ti := range genTypes {
		status, _, body := e.serve(t, e.slow, e.callers["preview"], fmt.Sprintf(`{ %s(first: 100) { edges { cursor node { id slug } } } }`, ti.conn), nil)
		var out struct {
			Data map[string]struct {
				Edges []struct {
					Cursor string
					Node   struct{ ID, Slug string }
				}
			}
		}
		if err := json.Unmarshal(body, &out); err != nil || status != 200 {
			t.Fatalf("listing %s: %d %s", ti.conn, status, body)
		}
		for _, e2 := range out.Data[ti.conn].Edges {
			e.slugs[ti.name] = append(e.slugs[ti.name], e2.Node.Slug)
			e.ids[ti.name] = append(e.ids[ti.name], e2.Node.ID)
			e.cursors[ti.name] = append(e.cursors[ti.name], e2.Cursor)
		}
	}
	return e
}

// giveDrafts gives some published items a pending draft, and adds an item
// that is only a draft, so that the callers see different content.
func giveDrafts(t testing.TB, d *db.DB) {
	t.Helper()
	ctx := db.WithPrincipal(context.Background(), &db.Principal{Name: "diff", Role: db.RoleEditor})
	fws, err := d.Frameworks(ctx, nil, nil, db.PageArgs{First: ptrInt(6)})
	if err != nil {
		t.Fatal(err)
	}
	for i, f := range fws.Items {
		if i%2 == 1 {
			continue
		}
		s := f.Summary + " (draft \"edit\")"
		if _, err := d.UpdateFramework(ctx, f.RowID, db.FrameworkPatch{Summary: &s}, nil); err != nil {
			t.Fatal(err)
		}
	}
	trs, err := d.Trends(ctx, nil, nil, db.PageArgs{First: ptrInt(4)})
	if err != nil {
		t.Fatal(err)
	}
	for i, tr := range trs.Items {
		if i%2 == 0 {
			continue
		}
		n := tr.Name + " — \"draft\" <b>&</b>"
		if _, err := d.UpdateTrend(ctx, tr.RowID, db.TrendPatch{Name: &n}, nil); err != nil {
			t.Fatal(err)
		}
	}
	name := "Aardvark Draft Co"
	if _, err := d.CreateCompany(ctx, db.CompanyPatch{Name: &name}); err != nil {
		t.Fatal(err)
	}
}

func (e *diffEnv) serve(t testing.TB, h http.Handler, headers map[string]string, query string, vars map[string]any) (int, string, []byte) {
	t.Helper()
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Code, headerSig(rec.Header()), rec.Body.Bytes()
}

// headerSig is the headers an answer must share with gqlgen's.
func headerSig(h http.Header) string {
	return fmt.Sprintf("type=%q etag=%q cache-control=%q vary=%q", h.Get("Content-Type"), h.Get("ETag"), h.Get("Cache-Control"), h.Values("Vary"))
}

// same sends one operation to both handlers as one caller and fails the
// test unless the answers are identical.
func (e *diffEnv) same(t testing.TB, caller, query string, vars map[string]any) {
	t.Helper()
	h := e.callers[caller]
	s1, c1, b1 := e.serve(t, e.fast, h, query, vars)
	s2, c2, b2 := e.serve(t, e.slow, h, query, vars)
	if s1 != s2 || c1 != c2 || !bytes.Equal(b1, b2) && !sameErrors(b1, b2) {
		vj, _ := json.Marshal(vars)
		t.Fatalf("the fast path answers differently, as %s:\n%s\nvariables: %s\nfast: %d %s %s\nslow: %d %s %s",
			caller, query, vj, s1, c1, b1, s2, c2, b2)
	}
	s3, c3, b3 := e.serve(t, e.plain, h, query, vars)
	if s1 != s3 || c1 != c3 || !bytes.Equal(b1, b3) && !sameErrors(b1, b3) {
		vj, _ := json.Marshal(vars)
		t.Fatalf("the row cache changes the answer, as %s:\n%s\nvariables: %s\ncached: %d %s %s\nwithout: %d %s %s",
			caller, query, vj, s1, c1, b1, s3, c3, b3)
	}
}

// sameErrors reports whether two answers with errors differ only in the
// order of their errors. Those come from gqlgen on both sides (the fast
// path leaves every error to it), which resolves root fields concurrently:
// their errors arrive in any order.
func sameErrors(a, b []byte) bool {
	var ra, rb struct {
		Data   json.RawMessage   `json:"data"`
		Errors []json.RawMessage `json:"errors"`
	}
	if json.Unmarshal(a, &ra) != nil || json.Unmarshal(b, &rb) != nil || len(ra.Errors) < 2 || len(ra.Errors) != len(rb.Errors) {
		return false
	}
	key := func(l []json.RawMessage) string {
		s := make([]string, len(l))
		for i, e := range l {
			s[i] = string(e)
		}
		slices.Sort(s)
		return strings.Join(s, "\n")
	}
	return bytes.Equal(ra.Data, rb.Data) && key(ra.Errors) == key(rb.Errors)
}

// served reads how many queries the fast path answered itself.
func served(t testing.TB, h http.Handler) float64 {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	for _, line := range strings.Split(rec.Body.String(), "\n") {
		if strings.HasPrefix(line, `trendql_fast_reads_total{outcome="served"}`) {
			var v float64
			fmt.Sscan(strings.Fields(line)[1], &v)
			return v
		}
	}
	return 0
}

// diffRun sends generated operations (from seeds 1, 2, …) until the
// budget is spent, as every kind of caller, and checks that the fast path
// served most of them.
func diffRun(t *testing.T, e *diffEnv, budget time.Duration, minOps int) {
	start := time.Now()
	n := 0
	callers := []string{"anonymous", "viewer", "preview"}
	for seed := uint64(1); n < minOps || time.Since(start) < budget; seed++ {
		g := newGen(seed, e)
		q, vars := g.operation()
		e.same(t, callers[seed%3], q, vars)
		n++
	}
	got := served(t, e.fast)
	t.Logf("%d operations in %v, %v served by the fast path", n, time.Since(start).Round(time.Millisecond), got)
	if got < float64(n)/3 {
		t.Errorf("the fast path served %v of %d operations: the generator hardly tests it", got, n)
	}
}

// TestFastPath_SameAnswersAsGqlgen_Seeded compares both paths on the
// article's content.
func TestFastPath_SameAnswersAsGqlgen_Seeded(t *testing.T) {
	env := newEnv(t)
	e := newDiffEnv(t, env.DB)
	for _, q := range fastPathCases {
		for c := range e.callers {
			e.same(t, c, q, map[string]any{"yes": true, "no": false})
		}
	}
	diffRun(t, e, 3*time.Second, 150)
}

// TestFastPath_SameAnswersAsGqlgen_Generated compares both paths on the
// generated set of the load test (2,000 companies, 10,000 frameworks with
// 5 companies each, 5,000 trends with ≈1.5 KB bodies).
func TestFastPath_SameAnswersAsGqlgen_Generated(t *testing.T) {
	e := newDiffEnv(t, openGenerated(t))
	diffRun(t, e, 3*time.Second, 60)
}

// fastPathCases are hand-written operations worth checking every time.
var fastPathCases = []string{
	`{ trends(first: 3) { nodes { id name framework { name companies { name } } } } }`,
	`{ a: trends(first: 2) { totalCount t2: totalCount pageInfo { hasNextPage endCursor } } b: trends(last: 2) { edges { cursor node { rank } } } }`,
	`query($yes: Boolean!, $no: Boolean!) { frameworks(first: 5) { nodes { name @include(if: $yes) slug @skip(if: $yes) ...F } } } fragment F on Framework { kind language @include(if: $no) companies { __typename name } }`,
	`{ framework(slug: "django") { ... on Node { id } ... on Framework { name trends { name } } } }`,
	`{ trend(slug: "nope") { name } company(id: "bad") { name } }`,
	`{ trend(id: "VHJlbmQ6MQ", slug: "x") { name } }`,
	`{ faqs { nodes { question items frameworks { name } trends { rank } } } }`,
	`{ companies(first: 101) { nodes { name } } }`,
	`{ frameworks(after: "garbage") { nodes { name } } }`,
	`{ __typename trends(first: 1) { __typename edges { __typename node { __typename } } pageInfo { __typename } } }`,
	`{ trends(first: 1) { nodes { name publishAt hasUnpublishedChanges } } }`,
	`{ article { title } trends(first: 1) { nodes { name } } }`,
	`{ companies(filter: {name: {contains: "o"}}, orderBy: [{field: NAME, direction: DESC}]) { totalCount nodes { name frameworks { name } trends { name } } } }`,
}

// genType describes a content type for the generator.
type genType struct {
	name, conn, one string
	scalars         []string
	rels            map[string]string // field → type
	filters         []string
	orders          []string
}

var genTypes = []*genType{
	{name: "Trend", conn: "trends", one: "trend",
		scalars: []string{"id", "slug", "rank", "name", "category", "summary", "body", "highlights", "examples", "status", "version", "createdAt", "updatedAt", "publishedAt"},
		rels:    map[string]string{"framework": "Framework", "frameworks": "Framework", "companies": "Company", "faqs": "FAQ"},
		filters: []string{`{rank: {gte: 3}}`, `{category: {eq: FRAMEWORK}}`, `{name: {contains: "a"}}`, `{status: {eq: DRAFT}}`,
			`{OR: [{rank: {lt: 3}}, {name: {startsWith: "S"}}]}`, `{framework: {slug: "django"}}`, `{NOT: {rank: {in: [1, 2]}}}`, `{company: {slug: "company-0001"}}`},
		orders: []string{`[{field: NAME, direction: DESC}]`, `[{field: RANK}]`, `[{field: UPDATED_AT, direction: DESC}, {field: NAME}]`, `[{field: CREATED_AT}]`},
	},
	{name: "Framework", conn: "frameworks", one: "framework",
		scalars: []string{"id", "slug", "name", "kind", "language", "creator", "firstReleased", "architecture", "summary", "features", "status", "version", "createdAt", "updatedAt", "publishedAt"},
		rels:    map[string]string{"companies": "Company", "trends": "Trend", "faqs": "FAQ"},
		filters: []string{`{kind: {eq: LANGUAGE}}`, `{language: {eq: "Python"}}`, `{firstReleased: {isNull: false}}`, `{name: {startsWith: "D"}}`,
			`{company: {slug: "company-0002"}}`, `{AND: [{firstReleased: {gt: 2000}}, {NOT: {kind: {eq: LANGUAGE}}}]}`, `{status: {in: [DRAFT, PUBLISHED]}}`},
		orders: []string{`[{field: NAME, direction: DESC}]`, `[{field: FIRST_RELEASED}]`, `[{field: UPDATED_AT, direction: DESC}]`},
	},
	{name: "Company", conn: "companies", one: "company",
		scalars: []string{"id", "slug", "name", "status", "version", "createdAt", "updatedAt", "publishedAt"},
		rels:    map[string]string{"frameworks": "Framework", "trends": "Trend"},
		filters: []string{`{name: {contains: "o"}}`, `{framework: {slug: "django"}}`, `{slug: {in: ["google", "company-0003"]}}`, `{status: {eq: DRAFT}}`},
		orders:  []string{`[{field: NAME, direction: DESC}]`, `[{field: CREATED_AT, direction: DESC}]`},
	},
	{name: "FAQ", conn: "faqs", one: "faq",
		scalars: []string{"id", "slug", "position", "question", "answer", "items", "status", "version", "createdAt", "updatedAt", "publishedAt"},
		rels:    map[string]string{"frameworks": "Framework", "trends": "Trend"},
		filters: []string{`{position: {lte: 3}}`, `{question: {contains: "what"}}`, `{trend: {slug: "serverless-computing"}}`},
		orders:  []string{`[{field: POSITION, direction: DESC}]`, `[{field: UPDATED_AT}]`},
	},
}

// uncompiled are fields the fast path leaves to gqlgen, picked now and
// then so that the fallback is tested too.
var uncompiled = []string{"publishAt", "unpublishAt", "hasUnpublishedChanges"}

func genTypeNamed(n string) *genType {
	for _, t := range genTypes {
		if t.name == n {
			return t
		}
	}
	panic(n)
}

// gen builds one random operation.
type gen struct {
	r       *rand.Rand
	e       *diffEnv
	vars    map[string]any
	varDefs []string
	frags   []string
	n       int
}

func newGen(seed uint64, e *diffEnv) *gen {
	return &gen{r: rand.New(rand.NewPCG(seed, seed*0x9e3779b97f4a7c15)), e: e, vars: map[string]any{}}
}

func (g *gen) chance(p float64) bool { return g.r.Float64() < p }

func (g *gen) pick(l []string) string {
	if len(l) == 0 {
		return "none"
	}
	return l[g.r.IntN(len(l))]
}

func (g *gen) name(prefix string) string { g.n++; return fmt.Sprintf("%s%d", prefix, g.n) }

// variable declares a variable and returns its reference.
func (g *gen) variable(typ string, v any) string {
	n := g.name("v")
	g.varDefs = append(g.varDefs, "$"+n+": "+typ)
	g.vars[n] = v
	return "$" + n
}

// directive returns an @include or @skip, or nothing.
func (g *gen) directive() string {
	if !g.chance(0.15) {
		return ""
	}
	d := "@include"
	if g.chance(0.5) {
		d = "@skip"
	}
	if g.chance(0.3) {
		return fmt.Sprintf(" %s(if: %v)", d, g.chance(0.5))
	}
	return fmt.Sprintf(" %s(if: %s)", d, g.variable("Boolean!", g.chance(0.5)))
}

func (g *gen) alias() string {
	if g.chance(0.2) {
		return g.name("a") + ": "
	}
	return ""
}

// operation returns a whole operation and its variables.
func (g *gen) operation() (string, map[string]any) {
	var roots []string
	for range 1 + g.r.IntN(3) {
		ti := genTypes[g.r.IntN(len(genTypes))]
		if g.chance(0.6) {
			roots = append(roots, g.connection(ti))
		} else {
			roots = append(roots, g.lookup(ti))
		}
	}
	if g.chance(0.1) {
		roots = append(roots, "__typename")
	}
	head := "query"
	if g.chance(0.3) {
		head += " " + g.name("Op")
	}
	if len(g.varDefs) > 0 {
		head += "(" + strings.Join(g.varDefs, ", ") + ")"
	}
	return head + " { " + strings.Join(roots, " ") + " } " + strings.Join(g.frags, " "), g.vars
}

func (g *gen) connection(ti *genType) string {
	var args []string
	switch g.r.IntN(10) {
	case 0:
	case 1:
		args = append(args, fmt.Sprintf("first: %d", []int{0, -1, 101, 100}[g.r.IntN(4)]))
	case 2, 3:
		args = append(args, "last: "+g.intArg(1+g.r.IntN(15)))
	default:
		args = append(args, "first: "+g.intArg(1+g.r.IntN(15)))
	}
	if cs := g.e.cursors[ti.name]; len(cs) > 0 && g.chance(0.3) {
		c := cs[g.r.IntN(len(cs))]
		if g.chance(0.1) {
			c = "not-a-cursor"
		}
		dir := "after"
		if len(args) > 0 && strings.HasPrefix(args[0], "last") != g.chance(0.1) {
			dir = "before"
		}
		args = append(args, dir+": "+g.strArg(c))
	}
	if g.chance(0.3) {
		f := g.pick(ti.filters)
		if g.chance(0.3) {
			var v any
			json.Unmarshal([]byte(jsonish(f)), &v)
			if v != nil {
				f = g.variable(ti.name+"Filter", v)
			}
		}
		args = append(args, "filter: "+f)
	}
	if g.chance(0.3) {
		args = append(args, "orderBy: "+g.pick(ti.orders))
	}
	a := ""
	if len(args) > 0 {
		a = "(" + strings.Join(args, ", ") + ")"
	}
	var parts []string
	for len(parts) == 0 {
		if g.chance(0.6) {
			parts = append(parts, g.alias()+"nodes"+g.directive()+" "+g.selection(ti, 1))
		}
		if g.chance(0.4) {
			node := g.alias() + "node " + g.selection(ti, 1)
			if g.chance(0.7) {
				node = g.alias() + "cursor " + node
			}
			parts = append(parts, g.alias()+"edges { "+node+" }")
		}
		if g.chance(0.3) {
			var pi []string
			for _, f := range []string{"hasNextPage", "hasPreviousPage", "startCursor", "endCursor", "__typename"} {
				if g.chance(0.5) {
					pi = append(pi, g.alias()+f)
				}
			}
			if len(pi) == 0 {
				pi = []string{"endCursor"}
			}
			parts = append(parts, "pageInfo { "+strings.Join(pi, " ")+" }")
		}
		if g.chance(0.25) {
			parts = append(parts, g.alias()+"totalCount")
		}
		if g.chance(0.1) {
			parts = append(parts, "__typename")
		}
	}
	return g.alias() + ti.conn + a + g.directive() + " { " + strings.Join(parts, " ") + " }"
}

func (g *gen) lookup(ti *genType) string {
	var arg string
	switch g.r.IntN(8) {
	case 0:
		arg = `slug: "no-such-thing"`
	case 1:
		arg = `id: "not-an-id"`
	case 2:
		arg = "id: " + g.strArg(g.pick(g.e.ids[genTypes[g.r.IntN(len(genTypes))].name]))
	case 3, 4:
		arg = "id: " + g.strArg(g.pick(g.e.ids[ti.name]))
	default:
		arg = "slug: " + g.strArg(g.pick(g.e.slugs[ti.name]))
	}
	return g.alias() + ti.one + "(" + arg + ")" + g.directive() + " " + g.selection(ti, 1)
}

func (g *gen) intArg(n int) string {
	if g.chance(0.3) {
		return g.variable("Int", n)
	}
	return fmt.Sprint(n)
}

func (g *gen) strArg(s string) string {
	if g.chance(0.3) {
		return g.variable("String", s)
	}
	b, _ := json.Marshal(s)
	return string(b)
}

// selection is a selection set on ti, relations down to three levels.
func (g *gen) selection(ti *genType, depth int) string {
	var parts []string
	for range 1 + g.r.IntN(5) {
		f := g.pick(ti.scalars)
		if g.chance(0.01) {
			f = g.pick(uncompiled)
		}
		parts = append(parts, g.alias()+f+g.directive())
	}
	if g.chance(0.15) {
		parts = append(parts, "__typename")
	}
	if depth <= 3 && g.chance(0.5) {
		var rels []string
		for r := range ti.rels {
			rels = append(rels, r)
		}
		for range 1 + g.r.IntN(2) {
			r := rels[g.r.IntN(len(rels))]
			parts = append(parts, g.alias()+r+g.directive()+" "+g.selection(genTypeNamed(ti.rels[r]), depth+1))
		}
	}
	if g.chance(0.15) {
		on := ti.name
		if g.chance(0.3) {
			on = "Node"
		}
		inner := "id"
		if on == ti.name {
			inner = g.alias() + g.pick(ti.scalars)
		}
		parts = append(parts, "... on "+on+g.directive()+" { "+inner+" }")
	}
	if g.chance(0.15) {
		fn := g.name("F")
		g.frags = append(g.frags, "fragment "+fn+" on "+ti.name+" { "+g.pick(ti.scalars)+" "+g.pick(ti.scalars)+" }")
		parts = append(parts, "..."+fn+g.directive())
	}
	g.r.Shuffle(len(parts), func(i, j int) { parts[i], parts[j] = parts[j], parts[i] })
	return "{ " + strings.Join(parts, " ") + " }"
}

// jsonish turns a GraphQL input literal of the generator's (names as
// keys, enum values bare) into JSON.
func jsonish(lit string) string {
	var b strings.Builder
	word := func(w string) {
		switch {
		case w == "":
		case w == "true" || w == "false" || w == "null":
			b.WriteString(w)
		case w[0] >= '0' && w[0] <= '9' || w[0] == '-':
			b.WriteString(w)
		default:
			b.WriteString(`"` + w + `"`)
		}
	}
	var cur strings.Builder
	inStr := false
	for _, c := range lit {
		switch {
		case inStr:
			b.WriteRune(c)
			if c == '"' {
				inStr = false
			}
		case c == '"':
			inStr = true
			b.WriteRune(c)
		case c == '_' || c == '-' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
			cur.WriteRune(c)
		default:
			word(cur.String())
			cur.Reset()
			b.WriteRune(c)
		}
	}
	word(cur.String())
	return b.String()
}

// TestFastPath_FlagTurnsItOff checks that DisableFastReads (the server's
// --fast-reads=false) leaves every operation to gqlgen, and that by
// default a compilable query is served by the fast path.
func TestFastPath_FlagTurnsItOff(t *testing.T) {
	env := newEnv(t)
	e := newDiffEnv(t, env.DB)
	q := `{ trends(first: 2) { nodes { name } } }`
	e.serve(t, e.fast, nil, q, nil)
	e.serve(t, e.slow, nil, q, nil)
	if got := served(t, e.fast); got != 1 {
		t.Errorf("fast handler: %v operations served by the fast path, want 1", got)
	}
	if got := served(t, e.slow); got != 0 {
		t.Errorf("with DisableFastReads: %v operations served by the fast path, want 0", got)
	}
}

// FuzzFastPath compares both paths on operations built from a seed (the
// generator's), and on any document the fuzzer makes of the seeds'.
func FuzzFastPath(f *testing.F) {
	env := newEnv(f)
	e := newDiffEnv(f, env.DB)
	for seed := uint64(1); seed <= 20; seed++ {
		q, _ := newGen(seed, e).operation()
		f.Add(seed, "")
		f.Add(seed, q)
	}
	for _, q := range fastPathCases {
		f.Add(uint64(0), q)
	}
	callers := []string{"anonymous", "viewer", "preview"}
	f.Fuzz(func(t *testing.T, seed uint64, query string) {
		vars := map[string]any{"yes": true, "no": false}
		if query == "" {
			query, vars = newGen(seed, e).operation()
		}
		e.same(t, callers[seed%3], query, vars)
	})
}

// TestFastPath_ServesTheReferenceQueries checks that the load benchmark's
// queries, and its growth rows' (100 frameworks, three levels of nested
// lists), are compiled (not left to gqlgen), cost no more SQL statements
// than gqlgen's execution and answer the same bytes, as every kind of
// caller, on the article's content and on the generated large set (where
// the nested rows fan out to thousands of items).
func TestFastPath_ServesTheReferenceQueries(t *testing.T) {
	t.Run("seeded", func(t *testing.T) {
		servesReferenceQueries(t, newDiffEnv(t, newEnv(t).DB))
	})
	t.Run("large", func(t *testing.T) {
		servesReferenceQueries(t, newDiffEnv(t, openGenerated(t)))
	})
}

// openGenerated opens a new database holding the generated set shaped like
// the load test's (2,000 companies, 10,000 frameworks with 5 companies
// each, 5,000 trends with ≈1.5 KB bodies).
func openGenerated(t testing.TB) *db.DB {
	t.Helper()
	ctx := context.Background()
	d, _, err := db.Open(ctx, dbtest.NewDSN(t), db.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	if _, err := d.Import(ctx, benchdata.Synthetic(benchdata.Large), false); err != nil {
		t.Fatal(err)
	}
	return d
}

func servesReferenceQueries(t *testing.T, e *diffEnv) {
	for _, q := range []struct {
		query string
		vars  map[string]any
	}{
		{benchQ1, map[string]any{"slug": "django"}}, {benchQ2, nil}, {benchQ3, nil}, {benchQ2x100, nil}, {benchNested3, nil}, {benchNested3Row, nil},
		{`{ a: trend(id: "VHJlbmQ6MQ") { name } b: trend(id: "VHJlbmQ6Mg") { name } c: trend(id: "VHJlbmQ6Mw") { name } }`, nil},
	} {
		for c, h := range e.callers {
			e.serve(t, e.slow, h, q.query, q.vars) // the row cache warm for both
			before := served(t, e.fast)
			q0 := e.d.QueryCount()
			_, _, body := e.serve(t, e.fast, h, q.query, q.vars)
			q1 := e.d.QueryCount()
			if bytes.Contains(body, []byte(`"errors"`)) {
				t.Errorf("as %s, errors: %s\n%s", c, q.query, body)
			}
			// The nested rows must reach their third level, or they
			// would prove nothing about depth.
			if q.query == benchNested3Row && !bytes.Contains(body, []byte(`"companies":[{"id":`)) {
				t.Errorf("as %s, no companies at the third level: %s", c, body)
			}
			e.serve(t, e.slow, h, q.query, q.vars)
			q2 := e.d.QueryCount()
			if served(t, e.fast) != before+1 {
				t.Errorf("as %s, not served by the fast path: %s", c, q.query)
			}
			if q1-q0 > q2-q1 {
				t.Errorf("as %s, the fast path ran %d statements, gqlgen %d: %s", c, q1-q0, q2-q1, q.query)
			}
			e.same(t, c, q.query, q.vars)
		}
	}
}

// TestFastPath_SameAnswersOnEveryTransport compares both paths over GET
// (both JSON media types) and over the websocket (a query sent as a
// subscribe message: one next, then complete), as every kind of caller.
func TestFastPath_SameAnswersOnEveryTransport(t *testing.T) {
	env := newEnv(t)
	e := newDiffEnv(t, env.DB)
	fastSrv, slowSrv := httptest.NewServer(e.fast), httptest.NewServer(e.slow)
	t.Cleanup(fastSrv.Close)
	t.Cleanup(slowSrv.Close)
	queries := []string{}
	varsOf := []map[string]any{}
	for _, q := range fastPathCases {
		queries, varsOf = append(queries, q), append(varsOf, map[string]any{"yes": true, "no": false})
	}
	for seed := uint64(1); seed <= 40; seed++ {
		q, v := newGen(seed, e).operation()
		queries, varsOf = append(queries, q), append(varsOf, v)
	}
	get := func(h http.Handler, headers map[string]string, accept, query string, vars map[string]any) (int, string, []byte) {
		vj, _ := json.Marshal(vars)
		req := httptest.NewRequest(http.MethodGet, "/graphql?"+url.Values{"query": {query}, "variables": {string(vj)}}.Encode(), nil)
		req.Header.Set("Accept", accept)
		for k, v := range headers {
			req.Header.Set(k, v)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Code, rec.Header().Get("Content-Type"), rec.Body.Bytes()
	}
	before := served(t, e.fast)
	for i, q := range queries {
		for c, h := range e.callers {
			for _, accept := range []string{"application/json", "application/graphql-response+json"} {
				s1, c1, b1 := get(e.fast, h, accept, q, varsOf[i])
				s2, c2, b2 := get(e.slow, h, accept, q, varsOf[i])
				if s1 != s2 || c1 != c2 || !bytes.Equal(b1, b2) && !sameErrors(b1, b2) {
					t.Fatalf("GET (%s) as %s answers differently:\n%s\nfast: %d %s\nslow: %d %s", accept, c, q, s1, b1, s2, b2)
				}
			}
			header := http.Header{}
			for k, v := range h {
				header.Set(k, v)
			}
			m1, m2 := wsAnswer(t, fastSrv.URL, header, q, varsOf[i]), wsAnswer(t, slowSrv.URL, header, q, varsOf[i])
			if len(m1) != len(m2) {
				t.Fatalf("websocket as %s: %d messages from the fast path, %d from gqlgen:\n%s\n%s\n%s", c, len(m1), len(m2), q, m1, m2)
			}
			for j := range m1 {
				t1, p1, _ := bytes.Cut(m1[j], []byte(" "))
				t2, p2, _ := bytes.Cut(m2[j], []byte(" "))
				if !bytes.Equal(t1, t2) || !bytes.Equal(p1, p2) && !sameErrors(p1, p2) {
					t.Fatalf("websocket as %s answers differently:\n%s\nfast: %s\nslow: %s", c, q, m1[j], m2[j])
				}
			}
		}
	}
	if got := served(t, e.fast) - before; got < float64(len(queries)) {
		t.Errorf("the fast path served %v of %d GET and websocket operations", got, 3*3*len(queries))
	}
}

// wsAnswer sends one operation over a websocket and returns the payloads
// of its messages up to complete (or error).
func wsAnswer(t *testing.T, base string, header http.Header, query string, vars map[string]any) [][]byte {
	t.Helper()
	ws, ack := dialWS(t, base, header, nil)
	if ack.Type != "connection_ack" {
		t.Fatalf("init: %+v", ack)
	}
	defer ws.c.CloseNow()
	ws.subscribe(t, "1", query, vars)
	var out [][]byte
	for {
		m := ws.next(t)
		out = append(out, append([]byte(m.Type+" "), m.Payload...))
		if m.Type != "next" || len(out) > 3 {
			return out
		}
	}
}

// TestFastPath_FallbackWastesNoRelations checks what refusing costs: an
// operation that meets an error is answered by gqlgen, and the fast path's
// attempt before it must not have fetched relations — only its root
// fields' own statements (at most one each) are spent twice.
func TestFastPath_FallbackWastesNoRelations(t *testing.T) {
	env := newEnv(t)
	e := newDiffEnv(t, env.DB)
	q := `{ frameworks(first: 20) { totalCount nodes { companies { name frameworks { name } } trends { name } faqs { question } } }
		trend(slug: "go") { companies { name } } trends(after: "not-a-cursor") { nodes { name } } }`
	for c, h := range e.callers {
		e.serve(t, e.slow, h, q, nil) // the row cache warm for both
		q0 := e.d.QueryCount()
		e.serve(t, e.fast, h, q, nil)
		q1 := e.d.QueryCount()
		e.serve(t, e.slow, h, q, nil)
		q2 := e.d.QueryCount()
		if extra := (q1 - q0) - (q2 - q1); extra > 3 {
			t.Errorf("as %s, the fast path's attempt cost %d more statements than gqlgen's answer (%d vs %d), want at most one per root field", c, extra, q1-q0, q2-q1)
		}
		e.same(t, c, q, nil)
	}
}

// TestFastPath_CacheETagsAndMetricsSeeTheSame runs both paths with the
// response cache on: the same answers and ETags, the same 304s, and the
// same request metrics (by operation and code) for the same operations.
func TestFastPath_CacheETagsAndMetricsSeeTheSame(t *testing.T) {
	env := newEnv(t)
	e := newDiffEnv(t, env.DB)
	fast := graph.NewHandler(graph.Options{DB: e.d})
	slow := graph.NewHandler(graph.Options{DB: e.d, DisableFastReads: true})
	queries := []string{`query Q2 { frameworks(first: 20) { nodes { id name companies { name } } } }`,
		`query Bad { trends(after: "x") { nodes { name } } }`, `{ trend(slug: "go") { name framework { name } } }`}
	for seed := uint64(1); seed <= 20; seed++ {
		q, _ := newGen(seed, e).operation()
		if !strings.Contains(q, "$") {
			queries = append(queries, q)
		}
	}
	for _, q := range queries {
		for round := range 2 {
			s1, h1, b1 := e.serve(t, fast, nil, q, nil)
			s2, h2, b2 := e.serve(t, slow, nil, q, nil)
			if s1 != s2 || h1 != h2 || !bytes.Equal(b1, b2) && !sameErrors(b1, b2) {
				t.Fatalf("round %d differs:\n%s\nfast: %d %s %s\nslow: %d %s %s", round, q, s1, h1, b1, s2, h2, b2)
			}
		}
	}
	metrics := func(h http.Handler) string {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
		var keep []string
		for _, line := range strings.Split(rec.Body.String(), "\n") {
			if strings.HasPrefix(line, "trendql_graphql_requests_total{") || strings.HasPrefix(line, "trendql_response_cache") {
				keep = append(keep, line)
			}
		}
		return strings.Join(keep, "\n")
	}
	if m1, m2 := metrics(fast), metrics(slow); m1 != m2 || m1 == "" {
		t.Errorf("metrics differ:\nfast:\n%s\nslow:\n%s", m1, m2)
	}
	if served(t, fast) == 0 {
		t.Error("the fast path served nothing")
	}
}
