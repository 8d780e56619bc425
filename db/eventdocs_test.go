package db

import (
	"context"
	"testing"

	"github.com/trendql/trendql/db/dbtest"
)

// Every event reads the same document while it is its item's newest (read
// from the content tables) as after the next change filled it in, and
// only the newest event of each item goes without a stored document.
func TestEventDocuments_SameBeforeAndAfterTheNextChange(t *testing.T) {
	ctx := context.Background()
	d := openSeeded(t, dbtest.NewDSN(t))
	ed := WithPrincipal(ctx, &Principal{Name: "ed", Role: RoleEditor})
	seen := map[int64]string{}
	observe := func(step string) {
		t.Helper()
		p, err := d.Events(ctx, EventFilter{}, PageArgs{First: ptrInt(100)})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range p.Items {
			if prev, ok := seen[e.ID]; ok && prev != string(e.Document) {
				t.Errorf("after %s, event %d (%s %s %s) reads\n%s\nbut read before\n%s", step, e.ID, e.Type, e.Slug, e.Action, e.Document, prev)
			}
			seen[e.ID] = string(e.Document)
		}
	}
	observe("seed")
	must := func(step string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", step, err)
		}
		observe(step)
	}
	c, err := d.CreateCompany(ed, CompanyPatch{Name: ptrStr("Initech")})
	must("create", err)
	dj, err := d.FrameworkBySlug(ctx, "django")
	must("lookup", err)
	must("link", d.Link(ed, RelFrameworkCompany, dj.RowID, c.RowID, true))
	must("publish", d.SetStatus(ed, TypeCompany, c.RowID, StatusPublished, nil))
	_, err = d.UpdateCompany(ed, c.RowID, CompanyPatch{Name: ptrStr("Initrode")}, nil)
	must("rename", err)
	_, err = d.UpdateFramework(ed, dj.RowID, FrameworkPatch{Summary: ptrStr("Edited."), Features: &[]string{"ORM", "Admin"}}, nil)
	must("update", err)
	// A new slug changes the documents of the items that link to it
	// without an event of theirs: their newest events keep the old one.
	_, err = d.UpdateCompany(ed, c.RowID, CompanyPatch{Slug: ptrStr("initrode")}, nil)
	must("company slug", err)
	_, err = d.UpdateFramework(ed, dj.RowID, FrameworkPatch{Slug: ptrStr("django-web")}, nil)
	must("framework slug", err)
	_, err = d.Import(ctx, &Content{Format: ContentFormat, Article: &ArticleDoc{Title: "New title", LastUpdated: "2024-02-01",
		Sections: []SectionDoc{{Heading: "One", Body: "Body."}}}}, false)
	must("article", err)
	_, err = d.Delete(ed, TypeCompany, c.RowID, nil)
	must("delete", err)
	tp, err := d.Trends(ctx, nil, nil, PageArgs{First: ptrInt(1)})
	must("trends", err)
	_, err = d.UpdateTrend(ed, tp.Items[0].RowID, TrendPatch{Body: ptrStr("New body.")}, nil)
	must("trend", err)
	for _, tr := range func() []*Trend { p, _ := d.Trends(ctx, nil, nil, PageArgs{First: ptrInt(100)}); return p.Items }() {
		_, err = d.UpdateTrend(ed, tr.RowID, TrendPatch{Slug: ptrStr(tr.Slug + "-x")}, nil)
		must("trend slug", err)
	}

	fp, err := d.FAQs(ctx, nil, nil, PageArgs{First: ptrInt(1)})
	must("faqs", err)
	_, err = d.UpdateFAQ(ed, fp.Items[0].RowID, FAQPatch{Answer: ptrStr("Edited."), Items: &[]string{"One", "Two"}}, nil)
	must("faq", err)
	_, err = d.UpdateFAQ(ed, fp.Items[0].RowID, FAQPatch{Question: ptrStr("Edited again?")}, nil)
	must("faq again", err)

	// The API does not show which events store their document: count in SQL.
	raw := dbtest.RawSQL(t, d.Path())
	var lazy, items int
	raw.QueryRow("SELECT count(*) FROM events WHERE document IS NULL").Scan(&lazy)
	raw.QueryRow(`SELECT count(*) FROM (SELECT type, item_id, max(id) AS newest FROM events GROUP BY type, item_id) n
		JOIN events e ON e.id = n.newest WHERE e.action <> 'DELETE'`).Scan(&items)
	var wrong int
	raw.QueryRow(`SELECT count(*) FROM events e WHERE document IS NULL
		AND id <> (SELECT max(id) FROM events x WHERE x.type = e.type AND x.item_id = e.item_id)`).Scan(&wrong)
	// Items linked to a renamed one have their newest document stored.
	if lazy > items || lazy < items/2 || wrong != 0 {
		t.Errorf("%d events without a document, %d of them not their item's newest; %d items", lazy, wrong, items)
	}
	if len(seen) < 20 {
		t.Errorf("only %d events observed", len(seen))
	}
	for id, doc := range seen {
		if doc == "" || doc == "null" {
			t.Errorf("event %d has no document: %q", id, doc)
		}
	}
}

func ptrInt(n int) *int       { return &n }
func ptrStr(s string) *string { return &s }
