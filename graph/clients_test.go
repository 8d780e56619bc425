package graph_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// The client matrix: real GraphQL client libraries from npm (urql, Apollo
// Client, graphql-ws, graphql-sse) and the graphql-http audit suite, run
// by node against the real handler on a loopback socket with a seeded
// temp database. The packages come from testdata/clients/package-lock.json
// (npm ci, which .ci/run does). Without node or the packages the test is
// skipped locally and fails under CI=true.
func TestClients_RealLibraries(t *testing.T) {
	dir, err := filepath.Abs(filepath.Join("testdata", "clients"))
	if err != nil {
		t.Fatal(err)
	}
	node, err := exec.LookPath("node")
	if err == nil {
		_, err = os.Stat(filepath.Join(dir, "node_modules", "graphql-http", "package.json"))
	}
	if err != nil {
		msg := "node or the client packages are missing (run: cd graph/testdata/clients && npm ci): " + err.Error()
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	l := newLive(t)
	for _, script := range []string{"matrix.mjs", "audit.mjs", "preview.mjs"} {
		t.Run(script, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, node, script)
			cmd.Dir = dir
			cmd.Env = append(os.Environ(),
				"TRENDQL_URL="+l.URL+"/graphql",
				"TRENDQL_EDITOR_TOKEN="+l.editor,
			)
			out, err := cmd.CombinedOutput()
			t.Logf("node %s:\n%s", script, out)
			if err != nil {
				t.Fatalf("node %s: %v", script, err)
			}
		})
	}
}
