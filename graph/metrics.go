package graph

import (
	"context"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/trendql/trendql/db"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"
)

// maxOperationLabels bounds the distinct operation names the metrics keep;
// operation names come from clients, so later ones are counted as "other".
const maxOperationLabels = 200

// Metrics are the Prometheus collectors of one handler, on a registry of
// its own (no globals, so tests can run handlers side by side).
type Metrics struct {
	Registry *prometheus.Registry
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec

	subscriptions prometheus.Gauge

	mu  sync.Mutex
	ops map[string]bool
}

func newMetrics(d *db.DB) *Metrics {
	readPool, writePool := d.Pools()
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "trendql_graphql_requests_total",
			Help: "GraphQL operations answered, by operation name and result code (OK or the first error's extensions.code).",
		}, []string{"operation", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "trendql_graphql_request_duration_seconds",
			Help:    "Time to answer a GraphQL operation, by operation name.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"operation"}),
		subscriptions: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "trendql_subscriptions_active",
			Help: "Subscriptions currently streaming changes.",
		}),
		ops: map[string]bool{},
	}
	m.Registry.MustRegister(
		m.requests, m.latency, m.subscriptions,
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "trendql_db_queries_total",
			Help: "SQL statements executed against the database.",
		}, func() float64 { return float64(d.QueryCount()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "trendql_schedules_applied_total",
			Help: "Scheduled publications and take-downs this process applied.",
		}, func() float64 { a, _ := d.ScheduleCounts(); return float64(a) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "trendql_schedules_failed_total",
			Help: "Schedules this process could not apply and dropped (see the scheduleLog query).",
		}, func() float64 { _, f := d.ScheduleCounts(); return float64(f) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "trendql_row_cache_hits_total",
			Help: "Content rows a read took from the row cache instead of decoding them.",
		}, func() float64 { return float64(d.RowCacheStats().Hits) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "trendql_row_cache_misses_total",
			Help: "Reads that found a row missing from the row cache (or at another version) and read their rows in full.",
		}, func() float64 { return float64(d.RowCacheStats().Misses) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "trendql_row_cache_evictions_total",
			Help: "Rows the row cache dropped to stay within its memory budget.",
		}, func() float64 { return float64(d.RowCacheStats().Evictions) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "trendql_row_cache_bytes",
			Help: "Estimated memory the row cache holds (its budget is --row-cache).",
		}, func() float64 { return float64(d.RowCacheStats().Bytes) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "trendql_row_cache_rows",
			Help: "Content rows the row cache holds.",
		}, func() float64 { return float64(d.RowCacheStats().Rows) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "trendql_relation_cache_hits_total",
			Help: "Anonymous relation reads answered from memory (the relation cache, SQLite) instead of reading their links.",
		}, func() float64 { return float64(d.RowCacheStats().RelationHits) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "trendql_relation_cache_misses_total",
			Help: "Anonymous relation reads the relation cache could not answer, which read their links and kept them.",
		}, func() float64 { return float64(d.RowCacheStats().RelationMisses) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "trendql_search_cache_hits_total",
			Help: "Searches answered from the search cache instead of being ranked again.",
		}, func() float64 { return float64(d.SearchCacheStats().Hits) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "trendql_search_cache_misses_total",
			Help: "Searches the search cache did not hold, ranked by the database.",
		}, func() float64 { return float64(d.SearchCacheStats().Misses) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "trendql_search_cache_bytes",
			Help: "Estimated memory the search cache holds (its budget is --search-cache).",
		}, func() float64 { return float64(d.SearchCacheStats().Bytes) }),
		collectors.NewDBStatsCollector(readPool, "read"),
		collectors.NewDBStatsCollector(writePool, "write"),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return m
}

func (m *Metrics) opLabel(name string) string {
	if name == "" {
		return "anonymous"
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.ops[name] {
		return name
	}
	if len(m.ops) >= maxOperationLabels || len(name) > 100 {
		return "other"
	}
	m.ops[name] = true
	return name
}

// ExtensionName implements graphql.HandlerExtension.
func (m *Metrics) ExtensionName() string { return "Metrics" }

// Validate implements graphql.HandlerExtension.
func (m *Metrics) Validate(graphql.ExecutableSchema) error { return nil }

// InterceptResponse counts and times every operation, including those that
// fail to parse or validate; each event a subscription sends counts as one
// response, untimed.
func (m *Metrics) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	start := time.Now()
	resp := next(ctx)
	name := ""
	if graphql.HasOperationContext(ctx) {
		if oc := graphql.GetOperationContext(ctx); oc != nil {
			name = oc.OperationName
			if name == "" && oc.Operation != nil {
				name = oc.Operation.Name
			}
			// A document that failed validation has no chosen operation;
			// name it when it holds only one.
			if name == "" && oc.Operation == nil {
				doc := oc.Doc
				if doc == nil && oc.RawQuery != "" {
					doc, _ = parser.ParseQuery(&ast.Source{Input: oc.RawQuery})
				}
				if doc != nil && len(doc.Operations) == 1 {
					name = doc.Operations[0].Name
				}
			}
		}
	}
	op := m.opLabel(name)
	code := "OK"
	if resp != nil && len(resp.Errors) > 0 {
		if c, ok := resp.Errors[0].Extensions["code"].(string); ok {
			code = c
		} else {
			code = CodeInternalServerError
		}
	}
	m.requests.WithLabelValues(op, code).Inc()
	// A subscription's response waits for the next change: its time says
	// nothing about the server.
	if !isSubscription(ctx) {
		m.latency.WithLabelValues(op).Observe(time.Since(start).Seconds())
	}
	return resp
}
