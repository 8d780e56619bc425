package graph

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/trendql/trendql/db"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/parser"
)

func init() {
	// Refused operations never ran: answer them like invalid ones (a
	// request error: 200 for application/json, 400 for
	// application/graphql-response+json, no data key).
	errcode.RegisterErrorType(CodeComplexity, errcode.KindProtocol)
}

// noIntrospection refuses __schema and __type before execution when
// introspection is switched off (__typename stays allowed: clients need it).
type noIntrospection struct{}

// ExtensionName implements graphql.HandlerExtension.
func (noIntrospection) ExtensionName() string { return "NoIntrospection" }

// Validate implements graphql.HandlerExtension.
func (noIntrospection) Validate(graphql.ExecutableSchema) error { return nil }

// MutateOperationContext implements graphql.OperationContextMutator.
func (noIntrospection) MutateOperationContext(ctx context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	if oc.Operation == nil {
		return nil
	}
	if usesIntrospection(oc.Operation.SelectionSet, map[string]bool{}) {
		return &gqlerror.Error{
			Message:    "introspection is turned off on this server",
			Extensions: map[string]any{"code": CodeValidationFailed},
		}
	}
	return nil
}

func usesIntrospection(sel ast.SelectionSet, seen map[string]bool) bool {
	for _, s := range sel {
		switch s := s.(type) {
		case *ast.Field:
			if s.Name == "__schema" || s.Name == "__type" || usesIntrospection(s.SelectionSet, seen) {
				return true
			}
		case *ast.InlineFragment:
			if usesIntrospection(s.SelectionSet, seen) {
				return true
			}
		case *ast.FragmentSpread:
			if s.Definition != nil && !seen[s.Name] {
				seen[s.Name] = true
				if usesIntrospection(s.Definition.SelectionSet, seen) {
					return true
				}
			}
		}
	}
	return false
}

// Limits bound the size and cost of one request. The document limits
// (MaxTokens, MaxSelections, MaxSelectionSetSize, MaxInputDepth) are
// checked while parsing and before validation, so an oversize document is
// refused for about the cost of reading it; the operation limits
// (MaxDepth, MaxCost, MaxAliases, MaxRootFields) are checked after
// validation and before any resolver runs, so a refused operation runs no
// SQL. Each refusal is COMPLEXITY_LIMIT_EXCEEDED with extensions.limit,
// value and max. Zero fields take the defaults.
type Limits struct {
	// MaxDepth is the deepest nesting of fields (introspection exempt).
	MaxDepth int
	// MaxCost bounds the estimated work: every field costs 1, and a list's
	// children cost once per item it may return (first/last up to the
	// maximum page size, or the default page size; 5 for a relation list;
	// the count of nodes(ids:); for introspection lists, the schema's mean
	// size of that list).
	MaxCost int
	// MaxAliases bounds the aliased fields of an operation, introspection
	// included.
	MaxAliases int
	// MaxRootFields bounds the top-level fields of an operation: the
	// distinct response names at its root, those of fragments spread
	// there included.
	MaxRootFields int

	// MaxTokens bounds the tokens of a document (names, punctuation,
	// values, comment lines; whitespace is free). Parsing stops at the
	// limit, so the error's value is MaxTokens+1.
	MaxTokens int
	// MaxSelections bounds the selections validation visits: every field,
	// fragment spread and inline fragment written in the document, where
	// a fragment's selections count again for each operation and each
	// fragment that spreads it, directly or not. Counting stops at the
	// limit, so the error's value is MaxSelections+1.
	MaxSelections int
	// MaxSelectionSetSize bounds the selections written inside one pair of
	// braces.
	MaxSelectionSetSize int
	// MaxInputDepth bounds the nesting of list and object values written
	// in the document (arguments, directive arguments, variable defaults).
	MaxInputDepth int
	// MaxErrors bounds the errors of one response (validation or
	// execution, on every transport); past it a last error says how many
	// were left out.
	MaxErrors int
}

// Default limits.
const (
	DefaultMaxDepth            = 12
	DefaultMaxCost             = 25000
	DefaultMaxAliases          = 30
	DefaultMaxRootFields       = 20
	DefaultMaxTokens           = 10000
	DefaultMaxSelections       = 500
	DefaultMaxSelectionSetSize = 100
	DefaultMaxInputDepth       = 16
	DefaultMaxErrors           = 100
	// relationFanout is the assumed size of a relation list (a framework's
	// companies) when estimating cost.
	relationFanout = 5
)

func (l Limits) withDefaults() Limits {
	for _, f := range []struct {
		v   *int
		def int
	}{
		{&l.MaxDepth, DefaultMaxDepth},
		{&l.MaxCost, DefaultMaxCost},
		{&l.MaxAliases, DefaultMaxAliases},
		{&l.MaxRootFields, DefaultMaxRootFields},
		{&l.MaxTokens, DefaultMaxTokens},
		{&l.MaxSelections, DefaultMaxSelections},
		{&l.MaxSelectionSetSize, DefaultMaxSelectionSetSize},
		{&l.MaxInputDepth, DefaultMaxInputDepth},
		{&l.MaxErrors, DefaultMaxErrors},
	} {
		if *f.v <= 0 {
			*f.v = f.def
		}
	}
	return l
}

// queryLimits is the gqlgen extension that enforces the operation limits,
// after validation (documentLimits checks the document before it).
type queryLimits struct {
	Limits
	introspection introspectionSizes
	// charge, if set, is called with the estimated cost of an operation
	// that passed every limit (the rate limit's price); its error refuses it.
	charge func(ctx context.Context, cost float64) *gqlerror.Error
}

// newQueryLimits returns the operation limits for schema; charge may be
// nil.
func newQueryLimits(l Limits, schema *ast.Schema, charge func(ctx context.Context, cost float64) *gqlerror.Error) queryLimits {
	return queryLimits{Limits: l, introspection: measureIntrospection(schema), charge: charge}
}

// ExtensionName implements graphql.HandlerExtension.
func (queryLimits) ExtensionName() string { return "QueryLimits" }

// Validate implements graphql.HandlerExtension.
func (queryLimits) Validate(graphql.ExecutableSchema) error { return nil }

// MutateOperationContext implements graphql.OperationContextMutator.
func (q queryLimits) MutateOperationContext(ctx context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	if ctx.Err() != nil {
		// Parsing and validation used up the request's time: run nothing.
		return timeoutError(nil)
	}
	if oc.Operation == nil {
		return nil
	}
	if n := rootFieldCount(oc.Operation.SelectionSet); n > q.MaxRootFields {
		return limitError(fmt.Sprintf("the operation has %d top-level fields; the limit is %d", n, q.MaxRootFields), "rootFields", n, q.MaxRootFields)
	}
	w := &shapeWalker{vars: oc.Variables, memo: map[fragmentAt]shape{}, introspection: q.introspection}
	s := w.walk(oc.Operation.SelectionSet)
	switch {
	case s.aliases > q.MaxAliases:
		return limitError(fmt.Sprintf("the operation has %d aliases; the limit is %d", s.aliases, q.MaxAliases), "aliases", s.aliases, q.MaxAliases)
	case s.depth > q.MaxDepth:
		return limitError(fmt.Sprintf("the operation is nested %d levels deep; the limit is %d", s.depth, q.MaxDepth), "depth", s.depth, q.MaxDepth)
	case s.cost > float64(q.MaxCost):
		cost := int(math.Ceil(s.cost))
		return limitError(fmt.Sprintf("the operation's estimated cost is %d; the limit is %d (ask for smaller pages or fewer nested lists)", cost, q.MaxCost), "cost", cost, q.MaxCost)
	}
	if q.charge != nil {
		return q.charge(ctx, s.cost)
	}
	return nil
}

// rootFieldCount is the number of distinct response names at the root of
// an operation, with inline fragments and fragment spreads applied: the
// top-level fields the operation resolves.
func rootFieldCount(sel ast.SelectionSet) int {
	names := map[string]bool{}
	seen := map[string]bool{}
	var collect func(ast.SelectionSet)
	collect = func(sel ast.SelectionSet) {
		for _, s := range sel {
			switch s := s.(type) {
			case *ast.Field:
				names[cmp.Or(s.Alias, s.Name)] = true
			case *ast.InlineFragment:
				collect(s.SelectionSet)
			case *ast.FragmentSpread:
				if s.Definition != nil && !seen[s.Name] {
					seen[s.Name] = true
					collect(s.Definition.SelectionSet)
				}
			}
		}
	}
	collect(sel)
	return len(names)
}

// introspectionSizes are what the cost estimate of an introspection query
// needs to know of the schema, so that the estimated cost of walking the
// whole schema is about what the walk returns (graphql-js's full
// introspection query: estimated 8,000, and 7,800 fields answered).
type introspectionSizes struct {
	// lists holds the mean length of each introspection list
	// ("__Type.fields": the schema's fields over its types).
	lists map[string]float64
	// ofType[i] is the chance that an ofType nested i+1 deep is not null:
	// the share of the schema's type references wrapped at least i+1
	// times (in lists and non-nulls: [ID!]! is wrapped 3 times) among
	// those wrapped at least i times. Deeper ofTypes are always null.
	ofType []float64
}

// measureIntrospection measures schema for introspectionSizes.
func measureIntrospection(schema *ast.Schema) introspectionSizes {
	if schema == nil {
		return introspectionSizes{}
	}
	var wrapped []int // wrapped[n]: type references wrapped n times
	ref := func(t *ast.Type) {
		n := 0
		for ; t != nil; t = t.Elem {
			if t.NonNull {
				n++
			}
			if t.Elem != nil {
				n++
			}
		}
		for len(wrapped) <= n {
			wrapped = append(wrapped, 0)
		}
		wrapped[n]++
	}
	var fields, inputFields, enumValues, interfaces, possibleTypes, args, directiveArgs int
	for _, t := range schema.Types {
		for _, f := range t.Fields {
			ref(f.Type)
			for _, a := range f.Arguments {
				ref(a.Type)
			}
		}
		switch t.Kind {
		case ast.Object, ast.Interface:
			fields += len(t.Fields)
			interfaces += len(t.Interfaces)
			for _, f := range t.Fields {
				args += len(f.Arguments)
			}
		case ast.InputObject:
			inputFields += len(t.Fields)
		case ast.Enum:
			enumValues += len(t.EnumValues)
		}
		if t.IsAbstractType() {
			possibleTypes += len(schema.GetPossibleTypes(t))
		}
	}
	for _, d := range schema.Directives {
		directiveArgs += len(d.Arguments)
		for _, a := range d.Arguments {
			ref(a.Type)
		}
	}
	var ofType []float64
	atLeast := 0 // references wrapped at least level-1 times
	for _, n := range wrapped {
		atLeast += n
	}
	for level := 1; level < len(wrapped); level++ {
		deeper := atLeast - wrapped[level-1]
		ofType = append(ofType, float64(deeper)/float64(atLeast))
		atLeast = deeper
	}
	mean := func(total, n int) float64 { return float64(total) / float64(max(n, 1)) }
	types := len(schema.Types)
	return introspectionSizes{ofType: ofType, lists: map[string]float64{
		"__Schema.types":        float64(types),
		"__Schema.directives":   float64(len(schema.Directives)),
		"__Type.fields":         mean(fields, types),
		"__Type.inputFields":    mean(inputFields, types),
		"__Type.enumValues":     mean(enumValues, types),
		"__Type.interfaces":     mean(interfaces, types),
		"__Type.possibleTypes":  mean(possibleTypes, types),
		"__Field.args":          mean(args, fields),
		"__Directive.args":      mean(directiveArgs, len(schema.Directives)),
		"__Directive.locations": 1, // enum values: nothing to select under them
	}}
}

func limitError(msg, limit string, value, max int) *gqlerror.Error {
	return &gqlerror.Error{Message: msg, Extensions: map[string]any{
		"code": CodeComplexity, "limit": limit, "value": value, "max": max,
	}}
}

// shape is what a selection set asks for.
type shape struct {
	depth, aliases int
	// cost is fractional where introspection's mean list lengths are.
	cost float64
}

// costCap keeps cost arithmetic finite on hostile queries.
const costCap = 1 << 40

type shapeWalker struct {
	vars map[string]any
	// memo is per fragment and ofType level: elsewhere a fragment's shape
	// does not depend on where it is spread.
	memo          map[fragmentAt]shape
	introspection introspectionSizes
	// ofType is how many __Type.ofType fields directly enclose the
	// selections walked.
	ofType int
}

type fragmentAt struct {
	name   string
	ofType int
}

func (w *shapeWalker) walk(sel ast.SelectionSet) shape {
	var out shape
	add := func(s shape) {
		out.depth = max(out.depth, s.depth)
		out.cost = min(out.cost+s.cost, costCap)
		out.aliases = min(out.aliases+s.aliases, costCap)
	}
	for _, s := range sel {
		switch s := s.(type) {
		case *ast.Field:
			add(w.field(s))
		case *ast.InlineFragment:
			add(w.walk(s.SelectionSet))
		case *ast.FragmentSpread:
			if s.Definition == nil {
				continue
			}
			key := fragmentAt{s.Name, w.ofType}
			fs, ok := w.memo[key]
			if !ok {
				w.memo[key] = shape{} // cycles are refused by validation; guard anyway
				fs = w.walk(s.Definition.SelectionSet)
				w.memo[key] = fs
			}
			add(fs)
		}
	}
	return out
}

func (w *shapeWalker) field(f *ast.Field) shape {
	s := shape{depth: 1, cost: 1}
	if f.Alias != "" && f.Alias != f.Name {
		s.aliases = 1
	}
	if f.Name == "__typename" {
		// Answered without resolving anything: free, but an alias counts.
		s.depth, s.cost = 0, 0
		return s
	}
	if len(f.SelectionSet) == 0 {
		return s
	}
	outer := w.ofType
	w.ofType = 0
	if isOfType(f) {
		w.ofType = outer + 1
	}
	child := w.walk(f.SelectionSet)
	fanout := w.fanout(f)
	w.ofType = outer
	s.depth += child.depth
	s.aliases = min(s.aliases+child.aliases, costCap)
	s.cost = min(1+fanout*child.cost, costCap)
	if f.Name == "__schema" || f.Name == "__type" {
		// Introspection is exempt from the depth limit only: GraphiQL's
		// start-up query nests 14 deep (gqlparser's MaxIntrospectionDepth
		// rule bounds its list nesting instead).
		s.depth = 0
	}
	return s
}

func isOfType(f *ast.Field) bool {
	return f.Name == "ofType" && f.ObjectDefinition != nil && f.ObjectDefinition.Name == "__Type"
}

// fanout estimates how many items a field returns (while walking its
// selections: w.ofType is the level of an ofType field).
func (w *shapeWalker) fanout(f *ast.Field) float64 {
	if isOfType(f) {
		if w.ofType <= len(w.introspection.ofType) {
			return w.introspection.ofType[w.ofType-1]
		}
		return 0 // no type of the schema is wrapped this deep: null
	}
	if f.ObjectDefinition != nil && strings.HasPrefix(f.ObjectDefinition.Name, "__") {
		if n, ok := w.introspection.lists[f.ObjectDefinition.Name+"."+f.Name]; ok {
			return n
		}
	}
	// A connection's nodes and edges are the page its field already counted.
	if f.ObjectDefinition != nil && strings.HasSuffix(f.ObjectDefinition.Name, "Connection") {
		return 1
	}
	args := f.ArgumentMap(w.vars)
	for _, name := range []string{"first", "last"} {
		if v, ok := args[name]; ok && v != nil {
			if n, ok := asInt(v); ok {
				// Larger pages are refused by the resolver with BAD_USER_INPUT.
				return float64(min(max(n, 1), db.MaxPageSize))
			}
		}
	}
	if v, ok := args["ids"].([]any); ok {
		return float64(max(len(v), 1))
	}
	if f.Definition != nil && f.Definition.Type != nil && f.Definition.Type.Elem != nil {
		if f.Definition.Arguments.ForName("first") != nil {
			return db.DefaultPageSize
		}
		return relationFanout
	}
	if f.Definition != nil && f.Definition.Arguments.ForName("first") != nil {
		// A connection without first/last returns the default page.
		return db.DefaultPageSize
	}
	return 1
}

func asInt(v any) (int, bool) {
	switch n := v.(type) {
	case int:
		return n, true
	case int64:
		return int(n), true
	case float64:
		return int(n), true
	case json.Number:
		i, err := n.Int64()
		return int(i), err == nil
	}
	return 0, false
}

// documentLimits refuses documents too large to validate cheaply, before
// gqlgen parses and validates them. gqlparser's validation is quadratic in
// places (OverlappingFieldsCanBeMerged compares the fields of a selection
// set pairwise; every fragment definition is walked again with each
// fragment it reaches; nested input values are re-checked at every
// level), so a 24 KB document of 8,000 fields cost seconds of CPU, and no
// time limit can stop validation once it has started. Every transport
// (GET, POST, APQ, websocket, SSE) reaches gqlgen's
// CreateOperationContext, which runs this first: parsing with a token
// limit stops a large document after MaxTokens tokens, and the parsed
// document is then measured against the other document limits in one
// linear walk that stops at the limit.
type documentLimits struct {
	Limits
	// validated is gqlgen's query cache: the documents in it passed these
	// limits and validation already.
	validated graphql.Cache[*ast.QueryDocument]
}

var _ graphql.OperationParameterMutator = documentLimits{}

// ExtensionName implements graphql.HandlerExtension.
func (documentLimits) ExtensionName() string { return "DocumentLimits" }

// Validate implements graphql.HandlerExtension.
func (documentLimits) Validate(graphql.ExecutableSchema) error { return nil }

// MutateOperationParameters implements graphql.OperationParameterMutator.
func (d documentLimits) MutateOperationParameters(ctx context.Context, p *graphql.RawParams) *gqlerror.Error {
	if ctx.Err() != nil {
		// The request's time ran out before its document was read.
		return timeoutError(nil)
	}
	if p.Query == "" {
		return nil // a persisted query's hash; its document was checked when it was sent
	}
	if d.validated != nil {
		if _, ok := d.validated.Get(ctx, p.Query); ok {
			return nil
		}
	}
	doc, err := parser.ParseQueryWithTokenLimit(&ast.Source{Input: p.Query}, d.MaxTokens)
	if err != nil {
		var gerr *gqlerror.Error
		if !errors.As(err, &gerr) {
			gerr = gqlerror.Wrap(err)
		}
		if strings.HasPrefix(gerr.Message, "exceeded token limit") {
			return limitError(fmt.Sprintf("the document has more than %d tokens; the limit is %d", d.MaxTokens, d.MaxTokens), "tokens", d.MaxTokens+1, d.MaxTokens)
		}
		// The same error gqlgen's own parse would give, without parsing twice.
		errcode.Set(gerr, errcode.ParseFailed)
		return gerr
	}
	return d.check(doc)
}

// check measures a parsed document against the document limits.
func (d documentLimits) check(doc *ast.QueryDocument) *gqlerror.Error {
	m := &docMeasure{limits: d.Limits}
	for _, op := range doc.Operations {
		for _, v := range op.VariableDefinitions {
			m.value(v.DefaultValue, 0)
			m.directives(v.Directives)
		}
		m.directives(op.Directives)
		m.written(op.SelectionSet)
	}
	for _, f := range doc.Fragments {
		m.directives(f.Directives)
		m.written(f.SelectionSet)
	}
	if m.err != nil {
		return m.err
	}
	// Count as validation walks: each operation, then each fragment
	// definition, entering every fragment they reach once.
	m.fragments = make(map[string]*ast.FragmentDefinition, len(doc.Fragments))
	for _, f := range doc.Fragments {
		if _, dup := m.fragments[f.Name]; !dup {
			m.fragments[f.Name] = f
		}
	}
	for _, op := range doc.Operations {
		m.visit(op.SelectionSet, map[string]bool{})
	}
	for _, f := range doc.Fragments {
		m.visit(f.SelectionSet, map[string]bool{f.Name: true})
	}
	if m.visited > d.MaxSelections {
		return limitError(fmt.Sprintf("the document has more than %d selections to validate (fields, fragment spreads and inline fragments; "+
			"a fragment counts again wherever it is spread); the limit is %d", d.MaxSelections, d.MaxSelections),
			"selections", d.MaxSelections+1, d.MaxSelections)
	}
	return nil
}

// docMeasure walks a document for documentLimits; it records the first
// limit exceeded and stops counting there.
type docMeasure struct {
	limits    Limits
	err       *gqlerror.Error
	fragments map[string]*ast.FragmentDefinition
	visited   int
}

// written checks each selection set as written: its size, and the values
// of its arguments and directives.
func (m *docMeasure) written(sel ast.SelectionSet) {
	if m.err != nil {
		return
	}
	if n := len(sel); n > m.limits.MaxSelectionSetSize {
		m.err = limitError(fmt.Sprintf("a selection set has %d selections; the limit is %d", n, m.limits.MaxSelectionSetSize),
			"selectionSetSize", n, m.limits.MaxSelectionSetSize)
		m.err.Locations = locationOf(sel[0].GetPosition())
		return
	}
	for _, s := range sel {
		switch s := s.(type) {
		case *ast.Field:
			for _, a := range s.Arguments {
				m.value(a.Value, 0)
			}
			m.directives(s.Directives)
			m.written(s.SelectionSet)
		case *ast.InlineFragment:
			m.directives(s.Directives)
			m.written(s.SelectionSet)
		case *ast.FragmentSpread:
			m.directives(s.Directives)
		}
	}
}

func (m *docMeasure) directives(list ast.DirectiveList) {
	for _, d := range list {
		for _, a := range d.Arguments {
			m.value(a.Value, 0)
		}
	}
}

// value checks the nesting of v, a value written inside depth lists and
// objects.
func (m *docMeasure) value(v *ast.Value, depth int) {
	if v == nil || m.err != nil || (v.Kind != ast.ListValue && v.Kind != ast.ObjectValue) {
		return
	}
	depth++
	if depth > m.limits.MaxInputDepth {
		m.err = limitError(fmt.Sprintf("a value is nested more than %d lists and objects deep; the limit is %d", m.limits.MaxInputDepth, m.limits.MaxInputDepth),
			"inputDepth", depth, m.limits.MaxInputDepth)
		m.err.Locations = locationOf(v.Position)
		return
	}
	for _, c := range v.Children {
		m.value(c.Value, depth)
	}
}

// visit counts the selections under sel as validation visits them,
// entering each fragment once per walk (seen), and stops past the limit.
func (m *docMeasure) visit(sel ast.SelectionSet, seen map[string]bool) {
	for _, s := range sel {
		if m.visited > m.limits.MaxSelections {
			return
		}
		m.visited++
		switch s := s.(type) {
		case *ast.Field:
			m.visit(s.SelectionSet, seen)
		case *ast.InlineFragment:
			m.visit(s.SelectionSet, seen)
		case *ast.FragmentSpread:
			if f := m.fragments[s.Name]; f != nil && !seen[s.Name] {
				seen[s.Name] = true
				m.visit(f.SelectionSet, seen)
			}
		}
	}
}

func locationOf(p *ast.Position) []gqlerror.Location {
	if p == nil {
		return nil
	}
	return []gqlerror.Location{{Line: p.Line, Column: p.Column}}
}

// maxCachedDocument is the longest document gqlgen's query cache and the
// APQ store keep. They count entries, not bytes: a thousand documents of
// one long string each (few tokens, within every limit) would hold a
// gigabyte. Longer documents are parsed and validated each time (the
// document limits keep that cheap) and are not persisted: an APQ client
// gets PERSISTED_QUERY_NOT_FOUND and sends the document again.
const maxCachedDocument = 64 << 10

// smallDocuments is a cache keyed by documents that keeps only those of
// at most maxCachedDocument bytes (for APQ, whose keys are hashes, the
// value is the document).
type smallDocuments[T any] struct {
	graphql.Cache[T]
	size func(key string, value T) int
}

// Add implements graphql.Cache.
func (c smallDocuments[T]) Add(ctx context.Context, key string, value T) {
	if c.size(key, value) <= maxCachedDocument {
		c.Cache.Add(ctx, key, value)
	}
}
