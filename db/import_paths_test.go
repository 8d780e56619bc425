package db_test

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/trendql/trendql/db"
	"github.com/trendql/trendql/db/dbtest"
)

// importSteps is a sequence of imports that exercises what the public
// forms of events depend on: drafts linked from published items, items
// published or taken back to draft by a later import and linked in the
// same file, links to stored items the file does not mention, new,
// updated and unchanged items.
func importSteps() []*db.Content {
	first := streamSet()
	second := streamSet()
	for i := range second.Companies {
		switch i % 11 {
		case 0: // a draft of the first import is published
			second.Companies[i].Status = db.StatusPublished
		case 3: // a published company goes back to draft
			second.Companies[i].Status = db.StatusDraft
		case 5:
			second.Companies[i].Name += " renamed"
		}
	}
	// Half the companies are not in the second file: stored items, linked
	// from it, whose status only the database knows.
	second.Companies = second.Companies[:len(second.Companies)/2]
	for i := range second.Frameworks {
		f := &second.Frameworks[i]
		switch i % 9 {
		case 1:
			f.Status = db.StatusDraft
		case 2:
			if s := first.Companies[(i*3+1)%len(first.Companies)].Slug; !slices.Contains(f.Companies, s) {
				f.Companies = append(f.Companies, s)
			}
		case 4:
			f.Companies = nil
		case 6:
			f.Summary += " Now with more."
		}
	}
	second.Frameworks = append(second.Frameworks, db.FrameworkDoc{
		Slug: "late-framework", Name: "Late Framework", Kind: db.KindFramework, Summary: "Links stored drafts.",
		Companies: []string{first.Companies[len(first.Companies)-7].Slug, first.Companies[len(first.Companies)-14].Slug},
		Status:    db.StatusPublished,
	})
	for i := range second.Trends {
		tr := &second.Trends[i]
		if i%4 == 1 {
			tr.Status = db.StatusPublished
		}
		if s := second.Frameworks[(i*5+1)%len(second.Frameworks)].Slug; i%6 == 2 && !slices.Contains(tr.Frameworks, s) {
			tr.Frameworks = append(tr.Frameworks, s)
		}
	}
	second.FAQs[0].Trends = append(second.FAQs[0].Trends, second.Trends[1].Slug, second.Trends[0].Slug)
	second.FAQs[1].Status = db.StatusDraft
	return []*db.Content{first, second}
}

// The bulk import (from bulkImportRecords records on: statuses from a
// cache, the search indexes rebuilt at the end) writes exactly what the
// per-record path writes: the same event log, every column of every
// event, byte for byte; the same search results, scores and snippets for
// anonymous callers and token holders; the same content.
func TestImport_BulkPathEqualsPerRecordPath(t *testing.T) {
	ctx := context.Background()
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	open := func() *db.DB {
		d, _, err := db.Open(ctx, dbtest.NewDSN(t), db.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { d.Close() })
		d.Now = func() time.Time { return at }
		return d
	}
	bulk, general := open(), open()
	for i, c := range importSteps() {
		if _, err := bulk.Import(ctx, c, false); err != nil {
			t.Fatalf("bulk import %d: %v", i, err)
		}
		restore := db.SetBulkImportRecords(1 << 30)
		_, err := general.Import(ctx, c, false)
		restore()
		if err != nil {
			t.Fatalf("per-record import %d: %v", i, err)
		}
		at = at.Add(time.Hour)
	}

	want, got := eventRows(t, general), eventRows(t, bulk)
	if len(want) < 3000 {
		t.Fatalf("only %d events: the steps do not exercise the bulk path", len(want))
	}
	if len(got) != len(want) {
		t.Fatalf("bulk import wrote %d events, the per-record path %d", len(got), len(want))
	}
	var withPublicForm int
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("event %d differs:\nbulk:       %s\nper-record: %s", i+1, got[i], want[i])
		}
		if strings.Contains(want[i], `"public_document":"`) {
			withPublicForm++
		}
	}
	if withPublicForm == 0 {
		t.Fatal("no event has a public form of its own: the steps link no draft")
	}

	if a, b := schemaOf(t, bulk), schemaOf(t, general); !reflect.DeepEqual(a, b) {
		t.Fatalf("the two paths left different schemas:\nbulk:       %v\nper-record: %v", a, b)
	}
	if exportString(t, bulk) != exportString(t, general) {
		t.Fatal("the two paths left different content")
	}
	editor := db.WithPrincipal(ctx, &db.Principal{TokenID: 1, Name: "ed", Role: db.RoleEditor})
	first := 100
	for _, q := range []string{"framework", "company renamed", "routing orm", "django", "more", "late", "creator 12", "backend teams", "python", "which"} {
		for _, who := range []context.Context{ctx, editor} {
			w, errW := general.Search(who, q, nil, db.PageArgs{First: &first})
			g, errG := bulk.Search(who, q, nil, db.PageArgs{First: &first})
			if errW != nil || errG != nil {
				t.Fatalf("search %q: %v, %v", q, errW, errG)
			}
			if len(w.Items) == 0 {
				t.Fatalf("search %q finds nothing: a useless comparison", q)
			}
			if a, b := hits(g.Items), hits(w.Items); !reflect.DeepEqual(a, b) {
				t.Fatalf("search %q (editor: %v) differs:\nbulk:       %v\nper-record: %v", q, who != ctx, a, b)
			}
		}
	}
}

// eventRows returns every event, all its columns, as one JSON array each.
func eventRows(t *testing.T, d *db.DB) []string {
	t.Helper()
	rows, err := dbtest.RawSQL(t, d.Path()).Query("SELECT * FROM events ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		for i, c := range cols {
			if v, ok := vals[i].([]byte); ok {
				vals[i] = string(v)
			}
			fmt.Fprintf(&b, "%q:%#v ", c, vals[i])
		}
		out = append(out, b.String())
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func hits(l []*db.SearchHit) []string {
	out := make([]string, len(l))
	for i, h := range l {
		out[i] = fmt.Sprintf("%s %v %s", h.Node.ID(), h.Score, h.Snippet)
	}
	return out
}

// schemaOf returns the database's schema: every table, index, view and
// trigger with its SQL, by name.
func schemaOf(t *testing.T, d *db.DB) []string {
	t.Helper()
	q := "SELECT type, name, tbl_name, coalesce(sql, '') FROM sqlite_schema ORDER BY name"
	if dbtest.Engine() == dbtest.Postgres {
		q = `SELECT 'column', (table_name || '.' || column_name)::text, table_name::text, data_type::text
			FROM information_schema.columns WHERE table_schema = current_schema()
		UNION ALL SELECT 'index', indexname::text, tablename::text, indexdef FROM pg_indexes WHERE schemaname = current_schema()
		UNION ALL SELECT 'view', viewname::text, viewname::text, definition FROM pg_views WHERE schemaname = current_schema()
		UNION ALL SELECT 'trigger', tgname::text, tgrelid::regclass::text, pg_get_triggerdef(oid) FROM pg_trigger WHERE NOT tgisinternal
		ORDER BY 2`
	}
	rows, err := dbtest.RawSQL(t, d.Path()).Query(q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var typ, name, tbl, q string
		if err := rows.Scan(&typ, &name, &tbl, &q); err != nil {
			t.Fatal(err)
		}
		out = append(out, typ+" "+name+" "+tbl+" "+q)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}
