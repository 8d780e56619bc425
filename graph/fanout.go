package graph

import (
	"context"
	"encoding/json"
	"strconv"
	"sync"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/trendql/trendql/db"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// Identical subscriptions share one execution. Subscriptions that start
// "from now" (no since cursor) with the same document, operation name,
// variables and visibility (anonymous, or the same token) would compute
// the same responses from the same events: the first one runs — one read
// of the event log per commit, one resolution of each change — and every
// other one reads its responses from a shared list. So 1,000 identical
// subscriptions cost what one costs per commit, in SQL and in goroutines
// (one per subscription remains: gqlgen's transport runs each operation on
// its own goroutine).
//
// Each subscriber walks the list at its own pace: one that reads slowly
// holds up no one; the responses it has not sent yet stay in memory until
// it does, or until the transport's write timeout cuts it off. The group
// ends when its last subscriber leaves, or with its stream (the item's
// deletion, a revoked token), which every subscriber then sees.

// subscriptions is the gqlgen extension that caps, counts and shares
// subscriptions.
type subscriptions struct {
	lim     *limiter
	metrics *Metrics

	mu     sync.Mutex
	groups map[string]*subGroup
}

var _ graphql.OperationInterceptor = (*subscriptions)(nil)

func newSubscriptions(lim *limiter, m *Metrics) *subscriptions {
	return &subscriptions{lim: lim, metrics: m, groups: map[string]*subGroup{}}
}

// ExtensionName implements graphql.HandlerExtension.
func (*subscriptions) ExtensionName() string { return "SharedSubscriptions" }

// Validate implements graphql.HandlerExtension.
func (*subscriptions) Validate(graphql.ExecutableSchema) error { return nil }

// subGroup is one shared execution.
type subGroup struct {
	key     string
	cancel  context.CancelFunc
	members int  // guarded by subscriptions.mu
	ended   bool // guarded by subscriptions.mu

	mu   sync.Mutex
	tail *subNode // the next response to come
}

// subNode is one response of a group; ready is closed once it is set.
// The last node has no response, and err says why the stream ended.
type subNode struct {
	ready chan struct{}
	resp  *graphql.Response
	err   *gqlerror.Error
	next  *subNode
}

// InterceptOperation implements graphql.OperationInterceptor.
func (s *subscriptions) InterceptOperation(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	oc := graphql.GetOperationContext(ctx)
	if oc.Operation == nil || oc.Operation.Operation != ast.Subscription {
		return next(ctx)
	}
	release, err := s.lim.acquireSubscription(ctx)
	if err != nil {
		return refuseOperation(ctx, err.(*gqlerror.Error))
	}
	if s.metrics != nil {
		s.metrics.subscriptions.Inc()
	}
	context.AfterFunc(ctx, func() {
		release()
		if s.metrics != nil {
			s.metrics.subscriptions.Dec()
		}
	})
	key, ok := shareKey(ctx, oc)
	if !ok {
		return next(ctx)
	}
	return s.join(ctx, key, next)
}

// refuseOperation ends an operation before it starts: with an error
// message on a websocket, an error response elsewhere.
func refuseOperation(ctx context.Context, err *gqlerror.Error) graphql.ResponseHandler {
	if streamFrom(ctx) == streamWebsocket {
		transport.AddSubscriptionError(ctx, err)
		return func(context.Context) *graphql.Response { return nil }
	}
	return graphql.OneShot(&graphql.Response{Errors: gqlerror.List{err}})
}

// shareKey is what identical subscriptions have in common; ok is false
// for those that cannot share (a since cursor replays history from its
// own point).
func shareKey(ctx context.Context, oc *graphql.OperationContext) (string, bool) {
	for _, sel := range oc.Operation.SelectionSet {
		f, ok := sel.(*ast.Field)
		if !ok {
			return "", false
		}
		if v, ok := f.ArgumentMap(oc.Variables)["since"]; ok && v != nil {
			return "", false
		}
	}
	vars, err := json.Marshal(oc.Variables) // map keys sorted: canonical
	if err != nil {
		return "", false
	}
	who := "anonymous"
	if p := db.PrincipalFrom(ctx); p != nil {
		who = "token:" + strconv.FormatInt(p.TokenID, 10)
		if db.Previewing(ctx) {
			who += ":preview"
		}
	}
	return who + "\x00" + oc.OperationName + "\x00" + oc.RawQuery + "\x00" + string(vars), true
}

// join adds a subscriber to the group of key, starting the group when
// there is none.
func (s *subscriptions) join(ctx context.Context, key string, next graphql.OperationHandler) graphql.ResponseHandler {
	s.mu.Lock()
	g := s.groups[key]
	var node *subNode
	if g == nil || g.ended {
		// The starter reads from the group's first response: its execution
		// runs already and may have published that one (an error, say).
		g, node = s.start(ctx, key, next)
		s.groups[key] = g
	} else {
		// Read the tail while the group is surely live (an execution that
		// ends takes s.mu before it publishes its end): a joiner never
		// starts past the end it would otherwise miss.
		g.mu.Lock()
		node = g.tail
		g.mu.Unlock()
	}
	g.members++
	s.mu.Unlock()
	context.AfterFunc(ctx, func() { s.leave(g) })
	// The transport calls the handler with the context the executor gave
	// it, which for the subscriber that started the group is the group's:
	// watch and report to the subscriber's own.
	sub := ctx
	return func(ctx context.Context) *graphql.Response {
		select {
		case <-node.ready:
		case <-ctx.Done():
			return nil
		case <-sub.Done():
			return nil
		}
		if node.resp == nil {
			if node.err != nil {
				endWithError(sub, node.err)
			}
			return nil
		}
		resp := node.resp
		node = node.next
		return resp
	}
}

// leave removes a subscriber; the last one out stops the group.
func (s *subscriptions) leave(g *subGroup) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if g.members--; g.members == 0 {
		if s.groups[g.key] == g {
			delete(s.groups, g.key)
		}
		g.ended = true
		g.cancel()
	}
}

// start runs a group's execution, detached from the subscriber that
// starts it (which may leave before the others). Called with s.mu held.
func (s *subscriptions) start(ctx context.Context, key string, next graphql.OperationHandler) (*subGroup, *subNode) {
	sink := &endSink{}
	gctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	gctx = context.WithValue(context.WithValue(gctx, streamKey{}, streamShared), endSinkKey{}, sink)
	first := &subNode{ready: make(chan struct{})}
	g := &subGroup{key: key, cancel: cancel, tail: first}
	h := next(gctx)
	go func() {
		defer cancel()
		for {
			resp := h(gctx)
			if resp != nil && len(resp.Errors) > 0 && (len(resp.Data) == 0 || string(resp.Data) == "null") {
				// An execution that failed to start (NOT_FOUND, say) answers
				// its error once and ends: no one joins it from now on, so
				// no joiner starts after the error.
				s.mu.Lock()
				if s.groups[key] == g {
					delete(s.groups, key)
				}
				g.ended = true
				s.mu.Unlock()
			}
			if resp != nil {
				// The executor writes each event's data into one buffer it
				// reuses for the next: subscribers get their own copy.
				c := *resp
				c.Data = append([]byte(nil), resp.Data...)
				resp = &c
			}
			g.mu.Lock()
			n := g.tail
			n.resp = resp
			if resp != nil {
				n.next = &subNode{ready: make(chan struct{})}
				g.tail = n.next
			} else {
				n.err = sink.get()
			}
			g.mu.Unlock()
			if resp == nil {
				// New subscribers start a new group from now on; those
				// already in see the end.
				s.mu.Lock()
				if s.groups[key] == g {
					delete(s.groups, key)
				}
				g.ended = true
				s.mu.Unlock()
				close(n.ready)
				return
			}
			close(n.ready)
		}
	}()
	return g, first
}

// endSink keeps the error a shared execution ended with, for its
// subscribers' transports.
type endSink struct {
	mu  sync.Mutex
	err *gqlerror.Error
}

type endSinkKey struct{}

func (s *endSink) set(err *gqlerror.Error) {
	s.mu.Lock()
	s.err = err
	s.mu.Unlock()
}

func (s *endSink) get() *gqlerror.Error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}
