package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/trendql/trendql/db"
)

// oneShot are the options of a command that does its work and exits: it
// keeps no rows for later requests.
var oneShot = db.Options{RowCacheBytes: -1}

// dbFlag adds the --db flag every command that opens a database takes: an
// SQLite file or a postgres:// URL, by default TRENDQL_DB's value.
func dbFlag(fs *flag.FlagSet, getenv func(string) string, p *string) {
	*p = envOr(getenv, "TRENDQL_DB", "./trendql.db")
	fs.Var((*dbValue)(p), "db", "the database `PATH or URL`: an SQLite file, or a postgres:// URL for PostgreSQL (env TRENDQL_DB)")
}

// dbValue is the --db flag's value. It shows itself with the password of a
// PostgreSQL URL redacted, because the flag package prints a flag's
// default (here TRENDQL_DB's value) in -h and usage messages.
type dbValue string

func (v *dbValue) String() string {
	if v == nil {
		return ""
	}
	if db.IsPostgresURL(string(*v)) {
		return db.RedactURL(string(*v))
	}
	return string(*v)
}

func (v *dbValue) Set(s string) error {
	*v = dbValue(s)
	return nil
}

// runToken: trendql token create|list|revoke.
func runToken(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usagef("token: give a subcommand: create, list or revoke")
	}
	sub, args := args[0], args[1:]
	var dbPath string
	var noSeed bool
	fs := newFlagSet("token "+sub, stderr)
	dbFlag(fs, getenv, &dbPath)
	fs.BoolVar(&noSeed, "no-seed", false, "do not fill a new database with the article")
	switch sub {
	case "create":
		var name, role string
		var expires time.Duration
		fs.StringVar(&name, "name", "", "what the token is for (required)")
		fs.StringVar(&role, "role", "", "viewer, editor or admin (required)")
		fs.DurationVar(&expires, "expires", 0, "lifetime, e.g. 720h; 0 means it never expires")
		if err := parseFlags(fs, args); err != nil {
			return err
		}
		if strings.TrimSpace(name) == "" {
			return usagef("token create: --name is required")
		}
		if !db.Role(role).Valid() {
			return usagef("token create: --role must be viewer, editor or admin")
		}
		if expires < 0 {
			return usagef("token create: --expires must not be negative")
		}
		d, err := openDB(ctx, dbPath, noSeed, oneShot)
		if err != nil {
			return err
		}
		defer d.Close()
		t, secret, err := d.CreateToken(ctx, name, db.Role(role), expires)
		if db.ErrorCode(err) == db.EINVALID {
			return usagef("token create: %v", cliError(err))
		} else if err != nil {
			return err
		}
		exp := "never expires"
		if t.ExpiresAt != nil {
			exp = "expires " + *t.ExpiresAt
		}
		fmt.Fprintf(stdout, "created token %d %q (%s, %s); store it now, it is not shown again:\n%s\n", t.ID, t.Name, t.Role, exp, secret)
		return nil
	case "list":
		if err := parseFlags(fs, args); err != nil {
			return err
		}
		d, err := openDB(ctx, dbPath, noSeed, oneShot)
		if err != nil {
			return err
		}
		defer d.Close()
		tokens, err := d.Tokens(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tNAME\tROLE\tCREATED\tEXPIRES\tSTATE")
		for _, t := range tokens {
			state := "active"
			switch {
			case t.RevokedAt != nil:
				state = "revoked " + *t.RevokedAt
			case t.ExpiresAt != nil && expired(*t.ExpiresAt):
				state = "expired"
			}
			// Names stored before control characters were refused may hold
			// terminal escapes or tabs: print them escaped.
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", t.ID, db.SafeText(t.Name), t.Role, t.CreatedAt, deref(t.ExpiresAt, "never"), state)
		}
		return tw.Flush()
	case "revoke":
		pos, err := parseArgs(fs, args)
		if err != nil {
			return err
		}
		if len(pos) != 1 {
			return usagef("token revoke: give the token's ID (see \"trendql token list\")")
		}
		id, err := strconv.ParseInt(pos[0], 10, 64)
		if err != nil || id <= 0 {
			return usagef("token revoke: %q is not a token ID", pos[0])
		}
		d, err := openDB(ctx, dbPath, noSeed, oneShot)
		if err != nil {
			return err
		}
		defer d.Close()
		t, err := d.RevokeToken(ctx, id)
		if err != nil {
			return cliError(err)
		}
		fmt.Fprintf(stdout, "revoked token %d %q\n", t.ID, t.Name)
		return nil
	}
	return usagef("token: unknown subcommand %q (create, list or revoke)", sub)
}

// expired reports whether a stored expiry time has passed. (Compared as
// times: stored times carry milliseconds, so a text comparison with a
// time formatted without them is off by up to a second.)
func expired(at string) bool {
	t, err := time.Parse(time.RFC3339Nano, at)
	return err == nil && !t.After(time.Now())
}

func deref(p *string, def string) string {
	if p == nil {
		return def
	}
	return *p
}

// cliError turns a coded db error into its plain message.
func cliError(err error) error {
	var e *db.Error
	if errors.As(err, &e) && e.Code != db.EINTERNAL {
		if e.Field != "" && !strings.Contains(e.Message, e.Field) {
			return fmt.Errorf("%s: %s", e.Field, e.Message)
		}
		return errors.New(e.Message)
	}
	return err
}

// runExport: trendql export > content.json.
func runExport(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var dbPath string
	var noSeed bool
	fs := newFlagSet("export", stderr)
	dbFlag(fs, getenv, &dbPath)
	fs.BoolVar(&noSeed, "no-seed", false, "do not fill a new database with the article")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	d, err := openDB(ctx, dbPath, noSeed, oneShot)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.ExportTo(ctx, stdout)
}

// runImport: trendql import [--dry-run] content.json (or - for stdin).
func runImport(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	var dbPath string
	var noSeed, dryRun bool
	fs := newFlagSet("import", stderr)
	dbFlag(fs, getenv, &dbPath)
	fs.BoolVar(&noSeed, "no-seed", false, "do not fill a new database with the article")
	fs.BoolVar(&dryRun, "dry-run", false, "validate and report what would change, change nothing")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("import: give one content file (or - for standard input)")
	}
	var in io.Reader = stdin
	if name := pos[0]; name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return fmt.Errorf("import: cannot open %s: %w", name, errors.Unwrap(err))
		}
		defer f.Close()
		if fi, err := f.Stat(); err == nil && fi.IsDir() {
			return fmt.Errorf("import: %s is a directory, not a content file", name)
		}
		in = f
	}
	d, err := openDB(ctx, dbPath, noSeed, oneShot)
	if err != nil {
		return err
	}
	defer d.Close()
	start := time.Now()
	res, err := d.ImportFrom(ctx, in, dryRun)
	if err != nil {
		return fmt.Errorf("import: nothing was changed: %w", cliError(err))
	}
	verb := "imported"
	if dryRun {
		verb = "dry run, nothing changed; would import"
	}
	fmt.Fprintf(stdout, "%s in %s:\n", verb, time.Since(start).Round(time.Millisecond))
	for _, t := range db.Types {
		fmt.Fprintf(stdout, "  %-10s %d created, %d updated, %d unchanged\n", t, res.Created[t], res.Updated[t], res.Unchanged[t])
	}
	if res.ArticleChanged {
		fmt.Fprintln(stdout, "  article    updated")
	}
	return nil
}

// backupPath is the file a backup destination names: a path, or a file:
// URI (file:PATH or file:///PATH, no query), which names its path.
func backupPath(arg string) (string, error) {
	if !strings.HasPrefix(arg, "file:") {
		return filepath.Abs(arg)
	}
	u, err := url.Parse(arg)
	if err != nil || u.RawQuery != "" || u.Fragment != "" || (u.Host != "" && u.Host != "localhost") {
		return "", usagef("backup: %q is not a file: URI naming a file (no query, no host)", arg)
	}
	p := u.Path
	if p == "" {
		p = u.Opaque
	}
	if p == "" {
		return "", usagef("backup: %q names no file", arg)
	}
	return filepath.Abs(p)
}

// cliMemoryLimit is the Go runtime's soft memory limit for import and
// export (unless GOMEMLIMIT says otherwise). Both stream, so what they keep
// is small (for the 10x benchmark set, tens of MiB: a slug cache, a batch);
// without a limit the collector let the heap grow to twice that between
// collections, which took the import past 128 MiB.
const cliMemoryLimit = 64 << 20

// boundMemory sets cliMemoryLimit for the import and export commands. It
// is called from main, for the process: tests run the commands in their
// own process and keep its settings.
func boundMemory(args []string, getenv func(string) string) {
	if len(args) > 0 && (args[0] == "import" || args[0] == "export") && getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(cliMemoryLimit)
	}
}

// runBackup: trendql backup OUT.db — a consistent copy, also while the
// server runs.
func runBackup(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var dbPath string
	fs := newFlagSet("backup", stderr)
	dbFlag(fs, getenv, &dbPath)
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("backup: give the file to write (it must not exist)")
	}
	if db.IsPostgresURL(dbPath) {
		// The content file alone would be no backup (it leaves out tokens,
		// revisions, the audit log, webhooks and schedules), and a
		// PostgreSQL server has its own consistent, complete dump.
		return usagef("backup: %s is a PostgreSQL database, which trendql does not copy: back it up with pg_dump (pg_dump --format=custom --file=OUT.dump URL, consistent while servers run), or write its content alone with trendql export", db.RedactURL(dbPath))
	}
	if err := db.CheckDSN(dbPath); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	out, err := backupPath(pos[0])
	if err != nil {
		return err
	}
	if _, err := os.Stat(dbPath); err != nil {
		return fmt.Errorf("backup: no database at %s", dbPath)
	}
	if _, err := os.Lstat(out); err == nil {
		return fmt.Errorf("backup: %s already exists; give the name of a new file", out)
	}
	d, err := openDB(ctx, dbPath, true, oneShot)
	if err != nil {
		return err
	}
	defer d.Close()
	// The copy is written under a fresh name in a private directory beside
	// the destination, then hard-linked to it: link(2) fails when anything
	// is there, a dangling symlink included, and never follows one, so
	// nothing at the destination is written over even if it appears while
	// the copy is made. (VACUUM INTO itself fills an existing empty file
	// and follows symlinks.)
	tmpDir, err := os.MkdirTemp(filepath.Dir(out), ".trendql-backup-")
	if err != nil {
		return fmt.Errorf("backup: cannot write in %s: %w", filepath.Dir(out), errors.Unwrap(err))
	}
	defer os.RemoveAll(tmpDir)
	tmp := filepath.Join(tmpDir, "backup.db")
	if err := d.Backup(ctx, tmp); err != nil {
		return fmt.Errorf("backup: %w", cliError(err))
	}
	if err := os.Link(tmp, out); errors.Is(err, os.ErrExist) {
		return fmt.Errorf("backup: %s already exists; give the name of a new file", out)
	} else if err != nil {
		return fmt.Errorf("backup: cannot create %s: %w", out, errors.Unwrap(err))
	}
	fmt.Fprintf(stdout, "backed up %s to %s\n", dbPath, out)
	return nil
}
