package graph

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

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
