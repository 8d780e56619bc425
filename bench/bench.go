package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/trendql/trendql/bench/benchdata"
	"github.com/trendql/trendql/db"
)

// bench is one benchmark run.
type bench struct {
	cfg   *config
	root  string
	tmp   string
	procs *processes
	logf  func(string, ...any)

	bin, dbPath string     // dbPath: an SQLite file or a postgres:// URL
	pg          *pgCluster // with -db postgres
	serveHelp   string
	server      *process
	base        string // http://127.0.0.1:PORT of trendql
	pprofBase   string // http://ADDR of the server's pprof, when on
}

func (b *bench) run(ctx context.Context) (*report, error) {
	rep := &report{cfg: b.cfg, date: time.Now()}
	rep.goVersion, rep.gomaxprocs = environment()

	b.bin = filepath.Join(b.tmp, "trendql")
	b.dbPath = filepath.Join(b.tmp, "bench.db")
	b.logf("building the server")
	if out, _, code, err := runCmd(ctx, 5*time.Minute, b.root, "go", "build", "-o", b.bin, "."); err != nil || code != 0 {
		return nil, fmt.Errorf("go build: exit %d %v %s", code, err, out)
	}
	if b.cfg.engine == "postgres" {
		pg, err := startPostgres(ctx, b.procs, b.logf)
		if err != nil {
			return nil, err
		}
		b.pg = pg
		rep.engine = "PostgreSQL " + pg.version + ", a private cluster started for the run (stock settings, 127.0.0.1)"
		if b.dbPath, err = pg.createDatabase(ctx, "trendql_bench"); err != nil {
			return nil, fmt.Errorf("create database: %w", err)
		}
	} else {
		rep.engine = "SQLite (a file in a temporary directory)"
	}
	if err := b.load(ctx, rep); err != nil {
		return nil, err
	}
	token, tokenErr := b.editorToken(ctx)
	if err := b.startServer(ctx, rep); err != nil {
		return nil, err
	}

	q3Body, err := do(ctx, target(b.base, readQueries[2], cached, false, 0))
	if err != nil {
		b.logf("q3 answers with an error (%v); the ceiling serves a 16 KB stand-in", err)
		q3Body = []byte(`{"data":{"trends":{"nodes":[{"body":"` + strings.Repeat("x", 16000) + `"}]}}}`)
	}

	for _, q := range readQueries {
		for _, m := range []mode{uncached, cached} {
			name := q.name
			if m == cached {
				name += "-cached"
			}
			if !b.cfg.selected(name) {
				continue
			}
			get := m == cached && b.cfg.cachedGET
			q, m := q, m
			rep.rows = append(rep.rows, b.measure(ctx, name, b.cfg.conns, func(n int64) vegeta.Target {
				return target(b.base, q, m, get, n)
			}))
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
		}
	}
	for _, g := range growthRows {
		if !b.cfg.selected(g.q.name) {
			continue
		}
		q := g.q
		rep.rows = append(rep.rows, b.measure(ctx, q.name, g.connections(b.cfg.conns), func(n int64) vegeta.Target {
			return target(b.base, q, uncached, false, n)
		}))
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
	}
	if b.cfg.selected("mix") {
		rep.rows = append(rep.rows, b.mix(ctx, token, tokenErr))
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
	}
	// The server's high-water mark covers the whole run so far; read it
	// before the ceiling, which is another process.
	if n, err := procStatus(b.server.cmd.Process.Pid, "VmHWM"); err == nil {
		rep.peakRSS = n
	}
	if b.cfg.selected("ceiling") {
		row, err := b.ceiling(ctx, q3Body)
		if err != nil {
			return nil, err
		}
		rep.rows = append(rep.rows, row)
	}
	return rep, ctx.Err()
}

// load converts the data set and imports it into a new, unseeded database:
// through `trendql import` when the binary has it, else with db.Import
// in this process.
func (b *bench) load(ctx context.Context, rep *report) error {
	b.logf("converting %s", b.cfg.data)
	contentPath := filepath.Join(b.tmp, "content.json")
	c, counts, err := writeScaledContent(b.cfg.data, b.cfg.scale, contentPath)
	if err != nil {
		return err
	}
	rep.counts = counts

	help, helpErr, _, _ := runCmd(ctx, 30*time.Second, b.tmp, b.bin, "import", "-h")
	help += helpErr
	if !strings.Contains(help, "unknown command") && strings.Contains(help, "-no-seed") && strings.Contains(help, "-db") {
		b.logf("importing with `trendql import`")
		m, _, err := runMeasured(ctx, 10*time.Minute, b.tmp, io.Discard, b.bin, "import", "--db", b.dbPath, "--no-seed", contentPath)
		if err == nil {
			rep.importTime, rep.importRSS, rep.importPath = m.elapsed, m.maxRSS, "`trendql import` (process start to exit)"
			if st, err := os.Stat(contentPath); err == nil {
				rep.contentBytes = st.Size()
			}
			return b.export(ctx, rep)
		}
		if b.pg != nil {
			// Every binary that knows PostgreSQL has the import command.
			return err
		}
		b.logf("`trendql import` failed (%v); importing in-process instead", err)
		for _, suffix := range []string{"", "-wal", "-shm"} {
			os.Remove(b.dbPath + suffix)
		}
	}
	b.logf("importing with db.Import (the binary has no `import --no-seed` yet)")
	start := time.Now()
	d, created, err := db.Open(ctx, b.dbPath, db.Options{})
	if err != nil {
		return err
	}
	if !created {
		d.Close()
		return fmt.Errorf("%s already existed", b.dbPath)
	}
	if _, err := d.Import(ctx, c, false); err != nil {
		d.Close()
		return fmt.Errorf("import: %w", err)
	}
	if err := d.Close(); err != nil {
		return err
	}
	rep.importTime, rep.importPath = time.Since(start), "db.Open + db.Import in-process (no `trendql import` yet)"
	return nil
}

// export times `trendql export` of the imported database into a file,
// with its peak RSS.
func (b *bench) export(ctx context.Context, rep *report) error {
	f, err := os.Create(filepath.Join(b.tmp, "export.json"))
	if err != nil {
		return err
	}
	defer f.Close()
	b.logf("exporting with `trendql export`")
	m, _, err := runMeasured(ctx, 10*time.Minute, b.tmp, f, b.bin, "export", "--db", b.dbPath)
	if err != nil {
		return err
	}
	rep.exportTime, rep.exportRSS = m.elapsed, m.maxRSS
	if st, err := f.Stat(); err == nil {
		rep.exportBytes = st.Size()
	}
	return nil
}

// writeContent converts (and scales) the data set and writes it as a
// content file, for measuring import and export by hand.
func writeContent(cfg *config, stderr io.Writer) error {
	_, counts, err := writeScaledContent(cfg.data, cfg.scale, cfg.writeContent)
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "bench: wrote %s: %s\n", cfg.writeContent, counts)
	return nil
}

// writeScaledContent reads the data set, grows it scale times and writes
// it to path as a content file; it returns the content and what it holds,
// counted.
func writeScaledContent(data string, scale int, path string) (*db.Content, string, error) {
	c, err := benchdata.ReadFile(data)
	if err != nil {
		return nil, "", err
	}
	c = benchdata.Scale(c, scale)
	f, err := os.Create(path)
	if err != nil {
		return nil, "", err
	}
	if err := json.NewEncoder(f).Encode(c); err != nil {
		f.Close()
		return nil, "", err
	}
	if err := f.Close(); err != nil {
		return nil, "", err
	}
	return c, fmt.Sprintf("%d companies, %d frameworks, %d trends, %d FAQs",
		len(c.Companies), len(c.Frameworks), len(c.Trends), len(c.FAQs)), nil
}

// editorToken creates an editor token with `trendql token create`, or says
// why it cannot.
func (b *bench) editorToken(ctx context.Context) (string, error) {
	out, errOut, code, err := runCmd(ctx, 30*time.Second, b.tmp, b.bin, "token", "create", "--name", "bench", "--role", "editor", "--db", b.dbPath)
	if err != nil || code != 0 {
		msg := strings.TrimSpace(firstLine(errOut))
		if msg == "" {
			msg = fmt.Sprintf("exit %d %v", code, err)
		}
		return "", fmt.Errorf("no editor token: `trendql token create` failed: %s", msg)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	tok := strings.TrimSpace(lines[len(lines)-1])
	if tok == "" {
		return "", fmt.Errorf("no editor token: `trendql token create` printed none")
	}
	return tok, nil
}

// startServer starts trendql on a free loopback port and times its first
// start: process start to /readyz answering 200.
func (b *bench) startServer(ctx context.Context, rep *report) error {
	// Flags print on stderr with -h; look at both streams.
	if h, e, _, _ := runCmd(ctx, 30*time.Second, b.tmp, b.bin, "serve", "-h"); h+e != "" {
		b.serveHelp = h + e
	}
	args := []string{"serve", "--addr", "127.0.0.1:0", "--db", b.dbPath}
	// One load generator on one address is not abuse: measure the server,
	// not its rate limiter.
	for _, f := range []string{"-rate-limit", "-token-rate-limit"} {
		if strings.Contains(b.serveHelp, f+" ") || strings.Contains(b.serveHelp, f+"\n") || strings.Contains(b.serveHelp, f+"\t") {
			args = append(args, "-"+f, "0")
		}
	}
	if b.cfg.pprofDir != "" {
		if !strings.Contains(b.serveHelp, "-pprof") {
			return fmt.Errorf("-pprof: this server has no --pprof flag")
		}
		addr, err := freeLoopbackAddr()
		if err != nil {
			return err
		}
		args = append(args, "--pprof", addr)
		b.pprofBase = "http://" + addr
	}
	logf, err := os.Create(filepath.Join(b.tmp, "server.log"))
	if err != nil {
		return err
	}
	cmd := exec.Command(b.bin, args...)
	cmd.Dir = b.tmp
	cmd.Stderr = logf
	cmd.Env = append(os.Environ(), b.cfg.serverEnv...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	start := time.Now()
	pr, err := b.procs.start("trendql", cmd)
	if err != nil {
		return err
	}
	addr, err := waitListening(ctx, pr, stdout, 60*time.Second)
	if err != nil {
		return fmt.Errorf("%w; see %s", err, logf.Name())
	}
	b.base = "http://" + addr
	if err := waitReady(ctx, pr, b.base+"/readyz", 60*time.Second); err != nil {
		return err
	}
	rep.firstStart = time.Since(start)
	b.server = pr
	b.logf("trendql ready at %s after %s", b.base, rep.firstStart.Round(time.Millisecond))
	return nil
}

// The server's counters that measure reads: SQL statements, and queries
// the compiled read path answered (absent from servers without one).
const (
	sqlMetric    = "trendql_db_queries_total"
	servedMetric = `trendql_fast_reads_total{outcome="served"}`
)

// measure preflights one request, warms up, and measures one row against
// trendql at conns connections: throughput, latency, SQL statements per
// request, RSS, and the share the compiled read path answered.
func (b *bench) measure(ctx context.Context, name string, conns int, next func(int64) vegeta.Target) row {
	r := row{name: name, server: true, conns: conns}
	if _, err := do(ctx, next(-1)); err != nil {
		r.err = err.Error()
		b.logf("%s: n/a (%s)", name, r.err)
		return r
	}
	b.logf("%s: warm-up %s, then %s at %d connections", name, b.cfg.warmup, b.cfg.duration, conns)
	l := newLoader(conns)
	defer l.close()
	if b.cfg.warmup > 0 {
		l.attack(ctx, name+"-warmup", next, b.cfg.warmup)
	}
	page0, errBefore := metrics(ctx, b.base)
	rss := sampleRSS(b.server.cmd.Process.Pid)
	prof := b.startProfile(ctx, name)
	cpu0 := takeCPU(b.ourPIDs()...)
	res := l.attack(ctx, name, next, b.cfg.duration)
	r.otherCPU = otherShare(cpu0, takeCPU(b.ourPIDs()...))
	prof()
	r.rss = rss.Stop()
	page1, errAfter := metrics(ctx, b.base)
	r.load = res
	if errBefore != nil || errAfter != nil || res.requests == 0 {
		return r
	}
	s0, err0 := metricValue(page0, sqlMetric)
	s1, err1 := metricValue(page1, sqlMetric)
	if err0 == nil && err1 == nil {
		r.sqlPerReq = (s1 - s0) / float64(res.requests)
		r.hasSQL = true
	}
	f0, err0 := metricValue(page0, servedMetric)
	f1, err1 := metricValue(page1, servedMetric)
	if err0 == nil && err1 == nil {
		r.fastShare = (f1 - f0) / float64(res.requests)
		r.hasFast = true
	}
	return r
}

// mix is the write-heavy mix: of every 10 requests, 9 are the read queries
// that answer (in turn, repeated as a client would) and 1 is mixMutation by
// an editor.
func (b *bench) mix(ctx context.Context, token string, tokenErr error) row {
	if tokenErr != nil {
		return row{name: "mix", server: true, err: tokenErr.Error()}
	}
	body, err := do(ctx, target(b.base, query{text: mixTrendsQuery}, cached, false, 0))
	if err != nil {
		return row{name: "mix", server: true, err: "listing trends: " + err.Error()}
	}
	var resp struct {
		Data struct {
			Trends struct {
				Nodes []struct{ ID string } `json:"nodes"`
			} `json:"trends"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &resp); err != nil || len(resp.Data.Trends.Nodes) == 0 {
		return row{name: "mix", server: true, err: "no trends to edit"}
	}
	ids := resp.Data.Trends.Nodes
	var reads []vegeta.Target
	for _, q := range readQueries {
		t := target(b.base, q, cached, false, 0)
		if _, err := do(ctx, t); err == nil {
			reads = append(reads, t)
		}
	}
	if len(reads) == 0 {
		return row{name: "mix", server: true, err: "no read query answers"}
	}
	auth := http.Header{"Content-Type": {"application/json"}, "Authorization": {"Bearer " + token}}
	next := func(n int64) vegeta.Target {
		if n >= 0 && n%10 != 9 {
			return reads[(n-n/10)%int64(len(reads))]
		}
		if n < 0 {
			n = 0
		}
		vars := map[string]any{"id": ids[(n/10)%int64(len(ids))].ID, "summary": fmt.Sprintf("Edited by the benchmark, request %d.", n)}
		body, _ := json.Marshal(map[string]any{"query": mixMutation, "variables": vars})
		return vegeta.Target{Method: http.MethodPost, URL: b.base + "/graphql", Body: body, Header: auth}
	}
	return b.measure(ctx, "mix", b.cfg.conns, next)
}

// ceiling loads the fixed-response server, answering q3's bytes.
func (b *bench) ceiling(ctx context.Context, body []byte) (row, error) {
	self, err := os.Executable()
	if err != nil {
		return row{}, err
	}
	bodyPath := filepath.Join(b.tmp, "q3.json")
	if err := os.WriteFile(bodyPath, body, 0o644); err != nil {
		return row{}, err
	}
	cmd := exec.Command(self, ceilingCommand, bodyPath)
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return row{}, err
	}
	pr, err := b.procs.start("ceiling", cmd)
	if err != nil {
		return row{}, err
	}
	defer pr.stop()
	addr, err := waitListening(ctx, pr, stdout, 30*time.Second)
	if err != nil {
		return row{}, err
	}
	base := "http://" + addr
	t := vegeta.Target{Method: http.MethodPost, URL: base + "/graphql", Body: postBody(readQueries[2], -1), Header: jsonHeader}
	r := row{name: "ceiling", conns: b.cfg.conns}
	if _, err := do(ctx, t); err != nil {
		r.err = err.Error()
		return r, nil
	}
	b.logf("ceiling: warm-up %s, then %s at %d connections", b.cfg.warmup, b.cfg.duration, b.cfg.conns)
	l := newLoader(b.cfg.conns)
	defer l.close()
	if b.cfg.warmup > 0 {
		l.attack(ctx, "ceiling-warmup", fixed(t), b.cfg.warmup)
	}
	rss := sampleRSS(pr.cmd.Process.Pid)
	cpu0 := takeCPU(b.ourPIDs(pr.cmd.Process.Pid)...)
	r.load = l.attack(ctx, "ceiling", fixed(t), b.cfg.duration)
	r.otherCPU = otherShare(cpu0, takeCPU(b.ourPIDs(pr.cmd.Process.Pid)...))
	r.rss = rss.Stop()
	return r, nil
}

// ourPIDs are the processes whose CPU time is the benchmark's own: this
// process, the server, extra, and PostgreSQL's postmaster with every
// backend it runs right now.
func (b *bench) ourPIDs(extra ...int) []int {
	pids := append([]int{os.Getpid(), b.server.cmd.Process.Pid}, extra...)
	if b.pg != nil && b.pg.proc != nil {
		pm := b.pg.proc.cmd.Process.Pid
		pids = append(pids, pm)
		pids = append(pids, childrenOf(pm)...)
	}
	return pids
}

// startProfile starts a CPU profile of the server for the row's duration
// when -pprof is on; the returned func waits for it, then saves an allocs
// profile (cumulative since the server started) beside it.
func (b *bench) startProfile(ctx context.Context, name string) (wait func()) {
	if b.pprofBase == "" {
		return func() {}
	}
	secs := int(b.cfg.duration.Round(time.Second).Seconds())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := fetchTo(ctx, fmt.Sprintf("%s/debug/pprof/profile?seconds=%d", b.pprofBase, max(1, secs)),
			filepath.Join(b.cfg.pprofDir, name+".cpu.pprof")); err != nil {
			b.logf("%s: cpu profile: %v", name, err)
		}
	}()
	return func() {
		<-done
		if err := fetchTo(ctx, b.pprofBase+"/debug/pprof/allocs", filepath.Join(b.cfg.pprofDir, name+".allocs.pprof")); err != nil {
			b.logf("%s: allocs profile: %v", name, err)
		}
	}
}

func fetchTo(ctx context.Context, url, path string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := (&http.Client{Timeout: 5 * time.Minute}).Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("HTTP %s", resp.Status)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := f.ReadFrom(resp.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}
