package db

import (
	"regexp"
	"strconv"
	"strings"
	"sync"
)

// Package db writes its SQL once, in SQLite's dialect, and the PostgreSQL
// engine translates each statement the first time it sees it (pgSQL). The
// translation is mechanical on purpose: every construct the package uses
// that the two engines spell differently is listed here, and the shared
// SQL avoids the ones that cannot be rewritten locally (it gives every
// subquery in FROM an alias, and casts the values of json_each when they
// are compared with integers). The conformance suite runs every
// storage-level test through both engines, so a statement that translates
// wrongly fails a test on PostgreSQL.

var pgCache sync.Map // SQLite SQL → PostgreSQL SQL

// pgSQL translates one statement (or a script with no parameters) from
// SQLite's dialect to PostgreSQL's.
func pgSQL(q string) string {
	if strings.HasPrefix(q, pgNative) {
		return q
	}
	if v, ok := pgCache.Load(q); ok {
		return v.(string)
	}
	out := translatePG(q)
	pgCache.Store(q, out)
	return out
}

var (
	// A name compared or ordered case-insensitively: SQLite's NOCASE folds
	// ASCII only, as lower() does on PostgreSQL under the "C" collation
	// every text column has. A comparison folds its parameter too.
	pgNocaseCmp = regexp.MustCompile(`([A-Za-z_][\w.]*) COLLATE NOCASE (=|<>|<=|>=|<|>) \?`)
	pgNocase    = regexp.MustCompile(`([A-Za-z_][\w.]*) COLLATE NOCASE`)
	// A list of ids or names passed as one JSON array: `x IN (SELECT …
	// FROM json_each(?))` becomes `x = ANY (array)`. The planner takes a
	// set-returning function for 100 rows, so the IN form hashed the whole
	// link table for the 1 to 20 ids a page asks for (33 ms for q2's
	// companies, at every request); an array parameter it takes for ten
	// elements and reads through the index.
	pgInIntJSON  = regexp.MustCompile(`IN \(SELECT CAST\(value AS INTEGER\) FROM json_each\(\?\)\)`)
	pgInTextJSON = regexp.MustCompile(`IN \(SELECT value FROM json_each\(\?\)\)`)
	// json_each over a parameter: the array's elements as text, in a
	// column named value like SQLite's.
	pgJSONEach = regexp.MustCompile(`json_each\(\?\)`)
	pgCastInt  = regexp.MustCompile(`CAST\(value AS INTEGER\)`)
	pgIfnull   = regexp.MustCompile(`\bifnull\(`)
	pgInstr    = regexp.MustCompile(`\binstr\(`)
	pgLimitAll = regexp.MustCompile(`LIMIT -1\b`)
	pgOrIgnore = regexp.MustCompile(`^(\s*)INSERT OR IGNORE INTO`)
	pgGroupArr = regexp.MustCompile(`\bjson_group_array\(`)
	pgJSONObj  = regexp.MustCompile(`\bjson_object\(`)
)

func translatePG(q string) string {
	q = pgNocaseCmp.ReplaceAllString(q, "lower($1) $2 lower(?)")
	q = pgNocase.ReplaceAllString(q, "lower($1)")
	q = pgInIntJSON.ReplaceAllString(q, "= ANY (CAST(ARRAY(SELECT json_array_elements_text(CAST(? AS json))) AS bigint[]))")
	q = pgInTextJSON.ReplaceAllString(q, "= ANY (ARRAY(SELECT json_array_elements_text(CAST(? AS json))))")
	q = pgJSONEach.ReplaceAllString(q, "json_array_elements_text(CAST(? AS json)) AS je(value)")
	q = pgCastInt.ReplaceAllString(q, "CAST(value AS bigint)")
	q = pgIfnull.ReplaceAllString(q, "coalesce(")
	q = pgInstr.ReplaceAllString(q, "strpos(")
	q = pgLimitAll.ReplaceAllString(q, "LIMIT ALL")
	q = pgGroupArr.ReplaceAllString(q, "trendql_json_array(")
	q = pgJSONObj.ReplaceAllString(q, "json_build_object(")
	if pgOrIgnore.MatchString(q) {
		q = pgOrIgnore.ReplaceAllString(q, "${1}INSERT INTO") + " ON CONFLICT DO NOTHING"
	}
	q = scalarMinMax(q)
	return placeholders2PG(q)
}

// scalarMinMax renames SQLite's two-argument max(a, b) and min(a, b) (the
// scalar functions; with one argument they are aggregates on both engines)
// to greatest and least.
func scalarMinMax(q string) string {
	var b strings.Builder
	for i := 0; i < len(q); {
		name := ""
		for _, f := range []string{"max(", "min("} {
			if strings.HasPrefix(q[i:], f) && (i == 0 || !isIdent(q[i-1])) {
				name = f
			}
		}
		if name == "" {
			b.WriteByte(q[i])
			i++
			continue
		}
		// Find the matching parenthesis and whether a comma sits at depth 1.
		depth, comma, end := 0, false, -1
		for j := i + 3; j < len(q) && end < 0; j++ {
			switch q[j] {
			case '(':
				depth++
			case ')':
				depth--
				if depth == 0 {
					end = j
				}
			case ',':
				if depth == 1 {
					comma = true
				}
			case '\'':
				for j++; j < len(q) && q[j] != '\''; j++ {
				}
			}
		}
		switch {
		case comma && name == "max(":
			b.WriteString("greatest(")
		case comma:
			b.WriteString("least(")
		default:
			b.WriteString(name)
		}
		i += 4
	}
	return b.String()
}

func isIdent(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// placeholders2PG numbers SQLite's ? parameters as $1, $2… outside string
// literals, quoted identifiers and comments.
func placeholders2PG(q string) string {
	if !strings.Contains(q, "?") {
		return q
	}
	var b strings.Builder
	n := 0
	for i := 0; i < len(q); i++ {
		c := q[i]
		switch {
		case c == '\'' || c == '"':
			j := i + 1
			for j < len(q) && q[j] != c {
				j++
			}
			b.WriteString(q[i:min(j+1, len(q))])
			i = j
		case c == '-' && i+1 < len(q) && q[i+1] == '-':
			j := strings.IndexByte(q[i:], '\n')
			if j < 0 {
				j = len(q) - i
			}
			b.WriteString(q[i : i+j])
			i += j - 1
		case c == '?' && i+1 < len(q) && q[i+1] >= '0' && q[i+1] <= '9':
			b.WriteByte('$') // ?NNN, a numbered parameter: $NNN
		case c == '?':
			n++
			b.WriteString("$" + strconv.Itoa(n))
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}
