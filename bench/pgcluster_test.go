package main

import (
	"context"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// TestPostgresCluster starts the benchmark's private cluster for real,
// creates a database in it, connects to that database, and proves that
// stopping leaves nothing behind: no postmaster, no directory.
func TestPostgresCluster(t *testing.T) {
	if _, err := pgBinDir(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal(err)
		}
		t.Skipf("no PostgreSQL server installed: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	procs := &processes{}
	defer procs.stopAll()
	c, err := startPostgres(ctx, procs, t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	stopped := false
	defer func() {
		if !stopped {
			c.stop()
		}
	}()
	url, err := c.createDatabase(ctx, "trendql_bench")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(url, "127.0.0.1:") || !strings.HasSuffix(url, "/trendql_bench?sslmode=disable") {
		t.Errorf("database URL %q", url)
	}
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	var db, version string
	if err := conn.QueryRow(ctx, "SELECT current_database(), current_setting('server_version')").Scan(&db, &version); err != nil {
		t.Fatal(err)
	}
	conn.Close(ctx)
	if db != "trendql_bench" || !strings.HasPrefix(c.version, version[:2]) {
		t.Errorf("connected to %q, server %q; the cluster says version %q", db, version, c.version)
	}
	pid := c.proc.cmd.Process.Pid
	c.stop()
	stopped = true
	select {
	case <-c.proc.done:
	case <-time.After(10 * time.Second):
		t.Fatal("the postmaster is still running after stop")
	}
	if err := syscall.Kill(pid, 0); err == nil {
		t.Errorf("process %d still exists", pid)
	}
	if _, err := os.Stat(c.dir); !os.IsNotExist(err) {
		t.Errorf("the cluster's directory %s is still there (%v)", c.dir, err)
	}
}
