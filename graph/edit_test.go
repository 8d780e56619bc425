package graph_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/99designs/gqlgen/client"
	"github.com/trendql/trendql/db"
	"github.com/trendql/trendql/graph"
)

// tokens are one env's API tokens, one per role and one per way a token
// can be bad.
type tokens struct {
	viewer, editor, admin string
	revoked, expired      string
	editorID              int64
}

func newTokens(t testing.TB, e *env) tokens {
	t.Helper()
	ctx := context.Background()
	mk := func(name string, role db.Role, ttl time.Duration) (*db.Token, string) {
		tok, secret, err := e.DB.CreateToken(ctx, name, role, ttl)
		if err != nil {
			t.Fatal(err)
		}
		return tok, secret
	}
	var tk tokens
	_, tk.viewer = mk("viewer-bot", db.RoleViewer, 0)
	ed, editor := mk("editor-bot", db.RoleEditor, 0)
	tk.editor, tk.editorID = editor, ed.ID
	_, tk.admin = mk("admin-bot", db.RoleAdmin, 0)
	rev, revoked := mk("revoked-bot", db.RoleAdmin, 0)
	if _, err := e.DB.RevokeToken(ctx, rev.ID); err != nil {
		t.Fatal(err)
	}
	tk.revoked = revoked
	_, tk.expired = mk("expired-bot", db.RoleAdmin, time.Millisecond)
	time.Sleep(5 * time.Millisecond)
	return tk
}

// bearer is the header a script sends with a token.
func bearer(tok string) []string {
	if tok == "" {
		return nil
	}
	return []string{"Authorization", "Bearer " + tok}
}

// as is a gqlgen client option sending a token.
func as(tok string) client.Option { return client.AddHeader("Authorization", "Bearer "+tok) }

// snapshot is everything a mutation could change: the whole content (the
// export document, drafts included), the number of events, the tokens, and
// the schedule log (every schedule set or cleared is a line of it). Two equal snapshots mean nothing changed.
func snapshot(t testing.TB, e *env) string {
	t.Helper()
	ctx := context.Background()
	c, err := e.DB.Export(ctx)
	if err != nil {
		t.Fatal(err)
	}
	content, _ := json.MarshalIndent(c, "", " ")
	n := eventCount(t, e)
	toks, err := e.DB.Tokens(ctx)
	if err != nil {
		t.Fatal(err)
	}
	tj, _ := json.Marshal(toks)
	sched, err := e.DB.ScheduleLog(db.WithPrincipal(ctx, &db.Principal{Name: "snapshot", Role: db.RoleAdmin}), db.ScheduleLogFilter{}, db.MaxScheduleLog)
	if err != nil {
		t.Fatal(err)
	}
	sj, _ := json.Marshal(sched)
	return fmt.Sprintf("%s\nevents: %d\ntokens: %s\nschedule log: %s", content, n, tj, sj)
}

func eventCount(t testing.TB, e *env) int {
	t.Helper()
	n, err := e.DB.CountEvents(context.Background(), db.EventFilter{})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// ownEvents counts the events a mutation appends itself: a delete also
// appends an UNLINK for each item that listed the deleted one.
func ownEvents(t testing.TB, e *env, op string) int {
	t.Helper()
	n := eventCount(t, e)
	if strings.HasPrefix(op, "delete") {
		unlinks, err := e.DB.CountEvents(context.Background(), db.EventFilter{Actions: []string{db.ActionUnlink}})
		if err != nil {
			t.Fatal(err)
		}
		n -= unlinks
	}
	return n
}

// fixture is content made for the edit tests, as global ids: items that
// can be changed, linked, unlinked and deleted without touching the seed.
type fixture struct {
	coA, coB, fwA, fwB, trend, faq string // drafts; fwA uses coA, trend has fwA and coA, faq names fwA and trend
	google, goTrend                string // published seed items
	drafted                        string // a published company with a pending draft
	coARev                         string // the revision that created coA (it has been renamed since)
	victimToken                    string // a token to revoke
}

func newFixture(t testing.TB, e *env) fixture {
	t.Helper()
	ctx := db.WithPrincipal(context.Background(), &db.Principal{Name: "fixture", Role: db.RoleAdmin})
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	s := func(v string) *string { return &v }
	n := func(v int) *int { return &v }
	coA, err := e.DB.CreateCompany(ctx, db.CompanyPatch{Name: s("Fixture A")})
	must(err)
	coB, err := e.DB.CreateCompany(ctx, db.CompanyPatch{Name: s("Fixture B")})
	must(err)
	kindF, kindL := db.KindFramework, db.KindLanguage
	fwA, err := e.DB.CreateFramework(ctx, db.FrameworkPatch{Name: s("Fixture FW"), Kind: &kindF, Companies: &[]int64{coA.RowID}})
	must(err)
	fwB, err := e.DB.CreateFramework(ctx, db.FrameworkPatch{Name: s("Fixture Lang"), Kind: &kindL})
	must(err)
	cat := db.CategoryTooling
	tr, err := e.DB.CreateTrend(ctx, db.TrendPatch{Name: s("Fixture Trend"), Rank: n(11), Category: &cat,
		Frameworks: &[]int64{fwA.RowID}, Companies: &[]int64{coA.RowID}})
	must(err)
	faq, err := e.DB.CreateFAQ(ctx, db.FAQPatch{Question: s("Fixture question?"), Position: n(5),
		Frameworks: &[]int64{fwA.RowID}, Trends: &[]int64{tr.RowID}})
	must(err)
	revs, err := e.DB.Revisions(ctx, db.TypeCompany, coA.RowID, db.PageArgs{})
	must(err)
	_, err = e.DB.UpdateCompany(ctx, coA.RowID, db.CompanyPatch{Name: s("Fixture A renamed")}, nil)
	must(err)
	drafted, err := e.DB.CreateCompany(ctx, db.CompanyPatch{Name: s("Fixture Drafted")})
	must(err)
	must(e.DB.Publish(ctx, db.TypeCompany, drafted.RowID, nil))
	_, err = e.DB.UpdateCompany(ctx, drafted.RowID, db.CompanyPatch{Name: s("Fixture Drafted, edited")}, nil)
	must(err)
	google, err := e.DB.CompanyBySlug(ctx, "google")
	must(err)
	goTrend, err := e.DB.TrendBySlug(ctx, "go")
	must(err)
	victim, _, err := e.DB.CreateToken(ctx, "victim", db.RoleViewer, 0)
	must(err)
	return fixture{
		coA: coA.ID(), coB: coB.ID(), fwA: fwA.ID(), fwB: fwB.ID(), trend: tr.ID(), faq: faq.ID(),
		google: google.ID(), goTrend: goTrend.ID(), drafted: drafted.ID(),
		coARev:      db.EncodeID(db.TypeRevision, revs.Items[0].ID),
		victimToken: db.EncodeID(db.TypeToken, victim.ID),
	}
}

// operation is one mutation or restricted query of the API, with the
// least role that may run it.
type operation struct {
	name     string
	query    string
	vars     func(fixture) map[string]any
	role     db.Role
	readOnly bool     // a query: it changes nothing even when allowed
	noEvent  bool     // a mutation that changes no content: no event of its own
	headers  []string // sent besides the caller's Authorization
}

func idVars(pick func(fixture) string) func(fixture) map[string]any {
	return func(f fixture) map[string]any { return map[string]any{"id": pick(f)} }
}

func pairVars(a, b string, pickA, pickB func(fixture) string) func(fixture) map[string]any {
	return func(f fixture) map[string]any { return map[string]any{a: pickA(f), b: pickB(f)} }
}

func noVars(fixture) map[string]any { return nil }

// operations lists every mutation, and the queries restricted to a role.
var operations = []operation{
	{name: "createTrend", role: db.RoleEditor, vars: noVars,
		query: `mutation { createTrend(input: {name: "Matrix Trend", rank: 12, category: API}) { id } }`},
	{name: "updateTrend", role: db.RoleEditor, vars: idVars(func(f fixture) string { return f.trend }),
		query: `mutation($id: ID!) { updateTrend(id: $id, input: {name: "Renamed"}) { id } }`},
	{name: "deleteTrend", role: db.RoleEditor, vars: idVars(func(f fixture) string { return f.trend }),
		query: `mutation($id: ID!) { deleteTrend(id: $id) { id } }`},
	{name: "createFramework", role: db.RoleEditor, vars: noVars,
		query: `mutation { createFramework(input: {name: "Matrix FW", kind: FRAMEWORK}) { id } }`},
	{name: "updateFramework", role: db.RoleEditor, vars: idVars(func(f fixture) string { return f.fwA }),
		query: `mutation($id: ID!) { updateFramework(id: $id, input: {creator: "Someone"}) { id } }`},
	{name: "deleteFramework", role: db.RoleEditor, vars: idVars(func(f fixture) string { return f.fwB }),
		query: `mutation($id: ID!) { deleteFramework(id: $id) { id } }`},
	{name: "createCompany", role: db.RoleEditor, vars: noVars,
		query: `mutation { createCompany(input: {name: "Matrix Co"}) { id } }`},
	{name: "updateCompany", role: db.RoleEditor, vars: idVars(func(f fixture) string { return f.coA }),
		query: `mutation($id: ID!) { updateCompany(id: $id, input: {name: "Renamed Co"}) { id } }`},
	{name: "deleteCompany", role: db.RoleEditor, vars: idVars(func(f fixture) string { return f.coB }),
		query: `mutation($id: ID!) { deleteCompany(id: $id) { id } }`},
	{name: "createFAQ", role: db.RoleEditor, vars: noVars,
		query: `mutation { createFAQ(input: {position: 6, question: "Matrix?"}) { id } }`},
	{name: "updateFAQ", role: db.RoleEditor, vars: idVars(func(f fixture) string { return f.faq }),
		query: `mutation($id: ID!) { updateFAQ(id: $id, input: {answer: "Yes."}) { id } }`},
	{name: "deleteFAQ", role: db.RoleEditor, vars: idVars(func(f fixture) string { return f.faq }),
		query: `mutation($id: ID!) { deleteFAQ(id: $id) { id } }`},
	{name: "publish", role: db.RoleEditor, vars: idVars(func(f fixture) string { return f.trend }),
		query: `mutation($id: ID!) { publish(id: $id) { id } }`},
	{name: "unpublish", role: db.RoleEditor, vars: idVars(func(f fixture) string { return f.google }),
		query: `mutation($id: ID!) { unpublish(id: $id) { id } }`},
	{name: "publish a published item's draft", role: db.RoleEditor, vars: idVars(func(f fixture) string { return f.drafted }),
		query: `mutation($id: ID!) { publish(id: $id) { id } }`},
	{name: "discardDraft", role: db.RoleEditor, vars: idVars(func(f fixture) string { return f.drafted }),
		query: `mutation($id: ID!) { discardDraft(id: $id) { id } }`},
	{name: "updateCompany of a published item (its draft)", role: db.RoleEditor, vars: idVars(func(f fixture) string { return f.google }),
		query: `mutation($id: ID!) { updateCompany(id: $id, input: {name: "Google Draft"}) { id } }`},
	{name: "linkFrameworkCompany", role: db.RoleEditor,
		vars:  pairVars("a", "b", func(f fixture) string { return f.fwA }, func(f fixture) string { return f.coB }),
		query: `mutation($a: ID!, $b: ID!) { linkFrameworkCompany(frameworkId: $a, companyId: $b) { id } }`},
	{name: "unlinkFrameworkCompany", role: db.RoleEditor,
		vars:  pairVars("a", "b", func(f fixture) string { return f.fwA }, func(f fixture) string { return f.coA }),
		query: `mutation($a: ID!, $b: ID!) { unlinkFrameworkCompany(frameworkId: $a, companyId: $b) { id } }`},
	{name: "linkTrendCompany", role: db.RoleEditor,
		vars:  pairVars("a", "b", func(f fixture) string { return f.trend }, func(f fixture) string { return f.coB }),
		query: `mutation($a: ID!, $b: ID!) { linkTrendCompany(trendId: $a, companyId: $b) { id } }`},
	{name: "unlinkTrendCompany", role: db.RoleEditor,
		vars:  pairVars("a", "b", func(f fixture) string { return f.trend }, func(f fixture) string { return f.coA }),
		query: `mutation($a: ID!, $b: ID!) { unlinkTrendCompany(trendId: $a, companyId: $b) { id } }`},
	{name: "linkTrendFramework", role: db.RoleEditor,
		vars:  pairVars("a", "b", func(f fixture) string { return f.trend }, func(f fixture) string { return f.fwB }),
		query: `mutation($a: ID!, $b: ID!) { linkTrendFramework(trendId: $a, frameworkId: $b) { id } }`},
	{name: "unlinkTrendFramework", role: db.RoleEditor,
		vars:  pairVars("a", "b", func(f fixture) string { return f.trend }, func(f fixture) string { return f.fwA }),
		query: `mutation($a: ID!, $b: ID!) { unlinkTrendFramework(trendId: $a, frameworkId: $b) { id } }`},
	{name: "linkFAQFramework", role: db.RoleEditor,
		vars:  pairVars("a", "b", func(f fixture) string { return f.faq }, func(f fixture) string { return f.fwB }),
		query: `mutation($a: ID!, $b: ID!) { linkFAQFramework(faqId: $a, frameworkId: $b) { id } }`},
	{name: "unlinkFAQFramework", role: db.RoleEditor,
		vars:  pairVars("a", "b", func(f fixture) string { return f.faq }, func(f fixture) string { return f.fwA }),
		query: `mutation($a: ID!, $b: ID!) { unlinkFAQFramework(faqId: $a, frameworkId: $b) { id } }`},
	{name: "linkFAQTrend", role: db.RoleEditor,
		vars:  pairVars("a", "b", func(f fixture) string { return f.faq }, func(f fixture) string { return f.goTrend }),
		query: `mutation($a: ID!, $b: ID!) { linkFAQTrend(faqId: $a, trendId: $b) { id } }`},
	{name: "unlinkFAQTrend", role: db.RoleEditor,
		vars:  pairVars("a", "b", func(f fixture) string { return f.faq }, func(f fixture) string { return f.trend }),
		query: `mutation($a: ID!, $b: ID!) { unlinkFAQTrend(faqId: $a, trendId: $b) { id } }`},
	{name: "schedule", role: db.RoleEditor, noEvent: true, vars: idVars(func(f fixture) string { return f.trend }),
		query: `mutation($id: ID!) { schedule(id: $id, input: {publishAt: "2999-01-01T00:00:00Z"}) { id ... on Trend { publishAt } } }`},
	{name: "restoreRevision", role: db.RoleEditor, vars: idVars(func(f fixture) string { return f.coARev }),
		query: `mutation($id: ID!) { restoreRevision(revisionId: $id) { id } }`},
	{name: "createToken", role: db.RoleAdmin, vars: noVars,
		query: `mutation { createToken(name: "new-bot", role: EDITOR) { secret token { id } } }`},
	{name: "revokeToken", role: db.RoleAdmin, vars: idVars(func(f fixture) string { return f.victimToken }),
		query: `mutation($id: ID!) { revokeToken(id: $id) { id revokedAt } }`},

	{name: "query auditLog", role: db.RoleAdmin, readOnly: true, vars: noVars,
		query: `{ auditLog(first: 1) { totalCount } }`},
	{name: "query tokens", role: db.RoleAdmin, readOnly: true, vars: noVars,
		query: `{ tokens { id } }`},
	{name: "query scheduleLog", role: db.RoleEditor, readOnly: true, vars: noVars,
		query: `{ scheduleLog(first: 5) { itemId outcome actor } }`},
	{name: "query revisions", role: db.RoleViewer, readOnly: true, vars: idVars(func(f fixture) string { return f.google }),
		query: `query($id: ID!) { node(id: $id) { ... on Company { revisions { totalCount } } } }`},
	{name: "query in a preview", role: db.RoleViewer, readOnly: true, vars: idVars(func(f fixture) string { return f.drafted }),
		headers: []string{graph.PreviewHeader, "true"},
		query:   `query($id: ID!) { companies { totalCount } node(id: $id) { ... on Company { name hasUnpublishedChanges } } }`},
}

// caller is one row of the role matrix: who sends the request.
type caller struct {
	name   string
	header func(tokens) []string // nil: no Authorization header
	role   db.Role               // "" for anonymous
	bad    bool                  // the credential itself is refused (HTTP 401)
}

var callers = []caller{
	{name: "anonymous", header: func(tokens) []string { return nil }},
	{name: "viewer", header: func(tk tokens) []string { return bearer(tk.viewer) }, role: db.RoleViewer},
	{name: "editor", header: func(tk tokens) []string { return bearer(tk.editor) }, role: db.RoleEditor},
	{name: "admin", header: func(tk tokens) []string { return bearer(tk.admin) }, role: db.RoleAdmin},
	{name: "malformed header: no scheme", bad: true, header: func(tk tokens) []string { return []string{"Authorization", tk.admin} }},
	{name: "malformed header: Basic", bad: true, header: func(tokens) []string { return []string{"Authorization", "Basic YWRtaW46YWRtaW4="} }},
	{name: "malformed header: empty Bearer", bad: true, header: func(tokens) []string { return []string{"Authorization", "Bearer "} }},
	{name: "malformed token", bad: true, header: func(tokens) []string { return bearer("hunter2") }},
	{name: "unknown token id", bad: true, header: func(tk tokens) []string {
		_, secret, _ := strings.Cut(strings.TrimPrefix(tk.admin, "tql_"), "_")
		return bearer("tql_9999_" + secret)
	}},
	{name: "wrong secret", bad: true, header: func(tk tokens) []string {
		return bearer(fmt.Sprintf("tql_%d_%s", tk.editorID, strings.Repeat("A", 43)))
	}},
	{name: "revoked token", bad: true, header: func(tk tokens) []string { return bearer(tk.revoked) }},
	{name: "expired token", bad: true, header: func(tk tokens) []string { return bearer(tk.expired) }},
}

// The whole role matrix: every caller against every mutation and every
// restricted query. A refused call answers UNAUTHENTICATED (no token or a
// bad one; a bad one with HTTP 401, never served as anonymous) or
// FORBIDDEN (too low a role), and changes nothing at all: the export, the
// event log and the tokens are as they were. An allowed mutation changes
// something and, for content, appends exactly one event. Refused callers
// share one database per operation (each proves it left it unchanged);
// each allowed caller gets a fresh one.
func TestRoleMatrix_EveryMutationAndRestrictedQuery(t *testing.T) {
	for _, op := range operations {
		t.Run(op.name, func(t *testing.T) {
			t.Parallel()
			shared := newEnv(t)
			sharedTokens, sharedFixture := newTokens(t, shared), newFixture(t, shared)
			for _, c := range callers {
				t.Run(c.name, func(t *testing.T) {
					allowed := !c.bad && c.role != "" && (&db.Principal{Role: c.role}).Has(op.role)
					e, tk, fx := shared, sharedTokens, sharedFixture
					if allowed {
						e = newEnv(t)
						tk, fx = newTokens(t, e), newFixture(t, e)
					}
					before := snapshot(t, e)
					ownBefore := ownEvents(t, e, op.name)
					r := e.post(t, op.query, op.vars(fx), append(c.header(tk), op.headers...)...)
					assertNoLeak(t, r.Body)
					switch {
					case c.bad:
						if r.Status != http.StatusUnauthorized || r.code() != "UNAUTHENTICATED" {
							t.Fatalf("got HTTP %d %q, want 401 UNAUTHENTICATED: %s", r.Status, r.code(), r.Body)
						}
					case c.role == "":
						if r.code() != "UNAUTHENTICATED" {
							t.Fatalf("got %q, want UNAUTHENTICATED: %s", r.code(), r.Body)
						}
					case !allowed:
						if r.code() != "FORBIDDEN" {
							t.Fatalf("got %q, want FORBIDDEN: %s", r.code(), r.Body)
						}
					default:
						if len(r.Errors) > 0 || r.Status != http.StatusOK || string(r.Data) == "null" {
							t.Fatalf("allowed call failed: HTTP %d %s", r.Status, r.Body)
						}
						after := snapshot(t, e)
						switch {
						case op.readOnly:
							if after != before {
								t.Fatal("a query changed the database")
							}
						case after == before:
							t.Fatalf("allowed mutation changed nothing: %s", r.Body)
						case op.noEvent && ownEvents(t, e, op.name) != ownBefore:
							t.Fatalf("mutation appended %d events, want none", ownEvents(t, e, op.name)-ownBefore)
						case op.role == db.RoleEditor && !op.noEvent && ownEvents(t, e, op.name)-ownBefore != 1:
							t.Fatalf("mutation appended %d events of its own, want 1", ownEvents(t, e, op.name)-ownBefore)
						}
						return
					}
					if len(r.Errors) != 1 {
						t.Errorf("%d errors, want 1: %s", len(r.Errors), r.Body)
					}
					if after := snapshot(t, e); after != before {
						t.Fatalf("a refused call changed the database:\n%s", diff(before, after))
					}
				})
			}
		})
	}
}

// diff shows the first lines where two snapshots differ.
func diff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	var out []string
	for i := 0; i < max(len(al), len(bl)) && len(out) < 10; i++ {
		var x, y string
		if i < len(al) {
			x = al[i]
		}
		if i < len(bl) {
			y = bl[i]
		}
		if x != y {
			out = append(out, fmt.Sprintf("line %d:\n- %s\n+ %s", i+1, x, y))
		}
	}
	return strings.Join(out, "\n")
}

// Every bad field is one BAD_USER_INPUT error naming it in
// extensions.field, and leaves the database as it was.
func TestValidation_OneBadUserInputPerBadField(t *testing.T) {
	e := newEnv(t)
	tk := newTokens(t, e)
	fx := newFixture(t, e)
	long := func(n int) string { return strings.Repeat("x", n) }
	many := func(n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = fmt.Sprintf("item %d", i)
		}
		return out
	}
	const (
		createCompany   = `mutation($in: CreateCompanyInput!) { createCompany(input: $in) { id } }`
		createFramework = `mutation($in: CreateFrameworkInput!) { createFramework(input: $in) { id } }`
		createTrend     = `mutation($in: CreateTrendInput!) { createTrend(input: $in) { id } }`
		createFAQ       = `mutation($in: CreateFAQInput!) { createFAQ(input: $in) { id } }`
		updateCompany   = `mutation($id: ID!, $in: UpdateCompanyInput!) { updateCompany(id: $id, input: $in) { id } }`
		updateFramework = `mutation($id: ID!, $in: UpdateFrameworkInput!) { updateFramework(id: $id, input: $in) { id } }`
		updateTrend     = `mutation($id: ID!, $in: UpdateTrendInput!) { updateTrend(id: $id, input: $in) { id } }`
		updateFAQ       = `mutation($id: ID!, $in: UpdateFAQInput!) { updateFAQ(id: $id, input: $in) { id } }`
	)
	trend := func(extra map[string]any) map[string]any {
		in := map[string]any{"name": "Valid Trend", "rank": 20, "category": "API"}
		for k, v := range extra {
			in[k] = v
		}
		return map[string]any{"in": in}
	}
	faq := func(extra map[string]any) map[string]any {
		in := map[string]any{"question": "Valid?", "position": 20}
		for k, v := range extra {
			in[k] = v
		}
		return map[string]any{"in": in}
	}
	upd := func(id string, in map[string]any) map[string]any { return map[string]any{"id": id, "in": in} }
	cases := []struct {
		name, query string
		vars        map[string]any
		field       string
	}{
		{"empty name", createCompany, map[string]any{"in": map[string]any{"name": ""}}, "input.name"},
		{"blank name", createCompany, map[string]any{"in": map[string]any{"name": " \t "}}, "input.name"},
		{"name over 200 characters", createCompany, map[string]any{"in": map[string]any{"name": long(db.MaxNameLen + 1)}}, "input.name"},
		{"name with NUL", createCompany, map[string]any{"in": map[string]any{"name": "Ac\x00me"}}, "input.name"},
		{"summary over 2000 characters", createFramework, map[string]any{"in": map[string]any{"name": "F", "kind": "FRAMEWORK", "summary": long(db.MaxSummaryLen + 1)}}, "input.summary"},
		{"creator over 200 characters", createFramework, map[string]any{"in": map[string]any{"name": "F", "kind": "FRAMEWORK", "creator": long(db.MaxShortLen + 1)}}, "input.creator"},
		{"year out of range", createFramework, map[string]any{"in": map[string]any{"name": "F", "kind": "FRAMEWORK", "firstReleased": 1815}}, "input.firstReleased"},
		{"feature with NUL", createFramework, map[string]any{"in": map[string]any{"name": "F", "kind": "FRAMEWORK", "features": []string{"ok", "b\x00d"}}}, "input.features"},
		{"body over 100000 characters", createTrend, trend(map[string]any{"body": long(db.MaxBodyLen + 1)}), "input.body"},
		{"highlight over 500 characters", createTrend, trend(map[string]any{"highlights": []string{long(db.MaxItemLen + 1)}}), "input.highlights"},
		{"empty highlight", createTrend, trend(map[string]any{"highlights": []string{"fine", ""}}), "input.highlights"},
		{"over 100 examples", createTrend, trend(map[string]any{"examples": many(db.MaxListLen + 1)}), "input.examples"},
		{"negative rank", createTrend, trend(map[string]any{"rank": -3}), "input.rank"},
		{"zero rank", createTrend, trend(map[string]any{"rank": 0}), "input.rank"},
		{"duplicate rank on create", createTrend, trend(map[string]any{"rank": 1}), "input.rank"},
		{"duplicate rank on update", updateTrend, upd(fx.trend, map[string]any{"rank": 2}), "input.rank"},
		{"negative position", createFAQ, faq(map[string]any{"position": -1}), "input.position"},
		{"duplicate position", createFAQ, faq(map[string]any{"position": 1}), "input.position"},
		{"unknown company id", createTrend, trend(map[string]any{"companies": []string{db.EncodeID(db.TypeCompany, 999999)}}), "input.companies"},
		{"unknown framework id on update", updateTrend, upd(fx.trend, map[string]any{"frameworks": []string{fx.fwB, db.EncodeID(db.TypeFramework, 999999)}}), "input.frameworks"},
		{"unknown trend id", createFAQ, faq(map[string]any{"trends": []string{db.EncodeID(db.TypeTrend, 424242)}}), "input.trends"},
		{"company id among frameworks", createTrend, trend(map[string]any{"frameworks": []string{fx.coA}}), "input.frameworks"},
		{"trend id among companies", updateFramework, upd(fx.fwA, map[string]any{"companies": []string{fx.trend}}), "input.companies"},
		{"garbage id in a list", createFAQ, faq(map[string]any{"frameworks": []string{"not-an-id"}}), "input.frameworks"},
		{"same company twice", createFramework, map[string]any{"in": map[string]any{"name": "F", "kind": "LANGUAGE", "companies": []string{fx.coA, fx.coA}}}, "input.companies"},
		{"duplicate slug on create", createCompany, map[string]any{"in": map[string]any{"name": "Google Again", "slug": "google"}}, "input.slug"},
		{"duplicate slug on update", updateCompany, upd(fx.coA, map[string]any{"slug": "google"}), "input.slug"},
		{"slug with spaces and capitals", createCompany, map[string]any{"in": map[string]any{"name": "X", "slug": "Bad Slug"}}, "input.slug"},
		{"slug with a double hyphen", createCompany, map[string]any{"in": map[string]any{"name": "X", "slug": "bad--slug"}}, "input.slug"},
		{"slug with a leading hyphen", createCompany, map[string]any{"in": map[string]any{"name": "X", "slug": "-bad"}}, "input.slug"},
		{"slug over 100 characters", createCompany, map[string]any{"in": map[string]any{"name": "X", "slug": long(db.MaxSlugLen + 1)}}, "input.slug"},
		{"empty slug", updateCompany, upd(fx.coA, map[string]any{"slug": ""}), "input.slug"},
		{"no slug derivable", createCompany, map[string]any{"in": map[string]any{"name": "!!!"}}, "input.slug"},
		{"null name in update", updateCompany, upd(fx.coA, map[string]any{"name": nil}), "input.name"},
		{"null slug in update", updateTrend, upd(fx.trend, map[string]any{"slug": nil}), "input.slug"},
		{"null rank in update", updateTrend, upd(fx.trend, map[string]any{"rank": nil}), "input.rank"},
		{"null category in update", updateTrend, upd(fx.trend, map[string]any{"category": nil}), "input.category"},
		{"null kind in update", updateFramework, upd(fx.fwA, map[string]any{"kind": nil}), "input.kind"},
		{"null question in update", updateFAQ, upd(fx.faq, map[string]any{"question": nil}), "input.question"},
		{"null position in update", updateFAQ, upd(fx.faq, map[string]any{"position": nil}), "input.position"},
		{"empty question in update", updateFAQ, upd(fx.faq, map[string]any{"question": ""}), "input.question"},
		{"id of the wrong type", updateTrend, upd(fx.coA, map[string]any{"name": "X"}), "id"},
		{"malformed id", updateCompany, upd("Q29tcGFueTp4", map[string]any{"name": "X"}), "id"},
		{"revision id to publish", `mutation($id: ID!) { publish(id: $id) { id } }`, map[string]any{"id": fx.coARev}, "id"},
		{"unknown company to link", `mutation($a: ID!, $b: ID!) { linkTrendCompany(trendId: $a, companyId: $b) { id } }`,
			map[string]any{"a": fx.trend, "b": db.EncodeID(db.TypeCompany, 777777)}, "companyId"},
		{"framework id as company to link", `mutation($a: ID!, $b: ID!) { linkFrameworkCompany(frameworkId: $a, companyId: $b) { id } }`,
			map[string]any{"a": fx.fwA, "b": fx.fwB}, "companyId"},
		{"trend id as revision", `mutation($id: ID!) { restoreRevision(revisionId: $id) { id } }`, map[string]any{"id": fx.trend}, "revisionId"},
		{"empty token name", `mutation { createToken(name: "", role: VIEWER) { secret } }`, nil, "name"},
		{"token expiring in the past", `mutation { createToken(name: "x", role: VIEWER, expiresIn: -5) { secret } }`, nil, "expiresIn"},
		{"bad audit since", `{ auditLog(filter: {since: "last tuesday"}) { totalCount } }`, nil, "filter.since"},
		{"revision id as audit item", `query($id: ID!) { auditLog(filter: {itemId: $id}) { totalCount } }`, map[string]any{"id": fx.coARev}, "filter.itemId"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := snapshot(t, e)
			r := e.post(t, c.query, c.vars, bearer(tk.admin)...)
			if len(r.Errors) != 1 || r.code() != "BAD_USER_INPUT" || r.Errors[0].Extensions["field"] != c.field {
				t.Fatalf("want one BAD_USER_INPUT on %s, got: %.600s", c.field, r.Body)
			}
			assertNoLeak(t, r.Body)
			if after := snapshot(t, e); after != before {
				t.Fatalf("bad input changed the database:\n%s", diff(before, after))
			}
		})
	}
}

// mutate runs a mutation that must succeed with tok and decodes data.
func (e *env) mutate(t testing.TB, tok, query string, vars map[string]any, out any) {
	t.Helper()
	r := e.post(t, query, vars, bearer(tok)...)
	if len(r.Errors) > 0 || r.Status != http.StatusOK {
		t.Fatalf("mutation failed: HTTP %d %s\n%s", r.Status, r.Body, query)
	}
	if out != nil {
		if err := json.Unmarshal(r.Data, out); err != nil {
			t.Fatal(err)
		}
	}
}

// draftView is what a reader sees of the draft items and of the published
// items they are linked to.
type draftView struct {
	Companies, Frameworks, Trends, Faqs struct{ TotalCount int }
	Drafts                              struct{ TotalCount int }
	BySlug                              *struct{ Name string }
	ByID                                *struct{ Name string }
	Node                                *struct{ ID string }
	Nodes                               []*struct{ ID string }
	GoTrend                             struct {
		Companies []struct{ Name string }
		Faqs      []struct{ Question string }
	}
	GoFramework struct{ Trends []struct{ Name string } }
	Google      struct {
		Frameworks []struct{ Name string }
		Trends     []struct{ Name string }
	}
}

const draftViewQuery = `query($co: ID!, $fw: ID!, $tr: ID!, $faq: ID!) {
	companies { totalCount } frameworks { totalCount } trends { totalCount } faqs { totalCount }
	drafts: companies(filter: {status: {eq: DRAFT}}) { totalCount }
	bySlug: company(slug: "shadow-co") { name }
	byID: company(id: $co) { name }
	node(id: $co) { id }
	nodes(ids: [$co, $fw, $tr, $faq]) { id }
	goTrend: trend(slug: "go") { companies { name } faqs { question } }
	goFramework: framework(slug: "go") { trends { name } }
	google: company(slug: "google") { frameworks { name } trends { name } }
}`

// New content is a DRAFT: anonymous readers see it nowhere (lists, counts,
// lookups, node, nodes, relations of published items), viewer tokens see
// it everywhere; publish shows it to everyone and sets publishedAt,
// unpublish hides it again and clears publishedAt.
func TestDrafts_InvisibleUntilPublished(t *testing.T) {
	e := newEnv(t)
	tk := newTokens(t, e)
	type item struct {
		ID, Status  string
		Version     int
		PublishedAt *string
	}
	var co, fw, tr, faq struct{ X item }
	var seed struct {
		Google struct{ ID string }
		Go     struct{ ID string }
		GoFW   struct{ ID string } `json:"goFW"`
	}
	e.mustQuery(t, `{ google: company(slug: "google") { id } go: trend(slug: "go") { id } goFW: framework(slug: "go") { id } }`, &seed)
	const fields = `id status version publishedAt`
	e.mutate(t, tk.editor, `mutation { x: createCompany(input: {name: "Shadow Co"}) { `+fields+` } }`, nil, &co)
	e.mutate(t, tk.editor, `mutation($c: [ID!]) { x: createFramework(input: {name: "Shadow FW", kind: FRAMEWORK, companies: $c}) { `+fields+` } }`,
		map[string]any{"c": []string{co.X.ID, seed.Google.ID}}, &fw)
	e.mutate(t, tk.editor, `mutation($f: [ID!], $c: [ID!]) { x: createTrend(input: {name: "Shadow Trend", rank: 11, category: API, frameworks: $f, companies: $c}) { `+fields+` } }`,
		map[string]any{"f": []string{seed.GoFW.ID}, "c": []string{seed.Google.ID}}, &tr)
	e.mutate(t, tk.editor, `mutation($f: [ID!], $t: [ID!]) { x: createFAQ(input: {question: "Shadow?", position: 5, frameworks: $f, trends: $t}) { `+fields+` } }`,
		map[string]any{"f": []string{seed.GoFW.ID}, "t": []string{seed.Go.ID}}, &faq)
	// The Go trend is published: its new link is its draft until the same
	// request publishes it, and then a live link to a DRAFT company.
	e.mutate(t, tk.editor, `mutation($t: ID!, $c: ID!) { linkTrendCompany(trendId: $t, companyId: $c) { id } publish(id: $t) { id } }`,
		map[string]any{"t": seed.Go.ID, "c": co.X.ID}, nil)
	for _, x := range []item{co.X, fw.X, tr.X, faq.X} {
		if x.Status != "DRAFT" || x.Version != 1 || x.PublishedAt != nil {
			t.Errorf("new item %s: status %s, version %d, publishedAt %v; want DRAFT, 1, null", x.ID, x.Status, x.Version, x.PublishedAt)
		}
	}
	vars := map[string]any{"co": co.X.ID, "fw": fw.X.ID, "tr": tr.X.ID, "faq": faq.X.ID}
	view := func(tok string) draftView {
		t.Helper()
		var v draftView
		opts := []client.Option{func(bd *client.Request) { bd.Variables = vars }}
		if tok != "" {
			opts = append(opts, as(tok))
		}
		e.mustQuery(t, draftViewQuery, &v, opts...)
		return v
	}
	has := func(l any, name string) bool {
		b, _ := json.Marshal(l)
		return strings.Contains(string(b), `"`+name+`"`)
	}

	anon := view("")
	if anon.Companies.TotalCount != 31 || anon.Frameworks.TotalCount != 6 || anon.Trends.TotalCount != 10 || anon.Faqs.TotalCount != 4 || anon.Drafts.TotalCount != 0 {
		t.Errorf("anonymous counts include drafts: %+v", anon)
	}
	if anon.BySlug != nil || anon.ByID != nil || anon.Node != nil {
		t.Errorf("anonymous lookups find a draft: %+v %+v %+v", anon.BySlug, anon.ByID, anon.Node)
	}
	if len(anon.Nodes) != 4 || anon.Nodes[0] != nil || anon.Nodes[1] != nil || anon.Nodes[2] != nil || anon.Nodes[3] != nil {
		t.Errorf("anonymous nodes() = %v, want four nulls", anon.Nodes)
	}
	if has(anon.GoTrend, "Shadow Co") || has(anon.GoTrend, "Shadow?") || has(anon.GoFramework, "Shadow Trend") ||
		has(anon.Google, "Shadow FW") || has(anon.Google, "Shadow Trend") {
		t.Errorf("anonymous relations include drafts: %+v %+v %+v", anon.GoTrend, anon.GoFramework, anon.Google)
	}

	for _, tok := range []string{tk.viewer, tk.editor, tk.admin} {
		v := view(tok)
		if v.Companies.TotalCount != 32 || v.Frameworks.TotalCount != 7 || v.Trends.TotalCount != 11 || v.Faqs.TotalCount != 5 || v.Drafts.TotalCount != 1 {
			t.Errorf("token holder's counts miss drafts: %+v", v)
		}
		if v.BySlug == nil || v.ByID == nil || v.Node == nil || len(v.Nodes) != 4 || v.Nodes[3] == nil {
			t.Errorf("token holder's lookups miss a draft: %+v", v)
		}
		if !has(v.GoTrend, "Shadow Co") || !has(v.GoTrend, "Shadow?") || !has(v.GoFramework, "Shadow Trend") ||
			!has(v.Google, "Shadow FW") || !has(v.Google, "Shadow Trend") {
			t.Errorf("token holder's relations miss drafts: %+v %+v %+v", v.GoTrend, v.GoFramework, v.Google)
		}
	}

	var pub struct{ Publish item }
	e.mutate(t, tk.editor, `mutation($id: ID!) { publish(id: $id) { ... on Company { `+fields+` } } }`, map[string]any{"id": co.X.ID}, &pub)
	if pub.Publish.Status != "PUBLISHED" || pub.Publish.PublishedAt == nil || pub.Publish.Version != 2 {
		t.Errorf("published: %+v", pub.Publish)
	}
	anon = view("")
	if anon.Companies.TotalCount != 32 || anon.BySlug == nil || anon.ByID == nil || anon.Node == nil || anon.Nodes[0] == nil || !has(anon.GoTrend, "Shadow Co") {
		t.Errorf("anonymous does not see the published company: %+v", anon)
	}
	if has(anon.Google, "Shadow FW") || anon.Nodes[1] != nil {
		t.Errorf("publishing the company showed the draft framework: %+v", anon)
	}

	var unpub struct{ Unpublish item }
	e.mutate(t, tk.editor, `mutation($id: ID!) { unpublish(id: $id) { ... on Company { `+fields+` } } }`, map[string]any{"id": co.X.ID}, &unpub)
	if unpub.Unpublish.Status != "DRAFT" || unpub.Unpublish.PublishedAt != nil || unpub.Unpublish.Version != 3 {
		t.Errorf("unpublished: %+v", unpub.Unpublish)
	}
	anon = view("")
	if anon.Companies.TotalCount != 31 || anon.BySlug != nil || anon.Node != nil || has(anon.GoTrend, "Shadow Co") {
		t.Errorf("anonymous still sees the unpublished company: %+v", anon)
	}
}

// trendState is everything stored about one trend, as a viewer reads it
// in a preview (with its draft applied, if it has one).
type trendState struct {
	Version                           int
	Name, Slug, Summary, Body, Status string
	Rank                              int
	Highlights                        []string
	Companies                         []struct{ Name string }
	UpdatedAt                         string
	PublishedAt                       *string
}

func (e *env) trendState(t testing.TB, tok, id string) *trendState {
	t.Helper()
	var out struct{ Trend *trendState }
	e.mustQuery(t, `query($id: ID!) { trend(id: $id) { version name slug summary body status rank highlights companies { name } updatedAt publishedAt } }`,
		&out, as(tok), client.AddHeader(graph.PreviewHeader, "true"), func(r *client.Request) { r.Variables = map[string]any{"id": id} })
	return out.Trend
}

// A stale ifVersion fails with CONFLICT and changes nothing — not the
// row's version, not its fields, not the event log; the current version
// succeeds. Every change bumps the version by exactly one; a change that
// changes nothing (same values, publishing a published item, linking a
// linked one) bumps nothing and records nothing.
func TestConflicts_StaleIfVersionChangesNothing(t *testing.T) {
	e := newEnv(t)
	tk := newTokens(t, e)
	fx := newFixture(t, e)
	id := fx.trend
	ops := []struct {
		name, query string
		vars        map[string]any
	}{
		{"update", `mutation($id: ID!, $v: Int) { updateTrend(id: $id, input: {name: "Changed", highlights: ["new"]}, ifVersion: $v) { version } }`, nil},
		{"no-op update", `mutation($id: ID!, $v: Int) { updateTrend(id: $id, input: {name: "Fixture Trend"}, ifVersion: $v) { version } }`, nil},
		{"publish", `mutation($id: ID!, $v: Int) { publish(id: $id, ifVersion: $v) { id } }`, nil},
		{"unpublish", `mutation($id: ID!, $v: Int) { unpublish(id: $id, ifVersion: $v) { id } }`, nil},
		{"delete", `mutation($id: ID!, $v: Int) { deleteTrend(id: $id, ifVersion: $v) { id } }`, nil},
		{"restore", `mutation($id: ID!, $v: Int) { restoreRevision(revisionId: $id, ifVersion: $v) { id } }`, map[string]any{"id": "rev"}},
	}
	revs, err := e.DB.Revisions(context.Background(), db.TypeTrend, mustRowID(t, id), db.PageArgs{})
	if err != nil {
		t.Fatal(err)
	}
	createRev := db.EncodeID(db.TypeRevision, revs.Items[0].ID)
	for _, op := range ops {
		for _, stale := range []int{0, 2, -1, 1000} {
			t.Run(fmt.Sprintf("%s at stale version %d", op.name, stale), func(t *testing.T) {
				before, state := snapshot(t, e), e.trendState(t, tk.viewer, id)
				vars := map[string]any{"id": id, "v": stale}
				if op.vars != nil {
					vars["id"] = createRev
				}
				r := e.post(t, op.query, vars, bearer(tk.editor)...)
				if len(r.Errors) != 1 || r.code() != "CONFLICT" || r.Errors[0].Extensions["field"] != "ifVersion" {
					t.Fatalf("want CONFLICT on ifVersion: %s", r.Body)
				}
				if !strings.Contains(r.Errors[0].Message, "version 1") {
					t.Errorf("the message does not tell the current version: %q", r.Errors[0].Message)
				}
				if after := e.trendState(t, tk.viewer, id); !jsonEqual(after, state) {
					t.Errorf("row changed: %+v → %+v", state, after)
				}
				if after := snapshot(t, e); after != before {
					t.Fatalf("database changed:\n%s", diff(before, after))
				}
			})
		}
	}

	// The current version works, and each change is exactly one version.
	step := func(query string, vars map[string]any, wantVersion, wantEvents int) *trendState {
		t.Helper()
		vars["id"] = id
		e.mutate(t, tk.editor, query, vars, nil)
		s := e.trendState(t, tk.viewer, id)
		n, err := e.DB.CountRevisions(context.Background(), db.TypeTrend, mustRowID(t, id))
		if err != nil {
			t.Fatal(err)
		}
		if s.Version != wantVersion || n != wantEvents {
			t.Fatalf("after %s: version %d with %d revisions, want %d with %d", query, s.Version, n, wantVersion, wantEvents)
		}
		return s
	}
	s := step(ops[0].query, map[string]any{"v": 1}, 2, 2)
	if s.Name != "Changed" || len(s.Highlights) != 1 {
		t.Errorf("update with the current version did not apply: %+v", s)
	}
	step(ops[0].query, map[string]any{"v": 2}, 2, 2) // same values again: nothing to do
	step(`mutation($id: ID!) { updateTrend(id: $id, input: {}) { id } }`, map[string]any{}, 2, 2)
	step(`mutation($id: ID!) { updateTrend(id: $id, input: {summary: "New summary"}) { id } }`, map[string]any{}, 3, 3)
	s = step(ops[2].query, map[string]any{"v": 3}, 4, 4)
	firstPublished := s.PublishedAt
	// Published with no draft: there is nothing to publish, and saying so
	// changes nothing.
	before := snapshot(t, e)
	r := e.post(t, ops[2].query, map[string]any{"id": id, "v": 4}, bearer(tk.editor)...)
	if r.code() != "BAD_USER_INPUT" || r.Errors[0].Extensions["field"] != "id" {
		t.Fatalf("publishing a published item with no draft: %s", r.Body)
	}
	if after := snapshot(t, e); after != before {
		t.Fatalf("a refused publish changed the database:\n%s", diff(before, after))
	}
	s = step(`mutation($id: ID!) { updateTrend(id: $id, input: {}) { id } }`, map[string]any{}, 4, 4)
	if s.PublishedAt == nil || *s.PublishedAt != *firstPublished {
		t.Errorf("publishing again moved publishedAt: %v → %v", *firstPublished, s.PublishedAt)
	}
	// The trend is published now: the links below change its draft, and
	// its versions go on from the draft's.
	link := `mutation($id: ID!, $c: ID!) { linkTrendCompany(trendId: $id, companyId: $c) { id } }`
	step(link, map[string]any{"c": fx.coB}, 5, 5)
	step(link, map[string]any{"c": fx.coB}, 5, 5) // already linked
	step(`mutation($id: ID!, $c: ID!) { unlinkTrendCompany(trendId: $id, companyId: $c) { id } }`, map[string]any{"c": fx.coB}, 6, 6)
	step(`mutation($id: ID!, $c: ID!) { unlinkTrendCompany(trendId: $id, companyId: $c) { id } }`, map[string]any{"c": fx.coB}, 6, 6)
	step(ops[3].query, map[string]any{"v": 6}, 7, 7)
	r = e.post(t, ops[4].query, map[string]any{"id": id, "v": 6}, bearer(tk.editor)...)
	if r.code() != "CONFLICT" || e.trendState(t, tk.viewer, id) == nil {
		t.Fatalf("delete at a stale version: %s", r.Body)
	}
	e.mutate(t, tk.editor, ops[4].query, map[string]any{"id": id, "v": 7}, nil)
	if e.trendState(t, tk.viewer, id) != nil {
		t.Fatal("delete at the current version left the trend")
	}
}

func mustRowID(t testing.TB, id string) int64 {
	t.Helper()
	_, n, err := db.DecodeID("id", id)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func jsonEqual(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}

// revision is a Revision as a client reads it.
type revision struct {
	ID, ItemType, Slug, Action, Status, At, Actor string
	ItemID                                        *string
	Version                                       int
	ChangedFields                                 []string
	Document                                      map[string]any
}

const revisionFields = `id itemType itemId slug action version status at actor changedFields document`

type revisionPage struct {
	TotalCount int
	PageInfo   struct {
		HasNextPage bool
		EndCursor   *string
	}
	Nodes []revision
}

func (e *env) revisions(t testing.TB, tok, id string, first int, after *string) revisionPage {
	t.Helper()
	var out struct {
		Node *struct{ Revisions revisionPage }
	}
	e.mustQuery(t, `query($id: ID!, $first: Int, $after: String) { node(id: $id) {
		... on Framework { revisions(first: $first, after: $after) { totalCount pageInfo { hasNextPage endCursor } nodes { `+revisionFields+` } } } } }`,
		&out, as(tok), func(r *client.Request) { r.Variables = map[string]any{"id": id, "first": first, "after": after} })
	if out.Node == nil {
		t.Fatalf("node %s not found", id)
	}
	return out.Node.Revisions
}

// Revisions list an item's changes newest first, each with who made it,
// what changed and the whole document after it; restoreRevision brings an
// old document back as a new version (status kept, links to items since
// deleted dropped); a deleted item comes back under its own id as a DRAFT
// with its history whole.
func TestRevisions_HistoryAndRestore(t *testing.T) {
	e := newEnv(t)
	tk := newTokens(t, e)
	fx := newFixture(t, e)
	var created struct{ CreateFramework struct{ ID string } }
	e.mutate(t, tk.editor, `mutation { createFramework(input: {name: "Rev FW", kind: FRAMEWORK, summary: "one"}) { id } }`, nil, &created)
	id := created.CreateFramework.ID
	e.mutate(t, tk.admin, `mutation($id: ID!) { updateFramework(id: $id, input: {summary: "two", features: ["fast"]}) { id } }`, map[string]any{"id": id}, nil)
	e.mutate(t, tk.editor, `mutation($id: ID!, $c: ID!) { linkFrameworkCompany(frameworkId: $id, companyId: $c) { id } }`, map[string]any{"id": id, "c": fx.coB}, nil)
	e.mutate(t, tk.editor, `mutation($id: ID!) { publish(id: $id) { id } }`, map[string]any{"id": id}, nil)

	page := e.revisions(t, tk.viewer, id, 10, nil)
	type want struct {
		action, actor string
		version       int
		changed       string
		summary       string
		status        string
	}
	wants := []want{
		{"PUBLISH", "editor-bot", 4, "status", "two", "PUBLISHED"},
		{"LINK", "editor-bot", 3, "companies", "two", "DRAFT"},
		{"UPDATE", "admin-bot", 2, "summary,features", "two", "DRAFT"},
		{"CREATE", "editor-bot", 1, "slug,name,kind,summary,features,companies,status", "one", "DRAFT"},
	}
	if page.TotalCount != len(wants) || len(page.Nodes) != len(wants) {
		t.Fatalf("%d revisions (totalCount %d), want %d", len(page.Nodes), page.TotalCount, len(wants))
	}
	for i, w := range wants {
		r := page.Nodes[i]
		if r.Action != w.action || r.Actor != w.actor || r.Version != w.version || strings.Join(r.ChangedFields, ",") != w.changed ||
			r.Document["summary"] != w.summary || r.Status != w.status || r.Document["status"] != w.status {
			t.Errorf("revision %d = %+v, want %+v", i, r, w)
		}
		if r.ItemType != "Framework" || r.ItemID == nil || *r.ItemID != id || r.Slug != "rev-fw" || r.At == "" {
			t.Errorf("revision %d names %s %v %s at %q", i, r.ItemType, r.ItemID, r.Slug, r.At)
		}
		if i > 0 && r.At > page.Nodes[i-1].At {
			t.Errorf("revision %d is newer than revision %d", i, i-1)
		}
	}
	if companies := page.Nodes[1].Document["companies"].([]any); len(companies) != 1 || companies[0] != "fixture-b" {
		t.Errorf("LINK document companies = %v", companies)
	}
	// Pages of revisions.
	p1 := e.revisions(t, tk.viewer, id, 3, nil)
	p2 := e.revisions(t, tk.viewer, id, 3, p1.PageInfo.EndCursor)
	if len(p1.Nodes) != 3 || !p1.PageInfo.HasNextPage || len(p2.Nodes) != 1 || p2.PageInfo.HasNextPage || p2.Nodes[0].Action != "CREATE" {
		t.Errorf("paging revisions: %d+%d, hasNext %v/%v", len(p1.Nodes), len(p2.Nodes), p1.PageInfo.HasNextPage, p2.PageInfo.HasNextPage)
	}

	type fwState struct {
		ID, Summary, Status string
		Version             int
		Features            []string
		Companies           []struct{ Name string }
	}
	restore := func(rev string, ifVersion int) fwState {
		t.Helper()
		var out struct{ RestoreRevision fwState }
		e.mutate(t, tk.editor, `mutation($rev: ID!, $v: Int) { restoreRevision(revisionId: $rev, ifVersion: $v) {
			... on Framework { id summary status version features companies { name } } } }`, map[string]any{"rev": rev, "v": ifVersion}, &out)
		return out.RestoreRevision
	}
	// Restore the CREATE revision: a new version 5 with version 1's fields.
	// The framework is published, so the restore is its draft: anonymous
	// readers keep the live version (summary two, linked to fixture B).
	s := restore(page.Nodes[3].ID, 4)
	if s.ID != id || s.Version != 5 || s.Summary != "one" || len(s.Features) != 0 || len(s.Companies) != 0 || s.Status != "PUBLISHED" {
		t.Errorf("restored version 1 as %+v; want version 5, summary one, no features or companies, still PUBLISHED", s)
	}
	var live struct{ Node *fwState }
	e.mustQuery(t, `query($id: ID!) { node(id: $id) { ... on Framework { id summary status version features companies { name } } } }`,
		&live, func(r *client.Request) { r.Variables = map[string]any{"id": id} })
	if live.Node == nil || live.Node.Summary != "two" || live.Node.Version != 4 || len(live.Node.Features) != 1 {
		t.Errorf("anonymous readers see %+v after a restore into the draft; want the live version 4", live.Node)
	}
	latest := e.revisions(t, tk.viewer, id, 1, nil).Nodes[0]
	if latest.Action != "RESTORE" || latest.Version != 5 || strings.Join(latest.ChangedFields, ",") != "summary,features,companies" {
		t.Errorf("restore recorded as %+v", latest)
	}
	// A stale ifVersion changes nothing.
	before := snapshot(t, e)
	r := e.post(t, `mutation($rev: ID!) { restoreRevision(revisionId: $rev, ifVersion: 4) { id } }`, map[string]any{"rev": page.Nodes[1].ID}, bearer(tk.editor)...)
	if r.code() != "CONFLICT" || snapshot(t, e) != before {
		t.Fatalf("stale restore: %s", r.Body)
	}
	// Links to items deleted since are dropped. The live version still
	// links fixture B: deleting it unlinks it there (version 6).
	e.mutate(t, tk.editor, `mutation($id: ID!) { deleteCompany(id: $id) { id } }`, map[string]any{"id": fx.coB}, nil)
	if s := restore(page.Nodes[1].ID, 6); s.Version != 7 || s.Summary != "two" || len(s.Companies) != 0 || len(s.Features) != 1 {
		t.Errorf("restored the LINK revision as %+v; want version 7, summary two, the deleted company dropped", s)
	}

	// Delete it, then restore its last revision: it comes back under its
	// own id, as a DRAFT, at the version after the deletion.
	var del struct {
		DeleteFramework struct{ ID, RevisionID string }
	}
	e.mutate(t, tk.editor, `mutation($id: ID!) { deleteFramework(id: $id, ifVersion: 7) { id revisionId } }`, map[string]any{"id": id}, &del)
	if del.DeleteFramework.ID != id || del.DeleteFramework.RevisionID == "" {
		t.Fatalf("delete payload %+v", del.DeleteFramework)
	}
	r = e.post(t, `mutation($rev: ID!) { restoreRevision(revisionId: $rev) { id } }`, map[string]any{"rev": del.DeleteFramework.RevisionID}, bearer(tk.editor)...)
	if r.code() != "BAD_USER_INPUT" || r.Errors[0].Extensions["field"] != "revisionId" {
		t.Errorf("restoring a deletion: %s", r.Body)
	}
	r = e.post(t, `mutation($rev: ID!) { restoreRevision(revisionId: $rev, ifVersion: 7) { id } }`, map[string]any{"rev": page.Nodes[2].ID}, bearer(tk.editor)...)
	if r.code() != "CONFLICT" {
		t.Errorf("restoring a deleted item at a stale version: %s", r.Body)
	}
	s = restore(page.Nodes[2].ID, 8)
	if s.ID != id || s.Status != "DRAFT" || s.Version != 9 || s.Summary != "two" || len(s.Features) != 1 {
		t.Errorf("restored deleted framework as %+v; want id %s, DRAFT, version 9, version 2's fields", s, id)
	}
	var anon struct{ Node *struct{ ID string } }
	e.mustQuery(t, `query($id: ID!) { node(id: $id) { id } }`, &anon, func(r *client.Request) { r.Variables = map[string]any{"id": id} })
	if anon.Node != nil {
		t.Error("the restored draft is visible to anonymous readers")
	}
	history := e.revisions(t, tk.viewer, id, 20, nil)
	var actions []string
	for _, r := range history.Nodes {
		actions = append(actions, fmt.Sprintf("%s@%d", r.Action, r.Version))
	}
	if got := strings.Join(actions, " "); got != "RESTORE@9 DELETE@8 RESTORE@7 UNLINK@6 RESTORE@5 PUBLISH@4 LINK@3 UPDATE@2 CREATE@1" {
		t.Errorf("history = %s", got)
	}
	if history.Nodes[1].Document["summary"] != "two" {
		t.Errorf("the DELETE revision's document is not the item as it was: %v", history.Nodes[1].Document)
	}
}

// The audit log lists every event newest first, for admins: filters by
// type, item, action, token and time hold together, and pages visit every
// event once.
func TestAuditLog_FiltersAndPages(t *testing.T) {
	e := newEnv(t)
	tk := newTokens(t, e)
	seedEvents := eventCount(t, e)
	// A fixed clock, one minute per change (requests run on this goroutine).
	clock := time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC)
	e.DB.Now = func() time.Time { clock = clock.Add(time.Minute); return clock }
	var co struct{ CreateCompany struct{ ID string } }
	var tr struct{ CreateTrend struct{ ID string } }
	e.mutate(t, tk.editor, `mutation { createCompany(input: {name: "Audit Co"}) { id } }`, nil, &co) // 00:01
	coID := co.CreateCompany.ID
	e.mutate(t, tk.admin, `mutation($id: ID!) { updateCompany(id: $id, input: {name: "Audit Co 2"}) { id } }`, map[string]any{"id": coID}, nil) // 00:02
	e.mutate(t, tk.editor, `mutation($id: ID!) { publish(id: $id) { id } }`, map[string]any{"id": coID}, nil)                                   // 00:03
	e.mutate(t, tk.editor, `mutation { createTrend(input: {name: "Audit Trend", rank: 11, category: API}) { id } }`, nil, &tr)                  // 00:04
	e.mutate(t, tk.admin, `mutation($id: ID!) { deleteTrend(id: $id) { id } }`, map[string]any{"id": tr.CreateTrend.ID}, nil)                   // 00:05

	type page struct {
		AuditLog struct {
			TotalCount int
			PageInfo   struct {
				HasNextPage bool
				EndCursor   *string
			}
			Nodes []revision
		}
	}
	audit := func(filter map[string]any, first int, after *string) page {
		t.Helper()
		var out page
		e.mustQuery(t, `query($f: AuditFilter, $first: Int, $after: String) { auditLog(filter: $f, first: $first, after: $after) {
			totalCount pageInfo { hasNextPage endCursor } nodes { `+revisionFields+` } } }`, &out, as(tk.admin),
			func(r *client.Request) { r.Variables = map[string]any{"f": filter, "first": first, "after": after} })
		return out
	}
	all := audit(nil, 5, nil).AuditLog
	if all.TotalCount != seedEvents+5 {
		t.Errorf("totalCount %d, want %d", all.TotalCount, seedEvents+5)
	}
	var got []string
	for _, r := range all.Nodes {
		got = append(got, r.ItemType+" "+r.Action+" by "+r.Actor)
	}
	if strings.Join(got, "; ") != "Trend DELETE by admin-bot; Trend CREATE by editor-bot; Company PUBLISH by editor-bot; Company UPDATE by admin-bot; Company CREATE by editor-bot" {
		t.Errorf("newest events: %s", strings.Join(got, "; "))
	}
	if all.Nodes[0].Document["name"] != "Audit Trend" || all.Nodes[3].At != "2031-01-01T00:02:00.000Z" {
		t.Errorf("event details: %+v", all.Nodes[:4])
	}

	editorToken := db.EncodeID(db.TypeToken, tk.editorID)
	var adminToken string
	{
		var out struct{ Tokens []struct{ ID, Name string } }
		e.mustQuery(t, `{ tokens { id name } }`, &out, as(tk.admin))
		for _, x := range out.Tokens {
			if x.Name == "admin-bot" {
				adminToken = x.ID
			}
		}
	}
	cases := []struct {
		name   string
		filter map[string]any
		want   int
	}{
		{"types", map[string]any{"types": []string{"TREND"}}, 10 + 2},
		{"several types", map[string]any{"types": []string{"TREND", "FAQ"}}, 10 + 4 + 2},
		{"item", map[string]any{"itemId": coID}, 3},
		{"item of another type than types", map[string]any{"itemId": coID, "types": []string{"TREND"}}, 0},
		{"item and action", map[string]any{"itemId": coID, "actions": []string{"UPDATE", "PUBLISH"}}, 2},
		{"actions", map[string]any{"actions": []string{"DELETE"}}, 1},
		{"editor's token", map[string]any{"tokenId": editorToken}, 3},
		{"admin's token", map[string]any{"tokenId": adminToken}, 2},
		{"token and type", map[string]any{"tokenId": adminToken, "types": []string{"COMPANY"}}, 1},
		{"since", map[string]any{"since": "2031-01-01T00:03:00Z"}, 3},
		{"since with milliseconds", map[string]any{"since": "2031-01-01T00:03:00.001Z"}, 2},
		{"since with an offset", map[string]any{"since": "2031-01-01T01:04:00+01:00"}, 2},
		{"since and actions", map[string]any{"since": "2031-01-01T00:00:00Z", "actions": []string{"CREATE"}}, 2},
		{"nothing matches", map[string]any{"since": "2031-01-01T00:06:00Z"}, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := audit(c.filter, 100, nil).AuditLog
			if p.TotalCount != c.want || len(p.Nodes) != c.want {
				t.Errorf("totalCount %d, %d nodes; want %d", p.TotalCount, len(p.Nodes), c.want)
			}
		})
	}

	// Pages of 7 visit every event once, newest first.
	seen := map[string]bool{}
	var after *string
	last := int64(1 << 62)
	for pages := 0; ; pages++ {
		if pages > all.TotalCount {
			t.Fatal("paging does not end")
		}
		p := audit(nil, 7, after).AuditLog
		for _, r := range p.Nodes {
			n := mustRowID(t, r.ID)
			if seen[r.ID] || n >= last {
				t.Fatalf("event %s repeated or out of order", r.ID)
			}
			seen[r.ID], last = true, n
		}
		if !p.PageInfo.HasNextPage {
			break
		}
		after = p.PageInfo.EndCursor
	}
	if len(seen) != all.TotalCount {
		t.Errorf("pages visited %d events, want %d", len(seen), all.TotalCount)
	}
}

// Restoring a revision whose rank (or slug) another item holds now is
// refused on revisionId — the argument the caller sent — and changes
// nothing.
func TestRevisions_RestoreRefusedWhenTheOldRankIsTaken(t *testing.T) {
	e := newEnv(t)
	tk := newTokens(t, e)
	var a struct{ CreateTrend struct{ ID string } }
	e.mutate(t, tk.editor, `mutation { createTrend(input: {name: "Mover", rank: 11, category: API}) { id } }`, nil, &a)
	id := a.CreateTrend.ID
	e.mutate(t, tk.editor, `mutation($id: ID!) { updateTrend(id: $id, input: {rank: 12}) { id } }`, map[string]any{"id": id}, nil)
	e.mutate(t, tk.editor, `mutation { createTrend(input: {name: "Taker", rank: 11, category: API}) { id } }`, nil, nil)
	revs, err := e.DB.Revisions(context.Background(), db.TypeTrend, mustRowID(t, id), db.PageArgs{})
	if err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, e)
	r := e.post(t, `mutation($rev: ID!) { restoreRevision(revisionId: $rev) { id } }`,
		map[string]any{"rev": db.EncodeID(db.TypeRevision, revs.Items[1].ID)}, bearer(tk.editor)...)
	if r.code() != "BAD_USER_INPUT" || r.Errors[0].Extensions["field"] != "revisionId" || !strings.Contains(r.Errors[0].Message, "rank 11 is taken") {
		t.Fatalf("restore onto a taken rank: %s", r.Body)
	}
	if snapshot(t, e) != before {
		t.Fatal("the refused restore changed the database")
	}
}

// Updates are partial: omitted fields stay, null clears an optional field
// (and empties a list), a list replaces the whole list, and a required
// field cannot be null (see the validation test).
func TestUpdate_PartialAndNullSemantics(t *testing.T) {
	e := newEnv(t)
	tk := newTokens(t, e)
	type fw struct {
		Name, Slug, Kind, Summary       string
		Language, Creator, Architecture *string
		FirstReleased                   *int
		Features                        []string
		Companies                       []struct{ Slug string }
		Version                         int
	}
	const sel = `name slug kind summary language creator architecture firstReleased features companies { slug } version`
	var out struct{ UpdateFramework fw }
	var django struct{ Framework struct{ ID string } }
	e.mustQuery(t, `{ framework(slug: "django") { id } }`, &django)
	id := django.Framework.ID
	var orig struct{ Framework fw }
	e.mustQuery(t, `{ framework(slug: "django") { `+sel+` } }`, &orig)
	before := orig.Framework

	e.mutate(t, tk.editor, `mutation($id: ID!) { updateFramework(id: $id, input: {creator: "Adrian Holovaty"}) { `+sel+` } }`, map[string]any{"id": id}, &out)
	got := out.UpdateFramework
	if got.Creator == nil || *got.Creator != "Adrian Holovaty" || got.Name != before.Name || got.Summary != before.Summary ||
		!jsonEqual(got.Features, before.Features) || !jsonEqual(got.Companies, before.Companies) || *got.Language != *before.Language || got.Version != before.Version+1 {
		t.Errorf("setting one field changed others: %+v → %+v", before, got)
	}
	e.mutate(t, tk.editor, `mutation($id: ID!) { updateFramework(id: $id, input: {features: ["One"], firstReleased: 2005}) { `+sel+` } }`, map[string]any{"id": id}, &out)
	if got := out.UpdateFramework; !jsonEqual(got.Features, []string{"One"}) || got.FirstReleased == nil || *got.FirstReleased != 2005 || len(got.Companies) != len(before.Companies) {
		t.Errorf("a list did not replace the whole list: %+v", got)
	}
	e.mutate(t, tk.editor, `mutation($id: ID!) { updateFramework(id: $id, input: {language: null, creator: null, architecture: null, firstReleased: null, summary: null, features: null, companies: null}) { `+sel+` } }`,
		map[string]any{"id": id}, &out)
	got = out.UpdateFramework
	if got.Language != nil || got.Creator != nil || got.Architecture != nil || got.FirstReleased != nil || got.Summary != "" || len(got.Features) != 0 || len(got.Companies) != 0 {
		t.Errorf("null did not clear: %+v", got)
	}
	if got.Name != before.Name || got.Slug != before.Slug || got.Kind != before.Kind || got.Version != before.Version+3 {
		t.Errorf("null on optional fields touched required ones: %+v", got)
	}
}
