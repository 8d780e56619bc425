package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// pgCluster is a private PostgreSQL cluster the benchmark starts for
// itself (-db postgres): initdb into a temporary directory, a postmaster on
// a free loopback port, stopped and removed when the benchmark ends.
type pgCluster struct {
	binDir  string
	dir     string // data, socket and log live here
	port    int
	version string
	admin   string // URL of the postgres database as the superuser
	proc    *process
	cred    *syscall.Credential // the unprivileged user it runs as, when we are root
}

// pgBinDir finds the newest PostgreSQL server installed the Debian way
// (/usr/lib/postgresql/N/bin), or the one whose initdb is on PATH.
func pgBinDir() (string, error) {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool {
		vi, _ := strconv.Atoi(filepath.Base(filepath.Dir(dirs[i])))
		vj, _ := strconv.Atoi(filepath.Base(filepath.Dir(dirs[j])))
		return vi > vj
	})
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d, nil
		}
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(p), nil
	}
	return "", errors.New("-db postgres needs a PostgreSQL server (15 or newer): no initdb in /usr/lib/postgresql/*/bin or on PATH (Debian: apt-get install postgresql)")
}

// pgUser is the user the cluster runs as: PostgreSQL refuses to run as
// root, so as root the benchmark uses the "postgres" account the packages
// create, else "nobody". Not root: nil, the cluster runs as we do.
func pgUser() (*syscall.Credential, string, error) {
	if os.Geteuid() != 0 {
		return nil, "", nil
	}
	for _, name := range []string{"postgres", "nobody"} {
		u, err := user.Lookup(name)
		if err != nil {
			continue
		}
		uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
		gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
		if err1 != nil || err2 != nil || uid == 0 {
			continue
		}
		return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), NoSetGroups: true}, name, nil
	}
	return nil, "", errors.New("-db postgres as root needs an unprivileged account to run PostgreSQL as (postgres or nobody)")
}

// startPostgres creates and starts a private cluster. Its directory is
// removed by stop, which the caller defers at once (also on error).
func startPostgres(ctx context.Context, procs *processes, logf func(string, ...any)) (*pgCluster, error) {
	bin, err := pgBinDir()
	if err != nil {
		return nil, err
	}
	cred, who, err := pgUser()
	if err != nil {
		return nil, err
	}
	// Its own directory under the system's temporary directory (which
	// everyone may traverse), owned by the user PostgreSQL runs as; short,
	// for the Unix socket's path limit.
	dir, err := os.MkdirTemp("", "trendql-bench-pg-")
	if err != nil {
		return nil, err
	}
	c := &pgCluster{binDir: bin, dir: dir, cred: cred}
	if cred != nil {
		if err := os.Chown(dir, int(cred.Uid), int(cred.Gid)); err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
	}
	if out, err := c.command(ctx, "pg_config", "--version"); err == nil {
		c.version = strings.TrimSpace(strings.TrimPrefix(string(out), "PostgreSQL "))
	} else if out, err := c.command(ctx, "postgres", "--version"); err == nil {
		f := strings.Fields(string(out))
		c.version = f[len(f)-1]
	}
	if who != "" {
		logf("initdb (PostgreSQL %s in %s, as user %s)", c.version, dir, who)
	} else {
		logf("initdb (PostgreSQL %s in %s)", c.version, dir)
	}
	if out, err := c.command(ctx, "initdb", "-D", c.data(), "-A", "trust", "-U", "postgres", "-E", "UTF8", "--locale", "C", "--no-sync"); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("initdb: %w: %s", err, lastLines(string(out), 3))
	}
	// A port free now may be taken before the postmaster binds it: try a
	// few.
	for attempt := 0; ; attempt++ {
		if err := c.start(ctx, procs); err == nil {
			break
		} else if attempt == 4 || ctx.Err() != nil {
			c.stop()
			return nil, err
		}
	}
	logf("PostgreSQL ready on 127.0.0.1:%d", c.port)
	return c, nil
}

func (c *pgCluster) data() string { return filepath.Join(c.dir, "data") }

// command runs one of the server's programs to its end, as the cluster's
// user.
func (c *pgCluster) command(ctx context.Context, name string, args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(c.binDir, name), args...)
	cmd.Dir = c.dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Credential: c.cred}
	return cmd.CombinedOutput()
}

// start runs the postmaster on a free port and waits until it accepts
// connections.
func (c *pgCluster) start(ctx context.Context, procs *processes) error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	c.port = ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	logPath := filepath.Join(c.dir, "postgres.log")
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer logFile.Close()
	// Stock settings but for the address, the socket's directory and room
	// for the connections of a server, an import and the load's pool:
	// PostgreSQL's defaults are what a deployment starts from.
	cmd := exec.Command(filepath.Join(c.binDir, "postgres"), "-D", c.data(), "-p", strconv.Itoa(c.port),
		"-k", c.dir, "-c", "listen_addresses=127.0.0.1", "-c", "max_connections=200")
	cmd.Dir = c.dir
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: c.cred}
	pr, err := procs.start("postgres", cmd)
	if err != nil {
		return err
	}
	// SIGINT is PostgreSQL's fast shutdown: it ends the sessions instead of
	// waiting for them.
	pr.stopSignal = syscall.SIGINT
	c.proc = pr
	c.admin = fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", c.port)
	deadline := time.Now().Add(60 * time.Second)
	for {
		cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		conn, err := pgx.Connect(cctx, c.admin)
		cancel()
		if err == nil {
			conn.Close(ctx)
			return nil
		}
		select {
		case <-pr.done:
			b, _ := os.ReadFile(logPath)
			return fmt.Errorf("postgres exited (%v): %s", pr.cmd.ProcessState, lastLines(string(b), 3))
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("postgres did not accept connections within a minute: %v", err)
		}
	}
}

// createDatabase creates an empty database and returns its URL.
func (c *pgCluster) createDatabase(ctx context.Context, name string) (string, error) {
	conn, err := pgx.Connect(ctx, c.admin)
	if err != nil {
		return "", err
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		return "", err
	}
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", c.port, name), nil
}

// stop shuts the postmaster down (fast) and removes the cluster's
// directory.
func (c *pgCluster) stop() {
	if c.proc != nil {
		c.proc.stop()
	}
	os.RemoveAll(c.dir)
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " / ")
}
