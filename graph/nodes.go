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
	if err == nil {
		loadersFrom(ctx).siblings.add(v)
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
	case db.TypeArticle:
		if n == 1 {
			node, err = nonNil(l.article(ctx))
		}
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
	// Enqueue every id of a type at once, so each type costs one statement.
	byType := map[db.TypeName][]int64{}
	for _, id := range ids {
		t, n, _ := db.DecodeID("ids", id)
		byType[t] = append(byType[t], n)
	}
	l := loadersFrom(ctx)
	l.Trend.LoadAllThunk(ctx, byType[db.TypeTrend])
	l.Framework.LoadAllThunk(ctx, byType[db.TypeFramework])
	l.Company.LoadAllThunk(ctx, byType[db.TypeCompany])
	l.FAQ.LoadAllThunk(ctx, byType[db.TypeFAQ])
	out := make([]db.Node, len(ids))
	errs := make([]error, len(ids))
	for i, id := range ids {
		out[i], errs[i] = loadNode(ctx, "ids", id)
	}
	return out, errors.Join(errs...)
}
