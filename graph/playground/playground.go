// Package playground serves GraphiQL from files embedded in the binary, so the
// playground works with no network access: no CDN, no fonts, no plugins from
// another host.
//
// Mount the page and the assets on the same server:
//
//	const assets = "/playground/assets/"
//	mux.Handle("GET "+assets, playground.Assets())
//	mux.Handle("GET /{$}", playground.Handler("trendql", "/graphql", assets,
//		playground.WithExamples(examples)))
//
// The page is our own small html/template rather than gqlgen's
// playground.Handler: gqlgen's page runs a large inline script (which a strict
// Content-Security-Policy would have to allow) and has no way to preload
// example tabs. Both pages load the very same GraphiQL 4.1.2 and React 18.2.0
// files; ASSETS.md tells where they come from and how to update them.
package playground

import (
	"bytes"
	"compress/gzip"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"embed"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"path"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Versions of the embedded GraphiQL and React builds.
const (
	GraphiQLVersion = "4.1.2"
	ReactVersion    = "18.2.0"
)

// Subresource Integrity strings of the embedded third-party files, pinned
// here so that the browser checks the bytes it receives against them. The
// sha256 of each file equals the hash gqlgen v0.17.98 pins for the same file
// on its CDN. See ASSETS.md for how to update them.
const (
	GraphiQLJSIntegrity  = "sha384-9XdHu7ajgGJziD4J1zNBKQ842Q/+zZfDv+ib1eMhZWBH6hPAs806x+Jbcf0yNO6B"
	GraphiQLCSSIntegrity = "sha384-1el1QShFBnnXTx9x/Cprg82hZWKt0ry29OAYIXt05swbi0KcZDFoj0CWguMpopJr"
	ReactIntegrity       = "sha384-tMH8h3BGESGckSAVGZ82T9n90ztNXxvdwvdM6UoR56cYcf+0iGXBliJ29D+wZ/x8"
	ReactDOMIntegrity    = "sha384-bm7MnzvK++ykSwVJ2tynSE5TRdN+xL418osEVF2DE/L/gfWHj91J2Sphe582B1Bh"
)

// Names of the files under the asset prefix.
const (
	GraphiQLJSFile  = "graphiql.min.js"
	GraphiQLCSSFile = "graphiql.min.css"
	ReactFile       = "react.production.min.js"
	ReactDOMFile    = "react-dom.production.min.js"
	BootstrapFile   = "playground.js" // ours: starts GraphiQL from the page's JSON settings
)

//go:embed assets
var assetFS embed.FS

type asset struct {
	name        string
	data        []byte
	contentType string
	etag        string // strong validator of the identity encoding
	version     string // short content hash, appended to URLs as ?v=
	integrity   string // sha384 SRI string

	gzipOnce sync.Once
	gz       []byte // gzip-compressed data, nil when not worth it
}

var assets = loadAssets()

func loadAssets() map[string]*asset {
	entries, err := assetFS.ReadDir("assets")
	if err != nil {
		panic(err)
	}
	m := make(map[string]*asset, len(entries))
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		data, err := assetFS.ReadFile("assets/" + e.Name())
		if err != nil {
			panic(err)
		}
		ct := contentType(e.Name())
		if ct == "" {
			continue
		}
		sum256 := sha256.Sum256(data)
		m[e.Name()] = &asset{
			name:        e.Name(),
			data:        data,
			contentType: ct,
			etag:        `"` + hex.EncodeToString(sum256[:16]) + `"`,
			version:     hex.EncodeToString(sum256[:6]),
			integrity:   Integrity(data),
		}
	}
	return m
}

func contentType(name string) string {
	switch path.Ext(name) {
	case ".js":
		return "text/javascript; charset=utf-8"
	case ".css":
		return "text/css; charset=utf-8"
	case ".txt":
		return "text/plain; charset=utf-8"
	}
	return ""
}

// Integrity returns the sha384 Subresource Integrity string of data.
func Integrity(data []byte) string {
	sum := sha512.Sum384(data)
	return "sha384-" + base64.StdEncoding.EncodeToString(sum[:])
}

// AssetNames lists the files Assets serves.
func AssetNames() []string {
	names := make([]string, 0, len(assets))
	for name := range assets {
		names = append(names, name)
	}
	return names
}

// Assets serves the embedded files by the last element of the request path,
// so it works mounted on a prefix with or without http.StripPrefix:
//
//	mux.Handle("GET /playground/assets/", playground.Assets())
//
// Files are served with their content type, X-Content-Type-Options: nosniff,
// a long-lived immutable Cache-Control (page URLs carry a ?v=content-hash, so
// a new build gets new URLs), an ETag, and gzip when the client accepts it.
// Unknown names get 404.
func Assets() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
			return
		}
		a, ok := assets[path.Base(r.URL.Path)]
		if !ok || strings.HasSuffix(r.URL.Path, "/") {
			http.NotFound(w, r)
			return
		}
		h := w.Header()
		h.Set("Content-Type", a.contentType)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
		h.Set("Cross-Origin-Resource-Policy", "same-origin")
		h.Add("Vary", "Accept-Encoding")
		body, etag := a.data, a.etag
		if acceptsGzip(r) {
			if gz := a.gzipped(); gz != nil {
				body, etag = gz, strings.TrimSuffix(a.etag, `"`)+`-gzip"`
				h.Set("Content-Encoding", "gzip")
			}
		}
		h.Set("ETag", etag)
		http.ServeContent(w, r, a.name, time.Time{}, bytes.NewReader(body))
	})
}

func (a *asset) gzipped() []byte {
	a.gzipOnce.Do(func() {
		if len(a.data) < 1024 {
			return
		}
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		zw.Write(a.data)
		zw.Close()
		if buf.Len() < len(a.data)*9/10 {
			a.gz = buf.Bytes()
		}
	})
	return a.gz
}

func acceptsGzip(r *http.Request) bool {
	for _, v := range r.Header.Values("Accept-Encoding") {
		for _, part := range strings.Split(v, ",") {
			coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
			if strings.EqualFold(strings.TrimSpace(coding), "gzip") {
				return strings.ReplaceAll(strings.TrimSpace(params), " ", "") != "q=0"
			}
		}
	}
	return false
}

// Example is an operation preloaded as a GraphiQL tab, so a newcomer can run
// it at once. Variables and Headers are JSON text (may be empty). Name, when
// set, heads the query as a comment; GraphiQL titles the tab with the
// operation's name.
type Example struct {
	Name      string
	Query     string
	Variables string
	Headers   string
}

// EditorTools chooses what the editor tools pane below the query shows first.
type EditorTools string

const (
	EditorToolsDefault   EditorTools = ""          // GraphiQL's choice
	EditorToolsVariables EditorTools = "variables" // open, on Variables
	EditorToolsHeaders   EditorTools = "headers"   // open, on Headers
	EditorToolsHidden    EditorTools = "hidden"    // collapsed
)

// Option configures Handler.
type Option func(*config)

type config struct {
	title                string
	endpoint             string
	subscriptionEndpoint string
	examples             []Example
	defaultQuery         string
	defaultHeaders       string
	editorTools          EditorTools
	persistHeaders       bool
	storageNamespace     string
}

// WithExamples preloads the examples as GraphiQL tabs (its defaultTabs), in
// order. GraphiQL uses them when the browser has no saved tabs yet (a first
// visit, or after localStorage is cleared); after that it restores the
// user's own tabs.
func WithExamples(examples []Example) Option {
	return func(c *config) { c.examples = append([]Example(nil), examples...) }
}

// WithDefaultQuery sets the query of a new tab (the "+" button), and of the
// first tab when no examples are given; GraphiQL's default is a welcome
// comment.
func WithDefaultQuery(query string) Option {
	return func(c *config) { c.defaultQuery = query }
}

// WithDefaultHeaders sets the headers pane text (JSON) of a new tab, and of
// the first tab when no examples are given, e.g.
// `{"Authorization": "Bearer <token>"}`. An Example carries its own Headers.
func WithDefaultHeaders(headersJSON string) Option {
	return func(c *config) { c.defaultHeaders = headersJSON }
}

// WithEditorTools sets which editor tool GraphiQL shows first.
func WithEditorTools(t EditorTools) Option {
	return func(c *config) { c.editorTools = t }
}

// WithPersistHeaders sets GraphiQL's shouldPersistHeaders: whether the headers
// pane (and so a token in it) is kept in localStorage and survives a reload.
// Default true.
func WithPersistHeaders(persist bool) Option {
	return func(c *config) { c.persistHeaders = persist }
}

// WithSubscriptionEndpoint sets the websocket URL for subscriptions; by
// default it is the endpoint with ws: or wss: as scheme. It must be a path
// or a ws(s) URL.
func WithSubscriptionEndpoint(endpoint string) Option {
	return func(c *config) { c.subscriptionEndpoint = endpoint }
}

// WithStorageNamespace keeps GraphiQL's localStorage keys under a prefix,
// for when more than one playground shares an origin.
func WithStorageNamespace(namespace string) Option {
	return func(c *config) { c.storageNamespace = namespace }
}

// Handler returns the playground page: GraphiQL talking to endpoint (a path
// such as "/graphql", or an absolute URL), its files loaded from assetPrefix
// (a path on this server where Assets is mounted, such as
// "/playground/assets/") with their integrity checked by the browser.
//
// The page answers GET and HEAD with a Content-Security-Policy that lets the
// browser load scripts, styles, fonts and images only from this origin
// (plus data: fonts and images) and connect only to this origin and the
// endpoint's, so nothing is ever fetched from another host.
//
// Handler panics if assetPrefix is not a path on this server, or if
// endpoint or the subscription endpoint cannot be parsed.
func Handler(title, endpoint, assetPrefix string, opts ...Option) http.Handler {
	c := config{title: title, endpoint: endpoint, persistHeaders: true}
	for _, o := range opts {
		o(&c)
	}

	u, err := url.Parse(assetPrefix)
	if err != nil || u.Scheme != "" || u.Host != "" || strings.HasPrefix(assetPrefix, "//") || u.RawQuery != "" {
		panic(fmt.Sprintf("playground: asset prefix %q must be a path on this server", assetPrefix))
	}
	if !strings.HasSuffix(assetPrefix, "/") {
		assetPrefix += "/"
	}

	connect := []string{"'self'"}
	for _, e := range []string{endpoint, c.subscriptionEndpoint} {
		if e == "" {
			continue
		}
		eu, err := url.Parse(e)
		if err != nil {
			panic(fmt.Sprintf("playground: bad endpoint %q: %v", e, err))
		}
		if eu.Host == "" {
			continue
		}
		connect = append(connect, eu.Scheme+"://"+eu.Host)
		if ws, ok := map[string]string{"http": "ws", "https": "wss"}[eu.Scheme]; ok {
			connect = append(connect, ws+"://"+eu.Host)
		}
	}

	tabs := make([]tab, 0, len(c.examples))
	for _, ex := range c.examples {
		q := ex.Query
		if ex.Name != "" {
			q = "# " + strings.ReplaceAll(ex.Name, "\n", " ") + "\n" + strings.TrimLeft(q, "\n")
		}
		tabs = append(tabs, tab{Query: q, Variables: ex.Variables, Headers: ex.Headers})
	}

	src := func(name string) template.URL {
		return template.URL(assetPrefix + name + "?v=" + assets[name].version)
	}
	data := pageData{
		Title:          title,
		GraphiQLJS:     src(GraphiQLJSFile),
		GraphiQLJSSRI:  GraphiQLJSIntegrity,
		GraphiQLCSS:    src(GraphiQLCSSFile),
		GraphiQLCSSSRI: GraphiQLCSSIntegrity,
		ReactJS:        src(ReactFile),
		ReactJSSRI:     ReactIntegrity,
		ReactDOMJS:     src(ReactDOMFile),
		ReactDOMJSSRI:  ReactDOMIntegrity,
		BootstrapJS:    src(BootstrapFile),
		BootstrapJSSRI: assets[BootstrapFile].integrity,
		Config: pageConfig{
			Endpoint:             endpoint,
			SubscriptionEndpoint: c.subscriptionEndpoint,
			DefaultTabs:          tabs,
			DefaultQuery:         c.defaultQuery,
			DefaultHeaders:       c.defaultHeaders,
			EditorTools:          string(c.editorTools),
			PersistHeaders:       c.persistHeaders,
			StorageNamespace:     c.storageNamespace,
		},
	}
	// Render once to fail at construction rather than on a request.
	if err := page.Execute(new(bytes.Buffer), data); err != nil {
		panic(fmt.Sprintf("playground: %v", err))
	}
	connectSrc := strings.Join(connect, " ")

	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
			return
		}
		d := data
		d.Nonce = newNonce()
		var buf bytes.Buffer
		if err := page.Execute(&buf, d); err != nil {
			http.Error(w, "playground: cannot render the page", http.StatusInternalServerError)
			return
		}
		cs := connectSrc
		// 'self' covers ws: and wss: in CSP Level 3; older engines need them named.
		if hostRE.MatchString(r.Host) {
			cs += " ws://" + r.Host + " wss://" + r.Host
		}
		h := w.Header()
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Cache-Control", "no-cache")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Content-Security-Policy", CSP(d.Nonce, cs))
		h.Set("Content-Length", strconv.Itoa(buf.Len()))
		w.WriteHeader(http.StatusOK)
		if r.Method != http.MethodHead {
			w.Write(buf.Bytes())
		}
	})
}

// hostRE accepts the host[:port] forms that are safe to put in a CSP source.
var hostRE = regexp.MustCompile(`^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)(:[0-9]{1,5})?$`)

// CSP returns the page's Content-Security-Policy: everything from 'self'
// only, data: for fonts and images, inline styles only with the nonce, and
// connections to connectSrc.
func CSP(styleNonce, connectSrc string) string {
	return strings.Join([]string{
		"default-src 'none'",
		"script-src 'self'",
		"style-src 'self' 'nonce-" + styleNonce + "'",
		"font-src 'self' data:",
		"img-src 'self' data:",
		"connect-src " + connectSrc,
		"base-uri 'none'",
		"form-action 'none'",
		"frame-ancestors 'self'",
	}, "; ")
}

func newNonce() string {
	var b [18]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:]) // no "+" or "/": nothing to escape in HTML
}

type tab struct {
	Query     string `json:"query"`
	Variables string `json:"variables,omitempty"`
	Headers   string `json:"headers,omitempty"`
}

// pageConfig is read by assets/playground.js.
type pageConfig struct {
	Endpoint             string `json:"endpoint"`
	SubscriptionEndpoint string `json:"subscriptionEndpoint,omitempty"`
	DefaultTabs          []tab  `json:"defaultTabs,omitempty"`
	DefaultQuery         string `json:"defaultQuery,omitempty"`
	DefaultHeaders       string `json:"defaultHeaders,omitempty"`
	EditorTools          string `json:"editorTools,omitempty"`
	PersistHeaders       bool   `json:"persistHeaders"`
	StorageNamespace     string `json:"storageNamespace,omitempty"`
}

type pageData struct {
	Title, Nonce                  string
	GraphiQLJS, GraphiQLCSS       template.URL
	ReactJS, ReactDOMJS           template.URL
	BootstrapJS                   template.URL
	GraphiQLJSSRI, GraphiQLCSSSRI string
	ReactJSSRI, ReactDOMJSSRI     string
	BootstrapJSSRI                string
	Config                        pageConfig
}

var page = template.Must(template.New("playground").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="{{.GraphiQLCSS}}" integrity="{{.GraphiQLCSSSRI}}">
<style nonce="{{.Nonce}}">
html, body { height: 100%; margin: 0; }
#graphiql { height: 100vh; }
.loading { height: 100%; display: flex; align-items: center; justify-content: center; font: 2rem system-ui, sans-serif; }
</style>
<script type="application/json" id="playground-config">{{.Config}}</script>
<script src="{{.ReactJS}}" integrity="{{.ReactJSSRI}}" defer></script>
<script src="{{.ReactDOMJS}}" integrity="{{.ReactDOMJSSRI}}" defer></script>
<script src="{{.GraphiQLJS}}" integrity="{{.GraphiQLJSSRI}}" defer></script>
<script src="{{.BootstrapJS}}" integrity="{{.BootstrapJSSRI}}" nonce="{{.Nonce}}" defer></script>
</head>
<body>
<div id="graphiql"><div class="loading">Loading…</div></div>
<noscript>The GraphQL playground needs JavaScript. The API itself answers at {{.Config.Endpoint}}.</noscript>
</body>
</html>
`))
