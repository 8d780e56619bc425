package db

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/fnv"
	"html"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Limits on a search query.
const (
	MaxSearchQueryLen   = 200 // characters
	MaxSearchQueryWords = 16
)

// minPrefixLen is the shortest last word that also matches as a prefix.
const minPrefixLen = 2

// The snippet's highlight tags. Everything else in a snippet is
// HTML-escaped text.
const (
	SnippetMarkStart = "<mark>"
	SnippetMarkEnd   = "</mark>"
)

// SearchHit is one item a search found.
type SearchHit struct {
	// Node is the item: a *Trend, *Framework, *Company or *FAQ.
	Node Node
	// Score is the hit's relevance, higher is better. Scores compare only
	// hits of one search: they depend on the query and, on SQLite (BM25),
	// on the corpus the caller searches — the published items for anonymous
	// callers, so that drafts never move their scores; every item for
	// token holders. PostgreSQL's ts_rank scores each item on its own.
	Score float64
	// Snippet is a short passage of the item's text, as HTML: the matched
	// words are wrapped in SnippetMarkStart and SnippetMarkEnd, every other
	// character is escaped (&amp; &lt; &gt; &#34; &#39;), runs of white space
	// are one space, and "…" marks text left out.
	Snippet string

	rowID int64 // the index row: the item's id and type, see searchItem
}

// Search runs a ranked full-text search over the content visible to the
// caller (published items, and drafts too for viewer tokens and above).
//
// The query is plain text, never search syntax: it is cut into words (runs
// of letters, digits and combining marks; everything else, quotes,
// parentheses, operators and emoji included, only separates words), and an
// item matches when it contains every word, ignoring case and diacritics,
// with English stemming ("frameworks" finds "framework"). The last word
// also matches as a prefix, for search-as-you-type, when it has two
// characters or more and the query does not end with a separator such as
// a space.
//
// types limits the search to those content types; nil means every type and
// an empty list matches nothing. Hits come best first, ties broken by the
// index row id; pa pages forward (First, default 20, at most 100; After, a
// cursor from this same search). EINVALID (field "query") for a query
// longer than MaxSearchQueryLen characters, with more than
// MaxSearchQueryWords words or with no word at all; EINVALID for a bad page
// size or cursor, or for Last or Before.
func (d *DB) Search(ctx context.Context, query string, types []TypeName, pa PageArgs) (*Page[*SearchHit], error) {
	sq, err := parseSearchQuery(query)
	if err != nil {
		return nil, err
	}
	if pa.Last != nil || pa.Before != nil {
		field := "last"
		if pa.Last == nil {
			field = "before"
		}
		return nil, Invalid(field, "search pages forward only: use first and after")
	}
	n, _, err := pageSize(pa)
	if err != nil {
		return nil, err
	}
	codes, err := searchTypeCodes(types)
	if err != nil {
		return nil, err
	}
	idx := searchIndex(ctx)
	sig := sq.signature(idx+searchPerspective(ctx), codes)
	page := &Page[*SearchHit]{
		Items:           []*SearchHit{},
		HasPreviousPage: pa.After != nil,
		cursor:          func(h *SearchHit) string { return encodeSearchCursor(sig, h.Score, h.rowID) },
	}
	if len(codes) == 0 {
		return page, nil
	}

	var after *searchKey
	if pa.After != nil {
		score, rowID, err := decodeSearchCursor("after", *pa.After, sig)
		if err != nil {
			return nil, err
		}
		after = &searchKey{score, rowID}
	}
	hits, err := d.rankedHits(ctx, sq, idx, codes, after, n+1)
	if err != nil {
		return nil, fmt.Errorf("search: %w", err)
	}
	if len(hits) > n {
		hits = hits[:n]
		page.HasNextPage = true
	}
	if page.Items, err = d.searchNodes(ctx, hits); err != nil {
		return nil, fmt.Errorf("search: %w", err)
	}
	return page, nil
}

// rankedHits returns the first limit hits of a search after the key after
// (nil: from the start), with scores and snippets but no items: from the
// search cache, else ranked by the engine (and then kept).
func (d *DB) rankedHits(ctx context.Context, sq searchQuery, idx string, codes []int, after *searchKey, limit int) ([]*SearchHit, error) {
	var key string
	var gen uint64
	if d.usesSearchCache(ctx) {
		key = searchCacheKey(sq, idx, codes, after, limit)
		hits, g, ok := d.searches.get(idx, key)
		if ok {
			return hits, nil
		}
		gen = g
	}
	var hits []*SearchHit
	var err error
	if pg, ok := d.eng.(*postgresEngine); ok {
		hits, err = pg.search(ctx, d, sq, idx, codes, after, limit)
	} else {
		hits, err = d.searchFTS5(ctx, sq, idx, codes, after, limit)
	}
	if err == nil && key != "" {
		d.searches.put(idx, key, gen, hits)
	}
	return hits, err
}

// searchKey is the position of a hit in a search's order: best score
// first, then the index row id.
type searchKey struct {
	score float64
	rowID int64
}

// searchFTS5 returns the first limit hits of a search on SQLite (FTS5)
// after the key after (nil: from the start), with scores and snippets but
// no items.
func (d *DB) searchFTS5(ctx context.Context, sq searchQuery, idx string, codes []int, after *searchKey, limit int) ([]*SearchHit, error) {
	w := where{}
	w.add(idx+" MATCH ?", sq.fts5())
	searchFilters(&w, idx, codes)
	searchDrafts(ctx, &w, idx)
	keys := where{} // conditions on the ranked hits, outside the FTS scan
	if after != nil {
		keys.add("(score < ? OR (score = ? AND rid > ?))", after.score, after.score, after.rowID)
	}
	// The inner query ranks every match; LIMIT -1 keeps SQLite from
	// flattening it into the outer one, which would compute the rank twice
	// per match. The outer query makes snippets for the page's rows only:
	// snippet() must run on a full-text cursor, hence the second MATCH,
	// which FTS5 answers by rowid.
	q := fmt.Sprintf(`SELECT h.rid, h.score, %[1]s FROM (
		SELECT rid, score FROM (
			SELECT %[4]s.rowid AS rid, %[2]s AS score FROM %[4]s WHERE %[3]s LIMIT -1
		) WHERE %[5]s ORDER BY score DESC, rid LIMIT ?
	) h JOIN %[4]s ON %[4]s.rowid = h.rid
	WHERE %[4]s MATCH ?
	ORDER BY h.score DESC, h.rid`, searchSnippetSQL(idx), searchRankSQL(idx), w.sql(), idx, keys.sql())
	args := append(append([]any{string(snippetStart), string(snippetEnd)}, w.args...), keys.args...)
	args = append(args, limit, sq.fts5())
	rows, err := d.query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	hits := []*SearchHit{}
	for rows.Next() {
		h := &SearchHit{}
		var snippet string
		if err := rows.Scan(&h.rowID, &h.Score, &snippet); err != nil {
			return nil, err
		}
		h.Snippet = renderSnippet(snippet)
		hits = append(hits, h)
	}
	return hits, rows.Err()
}

// CountSearch returns how many items Search finds in all pages for the same
// query and types. Errors as Search's.
func (d *DB) CountSearch(ctx context.Context, query string, types []TypeName) (int, error) {
	sq, err := parseSearchQuery(query)
	if err != nil {
		return 0, err
	}
	codes, err := searchTypeCodes(types)
	if err != nil || len(codes) == 0 {
		return 0, err
	}
	idx := searchIndex(ctx)
	if pg, ok := d.eng.(*postgresEngine); ok {
		n, err := pg.countSearch(ctx, d, sq, idx, codes)
		if err != nil {
			return 0, fmt.Errorf("count search: %w", err)
		}
		return n, nil
	}
	w := where{}
	w.add(idx+" MATCH ?", sq.fts5())
	searchFilters(&w, idx, codes)
	searchDrafts(ctx, &w, idx)
	var n int
	if err := d.queryRow(ctx, "SELECT count(*) FROM "+idx+" WHERE "+w.sql(), w.args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("count search: %w", err)
	}
	return n, nil
}

// searchNodes loads the items of hits, one statement per content type, and
// returns the hits whose item is still there and visible (an item deleted
// between the two statements is left out rather than failing the search).
func (d *DB) searchNodes(ctx context.Context, hits []*SearchHit) ([]*SearchHit, error) {
	ids := map[TypeName][]int64{}
	for _, h := range hits {
		t, id := searchItem(h.rowID)
		ids[t] = append(ids[t], id)
	}
	nodes := map[TypeName]func(int64) (Node, bool){}
	for t, l := range ids {
		var err error
		switch t {
		case TypeTrend:
			nodes[t], err = nodeLookup(byIDs(ctx, d, trendTable, l))
		case TypeFramework:
			nodes[t], err = nodeLookup(byIDs(ctx, d, frameworkTable, l))
		case TypeCompany:
			nodes[t], err = nodeLookup(byIDs(ctx, d, companyTable, l))
		case TypeFAQ:
			nodes[t], err = nodeLookup(byIDs(ctx, d, faqTable, l))
		}
		if err != nil {
			return nil, err
		}
	}
	out := make([]*SearchHit, 0, len(hits))
	for _, h := range hits {
		t, id := searchItem(h.rowID)
		if n, ok := nodes[t](id); ok {
			h.Node = n
			out = append(out, h)
		}
	}
	return out, nil
}

func nodeLookup[T Node](m map[int64]T, err error) (func(int64) (Node, bool), error) {
	return func(id int64) (Node, bool) {
		v, ok := m[id]
		return v, ok
	}, err
}

// searchQuery is a user's query cut into words, ready to become an FTS5
// expression.
type searchQuery struct {
	words  []string // lower-case, NFC
	prefix bool     // the last word matches as a prefix
}

// parseSearchQuery cuts s into words. It never fails on the characters s
// holds, only on its size: EINVALID (field "query") when it is too long,
// has too many words or none.
func parseSearchQuery(s string) (searchQuery, error) {
	var sq searchQuery
	if n := utf8.RuneCountInString(s); n > MaxSearchQueryLen {
		return sq, Invalid("query", "query is longer than %d characters (%d)", MaxSearchQueryLen, n)
	}
	s = norm.NFC.String(strings.ToValidUTF8(s, " "))
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return !isWordRune(r) }) {
		// A run of combining marks alone is no word: the index would read
		// it as nothing, and an empty phrase matches nothing.
		if strings.IndexFunc(f, func(r rune) bool { return unicode.IsLetter(r) || unicode.IsNumber(r) }) < 0 {
			continue
		}
		sq.words = append(sq.words, strings.ToLower(f))
	}
	switch {
	case len(sq.words) == 0:
		return sq, Invalid("query", "query has no words to search for: give letters or digits")
	case len(sq.words) > MaxSearchQueryWords:
		return sq, Invalid("query", "query has more than %d words (%d)", MaxSearchQueryWords, len(sq.words))
	}
	// A query that ends inside a word is still being typed. A one-letter
	// prefix would match most of the index for little meaning (and is
	// slow: the index keeps prefixes of two and three letters only).
	last, _ := utf8.DecodeLastRuneInString(s)
	sq.prefix = isWordRune(last) && utf8.RuneCountInString(sq.words[len(sq.words)-1]) >= minPrefixLen
	return sq, nil
}

// isWordRune reports whether r belongs in a word: letters, digits and
// combining marks, as the index's unicode61 tokenizer reads them.
func isWordRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsNumber(r) || unicode.Is(unicode.M, r)
}

// fts5 renders the query in FTS5 syntax: every word a quoted string (a word
// holds no quote, so none needs escaping), all of them required, the last
// one a prefix query when sq.prefix is set.
func (sq searchQuery) fts5() string {
	var b strings.Builder
	for i, w := range sq.words {
		if i > 0 {
			b.WriteString(" AND ")
		}
		if sq.prefix && i == len(sq.words)-1 {
			// The word itself too, so that an exact match scores twice
			// and outranks longer words ("go" finds Go before Google).
			b.WriteString(`("` + w + `" OR "` + w + `"*)`)
			continue
		}
		b.WriteString(`"` + w + `"`)
	}
	return b.String()
}

// signature names one search (query, types and the index searched) inside
// its cursors, so that a cursor from another search is refused: scores of
// the public index and of the full one do not compare, so a token holder's
// cursor would page an anonymous search wrongly.
func (sq searchQuery) signature(idx string, codes []int) string {
	h := fnv.New64a()
	h.Write([]byte(idx))
	h.Write([]byte{0})
	h.Write([]byte(sq.fts5()))
	for _, c := range codes {
		h.Write([]byte{0, byte('0' + c)})
	}
	return strconv.FormatUint(h.Sum64(), 36)
}

// searchTypes are the content types by their code in the search index,
// whose rowid is id*4 + code (see migrations/0002_search.sql).
var searchTypes = [4]TypeName{TypeTrend, TypeFramework, TypeCompany, TypeFAQ}

// searchItem returns the content type and row id of an index row.
func searchItem(rowID int64) (TypeName, int64) {
	if rowID >= searchDraftRowID {
		rowID -= searchDraftRowID
	}
	return searchTypes[rowID%4], rowID / 4
}

// searchDraftRowID is where the rowids of drafts start in the "search"
// index: a draft's is its item's plus 2^40 (migrations/0009_drafts.sql).
const searchDraftRowID = 1 << 40

// searchPerspective names what a search reads, for its cursors.
func searchPerspective(ctx context.Context) string {
	if Previewing(ctx) {
		return ":preview"
	}
	return ""
}

// searchDrafts keeps the rows of the "search" index the caller reads: a
// preview reads each item's draft where it has one and its live text
// elsewhere; other token holders read the live texts only.
func searchDrafts(ctx context.Context, w *where, idx string) {
	if idx != searchAllIndex {
		return
	}
	if Previewing(ctx) {
		w.add(idx + ".rowid NOT IN (SELECT rid FROM search_drafted)")
		return
	}
	w.add(idx+".rowid < ?", searchDraftRowID)
}

// searchTypeCodes returns the sorted, distinct type codes of types; nil
// types means all of them.
func searchTypeCodes(types []TypeName) ([]int, error) {
	if types == nil {
		types = Types
	}
	var set [4]bool
	for _, t := range types {
		c := slices.Index(searchTypes[:], t)
		if c < 0 {
			return nil, Invalid("types", "unknown content type %q", truncate(string(t), 40))
		}
		set[c] = true
	}
	codes := make([]int, 0, 4)
	for c, ok := range set {
		if ok {
			codes = append(codes, c)
		}
	}
	return codes, nil
}

// The two full-text indexes (migrations/0006_search_external.sql): one of
// every item, drafts included, and one of the published items only, so that
// the scores anonymous callers see (BM25 weighs a word by how many indexed
// documents hold it, and a hit by the average document length) never move
// with what drafts hold.
const (
	searchAllIndex    = "search"
	searchPublicIndex = "search_public"
)

// searchIndex is the index the caller in ctx searches.
func searchIndex(ctx context.Context) string {
	if canSeeDrafts(ctx) {
		return searchAllIndex
	}
	return searchPublicIndex
}

// searchFilters adds the types condition on the rows of index idx.
func searchFilters(w *where, idx string, codes []int) {
	if len(codes) < len(searchTypes) {
		parts := make([]string, len(codes))
		for i, c := range codes {
			parts[i] = strconv.Itoa(c) // type codes are ours, never user text
		}
		w.add(idx + ".rowid % 4 IN (" + strings.Join(parts, ", ") + ")")
	}
}

// The index columns' weights in the ranking: a match in a name counts ten
// times one in a body.
const (
	searchWeightName     = 10.0
	searchWeightKeywords = 4.0
	searchWeightSummary  = 2.0
	searchWeightBody     = 1.0
)

// searchRankSQL is a match's score, higher is better: FTS5's BM25 with the
// column weights, negated (bm25 gives better matches lower values).
func searchRankSQL(idx string) string {
	return fmt.Sprintf("-bm25(%s, %.1f, %.1f, %.1f, %.1f)", idx,
		searchWeightName, searchWeightKeywords, searchWeightSummary, searchWeightBody)
}

// snippetTokens is the most words a snippet holds.
const snippetTokens = 24

// The markers FTS5 puts around matched words; renderSnippet turns them into
// tags. Content may hold these control characters too, but renderSnippet
// only ever emits balanced tags, so the worst a stray one can do is move a
// highlight.
const (
	snippetStart = '\x02'
	snippetEnd   = '\x03'
)

// searchSnippetSQL is a match's snippet in index idx, from the column FTS5
// finds best, with snippetStart and snippetEnd as its first two arguments.
// The index keeps no text: FTS5 reads it from the index's view by rowid.
func searchSnippetSQL(idx string) string {
	return fmt.Sprintf("snippet(%s, -1, ?, ?, '…', %d)", idx, snippetTokens)
}

// renderSnippet turns FTS5's snippet into HTML: marked words in <mark>
// tags, balanced; everything else escaped; white space collapsed; other
// control characters dropped.
func renderSnippet(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 32)
	open, space := false, false
	for _, r := range s {
		switch {
		case r == snippetStart:
			if !open {
				flushSpace(&b, &space)
				b.WriteString(SnippetMarkStart)
				open = true
			}
		case r == snippetEnd:
			if open {
				b.WriteString(SnippetMarkEnd)
				open = false
			}
		case unicode.IsSpace(r):
			space = true
		case unicode.IsControl(r), r == utf8.RuneError:
		default:
			flushSpace(&b, &space)
			b.WriteString(html.EscapeString(string(r)))
		}
	}
	if open {
		b.WriteString(SnippetMarkEnd)
	}
	return b.String()
}

func flushSpace(b *strings.Builder, space *bool) {
	if *space && b.Len() > 0 {
		b.WriteByte(' ')
	}
	*space = false
}

// encodeSearchCursor makes the cursor of a hit: the search's signature,
// the exact score and the index row, so the next page starts right after
// it (scores are floats: 'g' with precision -1 reads back to the same bits).
func encodeSearchCursor(sig string, score float64, rowID int64) string {
	b := make([]byte, 0, 64)
	b = append(b, "search:"...)
	b = append(b, sig...)
	b = append(b, ':')
	b = strconv.AppendFloat(b, score, 'g', -1, 64)
	b = append(b, ':')
	b = strconv.AppendInt(b, rowID, 10)
	return base64.RawURLEncoding.EncodeToString(b)
}

// decodeSearchCursor parses a cursor made by encodeSearchCursor for the
// search named sig; EINVALID naming field otherwise.
func decodeSearchCursor(field, cursor, sig string) (float64, int64, error) {
	bad := Invalid(field, "%q is not a valid cursor for this search", truncate(cursor, 64))
	if len(cursor) > 256 {
		return 0, 0, bad
	}
	raw, err := decodeOpaque(cursor)
	if err != nil {
		return 0, 0, bad
	}
	parts := strings.Split(string(raw), ":")
	if len(parts) != 4 || parts[0] != "search" || parts[1] != sig {
		return 0, 0, bad
	}
	score, err := strconv.ParseFloat(parts[2], 64)
	if err != nil || math.IsNaN(score) || math.IsInf(score, 0) {
		return 0, 0, bad
	}
	rowID, err := strconv.ParseInt(parts[3], 10, 64)
	if err != nil || rowID < 0 {
		return 0, 0, bad
	}
	return score, rowID, nil
}

// suspendSearch makes the search index's triggers stand aside for the rest
// of the transaction; rebuildSearch, given what it returns, must follow.
//
// The triggers are dropped, not only told to do nothing: a statement on a
// table with triggers may have to be undone halfway, so SQLite copies
// every page it changes into a statement journal first. For a bulk
// import's rows and links that copying (to a temporary file) was an
// eighth of the import's time. The drop is part of the transaction: a
// failed or dry import rolls it back with the rest, and rebuildSearch
// creates them again, from their own SQL, before the commit.
func (tx *Tx) suspendSearch() (triggers []string, err error) {
	if pg, ok := tx.db.eng.(*postgresEngine); ok {
		return nil, pg.suspendSearch(tx)
	}
	if _, err := tx.exec("INSERT OR IGNORE INTO search_suspended (one) VALUES (1)"); err != nil {
		return nil, err
	}
	rows, err := tx.query(`SELECT name, sql FROM sqlite_schema WHERE type = 'trigger' AND name GLOB 'search_*' ORDER BY rowid`)
	if err != nil {
		return nil, err
	}
	var names []string
	for rows.Next() {
		var name, q string
		if err := rows.Scan(&name, &q); err != nil {
			rows.Close()
			return nil, err
		}
		names, triggers = append(names, name), append(triggers, q)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for _, name := range names {
		if _, err := tx.exec(`DROP TRIGGER "` + name + `"`); err != nil {
			return nil, err
		}
	}
	return triggers, nil
}

// rebuildSearch re-indexes every item from the content tables in one pass
// (when changed) and turns the triggers back on (creates again the ones
// suspendSearch dropped): cheaper than the triggers' row-by-row work for a
// bulk import, and the index it leaves is one compact segment.
func (tx *Tx) rebuildSearch(changed bool, triggers []string) error {
	if pg, ok := tx.db.eng.(*postgresEngine); ok {
		return pg.rebuildSearch(tx, changed)
	}
	if changed {
		if err := tx.rebuildIndex(searchAllIndex); err != nil {
			return fmt.Errorf("rebuild search index: %w", err)
		}
		copyable, drafts, err := tx.publicIndexCopyable()
		if err != nil {
			return fmt.Errorf("rebuild search index: %w", err)
		}
		if copyable {
			err = tx.copyPublicIndex(drafts)
		} else {
			err = tx.rebuildIndex(searchPublicIndex)
		}
		if err != nil {
			return fmt.Errorf("rebuild search index: %w", err)
		}
	}
	for _, q := range triggers {
		if _, err := tx.exec(q); err != nil {
			return fmt.Errorf("rebuild search index: %w", err)
		}
	}
	_, err := tx.exec("DELETE FROM search_suspended")
	return err
}

// searchSchemaChecked is the SHA-256 of the definitions (sqlite_schema.sql,
// by name) of the two search indexes and the views that give their text, as
// migration 0006 left them: the definitions under which publicIndexCopyable's
// reasoning was checked, with migration 0009's pending drafts of published
// items (their text in "search" at rowid + 2^40, never in the public
// index). Any later change to them turns the copy off (the
// public index is rebuilt from its own view instead) until someone checks
// the reasoning again and updates this; TestSearchCopyPremise says when.
const searchSchemaChecked = "c92d3edcd1e140d8e56be4f897ad3548fd89b306da81c0a8c627e136999e2ff8"

// searchSchemaObjects are the schema objects searchSchemaChecked covers.
var searchSchemaObjects = []string{
	searchAllIndex, searchPublicIndex, "search_docs", "search_public_docs",
	"search_trend_docs", "search_framework_docs", "search_company_docs", "search_faq_docs",
	"search_trend_draft_docs", "search_framework_draft_docs", "search_company_draft_docs", "search_faq_draft_docs",
}

// searchSchemaSum is the SHA-256 (hex) of the current definitions of
// searchSchemaObjects.
func (tx *Tx) searchSchemaSum() (string, error) {
	rows, err := tx.query(`SELECT name, sql FROM sqlite_schema WHERE name IN (`+
		strings.TrimSuffix(strings.Repeat("?, ", len(searchSchemaObjects)), ", ")+`) ORDER BY name`,
		anySlice(searchSchemaObjects)...)
	if err != nil {
		return "", err
	}
	defer rows.Close()
	h := sha256.New()
	for rows.Next() {
		var name, q string
		if err := rows.Scan(&name, &q); err != nil {
			return "", err
		}
		fmt.Fprintf(h, "%d:%s%d:%s", len(name), name, len(q), q)
	}
	if err := rows.Err(); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func anySlice[T any](l []T) []any {
	out := make([]any, len(l))
	for i, x := range l {
		out[i] = x
	}
	return out
}

// publicIndexCopyable reports whether the public search index is better
// made from the index of every item than rebuilt from its own view, and
// how many items are not published. Under the definitions of migration
// 0006 (searchSchemaChecked) both indexes take the same text per item, the
// public one only the items whose status is PUBLISHED: it is the index of
// every item less its drafts. Deleting a draft from a copy tokenises its
// text once more, so the copy pays while drafts are at most a quarter of
// the items.
func (tx *Tx) publicIndexCopyable() (ok bool, drafts int, err error) {
	sum, err := tx.searchSchemaSum()
	if err != nil || sum != searchSchemaChecked {
		return false, 0, err
	}
	var items, pending int
	err = tx.queryRow(`SELECT count(*), coalesce(sum(status <> 'PUBLISHED'), 0) FROM (
		SELECT status FROM trends UNION ALL SELECT status FROM frameworks
		UNION ALL SELECT status FROM companies UNION ALL SELECT status FROM faqs)`).Scan(&items, &drafts)
	if err != nil {
		return false, 0, err
	}
	// Pending drafts of published items are in "search" too (rowid +
	// 2^40): deleted from the copy like the draft items.
	err = tx.queryRow(`SELECT (SELECT count(*) FROM trend_drafts) + (SELECT count(*) FROM framework_drafts)
		+ (SELECT count(*) FROM company_drafts) + (SELECT count(*) FROM faq_drafts)`).Scan(&pending)
	drafts += pending
	return err == nil && drafts*4 <= items, drafts, err
}

// searchDocViews are the views that give each type's indexed text and
// status, by type code (the index rowid is id * 4 + code).
var searchDocViews = []string{"search_trend_docs", "search_framework_docs", "search_company_docs", "search_faq_docs"}

// searchDraftDocViews give the indexed text of pending drafts, by type code.
var searchDraftDocViews = []string{"search_trend_draft_docs", "search_framework_draft_docs", "search_company_draft_docs", "search_faq_draft_docs"}

// copyPublicIndex makes the public index from the index of every item
// (publicIndexCopyable): a copy of it, then, when some items are drafts,
// each draft deleted from it ('delete' with the text it was indexed with,
// which its view gives) and the index merged into one segment again,
// which drops the deleted entries: the same documents, counts and
// statistics as a rebuild from the public view, so the same results,
// scores and snippets.
func (tx *Tx) copyPublicIndex(drafts int) error {
	if err := tx.copyIndex(searchAllIndex, searchPublicIndex); err != nil || drafts == 0 {
		return err
	}
	for code, view := range searchDocViews {
		_, err := tx.exec(fmt.Sprintf(`INSERT INTO %[1]s (%[1]s, rowid, name, keywords, summary, body)
			SELECT 'delete', id * 4 + %[2]d, name, keywords, summary, body FROM %[3]s WHERE status <> 'PUBLISHED'`,
			searchPublicIndex, code, view))
		if err != nil {
			return fmt.Errorf("copy search index: %w", err)
		}
		_, err = tx.exec(fmt.Sprintf(`INSERT INTO %[1]s (%[1]s, rowid, name, keywords, summary, body)
			SELECT 'delete', id * 4 + %[2]d, name, keywords, summary, body FROM %[3]s`,
			searchPublicIndex, int64(code)+searchDraftRowID, searchDraftDocViews[code]))
		if err != nil {
			return fmt.Errorf("copy search index: %w", err)
		}
	}
	_, err := tx.exec("INSERT INTO " + searchPublicIndex + " (" + searchPublicIndex + ") VALUES ('optimize')")
	return err
}

// copyIndex makes the FTS5 index to a copy of from, an index of the same
// definition (columns, tokenizer, options; publicIndexCopyable), freshly
// compacted into one segment (rebuildIndex): it copies the rows of from's
// shadow tables (the segments, the structure and averages records, each
// document's size) instead of reading and tokenising every document a
// second time, which was a quarter of a large import. The copy is what
// rebuilding to from from's documents would write.
//
// FTS5 caches an index's structure record per connection and notices
// other connections' writes to it, not this one's: the next write to the
// index on this connection would start from the structure it cached
// before the copy (and give its new segment the id of a copied one). So
// 'delete-all' comes first, which leaves the cache holding the empty
// structure it writes, and 'optimize' last, which drops the cached
// structure and, finding no two segments in it, writes nothing. to keeps
// its own settings (its config table); the structure record's
// configuration cookie, copied from from's, only makes FTS5 read them
// again.
func (tx *Tx) copyIndex(from, to string) error {
	stmts := []string{"INSERT INTO " + to + " (" + to + ") VALUES ('delete-all')"}
	for _, shadow := range []string{"_data", "_idx", "_docsize"} {
		stmts = append(stmts, "DELETE FROM "+to+shadow, "INSERT INTO "+to+shadow+" SELECT * FROM "+from+shadow)
	}
	stmts = append(stmts, "INSERT INTO "+to+" ("+to+") VALUES ('optimize')")
	for _, q := range stmts {
		if _, err := tx.exec(q); err != nil {
			return fmt.Errorf("copy search index %s: %w", from, err)
		}
	}
	return nil
}

// rebuildMerge are the FTS5 merge settings of an index while it is rebuilt
// and then optimized: no merging while it is written. FTS5 writes a new
// segment each time its pending terms fill its hash (1 MiB), and by
// default merges segments as it goes (automerge 4, crisismerge 16), work
// that the 'optimize' after the rebuild (one merge of every segment)
// repeats: a fifth of the rebuild's time at 10x. crisismerge still bounds
// the segments of a level (FTS5 refuses more than 2,000 in all).
var rebuildMerge = []struct {
	key  string
	val  int
	dflt int // FTS5's default, restored when the index stores none
}{{"automerge", 0, 4}, {"crisismerge", 64, 16}}

// rebuildIndex empties idx, an external content index, and indexes its
// view again ('rebuild'), merged into one segment ('optimize'), with its
// merge settings set aside meanwhile.
func (tx *Tx) rebuildIndex(idx string) error {
	had := make([]int, len(rebuildMerge))
	for i, m := range rebuildMerge {
		had[i] = m.dflt
		err := tx.queryRow("SELECT v FROM "+idx+"_config WHERE k = ?", m.key).Scan(&had[i])
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if _, err := tx.exec("INSERT INTO "+idx+" ("+idx+", rank) VALUES (?, ?)", m.key, m.val); err != nil {
			return err
		}
	}
	for _, cmd := range []string{"rebuild", "optimize"} {
		if _, err := tx.exec("INSERT INTO " + idx + " (" + idx + ") VALUES ('" + cmd + "')"); err != nil {
			return err
		}
	}
	// The settings are stored in the index's config table: give back the
	// ones it had (FTS5's defaults when it stored none).
	for i, m := range rebuildMerge {
		if _, err := tx.exec("INSERT INTO "+idx+" ("+idx+", rank) VALUES (?, ?)", m.key, had[i]); err != nil {
			return err
		}
	}
	return nil
}

// compactSearchAfter merges the search indexes into one segment each when a
// write of changed items rewrote a good part of them (a quarter or more).
// FTS5 writes each statement's index rows as a new segment, and a bulk
// import leaves hundreds of them, which every search must then seek: a
// selective search on a freshly imported 10,000-item corpus ran twice as
// fast once merged. Single-item writes need none of this: FTS5's automerge
// keeps up.
func (tx *Tx) compactSearchAfter(changed int) error {
	if changed == 0 || tx.db.eng.name() != "sqlite" {
		return nil
	}
	var items int
	err := tx.queryRow(`SELECT (SELECT count(*) FROM trends) + (SELECT count(*) FROM frameworks)
		+ (SELECT count(*) FROM companies) + (SELECT count(*) FROM faqs)`).Scan(&items)
	if err != nil {
		return fmt.Errorf("compact search index: %w", err)
	}
	if changed*4 < items {
		return nil
	}
	for _, idx := range []string{searchAllIndex, searchPublicIndex} {
		if _, err := tx.exec("INSERT INTO " + idx + " (" + idx + ") VALUES ('optimize')"); err != nil {
			return fmt.Errorf("compact search index: %w", err)
		}
	}
	return nil
}
