package graph

import (
	"context"
	"encoding/json"

	"github.com/99designs/gqlgen/graphql"
	"github.com/trendql/trendql/db"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// atomicMutations makes one mutation operation one transaction, on every
// transport: its root fields (which gqlgen runs one after another) join
// one db.Request, committed after the last field only when no field
// failed, and rolled back otherwise. So the commit hooks — cache
// invalidation, subscriptions, webhooks — run once, after the commit, and
// never for writes that were rolled back.
//
// A failed mutation answers `data: null` with the failing field's error
// (its path and code): no field claims a write that did not happen. A
// unique value (slug, rank, position) still held twice at the end is
// reported at the path of the field that took it.
type atomicMutations struct {
	db      *db.DB
	present graphql.ErrorPresenterFunc
}

var (
	_ graphql.HandlerExtension    = atomicMutations{}
	_ graphql.ResponseInterceptor = atomicMutations{}
	_ graphql.FieldInterceptor    = atomicMutations{}
)

// ExtensionName implements graphql.HandlerExtension.
func (atomicMutations) ExtensionName() string { return "AtomicMutations" }

// Validate implements graphql.HandlerExtension.
func (atomicMutations) Validate(graphql.ExecutableSchema) error { return nil }

// isMutation reports whether ctx runs a mutation operation.
func isMutation(ctx context.Context) bool {
	if !graphql.HasOperationContext(ctx) {
		return false
	}
	oc := graphql.GetOperationContext(ctx)
	return oc != nil && oc.Operation != nil && oc.Operation.Operation == ast.Mutation
}

// InterceptResponse runs a mutation's fields in one transaction and
// commits it only when the response holds no error.
func (a atomicMutations) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	if !isMutation(ctx) {
		return next(ctx)
	}
	ctx, req := a.db.BeginRequest(ctx)
	// A panic that escapes gqlgen's recovery must not leave the writer
	// held: Rollback after Commit does nothing.
	defer req.Rollback()
	resp := next(ctx)
	if resp == nil {
		return nil
	}
	if len(resp.Errors) > 0 {
		req.Rollback()
		resp.Data = json.RawMessage("null")
		return resp
	}
	if err := req.Commit(); err != nil {
		gerr := a.present(ctx, err)
		if p, ok := db.Blamed(err).(ast.Path); ok {
			gerr.Path = p
		}
		resp.Data = json.RawMessage("null")
		resp.Errors = gqlerror.List{gerr}
	}
	return resp
}

// InterceptField tags the writes of each root mutation field with its
// path, so an error found at commit names the field; and gives the field
// fresh dataloaders, so it never reads what an earlier field cached before
// changing it.
func (a atomicMutations) InterceptField(ctx context.Context, next graphql.Resolver) (any, error) {
	fc := graphql.GetFieldContext(ctx)
	if fc == nil || fc.Object != "Mutation" || !isMutation(ctx) {
		return next(ctx)
	}
	if h, ok := ctx.Value(loadersKey{}).(*requestLoaders); ok {
		h.reset()
	}
	// A mutation answers with what it wrote: the preview (a published
	// item's edit is its draft until published).
	return next(db.WithPreview(db.WithBlame(ctx, fc.Path())))
}
