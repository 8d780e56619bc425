package graph

import (
	"context"
	"log/slog"
	"slices"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/trendql/trendql/db"
	"github.com/trendql/trendql/graph/model"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// Subscriptions are fed from the event log, each from its own cursor. One
// goroutine (logTail) reads what each commit appended, once for all
// subscriptions, and each subscription keeps from it what matches its
// filter and what its caller may see; a subscription replaying history
// from a since cursor reads the log itself until it has caught up. A slow
// subscriber never holds up another: its goroutine waits on a small
// channel while the transport writes, and the batches it has not reached
// stay in memory only as long as it is connected. A client that stops
// reading altogether is cut off by the transports' write timeouts (see
// withStreams), which cancels the subscription's context and ends its
// goroutine. Identical subscriptions go further and share one execution
// (see subscriptions in fanout.go).
const (
	// subscriptionBuffer is how many changes a subscription holds ready
	// ahead of its transport.
	subscriptionBuffer = 16
	// subscriptionBatch is how many events one read of the log takes
	// while a subscription catches up.
	subscriptionBatch = 100
)

// DefaultTokenRecheck is how often a long-lived subscription checks that
// its token still works before it delivers more.
const DefaultTokenRecheck = time.Minute

// changeFilter turns the types argument into a db filter.
func changeFilter(types []db.TypeName) db.ChangeFilter {
	return db.ChangeFilter{Types: types}
}

// startCursor returns the event id a feed starts after: the since cursor,
// or, when latest is set and since is nil, the newest event now.
func startCursor(ctx context.Context, d *db.DB, since *string, latest bool) (int64, error) {
	if since != nil {
		return db.DecodeChangeCursor("since", *since)
	}
	if !latest {
		return 0, nil
	}
	return d.LastEventID(ctx)
}

// changes resolves the changes query.
func changes(ctx context.Context, d *db.DB, since *string, first *int, types []db.TypeName) (*model.ChangeFeed, error) {
	after, err := startCursor(ctx, d, since, false)
	if err != nil {
		return nil, err
	}
	n := db.DefaultChangesPage
	if first != nil {
		n = *first
	}
	page, err := d.Changes(ctx, after, n, changeFilter(types))
	if err != nil {
		return nil, err
	}
	feed := &model.ChangeFeed{Changes: make([]*model.ContentChange, len(page.Events)), Cursor: db.EncodeChangeCursor(page.Next), HasMore: page.HasMore}
	byType := map[db.TypeName][]int64{}
	for i, e := range page.Events {
		feed.Changes[i] = &model.ContentChange{Revision: e}
		if e.Type.Content() {
			byType[e.Type] = append(byType[e.Type], e.ItemID)
		}
	}
	if selects(ctx, "changes", "node") {
		prefetchNodes(ctx, byType)
	}
	if !db.PrincipalFrom(ctx).Has(db.RoleViewer) && selects(ctx, "changes", "revision", "document") {
		// Events from before the public form was stored are projected
		// when read, asking which linked items are published: ask for the
		// whole page at once.
		var refs []db.SlugKey
		for _, e := range page.Events {
			if !e.Projected() {
				refs = append(refs, e.Refs()...)
			}
		}
		if len(refs) > 0 {
			loadersFrom(ctx).PublishedSlug.LoadAllThunk(ctx, refs)
		}
	}
	return feed, nil
}

// prefetchNodes loads the items of a page of changes at once, one
// statement per type, and makes them siblings, so that their relations
// also cost one statement each (see Loaders).
func prefetchNodes(ctx context.Context, byType map[db.TypeName][]int64) {
	l := loadersFrom(ctx)
	trends, _ := l.Trend.LoadAll(ctx, byType[db.TypeTrend])
	frameworks, _ := l.Framework.LoadAll(ctx, byType[db.TypeFramework])
	companies, _ := l.Company.LoadAll(ctx, byType[db.TypeCompany])
	faqs, _ := l.FAQ.LoadAll(ctx, byType[db.TypeFAQ])
	// Missing items (deleted, or invisible to the caller) come back nil.
	l.siblings.add(slices.DeleteFunc(trends, func(v *db.Trend) bool { return v == nil }))
	l.siblings.add(slices.DeleteFunc(frameworks, func(v *db.Framework) bool { return v == nil }))
	l.siblings.add(slices.DeleteFunc(companies, func(v *db.Company) bool { return v == nil }))
	l.siblings.add(slices.DeleteFunc(faqs, func(v *db.FAQ) bool { return v == nil }))
}

// selects reports whether the current field's selection reaches the
// field path (through fragments too).
func selects(ctx context.Context, path ...string) bool {
	oc := graphql.GetOperationContext(ctx)
	sel := graphql.GetFieldContext(ctx).Field.Selections
	for _, name := range path {
		found := false
		for _, f := range graphql.CollectFields(oc, sel, nil) {
			if f.Name == name {
				sel, found = f.Selections, true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// changeNode resolves ContentChange.node: the item now, as node(id:) sees it.
func changeNode(ctx context.Context, c *model.ContentChange) (db.Node, error) {
	if !c.Revision.Type.Content() {
		return nil, nil
	}
	n, err := loadNode(ctx, "itemId", c.Revision.ItemGlobalID())
	if err != nil || n == nil {
		return n, err
	}
	// SQLite hands the row id of a deleted newest row to the next one
	// created: an item created after the change is another item.
	if m := metaOf(n); m != nil && m.CreatedAt > c.Revision.At {
		return nil, nil
	}
	return n, nil
}

func metaOf(n db.Node) *db.Meta {
	switch v := n.(type) {
	case *db.Trend:
		return &v.Meta
	case *db.Framework:
		return &v.Meta
	case *db.Company:
		return &v.Meta
	case *db.FAQ:
		return &v.Meta
	}
	return nil
}

// revisionDocument resolves Revision.document: whole for viewers and
// above; for anonymous callers the public form the event stored (links to
// items unpublished at the time left out), or, for an event older than
// that, the document without the links to items unpublished now.
func revisionDocument(ctx context.Context, e *db.Event) (model.JSON, error) {
	if db.PrincipalFrom(ctx).Has(db.RoleViewer) || e.Projected() {
		return model.JSON(e.Document), nil
	}
	refs := e.Refs()
	if len(refs) == 0 {
		return model.JSON(e.Document), nil
	}
	published, err := loadersFrom(ctx).PublishedSlug.LoadAll(ctx, refs)
	if err != nil {
		return nil, err
	}
	public := make(map[db.SlugKey]bool, len(refs))
	for i, k := range refs {
		public[k] = published[i]
	}
	doc, err := e.PublicDocument(func(k db.SlugKey) bool { return public[k] })
	return model.JSON(doc), err
}

// revisionActor resolves Revision.actor: token names are not public.
func revisionActor(ctx context.Context, e *db.Event) string {
	if db.PrincipalFrom(ctx) == nil {
		return ""
	}
	return e.Actor
}

// subscribe starts a subscription's feed: the changes after since (or
// after the newest event now) that match f and that the caller may see,
// then every new one as it is committed. With untilDeleted the stream ends
// after the item's deletion. New events come from the shared log tail;
// history (a since cursor) is read from the log.
func (r *Resolver) subscribe(ctx context.Context, since *string, f db.ChangeFilter, untilDeleted bool) (<-chan *model.ContentChange, error) {
	// Join the tail before reading the head, so that nothing committed in
	// between is missed: the head is at least the tail's position.
	node, leave, err := r.tail.join(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return endedStream(), nil
		}
		return nil, err
	}
	cursor, err := startCursor(ctx, r.DB, since, true)
	if err == nil && since != nil {
		// Validate the cursor now, so a bad one fails the subscription
		// rather than ending it silently later.
		_, err = r.DB.Changes(ctx, cursor, 0, f)
	}
	if err != nil {
		leave()
		if ctx.Err() != nil {
			// The client ended it (or left) while it started: nothing
			// went wrong, there is just nothing to send.
			return endedStream(), nil
		}
		return nil, err
	}
	out := make(chan *model.ContentChange, subscriptionBuffer)
	go func() {
		defer close(out)
		defer leave()
		checked := time.Now()
		fail := func(err error) {
			if ctx.Err() == nil {
				r.log().ErrorContext(ctx, "subscription: reading the event log", "err", err)
				endWithError(ctx, &gqlerror.Error{Message: "internal server error", Extensions: map[string]any{"code": CodeInternalServerError}})
			}
		}
		// deliver sends the events the subscription keeps; false ends it.
		deliver := func(events []*db.Event) bool {
			if len(events) > 0 && time.Since(checked) >= r.tokenRecheck {
				ok, err := r.DB.TokenActive(ctx, db.PrincipalFrom(ctx))
				if err == nil && !ok {
					endWithError(ctx, &gqlerror.Error{Message: "the token of this subscription was revoked or has expired",
						Extensions: map[string]any{"code": CodeUnauthenticated}})
					return false
				}
				checked = time.Now()
			}
			for _, e := range events {
				select {
				case out <- &model.ContentChange{Revision: e}:
				case <-ctx.Done():
					return false
				}
				if untilDeleted && e.Action == db.ActionDelete {
					return false
				}
			}
			return true
		}
		for {
			if cursor < node.after {
				// Behind the tail: catch up from the log.
				page, err := r.DB.Changes(ctx, cursor, subscriptionBatch, f)
				if err != nil {
					fail(err)
					return
				}
				if !deliver(page.Events) {
					return
				}
				cursor = page.Next
				continue
			}
			select {
			case <-ctx.Done():
				return
			case <-node.ready:
			}
			if node.err != nil {
				fail(node.err)
				return
			}
			var keep []*db.Event
			redact := !db.PrincipalFrom(ctx).Has(db.RoleViewer)
			for _, e := range node.events {
				if e.ID > cursor && matches(f, e) && db.EventVisible(ctx, e) {
					// The tail's events are whole: callers who may not read
					// drafts get the public form, as the changes feed (and
					// so a subscription catching up) gives it: its changed
					// fields leave out links to unpublished items.
					if redact {
						e = e.Redact()
					}
					keep = append(keep, e)
				}
			}
			if !deliver(keep) {
				return
			}
			cursor = max(cursor, node.upTo)
			node = node.next
		}
	}()
	return out, nil
}

// endedStream is the feed of a subscription that ended before it started.
func endedStream() <-chan *model.ContentChange {
	ch := make(chan *model.ContentChange)
	close(ch)
	return ch
}

// itemSubscription checks that the item exists and is visible to the
// caller, and returns its filter.
func itemSubscription(ctx context.Context, d *db.DB, id string) (db.ChangeFilter, error) {
	t, n, err := db.DecodeID("id", id)
	if err != nil {
		return db.ChangeFilter{}, err
	}
	if !t.Content() {
		return db.ChangeFilter{}, db.Invalid("id", "id %q is a %s, not a content item", id, t)
	}
	if _, err := d.NodeByID(ctx, t, n); err != nil {
		if db.IsNotFound(err) {
			return db.ChangeFilter{}, db.Errorf(db.ENOTFOUND, "no %s with id %s", t, id)
		}
		return db.ChangeFilter{}, err
	}
	return db.ChangeFilter{Types: []db.TypeName{t}, ItemID: &n}, nil
}

func (r *Resolver) log() *slog.Logger {
	if r.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return r.Logger
}

// endWithError reports why a subscription ends, where the transport can
// carry it: the websocket protocol has an error message for one
// operation; SSE has none, so its stream just completes.
func endWithError(ctx context.Context, err *gqlerror.Error) {
	switch streamFrom(ctx) {
	case streamWebsocket:
		transport.AddSubscriptionError(ctx, err)
	case streamShared:
		if s, ok := ctx.Value(endSinkKey{}).(*endSink); ok {
			s.set(err)
		}
	}
}

// subscriptionExtension gives every event of a subscription fresh
// dataloaders (a loader caches for its lifetime, so the request's own
// would serve stale items and grow for as long as the subscription lives),
// and refuses subscriptions over plain HTTP, which cannot stream.
type subscriptionExtension struct{ db *db.DB }

var (
	_ graphql.ResponseInterceptor     = subscriptionExtension{}
	_ graphql.OperationContextMutator = subscriptionExtension{}
)

// ExtensionName implements graphql.HandlerExtension.
func (subscriptionExtension) ExtensionName() string { return "Subscriptions" }

// Validate implements graphql.HandlerExtension.
func (subscriptionExtension) Validate(graphql.ExecutableSchema) error { return nil }

// MutateOperationContext implements graphql.OperationContextMutator.
func (subscriptionExtension) MutateOperationContext(ctx context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	if oc.Operation != nil && oc.Operation.Operation == ast.Subscription && streamFrom(ctx) == "" {
		return &gqlerror.Error{
			Message: "subscriptions need a stream: open a graphql-transport-ws websocket, " +
				"or POST with Accept: text/event-stream",
			Extensions: map[string]any{"code": CodeBadUserInput},
		}
	}
	return nil
}

// InterceptResponse implements graphql.ResponseInterceptor.
func (s subscriptionExtension) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	if isSubscription(ctx) {
		ctx = withLazyLoaders(ctx, s.db)
	}
	return next(ctx)
}

func isSubscription(ctx context.Context) bool {
	if !graphql.HasOperationContext(ctx) {
		return false
	}
	oc := graphql.GetOperationContext(ctx)
	return oc != nil && oc.Operation != nil && oc.Operation.Operation == ast.Subscription
}
