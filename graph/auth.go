package graph

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/trendql/trendql/db"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// withAuth resolves `Authorization: Bearer <token>` to a principal in the
// request context. No header means anonymous; a header that does not hold
// a valid token is refused with 401 and UNAUTHENTICATED — never silently
// treated as anonymous. Every failure spends from the client IP's
// failed-authentication bucket; once it is empty, requests with a token
// from that IP get 429 before any lookup (each lookup is a SQL statement).
// It also puts the client IP in the context, for the rate limits.
func withAuth(d *db.DB, l *limiter, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ip := clientIP(r, l != nil && l.cfg.TrustForwardedFor)
		r = r.WithContext(withClientIP(r.Context(), ip))
		preview, err := previewHeader(r)
		if err != nil {
			// Like every BAD_USER_INPUT, it names what was wrong.
			w.Header().Set("Content-Type", mediaJSON)
			w.WriteHeader(http.StatusBadRequest)
			writeRequestErrors(w, &graphql.Response{Errors: gqlerror.List{{Message: err.Error(),
				Extensions: map[string]any{"code": CodeBadUserInput, "field": PreviewHeader}}}})
			return
		}
		h := r.Header.Get("Authorization")
		if h == "" {
			if preview {
				unauthenticated(w, "a preview ("+PreviewHeader+": true) needs a token: send Authorization: Bearer <token>")
				return
			}
			next.ServeHTTP(w, r)
			return
		}
		if preview {
			r = r.WithContext(db.WithPreview(r.Context()))
		}
		if ok, retry := l.authAllowed(ip); !ok {
			tooMany(w, retry, "too many failed authentications from this address")
			return
		}
		scheme, token, _ := strings.Cut(h, " ")
		if !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
			l.authFailed(ip)
			unauthenticated(w, "the Authorization header must be \"Bearer <token>\"")
			return
		}
		p, err := d.Authenticate(r.Context(), strings.TrimSpace(token))
		if err != nil {
			if db.ErrorCode(err) == db.EUNAUTHENTICATED {
				l.authFailed(ip)
				unauthenticated(w, db.ErrorMessage(err))
				return
			}
			writeError(w, http.StatusServiceUnavailable, CodeInternalServerError, "internal server error")
			return
		}
		if info := infoFrom(r.Context()); info != nil {
			info.mu.Lock()
			info.principal = p
			info.mu.Unlock()
		}
		next.ServeHTTP(w, r.WithContext(db.WithPrincipal(r.Context(), p)))
	})
}

// PreviewHeader switches a request to the preview: the content as it
// would be with every pending draft published. Token holders only (any
// role from viewer up); "true" or "false".
const PreviewHeader = "X-Trendql-Preview"

// previewHeader reads the preview switch of a request.
func previewHeader(r *http.Request) (bool, error) {
	v := strings.TrimSpace(r.Header.Get(PreviewHeader))
	switch strings.ToLower(v) {
	case "", "false":
		return false, nil
	case "true":
		return true, nil
	}
	return false, fmt.Errorf("%s must be \"true\" or \"false\", not %q", PreviewHeader, truncate(v, 32))
}

func unauthenticated(w http.ResponseWriter, msg string) {
	w.Header().Set("WWW-Authenticate", `Bearer realm="trendql"`)
	writeError(w, http.StatusUnauthorized, CodeUnauthenticated, msg)
}

// hasRole implements the @hasRole directive: the one place role checks
// live. Anonymous callers are UNAUTHENTICATED; tokens with a lower role
// FORBIDDEN.
func hasRole(ctx context.Context, _ any, next graphql.Resolver, role db.Role) (any, error) {
	p := db.PrincipalFrom(ctx)
	if p == nil {
		return nil, db.Errorf(db.EUNAUTHENTICATED, "this needs a token with the %s role: send Authorization: Bearer <token>", role)
	}
	if !p.Has(role) {
		return nil, db.Errorf(db.EFORBIDDEN, "this needs the %s role; your token has %s", role, p.Role)
	}
	return next(ctx)
}
