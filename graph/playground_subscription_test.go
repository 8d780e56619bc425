package graph_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/trendql/trendql/graph/playground/chrometest"
)

// The playground subscribes too: GraphiQL's own fetcher, in a real browser
// under the page's Content-Security-Policy, opens a graphql-transport-ws
// websocket to the server and receives a change.
func TestPlayground_Subscribes(t *testing.T) {
	l := newLive(t)
	b := chrometest.New(t)
	err := chromedp.Do(b.Ctx,
		chromedp.Navigate(l.URL+"/"),
		chromedp.WaitVisible(chromedp.CSS(".graphiql-container")),
	)
	if err != nil {
		t.Fatalf("GraphiQL did not render: %v\nproblems: %q", err, b.Problems())
	}
	// Type the subscription into the editor and press run, as a person would.
	err = chromedp.Do(b.Ctx, chromedp.WaitVisible(chromedp.CSS(".graphiql-query-editor .CodeMirror")))
	if err == nil {
		_, err = chromedp.Run(b.Ctx, chromedp.Evaluate[bool](`document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror.setValue(
			"subscription Live { contentChanged { action itemType } }") === undefined`))
	}
	if err == nil {
		time.Sleep(500 * time.Millisecond) // GraphiQL reads the editor's operations after a debounce
		err = chromedp.Do(b.Ctx, chromedp.Click(chromedp.CSS(".graphiql-execute-button")))
	}
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond) // let the socket open
	id := l.createCompany(t, "Seen From A Browser")
	l.publish(t, id, true)
	var got []string
	deadline := time.Now().Add(10 * time.Second)
	for len(got) == 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
		out, err := chromedp.Run(b.Ctx, chromedp.Evaluate[string](
			`document.querySelector('.graphiql-response .CodeMirror').CodeMirror.getValue()`))
		if err != nil {
			t.Fatal(err)
		}
		if out != "" {
			got = append(got, out)
		}
	}
	b.Screenshot(t, "playground-subscription.png")
	if len(got) != 1 || !strings.Contains(got[0], `"action": "PUBLISH"`) {
		t.Errorf("browser got %q\nrequests: %q\nproblems: %q", got, b.Requests(), b.Problems())
	}
	for _, p := range b.Problems() {
		if strings.Contains(p, "Content Security Policy") || strings.Contains(p, "WebSocket") {
			t.Errorf("browser reported: %s", p)
		}
	}
}
