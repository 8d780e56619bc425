package webhook_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/trendql/trendql/db"
	"github.com/trendql/trendql/db/dbtest"
	"github.com/trendql/trendql/webhook"
)

// request is what a receiver got.
type request struct {
	Header http.Header
	Body   []byte
	At     time.Time
}

// receiver is an httptest endpoint that answers with the status answer
// picks for the n-th request (1-based).
type receiver struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []request
}

func newReceiver(t *testing.T, answer func(n int, w http.ResponseWriter, r *http.Request)) *receiver {
	t.Helper()
	rc := &receiver{}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		rc.reqs = append(rc.reqs, request{r.Header.Clone(), body, time.Now()})
		n := len(rc.reqs)
		rc.mu.Unlock()
		answer(n, w, r)
	}))
	t.Cleanup(rc.Close)
	return rc
}

func (rc *receiver) requests() []request {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]request(nil), rc.reqs...)
}

func openDB(t *testing.T, path string) *db.DB {
	t.Helper()
	d, _, err := db.Open(context.Background(), path, db.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

func start(t *testing.T, d *db.DB, o webhook.Options) *webhook.Dispatcher {
	t.Helper()
	o.DB = d
	// The receivers are httptest servers on 127.0.0.1, which the
	// dispatcher refuses unless told otherwise (see guard_test.go).
	o.AllowPrivateTargets = true
	if o.BackoffBase == 0 {
		o.BackoffBase = 20 * time.Millisecond
	}
	w := webhook.New(o)
	w.Start()
	t.Cleanup(func() { w.Shutdown(context.Background()) })
	return w
}

func eventually(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func hook(t *testing.T, d *db.DB, url string, in db.WebhookInput) *db.Webhook {
	t.Helper()
	in.URL = &url
	w, err := d.CreateWebhook(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// editor is the context of content changes in these tests.
var editor = db.WithPrincipal(context.Background(), &db.Principal{TokenID: 1, Name: "test", Role: db.RoleEditor})

func company(t *testing.T, d *db.DB, name string) *db.Company {
	t.Helper()
	c, err := d.CreateCompany(editor, db.CompanyPatch{Name: &name})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// deliveries returns a webhook's deliveries, oldest first, with attempts.
func deliveries(t *testing.T, d *db.DB, webhookID int64) ([]*db.WebhookDelivery, map[int64][]*db.WebhookAttempt) {
	t.Helper()
	ctx := context.Background()
	first := 100
	page, err := d.Deliveries(ctx, webhookID, nil, db.PageArgs{First: &first})
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	var out []*db.WebhookDelivery
	for i := len(page.Items) - 1; i >= 0; i-- {
		out = append(out, page.Items[i])
		ids = append(ids, page.Items[i].ID)
	}
	attempts, err := d.AttemptsOfDeliveries(ctx, ids)
	if err != nil {
		t.Fatal(err)
	}
	return out, attempts
}

// verify checks a request's signature the way the README tells receivers
// to, independently of webhook.Sign.
func verify(t *testing.T, secret string, r request) {
	t.Helper()
	ts := r.Header.Get("X-Trendql-Timestamp")
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(ts + "." + string(r.Body)))
	want := "v1=" + hex.EncodeToString(mac.Sum(nil))
	if !hmac.Equal([]byte(want), []byte(r.Header.Get("X-Trendql-Signature"))) {
		t.Errorf("bad signature %q, want %q", r.Header.Get("X-Trendql-Signature"), want)
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || time.Since(time.Unix(sec, 0)) > time.Minute {
		t.Errorf("bad timestamp %q", ts)
	}
	if err := webhook.Verify(secret, ts, r.Header.Get("X-Trendql-Signature"), r.Body, 5*time.Minute, time.Now()); err != nil {
		t.Errorf("webhook.Verify: %v", err)
	}
}

// A receiver that fails twice then succeeds gets the delivery three times,
// each signed and with the same delivery id; the row says succeeded after
// 3 attempts, every one recorded; the waits grow.
func TestDelivery_FailsTwiceThenSucceeds(t *testing.T) {
	d := openDB(t, dbtest.NewDSN(t))
	rc := newReceiver(t, func(n int, w http.ResponseWriter, r *http.Request) {
		if n <= 2 {
			http.Error(w, "try again later", http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	secret := "a-shared-secret-of-some-length"
	wh := hook(t, d, rc.URL+"/hook", db.WebhookInput{Secret: &secret})
	start(t, d, webhook.Options{BackoffBase: 50 * time.Millisecond})
	c := company(t, d, "Acme")

	eventually(t, "three requests", func() bool { return len(rc.requests()) >= 3 })
	time.Sleep(200 * time.Millisecond) // a fourth would come by now
	reqs := rc.requests()
	if len(reqs) != 3 {
		t.Fatalf("%d requests, want 3", len(reqs))
	}
	for _, r := range reqs {
		verify(t, secret, r)
		if r.Header.Get("X-Trendql-Delivery") != reqs[0].Header.Get("X-Trendql-Delivery") || r.Header.Get("X-Trendql-Event") != "Company.CREATE" {
			t.Errorf("headers %v", r.Header)
		}
	}
	if gap1, gap2 := reqs[1].At.Sub(reqs[0].At), reqs[2].At.Sub(reqs[1].At); gap1 < 25*time.Millisecond || gap2 < 50*time.Millisecond {
		t.Errorf("backoff gaps %v, %v: want ≥ 25ms then ≥ 50ms", gap1, gap2)
	}
	var p webhook.Payload
	if err := json.Unmarshal(reqs[2].Body, &p); err != nil {
		t.Fatal(err)
	}
	if p.Type != "change" || p.DeliveryID != reqs[2].Header.Get("X-Trendql-Delivery") || p.Event == nil ||
		p.Event.Action != "CREATE" || p.Event.ItemID == nil || *p.Event.ItemID != c.ID() || p.Event.Version != 1 || len(p.Event.Document) == 0 {
		t.Errorf("payload %s", reqs[2].Body)
	}

	dels, attempts := deliveries(t, d, wh.ID)
	eventually(t, "the outcome recorded", func() bool {
		dels, attempts = deliveries(t, d, wh.ID)
		return len(dels) == 1 && dels[0].Status == db.DeliverySucceeded
	})
	x := dels[0]
	if x.Attempts != 3 || x.LastStatusCode == nil || *x.LastStatusCode != 204 || x.NextAttemptAt != nil || x.LastError != nil {
		t.Errorf("delivery %+v", x)
	}
	as := attempts[x.ID]
	if len(as) != 3 || *as[0].StatusCode != 503 || *as[1].StatusCode != 503 || *as[2].StatusCode != 204 ||
		*as[0].Error != "HTTP 503 Service Unavailable" || as[2].Error != nil || as[2].FinishedAt == nil {
		t.Errorf("attempts %s", show(as))
	}
}

func show(v any) string { b, _ := json.Marshal(v); return string(b) }

// A receiver that never succeeds: the delivery is dead after MaxAttempts,
// and the dispatcher stops trying.
func TestDelivery_DeadAfterMaxAttempts(t *testing.T) {
	d := openDB(t, dbtest.NewDSN(t))
	rc := newReceiver(t, func(n int, w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/elsewhere", http.StatusFound) // redirects are not followed
	})
	wh := hook(t, d, rc.URL, db.WebhookInput{})
	start(t, d, webhook.Options{MaxAttempts: 3, BackoffBase: 10 * time.Millisecond})
	company(t, d, "Acme")
	eventually(t, "a dead delivery", func() bool {
		dels, _ := deliveries(t, d, wh.ID)
		return len(dels) == 1 && dels[0].Status == db.DeliveryDead
	})
	time.Sleep(100 * time.Millisecond)
	dels, attempts := deliveries(t, d, wh.ID)
	if n := len(rc.requests()); n != 3 || dels[0].Attempts != 3 || len(attempts[dels[0].ID]) != 3 || dels[0].NextAttemptAt != nil {
		t.Errorf("%d requests; delivery %s", n, show(dels[0]))
	}
	// An admin's retry gives it exactly one more attempt.
	if _, err := d.RetryDelivery(context.Background(), dels[0].ID); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the retried attempt", func() bool {
		dels, _ := deliveries(t, d, wh.ID)
		return dels[0].Attempts == 4 && dels[0].Status == db.DeliveryDead
	})
}

// A server stopped in the middle of a delivery records the attempt as
// interrupted and sends it again after the restart.
func TestDelivery_ShutdownMidDeliveryResumesAfterRestart(t *testing.T) {
	path := dbtest.NewDSN(t)
	d := openDB(t, path)
	release := make(chan struct{})
	rc := newReceiver(t, func(n int, w http.ResponseWriter, r *http.Request) {
		if n == 1 {
			select { // hang until the sender gives up
			case <-r.Context().Done():
			case <-release:
			}
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	defer close(release)
	wh := hook(t, d, rc.URL, db.WebhookInput{})
	disp := webhook.New(webhook.Options{DB: d, BackoffBase: time.Hour, AllowPrivateTargets: true})
	disp.Start()
	company(t, d, "Acme")
	eventually(t, "the first request", func() bool { return len(rc.requests()) == 1 })

	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := disp.Shutdown(ctx); err == nil {
		t.Error("Shutdown returned nil with a request still in flight past its deadline")
	}
	d.Close()

	d = openDB(t, path) // the restart
	start(t, d, webhook.Options{BackoffBase: time.Hour})
	eventually(t, "the delivery after the restart", func() bool {
		dels, _ := deliveries(t, d, wh.ID)
		return len(dels) == 1 && dels[0].Status == db.DeliverySucceeded
	})
	reqs := rc.requests()
	dels, attempts := deliveries(t, d, wh.ID)
	as := attempts[dels[0].ID]
	if len(reqs) != 2 || reqs[0].Header.Get("X-Trendql-Delivery") != reqs[1].Header.Get("X-Trendql-Delivery") ||
		dels[0].Attempts != 2 || len(as) != 2 || as[0].StatusCode != nil || as[0].Error == nil || *as[1].StatusCode != 200 {
		t.Errorf("%d requests; delivery %s; attempts %s", len(reqs), show(dels[0]), show(as))
	}
}

// A process that dies during an attempt (it claimed the delivery and
// never recorded an outcome) leaves it to be sent again once the lease
// runs out; the lost attempt shows as interrupted.
func TestDelivery_CrashMidDeliveryResumesAfterLease(t *testing.T) {
	path := dbtest.NewDSN(t)
	d := openDB(t, path)
	rc := newReceiver(t, func(n int, w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) })
	wh := hook(t, d, rc.URL, db.WebhookInput{})
	company(t, d, "Acme")
	// The dying process: it queued and claimed the delivery, then vanished.
	if _, err := d.EnqueueDeliveries(context.Background(), 100); err != nil {
		t.Fatal(err)
	}
	jobs, err := d.ClaimDeliveries(context.Background(), 10, 300*time.Millisecond)
	if err != nil || len(jobs) != 1 {
		t.Fatalf("claim: %v, %v", jobs, err)
	}
	d.Close()

	d = openDB(t, path)
	start(t, d, webhook.Options{Lease: time.Second})
	eventually(t, "the delivery after the lease", func() bool {
		dels, _ := deliveries(t, d, wh.ID)
		return len(dels) == 1 && dels[0].Status == db.DeliverySucceeded
	})
	dels, attempts := deliveries(t, d, wh.ID)
	as := attempts[dels[0].ID]
	if len(rc.requests()) != 1 || dels[0].Attempts != 2 || len(as) != 2 || as[0].Error == nil || as[0].FinishedAt == nil {
		t.Errorf("delivery %s; attempts %s", show(dels[0]), show(as))
	}
}

// Filters choose the deliveries; a webhook hears only what happens after
// it was created; inactive ones hear nothing; pings go out on demand.
func TestDispatch_Filters(t *testing.T) {
	ctx := editor
	d := openDB(t, dbtest.NewDSN(t))
	rc := newReceiver(t, func(n int, w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) })
	early := company(t, d, "Before The Hooks")
	types, actions, no, yes := []db.TypeName{db.TypeCompany}, []string{db.ActionPublish, db.ActionUpdate}, false, true
	all := hook(t, d, rc.URL+"/all", db.WebhookInput{})
	publishes := hook(t, d, rc.URL+"/publishes", db.WebhookInput{Types: &types, Actions: &actions})
	public := hook(t, d, rc.URL+"/public", db.WebhookInput{IncludeDrafts: &no})
	off := hook(t, d, rc.URL+"/off", db.WebhookInput{Active: &no})
	start(t, d, webhook.Options{})

	c := company(t, d, "Draft Co")                                                                          // all
	if _, err := d.UpdateCompany(ctx, c.RowID, db.CompanyPatch{Name: ptr("Draft Co 2")}, nil); err != nil { // all, publishes
		t.Fatal(err)
	}
	if err := d.SetStatus(ctx, db.TypeCompany, c.RowID, db.StatusPublished, nil); err != nil { // all, publishes, public
		t.Fatal(err)
	}
	if err := d.SetStatus(ctx, db.TypeCompany, early.RowID, db.StatusPublished, nil); err != nil { // all, publishes, public
		t.Fatal(err)
	}
	if _, err := d.PingWebhook(ctx, off.ID); err != nil { // waits while the webhook is inactive
		t.Fatal(err)
	}
	if _, err := d.PingWebhook(ctx, public.ID); err != nil {
		t.Fatal(err)
	}
	want := map[string]int{"/all": 4, "/publishes": 3, "/public": 3}
	eventually(t, "the deliveries", func() bool { return len(rc.requests()) >= 4+3+3 })
	time.Sleep(100 * time.Millisecond)
	got := map[string]int{}
	pings := 0
	rc.mu.Lock()
	for _, r := range rc.reqs {
		if r.Header.Get("X-Trendql-Event") == "ping" {
			pings++
			continue
		}
		var p webhook.Payload
		json.Unmarshal(r.Body, &p)
		got[p.WebhookID]++
	}
	rc.mu.Unlock()
	if got[db.EncodeID(db.TypeWebhook, all.ID)] != want["/all"] || got[db.EncodeID(db.TypeWebhook, publishes.ID)] != want["/publishes"] ||
		got[db.EncodeID(db.TypeWebhook, public.ID)] != want["/public"]-1 || pings != 1 {
		t.Errorf("deliveries per webhook %v, pings %d", got, pings)
	}
	// The inactive webhook's ping waits; activating it sends it.
	if _, err := d.UpdateWebhook(ctx, off.ID, db.WebhookInput{Active: &yes}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the reactivated webhook's ping", func() bool {
		dels, _ := deliveries(t, d, off.ID)
		return len(dels) == 1 && dels[0].Status == db.DeliverySucceeded
	})
}

// Two dispatchers on one database (two server processes) never send a
// delivery twice: each event is queued once per webhook, each delivery
// claimed once.
func TestDispatch_TwoDispatchersDeliverOnce(t *testing.T) {
	d := openDB(t, dbtest.NewDSN(t))
	var mu sync.Mutex
	seen := map[string]int{}
	rc := newReceiver(t, func(n int, w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen[r.Header.Get("X-Trendql-Delivery")]++
		mu.Unlock()
		w.WriteHeader(http.StatusOK)
	})
	hook(t, d, rc.URL, db.WebhookInput{})
	d2 := openDB(t, d.Path())
	start(t, d, webhook.Options{})
	start(t, d2, webhook.Options{})
	go d2.WatchExternal(t.Context(), 5*time.Millisecond)
	const n = 30
	for i := range n {
		company(t, d, "Company "+strconv.Itoa(i))
	}
	eventually(t, "all deliveries", func() bool { return len(rc.requests()) >= n })
	time.Sleep(200 * time.Millisecond)
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != n || len(rc.requests()) != n {
		t.Errorf("%d distinct deliveries in %d requests, want %d", len(seen), len(rc.requests()), n)
	}
}

func ptr[T any](v T) *T { return &v }

// Finished deliveries older than the retention are pruned with their
// attempts; a delivery still failing is kept whatever its age.
func TestRetention_PrunesFinishedDeliveries(t *testing.T) {
	d := openDB(t, dbtest.NewDSN(t))
	ok := newReceiver(t, func(n int, w http.ResponseWriter, r *http.Request) {})
	failing := newReceiver(t, func(n int, w http.ResponseWriter, r *http.Request) { w.WriteHeader(500) })
	good := hook(t, d, ok.URL, db.WebhookInput{})
	bad := hook(t, d, failing.URL, db.WebhookInput{})
	w := start(t, d, webhook.Options{BackoffBase: time.Hour})
	company(t, d, "Acme")
	eventually(t, "one success and one failure", func() bool {
		g, _ := deliveries(t, d, good.ID)
		b, _ := deliveries(t, d, bad.ID)
		return len(g) == 1 && g[0].Status == db.DeliverySucceeded && len(b) == 1 && b[0].Status == db.DeliveryFailed
	})
	w.Shutdown(context.Background())
	ctx := context.Background()
	done, _ := deliveries(t, d, good.ID)
	// Recent deliveries stay.
	if n, err := d.PruneDeliveries(ctx, time.Now().Add(-time.Hour)); err != nil || n != 0 {
		t.Fatalf("pruned %d recent deliveries (%v)", n, err)
	}
	// Once old, the finished one goes, with its attempts; the failing stays.
	n, err := d.PruneDeliveries(ctx, time.Now().Add(time.Hour))
	if err != nil || n != 1 {
		t.Fatalf("pruned %d, %v; want 1", n, err)
	}
	g, _ := deliveries(t, d, good.ID)
	b, _ := deliveries(t, d, bad.ID)
	gone, err := d.AttemptsOfDeliveries(ctx, []int64{done[0].ID})
	if err != nil {
		t.Fatal(err)
	}
	if len(g) != 0 || len(gone[done[0].ID]) != 0 || len(b) != 1 {
		t.Errorf("after pruning: %d succeeded (%d attempts left), %d failing", len(g), len(gone[done[0].ID]), len(b))
	}
}
