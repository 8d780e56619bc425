package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// The reference queries, exactly as ../shared/bench/README.md gives them.
const (
	q1Query = `query($slug:String!){ framework(slug:$slug){ id name slug language creator firstReleased architecture summary companies { id name slug } } }`
	q2Query = `{ frameworks(first: 20) { nodes { id name slug language creator firstReleased architecture summary companies { id name slug } } } }`
	q3Query = `{ trends(first: 10) { nodes { id rank name slug category summary body } } }`
	q4Query = `{ search(query: "framework orm", first: 10) { nodes { score snippet node { id } } } }`
)

// The growth rows' queries: q2 at the largest page, and three levels of
// lists as a trends page renders them (each trend's frameworks and the
// companies that use them).
const (
	q2x100Query  = `{ frameworks(first: 100) { nodes { id name slug language creator firstReleased architecture summary companies { id name slug } } } }`
	nested3Query = `{ trends(first: 10) { nodes { id rank name slug summary frameworks { id name slug language companies { id name slug } } } } }`
)

// mixMutation is the write of the write-heavy mix, sent with the variables
// id (a trend's global id) and summary. Change it here if the mutation's
// shape changes.
const mixMutation = `mutation($id: ID!, $summary: String!){ updateTrend(id: $id, input: {summary: $summary}) { id version } }`

// mixTrendsQuery finds the trends the mix's mutations edit.
const mixTrendsQuery = `{ trends(first: 10) { nodes { id } } }`

// query is one GraphQL request.
type query struct {
	name  string
	text  string
	vars  map[string]any
	token string // editor token, for mutations
}

var readQueries = []query{
	{name: "q1", text: q1Query, vars: map[string]any{"slug": "django"}},
	{name: "q2", text: q2Query},
	{name: "q3", text: q3Query},
	{name: "q4", text: q4Query},
}

// growthRow is a row that shows what growth costs: more items per page,
// more levels of relations, more connections.
type growthRow struct {
	q     query
	conns int // 0: the -conns flag's
}

// growthRows run uncached, after the reference queries' rows, each named
// after its query.
var growthRows = []growthRow{
	{q: query{name: "q2-100", text: q2x100Query}},
	{q: query{name: "nested3", text: nested3Query}},
	{q: query{name: "q2-128", text: q2Query}, conns: 128},
}

// connections is the row's connection count: its own, else def (-conns).
func (g growthRow) connections(def int) int {
	if g.conns > 0 {
		return g.conns
	}
	return def
}

// mode says how a query's requests vary from one to the next.
type mode int

const (
	// uncached: every request differs (an unused nonce variable, and
	// Cache-Control: no-cache), so a response cache cannot answer it.
	uncached mode = iota
	// cached: the very same request again and again.
	cached
)

// postBody is the JSON body of a POST request for q; nonce ≥ 0 adds an
// undeclared variable that GraphQL ignores but that makes the body unique.
func postBody(q query, nonce int64) []byte {
	vars := q.vars
	if nonce >= 0 {
		vars = make(map[string]any, len(q.vars)+1)
		for k, v := range q.vars {
			vars[k] = v
		}
		vars["benchNonce"] = nonce
	}
	body := map[string]any{"query": q.text}
	if len(vars) > 0 {
		body["variables"] = vars
	}
	b, _ := json.Marshal(body)
	return b
}

var (
	jsonHeader    = http.Header{"Content-Type": {"application/json"}, "Accept": {"application/json"}}
	noCacheHeader = http.Header{"Content-Type": {"application/json"}, "Accept": {"application/json"}, "Cache-Control": {"no-cache"}}
	getHeader     = http.Header{"Accept": {"application/json"}}
)

// target returns the request for q in the given mode; n numbers requests.
func target(base string, q query, m mode, get bool, n int64) vegeta.Target {
	if q.token != "" {
		h := http.Header{"Content-Type": {"application/json"}, "Authorization": {"Bearer " + q.token}}
		return vegeta.Target{Method: http.MethodPost, URL: base + "/graphql", Body: postBody(q, -1), Header: h}
	}
	switch {
	case m == uncached:
		return vegeta.Target{Method: http.MethodPost, URL: base + "/graphql", Body: postBody(q, n), Header: noCacheHeader}
	case get:
		v := url.Values{"query": {q.text}}
		if len(q.vars) > 0 {
			b, _ := json.Marshal(q.vars)
			v.Set("variables", string(b))
		}
		return vegeta.Target{Method: http.MethodGet, URL: base + "/graphql?" + v.Encode(), Header: getHeader}
	default:
		return vegeta.Target{Method: http.MethodPost, URL: base + "/graphql", Body: postBody(q, -1), Header: jsonHeader}
	}
}

// targeter hands out next(0), next(1), … to vegeta's workers.
func targeter(next func(n int64) vegeta.Target) vegeta.Targeter {
	var n atomic.Int64
	return func(t *vegeta.Target) error {
		if t == nil {
			return vegeta.ErrNilTarget
		}
		*t = next(n.Add(1) - 1)
		return nil
	}
}

// fixed serves the same target every time (cached rows, the ceiling).
func fixed(t vegeta.Target) func(int64) vegeta.Target {
	return func(int64) vegeta.Target { return t }
}

// loadResult is what one measured attack produced.
type loadResult struct {
	requests  uint64
	ok        uint64 // 2xx responses without GraphQL errors
	errors    uint64 // transport errors, non-2xx, or responses with "errors"
	firstErr  string
	elapsed   time.Duration
	p50, p99  time.Duration
	bytesMean float64
}

// okPerSec is the rate of good responses over the attack's wall time.
func (r *loadResult) okPerSec() float64 {
	if r.elapsed <= 0 {
		return 0
	}
	return float64(r.ok) / r.elapsed.Seconds()
}

// loader is vegeta's attacker for one row (its warm-up and its measured
// attack share the connections).
type loader struct {
	conns int
	tr    *countingTransport
}

// newLoader configures vegeta for conns connections run as fast as they go:
// rate 0 (no pacing) with Workers = MaxWorkers = conns, so exactly conns
// requests are in flight at any time, each worker sending its next request
// as soon as its last answer arrived.
//
// The client is ours, not vegeta's default, for one reason: vegeta copies
// every response body into memory (io.ReadAll), which on this 2-core
// machine costs the load generator — and so the server beside it — much of
// a core at ceiling rates. Here vegeta reads no body (MaxBody 0) and the
// transport counts and scans the bodies as they stream past. Its
// connection limits are what vegeta.Connections and vegeta.MaxConnections
// set (those options only work on vegeta's own transport).
func newLoader(conns int) *loader {
	tr := &countingTransport{base: &http.Transport{
		DialContext:         (&net.Dialer{KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConnsPerHost: conns,
		MaxConnsPerHost:     conns,
		DisableCompression:  true,
		ForceAttemptHTTP2:   false,
	}}
	return &loader{conns: conns, tr: tr}
}

func (l *loader) close() { l.tr.base.CloseIdleConnections() }

// attack loads next for d; Ctrl-C stops it early.
func (l *loader) attack(ctx context.Context, name string, next func(int64) vegeta.Target, d time.Duration) *loadResult {
	// An Attacker stops for good once stopped; each attack gets a fresh
	// one on the same client.
	atk := vegeta.NewAttacker(
		vegeta.Client(&http.Client{Transport: l.tr}),
		vegeta.Workers(uint64(l.conns)),
		vegeta.MaxWorkers(uint64(l.conns)),
		vegeta.MaxBody(0),
		vegeta.Redirects(vegeta.NoFollow),
		vegeta.Timeout(30*time.Second),
	)
	stop := context.AfterFunc(ctx, func() { atk.Stop() })
	defer stop()
	counts := &bodyCounts{}
	l.tr.counts.Store(counts)

	var m vegeta.Metrics
	r := &loadResult{}
	start := time.Now()
	for res := range atk.Attack(targeter(next), vegeta.ConstantPacer{}, d, name) {
		m.Add(res)
		r.requests++
		if res.Error != "" {
			r.errors++
			if r.firstErr == "" {
				r.firstErr = res.Error
			}
		}
	}
	r.elapsed = time.Since(start)
	m.Close()
	r.p50, r.p99 = m.Latencies.P50, m.Latencies.P99
	if n := counts.bodies.Load(); n > 0 {
		r.bytesMean = float64(counts.bytes.Load()) / float64(n)
	}
	// A 2xx response can still carry GraphQL errors.
	if ge := uint64(counts.gqlErrors.Load()); ge > 0 {
		r.errors += ge
		if r.firstErr == "" {
			r.firstErr = fmt.Sprintf("GraphQL errors in %d responses", ge)
		}
	}
	r.ok = r.requests - min(r.requests, r.errors)
	return r
}

// bodyCounts are what the transport saw in one attack's response bodies.
type bodyCounts struct {
	bodies, bytes, gqlErrors atomic.Int64
}

// countingTransport counts response bodies, their bytes, and those that
// hold GraphQL errors, while the client reads them.
type countingTransport struct {
	base   *http.Transport
	counts atomic.Pointer[bodyCounts]
}

func (t *countingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	if c := t.counts.Load(); c != nil {
		resp.Body = &countingBody{rc: resp.Body, c: c}
	}
	return resp, nil
}

// errorsKey starts the errors member of a GraphQL response. It cannot occur
// inside a JSON string (the quotes would be escaped there).
var errorsKey = []byte(`"errors":`)

// countingBody scans a body for errorsKey as it streams, keeping the last
// bytes of each read so a key split across two reads is found too.
type countingBody struct {
	rc     io.ReadCloser
	c      *bodyCounts
	n      int64
	tail   []byte
	sawErr bool
	done   bool
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	if n > 0 {
		b.n += int64(n)
		if !b.sawErr {
			const k = len(`"errors":`) - 1
			chunk := p[:n]
			edge := append(b.tail, chunk[:min(len(chunk), k)]...)
			b.sawErr = bytes.Contains(edge, errorsKey) || bytes.Contains(chunk, errorsKey)
			if len(chunk) >= k {
				b.tail = append(b.tail[:0], chunk[len(chunk)-k:]...)
			} else {
				b.tail = append(b.tail[:0], edge[max(0, len(edge)-k):]...)
			}
		}
	}
	if err == io.EOF {
		b.finish()
	}
	return n, err
}

func (b *countingBody) finish() {
	if b.done {
		return
	}
	b.done = true
	b.c.bodies.Add(1)
	b.c.bytes.Add(b.n)
	if b.sawErr {
		b.c.gqlErrors.Add(1)
	}
}

func (b *countingBody) Close() error {
	b.finish()
	return b.rc.Close()
}

// graphQLError returns the first error message of a GraphQL response body,
// with its code, or "" when it has none.
func graphQLError(body []byte) string {
	var resp struct {
		Errors []struct {
			Message    string         `json:"message"`
			Extensions map[string]any `json:"extensions"`
		} `json:"errors"`
	}
	if json.Unmarshal(body, &resp) != nil || len(resp.Errors) == 0 {
		return ""
	}
	e := resp.Errors[0]
	if c, ok := e.Extensions["code"].(string); ok {
		return c + ": " + e.Message
	}
	return e.Message
}

// do sends one request for t and returns the body; an HTTP error status or a
// GraphQL error is an error.
func do(ctx context.Context, t vegeta.Target) ([]byte, error) {
	var body io.Reader
	if t.Body != nil {
		body = bytes.NewReader(t.Body)
	}
	req, err := http.NewRequestWithContext(ctx, t.Method, t.URL, body)
	if err != nil {
		return nil, err
	}
	for k, v := range t.Header {
		req.Header[k] = v
	}
	c := &http.Client{Timeout: 30 * time.Second}
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if msg := graphQLError(b); msg != "" {
		return b, fmt.Errorf("%s", msg)
	}
	if resp.StatusCode != http.StatusOK {
		return b, fmt.Errorf("HTTP %s", resp.Status)
	}
	return b, nil
}

// metrics reads the server's Prometheus text page.
func metrics(ctx context.Context, base string) (string, error) {
	b, err := do(ctx, vegeta.Target{Method: http.MethodGet, URL: base + "/metrics"})
	if err != nil {
		return "", fmt.Errorf("metrics: %w", err)
	}
	return string(b), nil
}

// metricValue finds one sample on a Prometheus text page: name is the
// metric's name with its labels as the page writes them, e.g.
// trendql_fast_reads_total{outcome="served"}. A labelled sample that has
// not happened yet is absent from the page: it counts as 0 when the page
// declares its metric.
func metricValue(page, name string) (float64, error) {
	for _, line := range strings.Split(page, "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			return strconv.ParseFloat(strings.TrimSpace(v), 64)
		}
	}
	if family, _, labelled := strings.Cut(name, "{"); labelled && strings.Contains(page, "# TYPE "+family+" ") {
		return 0, nil
	}
	return 0, fmt.Errorf("metrics: no %s", name)
}
