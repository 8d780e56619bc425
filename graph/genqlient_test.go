package graph_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// The README's genqlient recipe, run for real: the example module in
// testdata/genqlient (its own go.mod, so this module does not depend on
// genqlient) must be generated from the current schema, and its script must
// change one field of a framework on a real server and leave the others as
// they were. The go command fetches the example's modules like it fetches
// this module's (.ci/run downloads them first).
func TestGenqlientRecipe(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the genqlient recipe needs the go command: %v", err)
	}
	dir, err := filepath.Abs(filepath.Join("testdata", "genqlient"))
	if err != nil {
		t.Fatal(err)
	}
	gocmd := func(t *testing.T, dir string, env []string, args ...string) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, goBin, args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), env...)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("go %s in %s: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), dir, err, stdout.Bytes(), stderr.Bytes())
		}
		return stdout.String()
	}

	t.Run("generated code is current", func(t *testing.T) {
		// A copy with the repository's layout, so genqlient.yaml's
		// ../../../schema.graphqls is this repository's schema.
		root := t.TempDir()
		schema, err := os.ReadFile(filepath.Join("..", "schema.graphqls"))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, "schema.graphqls"), schema, 0o644); err != nil {
			t.Fatal(err)
		}
		copyDir := filepath.Join(root, "graph", "testdata", "genqlient")
		if err := os.CopyFS(copyDir, os.DirFS(dir)); err != nil {
			t.Fatal(err)
		}
		if err := os.Remove(filepath.Join(copyDir, "generated.go")); err != nil {
			t.Fatal(err)
		}
		gocmd(t, copyDir, nil, "tool", "genqlient")
		fresh, err := os.ReadFile(filepath.Join(copyDir, "generated.go"))
		if err != nil {
			t.Fatal(err)
		}
		committed, err := os.ReadFile(filepath.Join(dir, "generated.go"))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(fresh, committed) {
			t.Fatal("graph/testdata/genqlient/generated.go is stale: run 'go tool genqlient' in that directory and commit the result")
		}
	})

	t.Run("a script changes one field", func(t *testing.T) {
		l := newLive(t)
		out := gocmd(t, dir, []string{"TRENDQL_URL=" + l.URL + "/graphql", "TRENDQL_TOKEN=" + l.editor}, "run", ".", "-keep")
		lines := strings.Split(strings.TrimSpace(out), "\n")
		var made struct {
			ID      string
			Version int
		}
		if err := json.Unmarshal([]byte(lines[len(lines)-1]), &made); err != nil || made.ID == "" {
			t.Fatalf("the script's last line names no framework (%v):\n%s", err, out)
		}

		// The server's own record, not the script's word: the revision of
		// the update touched the summary alone, and the document after it
		// is the created one with the new summary.
		var got struct {
			Framework struct {
				Revisions struct {
					Nodes []struct {
						Action        string
						Version       int
						ChangedFields []string
						Document      map[string]any
					}
				}
			}
		}
		l.gql(t, l.editor, `query($id: ID!) { framework(id: $id) { revisions(first: 10) { nodes { action version changedFields document } } } }`,
			map[string]any{"id": made.ID}, &got)
		revs := got.Framework.Revisions.Nodes
		if len(revs) != 3 || made.Version != 3 {
			t.Fatalf("want 3 revisions (create, update, clear) and version 3, got version %d and %+v", made.Version, revs)
		}
		create, update, clear := revs[2], revs[1], revs[0]
		if create.Action != "CREATE" || update.Action != "UPDATE" || clear.Action != "UPDATE" {
			t.Fatalf("revisions: %+v", revs)
		}
		if !reflect.DeepEqual(update.ChangedFields, []string{"summary"}) {
			t.Fatalf("the update touched %v, want [summary] alone", update.ChangedFields)
		}
		if update.Document["summary"] != "Changed by the genqlient recipe." {
			t.Fatalf("summary after the update: %v", update.Document["summary"])
		}
		for _, f := range []string{"slug", "name", "kind", "language", "creator", "firstReleased", "architecture", "features", "companies", "status"} {
			if !reflect.DeepEqual(update.Document[f], create.Document[f]) {
				t.Errorf("the update changed %s from %v to %v", f, create.Document[f], update.Document[f])
			}
		}
		if cos, _ := create.Document["companies"].([]any); len(cos) != 2 {
			t.Errorf("the framework was created with companies %v, want the first two", create.Document["companies"])
		}
		if !reflect.DeepEqual(clear.ChangedFields, []string{"creator", "features"}) {
			t.Errorf("the clearing update touched %v, want [creator features]", clear.ChangedFields)
		}
	})
}
