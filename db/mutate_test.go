package db_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/trendql/trendql/db"
)

func ptr[T any](v T) *T { return &v }

// asEditor is a context whose caller holds an editor token (mutations
// return what the caller can see, and new items are drafts).
func asEditor() context.Context {
	return db.WithPrincipal(context.Background(), &db.Principal{TokenID: 1, Name: "test", Role: db.RoleEditor})
}

// A deleted item's id is never given to a new item: an old global id must
// not find a stranger, and revisions (keyed by type and id) must not mix
// two items' histories.
func TestCreate_IDsAreNeverReused(t *testing.T) {
	d := MustOpenDB(t)
	ctx := asEditor()
	a, err := d.CreateCompany(ctx, db.CompanyPatch{Name: ptr("Ephemeral")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Delete(ctx, db.TypeCompany, a.RowID, nil); err != nil {
		t.Fatal(err)
	}
	b, err := d.CreateCompany(ctx, db.CompanyPatch{Name: ptr("Newcomer")})
	if err != nil {
		t.Fatal(err)
	}
	if b.RowID == a.RowID {
		t.Fatalf("new company got the deleted company's id %d", a.RowID)
	}
	n, err := d.CountRevisions(ctx, db.TypeCompany, b.RowID)
	if err != nil || n != 1 {
		t.Fatalf("new company has %d revisions (%v), want its own CREATE only", n, err)
	}
}

// Restoring a deleted item brings it back under its own id, as a DRAFT,
// with the version after the one its deletion recorded.
func TestRestore_DeletedItemComesBackUnderItsOwnID(t *testing.T) {
	d := MustOpenDB(t)
	ctx := asEditor()
	c, err := d.CompanyBySlug(ctx, "spotify")
	if err != nil {
		t.Fatal(err)
	}
	page, err := d.Revisions(ctx, db.TypeCompany, c.RowID, db.PageArgs{})
	if err != nil || len(page.Items) != 1 {
		t.Fatalf("revisions = %v, %v", page, err)
	}
	created := page.Items[0]
	if _, err := d.Delete(ctx, db.TypeCompany, c.RowID, nil); err != nil {
		t.Fatal(err)
	}
	if _, _, err := d.Restore(ctx, created.ID, ptr(1)); db.ErrorCode(err) != db.ECONFLICT {
		t.Fatalf("restore with stale ifVersion: %v, want conflict", err)
	}
	typ, id, err := d.Restore(ctx, created.ID, ptr(2))
	if err != nil {
		t.Fatal(err)
	}
	back, err := d.Company(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if typ != db.TypeCompany || id != c.RowID || back.Status != db.StatusDraft || back.Version != 3 || back.Name != c.Name {
		t.Fatalf("restored %s %d: %+v; want company %d, DRAFT, version 3, name %q", typ, id, back, c.RowID, c.Name)
	}
}

// A blank name is the name's fault: the error names input.name, not the
// slug that could not be derived from it.
func TestCreate_BlankNameNamesTheNameField(t *testing.T) {
	d := MustOpenDB(t)
	for _, name := range []string{"", "   "} {
		_, err := d.CreateCompany(asEditor(), db.CompanyPatch{Name: ptr(name)})
		var e *db.Error
		if !errors.As(err, &e) || e.Code != db.EINVALID || e.Field != "input.name" {
			t.Errorf("name %q: err = %v, want invalid input.name", name, err)
		}
		_, err = d.CreateFAQ(asEditor(), db.FAQPatch{Question: ptr(name), Position: ptr(9)})
		if !errors.As(err, &e) || e.Code != db.EINVALID || e.Field != "input.question" {
			t.Errorf("question %q: err = %v, want invalid input.question", name, err)
		}
	}
}

// The audit log's since filter compares times, not strings: an event at
// 10:00:00.500Z is after 10:00:00Z and after 11:00:00.2+01:00, whatever
// the precision or offset the caller writes.
func TestEvents_SinceComparesTimes(t *testing.T) {
	d := MustOpenDB(t)
	ctx := asEditor()
	at := time.Date(2030, 1, 2, 10, 0, 0, 500*int(time.Millisecond), time.UTC)
	d.Now = func() time.Time { return at }
	if _, err := d.CreateCompany(ctx, db.CompanyPatch{Name: ptr("Later Co")}); err != nil {
		t.Fatal(err)
	}
	for since, want := range map[string]int{
		"2030-01-02T10:00:00Z":        1,
		"2030-01-02T11:00:00.2+01:00": 1,
		"2030-01-02T10:00:00.500Z":    1,
		"2030-01-02T10:00:00.501Z":    0,
		"2030-01-02T10:00:01Z":        0,
		"2030-01-02T09:00:01-01:00":   0,
	} {
		n, err := d.CountEvents(ctx, db.EventFilter{Since: ptr(since)})
		if err != nil || n != want {
			t.Errorf("since %s: %d events (%v), want %d", since, n, err, want)
		}
	}
	_, err := d.CountEvents(ctx, db.EventFilter{Since: ptr("yesterday")})
	var e *db.Error
	if !errors.As(err, &e) || e.Field != "filter.since" {
		t.Errorf("since yesterday: %v, want invalid filter.since", err)
	}
}

// Invalid UTF-8 cannot arrive over HTTP (JSON decoding replaces it with
// U+FFFD), but the db layer refuses it from any caller, naming the field.
func TestValidation_InvalidUTF8IsRefusedPerField(t *testing.T) {
	d := MustOpenDB(t)
	ctx := asEditor()
	bad := "caf\xe9"
	kind, cat := db.KindFramework, db.CategoryAPI
	cases := []struct {
		field string
		do    func() error
	}{
		{"input.name", func() error { _, err := d.CreateCompany(ctx, db.CompanyPatch{Name: &bad}); return err }},
		{"input.summary", func() error {
			_, err := d.CreateFramework(ctx, db.FrameworkPatch{Name: ptr("F"), Kind: &kind, Summary: &bad})
			return err
		}},
		{"input.highlights", func() error {
			_, err := d.CreateTrend(ctx, db.TrendPatch{Name: ptr("T"), Rank: ptr(50), Category: &cat, Highlights: &[]string{bad}})
			return err
		}},
		{"input.answer", func() error {
			_, err := d.CreateFAQ(ctx, db.FAQPatch{Question: ptr("Q?"), Position: ptr(50), Answer: &bad})
			return err
		}},
	}
	before, err := d.CountEvents(ctx, db.EventFilter{})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		var e *db.Error
		if err := c.do(); !errors.As(err, &e) || e.Code != db.EINVALID || e.Field != c.field {
			t.Errorf("%s: err = %v, want invalid %s", c.field, err, c.field)
		}
	}
	if after, _ := d.CountEvents(ctx, db.EventFilter{}); after != before {
		t.Errorf("events %d → %d: a refused write was recorded", before, after)
	}
}

// Deleting an item others list (a company that frameworks name) is also a
// change to each of them: an UNLINK event and a new version apiece, in the
// same transaction, so caches, subscribers and webhooks hear about it.
func TestDelete_UnlinksFromOwnersWithTheirOwnEvents(t *testing.T) {
	d := MustOpenDB(t)
	ctx := db.WithPrincipal(context.Background(), &db.Principal{Name: "ed", Role: db.RoleEditor})
	google, err := d.CompanyBySlug(ctx, "google")
	if err != nil {
		t.Fatal(err)
	}
	before := map[string]int{}
	for _, slug := range []string{"go", "spring-boot"} {
		f, err := d.FrameworkBySlug(ctx, slug)
		if err != nil {
			t.Fatal(err)
		}
		before[slug] = f.Version
	}
	last, _ := d.LastEventID(ctx)
	if _, err := d.Delete(ctx, db.TypeCompany, google.RowID, nil); err != nil {
		t.Fatal(err)
	}
	events, err := d.EventsAfter(ctx, last, 100)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range events {
		got = append(got, string(e.Type)+" "+e.Slug+" "+e.Action)
	}
	want := []string{"Framework go UNLINK", "Framework spring-boot UNLINK", "Trend spring-boot UNLINK", "Trend go UNLINK", "Company google DELETE"}
	if strings.Join(got, ", ") != strings.Join(want, ", ") {
		t.Errorf("events:\n%s\nwant\n%s", strings.Join(got, ", "), strings.Join(want, ", "))
	}
	for slug, v := range before {
		f, err := d.FrameworkBySlug(ctx, slug)
		if err != nil {
			t.Fatal(err)
		}
		if f.Version != v+1 {
			t.Errorf("%s version %d, want %d", slug, f.Version, v+1)
		}
		cs, err := d.CompaniesOfFrameworks(ctx, []int64{f.RowID})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range cs[f.RowID] {
			if c.Slug == "google" {
				t.Errorf("%s still lists google", slug)
			}
		}
	}
}
