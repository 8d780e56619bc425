package graph_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/trendql/trendql/db"
)

type feed struct {
	Changes []change
	Cursor  string
	HasMore bool
}

func (l *live) changes(t testing.TB, token string, vars map[string]any) feed {
	t.Helper()
	var r struct{ Changes feed }
	l.gql(t, token, `query($since: String, $first: Int, $types: [ContentType!]) {
		changes(since: $since, first: $first, types: $types) { cursor hasMore changes { `+changeFields+` } } }`, vars, &r)
	return r.Changes
}

// changes(since:) returns exactly the events after the cursor, oldest
// first, in pages; with nothing new, the same cursor comes back.
func TestChanges_ExactlyTheEventsAfterTheCursor(t *testing.T) {
	l := newLive(t)
	var head struct{ ChangesCursor string }
	l.gql(t, "", `{ changesCursor }`, nil, &head)

	a := l.createCompany(t, "Alpha")
	l.rename(t, a, "Alpha Two")
	l.publish(t, a, true)
	b := l.createCompany(t, "Beta")
	l.deleteCompany(t, b)

	var got []change
	cursor := head.ChangesCursor
	pages := 0
	for {
		f := l.changes(t, l.viewer, map[string]any{"since": cursor, "first": 2})
		got = append(got, f.Changes...)
		cursor = f.Cursor
		pages++
		if !f.HasMore {
			break
		}
		if len(f.Changes) != 2 || f.Cursor != f.Changes[1].Cursor {
			t.Fatalf("page %d: %d changes, cursor %s", pages, len(f.Changes), f.Cursor)
		}
	}
	if s := summary(got); s != "CREATE:1 UPDATE:2 PUBLISH:3 CREATE:1 DELETE:2" || pages != 3 {
		t.Fatalf("changes = %s in %d pages", s, pages)
	}
	if got[0].ItemID != a || got[3].ItemID != b || got[2].Node == nil || got[2].Node.Name != "Alpha Two" || got[4].Node != nil {
		t.Errorf("items and nodes wrong: %+v", got)
	}

	again := l.changes(t, l.viewer, map[string]any{"since": cursor})
	if len(again.Changes) != 0 || again.HasMore || again.Cursor != cursor {
		t.Errorf("nothing new: %+v, want no changes and cursor %s", again, cursor)
	}
	l.rename(t, a, "Alpha Three")
	next := l.changes(t, l.viewer, map[string]any{"since": cursor})
	if s := summary(next.Changes); s != "UPDATE:4" {
		t.Errorf("after one more change: %s", s)
	}

	// Without since: from the start of the log (the seed's import first).
	all := l.changes(t, l.viewer, map[string]any{"first": 1000})
	if all.HasMore || len(all.Changes) < 6 || all.Changes[len(all.Changes)-1].Revision.Version != 4 {
		t.Errorf("whole log: %d changes, hasMore %v", len(all.Changes), all.HasMore)
	}
	// types filters.
	trends := l.changes(t, l.viewer, map[string]any{"since": head.ChangesCursor, "types": []string{"TREND"}})
	if len(trends.Changes) != 0 {
		t.Errorf("types: [TREND] returned %s", summary(trends.Changes))
	}
}

// Anonymous callers get public changes only, with documents that name no
// unpublished item; the cursor still moves past what they cannot see.
func TestChanges_AnonymousSeePublicChangesOnly(t *testing.T) {
	l := newLive(t)
	var head struct{ ChangesCursor string }
	l.gql(t, "", `{ changesCursor }`, nil, &head)

	hidden := l.createCompany(t, "Hidden Partner")
	var tr struct {
		Trend struct {
			ID        string
			Companies []struct{ ID string }
		}
	}
	l.gql(t, "", `{ trend(slug: "serverless-computing") { id companies { id } } }`, nil, &tr)
	l.gql(t, l.editor, `mutation($t: ID!, $c: ID!) { linkTrendCompany(trendId: $t, companyId: $c) { id } }`,
		map[string]any{"t": tr.Trend.ID, "c": hidden}, nil)

	// Linking a published trend to a draft changes nothing anonymous
	// readers can see: no event, and their cursor stays (issue 11 items
	// 6 and 7).
	anon := l.changes(t, "", map[string]any{"since": head.ChangesCursor})
	if len(anon.Changes) != 0 || anon.Cursor != head.ChangesCursor {
		t.Fatalf("anonymous changes = %s, cursor %s (was %s): want none, unmoved", summary(anon.Changes), anon.Cursor, head.ChangesCursor)
	}
	viewer := l.changes(t, l.viewer, map[string]any{"since": head.ChangesCursor})
	if s := summary(viewer.Changes); s != "CREATE:1 LINK:"+itoa(viewer.Changes[1].Revision.Version) ||
		!strings.Contains(string(viewer.Changes[1].Revision.Document), "hidden-partner") {
		t.Errorf("viewer changes = %s %s", s, viewer.Changes[1].Revision.Document)
	}
	if anon.Cursor == viewer.Cursor {
		t.Errorf("the anonymous cursor moved to the end of the log %s on draft activity", viewer.Cursor)
	}
	// Once the trend changes publicly (the trend is published, so its edit
	// and its link are its draft until publish makes them live),
	// anonymous readers get that change, in its public form: no draft
	// slug, no actor, only the public fields.
	l.gql(t, l.editor, `mutation($t: ID!) { updateTrend(id: $t, input: {summary: "Now public"}) { id } publish(id: $t) { id } }`, map[string]any{"t": tr.Trend.ID}, nil)
	anon = l.changes(t, "", map[string]any{"since": head.ChangesCursor})
	if len(anon.Changes) != 1 || anon.Changes[0].Action != "PUBLISH" {
		t.Fatalf("anonymous changes = %s, want the trend's PUBLISH only", summary(anon.Changes))
	}
	doc := string(anon.Changes[0].Revision.Document)
	if strings.Contains(doc, "hidden-partner") || !strings.Contains(doc, `"companies":[`) || !strings.Contains(doc, "Now public") {
		t.Errorf("anonymous document: %s", doc)
	}
	if a := anon.Changes[0].Revision.Actor; a != "" {
		t.Errorf("anonymous actor %q", a)
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

func TestChanges_BadInput(t *testing.T) {
	l := newLive(t)
	far := db.EncodeChangeCursor(1 << 40)
	pageCursor := "WyJOQU1FIiwiYSIsMV0" // a connection cursor, not a changes one
	for _, c := range []struct {
		vars  map[string]any
		field string
	}{
		{map[string]any{"since": "garbage"}, "since"},
		{map[string]any{"since": pageCursor}, "since"},
		{map[string]any{"since": far}, "since"},
		{map[string]any{"first": 1001}, "first"},
		{map[string]any{"first": -1}, "first"},
	} {
		res := l.try(t, "", `query($since: String, $first: Int) { changes(since: $since, first: $first) { cursor } }`, c.vars)
		if res.code() != "BAD_USER_INPUT" || res.Errors[0].Extensions["field"] != c.field {
			t.Errorf("%v: %s", c.vars, res.Body)
		}
	}
}

// A page of changes with nested relations costs a constant number of
// statements, however many changes it holds.
func TestChanges_ConstantStatementCount(t *testing.T) {
	l := newLive(t)
	q := `{ changes(first: 1000) { changes { revision { document } node { id ... on Trend { companies { name } frameworks { name } } } } } }`
	cost := func() (int64, int) {
		before := l.DB.QueryCount()
		var r struct{ Changes feed }
		l.gql(t, "", q, nil, &r)
		return l.DB.QueryCount() - before, len(r.Changes.Changes)
	}
	small, n1 := cost()
	var c struct{ Company struct{ ID string } }
	l.gql(t, "", `{ company(slug: "google") { id } }`, nil, &c)
	for i := range 40 {
		// Google is published: each rename is public once published.
		l.gql(t, l.editor, `mutation($id: ID!, $n: String!) { updateCompany(id: $id, input: {name: $n}) { id } publish(id: $id) { id } }`,
			map[string]any{"id": c.Company.ID, "n": "Google " + itoa(i)}, nil)
	}
	big, n2 := cost()
	if n2 != n1+40 || big > small {
		t.Errorf("statements: %d for %d changes, %d for %d", small, n1, big, n2)
	}
}

// A deleted item's row id can be handed to the next item created (SQLite
// reuses the largest id): the deletion's node stays null all the same.
func TestChanges_NodeIsNotAnItemThatReusedTheID(t *testing.T) {
	l := newLive(t)
	var head struct{ ChangesCursor string }
	l.gql(t, "", `{ changesCursor }`, nil, &head)
	gone := l.createCompany(t, "Gone")
	l.deleteCompany(t, gone)
	time.Sleep(5 * time.Millisecond) // a later millisecond
	reused := l.createCompany(t, "Newcomer")
	f := l.changes(t, l.viewer, map[string]any{"since": head.ChangesCursor})
	if s := summary(f.Changes); s != "CREATE:1 DELETE:2 CREATE:1" {
		t.Fatalf("changes = %s", s)
	}
	if reused != gone {
		t.Skipf("the row id was not reused (%s, %s): nothing to check", gone, reused)
	}
	if f.Changes[0].Node != nil || f.Changes[1].Node != nil || f.Changes[2].Node == nil || f.Changes[2].Node.Name != "Newcomer" {
		t.Errorf("nodes %+v %+v %+v", f.Changes[0].Node, f.Changes[1].Node, f.Changes[2].Node)
	}
}
