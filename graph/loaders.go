package graph

import (
	"context"
	"sync"
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
//
// A loader batches the keys that arrive within its wait window, which
// under load or the race detector may miss a slow sibling and split a
// batch. So items also know their siblings (the other items of the page or
// relation they were loaded with), and the first item to ask for a relation
// enqueues the keys of all its siblings at once: later siblings find their
// result already on its way.
type Loaders struct {
	siblings *siblings

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

	// PublishedSlug tells whether an item (by type and slug) is published,
	// for the documents anonymous callers get in the changes feed.
	PublishedSlug *dataloadgen.Loader[db.SlugKey, bool]

	// Event and AttemptsOfDelivery serve webhook deliveries.
	Event              *dataloadgen.Loader[int64, *db.Event]
	AttemptsOfDelivery *dataloadgen.Loader[int64, []*db.WebhookAttempt]
}

// NewLoaders returns fresh loaders over d. Loaders cache for their
// lifetime, so make one set per request.
func NewLoaders(d *db.DB) *Loaders {
	opts := []dataloadgen.Option{dataloadgen.WithWait(loaderWait)}
	sib := &siblings{}
	return &Loaders{
		siblings:  sib,
		Trend:     dataloadgen.NewMappedLoader(d.TrendsByIDs, opts...),
		Framework: dataloadgen.NewMappedLoader(d.FrameworksByIDs, opts...),
		Company:   dataloadgen.NewMappedLoader(d.CompaniesByIDs, opts...),
		FAQ:       dataloadgen.NewMappedLoader(d.FAQsByIDs, opts...),

		CompaniesOfFramework: listLoader(sib, d.CompaniesOfFrameworks, opts),
		TrendsOfFramework:    listLoader(sib, d.TrendsOfFrameworks, opts),
		FAQsOfFramework:      listLoader(sib, d.FAQsOfFrameworks, opts),
		FrameworksOfCompany:  listLoader(sib, d.FrameworksOfCompanies, opts),
		TrendsOfCompany:      listLoader(sib, d.TrendsOfCompanies, opts),
		CompaniesOfTrend:     listLoader(sib, d.CompaniesOfTrends, opts),
		FrameworksOfTrend:    listLoader(sib, d.FrameworksOfTrends, opts),
		FAQsOfTrend:          listLoader(sib, d.FAQsOfTrends, opts),
		FrameworksOfFAQ:      listLoader(sib, d.FrameworksOfFAQs, opts),
		TrendsOfFAQ:          listLoader(sib, d.TrendsOfFAQs, opts),
		PublishedSlug: dataloadgen.NewMappedLoader(func(ctx context.Context, keys []db.SlugKey) (map[db.SlugKey]bool, error) {
			m, err := d.PublishedSlugs(ctx, keys)
			if err != nil {
				return nil, err
			}
			for _, k := range keys {
				if !m[k] {
					m[k] = false // absent: not published, rather than ErrNotFound
				}
			}
			return m, nil
		}, opts...),
		Event:              dataloadgen.NewMappedLoader(d.EventsByIDs, opts...),
		AttemptsOfDelivery: dataloadgen.NewMappedLoader(d.AttemptsOfDeliveries, opts...),
	}
}

// listLoader wraps a one-to-many fetch so that keys with no related rows
// get an empty list rather than dataloadgen's ErrNotFound, and so that all
// rows one fetch returns become siblings.
func listLoader[V db.Node](sib *siblings, fetch func(context.Context, []int64) (map[int64][]V, error), opts []dataloadgen.Option) *dataloadgen.Loader[int64, []V] {
	return dataloadgen.NewMappedLoader(func(ctx context.Context, keys []int64) (map[int64][]V, error) {
		m, err := fetch(ctx, keys)
		if err != nil {
			return nil, err
		}
		var all []V
		for _, k := range keys {
			if m[k] == nil {
				m[k] = []V{}
			}
			all = append(all, m[k]...)
		}
		sib.add(all)
		return m, nil
	}, opts...)
}

// siblings records, per request, which items were loaded together.
type siblings struct {
	mu sync.Mutex
	m  map[db.Node]*batch
}

// batch is a set of items loaded together, and the loaders that have
// already been asked for all of them.
type batch struct {
	ids  []int64
	mu   sync.Mutex
	sent map[any]bool
}

// add makes items siblings of each other.
func add[V db.Node](s *siblings, items []V) {
	if len(items) < 2 {
		return
	}
	b := &batch{ids: make([]int64, 0, len(items)), sent: map[any]bool{}}
	seen := make(map[int64]bool, len(items))
	for _, it := range items {
		if id := rowID(it); !seen[id] {
			seen[id] = true
			b.ids = append(b.ids, id)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = make(map[db.Node]*batch, len(items))
	}
	for _, it := range items {
		s.m[it] = b
	}
}

func (s *siblings) add(items any) {
	switch v := items.(type) {
	case []*db.Trend:
		add(s, v)
	case []*db.Framework:
		add(s, v)
	case []*db.Company:
		add(s, v)
	case []*db.FAQ:
		add(s, v)
	}
}

func rowID(n db.Node) int64 {
	switch v := n.(type) {
	case *db.Trend:
		return v.RowID
	case *db.Framework:
		return v.RowID
	case *db.Company:
		return v.RowID
	case *db.FAQ:
		return v.RowID
	}
	return 0
}

// loadRelation loads one item's relation through l, first enqueuing the
// item's siblings (once per loader) so the whole set shares one statement.
func loadRelation[V any](ctx context.Context, l *dataloadgen.Loader[int64, V], item db.Node) (V, error) {
	ls := loadersFrom(ctx)
	ls.siblings.mu.Lock()
	b := ls.siblings.m[item]
	ls.siblings.mu.Unlock()
	if b != nil {
		b.mu.Lock()
		if !b.sent[l] {
			b.sent[l] = true
			l.LoadAllThunk(ctx, b.ids)
		}
		b.mu.Unlock()
	}
	return l.Load(ctx, rowID(item))
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
