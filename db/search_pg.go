package db

import (
	"context"
	"fmt"
	"strconv"
	"strings"
)

// PostgreSQL's search index is two tables of tsvectors (search and
// search_public, see migrations_pg) kept by triggers, which a bulk import
// switches off with a row in search_suspended and replaces with one
// rebuild at the end, as on SQLite. GIN indexes need no compaction.
//
// A search reads them with PostgreSQL's own full-text search: the text
// search configuration trendql (English stemming, accents removed, no stop
// words, as FTS5's porter and unicode61 tokenizers do), the same words as
// on SQLite (parseSearchQuery) made into a tsquery, ts_rank with the
// columns' weights, and ts_headline for the snippets.

func (e *postgresEngine) suspendSearch(tx *Tx) error {
	_, err := tx.exec("INSERT INTO search_suspended (one) VALUES (1) ON CONFLICT DO NOTHING")
	return err
}

func (e *postgresEngine) rebuildSearch(tx *Tx, changed bool) error {
	if changed {
		// The rebuild's estimated cost (a subquery per framework) is far
		// above jit_above_cost, and compiling it took 0.4 s of the 1x
		// set's import for a query that runs once: JIT is off for the
		// rest of the transaction, which ends with the import.
		if _, err := tx.exec(pgNative + "\nSET LOCAL jit = off"); err != nil {
			return err
		}
		if _, err := tx.exec(pgNative + "\nSELECT search_rebuild()"); err != nil {
			return fmt.Errorf("rebuild search index: %w", err)
		}
	}
	_, err := tx.exec("DELETE FROM search_suspended")
	return err
}

// tsquery renders the query in PostgreSQL's tsquery syntax, for to_tsquery
// with the trendql configuration: every word a quoted operand (a word
// holds letters, digits and marks only, and tsLiteral escapes anyway, so
// no user text is ever read as an operator), all of them required, the
// last one also a prefix (:*) when sq.prefix is set, as fts5 does.
func (sq searchQuery) tsquery() string {
	return sq.tsqueryJoin(" & ")
}

// tsqueryAny is tsquery with any one word enough: the test of which
// columns a snippet can come from.
func (sq searchQuery) tsqueryAny() string {
	return sq.tsqueryJoin(" | ")
}

func (sq searchQuery) tsqueryJoin(op string) string {
	var b strings.Builder
	for i, w := range sq.words {
		if i > 0 {
			b.WriteString(op)
		}
		lit := tsLiteral(w)
		if sq.prefix && i == len(sq.words)-1 {
			// The word itself too, so that an exact match counts twice
			// in the rank and outranks longer words, as on SQLite.
			b.WriteString("(" + lit + " | " + lit + ":*)")
			continue
		}
		b.WriteString(lit)
	}
	return b.String()
}

// tsLiteral quotes s as one tsquery operand: to_tsquery normalises it with
// the configuration (stems it, removes accents) and, should the parser cut
// it into several lexemes, requires them as a phrase.
func tsLiteral(s string) string {
	s = strings.ReplaceAll(s, `\`, `\\`)
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

// pgSearchWeights is ts_rank's weights array, {D, C, B, A}: the body,
// summary, keywords and name (setweight in trendql_tsvector), in the
// proportions of the bm25 weights SQLite ranks with.
var pgSearchWeights = fmt.Sprintf("{%g,%g,%g,%g}",
	searchWeightBody/searchWeightName, searchWeightSummary/searchWeightName, searchWeightKeywords/searchWeightName, 1.0)

// pgHeadlineOptions are ts_headline's: snippetStart and snippetEnd around
// matched words (turned into tags by renderSnippet, which escapes the
// rest), and as many words as SQLite's snippets hold: FTS5 gives
// snippetTokens words whenever the column has them, so the headline's
// least is one below its most (ts_headline requires less), and short words
// are kept at its edges as FTS5 keeps them.
var pgHeadlineOptions = fmt.Sprintf("StartSel=%c, StopSel=%c, MaxWords=%d, MinWords=%d, ShortWord=0",
	snippetStart, snippetEnd, snippetTokens, snippetTokens-1)

// pgArgs numbers a statement's parameters as they are added.
type pgArgs []any

func (a *pgArgs) add(v any) string {
	*a = append(*a, v)
	return "$" + strconv.Itoa(len(*a))
}

// pgSearchWhere is the condition on the rows s of index idx that a search
// matches (the tsquery q), of the types codes, as searchFilters and
// searchDrafts keep them on SQLite.
func pgSearchWhere(ctx context.Context, args *pgArgs, idx string, codes []int) string {
	conds := []string{"s.tsv @@ q"}
	if len(codes) < len(searchTypes) {
		parts := make([]string, len(codes))
		for i, c := range codes {
			parts[i] = strconv.Itoa(c) // type codes are ours, never user text
		}
		conds = append(conds, "s.rid % 4 IN ("+strings.Join(parts, ", ")+")")
	}
	if idx == searchAllIndex {
		if Previewing(ctx) {
			conds = append(conds, "s.rid NOT IN (SELECT rid FROM search_drafted)")
		} else {
			conds = append(conds, "s.rid < "+args.add(int64(searchDraftRowID)))
		}
	}
	return strings.Join(conds, " AND ")
}

// search is Search on PostgreSQL: the first limit hits after the key after
// (nil: from the start), with scores and snippets, in one statement.
//
// The inner query ranks every match and keeps the page; the outer one
// makes snippets for the page's rows only. The OFFSET 0s keep the planner
// from flattening the snippet's subqueries into the select list, which
// would parse each text for a headline three times (for hl, p and n). A snippet comes from one
// column, as FTS5's does: each column that matches a word gets a
// headline, and pgPickSnippet keeps the one with the most matched words.
// Whether text was left out before or after it (an ellipsis) is decided
// with PostgreSQL's parser, so that "a word" means what it means to the
// headline.
func (e *postgresEngine) search(ctx context.Context, d *DB, sq searchQuery, idx string, codes []int, after *searchKey, limit int) ([]*SearchHit, error) {
	var args pgArgs
	query, anyWord := args.add(sq.tsquery()), args.add(sq.tsqueryAny())
	where := pgSearchWhere(ctx, &args, idx, codes)
	keys := "TRUE"
	if after != nil {
		score, rid := args.add(after.score), args.add(after.rowID)
		keys = fmt.Sprintf("(m.score < %[1]s OR (m.score = %[1]s AND m.rid > %[2]s))", score, rid)
	}
	q := fmt.Sprintf(pgNative+`
SELECT h.rid, h.score, c.col, c.hl,
	c.p > 1 AND length(to_tsvector('simple', right(left(c.t, c.p - 1), %[9]d))) > 0,
	c.p > 0 AND length(to_tsvector('simple', left(substr(c.t, c.p + c.n), %[9]d))) > 0
FROM (
	SELECT m.rid, m.score FROM (
		SELECT s.rid, ts_rank('%[1]s', s.tsv, q)::float8 AS score
		FROM %[2]s s, to_tsquery('trendql', %[3]s) q WHERE %[4]s
	) m WHERE %[5]s ORDER BY m.score DESC, m.rid LIMIT %[6]s
) h
JOIN %[2]s s ON s.rid = h.rid
CROSS JOIN to_tsquery('trendql', %[3]s) q
CROSS JOIN to_tsquery('trendql', %[7]s) qa
CROSS JOIN LATERAL (
	SELECT col, t, hl, strpos(t, replace(replace(hl, E'\x02', ''), E'\x03', '')) AS p,
		length(replace(replace(hl, E'\x02', ''), E'\x03', '')) AS n
	FROM (
		SELECT col, t, ts_headline('trendql', t, q, '%[8]s') AS hl
		FROM (
			SELECT v.col, trendql_search_text(v.txt) AS t
			FROM (VALUES (0, s.name, 'a'), (1, s.keywords, 'b'), (2, s.summary, 'c'), (3, s.body, 'd')) v (col, txt, w)
			WHERE ts_filter(s.tsv, ARRAY[v.w]::"char"[]) @@ qa OFFSET 0
		) y OFFSET 0
	) x OFFSET 0
) c
ORDER BY h.score DESC, h.rid, c.col`,
		pgSearchWeights, idx, query, where, keys, args.add(limit), anyWord, pgHeadlineOptions, pgEllipsisReach)
	rows, err := d.query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	hits := []*SearchHit{}
	var cands []pgSnippet
	flush := func() {
		if len(hits) > 0 {
			hits[len(hits)-1].Snippet = pgPickSnippet(cands)
		}
		cands = cands[:0]
	}
	for rows.Next() {
		var rid int64
		var score float64
		var c pgSnippet
		if err := rows.Scan(&rid, &score, &c.col, &c.headline, &c.before, &c.after); err != nil {
			return nil, err
		}
		if len(hits) == 0 || hits[len(hits)-1].rowID != rid {
			flush()
			hits = append(hits, &SearchHit{rowID: rid, Score: score})
		}
		cands = append(cands, c)
	}
	flush()
	return hits, rows.Err()
}

// pgEllipsisReach is how far (in characters) from a headline the test for
// words left out looks: parsing the rest of a long body for every hit
// would cost as much as the headline itself, and 200 characters
// with no word in them, then one, is not text anyone writes.
const pgEllipsisReach = 200

// pgSnippet is one column's headline for a hit.
type pgSnippet struct {
	col           int
	headline      string // ts_headline's, with snippetStart and snippetEnd
	before, after bool   // words of the column were left out there
}

// pgPickSnippet renders the best of a hit's column headlines, choosing as
// FTS5's snippet() seems to: the most distinct marked words, then the most
// marked words, then a snippet that starts where its column does; and on a
// tie prose before lists (name, summary, body, then keywords).
func pgPickSnippet(cands []pgSnippet) string {
	best, bestScore := -1, -1
	for i, c := range cands {
		score := snippetScore(c.headline)*10 + pgColumnPreference[c.col]
		if !c.before {
			score += 5
		}
		if score > bestScore {
			best, bestScore = i, score
		}
	}
	if best < 0 {
		return ""
	}
	c := cands[best]
	s := c.headline
	if c.before {
		s = "…" + s
	}
	if c.after {
		s += "…"
	}
	return renderSnippet(s)
}

// pgColumnPreference breaks ties between the columns name, keywords,
// summary and body (by their number in search): a sentence reads better
// than a keyword list.
var pgColumnPreference = [4]int{4, 1, 3, 2}

// snippetScore scores a headline: a thousand per distinct marked word
// (case-folded), plus one per marked word.
func snippetScore(h string) int {
	seen := map[string]bool{}
	score := 0
	for {
		i := strings.IndexRune(h, snippetStart)
		if i < 0 {
			return score
		}
		h = h[i+1:]
		j := strings.IndexRune(h, snippetEnd)
		if j < 0 {
			j = len(h)
		}
		w := strings.ToLower(h[:j])
		if !seen[w] {
			seen[w] = true
			score += 1000
		}
		score++
		h = h[j:]
	}
}

// countSearch is CountSearch on PostgreSQL.
func (e *postgresEngine) countSearch(ctx context.Context, d *DB, sq searchQuery, idx string, codes []int) (int, error) {
	var args pgArgs
	query := args.add(sq.tsquery())
	where := pgSearchWhere(ctx, &args, idx, codes)
	var n int
	err := d.queryRow(ctx, fmt.Sprintf(pgNative+"\nSELECT count(*) FROM %s s, to_tsquery('trendql', %s) q WHERE %s", idx, query, where), args...).Scan(&n)
	return n, err
}
