package graph

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/trendql/trendql/db"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

func init() {
	// Refused operations never ran: answer them like invalid ones (422, or
	// 400 for application/graphql-response+json).
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

// Limits bound the shape and cost of one operation. They are checked
// after validation and before any resolver runs, so a refused operation
// runs no SQL. Zero fields take the defaults.
type Limits struct {
	// MaxDepth is the deepest nesting of fields (introspection exempt).
	MaxDepth int
	// MaxCost bounds the estimated work: every field costs 1, and a list's
	// children cost once per item it may return (first/last up to the
	// maximum page size, or the default page size; 5 for a relation list;
	// the count of nodes(ids:)).
	MaxCost int
	// MaxAliases bounds the aliased fields of an operation.
	MaxAliases int
	// MaxRootFields bounds the top-level fields of an operation.
	MaxRootFields int
}

// Default limits.
const (
	DefaultMaxDepth      = 12
	DefaultMaxCost       = 25000
	DefaultMaxAliases    = 30
	DefaultMaxRootFields = 20
	// relationFanout is the assumed size of a relation list (a framework's
	// companies) when estimating cost.
	relationFanout = 5
)

func (l Limits) withDefaults() Limits {
	if l.MaxDepth <= 0 {
		l.MaxDepth = DefaultMaxDepth
	}
	if l.MaxCost <= 0 {
		l.MaxCost = DefaultMaxCost
	}
	if l.MaxAliases <= 0 {
		l.MaxAliases = DefaultMaxAliases
	}
	if l.MaxRootFields <= 0 {
		l.MaxRootFields = DefaultMaxRootFields
	}
	return l
}

// queryLimits is the gqlgen extension that enforces Limits.
type queryLimits struct{ Limits }

// ExtensionName implements graphql.HandlerExtension.
func (queryLimits) ExtensionName() string { return "QueryLimits" }

// Validate implements graphql.HandlerExtension.
func (queryLimits) Validate(graphql.ExecutableSchema) error { return nil }

// MutateOperationContext implements graphql.OperationContextMutator.
func (q queryLimits) MutateOperationContext(ctx context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	if oc.Operation == nil {
		return nil
	}
	if n := len(oc.Operation.SelectionSet); n > q.MaxRootFields {
		return limitError(fmt.Sprintf("the operation has %d top-level fields; the limit is %d", n, q.MaxRootFields), "rootFields", n, q.MaxRootFields)
	}
	w := &shapeWalker{vars: oc.Variables, memo: map[string]shape{}}
	s := w.walk(oc.Operation.SelectionSet)
	switch {
	case s.aliases > q.MaxAliases:
		return limitError(fmt.Sprintf("the operation has %d aliases; the limit is %d", s.aliases, q.MaxAliases), "aliases", s.aliases, q.MaxAliases)
	case s.depth > q.MaxDepth:
		return limitError(fmt.Sprintf("the operation is nested %d levels deep; the limit is %d", s.depth, q.MaxDepth), "depth", s.depth, q.MaxDepth)
	case s.cost > q.MaxCost:
		return limitError(fmt.Sprintf("the operation's estimated cost is %d; the limit is %d (ask for smaller pages or fewer nested lists)", s.cost, q.MaxCost), "cost", s.cost, q.MaxCost)
	}
	return nil
}

func limitError(msg, limit string, value, max int) *gqlerror.Error {
	return &gqlerror.Error{Message: msg, Extensions: map[string]any{
		"code": CodeComplexity, "limit": limit, "value": value, "max": max,
	}}
}

// shape is what a selection set asks for.
type shape struct {
	depth, cost, aliases int
}

// costCap keeps cost arithmetic from overflowing on hostile queries.
const costCap = 1 << 40

type shapeWalker struct {
	vars map[string]any
	memo map[string]shape // per fragment: a fragment's shape does not depend on where it is spread
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
			if strings.HasPrefix(s.Name, "__") {
				continue // introspection and __typename are free
			}
			add(w.field(s))
		case *ast.InlineFragment:
			add(w.walk(s.SelectionSet))
		case *ast.FragmentSpread:
			if s.Definition == nil {
				continue
			}
			fs, ok := w.memo[s.Name]
			if !ok {
				w.memo[s.Name] = shape{} // cycles are refused by validation; guard anyway
				fs = w.walk(s.Definition.SelectionSet)
				w.memo[s.Name] = fs
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
	if len(f.SelectionSet) == 0 {
		return s
	}
	child := w.walk(f.SelectionSet)
	s.depth += child.depth
	s.aliases = min(s.aliases+child.aliases, costCap)
	s.cost = min(1+w.fanout(f)*child.cost, costCap)
	return s
}

// fanout estimates how many items a field returns.
func (w *shapeWalker) fanout(f *ast.Field) int {
	// A connection's nodes and edges are the page its field already counted.
	if f.ObjectDefinition != nil && strings.HasSuffix(f.ObjectDefinition.Name, "Connection") {
		return 1
	}
	args := f.ArgumentMap(w.vars)
	for _, name := range []string{"first", "last"} {
		if v, ok := args[name]; ok && v != nil {
			if n, ok := asInt(v); ok {
				// Larger pages are refused by the resolver with BAD_USER_INPUT.
				return min(max(n, 1), db.MaxPageSize)
			}
		}
	}
	if v, ok := args["ids"].([]any); ok {
		return max(len(v), 1)
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
