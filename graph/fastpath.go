package graph

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/trendql/trendql/db"
	"github.com/vektah/gqlparser/v2/ast"
)

// The fast path: a compiled executor for read-only queries, beside
// gqlgen's. gqlgen has parsed, validated and priced the operation, and
// every extension before this one has run (auth, limits, rate limits, APQ,
// the query cache); this one, the innermost, turns the operation into a
// plan once per (document, operation name, values of the @include/@skip
// variables), fetches the plan level by level with the same batched
// statements as the dataloaders (one per relation per level), and writes
// the JSON response itself, with no context, goroutine or marshaler per
// field. What it does not compile (mutations, subscriptions, node, search,
// article, changes, revisions, introspection, schedules, drafts' changes…),
// and any error (which would need a partial result), it leaves to gqlgen
// for the whole operation: gqlgen stays the reference, and the
// differential tests (fastpath_test.go) require byte-identical answers.
//
// It lives in package graph to coerce arguments with gqlgen's generated
// code, so defaults, coercion and their errors are gqlgen's own.

// fastReadsServed marks, in an operation's stats, that the fast path has
// answered it.
const fastReadsServed = "FastReadsServed"

// fastPathCacheSize bounds the compiled plans kept.
const fastPathCacheSize = 1000

// fastReads is the gqlgen extension that serves compilable queries.
type fastReads struct {
	es    *executableSchema
	db    *db.DB
	plans *lru.LRU[*docEntry]
	// outcomes counts operations by what the fast path did with them.
	outcomes *prometheus.CounterVec
}

func newFastReads(es *executableSchema, d *db.DB, reg *prometheus.Registry) *fastReads {
	f := &fastReads{
		es: es, db: d, plans: lru.New[*docEntry](fastPathCacheSize),
		outcomes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "trendql_fast_reads_total",
			Help: "Queries by what the compiled read path did: served, fallback (an error or a case left to gqlgen at run time) or uncompilable (left to gqlgen).",
		}, []string{"outcome"}),
	}
	reg.MustRegister(f.outcomes)
	return f
}

var _ graphql.ResponseInterceptor = (*fastReads)(nil)

// ExtensionName implements graphql.HandlerExtension.
func (*fastReads) ExtensionName() string { return "FastReads" }

// Validate implements graphql.HandlerExtension.
func (*fastReads) Validate(graphql.ExecutableSchema) error { return nil }

// InterceptResponse implements graphql.ResponseInterceptor: it answers a
// compilable query itself, and passes anything else on to gqlgen.
func (f *fastReads) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	if !graphql.HasOperationContext(ctx) {
		return next(ctx)
	}
	oc := graphql.GetOperationContext(ctx)
	if oc == nil || oc.Operation == nil || oc.Operation.Operation != ast.Query || oc.Doc == nil {
		return next(ctx)
	}
	// gqlgen answers an operation refused before execution (by the limits,
	// say) through these interceptors too, its errors already recorded.
	if len(graphql.GetErrors(ctx)) > 0 {
		return next(ctx)
	}
	// A transport calls the response handler until it returns nil (the
	// websocket does, for a query sent as a subscribe message): as
	// gqlgen's, the fast path answers once, then says the stream is over.
	if oc.Stats.GetExtension(fastReadsServed) != nil {
		return nil
	}
	p := f.plan(ctx, oc)
	if p == nil {
		f.outcomes.WithLabelValues("uncompilable").Inc()
		return next(ctx)
	}
	data, err := f.execute(ctx, oc, p)
	if err != nil {
		f.outcomes.WithLabelValues("fallback").Inc()
		return next(ctx)
	}
	f.outcomes.WithLabelValues("served").Inc()
	oc.Stats.SetExtension(fastReadsServed, true)
	return &graphql.Response{Data: data, Extensions: graphql.GetExtensions(ctx)}
}

// docEntry holds the plans of one document's operations, by name.
type docEntry struct {
	mu  sync.Mutex
	ops map[string]*planEntry
}

func newPlanEntry(oc *graphql.OperationContext) *planEntry {
	e := &planEntry{variants: map[string]*plan{}}
	e.dirVars, e.compilable = directiveVars(oc.Doc, oc.Operation)
	return e
}

// planEntry is what the cache knows of one (document, operation): not
// compilable, or a plan per combination of directive variables.
type planEntry struct {
	compilable bool
	dirVars    []string
	mu         sync.Mutex
	variants   map[string]*plan
}

// plan returns the operation's plan for this request's directive
// variables, or nil when it is not compilable.
func (f *fastReads) plan(ctx context.Context, oc *graphql.OperationContext) *plan {
	// Keyed by the document itself, as gqlgen's query cache is (the key
	// shares the request's string), and like it only for documents of at
	// most maxCachedDocument bytes: longer ones compile each time.
	var e *planEntry
	if len(oc.RawQuery) <= maxCachedDocument {
		doc, ok := f.plans.Get(ctx, oc.RawQuery)
		if !ok {
			doc = &docEntry{ops: map[string]*planEntry{}}
			f.plans.Add(ctx, oc.RawQuery, doc)
		}
		doc.mu.Lock()
		e = doc.ops[oc.OperationName]
		if e == nil {
			e = newPlanEntry(oc)
			doc.ops[oc.OperationName] = e
		}
		doc.mu.Unlock()
	} else {
		e = newPlanEntry(oc)
	}
	if !e.compilable {
		return nil
	}
	vkey := make([]byte, 0, len(e.dirVars))
	for _, v := range e.dirVars {
		switch oc.Variables[v] {
		case true:
			vkey = append(vkey, 't')
		case false:
			vkey = append(vkey, 'f')
		default:
			vkey = append(vkey, 'n')
		}
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	p, ok := e.variants[string(vkey)]
	if !ok {
		p = compile(oc)
		if len(e.variants) < 64 {
			e.variants[string(vkey)] = p
		}
	}
	return p
}

// directiveVars lists the variables @include and @skip read anywhere in
// the operation (its fragments included), and whether it may compile at
// all (any other directive on a selection leaves it to gqlgen).
func directiveVars(doc *ast.QueryDocument, op *ast.OperationDefinition) ([]string, bool) {
	var vars []string
	seen := map[string]bool{}
	ok := len(op.Directives) == 0
	var walk func(ast.SelectionSet)
	check := func(ds ast.DirectiveList) {
		for _, d := range ds {
			if d.Name != "include" && d.Name != "skip" {
				ok = false
				continue
			}
			if a := d.Arguments.ForName("if"); a != nil && a.Value != nil && a.Value.Kind == ast.Variable && !seen[a.Value.Raw] {
				seen[a.Value.Raw] = true
				vars = append(vars, a.Value.Raw)
			}
		}
	}
	walk = func(ss ast.SelectionSet) {
		for _, s := range ss {
			switch s := s.(type) {
			case *ast.Field:
				check(s.Directives)
				walk(s.SelectionSet)
			case *ast.InlineFragment:
				check(s.Directives)
				walk(s.SelectionSet)
			case *ast.FragmentSpread:
				check(s.Directives)
			}
		}
	}
	walk(op.SelectionSet)
	for _, fr := range doc.Fragments {
		check(fr.Directives)
		walk(fr.SelectionSet)
	}
	return vars, ok && len(vars) <= 16
}

// kind says what a plan field is and how its value is produced.
type kind uint8

const (
	kTypename kind = iota
	// root fields
	kTrends
	kFrameworks
	kCompanies
	kFAQs
	kTrend
	kFramework
	kCompany
	kFAQ
	// connections, edges, page info
	kEdges
	kNodes
	kPageInfo
	kTotalCount
	kCursor
	kEdgeNode
	kHasNext
	kHasPrev
	kStartCursor
	kEndCursor
	// scalars of content items
	kID
	kSlug
	kStatus
	kVersion
	kCreatedAt
	kUpdatedAt
	kPublishedAt
	kName
	kRank
	kCategory
	kSummary
	kBody
	kHighlights
	kExamples
	kKind
	kLanguage
	kCreator
	kFirstReleased
	kArchitecture
	kFeatures
	kPosition
	kQuestion
	kAnswer
	kItems
	// relations
	kRelFramework // Trend.framework: the first of Trend.frameworks
	kRelFrameworks
	kRelCompanies
	kRelTrends
	kRelFAQs
)

// plan is a compiled operation: the root fields to answer.
type plan struct {
	root *pobj
	// size is the length of the last response written with the plan.
	size atomic.Int64
}

// pobj is the selection on one object type, its fields merged and in the
// order gqlgen writes them.
type pobj struct {
	typ    string
	fields []*pfield
}

// pfield is one response key of a selection.
type pfield struct {
	key   []byte // `"alias":`
	kind  kind
	field *ast.Field // for arguments
	sub   *pobj
}

var (
	errNotCompilable = errors.New("fast path: not compilable")
	errFallback      = errors.New("fast path: left to gqlgen")
)

// compile turns the operation into a plan for oc's directive variables;
// nil when any part of it is not compilable.
func compile(oc *graphql.OperationContext) *plan {
	root, err := compileObj(oc, "Query", oc.Operation.SelectionSet)
	if err != nil {
		return nil
	}
	return &plan{root: root}
}

var implementors = map[string][]string{
	"Query": queryImplementors, "Trend": trendImplementors, "Framework": frameworkImplementors,
	"Company": companyImplementors, "FAQ": fAQImplementors, "PageInfo": pageInfoImplementors,
	"TrendConnection": trendConnectionImplementors, "FrameworkConnection": frameworkConnectionImplementors,
	"CompanyConnection": companyConnectionImplementors, "FAQConnection": fAQConnectionImplementors,
	"TrendEdge": trendEdgeImplementors, "FrameworkEdge": frameworkEdgeImplementors,
	"CompanyEdge": companyEdgeImplementors, "FAQEdge": fAQEdgeImplementors,
}

// fieldKinds maps each compilable (type, field) to its kind and, for an
// object-valued field, the type of its selection.
var fieldKinds = func() map[string]map[string]struct {
	k   kind
	sub string
} {
	type e = struct {
		k   kind
		sub string
	}
	m := map[string]map[string]e{
		"Query": {
			"trends": {kTrends, "TrendConnection"}, "frameworks": {kFrameworks, "FrameworkConnection"},
			"companies": {kCompanies, "CompanyConnection"}, "faqs": {kFAQs, "FAQConnection"},
			"trend": {kTrend, "Trend"}, "framework": {kFramework, "Framework"},
			"company": {kCompany, "Company"}, "faq": {kFAQ, "FAQ"},
		},
		"PageInfo": {"hasNextPage": {kHasNext, ""}, "hasPreviousPage": {kHasPrev, ""},
			"startCursor": {kStartCursor, ""}, "endCursor": {kEndCursor, ""}},
	}
	meta := map[string]e{"id": {kID, ""}, "slug": {kSlug, ""}, "status": {kStatus, ""}, "version": {kVersion, ""},
		"createdAt": {kCreatedAt, ""}, "updatedAt": {kUpdatedAt, ""}, "publishedAt": {kPublishedAt, ""}}
	item := func(extra map[string]e) map[string]e {
		for k, v := range meta {
			extra[k] = v
		}
		return extra
	}
	m["Trend"] = item(map[string]e{"rank": {kRank, ""}, "name": {kName, ""}, "category": {kCategory, ""},
		"summary": {kSummary, ""}, "body": {kBody, ""}, "highlights": {kHighlights, ""}, "examples": {kExamples, ""},
		"framework": {kRelFramework, "Framework"}, "frameworks": {kRelFrameworks, "Framework"},
		"companies": {kRelCompanies, "Company"}, "faqs": {kRelFAQs, "FAQ"}})
	m["Framework"] = item(map[string]e{"name": {kName, ""}, "kind": {kKind, ""}, "language": {kLanguage, ""},
		"creator": {kCreator, ""}, "firstReleased": {kFirstReleased, ""}, "architecture": {kArchitecture, ""},
		"summary": {kSummary, ""}, "features": {kFeatures, ""},
		"companies": {kRelCompanies, "Company"}, "trends": {kRelTrends, "Trend"}, "faqs": {kRelFAQs, "FAQ"}})
	m["Company"] = item(map[string]e{"name": {kName, ""},
		"frameworks": {kRelFrameworks, "Framework"}, "trends": {kRelTrends, "Trend"}})
	m["FAQ"] = item(map[string]e{"position": {kPosition, ""}, "question": {kQuestion, ""}, "answer": {kAnswer, ""},
		"items": {kItems, ""}, "frameworks": {kRelFrameworks, "Framework"}, "trends": {kRelTrends, "Trend"}})
	for _, t := range []string{"Trend", "Framework", "Company", "FAQ"} {
		m[t+"Connection"] = map[string]e{"edges": {kEdges, t + "Edge"}, "nodes": {kNodes, t},
			"pageInfo": {kPageInfo, "PageInfo"}, "totalCount": {kTotalCount, ""}}
		m[t+"Edge"] = map[string]e{"cursor": {kCursor, ""}, "node": {kEdgeNode, t}}
	}
	return m
}()

func compileObj(oc *graphql.OperationContext, typ string, sel ast.SelectionSet) (*pobj, error) {
	fields := graphql.CollectFields(oc, sel, implementors[typ])
	o := &pobj{typ: typ, fields: make([]*pfield, 0, len(fields))}
	for _, f := range fields {
		if len(f.Deferrables) > 0 {
			return nil, errNotCompilable
		}
		pf := &pfield{key: append(strconv.AppendQuote(nil, f.Alias), ':'), field: f.Field}
		if f.Name == "__typename" {
			pf.kind = kTypename
			o.fields = append(o.fields, pf)
			continue
		}
		fk, ok := fieldKinds[typ][f.Name]
		if !ok || !plainField(f.Definition) {
			return nil, errNotCompilable
		}
		pf.kind = fk.k
		if fk.sub != "" {
			sub, err := compileObj(oc, fk.sub, f.Selections)
			if err != nil {
				return nil, err
			}
			pf.sub = sub
		}
		o.fields = append(o.fields, pf)
	}
	return o, nil
}

// plainField reports whether a field's definition carries no directive
// that changes how it resolves (such as @hasRole): the fast path knows
// none of them, so a field that gains one is left to gqlgen.
func plainField(def *ast.FieldDefinition) bool {
	if def == nil {
		return false
	}
	for _, d := range def.Directives {
		if d.Name != "deprecated" {
			return false
		}
	}
	return true
}
