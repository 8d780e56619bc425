package main

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
)

// row is one line of the table.
type row struct {
	name      string
	server    bool   // measured against trendql (so SQL/req applies)
	err       string // why the row could not run: printed as n/a
	load      *loadResult
	sqlPerReq float64
	hasSQL    bool
	rss       int64   // largest VmRSS sampled during the row, bytes
	otherCPU  float64 // share of the machine's CPU other processes used meanwhile
	conns     int     // connections the row was loaded with
	// fastShare is the share of the row's requests that the compiled
	// read path answered (hasFast: the server counts them).
	fastShare float64
	hasFast   bool
}

// report is everything the run prints.
type report struct {
	cfg        *config
	rows       []row
	peakRSS    int64
	importTime time.Duration
	importRSS  int64
	importPath string
	exportTime time.Duration
	exportRSS  int64
	// contentBytes and exportBytes are the sizes of the imported file
	// and of the export.
	contentBytes, exportBytes int64
	counts                    string
	firstStart                time.Duration
	goVersion                 string
	gomaxprocs                int
	date                      time.Time
	engine                    string // what stores the data, for the footer
}

func (rep *report) ceilingRate() float64 {
	for _, r := range rep.rows {
		if r.name == "ceiling" && r.err == "" && r.load != nil {
			return r.load.okPerSec()
		}
	}
	return 0
}

// print writes the one markdown table and the lines under it.
func (rep *report) print(w io.Writer) {
	ceiling := rep.ceilingRate()
	method := "POST"
	if rep.cfg.cachedGET {
		method = "GET"
	}
	fmt.Fprintf(w, "\n| row | req/s | p50 | p99 | errors | SQL/req | bytes/resp | RSS max | %% of ceiling | other CPU |\n")
	fmt.Fprintf(w, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, r := range rep.rows {
		if r.err != "" {
			fmt.Fprintf(w, "| %s | n/a (error: %s) | | | | | | | | |\n", r.name, mdEscape(truncate(r.err, 100)))
			continue
		}
		l := r.load
		sql := "–"
		if r.hasSQL {
			sql = fmt.Sprintf("%.2f", r.sqlPerReq)
		}
		pct := "n/a"
		if ceiling > 0 {
			pct = fmt.Sprintf("%.0f%%", 100*l.okPerSec()/ceiling)
		}
		errs := fmt.Sprintf("%d", l.errors)
		if l.errors > 0 {
			errs += " (" + mdEscape(truncate(l.firstErr, 60)) + ")"
		}
		fmt.Fprintf(w, "| %s | %.0f | %s | %s | %s | %s | %.0f | %s | %s | %.0f%% |\n",
			r.name, l.okPerSec(), ms(l.p50), ms(l.p99), errs, sql, l.bytesMean, mib(r.rss), pct, 100*r.otherCPU)
	}
	fmt.Fprintln(w)
	if rep.peakRSS > 0 {
		fmt.Fprintf(w, "- peak RSS of the trendql server over the whole run (VmHWM): %s\n", mib(rep.peakRSS))
	}
	scale := ""
	if rep.cfg.scale > 1 {
		scale = fmt.Sprintf(", scaled %d×", rep.cfg.scale)
	}
	fmt.Fprintf(w, "- import of the large set%s (%s; %s of JSON): %s, peak RSS %s, via %s\n",
		scale, rep.counts, mib(rep.contentBytes), secs(rep.importTime), mib(rep.importRSS), rep.importPath)
	if rep.exportTime > 0 {
		fmt.Fprintf(w, "- export (`trendql export` to a file, %s): %s, peak RSS %s\n", mib(rep.exportBytes), secs(rep.exportTime), mib(rep.exportRSS))
	}
	fmt.Fprintf(w, "- first start (process start → /readyz 200): %s\n", ms(rep.firstStart))
	if rep.engine != "" {
		fmt.Fprintf(w, "- database: %s\n", rep.engine)
	}
	fmt.Fprintf(w, "- %d connections%s, %s per row after a %s warm-up; cached rows by %s; load generator vegeta (rate 0, as many workers as connections)\n",
		rep.cfg.conns, rep.otherConns(), rep.cfg.duration, rep.cfg.warmup, method)
	if s := rep.fastShares(); s != "" {
		fmt.Fprintf(w, "- answered by the compiled read path (`%s` during the load, per request): %s\n", servedMetric, s)
	}
	if len(rep.cfg.serverEnv) > 0 {
		fmt.Fprintf(w, "- server environment: %s\n", strings.Join(rep.cfg.serverEnv, " "))
	}
	fmt.Fprintf(w, "- %s, GOMAXPROCS %d, %s\n", rep.goVersion, rep.gomaxprocs, rep.date.Format("2006-01-02 15:04 MST"))
	worst := row{}
	for _, r := range rep.rows {
		if r.err == "" && r.otherCPU > worst.otherCPU {
			worst = r
		}
	}
	if worst.otherCPU > 0.05 {
		fmt.Fprintf(w, "- WARNING: other processes used %.0f%% of the machine's CPU during %s (the most of any row); the figures are lower than on an idle machine\n",
			100*worst.otherCPU, worst.name)
	} else {
		fmt.Fprintf(w, "- the machine was otherwise idle: other processes used under 5%% of its CPU during every row\n")
	}
	for _, r := range rep.rows {
		if r.err == "" && r.hasSQL && !strings.HasSuffix(r.name, "-cached") && r.name != "mix" && r.sqlPerReq < 0.5 {
			fmt.Fprintf(w, "- note: %s ran %.2f SQL statements per request: a cache answered it, so it is not an uncached figure\n", r.name, r.sqlPerReq)
		}
	}
}

// otherConns names the rows loaded at another count than -conns, as
// " (q2-128: 128)".
func (rep *report) otherConns() string {
	var l []string
	for _, r := range rep.rows {
		if r.err == "" && r.conns > 0 && r.conns != rep.cfg.conns {
			l = append(l, fmt.Sprintf("%s: %d", r.name, r.conns))
		}
	}
	if len(l) == 0 {
		return ""
	}
	return " (" + strings.Join(l, ", ") + ")"
}

// fastShares lists the share of each uncached read row that the compiled
// read path answered, or "" when the server does not count them. Cached
// rows are the response cache's, and the mix's writes are never compiled.
func (rep *report) fastShares() string {
	var l []string
	for _, r := range rep.rows {
		if r.err == "" && r.hasFast && !strings.HasSuffix(r.name, "-cached") && r.name != "mix" {
			// Rounded down, so that a row with a few fallbacks never reads 100%.
			l = append(l, fmt.Sprintf("%s %s%%", r.name, strconv.FormatFloat(math.Floor(1000*r.fastShare)/10, 'f', -1, 64)))
		}
	}
	return strings.Join(l, ", ")
}

func ms(d time.Duration) string {
	switch {
	case d <= 0:
		return "–"
	case d < 10*time.Millisecond:
		return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond))
	default:
		return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond))
	}
}

func secs(d time.Duration) string { return fmt.Sprintf("%.2f s", d.Seconds()) }

func mib(n int64) string {
	if n <= 0 {
		return "–"
	}
	return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
}

func truncate(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

func mdEscape(s string) string { return strings.ReplaceAll(s, "|", `\|`) }
