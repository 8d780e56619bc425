package graph

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/trendql/trendql/db"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// Rate limits are cost-based token buckets, one per client: per API token
// for callers with one, per client IP for anonymous ones. A bucket holds
// points and refills at a steady rate up to its burst. What a client
// spends:
//
//   - every HTTP request (websocket upgrades and SSE streams included)
//     spends AdmissionCost when it arrives, before the response cache; a
//     response from the cache (or a 304) costs nothing more;
//   - every operation that executes — over HTTP, a websocket or SSE —
//     spends 1 + its estimated cost / CostPerPoint points after
//     validation and before any resolver runs (the estimate of
//     Limits.MaxCost: a page of 10 trends with their companies is ~1-2
//     points, an operation at the default cost limit ~250).
//
// A request that arrives while its bucket is empty, or an operation that
// costs more than the bucket holds, is refused: over HTTP with 429,
// Retry-After and RATE_LIMITED; over a websocket with an error message for
// that operation (the connection stays open); over SSE with an error
// event. A refusal spends nothing, and one at the door (empty bucket)
// costs no SQL and no GraphQL work.
//
// Failed authentication has its own bucket per client IP (every bad token
// costs a SQL lookup): once it is empty, requests with a token from that
// IP are refused with 429 before any lookup, until it refills.

// RateLimits configure the buckets. A rate of 0 turns that limit off.
type RateLimits struct {
	// AnonymousRPS and AnonymousBurst are the points per second and the
	// bucket size of each client IP without a token.
	AnonymousRPS   float64
	AnonymousBurst int
	// TokenRPS and TokenBurst are the same per API token.
	TokenRPS   float64
	TokenBurst int
	// AuthFailuresPerSecond and AuthFailureBurst bound failed
	// authentications (bad, revoked or expired tokens, malformed
	// Authorization) per client IP, on every transport.
	AuthFailuresPerSecond float64
	AuthFailureBurst      int
	// SubscriptionsPerConnection bounds the operations running at once on
	// one websocket (0: no bound).
	SubscriptionsPerConnection int
	// SubscriptionsPerClient bounds the subscriptions running at once for
	// one client (token, or IP without one) over all its websockets and
	// SSE streams (0: no bound).
	SubscriptionsPerClient int
	// TrustForwardedFor takes the client IP from X-Forwarded-For (only
	// behind a proxy that sets it).
	TrustForwardedFor bool
}

// Default rate limits (the server's flags; the zero RateLimits is off).
const (
	DefaultAnonymousRPS               = 50
	DefaultAnonymousBurst             = 1000
	DefaultTokenRPS                   = 200
	DefaultTokenBurst                 = 4000
	DefaultAuthFailuresPerSecond      = 1
	DefaultAuthFailureBurst           = 20
	DefaultSubscriptionsPerConnection = 100
	DefaultSubscriptionsPerClient     = 500
)

// Prices, in points.
const (
	// AdmissionCost is what every request spends at the door: a response
	// from the response cache costs this and nothing more.
	AdmissionCost = 0.02
	// CostPerPoint is how much estimated cost (see Limits) one point buys
	// on top of the 1 point every executed operation costs.
	CostPerPoint = 100
)

// operationPoints is what executing an operation of estimated cost c
// spends.
func operationPoints(c int) float64 { return 1 + float64(c)/CostPerPoint }

func init() {
	// A refused operation never ran: transports answer it as a request
	// error (gqlgen's websocket transport sends an "error" message for the
	// operation; over HTTP withRateLimit makes it a 429).
	errcode.RegisterErrorType(CodeRateLimited, errcode.KindProtocol)
}

// limiter holds one bucket per key, forgetting idle ones.
type limiter struct {
	cfg     RateLimits
	mu      sync.Mutex
	buckets map[string]*bucket
	sweep   time.Time
	refused prometheus.Counter
	subs    map[string]int // running subscriptions per client key
}

// bucket is a token bucket of points.
type bucket struct {
	points float64
	last   time.Time
}

func newLimiter(cfg RateLimits, reg prometheus.Registerer) *limiter {
	l := &limiter{cfg: cfg, buckets: map[string]*bucket{}, sweep: time.Now(), subs: map[string]int{}}
	l.refused = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "trendql_rate_limited_total", Help: "Requests and operations refused with RATE_LIMITED.",
	})
	reg.MustRegister(l.refused)
	return l
}

// take spends n points from key's bucket (rps per second, burst at most)
// when it holds them; otherwise it spends nothing and returns how long
// until it will. n over the burst is charged as the burst, so that any
// operation can run once the bucket is full.
func (l *limiter) take(key string, rps float64, burst int, n float64, now time.Time) (ok bool, retry time.Duration) {
	burst = max(burst, 1)
	n = min(n, float64(burst))
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.sweep) > time.Minute {
		for k, b := range l.buckets {
			// A bucket idle this long is full again: forgetting it changes
			// nothing.
			if now.Sub(b.last) > 5*time.Minute {
				delete(l.buckets, k)
			}
		}
		l.sweep = now
	}
	b := l.buckets[key]
	if b == nil {
		b = &bucket{points: float64(burst), last: now}
		l.buckets[key] = b
	}
	if now.After(b.last) {
		b.points = min(float64(burst), b.points+now.Sub(b.last).Seconds()*rps)
		b.last = now
	}
	if b.points >= n {
		b.points -= n
		return true, 0
	}
	return false, time.Duration((n - b.points) / rps * float64(time.Second))
}

// has reports whether key's bucket holds at least n points, spending
// nothing.
func (l *limiter) has(key string, rps float64, burst int, n float64, now time.Time) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.buckets[key]
	if b == nil {
		return true, 0
	}
	p := min(float64(max(burst, 1)), b.points+now.Sub(b.last).Seconds()*rps)
	if p >= n {
		return true, 0
	}
	return false, time.Duration((n - p) / rps * float64(time.Second))
}

// clientBucket returns the bucket of the caller in ctx: its token's, or
// its IP's.
func (l *limiter) clientBucket(ctx context.Context) (key string, rps float64, burst int) {
	if p := db.PrincipalFrom(ctx); p != nil {
		return "t:" + strconv.FormatInt(p.TokenID, 10), l.cfg.TokenRPS, l.cfg.TokenBurst
	}
	return "ip:" + clientIPFrom(ctx), l.cfg.AnonymousRPS, l.cfg.AnonymousBurst
}

// authFailed records a failed authentication from ip.
func (l *limiter) authFailed(ip string) {
	if l == nil || l.cfg.AuthFailuresPerSecond <= 0 {
		return
	}
	l.take("auth:"+ip, l.cfg.AuthFailuresPerSecond, l.cfg.AuthFailureBurst, 1, time.Now())
}

// authAllowed reports whether ip may try a token now: its failure bucket
// is not empty.
func (l *limiter) authAllowed(ip string) (bool, time.Duration) {
	if l == nil || l.cfg.AuthFailuresPerSecond <= 0 {
		return true, 0
	}
	ok, retry := l.has("auth:"+ip, l.cfg.AuthFailuresPerSecond, l.cfg.AuthFailureBurst, 1, time.Now())
	if !ok {
		l.refused.Inc()
	}
	return ok, retry
}

// acquireSubscription counts one more running subscription for the
// caller in ctx, or refuses it; release undoes it.
func (l *limiter) acquireSubscription(ctx context.Context) (release func(), err error) {
	if l == nil || l.cfg.SubscriptionsPerClient <= 0 {
		return func() {}, nil
	}
	key, _, _ := l.clientBucket(ctx)
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.subs[key] >= l.cfg.SubscriptionsPerClient {
		l.refused.Inc()
		return nil, &gqlerror.Error{
			Message:    fmt.Sprintf("too many subscriptions: at most %d at once per client (token, or IP without one); end one first", l.cfg.SubscriptionsPerClient),
			Extensions: map[string]any{"code": CodeRateLimited, "limit": "subscriptionsPerClient", "max": l.cfg.SubscriptionsPerClient},
		}
	}
	l.subs[key]++
	var once sync.Once
	return func() {
		once.Do(func() {
			l.mu.Lock()
			defer l.mu.Unlock()
			if l.subs[key]--; l.subs[key] <= 0 {
				delete(l.subs, key)
			}
		})
	}, nil
}

// retrySeconds is a Retry-After value: whole seconds, at least 1.
func retrySeconds(d time.Duration) int64 { return max(int64(math.Ceil(d.Seconds())), 1) }

func rateLimitedError(retry time.Duration, what string) *gqlerror.Error {
	secs := retrySeconds(retry)
	return &gqlerror.Error{
		Message:    fmt.Sprintf("%s: slow down and retry after %ds", what, secs),
		Extensions: map[string]any{"code": CodeRateLimited, "retryAfter": secs},
	}
}

type clientIPKey struct{}

// withClientIP puts the caller's IP in ctx.
func withClientIP(ctx context.Context, ip string) context.Context {
	return context.WithValue(ctx, clientIPKey{}, ip)
}

// clientIPFrom returns the caller's IP (set by withAuth).
func clientIPFrom(ctx context.Context) string {
	ip, _ := ctx.Value(clientIPKey{}).(string)
	return ip
}

// rateState is what withRateLimit and the operation charge (chargeOperation) share
// about one HTTP request: a refusal inside gqlgen becomes a 429.
type rateState struct {
	mu    sync.Mutex
	retry time.Duration // > 0: an operation was refused
}

type rateStateKey struct{}

func (s *rateState) refuse(retry time.Duration) {
	if s == nil {
		return
	}
	s.mu.Lock()
	s.retry = max(retry, time.Nanosecond)
	s.mu.Unlock()
}

func (s *rateState) refused() time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.retry
}

// withRateLimit charges every request AdmissionCost and refuses it with
// 429, Retry-After and RATE_LIMITED when the caller's bucket cannot pay:
// before the response cache, so a refusal costs no SQL and no GraphQL
// work. It runs after auth, so a token's requests count against the
// token, not the IP. An operation that chargeOperation refuses later
// is answered with 429 as well.
func withRateLimit(l *limiter, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key, rps, burst := l.clientBucket(r.Context())
		if rps <= 0 {
			next.ServeHTTP(w, r)
			return
		}
		if ok, retry := l.take(key, rps, burst, AdmissionCost, time.Now()); !ok {
			l.refused.Inc()
			tooMany(w, retry, "too many requests")
			return
		}
		st := &rateState{}
		r = r.WithContext(context.WithValue(r.Context(), rateStateKey{}, st))
		if streamOf(r) == streamWebsocket {
			// An upgraded connection has no status to change; its
			// operations are refused one by one with error messages.
			next.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(&rateWriter{ResponseWriter: w, st: st}, r)
	})
}

func tooMany(w http.ResponseWriter, retry time.Duration, what string) {
	secs := retrySeconds(retry)
	w.Header().Set("Retry-After", strconv.FormatInt(secs, 10))
	writeError(w, http.StatusTooManyRequests, CodeRateLimited,
		what+": slow down and retry after "+strconv.FormatInt(secs, 10)+"s")
}

// rateWriter turns the status of a response whose operation was refused
// by the rate limit into 429 with Retry-After.
type rateWriter struct {
	http.ResponseWriter
	st    *rateState
	wrote bool
}

func (w *rateWriter) WriteHeader(code int) {
	if w.wrote {
		return
	}
	w.wrote = true
	if retry := w.st.refused(); retry > 0 {
		h := w.Header()
		h.Set("Retry-After", strconv.FormatInt(retrySeconds(retry), 10))
		h.Set("Cache-Control", "no-store")
		code = http.StatusTooManyRequests
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *rateWriter) Write(p []byte) (int, error) {
	if !w.wrote {
		// A write without WriteHeader sends 200: decide the status first.
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(p)
}

// Flush implements http.Flusher (SSE).
func (w *rateWriter) Flush() { http.NewResponseController(w.ResponseWriter).Flush() }

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *rateWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// chargeOperation takes an operation's points from the client's bucket,
// on every transport, after validation and the query limits (an operation
// over them is refused without spending) and before any resolver. cost is
// the operation's estimated cost as the query limits measured it (for a
// subscription, the cost of one event: starting one is priced like one
// execution of it).
func (l *limiter) chargeOperation(ctx context.Context, cost float64) *gqlerror.Error {
	key, rps, burst := l.clientBucket(ctx)
	if rps <= 0 {
		return nil
	}
	n := operationPoints(int(math.Ceil(cost)))
	ok, retry := l.take(key, rps, burst, n, time.Now())
	if ok {
		return nil
	}
	l.refused.Inc()
	st, _ := ctx.Value(rateStateKey{}).(*rateState)
	if streamFrom(ctx) == streamWebsocket {
		st = nil // the upgrade's state: the connection's other operations go on
	}
	st.refuse(retry)
	return rateLimitedError(retry, fmt.Sprintf("too many requests (this operation costs %.0f points)", math.Ceil(n)))
}
