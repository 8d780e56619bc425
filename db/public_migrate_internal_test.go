package db

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trendql/trendql/db/dbtest"
)

// TestMigration5_KeepsTheOldRuleForOldEvents builds a version 4 database
// by hand (the migrations before this one, and events written the old
// way), opens it with this build, and checks that the old events keep the
// old visibility rule, are projected when read (no stored public form),
// and stay append-only; new events get a stored public form.
func TestMigration5_KeepsTheOldRuleForOldEvents(t *testing.T) {
	dbtest.SkipUnlessSQLite(t, "builds a version 4 SQLite file by hand")
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "v4.db")
	raw, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	ms, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec(fmt.Sprintf("PRAGMA application_id = %d", applicationID)); err != nil {
		t.Fatal(err)
	}
	for _, m := range ms[:4] {
		if _, err := raw.Exec(m.sql); err != nil {
			t.Fatalf("%s: %v", m.name, err)
		}
	}
	_, err = raw.Exec(`PRAGMA user_version = 4;
		INSERT INTO events (at, type, item_id, slug, action, version, status, actor, changed, document) VALUES
		('2024-01-01T00:00:00.000Z', 'Company', 1, 'open', 'PUBLISH', 2, 'PUBLISHED', 'ed', '["status"]', '{"slug":"open","name":"Open","status":"PUBLISHED"}'),
		('2024-01-01T00:00:01.000Z', 'Company', 2, 'hush', 'CREATE', 1, 'DRAFT', 'ed', '["name"]', '{"slug":"hush","name":"Hush","status":"DRAFT"}'),
		('2024-01-01T00:00:02.000Z', 'Company', 1, 'open', 'UNPUBLISH', 3, 'DRAFT', 'ed', '["status"]', '{"slug":"open","name":"Open","status":"DRAFT"}')`)
	if err != nil {
		t.Fatal(err)
	}
	raw.Close()

	d, created, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if created {
		t.Fatal("a version 4 database was taken for a new one")
	}
	page, err := d.Changes(ctx, 0, 100, ChangeFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range page.Events {
		got = append(got, e.Slug+":"+e.Action)
		if e.Actor != "" || e.Projected() {
			t.Errorf("old event %d: actor %q, projected %v", e.ID, e.Actor, e.Projected())
		}
	}
	if s := strings.Join(got, " "); s != "open:PUBLISH open:UNPUBLISH" || page.Next != 3 {
		t.Errorf("anonymous feed over old events: %s, next %d", s, page.Next)
	}
	if head, _ := d.ChangesCursor(ctx); head != 3 {
		t.Errorf("public head %d, want 3", head)
	}
	if _, err := d.write.ExecContext(ctx, "UPDATE events SET actor = 'x'"); err == nil || !strings.Contains(err.Error(), "append-only") {
		t.Errorf("events are not append-only after the migration: %v", err)
	}
	var plan string
	if err := d.write.QueryRowContext(ctx, "EXPLAIN QUERY PLAN SELECT max(id) FROM events WHERE public = 1").Scan(new(int), new(int), new(int), &plan); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(plan, "events_public") {
		t.Errorf("the public head is not read from its index: %s", plan)
	}
}
