package db

import "context"

// Role is what a token may do. Roles are ordered: each includes the ones
// before it.
type Role string

// The roles, least to most.
const (
	RoleViewer Role = "viewer"
	RoleEditor Role = "editor"
	RoleAdmin  Role = "admin"
)

func (r Role) rank() int {
	switch r {
	case RoleViewer:
		return 1
	case RoleEditor:
		return 2
	case RoleAdmin:
		return 3
	}
	return 0
}

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return r.rank() > 0 }

// Principal is who makes a request: anonymous (nil) or the holder of a token.
type Principal struct {
	TokenID int64
	Name    string
	Role    Role
}

// Has reports whether the principal holds at least role want. A nil
// principal (anonymous) holds none.
func (p *Principal) Has(want Role) bool {
	return p != nil && p.Role.rank() >= want.rank()
}

type principalKey struct{}

// WithPrincipal returns ctx carrying p.
func WithPrincipal(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// PrincipalFrom returns the principal in ctx, or nil for anonymous.
func PrincipalFrom(ctx context.Context) *Principal {
	p, _ := ctx.Value(principalKey{}).(*Principal)
	return p
}

// canSeeDrafts reports whether the caller in ctx may read DRAFT content:
// viewer tokens and above.
func canSeeDrafts(ctx context.Context) bool {
	return PrincipalFrom(ctx).Has(RoleViewer)
}
