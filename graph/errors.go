package graph

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/trendql/trendql/db"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// The contract's error codes, in extensions.code.
const (
	CodeParseFailed         = "GRAPHQL_PARSE_FAILED"
	CodeValidationFailed    = "GRAPHQL_VALIDATION_FAILED"
	CodeBadUserInput        = "BAD_USER_INPUT"
	CodeUnauthenticated     = "UNAUTHENTICATED"
	CodeForbidden           = "FORBIDDEN"
	CodeNotFound            = "NOT_FOUND"
	CodeConflict            = "CONFLICT"
	CodeComplexity          = "COMPLEXITY_LIMIT_EXCEEDED"
	CodePersistedNotFound   = "PERSISTED_QUERY_NOT_FOUND"
	CodeRateLimited         = "RATE_LIMITED"
	CodeInternalServerError = "INTERNAL_SERVER_ERROR"
)

// dbCodes maps the domain's error codes to the contract's.
var dbCodes = map[string]string{
	db.EINVALID:         CodeBadUserInput,
	db.ENOTFOUND:        CodeNotFound,
	db.ECONFLICT:        CodeConflict,
	db.EUNAUTHENTICATED: CodeUnauthenticated,
	db.EFORBIDDEN:       CodeForbidden,
}

// errorPresenter is the one place errors become GraphQL errors. Coded
// domain errors keep their message and get their contract code; errors
// gqlgen already coded (parse, validation, complexity…) pass through; any
// other error is logged and replaced by a generic INTERNAL_SERVER_ERROR, so
// no SQL, path or stack ever reaches a client.
func errorPresenter(log *slog.Logger) graphql.ErrorPresenterFunc {
	return func(ctx context.Context, err error) *gqlerror.Error {
		gerr := graphql.DefaultErrorPresenter(ctx, err)
		// The request's time limit ran out: say so, without internals.
		if errors.Is(err, context.DeadlineExceeded) {
			log.WarnContext(ctx, "request timed out", "err", err, "path", gerr.Path.String())
			return timeoutError(gerr.Path)
		}
		var de *db.Error
		if errors.As(err, &de) {
			code, ok := dbCodes[de.Code]
			if !ok {
				return internalError(ctx, log, gerr, err)
			}
			gerr.Message = de.Message
			gerr.Extensions = map[string]any{"code": code}
			if de.Field != "" {
				gerr.Extensions["field"] = de.Field
			}
			if de.Reason != "" {
				gerr.Extensions["reason"] = de.Reason
			}
			return gerr
		}
		if code, ok := gerr.Extensions["code"].(string); ok && code != "" {
			// A variable whose value does not fit its type is bad input,
			// not a bad document: name the variable.
			if code == CodeValidationFailed && len(gerr.Path) >= 2 && gerr.Path[0] == ast.PathName("variable") {
				gerr.Extensions["code"] = CodeBadUserInput
				gerr.Extensions["field"] = fmt.Sprint(gerr.Path[1])
			}
			return gerr
		}
		// gqlgen's POST transport reports an undecodable body uncoded, with
		// the body echoed; say it plainly instead.
		if gerr.Err == nil && strings.HasPrefix(gerr.Message, "json request body could not be decoded") {
			return &gqlerror.Error{
				Message:    "the request body is not a JSON object with a query (batched requests are not supported)",
				Extensions: map[string]any{"code": CodeBadUserInput},
			}
		}
		return internalError(ctx, log, gerr, err)
	}
}

func internalError(ctx context.Context, log *slog.Logger, gerr *gqlerror.Error, err error) *gqlerror.Error {
	log.ErrorContext(ctx, "internal error", "err", err, "path", gerr.Path.String())
	return &gqlerror.Error{
		Message:    "internal server error",
		Path:       gerr.Path,
		Extensions: map[string]any{"code": CodeInternalServerError},
	}
}

// recoverFunc turns a resolver panic into an internal error.
func recoverFunc(log *slog.Logger) graphql.RecoverFunc {
	return func(ctx context.Context, p any) error {
		log.ErrorContext(ctx, "panic in resolver", "panic", p)
		return errors.New("panic")
	}
}

// errorLimit caps the errors of every response (validation errors, which
// come through DispatchError, and execution errors alike, on every
// transport): past max, the rest are left out and a last error says how
// many. Without it, 50,000 repeated directives answered 8.4 MB of errors.
type errorLimit struct{ max int }

var (
	_ graphql.ResponseInterceptor  = errorLimit{}
	_ graphql.OperationInterceptor = errorLimit{}
)

// ExtensionName implements graphql.HandlerExtension.
func (errorLimit) ExtensionName() string { return "ErrorLimit" }

// Validate implements graphql.HandlerExtension.
func (errorLimit) Validate(graphql.ExecutableSchema) error { return nil }

// InterceptResponse implements graphql.ResponseInterceptor.
func (l errorLimit) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	resp := next(ctx)
	l.apply(resp)
	return resp
}

// InterceptOperation implements graphql.OperationInterceptor: it covers
// the errors gqlgen answers without the response interceptors (those of
// a subscription that failed to start).
func (l errorLimit) InterceptOperation(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	h := next(ctx)
	return func(ctx context.Context) *graphql.Response {
		resp := h(ctx)
		l.apply(resp)
		return resp
	}
}

func (l errorLimit) apply(resp *graphql.Response) {
	if resp == nil || len(resp.Errors) <= l.max {
		return
	}
	if len(resp.Errors) == l.max+1 && isErrorLimitNote(resp.Errors[l.max]) {
		return // capped already
	}
	total := len(resp.Errors)
	kept := make(gqlerror.List, l.max, l.max+1)
	copy(kept, resp.Errors)
	resp.Errors = append(kept, &gqlerror.Error{
		Message: fmt.Sprintf("%d more errors were left out; a response has at most %d", total-l.max, l.max),
		Extensions: map[string]any{
			"code": CodeComplexity, "limit": "errors", "value": total, "max": l.max,
		},
	})
}

func isErrorLimitNote(e *gqlerror.Error) bool {
	return e != nil && e.Extensions["limit"] == "errors"
}
