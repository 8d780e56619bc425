package graph

import (
	"context"
	"errors"

	"github.com/trendql/trendql/db"
	"github.com/vikstrous/dataloadgen"
)

// maxNodes bounds nodes(ids:).
const maxNodes = 100

// lookup resolves a single-item root field that takes an id or a slug:
// exactly one must be given; an absent or invisible item is null.
func lookup[T any](ctx context.Context, t db.TypeName, id, slug *string,
	byID func(context.Context, int64) (T, error), bySlug func(context.Context, string) (T, error)) (T, error) {
	var zero T
	var v T
	var err error
	switch {
	case (id == nil) == (slug == nil):
		return zero, db.Invalid("id", "give either id or slug")
	case id != nil:
		n, derr := db.DecodeIDOf("id", t, *id)
		if derr != nil {
			return zero, derr
		}
		v, err = byID(ctx, n)
	default:
		v, err = bySlug(ctx, *slug)
	}
	if db.IsNotFound(err) || errors.Is(err, dataloadgen.ErrNotFound) {
		return zero, nil
	}
	return v, err
}

// loadNode resolves any global id through the type's loader; null when the
// item is absent or invisible.
func loadNode(ctx context.Context, field, id string) (db.Node, error) {
	t, n, err := db.DecodeID(field, id)
	if err != nil {
		return nil, err
	}
	l := loadersFrom(ctx)
	var node db.Node
	switch t {
	case db.TypeTrend:
		node, err = nonNil(l.Trend.Load(ctx, n))
	case db.TypeFramework:
		node, err = nonNil(l.Framework.Load(ctx, n))
	case db.TypeCompany:
		node, err = nonNil(l.Company.Load(ctx, n))
	case db.TypeFAQ:
		node, err = nonNil(l.FAQ.Load(ctx, n))
	}
	if errors.Is(err, dataloadgen.ErrNotFound) {
		return nil, nil
	}
	return node, err
}

// nonNil turns a typed nil pointer into a nil interface, so that a missing
// node serialises as null.
func nonNil[T interface {
	*E
	db.Node
}, E any](v T, err error) (db.Node, error) {
	if err != nil || v == nil {
		return nil, err
	}
	return v, nil
}

// loadNodes resolves several global ids; all loads share one batch per type.
func loadNodes(ctx context.Context, ids []string) ([]db.Node, error) {
	if len(ids) > maxNodes {
		return nil, db.Invalid("ids", "at most %d ids are allowed, got %d", maxNodes, len(ids))
	}
	for _, id := range ids {
		if _, _, err := db.DecodeID("ids", id); err != nil {
			return nil, err
		}
	}
	out := make([]db.Node, len(ids))
	errs := make([]error, len(ids))
	done := make(chan int, len(ids))
	for i, id := range ids {
		go func() {
			out[i], errs[i] = loadNode(ctx, "ids", id)
			done <- i
		}()
	}
	for range ids {
		<-done
	}
	return out, errors.Join(errs...)
}
