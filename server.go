// Command trendql serves the article "Top Backend Development Trends to
// Follow" as a headless GraphQL content API backed by SQLite or PostgreSQL.
//
// Usage:
//
//	trendql [serve] [--addr :8080] [--db ./trendql.db|postgres://…] [--cors-origins *] [--no-seed] [--no-webhooks]
//
// Run `trendql help` for every command.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/trendql/trendql/db"
	"github.com/trendql/trendql/graph"
	"github.com/trendql/trendql/webhook"
)

func main() {
	if serving(os.Args[1:]) {
		tuneGC(os.Getenv)
	}
	boundMemory(os.Args[1:], os.Getenv)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(exitCode(err, os.Stderr))
}

// Garbage collector defaults, unless GOGC or GOMEMLIMIT say otherwise.
// Serving allocates much short-lived memory (a request's resolved fields);
// collecting five times less often cut CPU per request by a third in the
// load benchmark, and the soft memory limit keeps the process under 64 MiB
// there (about 20 MiB of that is the binary's own code, and SQLite's
// memory sits outside the Go heap); 40 MiB gave about 15% more uncached
// throughput at about 69 MiB, 28 MiB made the collector thrash.
const (
	defaultGOGC       = 400
	defaultGOMEMLIMIT = 34 << 20
)

// serving reports whether the command line runs the server (the default
// command): the GC defaults suit a long-running server, not a one-off
// import that builds a large document in memory.
func serving(args []string) bool {
	return len(args) == 0 || strings.HasPrefix(args[0], "-") || args[0] == "serve"
}

func tuneGC(getenv func(string) string) {
	if getenv("GOGC") == "" {
		debug.SetGCPercent(defaultGOGC)
	}
	if getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(defaultGOMEMLIMIT)
		memoryLimitSet = true
	}
}

// followRowCache raises the soft memory limit by what the row cache
// holds, as it grows and shrinks: its rows live as long as the process, so
// a limit that left them out would make the collector run all the time
// once the cache filled up, and one raised by the whole budget at start
// would let short-lived garbage grow into memory the cache does not use.
func followRowCache(ctx context.Context, d *db.DB) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	var last int64
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		n := d.RowCacheStats().Bytes
		if n-last >= 1<<20 || last-n >= 1<<20 {
			debug.SetMemoryLimit(defaultGOMEMLIMIT + n)
			last = n
		}
	}
}

// memoryLimitSet says that tuneGC set the soft memory limit (GOMEMLIMIT
// did not), so serve may raise it by the row cache's budget.
var memoryLimitSet bool

// usageError is a mistake in the command line: exit code 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return &usageError{fmt.Sprintf(format, args...)} }

// exitCode prints err as one sentence on stderr and maps it to the
// contract's exit codes: 0 ok, 1 runtime failure, 2 bad usage.
func exitCode(err error, stderr io.Writer) int {
	if err == nil {
		return 0
	}
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	fmt.Fprintf(stderr, "trendql: %s\n", err)
	var ue *usageError
	if errors.As(err, &ue) {
		return 2
	}
	return 1
}

const usage = `trendql — the article "Top Backend Development Trends to Follow" as a GraphQL API.

Commands:
  serve     serve the API (the default when no command is given)
  token     create, list or revoke API tokens:
              token create --name NAME --role viewer|editor|admin [--expires 720h]
              token list
              token revoke ID
  export    write the whole content as JSON to stdout
  import    upsert a content file by slug, all or nothing: import [--dry-run] FILE|-
  backup    write a consistent copy of an SQLite database: backup OUT.db
            (on PostgreSQL it refuses: use pg_dump, or export for the content)
  help      show this help

Every command takes --db PATH, an SQLite file, or --db postgres://USER:PASSWORD@HOST/DB
for PostgreSQL (env TRENDQL_DB, default ./trendql.db); a new database is created
and filled with the article unless --no-seed is given.

Run "trendql COMMAND -h" for a command's flags.
`

// run is the whole program: main only wires it to the process. Tests call
// it directly with their own arguments, environment and streams.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	cmd := "serve"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		return runServe(ctx, args, getenv, stdout, stderr)
	case "token":
		return runToken(ctx, args, getenv, stdout, stderr)
	case "export":
		return runExport(ctx, args, getenv, stdout, stderr)
	case "import":
		return runImport(ctx, args, getenv, stdin, stdout, stderr)
	case "backup":
		return runBackup(ctx, args, getenv, stdout, stderr)
	case "help", "-h", "--help":
		io.WriteString(stdout, usage)
		return nil
	default:
		return usagef("unknown command %q; run \"trendql help\"", cmd)
	}
}

// envOr returns the environment variable's value, or def when it is unset.
func envOr(getenv func(string) string, key, def string) string {
	if v := getenv(key); v != "" {
		return v
	}
	return def
}

func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// parseFlags parses and turns flag errors into usage errors.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usagef("%s: %v", fs.Name(), err)
	}
	if fs.NArg() > 0 {
		return usagef("%s: unexpected argument %q", fs.Name(), fs.Arg(0))
	}
	return nil
}

// parseArgs parses flags wherever they stand among the arguments, so that
// "import FILE --db X" works as well as "import --db X FILE", and returns
// the positional arguments in order. "--" ends the flags.
func parseArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, usagef("%s: %v", fs.Name(), err)
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		// Parse stops at the first positional argument or just after "--".
		if i := len(args) - len(rest); i > 0 && args[i-1] == "--" {
			return append(pos, rest...), nil
		}
		pos, args = append(pos, rest[0]), rest[1:]
	}
}

// openDB opens (creating, migrating and, unless noSeed, seeding) the
// database at path.
func openDB(ctx context.Context, path string, noSeed bool, opts db.Options) (*db.DB, error) {
	d, created, err := db.Open(ctx, path, opts)
	if err != nil {
		return nil, err
	}
	if created {
		seed := d.Seed
		if noSeed {
			seed = d.SkipSeed
		}
		if err := seed(ctx); err != nil {
			d.Close()
			return nil, err
		}
	}
	return d, nil
}

type serveConfig struct {
	addr, dbPath, origins string
	noSeed                bool
	requestTimeout        time.Duration
	shutdownTimeout       time.Duration
	maxBody               int64
	noPlayground          bool
	noIntrospection       bool
	fastReads             bool
	logFormat             string
	noAccessLog           bool
	limits                graph.Limits
	rates                 graph.RateLimits
	cacheEntries          int
	rowCacheMiB           int
	searchCacheMiB        int
	caching               graph.HTTPCaching
	pprofAddr             string
	watchInterval         time.Duration
	scheduleInterval      time.Duration

	noWebhooks         bool
	webhookTimeout     time.Duration
	webhookLease       time.Duration
	webhookAttempts    int
	webhookBackoff     time.Duration
	webhookBackoffMax  time.Duration
	webhookConcurrency int
	webhookRetention   time.Duration
	webhookPrivate     bool
	retention          db.Retention
}

// envFlags registers flags whose defaults come from the environment, and
// remembers environment values that do not parse, so the command can
// refuse them as bad usage.
type envFlags struct {
	fs     *flag.FlagSet
	getenv func(string) string
	errs   []error
}

func (e *envFlags) duration(p *time.Duration, name, key string, def time.Duration, usage string) {
	if v := e.getenv(key); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			e.errs = append(e.errs, usagef("serve: %s must be a positive duration such as 10s, not %q", key, v))
		} else {
			def = d
		}
	}
	e.fs.DurationVar(p, name, def, usage+" (env "+key+")")
}

// bool registers a boolean flag whose default is key's value (true, false,
// 1, 0…); another value is a usage error rather than a silent guess.
func (e *envFlags) bool(p *bool, name, key string, usage string) {
	def := false
	if v := e.getenv(key); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			e.errs = append(e.errs, usagef("serve: %s must be true or false, not %q", key, v))
		} else {
			def = b
		}
	}
	e.fs.BoolVar(p, name, def, usage+" (env "+key+")")
}

// retention registers the event log's retention flags: a duration that may
// be 0 (keep for ever), and how many revisions each item keeps.
func (e *envFlags) retention(r *db.Retention) {
	def := time.Duration(db.DefaultEventRetention)
	if v := e.getenv("TRENDQL_EVENT_RETENTION"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			e.errs = append(e.errs, usagef("serve: TRENDQL_EVENT_RETENTION must be a duration such as 2160h (0 keeps events for ever), not %q", v))
		} else {
			def = d
		}
	}
	e.fs.DurationVar(&r.Events, "event-retention", def,
		"how long the event log (changes feed, audit log, revisions) keeps events, e.g. 2160h; 0 keeps them for ever (env TRENDQL_EVENT_RETENTION)")
	e.int(&r.KeepRevisions, "keep-revisions", "TRENDQL_KEEP_REVISIONS", db.DefaultKeepRevisions,
		"revisions each item keeps whatever their age, when --event-retention is set")
}

// size registers a flag of MiB that may be 0 (off).
func (e *envFlags) size(p *int, name, key string, def int, usage string) {
	if v := e.getenv(key); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			e.errs = append(e.errs, usagef("serve: %s must be a whole number of MiB (0: off), not %q", key, v))
		} else {
			def = n
		}
	}
	e.fs.IntVar(p, name, def, usage+" (env "+key+")")
}

func (e *envFlags) int(p *int, name, key string, def int, usage string) {
	if v := e.getenv(key); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			e.errs = append(e.errs, usagef("serve: %s must be a positive whole number, not %q", key, v))
		} else {
			def = n
		}
	}
	e.fs.IntVar(p, name, def, usage+" (env "+key+")")
}

func runServe(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var c serveConfig
	fs := newFlagSet("serve", stderr)
	fs.StringVar(&c.addr, "addr", envOr(getenv, "TRENDQL_ADDR", ":8080"), "listen address (env TRENDQL_ADDR)")
	dbFlag(fs, getenv, &c.dbPath)
	fs.StringVar(&c.origins, "cors-origins", envOr(getenv, "TRENDQL_CORS_ORIGINS", "*"), "comma-separated origins allowed cross-origin (env TRENDQL_CORS_ORIGINS)")
	fs.BoolVar(&c.noSeed, "no-seed", false, "do not fill a new database with the article")
	fs.DurationVar(&c.requestTimeout, "request-timeout", graph.DefaultRequestTimeout, "maximum time to answer one request")
	fs.DurationVar(&c.shutdownTimeout, "shutdown-timeout", 15*time.Second, "how long shutdown waits for in-flight requests")
	fs.Int64Var(&c.maxBody, "max-body", graph.DefaultMaxBodyBytes, "maximum request body in bytes (larger: HTTP 413)")
	fs.BoolVar(&c.noPlayground, "no-playground", getenv("TRENDQL_NO_PLAYGROUND") != "", "turn off the GraphiQL playground (env TRENDQL_NO_PLAYGROUND)")
	fs.BoolVar(&c.noIntrospection, "no-introspection", getenv("TRENDQL_NO_INTROSPECTION") != "", "turn off schema introspection (env TRENDQL_NO_INTROSPECTION)")
	fs.BoolVar(&c.fastReads, "fast-reads", getenv("TRENDQL_FAST_READS") != "false" && getenv("TRENDQL_FAST_READS") != "0",
		"answer read-only queries with the compiled read path; false: gqlgen executes everything (env TRENDQL_FAST_READS=false)")
	fs.BoolVar(&c.noAccessLog, "no-access-log", getenv("TRENDQL_NO_ACCESS_LOG") != "", "do not log each request (env TRENDQL_NO_ACCESS_LOG)")
	fs.StringVar(&c.logFormat, "log-format", envOr(getenv, "TRENDQL_LOG_FORMAT", "text"), "log format: text or json (env TRENDQL_LOG_FORMAT)")
	fs.IntVar(&c.limits.MaxDepth, "max-depth", graph.DefaultMaxDepth, "deepest field nesting of an operation (introspection exempt)")
	fs.IntVar(&c.limits.MaxCost, "max-cost", graph.DefaultMaxCost, "largest estimated cost of an operation")
	fs.IntVar(&c.limits.MaxAliases, "max-aliases", graph.DefaultMaxAliases, "most aliases in an operation")
	fs.IntVar(&c.limits.MaxRootFields, "max-root-fields", graph.DefaultMaxRootFields, "most top-level fields in an operation (after fragments apply)")
	fs.IntVar(&c.limits.MaxTokens, "max-tokens", graph.DefaultMaxTokens, "most tokens in a document, checked while parsing")
	fs.IntVar(&c.limits.MaxSelections, "max-selections", graph.DefaultMaxSelections, "most selections validation visits in a document (a fragment counts wherever it is spread)")
	fs.IntVar(&c.limits.MaxSelectionSetSize, "max-selection-set", graph.DefaultMaxSelectionSetSize, "most selections inside one pair of braces")
	fs.IntVar(&c.limits.MaxInputDepth, "max-input-depth", graph.DefaultMaxInputDepth, "deepest nesting of list and object values written in a document")
	fs.IntVar(&c.limits.MaxErrors, "max-errors", graph.DefaultMaxErrors, "most errors in one response (a last one says how many were left out)")
	fs.Float64Var(&c.rates.AnonymousRPS, "rate-limit", graph.DefaultAnonymousRPS, "rate-limit points per second per client IP without a token (0: off; an executed operation costs 1 + cost/100 points, a cached response 0.02)")
	fs.IntVar(&c.rates.AnonymousBurst, "rate-burst", graph.DefaultAnonymousBurst, "rate-limit points a client IP may spend at once")
	fs.Float64Var(&c.rates.TokenRPS, "token-rate-limit", graph.DefaultTokenRPS, "rate-limit points per second per API token (0: off)")
	fs.IntVar(&c.rates.TokenBurst, "token-rate-burst", graph.DefaultTokenBurst, "rate-limit points a token may spend at once")
	fs.Float64Var(&c.rates.AuthFailuresPerSecond, "auth-failure-rate", graph.DefaultAuthFailuresPerSecond, "failed authentications per second per client IP (0: off)")
	fs.IntVar(&c.rates.AuthFailureBurst, "auth-failure-burst", graph.DefaultAuthFailureBurst, "failed authentications a client IP may make at once")
	fs.IntVar(&c.rates.SubscriptionsPerConnection, "max-subscriptions-per-connection", graph.DefaultSubscriptionsPerConnection, "operations running at once on one websocket (0: no bound)")
	fs.IntVar(&c.rates.SubscriptionsPerClient, "max-subscriptions-per-client", graph.DefaultSubscriptionsPerClient, "subscriptions running at once per token, or per IP without one, over all websockets and SSE streams (0: no bound)")
	fs.BoolVar(&c.rates.TrustForwardedFor, "trust-forwarded-for", false, "take the client IP from X-Forwarded-For (only behind a proxy that sets it)")
	fs.IntVar(&c.cacheEntries, "response-cache", graph.DefaultResponseCacheEntries, "anonymous responses kept in memory (0: off)")
	fs.IntVar(&c.caching.PublicMaxAge, "cache-max-age", 0, "Cache-Control max-age of public responses, seconds (browsers revalidate with ETag)")
	fs.IntVar(&c.caching.SharedMaxAge, "cache-s-maxage", 30, "Cache-Control s-maxage of public responses, seconds (CDNs)")
	fs.StringVar(&c.pprofAddr, "pprof", "", "serve net/http/pprof on this address, e.g. 127.0.0.1:6060 (off when empty; never expose it)")
	ef := &envFlags{fs: fs, getenv: getenv}
	ef.duration(&c.watchInterval, "watch-interval", "TRENDQL_WATCH_INTERVAL", time.Second,
		"how often to look for changes other processes (import, another server) wrote, for subscriptions and webhooks")
	ef.duration(&c.scheduleInterval, "schedule-interval", "TRENDQL_SCHEDULE_INTERVAL", db.DefaultScheduleInterval,
		"longest wait before looking for schedules other processes set (this process's own wake it at once)")
	fs.BoolVar(&c.noWebhooks, "no-webhooks", getenv("TRENDQL_NO_WEBHOOKS") != "", "do not send webhooks from this process; deliveries queue for one that does (env TRENDQL_NO_WEBHOOKS)")
	ef.duration(&c.webhookTimeout, "webhook-timeout", "TRENDQL_WEBHOOK_TIMEOUT", webhook.DefaultTimeout, "time limit of one webhook request")
	ef.duration(&c.webhookLease, "webhook-lease", "TRENDQL_WEBHOOK_LEASE", 0,
		"how long a claimed webhook attempt is hidden from every replica's other claims; after it, an attempt whose process died is made again (default: --webhook-timeout plus 30s; must exceed --webhook-timeout)")
	ef.int(&c.webhookAttempts, "webhook-max-attempts", "TRENDQL_WEBHOOK_MAX_ATTEMPTS", webhook.DefaultMaxAttempts, "attempts before a webhook delivery is given up")
	ef.duration(&c.webhookBackoff, "webhook-backoff", "TRENDQL_WEBHOOK_BACKOFF", webhook.DefaultBackoffBase, "wait after a webhook's first failed attempt; doubles after each next one")
	ef.duration(&c.webhookBackoffMax, "webhook-backoff-max", "TRENDQL_WEBHOOK_BACKOFF_MAX", webhook.DefaultBackoffMax, "longest wait between webhook attempts")
	ef.duration(&c.webhookRetention, "webhook-retention", "TRENDQL_WEBHOOK_RETENTION", webhook.DefaultRetention, "how long finished (succeeded or dead) deliveries are kept")
	ef.bool(&c.webhookPrivate, "webhook-allow-private", "TRENDQL_WEBHOOK_ALLOW_PRIVATE",
		"let webhooks reach loopback, private and link-local addresses (local development only)")
	ef.int(&c.webhookConcurrency, "webhook-concurrency", "TRENDQL_WEBHOOK_CONCURRENCY", webhook.DefaultConcurrency, "webhook requests in flight at once")
	ef.retention(&c.retention)
	ef.size(&c.rowCacheMiB, "row-cache", "TRENDQL_ROW_CACHE", db.DefaultRowCacheBytes>>20,
		"MiB of memory for decoded content rows, so uncached reads ask the database only for ids and versions, and an eighth more on SQLite for anonymous relations (0: both off)")
	ef.size(&c.searchCacheMiB, "search-cache", "TRENDQL_SEARCH_CACHE", db.DefaultSearchCacheBytes>>20,
		"MiB of memory for ranked searches, kept until the next write, so a search asked again is not ranked again (0: off)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if len(ef.errs) > 0 {
		return ef.errs[0]
	}
	if c.retention.Events < 0 {
		return usagef("serve: --event-retention must not be negative (0 keeps events for ever)")
	}
	if c.retention.KeepRevisions < 1 {
		return usagef("serve: --keep-revisions must be at least 1 (an item's newest revision is always kept)")
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"--watch-interval", c.watchInterval}, {"--schedule-interval", c.scheduleInterval}, {"--webhook-timeout", c.webhookTimeout}, {"--webhook-backoff", c.webhookBackoff}, {"--webhook-backoff-max", c.webhookBackoffMax}} {
		if d.v <= 0 {
			return usagef("serve: %s must be positive", d.name)
		}
	}
	if c.webhookLease == 0 {
		c.webhookLease = c.webhookTimeout + 30*time.Second
	}
	if c.webhookLease <= c.webhookTimeout {
		// A shorter lease lets another replica start a second attempt of a
		// delivery whose first is still in flight.
		return usagef("serve: --webhook-lease (%s) must be longer than --webhook-timeout (%s)", c.webhookLease, c.webhookTimeout)
	}
	if c.webhookAttempts <= 0 || c.webhookConcurrency <= 0 {
		return usagef("serve: --webhook-max-attempts and --webhook-concurrency must be positive")
	}
	r := c.rates
	if r.AnonymousRPS < 0 || r.TokenRPS < 0 || r.AuthFailuresPerSecond < 0 || r.AnonymousBurst < 0 || r.TokenBurst < 0 ||
		r.AuthFailureBurst < 0 || r.SubscriptionsPerConnection < 0 || r.SubscriptionsPerClient < 0 {
		return usagef("serve: rate limits and subscription caps must not be negative (0 turns one off)")
	}
	var logger *slog.Logger
	switch c.logFormat {
	case "text":
		logger = slog.New(slog.NewTextHandler(stderr, nil))
	case "json":
		logger = slog.New(slog.NewJSONHandler(stderr, nil))
	default:
		return usagef("serve: --log-format must be text or json, not %q", c.logFormat)
	}

	if c.rowCacheMiB < 0 || c.rowCacheMiB > 1<<20 {
		return usagef("serve: --row-cache must be between 0 (off) and %d MiB, not %d", 1<<20, c.rowCacheMiB)
	}
	rowCache := int64(c.rowCacheMiB) << 20
	if rowCache == 0 {
		rowCache = -1 // off
	}
	if c.searchCacheMiB < 0 || c.searchCacheMiB > 1<<20 {
		return usagef("serve: --search-cache must be between 0 (off) and %d MiB, not %d", 1<<20, c.searchCacheMiB)
	}
	searchCache := int64(c.searchCacheMiB) << 20
	if searchCache == 0 {
		searchCache = -1 // off
	}
	d, err := openDB(ctx, c.dbPath, c.noSeed, db.Options{RowCacheBytes: rowCache, SearchCacheBytes: searchCache})
	if err != nil {
		return err
	}
	defer d.Close()
	if memoryLimitSet && rowCache > 0 {
		go followRowCache(ctx, d)
	}

	cacheEntries := c.cacheEntries
	if cacheEntries == 0 {
		cacheEntries = -1 // off
	}
	// Subscriptions end when shutdown starts: http.Server.Shutdown does not
	// wait for hijacked websockets, and would wait for SSE streams until
	// its deadline.
	streams, endStreams := context.WithCancel(context.Background())
	defer endStreams()
	h := graph.NewHandler(graph.Options{
		DB:                   d,
		Logger:               logger,
		CORSOrigins:          splitList(c.origins),
		MaxBodyBytes:         c.maxBody,
		RequestTimeout:       c.requestTimeout,
		DisablePlayground:    c.noPlayground,
		DisableIntrospection: c.noIntrospection,
		DisableAccessLog:     c.noAccessLog,
		DisableFastReads:     !c.fastReads,
		Limits:               c.limits,
		RateLimits:           c.rates,
		ResponseCacheEntries: cacheEntries,
		HTTPCaching:          c.caching,
		StreamContext:        streams,
	})
	ln, err := net.Listen("tcp", c.addr)
	if err != nil {
		return fmt.Errorf("cannot listen on %s: %w", c.addr, err)
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		// Subscription streams lift these for themselves (graph.withStreams).
		ReadTimeout:    c.requestTimeout + 10*time.Second,
		WriteTimeout:   c.requestTimeout + 10*time.Second,
		IdleTimeout:    2 * time.Minute,
		MaxHeaderBytes: 64 << 10,
		ErrorLog:       slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
		BaseContext:    func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	srv.RegisterOnShutdown(endStreams)

	// Background work that lives as long as the server: noticing other
	// processes' writes (a CLI import: for caches, subscriptions and
	// webhooks), the event log's retention, scheduled publishing, and
	// webhook deliveries.
	watch, endWatch := context.WithCancel(context.Background())
	watching := make(chan struct{})
	go func() {
		defer close(watching)
		d.WatchExternal(watch, c.watchInterval)
	}()
	defer func() {
		endWatch()
		<-watching
	}()
	pruning := make(chan struct{})
	go func() {
		defer close(pruning)
		d.RunRetention(watch, c.retention, logger)
	}()
	defer func() {
		endWatch()
		<-pruning
	}()
	// Scheduled publishing: what fell due while no server ran is applied
	// now, the rest on time.
	scheduling := make(chan struct{})
	go func() {
		defer close(scheduling)
		d.RunSchedules(watch, c.scheduleInterval, logger)
	}()
	defer func() {
		endWatch()
		<-scheduling
	}()
	var hooks *webhook.Dispatcher
	if !c.noWebhooks {
		hooks = webhook.New(webhook.Options{
			DB: d, Logger: logger, Timeout: c.webhookTimeout, Lease: c.webhookLease, MaxAttempts: c.webhookAttempts,
			BackoffBase: c.webhookBackoff, BackoffMax: c.webhookBackoffMax, Concurrency: c.webhookConcurrency,
			Retention: c.webhookRetention, AllowPrivateTargets: c.webhookPrivate,
		})
		hooks.Start()
		// On an early return; after a graceful Shutdown this is a no-op.
		defer hooks.Shutdown(context.Background())
	}

	logger.Info("trendql serving", "addr", ln.Addr().String(), "db", d.Name(), "engine", d.Engine(), "graphql", "http://"+displayAddr(ln.Addr())+"/graphql", "webhooks", hooks != nil)
	// The line scripts and tests wait for: the address actually bound.
	fmt.Fprintf(stdout, "listening on http://%s\n", displayAddr(ln.Addr()))

	if c.pprofAddr != "" {
		stopPprof, err := servePprof(c.pprofAddr, logger)
		if err != nil {
			return err
		}
		defer stopPprof()
	}

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("server stopped: %w", err)
	case <-ctx.Done():
	}
	logger.Info("shutting down: finishing in-flight requests and webhook deliveries", "timeout", c.shutdownTimeout)
	sctx, cancel := context.WithTimeout(context.Background(), c.shutdownTimeout)
	defer cancel()
	hooksDone := make(chan error, 1)
	go func() {
		if hooks == nil {
			hooksDone <- nil
			return
		}
		hooksDone <- hooks.Shutdown(sctx)
	}()
	err = srv.Shutdown(sctx)
	if herr := <-hooksDone; herr != nil {
		logger.Warn("webhook requests still in flight were cut short; they will be sent again at the next start", "err", herr)
	}
	if err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	logger.Info("stopped")
	return nil
}

// servePprof serves the runtime profiles on their own listener, apart from
// the API, so they are reachable only where the operator binds them.
func servePprof(addr string, logger *slog.Logger) (stop func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("cannot listen on %s for pprof: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	logger.Info("pprof serving", "addr", "http://"+displayAddr(ln.Addr())+"/debug/pprof/")
	go srv.Serve(ln)
	return func() { srv.Close() }, nil
}

func displayAddr(a net.Addr) string {
	s := a.String()
	if strings.HasPrefix(s, "[::]:") {
		return "localhost:" + strings.TrimPrefix(s, "[::]:")
	}
	if strings.HasPrefix(s, "0.0.0.0:") {
		return "localhost:" + strings.TrimPrefix(s, "0.0.0.0:")
	}
	return s
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
