package db

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	"github.com/trendql/trendql/db/dbtest"
)

// A database left at schema version 6 (full documents on every event,
// webhook deliveries referring to events) migrates forward: every event
// and its document kept, deliveries still pointing at their events, foreign
// keys whole, the log append-only except for retention, and writes after
// the migration fill documents in as usual.
func TestMigrate_EventsTableRebuiltWithItsData(t *testing.T) {
	dbtest.SkipUnlessSQLite(t, "builds a version 6 SQLite file by hand")
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "v6.db")
	raw, err := sql.Open("sqlite", dsn(path, "_txlock=immediate"))
	if err != nil {
		t.Fatal(err)
	}
	raw.SetMaxOpenConns(1)
	old := &DB{path: path, write: raw, stmts: map[string]*sql.Stmt{}, Now: time.Now}
	ms, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms[:6] {
		if err := old.applyMigration(ctx, m, m.version == 1); err != nil {
			t.Fatalf("%s: %v", m.name, err)
		}
	}
	now := "2024-01-29T00:00:00.000Z"
	for _, q := range []string{
		"INSERT INTO companies (id, slug, name, status, version, created_at, updated_at) VALUES (1, 'acme', 'Acme', 'PUBLISHED', 2, '" + now + "', '" + now + "')",
		`INSERT INTO events (at, type, item_id, slug, action, version, status, actor, changed, document) VALUES
			('` + now + `', 'Company', 1, 'acme', 'CREATE', 1, 'DRAFT', 'cli', '["name"]', '{"slug":"acme","name":"Acme","status":"DRAFT"}'),
			('` + now + `', 'Company', 1, 'acme', 'PUBLISH', 2, 'PUBLISHED', 'cli', '["status"]', '{"slug":"acme","name":"Acme","status":"PUBLISHED"}')`,
		"INSERT INTO webhooks (id, url, secret, created_at, updated_at) VALUES (1, 'https://hooks.example.com', 's', '" + now + "', '" + now + "')",
		"INSERT INTO webhook_deliveries (webhook_id, event_id, status, created_at, updated_at) VALUES (1, 2, 'succeeded', '" + now + "', '" + now + "')",
	} {
		if _, err := raw.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	raw.Close()

	d, created, err := Open(ctx, path, Options{})
	if err != nil || created {
		t.Fatalf("open v6: created %v, %v", created, err)
	}
	defer d.Close()
	var version, events, fk int
	d.write.QueryRow("PRAGMA user_version").Scan(&version)
	d.write.QueryRow("SELECT count(*) FROM events WHERE document IS NOT NULL").Scan(&events)
	d.write.QueryRow("SELECT count(*) FROM pragma_foreign_key_check").Scan(&fk)
	if version != SchemaVersion() || events != 2 || fk != 0 {
		t.Fatalf("after migrating: version %d, %d events with documents, %d foreign key problems", version, events, fk)
	}
	var fkOn int
	d.write.QueryRow("PRAGMA foreign_keys").Scan(&fkOn)
	if fkOn != 1 {
		t.Error("foreign keys stay off after the migration")
	}
	x, err := d.Delivery(ctx, 1)
	if err != nil || x.EventID == nil || *x.EventID != 2 {
		t.Fatalf("delivery after migrating: %+v, %v", x, err)
	}
	if _, err := d.write.Exec("DELETE FROM events WHERE id = 1"); err == nil {
		t.Error("an event was deleted outside retention")
	}
	if _, err := d.write.Exec("UPDATE events SET document = '{}' WHERE id = 1"); err == nil {
		t.Error("a stored document was changed")
	}
	ed := WithPrincipal(ctx, &Principal{Name: "ed", Role: RoleEditor})
	if _, err := d.UpdateCompany(ed, 1, CompanyPatch{Name: ptrStr("Acme Corp")}, nil); err != nil {
		t.Fatal(err)
	}
	e, err := d.Event(ctx, 3)
	if err != nil || e.Version != 3 || string(e.Document) != `{"slug":"acme","name":"Acme Corp","status":"PUBLISHED"}` {
		t.Errorf("the new event: %+v, %v", e, err)
	}
}
