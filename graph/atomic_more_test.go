package graph_test

import (
	"context"
	"encoding/json"
	"sync"
	"testing"

	"github.com/99designs/gqlgen/client"
	"github.com/trendql/trendql/db"
	"github.com/trendql/trendql/webhook"
)

// The commit hooks (cache invalidation, and the wake-up of subscriptions
// and webhook workers) run once per request, after its commit, and never
// for a request that was rolled back.
func TestAtomic_CommitHooksRunOnceAndNeverAfterARollback(t *testing.T) {
	e := newEnv(t)
	tk := newTokens(t, e)
	var mu sync.Mutex
	var calls [][]db.TypeName
	e.DB.OnCommit(func(types []db.TypeName) {
		mu.Lock()
		calls = append(calls, types)
		mu.Unlock()
	})
	res := e.post(t, `mutation { a: createCompany(input: {name: "Hook A"}) { id } b: createTrend(input: {name: "Hook T", rank: 41, category: TOOLING}) { id }
		c: createFAQ(input: {question: "", position: 60}) { id } }`, nil, bearer(tk.editor)...)
	if res.code() != "BAD_USER_INPUT" {
		t.Fatalf("want BAD_USER_INPUT, got %s", res.Body)
	}
	mu.Lock()
	if len(calls) != 0 {
		t.Errorf("a rolled-back request ran the commit hooks: %v", calls)
	}
	mu.Unlock()
	e.mutate(t, tk.editor, `mutation { a: createCompany(input: {name: "Hook A"}) { id } b: createTrend(input: {name: "Hook T", rank: 41, category: TOOLING}) { id }
		c: createCompany(input: {name: "Hook C"}) { id } }`, nil, nil)
	mu.Lock()
	defer mu.Unlock()
	if len(calls) != 1 || len(calls[0]) != 2 {
		t.Errorf("a request of 3 mutations ran the hooks %d times (%v), want once with Company and Trend", len(calls), calls)
	}
}

// Within one request a later field reads what an earlier one wrote, and
// relations reflect it (the dataloaders start fresh for each field).
func TestAtomic_LaterFieldsSeeEarlierWrites(t *testing.T) {
	e := newEnv(t)
	tk := newTokens(t, e)
	var out struct {
		A struct {
			Companies []struct{ Name string }
		}
		B struct{ Name string }
		C struct {
			Companies []struct{ Name string }
		}
	}
	var fw struct{ Framework struct{ ID string } }
	e.mustQuery(t, `{ framework(slug: "go") { id } }`, &fw, as(tk.viewer))
	// Field a reads the framework's companies; b renames a company and c
	// links it: c's answer shows both, not what a cached.
	first := e.post(t, `mutation { a: createCompany(input: {name: "Seen Co"}) { id } }`, nil, bearer(tk.editor)...)
	var a struct{ A struct{ ID string } }
	json.Unmarshal(first.Data, &a)
	e.mutate(t, tk.editor, `mutation($co: ID!, $fw: ID!) {
		a: updateFramework(id: $fw, input: {summary: "Seen"}) { companies { name } }
		b: updateCompany(id: $co, input: {name: "Seen Co Renamed"}) { name }
		c: linkFrameworkCompany(frameworkId: $fw, companyId: $co) { companies { name } }
	}`, map[string]any{"co": a.A.ID, "fw": fw.Framework.ID}, &out)
	if out.B.Name != "Seen Co Renamed" {
		t.Errorf("b answered %q", out.B.Name)
	}
	found := false
	for _, c := range out.C.Companies {
		found = found || c.Name == "Seen Co Renamed"
	}
	if !found {
		t.Errorf("c's companies %v miss the company renamed by b", out.C.Companies)
	}
}

// deletedId names the deleted item; the deprecated id still answers the
// same; Article is a Node with a stable id that node and nodes resolve;
// the custom scalars name their specifications.
func TestPayloadIDs_DeletedIDArticleNodeSpecifiedBy(t *testing.T) {
	e := newEnv(t)
	tk := newTokens(t, e)
	f := newFixture(t, e)
	var del struct {
		DeleteCompany struct{ DeletedID, ID, RevisionID string }
	}
	e.mutate(t, tk.editor, `mutation($id: ID!) { deleteCompany(id: $id) { deletedId id revisionId } }`, map[string]any{"id": f.coB}, &del)
	if del.DeleteCompany.DeletedID != f.coB || del.DeleteCompany.ID != f.coB {
		t.Errorf("delete payload = %+v, want deletedId and id %s", del.DeleteCompany, f.coB)
	}
	var art struct {
		Article struct{ ID, Title string }
	}
	e.mustQuery(t, `{ article { id title } }`, &art)
	if art.Article.ID == "" {
		t.Fatal("the article has no id")
	}
	var again struct {
		Node  struct{ Typename, ID, Title string } `json:"node"`
		Nodes []struct{ ID, Title string }
	}
	e.mustQuery(t, `query($id: ID!) { node(id: $id) { typename: __typename id ... on Article { title } } nodes(ids: [$id]) { id ... on Article { title } } }`, &again,
		client.Var("id", art.Article.ID))
	if again.Node.Typename != "Article" || again.Node.ID != art.Article.ID || again.Node.Title != art.Article.Title ||
		len(again.Nodes) != 1 || again.Nodes[0].Title != art.Article.Title {
		t.Errorf("node(id: article id) = %+v, nodes = %+v", again.Node, again.Nodes)
	}
	// A well-formed id of the article that is not row 1 finds nothing.
	var none struct{ Node *struct{ ID string } }
	e.mustQuery(t, `query($id: ID!) { node(id: $id) { id } }`, &none, client.Var("id", db.EncodeID(db.TypeArticle, 2)))
	if none.Node != nil {
		t.Errorf("node(Article:2) = %+v, want null", none.Node)
	}
	// The article's id is not a content item's: publish refuses it.
	res := e.post(t, `mutation($id: ID!) { publish(id: $id) { id } }`, map[string]any{"id": art.Article.ID}, bearer(tk.editor)...)
	if res.code() != "BAD_USER_INPUT" {
		t.Errorf("publish(article id) answered %s", res.Body)
	}
	var intro struct {
		DT, D, J struct{ SpecifiedByURL *string }
		DP       struct {
			Fields []struct {
				Name              string
				IsDeprecated      bool
				DeprecationReason *string
			}
		}
	}
	e.mustQuery(t, `{ dt: __type(name: "DateTime") { specifiedByURL } d: __type(name: "Date") { specifiedByURL } j: __type(name: "JSON") { specifiedByURL }
		dp: __type(name: "DeletePayload") { fields(includeDeprecated: true) { name isDeprecated deprecationReason } } }`, &intro)
	for name, s := range map[string]*string{"DateTime": intro.DT.SpecifiedByURL, "Date": intro.D.SpecifiedByURL, "JSON": intro.J.SpecifiedByURL} {
		if s == nil || *s == "" {
			t.Errorf("%s has no @specifiedBy url", name)
		}
	}
	for _, fd := range intro.DP.Fields {
		if fd.Name == "id" && (!fd.IsDeprecated || fd.DeprecationReason == nil) {
			t.Errorf("DeletePayload.id is not deprecated with a reason: %+v", fd)
		}
		if fd.Name == "deletedId" && fd.IsDeprecated {
			t.Error("deletedId is deprecated")
		}
	}
}

// A webhook's payload carries the transaction id of its change.
func TestAtomic_WebhookPayloadCarriesTheTransactionID(t *testing.T) {
	e := newEnv(t)
	tk := newTokens(t, e)
	e.mutate(t, tk.editor, `mutation { a: createCompany(input: {name: "Wh A"}) { id } b: createCompany(input: {name: "Wh B"}) { id } }`, nil, nil)
	evs, err := e.DB.Events(context.Background(), db.EventFilter{}, db.PageArgs{})
	if err != nil {
		t.Fatal(err)
	}
	b, a := evs.Items[0], evs.Items[1]
	pa := webhook.NewPayload(&db.DeliveryJob{Delivery: &db.WebhookDelivery{ID: 1, WebhookID: 1}, IncludeDrafts: true, Event: a})
	pb := webhook.NewPayload(&db.DeliveryJob{Delivery: &db.WebhookDelivery{ID: 2, WebhookID: 1}, IncludeDrafts: true, Event: b})
	want := db.EncodeID(db.TypeRevision, a.ID)
	if pa.Event.TransactionID != want || pb.Event.TransactionID != want {
		t.Errorf("payload transaction ids %q, %q; want both %q", pa.Event.TransactionID, pb.Event.TransactionID, want)
	}
	raw, _ := json.Marshal(pb)
	if !json.Valid(raw) || !containsKey(raw, "transactionId") {
		t.Errorf("payload JSON has no transactionId: %s", raw)
	}
}

func containsKey(raw []byte, key string) bool {
	var m struct{ Event map[string]any }
	json.Unmarshal(raw, &m)
	_, ok := m.Event[key]
	return ok
}
