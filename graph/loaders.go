package graph

import (
	"context"
	"sync"
	"time"

	"github.com/trendql/trendql/db"
	"github.com/vikstrous/dataloadgen"
)

// loaderWait is how long a loader collects keys before it runs its one
// statement, for keys that arrive without siblings (lookups by id).
const loaderWait = time.Millisecond

// Loaders are the per-request dataloaders: every relation field and every
// lookup by id goes through one, so a nested query costs one statement per
// relation per level, whatever the page size.
//
// A plain loader batches the keys that arrive within its wait window: that
// costs the window's latency at every level, and under load a slow sibling
// misses the window and splits the batch. So items also know their
// siblings (the other items of the page or relation they were loaded
// with): the first item to ask for a relation fetches it for all its
// siblings in one statement and primes the loader, and the others find
// their result there. Batching is then deterministic and waits for nothing.
type Loaders struct {
	siblings *siblings

	Trend     *dataloadgen.Loader[int64, *db.Trend]
	Framework *dataloadgen.Loader[int64, *db.Framework]
	Company   *dataloadgen.Loader[int64, *db.Company]
	FAQ       *dataloadgen.Loader[int64, *db.FAQ]

	CompaniesOfFramework *relLoader[*db.Company]
	TrendsOfFramework    *relLoader[*db.Trend]
	FAQsOfFramework      *relLoader[*db.FAQ]
	FrameworksOfCompany  *relLoader[*db.Framework]
	TrendsOfCompany      *relLoader[*db.Trend]
	CompaniesOfTrend     *relLoader[*db.Company]
	FrameworksOfTrend    *relLoader[*db.Framework]
	FAQsOfTrend          *relLoader[*db.FAQ]
	FrameworksOfFAQ      *relLoader[*db.Framework]
	TrendsOfFAQ          *relLoader[*db.Trend]

	// Schedules of each content type, by row id: an item's pending
	// publishAt and unpublishAt.
	Schedules map[db.TypeName]*scheduleLoader

	// PublishedSlug tells whether an item (by type and slug) is published,
	// for the documents anonymous callers get in the changes feed.
	PublishedSlug *dataloadgen.Loader[db.SlugKey, bool]

	// Drafted and Changes tell token holders about published items' pending
	// drafts (hasUnpublishedChanges, unpublishedChanges).
	Drafted *itemLoader[bool]
	Changes *itemLoader[[]*db.FieldChange]

	// Event and AttemptsOfDelivery serve webhook deliveries.
	Event *dataloadgen.Loader[int64, *db.Event]

	// article reads the article, for node(id:) (there is one: nothing to
	// batch).
	article            func(context.Context) (*db.Article, error)
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

		CompaniesOfFramework: newRelLoader(sib, d.CompaniesOfFrameworks, opts),
		TrendsOfFramework:    newRelLoader(sib, d.TrendsOfFrameworks, opts),
		FAQsOfFramework:      newRelLoader(sib, d.FAQsOfFrameworks, opts),
		FrameworksOfCompany:  newRelLoader(sib, d.FrameworksOfCompanies, opts),
		TrendsOfCompany:      newRelLoader(sib, d.TrendsOfCompanies, opts),
		CompaniesOfTrend:     newRelLoader(sib, d.CompaniesOfTrends, opts),
		FrameworksOfTrend:    newRelLoader(sib, d.FrameworksOfTrends, opts),
		FAQsOfTrend:          newRelLoader(sib, d.FAQsOfTrends, opts),
		FrameworksOfFAQ:      newRelLoader(sib, d.FrameworksOfFAQs, opts),
		TrendsOfFAQ:          newRelLoader(sib, d.TrendsOfFAQs, opts),
		Schedules: map[db.TypeName]*scheduleLoader{
			db.TypeTrend: newScheduleLoader(d, db.TypeTrend, opts), db.TypeFramework: newScheduleLoader(d, db.TypeFramework, opts),
			db.TypeCompany: newScheduleLoader(d, db.TypeCompany, opts), db.TypeFAQ: newScheduleLoader(d, db.TypeFAQ, opts),
		},
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
		Drafted: newItemLoader(func(ctx context.Context, t db.TypeName, ids []int64) (map[int64]bool, error) {
			m, err := d.DraftedIDs(ctx, t, ids)
			if err != nil {
				return nil, err
			}
			for _, id := range ids {
				m[id] = m[id]
			}
			return m, nil
		}, opts),
		Changes: newItemLoader(func(ctx context.Context, t db.TypeName, ids []int64) (map[int64][]*db.FieldChange, error) {
			m, err := d.UnpublishedChanges(ctx, t, ids)
			if err != nil {
				return nil, err
			}
			out := make(map[int64][]*db.FieldChange, len(ids))
			for _, id := range ids {
				out[id] = []*db.FieldChange{}
				for i := range m[id] {
					out[id] = append(out[id], &m[id][i])
				}
			}
			return out, nil
		}, opts),
		Event:              dataloadgen.NewMappedLoader(d.EventsByIDs, opts...),
		AttemptsOfDelivery: dataloadgen.NewMappedLoader(d.AttemptsOfDeliveries, opts...),
		article:            d.Article,
	}
}

// relLoader is the dataloader of one relation, with the fetch behind it so
// that a whole set of siblings can be fetched and primed at once.
type relLoader[V db.Node] struct {
	*dataloadgen.Loader[int64, []V]
	fetch func(context.Context, []int64) (map[int64][]V, error)
}

// newRelLoader wraps a one-to-many fetch so that keys with no related rows
// get an empty list rather than dataloadgen's ErrNotFound, and so that all
// rows one fetch returns become siblings.
func newRelLoader[V db.Node](sib *siblings, fetch func(context.Context, []int64) (map[int64][]V, error), opts []dataloadgen.Option) *relLoader[V] {
	wrapped := func(ctx context.Context, keys []int64) (map[int64][]V, error) {
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
	}
	return &relLoader[V]{Loader: dataloadgen.NewMappedLoader(wrapped, opts...), fetch: wrapped}
}

// siblings records, per request, which items were loaded together.
type siblings struct {
	mu sync.Mutex
	m  map[db.Node]*batch
}

// batch is a set of items loaded together, and the relations already
// fetched for all of them.
type batch struct {
	ids     []int64
	mu      sync.Mutex
	fetched map[any]*sync.Once
}

// add makes items siblings of each other. A lone item (a lookup by slug)
// is a batch of one: its relations load at once, with no window to wait
// out for siblings it does not have.
func add[V db.Node](s *siblings, items []V) {
	if len(items) == 0 {
		return
	}
	b := &batch{ids: make([]int64, 0, len(items)), fetched: map[any]*sync.Once{}}
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
	case *db.Trend:
		add(s, []*db.Trend{v})
	case *db.Framework:
		add(s, []*db.Framework{v})
	case *db.Company:
		add(s, []*db.Company{v})
	case *db.FAQ:
		add(s, []*db.FAQ{v})
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

// loadRelation loads one item's relation. For an item with siblings, the
// first call fetches the relation for all of them in one statement and
// primes the loader; the item's own load then finds its result there.
func loadRelation[V db.Node](ctx context.Context, l *relLoader[V], item db.Node) ([]V, error) {
	primeSiblings(ctx, l, item, l.fetch, l.Prime)
	return l.Load(ctx, rowID(item))
}

// primeSiblings, for an item loaded with siblings, has the first of them to
// ask fetch (in one statement) the value for all of them and prime its
// loader with it; key names that loader (one fetch per batch and key). An
// error is dropped: the item's own load then fetches again and reports it.
// Without it a loader would batch by its time window alone, which a busy
// machine splits.
func primeSiblings[V any](ctx context.Context, key any, item db.Node, fetch func(context.Context, []int64) (map[int64]V, error), prime func(int64, V) bool) {
	ls := loadersFrom(ctx)
	ls.siblings.mu.Lock()
	b := ls.siblings.m[item]
	ls.siblings.mu.Unlock()
	if b == nil {
		return
	}
	b.mu.Lock()
	once := b.fetched[key]
	if once == nil {
		once = &sync.Once{}
		b.fetched[key] = once
	}
	b.mu.Unlock()
	once.Do(func() {
		m, err := fetch(ctx, b.ids)
		if err != nil {
			return
		}
		for id, v := range m {
			prime(id, v)
		}
	})
}

type loadersKey struct{}

// requestLoaders holds a request's loaders, made at their first use: the
// compiled read path and the response cache answer most reads without
// them, and making two dozen loaders was an eighth of an uncached lookup's
// CPU time.
type requestLoaders struct {
	d    *db.DB
	once sync.Once
	l    *Loaders
}

func (h *requestLoaders) get() *Loaders {
	h.once.Do(func() {
		if h.l == nil {
			h.l = NewLoaders(h.d)
		}
	})
	return h.l
}

// reset empties the loaders' caches: what they hold from now on is read
// afresh.
func (h *requestLoaders) reset() { *h.get() = *NewLoaders(h.d) }

// WithLoaders returns ctx carrying l.
func WithLoaders(ctx context.Context, l *Loaders) context.Context {
	return context.WithValue(ctx, loadersKey{}, &requestLoaders{l: l})
}

// withLazyLoaders returns ctx carrying loaders over d, made when first
// used.
func withLazyLoaders(ctx context.Context, d *db.DB) context.Context {
	return context.WithValue(ctx, loadersKey{}, &requestLoaders{d: d})
}

// loadersFrom returns the request's loaders. Every request through
// NewHandler has them; a context without them is a programming error.
func loadersFrom(ctx context.Context) *Loaders {
	h, ok := ctx.Value(loadersKey{}).(*requestLoaders)
	if !ok {
		panic("graph: no dataloaders in context")
	}
	return h.get()
}

// itemRef names a content item for the loaders that serve every type.
type itemRef struct {
	t  db.TypeName
	id int64
}

// itemLoader is the dataloader of a value of any content item, with the
// fetch of one type's values behind it so that a whole set of siblings can
// be fetched and primed at once.
type itemLoader[V any] struct {
	*dataloadgen.Loader[itemRef, V]
	fetch func(context.Context, db.TypeName, []int64) (map[int64]V, error)
}

func newItemLoader[V any](fetch func(context.Context, db.TypeName, []int64) (map[int64]V, error), opts []dataloadgen.Option) *itemLoader[V] {
	return &itemLoader[V]{Loader: dataloadgen.NewMappedLoader(byType(fetch), opts...), fetch: fetch}
}

// itemLoaderKey names one type's fetch of an itemLoader in a batch.
type itemLoaderKey struct {
	l any
	t db.TypeName
}

// load loads item's value. As a relation, the first item of a page to ask
// fetches the values of the whole page in one statement.
func (l *itemLoader[V]) load(ctx context.Context, t db.TypeName, item db.Node) (V, error) {
	primeSiblings(ctx, itemLoaderKey{l, t}, item,
		func(ctx context.Context, ids []int64) (map[int64]V, error) { return l.fetch(ctx, t, ids) },
		func(id int64, v V) bool { return l.Prime(itemRef{t, id}, v) })
	return l.Load(ctx, itemRef{t, rowID(item)})
}

// byType turns a fetch of one type's items into a fetch of any items: one
// call (one statement) per type present among the keys.
func byType[V any](fetch func(context.Context, db.TypeName, []int64) (map[int64]V, error)) func(context.Context, []itemRef) (map[itemRef]V, error) {
	return func(ctx context.Context, keys []itemRef) (map[itemRef]V, error) {
		ids := map[db.TypeName][]int64{}
		for _, k := range keys {
			ids[k.t] = append(ids[k.t], k.id)
		}
		out := make(map[itemRef]V, len(keys))
		for t, list := range ids {
			m, err := fetch(ctx, t, list)
			if err != nil {
				return nil, err
			}
			for id, v := range m {
				out[itemRef{t, id}] = v
			}
		}
		return out, nil
	}
}
