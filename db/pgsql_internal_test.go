package db

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/trendql/trendql/db/dbtest"
)

// TestPGSQLListParameters: a list passed as one JSON array becomes an
// array comparison, which PostgreSQL plans for a few elements (index
// probes), where the IN (SELECT … json_array_elements_text) form was
// planned for 100 rows and hashed whole tables. The statements keep their
// parameters in order.
func TestPGSQLListParameters(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"SELECT id FROM t WHERE id IN (SELECT CAST(value AS INTEGER) FROM json_each(?)) AND a = ?",
			"SELECT id FROM t WHERE id = ANY (CAST(ARRAY(SELECT json_array_elements_text(CAST($1 AS json))) AS bigint[])) AND a = $2"},
		{"SELECT slug FROM t WHERE status = 'PUBLISHED' AND slug IN (SELECT value FROM json_each(?))",
			"SELECT slug FROM t WHERE status = 'PUBLISHED' AND slug = ANY (ARRAY(SELECT json_array_elements_text(CAST($1 AS json))))"},
		// Other uses of json_each keep the set-returning form.
		{"SELECT value FROM json_each(?) ORDER BY 1",
			"SELECT value FROM json_array_elements_text(CAST($1 AS json)) AS je(value) ORDER BY 1"},
	} {
		if got := translatePG(tc.in); got != tc.want {
			t.Errorf("translatePG(%q)\n got %q\nwant %q", tc.in, got, tc.want)
		}
	}
	if strings.Contains(translatePG("x IN (SELECT CAST(value AS INTEGER) FROM json_each(?))"), "json_array_elements_text(CAST($1 AS json)) AS je") {
		t.Error("the id list is still a set-returning function in IN")
	}
}

// TestPostgresRelationPlan: on a database of the load test's shape, the
// statement that fetches a page's companies (as related builds it) reads
// the link table and companies through their indexes. Before, it was
// planned as hash joins over a sequential scan of both tables: with the
// IN form over json_array_elements_text (taken for 100 ids), and with the
// stock random_page_cost of 4 even with an array.
func TestPostgresRelationPlan(t *testing.T) {
	if dbtest.Engine() != dbtest.Postgres {
		t.Skip("PostgreSQL only: its query plans (runs with TRENDQL_TEST_ENGINE=postgres)")
	}
	ctx := context.Background()
	d, _, err := Open(ctx, dbtest.NewDSN(t), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	c := &Content{Format: ContentFormat}
	for i := range 1000 {
		c.Companies = append(c.Companies, CompanyDoc{Slug: fmt.Sprintf("c%d", i), Name: fmt.Sprintf("Company %d", i), Status: StatusPublished})
	}
	for i := range 4000 {
		f := FrameworkDoc{Slug: fmt.Sprintf("f%d", i), Name: fmt.Sprintf("Framework %d", i), Kind: "FRAMEWORK", Language: "Go",
			Summary: "A framework.", Status: StatusPublished}
		for k := range 5 {
			f.Companies = append(f.Companies, fmt.Sprintf("c%d", (i*7+k*13)%1000))
		}
		c.Frameworks = append(c.Frameworks, f)
	}
	if _, err := d.Import(ctx, c, false); err != nil {
		t.Fatal(err)
	}
	w := where{}
	w.add("l.framework_id IN (SELECT CAST(value AS INTEGER) FROM json_each(?))", int64sJSON([]int64{3, 500, 1700}))
	w.add("c.status = 'PUBLISHED'")
	q := fmt.Sprintf("EXPLAIN SELECT l.framework_id, %s FROM framework_companies l JOIN companies c ON c.id = l.company_id WHERE %s ORDER BY l.framework_id, l.position",
		companyTable.cols, w.sql())
	rows, err := d.read.QueryContext(ctx, q, w.args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, line)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if p := strings.Join(plan, "\n"); strings.Contains(p, "Seq Scan") {
		t.Errorf("a page's companies are read with a sequential scan:\n%s", p)
	}
	// And the answer is right: each framework's companies in order.
	got, err := d.CompaniesOfFrameworks(ctx, []int64{3, 500, 1700})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []int64{3, 500, 1700} {
		var slugs []string
		for _, co := range got[id] {
			slugs = append(slugs, co.Slug)
		}
		if want := c.Frameworks[id-1].Companies; !slices.Equal(slugs, want) {
			t.Errorf("framework %d: companies %v, want %v", id, slugs, want)
		}
	}
}
