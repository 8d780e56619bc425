package playground_test

import (
	"compress/gzip"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	gqlplayground "github.com/99designs/gqlgen/graphql/playground"
	"github.com/chromedp/chromedp"

	"github.com/trendql/trendql/graph/playground"
	"github.com/trendql/trendql/graph/playground/chrometest"
)

const assetPrefix = "/playground/assets/"

var examples = []playground.Example{
	{Name: "Top trends", Query: "query TopTrends {\n  trends(first: 3) { nodes { rank name } }\n}\n"},
	{Name: "One framework", Query: "query Framework($slug: String!) {\n  framework(slug: $slug) { name kind }\n}\n", Variables: `{"slug": "go"}`},
	{Name: "As an editor", Query: "query Me {\n  article { title }\n}\n", Headers: `{"Authorization": "Bearer <token>"}`},
}

func newServer(t *testing.T, opts ...playground.Option) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.Handle("GET "+assetPrefix, playground.Assets())
	mux.Handle("/{$}", playground.Handler("trendql playground", "/graphql", assetPrefix, opts...))
	mux.HandleFunc("/graphql", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"errors":[{"message":"this test serves no schema","extensions":{"code":"INTERNAL_SERVER_ERROR"}}]}`)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func get(t *testing.T, u string, header ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, body
}

var (
	attrRE   = regexp.MustCompile(`(?i)\b(src|href|action|srcset|poster|data)\s*=\s*("[^"]*"|'[^']*'|[^\s>]+)`)
	cssURLRE = regexp.MustCompile(`(?i)url\(\s*("[^"]*"|'[^']*'|[^)]*)\s*\)|@import\s+("[^"]*"|'[^']*')`)
	tagRE    = regexp.MustCompile(`(?is)<(script|link)\b([^>]*)>`)
	attrKV   = regexp.MustCompile(`(?i)\b([a-z-]+)\s*=\s*"([^"]*)"`)
	configRE = regexp.MustCompile(`(?s)<script type="application/json" id="playground-config">(.*?)</script>`)
)

// pageURLs returns every URL the page's markup and inline CSS refer to.
func pageURLs(page string) []string {
	var urls []string
	for _, m := range attrRE.FindAllStringSubmatch(page, -1) {
		urls = append(urls, html.UnescapeString(strings.Trim(m[2], `"'`)))
	}
	for _, m := range cssURLRE.FindAllStringSubmatch(page, -1) {
		urls = append(urls, html.UnescapeString(strings.Trim(m[1]+m[2], `"' `)))
	}
	return urls
}

// subresources returns src/href → integrity of the page's script and link tags.
func subresources(t *testing.T, page string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, m := range tagRE.FindAllStringSubmatch(page, -1) {
		attrs := map[string]string{}
		for _, kv := range attrKV.FindAllStringSubmatch(m[2], -1) {
			attrs[strings.ToLower(kv[1])] = html.UnescapeString(kv[2])
		}
		ref := attrs["src"]
		if m[1] == "link" {
			if attrs["rel"] != "stylesheet" {
				continue
			}
			ref = attrs["href"]
		}
		if ref == "" {
			continue
		}
		if attrs["integrity"] == "" {
			t.Errorf("<%s %s> has no integrity attribute", m[1], ref)
		}
		out[ref] = attrs["integrity"]
	}
	return out
}

func TestPage(t *testing.T) {
	srv := newServer(t, playground.WithExamples(examples))
	res, body := get(t, srv.URL+"/")
	page := string(body)

	if res.StatusCode != http.StatusOK {
		t.Fatalf("status %d", res.StatusCode)
	}
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		t.Errorf("Content-Type %q", ct)
	}
	if !strings.Contains(page, "<title>trendql playground</title>") {
		t.Errorf("no title in page")
	}

	// Every URL in the page stays on this host.
	urls := pageURLs(page)
	if len(urls) < 5 {
		t.Fatalf("found only %d URLs in the page: %q", len(urls), urls)
	}
	srvURL, _ := url.Parse(srv.URL)
	for _, raw := range urls {
		if strings.HasPrefix(raw, "data:") {
			continue
		}
		u, err := url.Parse(raw)
		if err != nil {
			t.Errorf("bad URL %q: %v", raw, err)
			continue
		}
		if u.Scheme != "" || u.Host != "" {
			if u.Host != srvURL.Host {
				t.Errorf("page refers to another host: %q", raw)
			}
		}
	}
	// No absolute URL to another host anywhere in the markup either.
	for _, m := range regexp.MustCompile(`(?i)(?:https?|wss?):(?://|\\/\\/)[^\s"'<>)]+`).FindAllString(page, -1) {
		if !strings.Contains(m, srvURL.Host) {
			t.Errorf("page text names another host: %q", m)
		}
	}

	// Scripts and the stylesheet: all ours, with the pinned integrity.
	subs := subresources(t, page)
	want := map[string]string{
		playground.GraphiQLJSFile:  playground.GraphiQLJSIntegrity,
		playground.GraphiQLCSSFile: playground.GraphiQLCSSIntegrity,
		playground.ReactFile:       playground.ReactIntegrity,
		playground.ReactDOMFile:    playground.ReactDOMIntegrity,
		playground.BootstrapFile:   "",
	}
	if len(subs) != len(want) {
		t.Errorf("page loads %d subresources, want %d: %v", len(subs), len(want), subs)
	}
	for ref, integrity := range subs {
		u, _ := url.Parse(ref)
		name, ok := strings.CutPrefix(u.Path, assetPrefix)
		if !ok {
			t.Errorf("subresource %q is not under %s", ref, assetPrefix)
			continue
		}
		w, known := want[name]
		if !known {
			t.Errorf("unexpected subresource %q", ref)
		} else if w != "" && integrity != w {
			t.Errorf("%s: integrity %q, want %q", name, integrity, w)
		}
	}

	// Content-Security-Policy: everything from 'self' only.
	csp := res.Header.Get("Content-Security-Policy")
	if csp == "" {
		t.Fatal("no Content-Security-Policy header")
	}
	directives := map[string][]string{}
	for _, d := range strings.Split(csp, ";") {
		f := strings.Fields(d)
		if len(f) > 0 {
			directives[f[0]] = f[1:]
		}
	}
	for name, allowed := range map[string][]string{
		"default-src": {"'none'"},
		"script-src":  {"'self'"},
		"style-src":   {"'self'", "'nonce-*"},
		"font-src":    {"'self'", "data:"},
		"img-src":     {"'self'", "data:"},
		"connect-src": {"'self'", "ws://" + srvURL.Host, "wss://" + srvURL.Host},
		"base-uri":    {"'none'"},
	} {
		got, ok := directives[name]
		if !ok {
			t.Errorf("CSP has no %s: %s", name, csp)
			continue
		}
		for _, src := range got {
			if !slices.ContainsFunc(allowed, func(a string) bool {
				p, wild := strings.CutSuffix(a, "*")
				return src == a || wild && strings.HasPrefix(src, p)
			}) {
				t.Errorf("CSP %s allows %s", name, src)
			}
			if strings.Contains(src, "unsafe") || src == "*" || src == "https:" || src == "http:" {
				t.Errorf("CSP %s allows %s", name, src)
			}
		}
	}
	nonce := strings.TrimSuffix(strings.TrimPrefix(directives["style-src"][1], "'nonce-"), "'")
	if !strings.Contains(page, `<style nonce="`+nonce+`">`) {
		t.Errorf("the page's <style> does not carry the CSP nonce %q", nonce)
	}
	_, body2 := get(t, srv.URL+"/")
	if strings.Contains(string(body2), nonce) {
		t.Errorf("nonce %q reused across responses", nonce)
	}

	// The settings GraphiQL starts with.
	m := configRE.FindStringSubmatch(page)
	if m == nil {
		t.Fatal("no playground-config block")
	}
	var cfg struct {
		Endpoint       string `json:"endpoint"`
		PersistHeaders bool   `json:"persistHeaders"`
		DefaultTabs    []struct {
			Query, Variables, Headers string
		} `json:"defaultTabs"`
	}
	if err := json.Unmarshal([]byte(m[1]), &cfg); err != nil {
		t.Fatalf("config: %v\n%s", err, m[1])
	}
	if cfg.Endpoint != "/graphql" || !cfg.PersistHeaders {
		t.Errorf("config %+v", cfg)
	}
	if len(cfg.DefaultTabs) != len(examples) {
		t.Fatalf("%d default tabs, want %d", len(cfg.DefaultTabs), len(examples))
	}
	for i, ex := range examples {
		tab := cfg.DefaultTabs[i]
		if !strings.HasPrefix(tab.Query, "# "+ex.Name+"\n") || !strings.HasSuffix(tab.Query, ex.Query) ||
			tab.Variables != ex.Variables || tab.Headers != ex.Headers {
			t.Errorf("tab %d = %+v, want %+v", i, tab, ex)
		}
	}
}

func TestPageEscapesSettings(t *testing.T) {
	srv := newServer(t, playground.WithExamples([]playground.Example{{
		Name:  "</script><script>alert(1)</script>",
		Query: "query { x } # </script><img src=x>",
	}}))
	_, body := get(t, srv.URL+"/")
	if n := strings.Count(string(body), "</script>"); n != 5 {
		t.Errorf("%d </script> in the page, want 5 (settings not escaped?)", n)
	}
}

func TestPageMethods(t *testing.T) {
	srv := newServer(t)
	res, err := http.Post(srv.URL+"/", "text/plain", strings.NewReader("x"))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST: status %d", res.StatusCode)
	}
	res, err = http.Head(srv.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Security-Policy") == "" {
		t.Errorf("HEAD: status %d, CSP %q", res.StatusCode, res.Header.Get("Content-Security-Policy"))
	}
}

func TestHandlerRefusesOffHostAssets(t *testing.T) {
	for _, prefix := range []string{"https://cdn.example.com/assets/", "//cdn.example.com/assets/", "http:/x"} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Handler accepted asset prefix %q", prefix)
				}
			}()
			playground.Handler("t", "/graphql", prefix)
		}()
	}
}

func TestAbsoluteEndpointInCSP(t *testing.T) {
	h := playground.Handler("t", "https://api.example.com/graphql", assetPrefix)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	csp := rec.Header().Get("Content-Security-Policy")
	if !strings.Contains(csp, "https://api.example.com") || !strings.Contains(csp, "wss://api.example.com") {
		t.Errorf("CSP does not let GraphiQL reach its endpoint: %s", csp)
	}
}

func TestAssets(t *testing.T) {
	srv := newServer(t)
	_, body := get(t, srv.URL+"/")
	subs := subresources(t, string(body))

	wantType := map[string]string{
		".js":  "text/javascript; charset=utf-8",
		".css": "text/css; charset=utf-8",
		".txt": "text/plain; charset=utf-8",
	}
	pinned := map[string]string{
		playground.GraphiQLJSFile:  playground.GraphiQLJSIntegrity,
		playground.GraphiQLCSSFile: playground.GraphiQLCSSIntegrity,
		playground.ReactFile:       playground.ReactIntegrity,
		playground.ReactDOMFile:    playground.ReactDOMIntegrity,
	}
	for ref, integrity := range subs {
		u, _ := url.Parse(ref)
		name := strings.TrimPrefix(u.Path, assetPrefix)
		t.Run(name, func(t *testing.T) {
			for _, enc := range []string{"identity", "gzip"} {
				req, _ := http.NewRequest(http.MethodGet, srv.URL+ref, nil)
				req.Header.Set("Accept-Encoding", enc)
				res, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				var r io.Reader = res.Body
				if res.Header.Get("Content-Encoding") == "gzip" {
					zr, err := gzip.NewReader(res.Body)
					if err != nil {
						t.Fatal(err)
					}
					r = zr
				} else if enc == "gzip" && name != playground.ReactFile && name != playground.BootstrapFile {
					t.Errorf("%s not gzipped when asked", name)
				}
				data, err := io.ReadAll(r)
				res.Body.Close()
				if err != nil {
					t.Fatal(err)
				}
				if res.StatusCode != http.StatusOK {
					t.Fatalf("%s: status %d", enc, res.StatusCode)
				}
				if ct, want := res.Header.Get("Content-Type"), wantType[name[strings.LastIndex(name, "."):]]; ct != want {
					t.Errorf("Content-Type %q, want %q", ct, want)
				}
				if cc := res.Header.Get("Cache-Control"); !strings.Contains(cc, "immutable") || !strings.Contains(cc, "max-age=31536000") {
					t.Errorf("Cache-Control %q", cc)
				}
				if res.Header.Get("X-Content-Type-Options") != "nosniff" {
					t.Errorf("no nosniff")
				}
				if got := playground.Integrity(data); got != integrity {
					t.Errorf("%s: served bytes hash to %s, the page pins %s", enc, got, integrity)
				}
				if p, ok := pinned[name]; ok && playground.Integrity(data) != p {
					t.Errorf("%s: served bytes hash to %s, constant is %s", enc, playground.Integrity(data), p)
				}

				// Revalidation.
				req, _ = http.NewRequest(http.MethodGet, srv.URL+ref, nil)
				req.Header.Set("Accept-Encoding", enc)
				req.Header.Set("If-None-Match", res.Header.Get("ETag"))
				res2, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				res2.Body.Close()
				if res2.StatusCode != http.StatusNotModified {
					t.Errorf("%s: If-None-Match: status %d", enc, res2.StatusCode)
				}
			}
		})
	}

	for _, name := range playground.AssetNames() {
		res, _ := get(t, srv.URL+assetPrefix+name)
		if res.StatusCode != http.StatusOK {
			t.Errorf("%s: status %d", name, res.StatusCode)
		}
	}
	for _, p := range []string{"nope.js", "", "graphiql.min.js.map", "graphiql.min.js/", "../playground.go", "assets/graphiql.min.js.x"} {
		res, _ := get(t, srv.URL+assetPrefix+p)
		if res.StatusCode != http.StatusNotFound {
			t.Errorf("%q: status %d, want 404", assetPrefix+p, res.StatusCode)
		}
	}
}

// The embedded third-party files are the very files gqlgen's own playground
// pins on its CDN: compare with the sha256 integrity its page carries.
func TestEmbeddedFilesMatchGqlgenPins(t *testing.T) {
	rec := httptest.NewRecorder()
	gqlplayground.Handler("x", "/graphql").ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	gqlgenPins := map[string]string{}
	for src, integrity := range subresources(t, rec.Body.String()) {
		gqlgenPins[src[strings.LastIndex(src, "/")+1:]] = integrity
	}

	srv := newServer(t)
	for _, name := range []string{playground.GraphiQLJSFile, playground.GraphiQLCSSFile, playground.ReactFile, playground.ReactDOMFile} {
		pin, ok := gqlgenPins[name]
		if !ok || !strings.HasPrefix(pin, "sha256-") {
			t.Errorf("gqlgen's page pins no sha256 for %s: %v", name, gqlgenPins)
			continue
		}
		_, data := get(t, srv.URL+assetPrefix+name, "Accept-Encoding", "identity")
		if got := sha256SRI(data); got != pin {
			t.Errorf("%s: sha256 %s, gqlgen pins %s", name, got, pin)
		}
	}
}

// TestBrowser loads the playground in headless Chromium and checks that
// GraphiQL renders with nothing loaded from another host.
func TestBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test in -short mode")
	}
	srv := newServer(t, playground.WithExamples(examples))
	b := chrometest.New(t)

	err := chromedp.Do(b.Ctx,
		chromedp.Navigate(srv.URL+"/"),
		chromedp.WaitVisible(chromedp.CSS(".graphiql-container")),
		chromedp.WaitVisible(chromedp.CSS(".graphiql-query-editor .CodeMirror")),
	)
	if err != nil {
		t.Fatalf("GraphiQL did not render: %v\nrequests: %q\nproblems: %q", err, b.Requests(), b.Problems())
	}
	tabs, err := chromedp.Run(b.Ctx, chromedp.Evaluate[[]string](
		`[...document.querySelectorAll('.graphiql-tab')].map(e => e.textContent.trim())`))
	if err != nil {
		t.Fatal(err)
	}
	query, err := chromedp.Run(b.Ctx, chromedp.Evaluate[string](
		`document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror.getValue()`))
	if err != nil {
		t.Fatal(err)
	}
	persist, err := chromedp.Run(b.Ctx, chromedp.Evaluate[string](
		`String(localStorage.getItem('graphiql:shouldPersistHeaders'))`))
	if err != nil {
		t.Fatal(err)
	}
	b.Screenshot(t, "playground.png")

	if len(tabs) != len(examples) {
		t.Errorf("tabs %q, want one per example (%d)", tabs, len(examples))
	}
	if !strings.Contains(query, examples[0].Query) {
		t.Errorf("first tab's query = %q", query)
	}
	t.Logf("tabs %q, shouldPersistHeaders in storage: %s", tabs, persist)

	// Open a dialog: GraphiQL (react-remove-scroll) then injects a <style>
	// that only the page's nonce lets through; it locks the body's scroll.
	err = chromedp.Do(b.Ctx,
		chromedp.Click(chromedp.CSS(`button[aria-label="Open settings dialog"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[role="dialog"]`)),
	)
	if err != nil {
		t.Errorf("settings dialog: %v", err)
	}
	overflow, err := chromedp.Run(b.Ctx, chromedp.Evaluate[string](`getComputedStyle(document.body).overflow`))
	if err != nil || overflow != "hidden" {
		t.Errorf("GraphiQL's injected dialog style did not apply (body overflow %q, %v)", overflow, err)
	}

	reqs := b.Requests()
	t.Logf("%d requests: %q", len(reqs), reqs)
	if off := b.OffHost(srv.URL); len(off) > 0 {
		t.Errorf("requests to other hosts: %q", off)
	}
	if f := b.Failed(); len(f) > 0 {
		t.Errorf("failed requests: %q", f)
	}
	for _, p := range b.Problems() {
		if knownNoise(p) {
			t.Logf("known: %s", p)
			continue
		}
		t.Errorf("browser reported: %s", p)
	}
}

// knownNoise tells the browser messages that are not the playground's fault.
func knownNoise(problem string) bool {
	for _, s := range []string{
		"this test serves no schema", // the stub endpoint
		// GraphiQL 4.1.2's dialogs lack a Radix Dialog.Description.
		"Missing `Description` or `aria-describedby={undefined}` for {DialogContent}",
	} {
		if strings.Contains(problem, s) {
			return true
		}
	}
	return false
}

func sha256SRI(data []byte) string {
	sum := sha256.Sum256(data)
	return "sha256-" + base64.StdEncoding.EncodeToString(sum[:])
}
