package db_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/trendql/trendql/db"
	"github.com/trendql/trendql/db/dbtest"
)

func asViewer() context.Context {
	return db.WithPrincipal(context.Background(), &db.Principal{TokenID: 2, Name: "viewer", Role: db.RoleViewer})
}

// companyNames lists the names of a framework's companies as ctx reads them.
func companyNames(t *testing.T, d *db.DB, ctx context.Context, fw int64) []string {
	t.Helper()
	m, err := d.CompaniesOfFrameworks(ctx, []int64{fw})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, c := range m[fw] {
		out = append(out, c.Name)
	}
	return out
}

// An edit of a published item is its draft: anonymous callers and token
// holders without a preview read the live version everywhere, a preview
// reads the draft, and publish makes it live.
func TestDrafts_EditOfAPublishedItemIsADraftUntilPublished(t *testing.T) {
	d := MustOpenDB(t)
	ed, anon := asEditor(), context.Background()
	preview := db.WithPreview(asViewer())
	fw, err := d.FrameworkBySlug(anon, "django")
	if err != nil {
		t.Fatal(err)
	}
	liveCompanies := companyNames(t, d, anon, fw.RowID)
	stealth, err := d.CreateCompany(ed, db.CompanyPatch{Name: ptr("Stealth Co")})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Publish(ed, db.TypeCompany, stealth.RowID, nil); err != nil {
		t.Fatal(err)
	}
	got, err := d.UpdateFramework(ed, fw.RowID, db.FrameworkPatch{Summary: ptr("WIP edit"), Slug: ptr("django-wip")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Link(ed, db.RelFrameworkCompany, fw.RowID, stealth.RowID, true); err != nil {
		t.Fatal(err)
	}
	if got.Summary != "WIP edit" || got.Version <= fw.Version {
		t.Errorf("the mutation's answer is not the draft: %+v", got)
	}
	for name, ctx := range map[string]context.Context{"anonymous": anon, "viewer": asViewer(), "editor": ed} {
		x, err := d.Framework(ctx, fw.RowID)
		if err != nil {
			t.Fatal(err)
		}
		if x.Summary != fw.Summary || x.Slug != "django" || x.Version != fw.Version {
			t.Errorf("%s reads the draft: %+v", name, x)
		}
		if _, err := d.FrameworkBySlug(ctx, "django-wip"); !db.IsNotFound(err) {
			t.Errorf("%s finds the draft's slug: %v", name, err)
		}
		if got := companyNames(t, d, ctx, fw.RowID); !slices.Equal(got, liveCompanies) {
			t.Errorf("%s reads the draft's links: %v", name, got)
		}
		page, err := d.Frameworks(ctx, &db.FrameworkFilter{Company: &db.RelationFilter{Slug: ptr(stealth.Slug)}}, nil, db.PageArgs{})
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Items) != 0 {
			t.Errorf("%s: a relation filter follows the draft's link", name)
		}
		hits, err := d.Search(ctx, "WIP", nil, db.PageArgs{})
		if err != nil {
			t.Fatal(err)
		}
		if len(hits.Items) != 0 {
			t.Errorf("%s: search finds the draft's words", name)
		}
	}
	x, err := d.Framework(preview, fw.RowID)
	if err != nil {
		t.Fatal(err)
	}
	if x.Summary != "WIP edit" || x.Slug != "django-wip" || x.Version != got.Version+1 {
		t.Errorf("the preview does not read the draft: %+v", x)
	}
	if got := companyNames(t, d, preview, fw.RowID); !slices.Contains(got, "Stealth Co") {
		t.Errorf("the preview does not follow the draft's links: %v", got)
	}
	if _, err := d.FrameworkBySlug(preview, "django-wip"); err != nil {
		t.Errorf("the preview does not find the draft's slug: %v", err)
	}
	hits, err := d.Search(preview, "WIP", nil, db.PageArgs{})
	if err != nil {
		t.Fatal(err)
	}
	if len(hits.Items) != 1 || hits.Items[0].Node.(*db.Framework).RowID != fw.RowID || !strings.Contains(hits.Items[0].Snippet, "<mark>WIP</mark>") {
		t.Errorf("the preview's search: %+v", hits.Items)
	}
	// Anonymous changes feed: nothing public happened.
	changed, err := d.UnpublishedChanges(asViewer(), db.TypeFramework, []int64{fw.RowID})
	if err != nil {
		t.Fatal(err)
	}
	var fields []string
	for _, c := range changed[fw.RowID] {
		fields = append(fields, c.Field)
	}
	if strings.Join(fields, ",") != "slug,summary,companies" {
		t.Errorf("unpublished changes %v", fields)
	}
	if none, _ := d.UnpublishedChanges(anon, db.TypeFramework, []int64{fw.RowID}); len(none) != 0 {
		t.Errorf("anonymous callers learn of drafts: %v", none)
	}

	if err := d.Publish(ed, db.TypeFramework, fw.RowID, nil); err != nil {
		t.Fatal(err)
	}
	y, err := d.Framework(anon, fw.RowID)
	if err != nil {
		t.Fatal(err)
	}
	if y.Summary != "WIP edit" || y.Slug != "django-wip" || y.Version != x.Version+1 {
		t.Errorf("after publish, anonymous callers read %+v", y)
	}
	if got := companyNames(t, d, anon, fw.RowID); !slices.Contains(got, "Stealth Co") {
		t.Errorf("after publish the link is not live: %v", got)
	}
	if hits, _ := d.Search(anon, "WIP", nil, db.PageArgs{}); len(hits.Items) != 1 {
		t.Errorf("after publish anonymous search finds %d", len(hits.Items))
	}
	if err := d.Publish(ed, db.TypeFramework, fw.RowID, nil); db.ErrorCode(err) != db.EINVALID {
		t.Errorf("publishing with no draft: %v", err)
	}
}

// Discarding a draft brings the preview back to the live version; its
// versions are never given again (a stale ifVersion cannot match a new
// content); unpublish keeps the draft's edits as the item's content.
func TestDrafts_DiscardAndUnpublish(t *testing.T) {
	d := MustOpenDB(t)
	ed := asEditor()
	preview := db.WithPreview(ed)
	tr, err := d.TrendBySlug(context.Background(), "serverless-computing")
	if err != nil {
		t.Fatal(err)
	}
	a, err := d.UpdateTrend(ed, tr.RowID, db.TrendPatch{Summary: ptr("draft one")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.DiscardDraft(ed, db.TypeTrend, tr.RowID, ptr(a.Version)); err != nil {
		t.Fatal(err)
	}
	p, _ := d.Trend(preview, tr.RowID)
	if p.Summary != tr.Summary || p.Version != tr.Version {
		t.Errorf("after discard the preview reads %+v", p)
	}
	if err := d.DiscardDraft(ed, db.TypeTrend, tr.RowID, nil); db.ErrorCode(err) != db.EINVALID {
		t.Errorf("discarding no draft: %v", err)
	}
	b, err := d.UpdateTrend(ed, tr.RowID, db.TrendPatch{Summary: ptr("draft two")}, ptr(tr.Version))
	if err != nil {
		t.Fatal(err)
	}
	if b.Version <= a.Version+1 {
		t.Errorf("a new draft reuses the versions of a discarded one: %d after %d", b.Version, a.Version)
	}
	if _, err := d.UpdateTrend(ed, tr.RowID, db.TrendPatch{Summary: ptr("stale")}, ptr(a.Version)); db.ErrorCode(err) != db.ECONFLICT {
		t.Errorf("the discarded draft's version still matches: %v", err)
	}
	if err := d.Unpublish(ed, db.TypeTrend, tr.RowID, nil); err != nil {
		t.Fatal(err)
	}
	u, _ := d.Trend(ed, tr.RowID)
	if u.Status != db.StatusDraft || u.Summary != "draft two" {
		t.Errorf("after unpublish: %+v", u)
	}
	if _, err := d.Trend(context.Background(), tr.RowID); !db.IsNotFound(err) {
		t.Errorf("anonymous callers still read the unpublished trend: %v", err)
	}
	// A DRAFT item is edited in place: no separate draft.
	if _, err := d.UpdateTrend(ed, tr.RowID, db.TrendPatch{Summary: ptr("in place")}, nil); err != nil {
		t.Fatal(err)
	}
	if has, _ := d.DraftedIDs(ed, db.TypeTrend, []int64{tr.RowID}); has[tr.RowID] {
		t.Error("a DRAFT item got a separate draft")
	}
}

// Unique values are the items' own in the preview too: a draft cannot take
// a slug or rank another item holds there, and two drafts can swap ranks
// and go live together in one request.
func TestDrafts_UniqueValuesInThePreview(t *testing.T) {
	d := MustOpenDB(t)
	ed := asEditor()
	trs, err := d.Trends(ed, nil, nil, db.PageArgs{})
	if err != nil {
		t.Fatal(err)
	}
	t1, t2 := trs.Items[0], trs.Items[1]
	_, err = d.UpdateTrend(ed, t1.RowID, db.TrendPatch{Slug: ptr(t2.Slug)}, nil)
	var de *db.Error
	if !errors.As(err, &de) || de.Field != "input.slug" {
		t.Fatalf("a draft took another trend's slug: %v", err)
	}
	_, err = d.UpdateTrend(ed, t1.RowID, db.TrendPatch{Rank: ptr(t2.Rank)}, nil)
	if !errors.As(err, &de) || de.Field != "input.rank" {
		t.Fatalf("a draft took another trend's rank: %v", err)
	}
	if has, _ := d.DraftedIDs(ed, db.TypeTrend, []int64{t1.RowID}); has[t1.RowID] {
		t.Fatal("a refused edit left a draft")
	}
	ctx, req := d.BeginRequest(ed)
	for _, sw := range [][2]*db.Trend{{t1, t2}, {t2, t1}} {
		if _, err := d.UpdateTrend(ctx, sw[0].RowID, db.TrendPatch{Rank: ptr(sw[1].Rank)}, nil); err != nil {
			t.Fatal(err)
		}
	}
	// Publishing one alone would hold a live rank twice.
	if err := d.Publish(ctx, db.TypeTrend, t1.RowID, nil); err != nil {
		t.Fatal(err)
	}
	if err := d.Publish(ctx, db.TypeTrend, t2.RowID, nil); err != nil {
		t.Fatal(err)
	}
	if err := req.Commit(); err != nil {
		t.Fatalf("swap and publish: %v", err)
	}
	a, _ := d.Trend(context.Background(), t1.RowID)
	b, _ := d.Trend(context.Background(), t2.RowID)
	if a.Rank != t2.Rank || b.Rank != t1.Rank {
		t.Errorf("live ranks %d, %d", a.Rank, b.Rank)
	}
}

// Deleting an item a published framework links from its live version and
// its draft: one UNLINK, public (the live version changed) with a public
// document that holds the live version, never the draft's content.
func TestDrafts_DeleteAnItemADraftedOwnerLinks(t *testing.T) {
	d := MustOpenDB(t)
	ed, anon := asEditor(), context.Background()
	fw, _ := d.FrameworkBySlug(anon, "django")
	comps := companyNames(t, d, anon, fw.RowID)
	if len(comps) == 0 {
		t.Fatal("django has no companies")
	}
	victim, err := d.CompaniesOfFrameworks(anon, []int64{fw.RowID})
	if err != nil {
		t.Fatal(err)
	}
	c := victim[fw.RowID][0]
	if _, err := d.UpdateFramework(ed, fw.RowID, db.FrameworkPatch{Summary: ptr("secret draft words")}, nil); err != nil {
		t.Fatal(err)
	}
	cursor, err := d.ChangesCursor(anon)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Delete(ed, db.TypeCompany, c.RowID, nil); err != nil {
		t.Fatal(err)
	}
	page, err := d.Changes(anon, cursor, 100, db.ChangeFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var unlink bool
	for _, e := range page.Events {
		b, _ := json.Marshal(e.Document)
		if bytes.Contains(b, []byte("secret draft")) {
			t.Errorf("the public feed shows the draft: %s", b)
		}
		if e.Action == db.ActionUnlink && e.Type == db.TypeFramework {
			unlink = true
		}
	}
	if !unlink {
		t.Error("no public UNLINK for the framework whose live version lost the company")
	}
	if got := companyNames(t, d, anon, fw.RowID); slices.Contains(got, c.Name) {
		t.Errorf("the live version still lists the deleted company: %v", got)
	}
	p, _ := d.Framework(db.WithPreview(ed), fw.RowID)
	if p.Summary != "secret draft words" {
		t.Errorf("the draft was lost: %+v", p)
	}
	// Deleting the drafted item itself: the public event holds the live
	// version.
	cursor, _ = d.ChangesCursor(anon)
	if _, err := d.Delete(ed, db.TypeFramework, fw.RowID, nil); err != nil {
		t.Fatal(err)
	}
	page, _ = d.Changes(anon, cursor, 100, db.ChangeFilter{})
	if len(page.Events) == 0 {
		t.Fatal("the deletion of a published item is not public")
	}
	for _, e := range page.Events {
		b, _ := json.Marshal(e.Document)
		if bytes.Contains(b, []byte("secret draft")) {
			t.Errorf("the public deletion shows the draft: %s", b)
		}
	}
}

// Export writes pending drafts beside their items and import restores
// them: export → import into an empty database → export is identical, and
// importing the same file again changes nothing.
func TestDrafts_ExportImportRoundTrip(t *testing.T) {
	d := MustOpenDB(t)
	ed := asEditor()
	fw, _ := d.FrameworkBySlug(ed, "django")
	tr, _ := d.TrendBySlug(ed, "serverless-computing")
	co, _ := d.CompanyBySlug(ed, "google")
	if _, err := d.UpdateFramework(ed, fw.RowID, db.FrameworkPatch{Summary: ptr("draft summary")}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := d.UpdateCompany(ed, co.RowID, db.CompanyPatch{Slug: ptr("alphabet"), Name: ptr("Alphabet")}, nil); err != nil {
		t.Fatal(err)
	}
	// The trend's draft links the company, whose draft renames it.
	if err := d.Link(ed, db.RelTrendCompany, tr.RowID, co.RowID, true); err != nil && db.ErrorCode(err) != "" {
		t.Fatal(err)
	}
	if _, err := d.UpdateTrend(ed, tr.RowID, db.TrendPatch{Body: ptr("draft body")}, nil); err != nil {
		t.Fatal(err)
	}
	var first bytes.Buffer
	if err := d.ExportTo(ed, &first); err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(first.Bytes(), []byte(`"draft": {`)) {
		t.Fatal("the export has no drafts")
	}
	d2, _, err := db.Open(context.Background(), dbtest.NewDSN(t), db.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer d2.Close()
	if _, err := d2.ImportFrom(context.Background(), bytes.NewReader(first.Bytes()), false); err != nil {
		t.Fatal(err)
	}
	var second bytes.Buffer
	if err := d2.ExportTo(ed, &second); err != nil {
		t.Fatal(err)
	}
	if first.String() != second.String() {
		t.Fatalf("export → import → export differs:\n%s", diffLines(first.String(), second.String()))
	}
	p, err := d2.TrendBySlug(db.WithPreview(ed), "serverless-computing")
	if err != nil {
		t.Fatal(err)
	}
	if p.Body != "draft body" {
		t.Errorf("imported preview %+v", p)
	}
	res, err := d2.ImportFrom(context.Background(), bytes.NewReader(first.Bytes()), false)
	if err != nil {
		t.Fatal(err)
	}
	if n := res.Created[db.TypeTrend] + res.Updated[db.TypeTrend] + res.Updated[db.TypeFramework] + res.Updated[db.TypeCompany] + res.Created[db.TypeCompany]; n != 0 {
		t.Errorf("importing the same file again changed %d items: %+v", n, res)
	}
}

func diffLines(a, b string) string {
	x, y := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := range min(len(x), len(y)) {
		if x[i] != y[i] {
			return "line " + itoa(i+1) + ":\n- " + x[i] + "\n+ " + y[i]
		}
	}
	return "lengths differ"
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

// A record's draft is checked as the record is: only a published item has
// one, it has no status or draft of its own, its fields are valid and the
// items it names exist; a bad one names its field and changes nothing.
func TestDrafts_ImportRefusesBadDrafts(t *testing.T) {
	d := MustOpenDB(t)
	ctx := context.Background()
	var before bytes.Buffer
	if err := d.ExportTo(asEditor(), &before); err != nil {
		t.Fatal(err)
	}
	co := func(x db.CompanyDoc) *db.Content {
		return &db.Content{Format: db.ContentFormat, Companies: []db.CompanyDoc{x}}
	}
	cases := []struct {
		c     *db.Content
		field string
	}{
		{co(db.CompanyDoc{Slug: "acme", Name: "Acme", Status: db.StatusDraft, Draft: &db.CompanyDoc{Slug: "acme", Name: "Acme 2"}}), "companies[0].draft"},
		{co(db.CompanyDoc{Slug: "acme", Name: "Acme", Draft: &db.CompanyDoc{Slug: "acme", Name: "Acme 2", Status: db.StatusPublished}}), "companies[0].draft.status"},
		{co(db.CompanyDoc{Slug: "acme", Name: "Acme", Draft: &db.CompanyDoc{Slug: "acme", Name: "Acme 2", Draft: &db.CompanyDoc{Slug: "acme", Name: "x"}}}), "companies[0].draft.draft"},
		{co(db.CompanyDoc{Slug: "acme", Name: "Acme", Draft: &db.CompanyDoc{Slug: "acme", Name: " "}}), "companies[0].draft.name"},
		{&db.Content{Format: db.ContentFormat, Trends: []db.TrendDoc{{Slug: "t", Rank: 99, Name: "T", Category: "API",
			Draft: &db.TrendDoc{Slug: "t", Rank: 99, Name: "T", Category: "API", Companies: []string{"no-such-company"}}}}}, "trends[0].draft.companies"},
		{&db.Content{Format: db.ContentFormat, FAQs: []db.FAQDoc{{Slug: "q", Position: 99, Question: "Q?",
			Draft: &db.FAQDoc{Slug: "q", Position: 99, Question: "Q?", Trends: []string{"no-such-trend"}}}}}, "faqs[0].draft.trends"},
	}
	for _, tc := range cases {
		_, err := d.Import(ctx, tc.c, false)
		var de *db.Error
		if !errors.As(err, &de) || de.Code != db.EINVALID || de.Field != tc.field {
			t.Errorf("want EINVALID on %s, got %v", tc.field, err)
		}
	}
	var after bytes.Buffer
	if err := d.ExportTo(asEditor(), &after); err != nil {
		t.Fatal(err)
	}
	if before.String() != after.String() {
		t.Errorf("a refused import changed the content:\n%s", diffLines(before.String(), after.String()))
	}
}
