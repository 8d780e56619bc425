package graph_test

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/trendql/trendql/db"
	"github.com/trendql/trendql/graph/playground/chrometest"
)

// The playground end to end in a real browser, against the real server,
// with nothing reachable but the test server: it opens, introspects,
// autocompletes, and runs every example tab.
func TestPlayground_InABrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test in -short mode")
	}
	e := newEnv(t)
	editor := token(t, e, db.RoleEditor)
	srv := httptest.NewServer(e.Handler)
	defer srv.Close()
	b := chrometest.New(t)

	err := chromedp.Do(b.Ctx,
		chromedp.Navigate(srv.URL+"/"),
		chromedp.WaitVisible(chromedp.CSS(".graphiql-container")),
		chromedp.WaitVisible(chromedp.CSS(".graphiql-query-editor .CodeMirror")),
	)
	if err != nil {
		t.Fatalf("GraphiQL did not render: %v\nproblems: %q", err, b.Problems())
	}
	eval := func(js string) string {
		t.Helper()
		v, err := chromedp.Run(b.Ctx, chromedp.Evaluate[string](js))
		if err != nil {
			t.Fatalf("%s: %v", js, err)
		}
		return v
	}
	waitFor := func(what, js string) string {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for {
			v := eval(js)
			if v != "" {
				return v
			}
			if time.Now().After(deadline) {
				b.Screenshot(t, "playground-failed.png")
				t.Fatalf("timed out waiting for %s; problems: %q", what, b.Problems())
			}
			time.Sleep(100 * time.Millisecond)
		}
	}

	// Introspection: the docs explorer lists the schema's root types.
	waitFor("the schema", `(() => { const r = [...document.querySelectorAll('button')].find(b => b.getAttribute('aria-label') === 'Show Documentation Explorer'); if (r) r.click(); const d = document.querySelector('.graphiql-doc-explorer'); return d && d.textContent.includes('Query') ? 'ok' : ''; })()`)

	// Every example tab runs and shows data.
	tabs := eval(`JSON.stringify([...document.querySelectorAll('.graphiql-tab')].map(e => e.textContent.trim()))`)
	var names []string
	json.Unmarshal([]byte(tabs), &names)
	if len(names) < 5 {
		t.Fatalf("example tabs: %q", names)
	}
	for i := range names {
		eval(`(() => { document.querySelectorAll('.graphiql-tab button.graphiql-tab-button')[` + itoa(i) + `].click(); return ''; })()`)
		time.Sleep(300 * time.Millisecond)
		query := eval(`document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror.getValue()`)
		if strings.HasPrefix(strings.TrimSpace(query), "mutation") || strings.Contains(query, "mutation ") {
			// The mutation example shows where the token goes: put a real one there.
			eval(`(() => { const b = [...document.querySelectorAll('button')].find(b => b.textContent.trim() === 'Headers'); if (b) b.click(); return ''; })()`)
			headers := waitFor("the headers pane", `(() => { const h = [...document.querySelectorAll('.CodeMirror')].map(c => c.CodeMirror.getValue()).find(v => v.includes('Authorization')); return h || ''; })()`)
			if !strings.Contains(headers, "Authorization") {
				t.Errorf("the mutation example does not show the Authorization header: %q", headers)
			}
			eval(`(() => { const cms = [...document.querySelectorAll('.CodeMirror')]; const h = cms.find(c => c.CodeMirror.getValue().includes('Authorization')); h.CodeMirror.setValue(JSON.stringify({Authorization: 'Bearer ` + editor + `'})); return ''; })()`)
		}
		eval(`(() => { document.querySelector('.graphiql-execute-button').click(); return ''; })()`)
		if strings.Contains(query, "subscription ") {
			// A subscription shows data when something changes: change
			// something once its websocket is up.
			time.Sleep(time.Second)
			// Uber is published: the edit is a draft until the publish
			// in the same request makes it a public change.
			r := e.post(t, `mutation($id: ID!) { updateCompany(id: $id, input: { name: "Uber Technologies" }) { version } publish(id: $id) { id } }`,
				map[string]any{"id": db.EncodeID(db.TypeCompany, companyID(t, e, "uber"))}, "Authorization", "Bearer "+editor)
			if len(r.Errors) > 0 {
				t.Fatalf("change for the subscription: %s", r.Body)
			}
		}
		result := waitFor("the result of "+names[i], `(() => { const cm = document.querySelector('.graphiql-response .CodeMirror'); const v = cm ? cm.CodeMirror.getValue() : ''; return v.includes('"data"') || v.includes('"errors"') ? v : ''; })()`)
		if strings.Contains(result, `"errors"`) || !strings.Contains(result, `"data"`) {
			t.Errorf("example %q answered: %s", names[i], result)
		}
		if i == 0 && !strings.Contains(result, "Backend as a Service") {
			t.Errorf("the top-10 example shows: %.200s", result)
		}
	}

	// Autocomplete: typing in the editor offers the schema's fields.
	eval(`(() => { document.querySelectorAll('.graphiql-tab button.graphiql-tab-button')[0].click(); return ''; })()`)
	time.Sleep(200 * time.Millisecond)
	eval(`(() => { const cm = document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror; cm.setValue('{ fr'); cm.focus(); cm.setCursor({line: 0, ch: 4}); cm.showHint({completeSingle: false}); return ''; })()`)
	hints := waitFor("autocomplete", `(() => { const h = document.querySelector('.CodeMirror-hints'); return h ? h.textContent : ''; })()`)
	if !strings.Contains(hints, "frameworks") || !strings.Contains(hints, "framework") {
		t.Errorf("autocomplete offered %q", hints)
	}

	b.Screenshot(t, "playground.png")
	if off := b.OffHost(srv.URL); len(off) > 0 {
		t.Errorf("requests left for other hosts: %q", off)
	}
	if f := b.Failed(); len(f) > 0 {
		t.Errorf("failed requests: %q", f)
	}
	for _, p := range b.Problems() {
		if strings.Contains(p, "DialogContent") || strings.Contains(p, "Description") {
			continue // GraphiQL's own Radix warning, see graph/playground/ASSETS.md
		}
		t.Errorf("browser reported: %s", p)
	}
}

func companyID(t *testing.T, e *env, slug string) int64 {
	t.Helper()
	c, err := e.DB.CompanyBySlug(context.Background(), slug)
	if err != nil {
		t.Fatal(err)
	}
	return c.RowID
}
