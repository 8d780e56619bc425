package graph_test

import (
	"bytes"
	"encoding/json"
	"net/http/httptest"
	"testing"
)

// FuzzHandler throws arbitrary bodies at the real handler: no input may
// panic it, get a 5xx, or make it leak internals.
func FuzzHandler(f *testing.F) {
	for _, seed := range []string{
		`{"query":"{ trends(first: 3) { nodes { name framework { name } } } }"}`,
		`{"query":"query($n:Int){ companies(first:$n, after:\"x\") { totalCount } }","variables":{"n":2}}`,
		`{"query":"{ frameworks(filter: { OR: [{ name: { contains: \"a\" } }, { NOT: { kind: { eq: LANGUAGE } } }] }) { nodes { name } } }"}`,
		`{"query":"{ node(id: \"VHJlbmQ6MQ\") { id ... on Trend { name } } }"}`,
		`{"query":"mutation { createCompany(input: {name: \"x\"}) { id } }"}`,
		`[{"query":"{ article { title } }"}]`,
		`{"query":"{ __schema { types { name } } }"}`,
		`{"query":"{ trends(orderBy: [{field: NAME, direction: DESC}], last: 2) { edges { cursor } } }"}`,
		"\xff\xfe{",
	} {
		f.Add([]byte(seed))
	}
	e := newEnv(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		req := httptest.NewRequest("POST", "/graphql", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		e.Handler.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("status %d for %q: %s", rec.Code, body, rec.Body.String())
		}
		if !json.Valid(rec.Body.Bytes()) {
			t.Fatalf("response is not JSON for %q: %s", body, rec.Body.String())
		}
		var resp struct {
			Errors []struct {
				Extensions map[string]any `json:"extensions"`
			} `json:"errors"`
		}
		json.Unmarshal(rec.Body.Bytes(), &resp)
		for _, e := range resp.Errors {
			if code, _ := e.Extensions["code"].(string); code == "" || code == "INTERNAL_SERVER_ERROR" {
				t.Fatalf("error without a code or internal for %q: %s", body, rec.Body.String())
			}
		}
		assertNoLeak(t, rec.Body.String(), string(body))
	})
}
