package graph_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/trendql/trendql/webhook"
)

// Webhook management is for admins only.
func TestWebhooks_AdminOnly(t *testing.T) {
	l := newLive(t)
	for _, c := range []struct{ token, code string }{{"", "UNAUTHENTICATED"}, {l.viewer, "FORBIDDEN"}, {l.editor, "FORBIDDEN"}} {
		for _, q := range []string{
			`mutation { createWebhook(input: {url: "http://127.0.0.1:1/x"}) { secret } }`,
			`{ webhooks { id } }`,
			`mutation { testWebhook(id: "V2ViaG9vazox") { id } }`,
		} {
			if res := l.try(t, c.token, q, nil); res.code() != c.code {
				t.Errorf("%q with token %q: %s, want %s", q, c.token, res.Body, c.code)
			}
		}
	}
}

func TestWebhooks_Validation(t *testing.T) {
	l := newLive(t)
	for _, c := range []struct {
		input map[string]any
		field string
	}{
		{map[string]any{"url": "ftp://example.com/hook"}, "input.url"},
		{map[string]any{"url": "http://"}, "input.url"},
		{map[string]any{"url": "not a url"}, "input.url"},
		{map[string]any{"url": "https://user:pw@example.com/hook"}, "input.url"},
		{map[string]any{"url": "https://example.com/hook#x"}, "input.url"},
		{map[string]any{"url": "https://example.com/" + strings.Repeat("a", 2100)}, "input.url"},
		{map[string]any{"url": "https://example.com/hook", "secret": "short"}, "input.secret"},
		// Integer, hex, octal and shortened IPv4 forms: each parser reads
		// them differently (issue 11 item 13).
		{map[string]any{"url": "http://2130706433/hook"}, "input.url"},
		{map[string]any{"url": "http://0x7f000001/hook"}, "input.url"},
		{map[string]any{"url": "http://0x7f.0.0.1/hook"}, "input.url"},
		{map[string]any{"url": "http://0177.0.0.1/hook"}, "input.url"},
		{map[string]any{"url": "http://127.1/hook"}, "input.url"},
		{map[string]any{"url": "http://169.254.43518/latest/meta-data"}, "input.url"},
		{map[string]any{"url": "http://hooks.example.com.2852039166/"}, "input.url"},
		{map[string]any{"url": "javascript:alert(1)"}, "input.url"},
		{map[string]any{"url": "http:///no-host"}, "input.url"},
		{map[string]any{"url": "https://:443/no-host"}, "input.url"},
		{map[string]any{"url": "https://token@example.com/hook"}, "input.url"},
	} {
		res := l.try(t, l.admin, `mutation($in: CreateWebhookInput!) { createWebhook(input: $in) { secret } }`, map[string]any{"in": c.input})
		if res.code() != "BAD_USER_INPUT" || res.Errors[0].Extensions["field"] != c.field {
			t.Errorf("%v: %s", c.input, res.Body)
		}
	}
	// An update is validated the same way, and a refused one changes nothing.
	var created struct {
		CreateWebhook struct{ Webhook struct{ ID, URL string } }
	}
	l.gql(t, l.admin, `mutation { createWebhook(input: {url: "https://hooks.example.com/x", active: false}) { webhook { id url } } }`, nil, &created)
	id := created.CreateWebhook.Webhook.ID
	for _, u := range []string{"http://2130706433/", "ftp://example.com/", "https://a:b@example.com/"} {
		res := l.try(t, l.admin, `mutation($id: ID!, $u: String!) { updateWebhook(id: $id, input: {url: $u}) { url } }`, map[string]any{"id": id, "u": u})
		if res.code() != "BAD_USER_INPUT" || res.Errors[0].Extensions["field"] != "input.url" {
			t.Errorf("update to %s: %s", u, res.Body)
		}
	}
	var after struct{ Webhook struct{ URL string } }
	l.gql(t, l.admin, `query($id: ID!) { webhook(id: $id) { url } }`, map[string]any{"id": id}, &after)
	if after.Webhook.URL != "https://hooks.example.com/x" {
		t.Errorf("a refused update changed the URL to %q", after.Webhook.URL)
	}
	// Names and canonical addresses pass (whether they are reachable is
	// decided at connect time).
	for _, u := range []string{"https://hooks.example.com/x", "http://93.184.216.34:8080/x", "https://[2606:4700::1]/x", "https://bad.cafe/x", "https://1password.com/x"} {
		res := l.try(t, l.admin, `mutation($id: ID!, $u: String!) { updateWebhook(id: $id, input: {url: $u}) { url } }`, map[string]any{"id": id, "u": u})
		if len(res.Errors) > 0 {
			t.Errorf("update to %s: %s", u, res.Body)
		}
	}
	res := l.try(t, l.admin, `mutation { updateWebhook(id: "V2ViaG9vazo5OQ", input: {active: false}) { id } }`, nil)
	if res.code() != "NOT_FOUND" {
		t.Errorf("update of an unknown webhook: %s", res.Body)
	}
}

// The whole life of a webhook through the API: register (the secret shown
// once), ping, a change delivered and listed with its attempts, update,
// rotate the secret, delete.
func TestWebhooks_Lifecycle(t *testing.T) {
	l := newLive(t)
	var got atomic.Int32
	var lastSig atomic.Value
	rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got.Add(1)
		lastSig.Store(r.Header.Get("X-Trendql-Signature"))
		w.WriteHeader(http.StatusOK)
	}))
	defer rc.Close()
	disp := webhook.New(webhook.Options{DB: l.DB, AllowPrivateTargets: true, BackoffBase: 10 * time.Millisecond})
	disp.Start()
	defer disp.Shutdown(context.Background())

	var created struct {
		CreateWebhook struct {
			Secret  string
			Webhook struct {
				ID            string
				URL           string
				Types         []string
				Actions       []string
				IncludeDrafts bool
				Active        bool
			}
		}
	}
	l.gql(t, l.admin, `mutation($url: String!) { createWebhook(input: {url: $url, types: [COMPANY], actions: [CREATE, PUBLISH]}) {
		secret webhook { id url types actions includeDrafts active } } }`, map[string]any{"url": rc.URL + "/hook"}, &created)
	w := created.CreateWebhook
	if !strings.HasPrefix(w.Secret, "whsec_") || w.Webhook.URL != rc.URL+"/hook" || strings.Join(w.Webhook.Types, ",") != "COMPANY" ||
		strings.Join(w.Webhook.Actions, ",") != "CREATE,PUBLISH" || !w.Webhook.IncludeDrafts || !w.Webhook.Active {
		t.Fatalf("created %+v", w)
	}

	var ping struct{ TestWebhook struct{ ID, Status string } }
	l.gql(t, l.admin, `mutation($id: ID!) { testWebhook(id: $id) { id status } }`, map[string]any{"id": w.Webhook.ID}, &ping)
	l.createCompany(t, "Hooked")
	l.createCompany(t, "Hooked Too")

	type delivery struct {
		ID             string
		Ping           bool
		Status         string
		Attempts       int
		LastStatusCode *int
		Event          *struct{ Action, ItemType string }
		AttemptLog     []struct{ Number, StatusCode int }
	}
	var list struct {
		Webhook struct {
			Deliveries struct {
				TotalCount int
				Nodes      []delivery
			}
		}
	}
	q := `query($id: ID!) { webhook(id: $id) { deliveries(status: SUCCEEDED) { totalCount nodes {
		id ping status attempts lastStatusCode event { action itemType } attemptLog { number statusCode } } } } }`
	deadline := time.Now().Add(10 * time.Second)
	for {
		l.gql(t, l.admin, q, map[string]any{"id": w.Webhook.ID}, &list)
		if len(list.Webhook.Deliveries.Nodes) == 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("deliveries: %+v", list)
		}
		time.Sleep(20 * time.Millisecond)
	}
	ds := list.Webhook.Deliveries.Nodes // newest first
	if !ds[2].Ping || ds[2].ID != ping.TestWebhook.ID || ds[2].Event != nil || ds[0].Event == nil || ds[0].Event.Action != "CREATE" ||
		ds[0].Attempts != 1 || len(ds[0].AttemptLog) != 1 || ds[0].AttemptLog[0].StatusCode != 200 {
		t.Errorf("deliveries %+v", ds)
	}
	sig := lastSig.Load().(string)

	var upd struct{ UpdateWebhook struct{ Active bool } }
	l.gql(t, l.admin, `mutation($id: ID!) { updateWebhook(id: $id, input: {active: false, types: null}) { active } }`, map[string]any{"id": w.Webhook.ID}, &upd)
	if upd.UpdateWebhook.Active {
		t.Error("still active")
	}
	var rot struct{ RotateWebhookSecret struct{ Secret string } }
	l.gql(t, l.admin, `mutation($id: ID!) { rotateWebhookSecret(id: $id) { secret } }`, map[string]any{"id": w.Webhook.ID}, &rot)
	if rot.RotateWebhookSecret.Secret == w.Secret || !strings.HasPrefix(rot.RotateWebhookSecret.Secret, "whsec_") {
		t.Errorf("rotated secret %q", rot.RotateWebhookSecret.Secret)
	}
	if sig == "" {
		t.Error("no signature seen")
	}

	var del struct{ DeleteWebhook string }
	l.gql(t, l.admin, `mutation($id: ID!) { deleteWebhook(id: $id) }`, map[string]any{"id": w.Webhook.ID}, &del)
	var after struct {
		Webhook  *struct{ ID string }
		Webhooks []struct{ ID string }
	}
	l.gql(t, l.admin, `query($id: ID!) { webhook(id: $id) { id } webhooks { id } }`, map[string]any{"id": w.Webhook.ID}, &after)
	if del.DeleteWebhook != w.Webhook.ID || after.Webhook != nil || len(after.Webhooks) != 0 {
		t.Errorf("after delete: %+v", after)
	}
}

// Mutations never wait for deliveries: with a receiver that holds every
// delivery until released, editing goes on and finishes while the first
// delivery is still held. (Not a timing assertion: the receiver holds its
// deliveries for 30s, far past how long the mutations take, and a
// mutation that waited for one would end only after that release.)
func TestWebhooks_SlowReceiverDoesNotSlowMutations(t *testing.T) {
	l := newLive(t)
	release := make(chan struct{})
	var held atomic.Int64
	rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		held.Add(1)
		defer held.Add(-1)
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer rc.Close()
	disp := webhook.New(webhook.Options{DB: l.DB, AllowPrivateTargets: true, Timeout: time.Minute})
	disp.Start()
	defer disp.Shutdown(context.Background())
	var released atomic.Bool
	watchdog := time.AfterFunc(30*time.Second, func() { released.Store(true); close(release) })
	defer func() { // before the shutdown, which waits for requests in flight
		if watchdog.Stop() {
			close(release)
		}
	}()
	l.gql(t, l.admin, `mutation($url: String!) { createWebhook(input: {url: $url}) { secret } }`, map[string]any{"url": rc.URL}, nil)

	id := l.createCompany(t, "Busy")
	for i := range 20 {
		l.rename(t, id, "Busy "+itoa(i))
	}
	if released.Load() {
		t.Fatal("21 mutations ended only after the receiver released its deliveries")
	}
	// The receiver did get a delivery, and still holds it.
	for deadline := time.Now().Add(10 * time.Second); held.Load() == 0; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("no delivery reached the receiver")
		}
	}
}
