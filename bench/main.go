// Command bench is trendql's reproducible load benchmark. From the repository
// root:
//
//	go run ./bench [-db sqlite|postgres] [-duration 10s] [-warmup 2s] [-conns 32] [-only q2,q2-cached] [-scale 10]
//
// It builds the server, loads the shared load-test set into a fresh database
// (no article seed): an SQLite file, or with -db postgres a database in a
// private PostgreSQL cluster it starts for the run, starts the server on a free loopback port, loads each
// reference query with vegeta at a fixed number of connections, loads a
// trivial fixed-response server the same way as the machine's ceiling, and
// prints one markdown table. bench/README.md explains every column.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"
)

func main() {
	// The ceiling server is this same binary, re-executed.
	if len(os.Args) > 1 && os.Args[1] == ceilingCommand {
		if err := serveCeiling(os.Args[2:]); err != nil {
			fmt.Fprintf(os.Stderr, "bench ceiling: %v\n", err)
			os.Exit(1)
		}
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	interrupted := ctx.Err() != nil // before stop(), which cancels ctx
	stop()
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
	case interrupted:
		fmt.Fprintln(os.Stderr, "bench: interrupted; every process it started was stopped")
		os.Exit(130)
	default:
		fmt.Fprintf(os.Stderr, "bench: %v\n", err)
		os.Exit(1)
	}
}

// config is the command line.
type config struct {
	duration, warmup time.Duration
	conns            int
	data             string
	scale            int
	writeContent     string
	keep             bool
	only             map[string]bool
	pprofDir         string
	cachedGET        bool
	serverEnv        []string
	engine           string // "sqlite" or "postgres"
}

// rowNames are the table's rows, in the order they run.
var rowNames = []string{
	"q1", "q1-cached", "q2", "q2-cached", "q3", "q3-cached", "q4", "q4-cached",
	"q2-100", "nested3", "q2-128", "mix", "ceiling",
}

func parseConfig(args []string, stderr io.Writer) (*config, error) {
	c := &config{}
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.DurationVar(&c.duration, "duration", 10*time.Second, "how long each row is measured")
	fs.DurationVar(&c.warmup, "warmup", 2*time.Second, "unmeasured load before each row")
	fs.IntVar(&c.conns, "conns", 32, "concurrent connections (and in-flight requests) of every row but q2-128, which has 128")
	fs.StringVar(&c.data, "data", "../shared/bench/large.json.gz", "the load-test data set (trendql-bench-1); relative paths are from the repository root")
	fs.IntVar(&c.scale, "scale", 1, "grow the data set this many times (10 gives 20,000 companies, 100,000 frameworks, 50,000 trends) and also measure export and the peak RSS of import and export")
	fs.StringVar(&c.writeContent, "write-content", "", "only write the (scaled) data set as a trendql-content-1 file to this path and exit")
	fs.StringVar(&c.engine, "db", "sqlite", "the storage engine: sqlite (a file) or postgres (a private PostgreSQL cluster started for the run, from /usr/lib/postgresql/*/bin)")
	fs.BoolVar(&c.keep, "keep", false, "keep the temporary directory (binary, database, server log, profiles)")
	only := fs.String("only", "", "comma-separated rows to run (default all): "+strings.Join(rowNames, ","))
	fs.StringVar(&c.pprofDir, "pprof", "", "start the server with --pprof and write a CPU and an allocs profile per row into this directory")
	env := fs.String("server-env", "", "extra environment for the server only, comma-separated KEY=VALUE (e.g. GOGC=400,GOMEMLIMIT=48MiB)")
	method := fs.String("cached-method", "POST", "how the cached rows send their query: POST or GET (/graphql?query=…)")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: go run ./bench [flags]   (from the repository root)\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if c.scale < 1 || c.scale > 100 {
		return nil, errors.New("-scale must be between 1 and 100")
	}
	if c.duration <= 0 || c.warmup < 0 || c.conns <= 0 {
		return nil, errors.New("-duration and -conns must be positive, -warmup not negative")
	}
	switch c.engine {
	case "sqlite", "postgres":
	default:
		return nil, fmt.Errorf("-db must be sqlite or postgres, not %q", c.engine)
	}
	switch strings.ToUpper(*method) {
	case "POST":
	case "GET":
		c.cachedGET = true
	default:
		return nil, fmt.Errorf("-cached-method must be POST or GET, not %q", *method)
	}
	for _, kv := range strings.Split(*env, ",") {
		if kv = strings.TrimSpace(kv); kv == "" {
			continue
		}
		if !strings.Contains(kv, "=") {
			return nil, fmt.Errorf("-server-env: %q is not KEY=VALUE", kv)
		}
		c.serverEnv = append(c.serverEnv, kv)
	}
	if *only != "" {
		c.only = map[string]bool{}
		for _, r := range strings.Split(*only, ",") {
			r = strings.TrimSpace(r)
			if !contains(rowNames, r) {
				return nil, fmt.Errorf("-only: unknown row %q (rows: %s)", r, strings.Join(rowNames, ","))
			}
			c.only[r] = true
		}
	}
	return c, nil
}

func (c *config) selected(row string) bool { return c.only == nil || c.only[row] }

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

// run is the whole benchmark; every process it starts is stopped before it
// returns, whatever the outcome.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := parseConfig(args, stderr)
	if err != nil {
		return err
	}
	root, err := repoRoot()
	if err != nil {
		return err
	}
	if !filepath.IsAbs(cfg.data) {
		cfg.data = filepath.Join(root, cfg.data)
	}
	if _, err := os.Stat(cfg.data); err != nil {
		return fmt.Errorf("data set: %w (give its path with -data)", err)
	}
	if cfg.writeContent != "" {
		return writeContent(cfg, stderr)
	}
	tmp, err := os.MkdirTemp("", "trendql-bench-")
	if err != nil {
		return err
	}
	if cfg.keep {
		fmt.Fprintf(stderr, "bench: keeping %s\n", tmp)
	} else {
		defer os.RemoveAll(tmp)
	}
	if cfg.pprofDir != "" {
		if err := os.MkdirAll(cfg.pprofDir, 0o755); err != nil {
			return err
		}
	}
	procs := &processes{}
	logf := func(format string, a ...any) { fmt.Fprintf(stderr, "bench: "+format+"\n", a...) }
	b := &bench{cfg: cfg, root: root, tmp: tmp, procs: procs, logf: logf}
	defer func() {
		// trendql first, then PostgreSQL (stopAll goes backwards), then
		// the cluster's directory.
		procs.stopAll()
		if b.pg != nil {
			if cfg.keep {
				logf("keeping the PostgreSQL cluster's directory %s (stopped)", b.pg.dir)
				return
			}
			b.pg.stop()
		}
	}()
	rep, err := b.run(ctx)
	if err != nil {
		return err
	}
	rep.print(stdout)
	return nil
}

// repoRoot is the nearest directory upwards holding trendql's go.mod.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && strings.Contains(string(b), "module github.com/trendql/trendql\n") {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("run the benchmark from inside the trendql repository")
		}
		dir = parent
	}
}

// environment describes the machine for the report's footer.
func environment() (goVersion string, procs int) {
	return runtime.Version(), runtime.GOMAXPROCS(0)
}
