package graph

import (
	"testing"

	"github.com/vektah/gqlparser/v2"
)

// Every playground tab is a valid operation against the schema, so a
// schema change that breaks one (a renamed or deprecated-then-removed
// field) fails here rather than in a newcomer's first minute.
func TestPlaygroundExamples_ValidAgainstTheSchema(t *testing.T) {
	schema := NewExecutableSchema(Config{}).Schema()
	for _, ex := range playgroundExamples {
		if _, err := gqlparser.LoadQuery(schema, ex.Query); err != nil {
			t.Errorf("%s: %v", ex.Name, err)
		}
	}
}
