package graph

import (
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/trendql/trendql/db"
	"golang.org/x/time/rate"
)

// RateLimits are token buckets per client: per token for requests that
// carry one, per client IP for anonymous ones. A rate of 0 turns that
// limit off.
type RateLimits struct {
	// AnonymousRPS and AnonymousBurst limit each client IP.
	AnonymousRPS   float64
	AnonymousBurst int
	// TokenRPS and TokenBurst limit each API token.
	TokenRPS   float64
	TokenBurst int
	// SubscriptionsPerConnection bounds the operations running at once on
	// one websocket (0: no bound).
	SubscriptionsPerConnection int
	// TrustForwardedFor takes the client IP from X-Forwarded-For (only
	// behind a proxy that sets it).
	TrustForwardedFor bool
}

// Default rate limits.
const (
	DefaultAnonymousRPS   = 50
	DefaultAnonymousBurst = 100
	DefaultTokenRPS       = 200
	DefaultTokenBurst     = 400
)

// limiter holds one bucket per key, forgetting idle ones.
type limiter struct {
	cfg     RateLimits
	mu      sync.Mutex
	buckets map[string]*bucket
	sweep   time.Time
	refused prometheus.Counter
}

type bucket struct {
	lim  *rate.Limiter
	seen time.Time
}

func newLimiter(cfg RateLimits, reg prometheus.Registerer) *limiter {
	l := &limiter{cfg: cfg, buckets: map[string]*bucket{}, sweep: time.Now()}
	l.refused = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "trendql_rate_limited_total", Help: "Requests refused with RATE_LIMITED.",
	})
	reg.MustRegister(l.refused)
	return l
}

// reserve takes one request from key's bucket; it returns how long to wait
// when the bucket is empty.
func (l *limiter) reserve(key string, rps float64, burst int, now time.Time) (ok bool, retry time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.sweep) > time.Minute {
		for k, b := range l.buckets {
			if now.Sub(b.seen) > 5*time.Minute {
				delete(l.buckets, k)
			}
		}
		l.sweep = now
	}
	b := l.buckets[key]
	if b == nil {
		b = &bucket{lim: rate.NewLimiter(rate.Limit(rps), burst)}
		l.buckets[key] = b
	}
	b.seen = now
	r := b.lim.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, d
	}
	return true, 0
}

// withRateLimit refuses requests over their bucket with 429, Retry-After
// and RATE_LIMITED. It runs after auth, so a token's requests count
// against the token, not the IP.
func withRateLimit(l *limiter, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key, rps, burst := "", 0.0, 0
		if p := db.PrincipalFrom(r.Context()); p != nil {
			key, rps, burst = "t:"+strconv.FormatInt(p.TokenID, 10), l.cfg.TokenRPS, l.cfg.TokenBurst
		} else {
			key, rps, burst = "ip:"+clientIP(r, l.cfg.TrustForwardedFor), l.cfg.AnonymousRPS, l.cfg.AnonymousBurst
		}
		if rps > 0 {
			if ok, retry := l.reserve(key, rps, max(burst, 1), time.Now()); !ok {
				l.refused.Inc()
				secs := int64(math.Ceil(retry.Seconds()))
				w.Header().Set("Retry-After", strconv.FormatInt(max(secs, 1), 10))
				writeError(w, http.StatusTooManyRequests, CodeRateLimited,
					"too many requests: slow down and retry after "+strconv.FormatInt(max(secs, 1), 10)+"s")
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}
