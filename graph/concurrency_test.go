package graph_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/trendql/trendql/db"
)

// httpGQL posts a GraphQL request to a real server and decodes the answer.
func httpGQL(ctx context.Context, c *http.Client, url, tok, query string, vars map[string]any, data any) (code string, err error) {
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url+"/graphql", bytes.NewReader(body))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/json")
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	res, err := c.Do(req)
	if err != nil {
		return "", err
	}
	defer res.Body.Close()
	var out struct {
		Data   json.RawMessage
		Errors []struct {
			Message    string
			Extensions struct{ Code string }
		}
	}
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
		return "", fmt.Errorf("HTTP %d: undecodable answer: %w", res.StatusCode, err)
	}
	if len(out.Errors) > 0 {
		return out.Errors[0].Extensions.Code, fmt.Errorf("HTTP %d: %s: %s", res.StatusCode, out.Errors[0].Extensions.Code, out.Errors[0].Message)
	}
	if res.StatusCode != http.StatusOK {
		return "", fmt.Errorf("HTTP %d", res.StatusCode)
	}
	if data != nil {
		return "", json.Unmarshal(out.Data, data)
	}
	return "", nil
}

// Eight writers make fifty mutations each against the real HTTP server
// while readers list content alongside. Each writer creates 25 companies,
// appends 20 highlights to its own trend and 5 to a trend all writers
// share, every append a read-modify-write guarded by ifVersion and retried
// on CONFLICT. Every write succeeds (no SQLITE_BUSY, no error of any
// kind), no read fails, and afterwards every write is there exactly once:
// 200 new companies, each trend's highlights exactly its appends, each
// version one per append, and exactly one event per mutation per writer.
func TestConcurrency_WritersAndReadersLoseNothing(t *testing.T) {
	const writers, perWriter = 8, 50
	const creates, ownAppends, sharedAppends = 25, 20, 5
	e := newEnv(t)
	tk := newTokens(t, e)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	setup := db.WithPrincipal(ctx, &db.Principal{Name: "setup", Role: db.RoleAdmin})
	cat := db.CategoryTooling
	newTrend := func(name string, rank int) string {
		tr, err := e.DB.CreateTrend(setup, db.TrendPatch{Name: &name, Rank: &rank, Category: &cat})
		if err != nil {
			t.Fatal(err)
		}
		return tr.ID()
	}
	shared := newTrend("Shared Trend", 50)
	own := make([]string, writers)
	writerTokens := make([]string, writers)
	writerTokenIDs := make([]int64, writers)
	for w := range writers {
		own[w] = newTrend(fmt.Sprintf("Writer %d Trend", w), 51+w)
		tok, secret, err := e.DB.CreateToken(ctx, fmt.Sprintf("writer-%d", w), db.RoleEditor, 0)
		if err != nil {
			t.Fatal(err)
		}
		writerTokens[w], writerTokenIDs[w] = secret, tok.ID
	}
	eventsBefore := eventCount(t, e)
	companiesBefore, err := e.DB.CountCompanies(setup, nil)
	if err != nil {
		t.Fatal(err)
	}

	srv := httptest.NewServer(e.Handler)
	defer srv.Close()
	hc := &http.Client{Timeout: time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	defer hc.CloseIdleConnections()

	var failures sync.Map // description → error
	var failed atomic.Int64
	fail := func(what string, err error) {
		failed.Add(1)
		failures.Store(fmt.Sprintf("%s #%d", what, failed.Load()), err)
	}
	var conflicts, reads atomic.Int64

	// appendHighlight is a script's safe read-modify-write: read the
	// version, write with ifVersion, start over on CONFLICT — which only a
	// trend other writers share may answer.
	appendHighlight := func(tok, id, text string) error {
		for attempt := 0; attempt < 500; attempt++ {
			var cur struct {
				Trend struct {
					Version    int
					Highlights []string
				}
			}
			if _, err := httpGQL(ctx, hc, srv.URL, tok, `query($id: ID!) { trend(id: $id) { version highlights } }`, map[string]any{"id": id}, &cur); err != nil {
				return fmt.Errorf("read: %w", err)
			}
			code, err := httpGQL(ctx, hc, srv.URL, tok, `mutation($id: ID!, $h: [String!], $v: Int) { updateTrend(id: $id, input: {highlights: $h}, ifVersion: $v) { version } }`,
				map[string]any{"id": id, "h": append(cur.Trend.Highlights, text), "v": cur.Trend.Version}, nil)
			if code == "CONFLICT" && id == shared {
				conflicts.Add(1)
				continue
			}
			return err
		}
		return fmt.Errorf("no success after 500 conflicts")
	}

	var writersWG, readersWG sync.WaitGroup
	done := make(chan struct{})
	for r := range 3 {
		readersWG.Add(1)
		go func() {
			defer readersWG.Done()
			tok := []string{"", tk.viewer, tk.admin}[r]
			for {
				select {
				case <-done:
					return
				default:
				}
				var out struct {
					Trends    struct{ TotalCount int }
					Companies struct{ TotalCount int }
				}
				_, err := httpGQL(ctx, hc, srv.URL, tok, `{ trends(first: 100) { totalCount nodes { name version highlights companies { name } } }
					companies(first: 100, orderBy: [{field: CREATED_AT, direction: DESC}]) { totalCount nodes { name frameworks { name } } } }`, nil, &out)
				if err != nil {
					fail(fmt.Sprintf("reader %d", r), err)
					return
				}
				reads.Add(1)
			}
		}()
	}
	for w := range writers {
		writersWG.Add(1)
		go func() {
			defer writersWG.Done()
			tok := writerTokens[w]
			c, o, s := 0, 0, 0
			for k := range perWriter {
				var err error
				switch {
				case k%2 == 0 && c < creates:
					_, err = httpGQL(ctx, hc, srv.URL, tok, `mutation($in: CreateCompanyInput!) { createCompany(input: $in) { id } }`,
						map[string]any{"in": map[string]any{"name": fmt.Sprintf("Writer %d Company %d", w, c)}}, nil)
					c++
				case (k/2)%5 == 4 && s < sharedAppends:
					err = appendHighlight(tok, shared, fmt.Sprintf("w%d-shared-%d", w, s))
					s++
				default:
					err = appendHighlight(tok, own[w], fmt.Sprintf("w%d-own-%d", w, o))
					o++
				}
				if err != nil {
					fail(fmt.Sprintf("writer %d mutation %d", w, k), err)
				}
			}
			if c != creates || o != ownAppends || s != sharedAppends {
				fail(fmt.Sprintf("writer %d", w), fmt.Errorf("made %d creates, %d own and %d shared appends", c, o, s))
			}
		}()
	}
	writersWG.Wait()
	close(done)
	readersWG.Wait()
	failures.Range(func(k, v any) bool {
		t.Errorf("%s: %v", k, v)
		return true
	})
	if failed.Load() > 0 {
		t.FailNow()
	}
	t.Logf("%d writes, %d CONFLICT retries on the shared trend, %d reads alongside", writers*perWriter, conflicts.Load(), reads.Load())
	if reads.Load() == 0 {
		t.Error("no reads ran alongside the writers")
	}

	// Every write is there exactly once.
	if n, _ := e.DB.CountCompanies(setup, nil); n != companiesBefore+writers*creates {
		t.Errorf("%d companies, want %d", n, companiesBefore+writers*creates)
	}
	content, err := e.DB.Export(ctx)
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]int{}
	for _, c := range content.Companies {
		names[c.Name]++
	}
	for w := range writers {
		for c := range creates {
			if n := names[fmt.Sprintf("Writer %d Company %d", w, c)]; n != 1 {
				t.Errorf("writer %d company %d is there %d times", w, c, n)
			}
		}
	}
	trend := func(id string) *db.Trend {
		tr, err := e.DB.Trend(setup, mustRowID(t, id))
		if err != nil {
			t.Fatal(err)
		}
		return tr
	}
	var wantShared []string
	for w := range writers {
		tr := trend(own[w])
		var want []string
		for o := range ownAppends {
			want = append(want, fmt.Sprintf("w%d-own-%d", w, o))
		}
		if !slices.Equal(tr.Highlights(), want) || tr.Version != 1+ownAppends {
			t.Errorf("writer %d's trend: version %d, highlights %q; want version %d, %q", w, tr.Version, tr.Highlights(), 1+ownAppends, want)
		}
		// A writer's own shared appends keep their order.
		var mine []string
		for _, h := range trend(shared).Highlights() {
			if strings.HasPrefix(h, fmt.Sprintf("w%d-", w)) {
				mine = append(mine, h)
			}
		}
		for s := range sharedAppends {
			wantShared = append(wantShared, fmt.Sprintf("w%d-shared-%d", w, s))
			if s >= len(mine) || mine[s] != fmt.Sprintf("w%d-shared-%d", w, s) {
				t.Errorf("writer %d's shared appends: %q", w, mine)
				break
			}
		}
	}
	sh := trend(shared)
	got := slices.Clone(sh.Highlights())
	slices.Sort(got)
	slices.Sort(wantShared)
	if !slices.Equal(got, wantShared) || sh.Version != 1+writers*sharedAppends {
		t.Errorf("shared trend: version %d, %d highlights; want version %d, exactly the %d appends", sh.Version, len(got), 1+writers*sharedAppends, len(wantShared))
	}

	// One event per successful mutation, per writer and in all.
	if n := eventCount(t, e); n != eventsBefore+writers*perWriter {
		t.Errorf("%d new events, want %d", n-eventsBefore, writers*perWriter)
	}
	for w := range writers {
		id := writerTokenIDs[w]
		for action, want := range map[string]int{db.ActionCreate: creates, db.ActionUpdate: ownAppends + sharedAppends} {
			n, err := e.DB.CountEvents(ctx, db.EventFilter{TokenID: &id, Actions: []string{action}})
			if err != nil || n != want {
				t.Errorf("writer %d: %d %s events (%v), want %d", w, n, action, err, want)
			}
		}
	}
}
