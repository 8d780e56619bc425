package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// cli runs one trendql command through run(), as the binary would, and
// returns its output and exit code.
type cliResult struct {
	Stdout, Stderr string
	Code           int
}

// LastLine returns the last non-empty line of stdout.
func (r cliResult) LastLine() string {
	lines := strings.Split(strings.TrimSpace(r.Stdout), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}

func cli(t testing.TB, stdin io.Reader, args ...string) cliResult {
	t.Helper()
	if stdin == nil {
		stdin = strings.NewReader("")
	}
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), args, func(string) string { return "" }, stdin, &stdout, &stderr)
	code := exitCode(err, &stderr)
	return cliResult{Stdout: stdout.String(), Stderr: stderr.String(), Code: code}
}

// Flags may come before or after a command's positional arguments, as
// the contract writes them ("trendql import FILE --db X").
func TestCLI_FlagsBeforeOrAfterArguments(t *testing.T) {
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "t.db")
	exp := cli(t, nil, "export", "--db", dbPath)
	if exp.Code != 0 {
		t.Fatalf("export: %+v", exp)
	}
	file := filepath.Join(dir, "content.json")
	writeFile(t, file, exp.Stdout)
	for _, args := range [][]string{
		{"import", file, "--db", dbPath},
		{"import", "--db", dbPath, file},
		{"import", "--dry-run", file, "--db", dbPath},
		{"import", "--db", dbPath, "--", file},
	} {
		if r := cli(t, nil, args...); r.Code != 0 {
			t.Errorf("%q: exit %d: %s", args, r.Code, r.Stderr)
		}
	}
	if r := cli(t, nil, "backup", filepath.Join(dir, "b.db"), "--db", dbPath); r.Code != 0 {
		t.Errorf("backup OUT --db: exit %d: %s", r.Code, r.Stderr)
	}
	if r := cli(t, nil, "token", "create", "--name", "x", "--role", "viewer", "--db", dbPath); r.Code != 0 {
		t.Fatalf("token create: %+v", r)
	}
	if r := cli(t, nil, "token", "revoke", "1", "--db", dbPath); r.Code != 0 {
		t.Errorf("token revoke ID --db: exit %d: %s", r.Code, r.Stderr)
	}
	if r := cli(t, nil, "import", file, file, "--db", dbPath); r.Code != 2 {
		t.Errorf("two files: exit %d, want 2", r.Code)
	}
}

func writeFile(t testing.TB, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
