package main

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/trendql/trendql/db"
	"github.com/trendql/trendql/db/dbtest"
)

// serve --event-retention prunes the event log in the background, keeping
// --keep-revisions per item; the environment sets the same, and a bad
// value is bad usage.
func TestServe_RetentionFlagsPruneTheEventLog(t *testing.T) {
	ctx := context.Background()
	path := dbtest.NewDSN(t)
	d, _, err := db.Open(ctx, path, db.Options{})
	if err != nil {
		t.Fatal(err)
	}
	long := time.Now().Add(-30 * 24 * time.Hour)
	d.Now = func() time.Time { return long }
	if err := d.Seed(ctx); err != nil {
		t.Fatal(err)
	}
	ed := db.WithPrincipal(ctx, &db.Principal{Name: "ed", Role: db.RoleEditor})
	c, err := d.CreateCompany(ed, db.CompanyPatch{Name: ptrTo("Old News")})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 8 {
		if _, err := d.UpdateCompany(ed, c.RowID, db.CompanyPatch{Name: ptrTo(fmt.Sprintf("Old News %d", i))}, nil); err != nil {
			t.Fatal(err)
		}
	}
	d.Close()

	s := startServer(t, map[string]string{"TRENDQL_KEEP_REVISIONS": "3"}, "--db", path, "--event-retention", "240h")
	raw := openRaw(t, path)
	deadline := time.Now().Add(60 * time.Second)
	for queryInt(t, raw, "SELECT count(*) FROM events WHERE type = 'Company' AND item_id = ?", c.RowID) != 3 {
		if time.Now().After(deadline) {
			t.Fatalf("the company still has %d events after 60 s; stderr: %s",
				queryInt(t, raw, "SELECT count(*) FROM events WHERE type = 'Company' AND item_id = ?", c.RowID), s.stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if n := queryInt(t, raw, "SELECT pruned_through FROM event_retention"); n == 0 {
		t.Error("the horizon did not move")
	}
	s.stop(t)
	if !strings.Contains(s.stderr.String(), "retention: pruned the event log") {
		t.Errorf("no log line about pruning: %s", s.stderr.String())
	}

	var stderr bytes.Buffer
	err = run(ctx, []string{"serve", "--db", path}, func(k string) string {
		if k == "TRENDQL_EVENT_RETENTION" {
			return "forever"
		}
		return ""
	}, strings.NewReader(""), &bytes.Buffer{}, &stderr)
	if code := exitCode(err, &stderr); code != 2 || !strings.Contains(stderr.String(), "TRENDQL_EVENT_RETENTION") {
		t.Errorf("TRENDQL_EVENT_RETENTION=forever: exit %d, %s", code, stderr.String())
	}
}

func ptrTo[T any](v T) *T { return &v }
