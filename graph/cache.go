package graph

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/99designs/gqlgen/graphql"
	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/trendql/trendql/db"
	"github.com/vektah/gqlparser/v2/ast"
)

// The response cache keeps whole responses to anonymous queries and serves
// repeats without running any SQL. It is invalidated by the event log: a
// cached response remembers, for each source it may have read (a content
// type, or the event log itself), the generation of that source when it was
// computed; every commit that appends public events (those that change
// what anonymous callers can read; a draft does not) bumps the generations
// of their types and of the event log synchronously (db.OnPublicChange),
// before the mutation answers, so the next read after a write is always
// fresh, and saving drafts leaves the cache warm.
//
// What a response may have read is declared, not guessed: rootReads says it
// for every root field of Query (a test fails when one is missing), and a
// document with a root field the table does not know is never cached.

// typeSet is a set of cacheSources a response may read, one bit each: the
// content types, the event log, and a mark for "not cacheable".
type typeSet uint8

const (
	// eventLog is the event log (changes, changesCursor): every commit that
	// appends events moves it.
	eventLog typeSet = 1 << 5
	// allTypes is every source: what node, search or the feed may read.
	allTypes typeSet = 1<<6 - 1
	// uncacheable marks a document that reads something undeclared.
	uncacheable typeSet = 1 << 7
)

// cacheSources is the number of generation counters: the five cacheTypes and
// the event log.
const cacheSources = 6

// cacheTypes are the types the cache tracks; the article is one of them.
var cacheTypes = []db.TypeName{db.TypeTrend, db.TypeFramework, db.TypeCompany, db.TypeFAQ, db.TypeArticle}

func typeBit(t db.TypeName) typeSet {
	for i, c := range cacheTypes {
		if c == t {
			return 1 << i
		}
	}
	return allTypes // unknown: be safe
}

// rootReads declares, for every root field of Query, what its answer may
// depend on before its selection is looked at (the selection adds the
// types it reaches: a trend's companies, say). Fields whose answer can
// reflect any change (an abstract result, the event log, the whole page)
// read allTypes. A new root field must be added here: until it is, a
// document that selects it is not cached, and TestRootReadsCoverTheSchema
// fails.
var rootReads = map[string]typeSet{
	"node":          allTypes,
	"nodes":         allTypes,
	"search":        allTypes,
	"article":       allTypes,
	"changes":       allTypes, // the event log, and each change's node now
	"changesCursor": eventLog,
	"trend":         typeBit(db.TypeTrend),
	"trends":        typeBit(db.TypeTrend),
	"framework":     typeBit(db.TypeFramework),
	"frameworks":    typeBit(db.TypeFramework),
	"company":       typeBit(db.TypeCompany),
	"companies":     typeBit(db.TypeCompany),
	"faq":           typeBit(db.TypeFAQ),
	"faqs":          typeBit(db.TypeFAQ),
	"viewer":        0, // who is asking: null for every anonymous caller
	// Token holders only: never cached, declared all the same.
	"auditLog": allTypes,
	"tokens":   allTypes,
	"webhooks": allTypes,
	"webhook":  allTypes,
	// Editors only; and the schedules it shows change with no event.
	"scheduleLog": allTypes | uncacheable,
}

// typeCache remembers, per query document, the cacheSources it may read.
type typeCache struct {
	m *lru.Cache[string, typeSet]
}

func newTypeCache() *typeCache {
	m, _ := lru.New[string, typeSet](1000)
	return &typeCache{m: m}
}

func (c *typeCache) get(oc *graphql.OperationContext) typeSet {
	key := oc.OperationName + "\x00" + oc.RawQuery
	if s, ok := c.m.Get(key); ok {
		return s
	}
	s := rootTypes(oc.Operation.SelectionSet, map[string]bool{})
	c.m.Add(key, s)
	return s
}

// rootTypes collects what a query's root fields read: each one's entry in
// rootReads and the types its selection reaches. A root field missing from
// rootReads makes the document uncacheable.
func rootTypes(sel ast.SelectionSet, seen map[string]bool) typeSet {
	var s typeSet
	for _, x := range sel {
		switch f := x.(type) {
		case *ast.Field:
			if strings.HasPrefix(f.Name, "__") {
				continue // the schema and __typename: fixed
			}
			r, ok := rootReads[f.Name]
			if !ok {
				return uncacheable
			}
			s |= r | readTypes(ast.SelectionSet{f}, seen)
		case *ast.InlineFragment:
			s |= rootTypes(f.SelectionSet, seen)
		case *ast.FragmentSpread:
			if f.Definition != nil && !seen[f.Name] {
				seen[f.Name] = true
				s |= rootTypes(f.Definition.SelectionSet, seen)
			}
		}
	}
	return s
}

// readTypes walks a selection and collects the content types its fields
// return. Abstract results (node, nodes, search) and relation filters may
// read any type.
func readTypes(sel ast.SelectionSet, seen map[string]bool) typeSet {
	var s typeSet
	for _, x := range sel {
		switch f := x.(type) {
		case *ast.Field:
			if f.Definition == nil || strings.HasPrefix(f.Name, "__") {
				continue
			}
			switch name := f.Definition.Type.Name(); {
			case name == "Node" || strings.HasPrefix(name, "Search"):
				return allTypes
			case strings.HasSuffix(name, "Connection") || strings.HasSuffix(name, "Edge"):
				name = strings.TrimSuffix(strings.TrimSuffix(name, "Connection"), "Edge")
				s |= typeBit(db.TypeName(name))
			case name == "Trend" || name == "Framework" || name == "Company" || name == "FAQ" || name == "Article":
				s |= typeBit(db.TypeName(name))
			}
			for _, a := range f.Arguments {
				if a.Name == "filter" {
					return allTypes // a relation filter reads other tables
				}
			}
			s |= readTypes(f.SelectionSet, seen)
		case *ast.InlineFragment:
			s |= readTypes(f.SelectionSet, seen)
		case *ast.FragmentSpread:
			if f.Definition != nil && !seen[f.Name] {
				seen[f.Name] = true
				s |= readTypes(f.Definition.SelectionSet, seen)
			}
		}
	}
	return s
}

// cachedResponse is one stored response.
type cachedResponse struct {
	body        []byte
	contentType string
	etag        string
	operation   string
	types       typeSet
	gens        [8]uint64 // generation of each source when computed
}

// responseCache is the in-process cache of anonymous query responses,
// bounded by entries and by bytes.
type responseCache struct {
	entries  *lru.Cache[string, *cachedResponse]
	gens     [8]atomic.Uint64
	maxBody  int
	size     atomic.Int64 // bytes of the bodies held
	maxBytes int64

	hits, misses prometheus.Counter
}

// Defaults of the response cache.
const (
	DefaultResponseCacheEntries = 2000
	// DefaultResponseCacheBytes bounds the bodies the cache holds, so that
	// a stream of distinct queries cannot grow the process.
	DefaultResponseCacheBytes = 4 << 20
	maxCachedBody             = 512 << 10
)

func newResponseCache(d *db.DB, entries int, reg prometheus.Registerer) *responseCache {
	c := &responseCache{maxBody: maxCachedBody, maxBytes: DefaultResponseCacheBytes}
	c.entries, _ = lru.NewWithEvict(entries, func(_ string, e *cachedResponse) {
		c.size.Add(-int64(len(e.body)))
	})
	c.hits = prometheus.NewCounter(prometheus.CounterOpts{Name: "trendql_response_cache_hits_total", Help: "Anonymous queries answered from the response cache (no SQL)."})
	c.misses = prometheus.NewCounter(prometheus.CounterOpts{Name: "trendql_response_cache_misses_total", Help: "Cacheable anonymous queries that had to be executed."})
	reg.MustRegister(c.hits, c.misses, prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "trendql_response_cache_entries", Help: "Responses held in the response cache.",
	}, func() float64 { return float64(c.entries.Len()) }), prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "trendql_response_cache_bytes", Help: "Bytes of the responses held in the response cache.",
	}, func() float64 { return float64(c.size.Load()) }))
	d.OnPublicChange(c.invalidate)
	return c
}

// invalidate makes stale every response that may have read one of types
// (all, for nil).
func (c *responseCache) invalidate(types []db.TypeName) {
	set := allTypes
	if types != nil {
		set = 0
		for _, t := range types {
			set |= typeBit(t)
		}
	}
	// Every commit that runs this hook appended public events, which
	// the anonymous changes feed shows.
	set |= eventLog
	for i := range cacheSources {
		if set&(1<<i) != 0 {
			c.gens[i].Add(1)
		}
	}
}

// add stores a response, evicting the least recently used ones while the
// bodies held exceed the byte budget.
func (c *responseCache) add(key string, e *cachedResponse) {
	c.entries.Remove(key) // a replaced entry's eviction returns its bytes
	c.size.Add(int64(len(e.body)))
	c.entries.Add(key, e)
	for c.size.Load() > c.maxBytes && c.entries.Len() > 1 {
		c.entries.RemoveOldest()
	}
}

func (c *responseCache) snapshot() (g [8]uint64) {
	for i := range cacheSources {
		g[i] = c.gens[i].Load()
	}
	return g
}

func (c *responseCache) fresh(e *cachedResponse) bool {
	for i := range cacheSources {
		if e.types&(1<<i) != 0 && c.gens[i].Load() != e.gens[i] {
			return false
		}
	}
	return true
}

// cacheKey derives the key of an anonymous GraphQL request from what
// decides its answer: the document (or its persisted-query hash), the
// operation name, the variables (canonical JSON) and the response media
// type. ok is false for requests that cannot be cached.
func cacheKey(r *http.Request) (key string, ok bool) {
	// Decoded as the JSON transport decodes it, which then takes it: a
	// request is decoded once.
	params := &graphql.RawParams{}
	switch r.Method {
	case http.MethodGet:
		if _, err := decodeQueryString(r.URL.Query(), params); err != nil {
			return "", false
		}
	case http.MethodPost:
		body, err := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		if err != nil || decodeJSON(bytes.NewReader(body), params) != nil {
			return "", false
		}
	default:
		return "", false
	}
	// The variables and extensions, as canonical JSON (maps marshal with
	// sorted keys; numbers keep their text), or nil when absent.
	var canon [2][]byte
	for i, m := range []map[string]any{params.Variables, params.Extensions} {
		if m != nil {
			var err error
			if canon[i], err = json.Marshal(m); err != nil {
				return "", false
			}
		}
	}
	if info := infoFrom(r.Context()); info != nil {
		info.mu.Lock()
		info.params = params
		info.mu.Unlock()
	}
	h := sha256.New()
	io.WriteString(h, params.Query)
	h.Write([]byte{0})
	io.WriteString(h, params.OperationName)
	h.Write([]byte{0})
	for _, c := range canon {
		h.Write(c)
		h.Write([]byte{0})
	}
	io.WriteString(h, r.Header.Get("Accept"))
	return string(h.Sum(nil)), true
}

// bufferedWriter holds a response so it can be inspected (ETag, caching)
// before it is sent.
type bufferedWriter struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func newBufferedWriter() *bufferedWriter {
	return &bufferedWriter{header: http.Header{}, status: http.StatusOK}
}

func (b *bufferedWriter) Header() http.Header         { return b.header }
func (b *bufferedWriter) WriteHeader(code int)        { b.status = code }
func (b *bufferedWriter) Write(p []byte) (int, error) { return b.body.Write(p) }

// Grow makes room for n more bytes, so that a response written in parts
// is one allocation.
func (b *bufferedWriter) Grow(n int) { b.body.Grow(n) }

// streaming reports whether a request is answered as a stream (a
// subscription over a websocket, SSE or multipart), which is never
// buffered. An Accept header that merely lists text/event-stream (urql's
// default) does not make a query a stream.
func streaming(r *http.Request) bool {
	return streamOf(r) != ""
}

func etagOf(body []byte) string {
	sum := sha256.Sum256(body)
	return `"` + base64.RawURLEncoding.EncodeToString(sum[:16]) + `"`
}

// HTTPCaching sets the Cache-Control policy of GraphQL responses.
type HTTPCaching struct {
	// PublicMaxAge and SharedMaxAge are the max-age and s-maxage, in
	// seconds, of successful anonymous query responses.
	PublicMaxAge, SharedMaxAge int
}

// withHTTPCache buffers GraphQL responses to give them an ETag and a
// Cache-Control policy, answers If-None-Match with 304, and serves
// anonymous queries from the response cache.
//
//	anonymous query, no errors   public, max-age=…, s-maxage=… (CDNs may cache)
//	with a token                 private, no-store
//	mutation or errors           no-store
func withHTTPCache(rc *responseCache, policy HTTPCaching, next http.Handler) http.Handler {
	publicCC := "public, max-age=" + strconv.Itoa(policy.PublicMaxAge) + ", s-maxage=" + strconv.Itoa(policy.SharedMaxAge)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if streaming(r) || (r.Method != http.MethodGet && r.Method != http.MethodPost) {
			next.ServeHTTP(w, r)
			return
		}
		info := infoFrom(r.Context())
		anonymous := r.Header.Get("Authorization") == ""
		var key string
		cacheable := false
		if anonymous && rc != nil {
			key, cacheable = cacheKey(r)
		}
		if cacheable {
			if e, ok := rc.entries.Get(key); ok && rc.fresh(e) {
				rc.hits.Inc()
				if info != nil {
					info.mu.Lock()
					info.cache, info.operation = "hit", e.operation
					info.mu.Unlock()
				}
				writeCached(w, r, e.body, e.contentType, e.etag, publicCC)
				return
			}
		}
		gens := [8]uint64{}
		if cacheable {
			gens = rc.snapshot()
		}
		buf := newBufferedWriter()
		next.ServeHTTP(buf, r)

		var query, failed bool
		var types typeSet
		var op string
		if info != nil {
			info.mu.Lock()
			query, failed, types, op = info.query, info.failed, info.types, info.operation
			info.mu.Unlock()
		}
		body := buf.body.Bytes()
		h := w.Header()
		for k, v := range buf.header {
			if k == "Vary" {
				h[k] = append(h[k], v...)
			} else {
				h[k] = v
			}
		}
		h.Add("Vary", "Authorization")
		if buf.status != http.StatusOK || !query || failed {
			h.Set("Cache-Control", "no-store")
			w.WriteHeader(buf.status)
			w.Write(body)
			return
		}
		etag := etagOf(body)
		if !anonymous {
			h.Set("Cache-Control", "private, no-store")
		} else {
			h.Set("Cache-Control", publicCC)
		}
		if cacheable && len(body) <= rc.maxBody && types&uncacheable == 0 {
			rc.misses.Inc()
			if info != nil {
				info.mu.Lock()
				info.cache = "miss"
				info.mu.Unlock()
			}
			// body is this request's own buffer (never reused): the
			// cache keeps it as it is.
			rc.add(key, &cachedResponse{
				body: body, contentType: buf.header.Get("Content-Type"),
				etag: etag, operation: op, types: types, gens: gens,
			})
		}
		writeBody(w, r, body, etag)
	})
}

func writeCached(w http.ResponseWriter, r *http.Request, body []byte, contentType, etag, cc string) {
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("Cache-Control", cc)
	h.Add("Vary", "Authorization")
	writeBody(w, r, body, etag)
}

// writeBody sends a successful response with its ETag, or 304 when the
// client already has it.
func writeBody(w http.ResponseWriter, r *http.Request, body []byte, etag string) {
	w.Header().Set("ETag", etag)
	if match := r.Header.Get("If-None-Match"); match != "" && etagMatches(match, etag) {
		w.Header().Del("Content-Type")
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	w.Write(body)
}

func etagMatches(header, etag string) bool {
	for _, part := range strings.Split(header, ",") {
		part = strings.TrimSpace(part)
		if part == "*" || strings.TrimPrefix(part, "W/") == etag {
			return true
		}
	}
	return false
}
