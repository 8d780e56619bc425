package db

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"maps"
	"slices"
	"strconv"
	"sync"
)

// Request is the one write transaction of a request with several writes
// (a GraphQL mutation operation): every write made with its context joins
// it, and they commit together or not at all. The writer is taken at the
// first write, not before, and held until Commit or Rollback; reads made
// with the context after the first write read through the transaction, so
// they see the request's own writes.
//
// Unique values (slugs, trend ranks, FAQ positions) are checked when the
// request commits, not at each write, so two items can swap them in one
// request. Commit hooks and listeners (cache invalidation, subscriptions,
// webhooks) run once, after the commit, and never after a rollback.
type Request struct {
	d   *DB
	ctx context.Context

	mu   sync.Mutex
	root *Tx
	n    int // savepoints made, for their names
	done bool
}

type requestKey struct{}

// BeginRequest returns a context whose writes join one transaction, and
// the Request that commits or rolls it back. The transaction is bound to
// ctx: when ctx ends before Commit, it is rolled back. The caller must
// call Commit or Rollback.
func (d *DB) BeginRequest(ctx context.Context) (context.Context, *Request) {
	r := &Request{d: d, ctx: ctx}
	return context.WithValue(ctx, requestKey{}, r), r
}

func requestFrom(ctx context.Context, d *DB) *Request {
	r, _ := ctx.Value(requestKey{}).(*Request)
	if r == nil || r.d != d {
		return nil
	}
	return r
}

// requestTx returns the transaction of ctx's request once it has begun,
// for reads that must see the request's writes; nil otherwise.
func (d *DB) requestTx(ctx context.Context) *Tx {
	r := requestFrom(ctx, d)
	if r == nil {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.root == nil || r.done {
		return nil
	}
	return r.root
}

// errRequestDone refuses a write after the request committed or rolled
// back: it would otherwise be lost or land outside the transaction.
var errRequestDone = errors.New("write after the request's transaction ended")

// join returns a Tx inside the request's transaction, as a savepoint,
// beginning the transaction at the first write.
func (r *Request) join(ctx context.Context) (*Tx, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.done {
		return nil, errRequestDone
	}
	if r.root == nil {
		root, err := r.d.beginTx(r.ctx)
		if err != nil {
			return nil, err
		}
		r.root = root
	}
	r.n++
	tx := &Tx{
		tx: r.root.tx, db: r.d, ctx: ctx, Now: r.root.Now,
		parent: r.root, savepoint: "w" + strconv.Itoa(r.n),
		mark: txMark{events: len(r.root.events), publicEvents: len(r.root.publicEvents), txID: r.root.txID, parked: maps.Clone(r.root.parked), unique: maps.Clone(r.root.uniqueInPreview)},
	}
	if _, err := tx.exec("SAVEPOINT " + tx.savepoint); err != nil {
		return nil, err
	}
	return tx, nil
}

// Commit commits the request's writes (none: nothing to do) and then wakes
// the event log's listeners and runs the commit hooks, once. When a unique
// value is still held twice at the end (see park), or the commit fails,
// nothing is written and the error is returned: an EINVALID one carries
// the Blame of the write that took the value (see Blamed).
func (r *Request) Commit() error {
	r.mu.Lock()
	root := r.root
	r.done = true
	r.mu.Unlock()
	if root == nil {
		return nil
	}
	if err := root.Commit(); err != nil {
		root.Rollback()
		return err
	}
	return nil
}

// Rollback discards the request's writes. After Commit it does nothing.
func (r *Request) Rollback() error {
	r.mu.Lock()
	root := r.root
	done := r.done
	r.done = true
	r.mu.Unlock()
	if root == nil || done {
		return nil
	}
	return root.Rollback()
}

// Wrote reports whether the request has begun its transaction (made a
// write).
func (r *Request) Wrote() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.root != nil
}

type blameKey struct{}

// WithBlame tags the writes made with ctx with v (a GraphQL field's path,
// say): an error found only at commit about one of them carries v, so the
// caller can tell which part of the request failed.
func WithBlame(ctx context.Context, v any) context.Context {
	return context.WithValue(ctx, blameKey{}, v)
}

// BlamedError is an error found at commit, with the Blame of the write it
// is about (nil when that write had none).
type BlamedError struct {
	Err   error
	Blame any
}

// Error returns the underlying error's message.
func (e *BlamedError) Error() string { return e.Err.Error() }

// Unwrap returns the underlying error (a *Error for a unique value).
func (e *BlamedError) Unwrap() error { return e.Err }

// Blamed returns the Blame an error carries (see WithBlame), or nil.
func Blamed(err error) any {
	var b *BlamedError
	if errors.As(err, &b) {
		return b.Blame
	}
	return nil
}

// Unique values (slugs per type, trend ranks, FAQ positions) are UNIQUE in
// the tables, and SQLite cannot defer a UNIQUE constraint to the commit.
// So a write that takes a value another row holds parks that row: sets its
// column to a value no real item can have (a slug with a character slugs
// never contain, a negative rank or position) and records it here. When
// the parked row is written again (given a value of its own) or deleted,
// it is unparked. At commit, a row still parked gets its value back when
// it is free again (its taker moved on); when another row holds it, the
// value is held twice and the commit fails with the error of the write
// that took it. The
// writer connection is single and the transaction immediate, so no other
// writer sees or changes a parked row, and readers never see one: they
// read the last commit.

type parkKey struct {
	t   TypeName
	col string
	id  int64
}

// parking is one parked row: its real value and the error to report if it
// stays parked.
type parking struct {
	value any
	err   error
}

// uniqueCols are the columns of each type whose values are unique.
var uniqueCols = map[TypeName][]string{
	TypeTrend:     {"slug", "rank"},
	TypeFramework: {"slug"},
	TypeCompany:   {"slug"},
	TypeFAQ:       {"slug", "position"},
}

// parkedValue is what a parked row holds in col: unique per row, and never
// a value a real item may have.
func parkedValue(col string, id int64) any {
	if col == "slug" {
		return "~parked~" + strconv.FormatInt(id, 10)
	}
	return -id
}

// park makes value free for row id of type t in col: the row holding it, if
// any, is parked. fail builds the error to report if that row is still
// parked at commit.
func (w *writer) park(t TypeName, col string, id int64, value any, fail func(holder string) error) error {
	var holder int64
	var holderSlug string
	err := w.queryRow("SELECT id, slug FROM "+tableOf[t]+" WHERE "+col+" = ? AND id <> ?", value, id).Scan(&holder, &holderSlug)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return err
	}
	if _, err := w.exec("UPDATE "+tableOf[t]+" SET "+col+" = ? WHERE id = ?", parkedValue(col, holder), holder); err != nil {
		return err
	}
	root := w.tx.root()
	if root.parked == nil {
		root.parked = map[parkKey]*parking{}
	}
	if p := root.parked[parkKey{t, "slug", holder}]; p != nil {
		holderSlug = p.value.(string)
	}
	if col == "slug" {
		delete(w.ids[t], holderSlug)
	}
	perr := fail(holderSlug)
	if b := w.tx.ctx.Value(blameKey{}); b != nil {
		perr = &BlamedError{Err: perr, Blame: b}
	}
	root.parked[parkKey{t, col, holder}] = &parking{value: value, err: perr}
	return nil
}

// unpark forgets that row id of type t is parked: it was written with
// values of its own, or deleted.
func (tx *Tx) unpark(t TypeName, id int64) {
	root := tx.root()
	for _, col := range uniqueCols[t] {
		delete(root.parked, parkKey{t, col, id})
	}
}

// realValue returns the value a row really holds in col: its parked value
// when it is parked, else stored.
func (tx *Tx) realValue(t TypeName, col string, id int64, stored any) any {
	if p := tx.root().parked[parkKey{t, col, id}]; p != nil {
		return p.value
	}
	return stored
}

// isParked reports whether row id of type t is parked in col.
func (tx *Tx) isParked(t TypeName, col string, id int64) bool {
	return tx.root().parked[parkKey{t, col, id}] != nil
}

// checkParked gives every parked row its value back, in a stable order
// (type, column, row). A value that is free again (its taker moved on or
// was deleted) simply returns: the row never changed as far as anyone can
// see. A value still held by another row fails with the error of the
// write that took it.
func (tx *Tx) checkParked() error {
	keys := make([]parkKey, 0, len(tx.parked))
	for k := range tx.parked {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b parkKey) int {
		return cmp.Or(cmp.Compare(a.t, b.t), cmp.Compare(a.col, b.col), cmp.Compare(a.id, b.id))
	})
	for _, k := range keys {
		p := tx.parked[k]
		_, err := tx.exec("UPDATE "+tableOf[k.t]+" SET "+k.col+" = ? WHERE id = ?", p.value, k.id)
		if tx.isUniqueViolation(err) {
			return p.err
		}
		if err != nil {
			return err
		}
		delete(tx.parked, k)
	}
	return nil
}
