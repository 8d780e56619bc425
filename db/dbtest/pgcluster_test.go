package dbtest_test

import (
	"bufio"
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// scripts/pgcluster.sh, as CI and developers use it: start prints the two
// exports; the cluster answers on 127.0.0.1 with the settings the suite
// relies on; stop leaves nothing running and removes its directory.
func TestPGClusterScript_StartsAndStopsAPrivateCluster(t *testing.T) {
	bins, _ := filepath.Glob("/usr/lib/postgresql/*/bin/pg_ctl")
	if _, err := exec.LookPath("pg_ctl"); err != nil && len(bins) == 0 {
		const msg = "PostgreSQL's server binaries are not installed (apt-get install postgresql)"
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	script, err := filepath.Abs("../../scripts/pgcluster.sh")
	if err != nil {
		t.Fatal(err)
	}
	start := exec.Command(script, "start")
	// Above the default, so a developer's own cluster on 55432 is not
	// what the test finds taken.
	start.Env = append(os.Environ(), "PGCLUSTER_PORT=55470")
	out, err := start.Output()
	if err != nil {
		t.Fatalf("start: %v\n%s", err, stderrOf(err))
	}
	env := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	for sc.Scan() {
		k, v, ok := strings.Cut(strings.TrimPrefix(sc.Text(), "export "), "=")
		if !ok {
			t.Fatalf("start printed %q, not an export", sc.Text())
		}
		env[k] = strings.Trim(v, "'")
	}
	dir, url := env["TRENDQL_PGCLUSTER_DIR"], env["TRENDQL_TEST_POSTGRES"]
	if dir == "" || !strings.HasPrefix(url, "postgres://postgres@127.0.0.1:") {
		t.Fatalf("start printed:\n%s", out)
	}
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		if out, err := exec.Command(script, "stop", dir).CombinedOutput(); err != nil {
			t.Errorf("stop: %v\n%s", err, out)
		}
	}
	t.Cleanup(stop)

	ctx := context.Background()
	c, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	for setting, want := range map[string]string{"max_connections": "300", "fsync": "off", "listen_addresses": "127.0.0.1"} {
		var got string
		if err := c.QueryRow(ctx, "SELECT current_setting($1)", setting).Scan(&got); err != nil || got != want {
			t.Errorf("%s = %q, %v; want %q", setting, got, err, want)
		}
	}
	c.Close(ctx)
	addr := strings.TrimPrefix(url[:strings.LastIndex(url, "/")], "postgres://postgres@")

	stop()
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("stop left %s behind (%v)", dir, err)
	}
	if conn, err := net.DialTimeout("tcp", addr, 5*time.Second); err == nil {
		conn.Close()
		t.Errorf("something still listens on %s after stop", addr)
	}
}

func stderrOf(err error) string {
	if ee, ok := err.(*exec.ExitError); ok {
		return string(ee.Stderr)
	}
	return ""
}
