// Package chrometest starts a headless Chromium for tests and records what
// the page does: every network request, console errors, uncaught exceptions
// and browser log entries (CSP and SRI refusals land there).
//
//	b := chrometest.New(t)
//	err := chromedp.Do(b.Ctx, chromedp.Navigate(srv.URL), chromedp.WaitVisible(chromedp.CSS(".graphiql-container")))
//	if off := b.OffHost(srv.URL); len(off) > 0 { t.Errorf("requests to other hosts: %v", off) }
//	b.Screenshot(t, "playground.png")
//
// The browser is found at $TRENDQL_CHROME, else as chromium, chromium-browser,
// google-chrome or google-chrome-stable on PATH (Debian: apt-get install
// chromium). Without one the test is skipped, unless $CI is set: then it
// fails.
package chrometest

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// Timeout bounds the life of a Browser's context.
const Timeout = 90 * time.Second

// Browser is one headless Chromium tab.
type Browser struct {
	// Ctx runs chromedp actions in the tab; it ends when the test does, or
	// after Timeout.
	Ctx context.Context

	mu       sync.Mutex
	urls     map[network.RequestID]string
	requests []string
	failed   []string
	problems []string
}

// ExecPath returns the Chromium binary to use, or "" when there is none.
func ExecPath() string {
	if p := os.Getenv("TRENDQL_CHROME"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// New starts a headless Chromium with a fresh profile and opens a tab with
// network, console and log recording on. It skips the test when no browser
// is installed, or fails it when $CI is set.
func New(t testing.TB) *Browser {
	t.Helper()
	execPath := ExecPath()
	if execPath == "" {
		msg := "chromium not found (apt-get install -y chromium, or set TRENDQL_CHROME)"
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	// Created before the browser starts so that its removal runs after the
	// browser has been stopped (cleanups run last-in first-out).
	profile := t.TempDir()

	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(execPath),
		chromedp.UserDataDir(profile),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.WindowSize(1280, 800),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("metrics-recording-only", true),
		chromedp.Flag("mute-audio", true),
		chromedp.Flag("no-pings", true),
		chromedp.Flag("safebrowsing-disable-auto-update", true),
		chromedp.Flag("disable-features", "Translate,OptimizationHints,MediaRouter,InterestFeedContentSuggestions"),
	}
	b := &Browser{urls: map[network.RequestID]string{}}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	// WithListener sees every event of the tab from its start. chromedp
	// enables the Runtime, Log and Network domains itself.
	ctx, cancelTab := chromedp.NewContext(actx, chromedp.WithLogf(t.Logf), chromedp.WithListener(b.onEvent))
	ctx, cancelTimeout := context.WithTimeout(ctx, Timeout)
	t.Cleanup(func() {
		cancelTimeout()
		cancelTab()
		cancelAlloc()
	})
	b.Ctx = ctx
	if err := chromedp.Do(ctx); err != nil { // starts the browser, opens the tab
		t.Fatalf("start chromium (%s): %v", execPath, err)
	}
	return b
}

func (b *Browser) onEvent(ev any) {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch e := ev.(type) {
	case *network.EventRequestWillBeSent:
		u := shorten(e.Request.URL)
		b.requests = append(b.requests, u)
		b.urls[e.RequestID] = u
	case *network.EventWebSocketCreated:
		b.requests = append(b.requests, e.URL)
		b.urls[e.RequestID] = e.URL
	case *network.EventLoadingFailed:
		msg := fmt.Sprintf("%s: %s", b.urls[e.RequestID], e.ErrorText)
		if e.BlockedReason != "" {
			msg += fmt.Sprintf(" (blocked: %s)", e.BlockedReason)
		}
		if e.Canceled {
			msg += " (canceled)"
		}
		b.failed = append(b.failed, msg)
	case *log.EventEntryAdded:
		if e.Entry.Level == log.EntryLevelError || e.Entry.Level == log.EntryLevelWarning {
			b.problems = append(b.problems, fmt.Sprintf("log %s/%s: %s %s", e.Entry.Source, e.Entry.Level, e.Entry.Text, e.Entry.URL))
		}
	case *runtime.EventConsoleAPICalled:
		switch e.Type {
		case runtime.ConsoleAPICalledTypeError, runtime.ConsoleAPICalledTypeWarning, runtime.ConsoleAPICalledTypeAssert:
			var parts []string
			for _, a := range e.Args {
				if len(a.Value) > 0 {
					parts = append(parts, string(a.Value))
				} else {
					parts = append(parts, a.Description)
				}
			}
			b.problems = append(b.problems, fmt.Sprintf("console.%s: %s", e.Type, strings.Join(parts, " ")))
		}
	case *runtime.EventExceptionThrown:
		d := e.ExceptionDetails
		text := d.Text
		if d.Exception != nil && d.Exception.Description != "" {
			text += " " + d.Exception.Description
		}
		b.problems = append(b.problems, fmt.Sprintf("exception: %s (%s:%d)", text, d.URL, d.LineNumber+1))
	}
}

// shorten cuts a data: URL down to its media type and size.
func shorten(u string) string {
	if strings.HasPrefix(u, "data:") && len(u) > 64 {
		head, _, _ := strings.Cut(u, ",")
		return fmt.Sprintf("%s,…(%d bytes)", head, len(u))
	}
	return u
}

// Requests returns the URLs of every request the tab has made so far, in
// order, websockets included; a long data: URL is shortened to its media
// type and length.
func (b *Browser) Requests() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.requests)
}

// Failed returns the requests that failed to load (with Chromium's reason).
func (b *Browser) Failed() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.failed)
}

// Problems returns console errors and warnings, uncaught exceptions, and
// browser log errors and warnings (a refused script, style or connection
// under the Content-Security-Policy, a failed integrity check).
func (b *Browser) Problems() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.problems)
}

// OffHost returns the network requests (http, https, ws, wss) whose host is
// not the host of one of the allowed base URLs (e.g. an httptest server's
// URL). data:, blob: and about: URLs never leave the browser and are not
// counted.
func (b *Browser) OffHost(allowed ...string) []string {
	hosts := map[string]bool{}
	for _, a := range allowed {
		if u, err := url.Parse(a); err == nil && u.Host != "" {
			hosts[strings.ToLower(u.Host)] = true
		} else {
			hosts[strings.ToLower(a)] = true
		}
	}
	var off []string
	for _, r := range b.Requests() {
		u, err := url.Parse(r)
		if err != nil {
			off = append(off, r)
			continue
		}
		switch u.Scheme {
		case "http", "https", "ws", "wss":
			if !hosts[strings.ToLower(u.Host)] {
				off = append(off, r)
			}
		case "data", "blob", "about":
		default:
			off = append(off, r)
		}
	}
	return off
}

// ArtifactDir is where screenshots go: $TRENDQL_ARTIFACTS (created if
// needed), else the test's temporary directory.
func ArtifactDir(t testing.TB) string {
	t.Helper()
	if d := os.Getenv("TRENDQL_ARTIFACTS"); d != "" {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatalf("artifacts dir: %v", err)
		}
		return d
	}
	return t.TempDir()
}

// Screenshot saves a PNG of the whole page as name in ArtifactDir and
// returns its path.
func (b *Browser) Screenshot(t testing.TB, name string) string {
	t.Helper()
	png, err := chromedp.Run(b.Ctx, chromedp.FullScreenshot(100)) // 100: PNG
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	p := filepath.Join(ArtifactDir(t), name)
	if err := os.WriteFile(p, png, 0o644); err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	t.Logf("screenshot: %s", p)
	return p
}
