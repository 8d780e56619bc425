package graph_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/99designs/gqlgen/client"
	"github.com/trendql/trendql/db"
	"github.com/trendql/trendql/db/dbtest"
	"github.com/trendql/trendql/graph"
)

// env is one test's server: a seeded database of the engine under test (a
// copy of the seeded template, see dbtest) behind the real handler.
type env struct {
	DB      *db.DB
	Handler http.Handler
	Client  *client.Client
}

func newEnv(t testing.TB, opts ...func(*graph.Options)) *env {
	t.Helper()
	ctx := context.Background()
	d, created, err := db.Open(ctx, dbtest.CloneDSN(t, seededTemplate(t)), db.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	if created {
		t.Fatal("the copy of the seeded template was taken for a new database")
	}
	o := graph.Options{DB: d}
	for _, f := range opts {
		f(&o)
	}
	h := graph.NewHandler(o)
	return &env{DB: d, Handler: h, Client: client.New(h, client.Path("/graphql"))}
}

// TestMain removes the seeded template when the tests are done.
func TestMain(m *testing.M) {
	code := m.Run()
	if templateRemove != nil {
		if err := templateRemove(); err != nil {
			fmt.Fprintln(os.Stderr, "removing the seeded template:", err)
			code = max(code, 1)
		}
	}
	os.Exit(code)
}

var (
	templateOnce   sync.Once
	templatePath   string
	templateRemove func() error
	templateErr    error
)

// seededTemplate returns the DSN of a database created, migrated and
// seeded once per test binary and then closed (an SQLite file without a
// WAL; a PostgreSQL database nobody is connected to). Tests clone it with
// dbtest.CloneDSN: a copy costs far less than migrating and seeding, which
// the db package's own tests cover.
func seededTemplate(t testing.TB) string {
	t.Helper()
	if dbtest.Engine() == dbtest.Postgres {
		dbtest.PostgresURL(t) // skips, or fails under CI, without a cluster
	}
	templateOnce.Do(func() {
		templatePath, templateRemove, templateErr = dbtest.NewSharedDSN()
		if templateErr != nil {
			return
		}
		ctx := context.Background()
		d, _, err := db.Open(ctx, templatePath, db.Options{})
		if err != nil {
			templateErr = err
			return
		}
		templateErr = errors.Join(d.Seed(ctx), d.Close())
		// Closing the last connection checkpoints the WAL into the file,
		// so a copy of the file alone is the whole database.
		if dbtest.Engine() == dbtest.SQLite {
			if st, err := os.Stat(templatePath + "-wal"); templateErr == nil && err == nil && st.Size() > 0 {
				templateErr = errors.New("the seeded template still has a WAL after closing")
			}
		}
	})
	if templateErr != nil {
		t.Fatal(templateErr)
	}
	return templatePath
}

// gqlResponse is a raw GraphQL response.
type gqlResponse struct {
	Status int
	Header http.Header
	Data   json.RawMessage `json:"data"`
	Errors []struct {
		Message    string         `json:"message"`
		Path       []any          `json:"path"`
		Extensions map[string]any `json:"extensions"`
	} `json:"errors"`
	Body string
}

func (r *gqlResponse) code() string {
	if len(r.Errors) == 0 {
		return ""
	}
	c, _ := r.Errors[0].Extensions["code"].(string)
	return c
}

// do sends a raw HTTP request to the handler.
func (e *env) do(t testing.TB, req *http.Request) *gqlResponse {
	t.Helper()
	rec := httptest.NewRecorder()
	e.Handler.ServeHTTP(rec, req)
	res := &gqlResponse{Status: rec.Code, Header: rec.Header(), Body: rec.Body.String()}
	if strings.Contains(rec.Header().Get("Content-Type"), "json") {
		if err := json.Unmarshal(rec.Body.Bytes(), res); err != nil {
			t.Fatalf("response is not JSON: %v: %s", err, rec.Body.String())
		}
	}
	return res
}

// post sends a GraphQL POST with optional variables and headers.
func (e *env) post(t testing.TB, query string, vars map[string]any, headers ...string) *gqlResponse {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return e.do(t, req)
}

// mustQuery runs a query that must succeed and decodes data into out.
func (e *env) mustQuery(t testing.TB, query string, out any, opts ...client.Option) {
	t.Helper()
	if err := e.Client.Post(query, out, opts...); err != nil {
		t.Fatalf("query failed: %v\n%s", err, query)
	}
}

// metric reads one unlabelled metric from /metrics.
func (e *env) metric(t testing.TB, name string) float64 {
	t.Helper()
	rec := httptest.NewRecorder()
	e.Handler.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	for _, line := range strings.Split(string(body), "\n") {
		if strings.HasPrefix(line, name+" ") {
			v, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimPrefix(line, name)), 64)
			if err != nil {
				t.Fatal(err)
			}
			return v
		}
	}
	t.Fatalf("metric %s not found in /metrics", name)
	return 0
}

// leakMarkers betray internals: SQL and driver errors, source paths,
// stacks, temp paths.
var leakMarkers = []string{"sqlite", "select ", "sql: ", "no such table", "constraint failed", ".go:", "goroutine ", "/tmp/", "panic:", "runtime error", "database is locked"}

// assertNoLeak fails if a response body reveals internals. Markers that
// the request itself contains (and the server merely echoes) are allowed.
func assertNoLeak(t testing.TB, body string, request ...string) {
	t.Helper()
	low := strings.ToLower(body)
	req := strings.ToLower(strings.Join(request, " "))
	for _, bad := range leakMarkers {
		if strings.Contains(low, bad) && !strings.Contains(req, bad) {
			t.Fatalf("response leaks internals (%q): %s", bad, body)
		}
	}
}

func sha256hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}
