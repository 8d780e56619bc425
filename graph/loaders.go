package graph

import (
	"context"
	"time"

	"github.com/trendql/trendql/db"
	"github.com/vikstrous/dataloadgen"
)

// loaderWait is how long a loader collects keys before it runs its one
// statement. gqlgen resolves list items concurrently, so within this window
// every item of a page asks for its relation and they share one query.
const loaderWait = time.Millisecond

// Loaders are the per-request dataloaders: every relation field and every
// lookup by id goes through one, so a nested query costs one statement per
// relation per level, whatever the page size.
type Loaders struct {
	Trend     *dataloadgen.Loader[int64, *db.Trend]
	Framework *dataloadgen.Loader[int64, *db.Framework]
	Company   *dataloadgen.Loader[int64, *db.Company]
	FAQ       *dataloadgen.Loader[int64, *db.FAQ]

	CompaniesOfFramework *dataloadgen.Loader[int64, []*db.Company]
	TrendsOfFramework    *dataloadgen.Loader[int64, []*db.Trend]
	FAQsOfFramework      *dataloadgen.Loader[int64, []*db.FAQ]
	FrameworksOfCompany  *dataloadgen.Loader[int64, []*db.Framework]
	TrendsOfCompany      *dataloadgen.Loader[int64, []*db.Trend]
	CompaniesOfTrend     *dataloadgen.Loader[int64, []*db.Company]
	FrameworksOfTrend    *dataloadgen.Loader[int64, []*db.Framework]
	FAQsOfTrend          *dataloadgen.Loader[int64, []*db.FAQ]
	FrameworksOfFAQ      *dataloadgen.Loader[int64, []*db.Framework]
	TrendsOfFAQ          *dataloadgen.Loader[int64, []*db.Trend]
}

// NewLoaders returns fresh loaders over d. Loaders cache for their
// lifetime, so make one set per request.
func NewLoaders(d *db.DB) *Loaders {
	opts := []dataloadgen.Option{dataloadgen.WithWait(loaderWait)}
	return &Loaders{
		Trend:     dataloadgen.NewMappedLoader(d.TrendsByIDs, opts...),
		Framework: dataloadgen.NewMappedLoader(d.FrameworksByIDs, opts...),
		Company:   dataloadgen.NewMappedLoader(d.CompaniesByIDs, opts...),
		FAQ:       dataloadgen.NewMappedLoader(d.FAQsByIDs, opts...),

		CompaniesOfFramework: listLoader(d.CompaniesOfFrameworks, opts),
		TrendsOfFramework:    listLoader(d.TrendsOfFrameworks, opts),
		FAQsOfFramework:      listLoader(d.FAQsOfFrameworks, opts),
		FrameworksOfCompany:  listLoader(d.FrameworksOfCompanies, opts),
		TrendsOfCompany:      listLoader(d.TrendsOfCompanies, opts),
		CompaniesOfTrend:     listLoader(d.CompaniesOfTrends, opts),
		FrameworksOfTrend:    listLoader(d.FrameworksOfTrends, opts),
		FAQsOfTrend:          listLoader(d.FAQsOfTrends, opts),
		FrameworksOfFAQ:      listLoader(d.FrameworksOfFAQs, opts),
		TrendsOfFAQ:          listLoader(d.TrendsOfFAQs, opts),
	}
}

// listLoader wraps a one-to-many fetch so that keys with no related rows
// get an empty list rather than dataloadgen's ErrNotFound.
func listLoader[V any](fetch func(context.Context, []int64) (map[int64][]V, error), opts []dataloadgen.Option) *dataloadgen.Loader[int64, []V] {
	return dataloadgen.NewMappedLoader(func(ctx context.Context, keys []int64) (map[int64][]V, error) {
		m, err := fetch(ctx, keys)
		if err != nil {
			return nil, err
		}
		for _, k := range keys {
			if m[k] == nil {
				m[k] = []V{}
			}
		}
		return m, nil
	}, opts...)
}

type loadersKey struct{}

// WithLoaders returns ctx carrying l.
func WithLoaders(ctx context.Context, l *Loaders) context.Context {
	return context.WithValue(ctx, loadersKey{}, l)
}

// loadersFrom returns the request's loaders. Every request through
// NewHandler has them; a context without them is a programming error.
func loadersFrom(ctx context.Context) *Loaders {
	l, ok := ctx.Value(loadersKey{}).(*Loaders)
	if !ok {
		panic("graph: no dataloaders in context")
	}
	return l
}
