package db

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// tokenPrefix starts every API token, so secret scanners can spot them.
const tokenPrefix = "tql_"

// Token is an API token's record. The secret itself is never stored.
type Token struct {
	ID        int64
	Name      string
	Role      Role
	CreatedAt string
	ExpiresAt *string
	RevokedAt *string
}

// CreateToken makes a new token with 32 random bytes of secret and returns
// its record and the token string, which is shown this once only. A zero
// ttl means it never expires. EINVALID for an empty name or unknown role.
func (d *DB) CreateToken(ctx context.Context, name string, role Role, ttl time.Duration) (*Token, string, error) {
	var v validator
	v.name("name", name, MaxNameLen, true)
	if !role.Valid() {
		v.fail("role", "role must be viewer, editor or admin, not %q", role)
	}
	if ttl < 0 {
		v.fail("expires", "expiry must be in the future")
	}
	if v.err != nil {
		return nil, "", v.err
	}
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return nil, "", fmt.Errorf("token: %w", err)
	}
	secretText := base64.RawURLEncoding.EncodeToString(secret)
	hash := sha256.Sum256([]byte(secretText))

	tx, err := d.BeginTx(ctx)
	if err != nil {
		return nil, "", fmt.Errorf("token: %w", err)
	}
	defer tx.Rollback()
	t := &Token{Name: name, Role: role, CreatedAt: tx.now()}
	if ttl > 0 {
		exp := formatTime(tx.Now.Add(ttl))
		t.ExpiresAt = &exp
	}
	err = tx.queryRow("INSERT INTO tokens (name, role, secret_hash, created_at, expires_at) VALUES (?, ?, ?, ?, ?) RETURNING id",
		name, string(role), hash[:], t.CreatedAt, t.ExpiresAt).Scan(&t.ID)
	if err != nil {
		return nil, "", fmt.Errorf("token: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return nil, "", fmt.Errorf("token: %w", err)
	}
	return t, tokenPrefix + strconv.FormatInt(t.ID, 10) + "_" + secretText, nil
}

// Authenticate resolves a token string to its principal. An unknown,
// malformed, revoked or expired token fails with EUNAUTHENTICATED (one
// message for all, so the answer reveals nothing about which).
func (d *DB) Authenticate(ctx context.Context, token string) (*Principal, error) {
	bad := Errorf(EUNAUTHENTICATED, "invalid, expired or revoked token")
	rest, ok := strings.CutPrefix(token, tokenPrefix)
	if !ok || len(token) > 200 {
		return nil, bad
	}
	idText, secret, ok := strings.Cut(rest, "_")
	id, err := strconv.ParseInt(idText, 10, 64)
	if !ok || err != nil || id <= 0 {
		return nil, bad
	}
	var name, role string
	var hash []byte
	var expires, revoked *string
	err = d.queryRow(ctx, "SELECT name, role, secret_hash, expires_at, revoked_at FROM tokens WHERE id = ?", id).
		Scan(&name, &role, &hash, &expires, &revoked)
	if err == sql.ErrNoRows {
		return nil, bad
	}
	if err != nil {
		return nil, fmt.Errorf("authenticate: %w", err)
	}
	got := sha256.Sum256([]byte(secret))
	if subtle.ConstantTimeCompare(got[:], hash) != 1 || revoked != nil {
		return nil, bad
	}
	if expires != nil && *expires <= formatTime(d.Now()) {
		return nil, bad
	}
	return &Principal{TokenID: id, Name: name, Role: Role(role)}, nil
}

// Tokens lists every token, newest first, revoked ones included.
func (d *DB) Tokens(ctx context.Context) ([]*Token, error) {
	rows, err := d.query(ctx, "SELECT id, name, role, created_at, expires_at, revoked_at FROM tokens ORDER BY id DESC")
	if err != nil {
		return nil, fmt.Errorf("tokens: %w", err)
	}
	defer rows.Close()
	out := []*Token{}
	for rows.Next() {
		t := &Token{}
		if err := rows.Scan(&t.ID, &t.Name, &t.Role, &t.CreatedAt, &t.ExpiresAt, &t.RevokedAt); err != nil {
			return nil, fmt.Errorf("tokens: %w", err)
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// RevokeToken revokes a token at once. ENOTFOUND for an unknown id;
// revoking a revoked token changes nothing.
func (d *DB) RevokeToken(ctx context.Context, id int64) (*Token, error) {
	tx, err := d.BeginTx(ctx)
	if err != nil {
		return nil, fmt.Errorf("revoke token: %w", err)
	}
	defer tx.Rollback()
	r, err := tx.exec("UPDATE tokens SET revoked_at = coalesce(revoked_at, ?) WHERE id = ?", tx.now(), id)
	if err != nil {
		return nil, fmt.Errorf("revoke token: %w", err)
	}
	if n, _ := r.RowsAffected(); n == 0 {
		return nil, Errorf(ENOTFOUND, "no token with id %d", id)
	}
	t := &Token{}
	err = tx.queryRow("SELECT id, name, role, created_at, expires_at, revoked_at FROM tokens WHERE id = ?", id).
		Scan(&t.ID, &t.Name, &t.Role, &t.CreatedAt, &t.ExpiresAt, &t.RevokedAt)
	if err != nil {
		return nil, fmt.Errorf("revoke token: %w", err)
	}
	return t, tx.Commit()
}
