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

type previewKey struct{}

// WithPreview returns ctx reading the content as it would be with every
// pending draft published (see migrations/0009_drafts.sql). It takes
// effect for token holders only: anonymous callers always read the live
// content.
func WithPreview(ctx context.Context) context.Context {
	return context.WithValue(ctx, previewKey{}, true)
}

// Previewing reports whether reads with ctx see drafts applied: a token
// holder's context made by WithPreview.
func Previewing(ctx context.Context) bool {
	on, _ := ctx.Value(previewKey{}).(bool)
	return on && canSeeDrafts(ctx)
}

// source is the table or view a read with ctx takes its rows from: the
// content table itself, or its *_preview view for a preview.
func source(ctx context.Context, table string) string {
	if Previewing(ctx) {
		return table + "_preview"
	}
	return table
}
