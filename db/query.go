package db

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// Page sizes for connections.
const (
	DefaultPageSize = 20
	MaxPageSize     = 100
)

// Direction is a sort direction.
type Direction string

// The sort directions.
const (
	Asc  Direction = "ASC"
	Desc Direction = "DESC"
)

// PageArgs are Relay connection arguments. First/After page forwards,
// Last/Before backwards; After and Before may bound a page together.
type PageArgs struct {
	First  *int
	After  *string
	Last   *int
	Before *string
}

// Page is one page of a list in a stable order, with what Relay's PageInfo
// needs. Cursors are computed on demand.
type Page[T any] struct {
	Items           []T
	HasNextPage     bool
	HasPreviousPage bool
	cursor          func(T) string
}

// Cursor returns the opaque cursor of Items[i].
func (p *Page[T]) Cursor(i int) string { return p.cursor(p.Items[i]) }

// StartCursor returns the first item's cursor, or nil on an empty page.
func (p *Page[T]) StartCursor() *string {
	if len(p.Items) == 0 {
		return nil
	}
	c := p.Cursor(0)
	return &c
}

// EndCursor returns the last item's cursor, or nil on an empty page.
func (p *Page[T]) EndCursor() *string {
	if len(p.Items) == 0 {
		return nil
	}
	c := p.Cursor(len(p.Items) - 1)
	return &c
}

// where accumulates SQL conditions and their arguments.
type where struct {
	parts []string
	args  []any
}

func (w *where) add(cond string, args ...any) {
	w.parts = append(w.parts, cond)
	w.args = append(w.args, args...)
}

// sql returns the conditions joined with AND ("TRUE" when there are none).
func (w *where) sql() string {
	if len(w.parts) == 0 {
		return "TRUE"
	}
	return strings.Join(w.parts, " AND ")
}

// orderCol is a column a list may be sorted by: its SQL expression and how
// to read the same key from a loaded item (for cursors).
type orderCol[T any] struct {
	expr  string
	isInt bool
	key   func(T) any
}

// orderKey is one resolved sort key.
type orderKey[T any] struct {
	name string
	col  orderCol[T]
	desc bool
}

// table describes how to read one content type.
type table[T any] struct {
	typ    TypeName
	name   string // SQL table
	alias  string // SQL alias used in conditions
	cols   string // SELECT list, qualified with alias
	scan   func(scanner) (T, error)
	rowID  func(T) int64
	orders map[string]orderCol[T]
	// defaultOrder is the sort when the caller gives none.
	defaultOrder string
	// For the row cache (content types only; nil otherwise): a row's
	// Meta, a shallow copy (what the cache keeps and hands out, so no
	// reader shares a row with another), and an estimate of its memory.
	meta  func(T) *Meta
	clone func(T) T
	size  func(T) int64
}

// cached reports whether reads of tb with ctx go through the row cache.
func (tb *table[T]) cached(ctx context.Context, d *DB) bool {
	return tb.meta != nil && d.usesRowCache(ctx)
}

type scanner interface{ Scan(dest ...any) error }

// resolveOrder turns (field, direction) pairs into sort keys, always ending
// with the row id so the order is total.
func (tb *table[T]) resolveOrder(fields []string, dirs []Direction) ([]orderKey[T], error) {
	if len(fields) == 0 {
		fields, dirs = []string{tb.defaultOrder}, []Direction{Asc}
	}
	if len(fields) > 4 {
		return nil, Invalid("orderBy", "at most 4 sort keys are allowed")
	}
	keys := make([]orderKey[T], 0, len(fields)+1)
	seen := map[string]bool{}
	for i, f := range fields {
		col, ok := tb.orders[f]
		if !ok {
			return nil, Invalid("orderBy", "cannot order %s by %q", tb.typ, f)
		}
		if seen[f] {
			return nil, Invalid("orderBy", "%s appears twice in orderBy", f)
		}
		seen[f] = true
		dir := Asc
		if i < len(dirs) && dirs[i] != "" {
			dir = dirs[i]
		}
		if dir != Asc && dir != Desc {
			return nil, Invalid("orderBy", "unknown direction %q", dir)
		}
		keys = append(keys, orderKey[T]{name: f, col: col, desc: dir == Desc})
	}
	keys = append(keys, orderKey[T]{name: "ID", col: orderCol[T]{
		expr: tb.alias + ".id", isInt: true, key: func(v T) any { return tb.rowID(v) },
	}})
	return keys, nil
}

// orderSig names an ordering inside its cursors, so that a cursor from one
// ordering is refused by another.
func orderSig[T any](keys []orderKey[T]) string {
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(k.name)
		if k.desc {
			b.WriteString("-")
		}
	}
	return b.String()
}

func encodeCursor[T any](keys []orderKey[T], sig string, v T) string {
	vals := make([]any, 0, len(keys)+1)
	vals = append(vals, sig)
	for _, k := range keys {
		vals = append(vals, k.col.key(v))
	}
	b, _ := json.Marshal(vals)
	return base64.RawURLEncoding.EncodeToString(b)
}

// decodeCursor parses a cursor made by encodeCursor for the same ordering.
func decodeCursor[T any](field, cursor string, keys []orderKey[T], sig string) ([]any, error) {
	bad := Invalid(field, "%q is not a valid cursor for this list and ordering", truncate(cursor, 64))
	if len(cursor) > 1024 {
		return nil, bad
	}
	raw, err := decodeOpaque(cursor)
	if err != nil {
		return nil, bad
	}
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.UseNumber()
	var vals []any
	if err := dec.Decode(&vals); err != nil || dec.More() || len(vals) != len(keys)+1 {
		return nil, bad
	}
	if s, ok := vals[0].(string); !ok || s != sig {
		return nil, bad
	}
	out := make([]any, len(keys))
	for i, k := range keys {
		v := vals[i+1]
		if k.col.isInt {
			n, ok := v.(json.Number)
			if !ok {
				return nil, bad
			}
			iv, err := strconv.ParseInt(string(n), 10, 64)
			if err != nil {
				return nil, bad
			}
			out[i] = iv
		} else {
			s, ok := v.(string)
			if !ok {
				return nil, bad
			}
			out[i] = s
		}
	}
	return out, nil
}

// keyset returns the condition "row comes after vals in keys' order"
// (before, when reverse is set), expanded so mixed directions work:
// (a > ?) OR (a = ? AND b > ?) OR ...
func keyset[T any](keys []orderKey[T], vals []any, reverse bool) (string, []any) {
	var ors []string
	var args []any
	for i := range keys {
		var ands []string
		for j := 0; j < i; j++ {
			ands = append(ands, keys[j].col.expr+" = ?")
			args = append(args, vals[j])
		}
		op := ">"
		if keys[i].desc != reverse {
			op = "<"
		}
		ands = append(ands, keys[i].col.expr+" "+op+" ?")
		args = append(args, vals[i])
		ors = append(ors, "("+strings.Join(ands, " AND ")+")")
	}
	return "(" + strings.Join(ors, " OR ") + ")", args
}

func orderBySQL[T any](keys []orderKey[T], reverse bool) string {
	parts := make([]string, len(keys))
	for i, k := range keys {
		dir := "ASC"
		if k.desc != reverse {
			dir = "DESC"
		}
		parts[i] = k.col.expr + " " + dir
	}
	return strings.Join(parts, ", ")
}

// pageSize validates first/last and returns the size and direction.
func pageSize(pa PageArgs) (n int, backward bool, err error) {
	switch {
	case pa.First != nil && pa.Last != nil:
		return 0, false, Invalid("last", "give first or last, not both")
	case pa.First != nil:
		n = *pa.First
		if n < 0 || n > MaxPageSize {
			return 0, false, Invalid("first", "first must be between 0 and %d, got %d", MaxPageSize, n)
		}
		return n, false, nil
	case pa.Last != nil:
		n = *pa.Last
		if n < 0 || n > MaxPageSize {
			return 0, false, Invalid("last", "last must be between 0 and %d, got %d", MaxPageSize, n)
		}
		return n, true, nil
	}
	return DefaultPageSize, false, nil
}

// visible adds the drafts rule for the caller in ctx.
func visible(ctx context.Context, w *where, alias string) {
	if !canSeeDrafts(ctx) {
		w.add(alias + ".status = 'PUBLISHED'")
	}
}

// list reads one page of tb's rows that match w, in the given order.
func list[T any](ctx context.Context, d *DB, tb *table[T], w where, fields []string, dirs []Direction, pa PageArgs) (*Page[T], error) {
	keys, err := tb.resolveOrder(fields, dirs)
	if err != nil {
		return nil, err
	}
	n, backward, err := pageSize(pa)
	if err != nil {
		return nil, err
	}
	sig := orderSig(keys)
	if pa.After != nil {
		vals, err := decodeCursor("after", *pa.After, keys, sig)
		if err != nil {
			return nil, err
		}
		cond, args := keyset(keys, vals, false)
		w.add(cond, args...)
	}
	if pa.Before != nil {
		vals, err := decodeCursor("before", *pa.Before, keys, sig)
		if err != nil {
			return nil, err
		}
		cond, args := keyset(keys, vals, true)
		w.add(cond, args...)
	}
	page := &Page[T]{cursor: func(v T) string { return encodeCursor(keys, sig, v) }}
	if n == 0 {
		page.Items = []T{}
		// An empty page still says whether there is something beyond the cursor.
		page.HasPreviousPage = pa.After != nil
		page.HasNextPage = pa.Before != nil
		return page, nil
	}
	// The page's statement for a select list: the full columns, or the
	// row cache's keys.
	sel := func(cols string) string {
		return fmt.Sprintf("SELECT %s FROM %s %s WHERE %s ORDER BY %s LIMIT %d",
			cols, tb.name, tb.alias, w.sql(), orderBySQL(keys, backward), n+1)
	}
	q := sel(tb.cols)
	args := w.args
	if Previewing(ctx) {
		// The page of the content table's items without a draft (in its
		// index order) and the page of the drafted items, merged: a view
		// of both would be read whole and sorted.
		arm := func(from, extra string) string {
			return fmt.Sprintf("SELECT * FROM (SELECT %s FROM %s %s WHERE %s%s ORDER BY %s LIMIT %d) AS arm",
				tb.cols, from, tb.alias, w.sql(), extra, orderBySQL(keys, backward), n+1)
		}
		q = fmt.Sprintf("SELECT * FROM (%s UNION ALL %s) %s ORDER BY %s LIMIT %d",
			arm(tb.name, " AND "+notDrafted(tb.typ, tb.alias+".id")), arm(tb.name+"_drafted", ""),
			tb.alias, orderBySQL(keys, backward), n+1)
		args = twice(w.args)
	}
	var items []T
	if tb.cached(ctx, d) {
		items, _, err = cachedRead(ctx, d, tb, "", sel, args)
	} else {
		items, err = scanAll(ctx, d, tb, q, args...)
	}
	if err != nil {
		return nil, err
	}
	more := len(items) > n
	if more {
		items = items[:n]
	}
	if backward {
		for i, j := 0, len(items)-1; i < j; i, j = i+1, j-1 {
			items[i], items[j] = items[j], items[i]
		}
		page.HasPreviousPage = more
		page.HasNextPage = pa.Before != nil
	} else {
		page.HasNextPage = more
		page.HasPreviousPage = pa.After != nil
	}
	page.Items = items
	return page, nil
}

// count returns how many of tb's rows match w.
func count[T any](ctx context.Context, d *DB, tb *table[T], w where) (int, error) {
	var n int
	q := fmt.Sprintf("SELECT count(*) FROM %s %s WHERE %s", tb.name, tb.alias, w.sql())
	args := w.args
	if Previewing(ctx) {
		q = fmt.Sprintf("SELECT (SELECT count(*) FROM %s %s WHERE %s AND %s) + (SELECT count(*) FROM %s_drafted %s WHERE %s)",
			tb.name, tb.alias, w.sql(), notDrafted(tb.typ, tb.alias+".id"), tb.name, tb.alias, w.sql())
		args = twice(w.args)
	}
	if err := d.queryRow(ctx, q, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("count %s: %w", tb.typ, err)
	}
	return n, nil
}

func scanAll[T any](ctx context.Context, d *DB, tb *table[T], q string, args ...any) ([]T, error) {
	rows, err := d.query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", tb.typ, err)
	}
	defer rows.Close()
	items := []T{}
	for rows.Next() {
		v, err := tb.scan(rows)
		if err != nil {
			return nil, fmt.Errorf("scan %s: %w", tb.typ, err)
		}
		items = append(items, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list %s: %w", tb.typ, err)
	}
	return items, nil
}

// get reads the one visible row matching cond; ENOTFOUND when none.
func get[T any](ctx context.Context, d *DB, tb *table[T], cond string, args ...any) (T, error) {
	w := where{}
	w.add(cond, args...)
	visible(ctx, &w, tb.alias)
	sel := func(cols string) string {
		return fmt.Sprintf("SELECT %s FROM %s %s WHERE %s", cols, source(ctx, tb.name), tb.alias, w.sql())
	}
	if tb.cached(ctx, d) {
		items, _, err := cachedRead(ctx, d, tb, "", sel, w.args)
		if err == nil && len(items) == 0 {
			err = Errorf(ENOTFOUND, "%s not found", tb.typ)
		}
		if err != nil {
			var zero T
			return zero, err
		}
		return items[0], nil
	}
	v, err := tb.scan(d.queryRow(ctx, sel(tb.cols), w.args...))
	if err == sql.ErrNoRows {
		var zero T
		return zero, Errorf(ENOTFOUND, "%s not found", tb.typ)
	}
	if err != nil {
		var zero T
		return zero, fmt.Errorf("get %s: %w", tb.typ, err)
	}
	return v, nil
}

// byIDs reads the visible rows with the given row ids, keyed by id; absent
// ids are missing from the map. One statement whatever the number of ids.
func byIDs[T any](ctx context.Context, d *DB, tb *table[T], ids []int64) (map[int64]T, error) {
	w := where{}
	idIn(&w, tb.alias+".id", ids)
	visible(ctx, &w, tb.alias)
	sel := func(cols string) string {
		return fmt.Sprintf("SELECT %s FROM %s %s WHERE %s", cols, source(ctx, tb.name), tb.alias, w.sql())
	}
	var items []T
	var err error
	if tb.cached(ctx, d) {
		items, _, err = cachedRead(ctx, d, tb, "", sel, w.args)
	} else {
		items, err = scanAll(ctx, d, tb, sel(tb.cols), w.args...)
	}
	if err != nil {
		return nil, err
	}
	out := make(map[int64]T, len(items))
	for _, v := range items {
		out[tb.rowID(v)] = v
	}
	return out, nil
}

// idIn adds the condition "col is one of ids". One id is the common case
// (one item's relations, one node): an equality is planned as one index
// seek, where the list form parses JSON and builds a temporary table
// first.
func idIn(w *where, col string, ids []int64) {
	if len(ids) == 1 {
		w.add(col+" = ?", ids[0])
		return
	}
	w.add(col+" IN (SELECT CAST(value AS INTEGER) FROM json_each(?))", int64sJSON(ids))
}

// link describes a many-to-many relation table read from one side.
type link struct {
	table    string // link table
	from, to string // columns: the side we know, the side we load
	order    string // ORDER BY within one item's related rows; default the link's position
}

// related loads, for each of the given ids on the link's "from" side, the
// visible rows of tb on its "to" side, in the link's position order. One
// statement whatever the number of ids (the ids travel as one JSON array).
func related[T any](ctx context.Context, d *DB, tb *table[T], l link, ids []int64) (map[int64][]T, error) {
	w := where{}
	idIn(&w, "l."+l.from, ids)
	visible(ctx, &w, tb.alias)
	order := l.order
	if order == "" {
		order = "l.position"
	}
	// The statement for a select list after the link's owner column: the
	// full columns, or the row cache's keys.
	sel := func(cols string) string {
		return fmt.Sprintf("SELECT %s FROM %s l JOIN %s %s ON %s.id = l.%s WHERE %s ORDER BY l.%s, %s",
			cols, l.table, tb.name, tb.alias, tb.alias, l.to, w.sql(), l.from, order)
	}
	q := sel("l." + l.from + ", " + tb.cols)
	args := w.args
	var scan func(s scanner, from *int64) (T, error)
	if Previewing(ctx) {
		// The drafted owners' links and the others', each joined to the
		// items with their drafts (by primary key), then ordered: a view
		// of both link tables would be read whole.
		arm := func(from, extra string) string {
			return fmt.Sprintf("SELECT l.%s AS _from, %s, l.position AS _pos FROM %s l JOIN %s_overlay %s ON %s.id = l.%s WHERE %s%s",
				l.from, tb.cols, from, tb.name, tb.alias, tb.alias, l.to, w.sql(), extra)
		}
		if order == "l.position" {
			order = tb.alias + "._pos"
		}
		q = fmt.Sprintf("SELECT * FROM (%s UNION ALL %s) %s ORDER BY %s._from, %s",
			arm(l.table+"_drafts", ""), arm(l.table, " AND "+linkNotDrafted(l.table)), tb.alias, tb.alias, order)
		args = twice(w.args)
		scan = func(s scanner, from *int64) (T, error) {
			return tb.scan(prefixScanner{s: s, first: from, discardLast: true})
		}
	} else {
		scan = func(s scanner, from *int64) (T, error) { return tb.scan(prefixScanner{s: s, first: from}) }
		if tb.cached(ctx, d) {
			read := func() ([]T, []int64, error) { return cachedRead(ctx, d, tb, "l."+l.from, sel, args) }
			if _, known := linkTypes[l.table]; known && d.usesRelCache(ctx) {
				out, err := cachedRelated(ctx, d, tb, l, ids, read)
				if err != nil {
					return nil, fmt.Errorf("load %s by %s: %w", tb.typ, l.table, err)
				}
				return out, nil
			}
			items, from, err := read()
			if err != nil {
				return nil, fmt.Errorf("load %s by %s: %w", tb.typ, l.table, err)
			}
			out := make(map[int64][]T, len(ids))
			for i, v := range items {
				out[from[i]] = append(out[from[i]], v)
			}
			return out, nil
		}
	}
	rows, err := d.query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("load %s by %s: %w", tb.typ, l.table, err)
	}
	defer rows.Close()
	out := make(map[int64][]T, len(ids))
	for rows.Next() {
		var from int64
		v, err := scan(rows, &from)
		if err != nil {
			return nil, fmt.Errorf("scan %s: %w", tb.typ, err)
		}
		out[from] = append(out[from], v)
	}
	return out, rows.Err()
}

// prefixScanner scans one leading column into first, then the rest.
type prefixScanner struct {
	s     scanner
	first *int64
	// discardLast: one more column follows the rest, not wanted.
	discardLast bool
}

func (p prefixScanner) Scan(dest ...any) error {
	all := append([]any{p.first}, dest...)
	if p.discardLast {
		var skip any
		all = append(all, &skip)
	}
	return p.s.Scan(all...)
}

// linkOwner is, for each link table, the column of the item whose document
// lists the link (its owner) and the owners' drafts table.
var linkOwner = map[string][2]string{
	"framework_companies": {"framework_id", "framework_drafts"},
	"trend_companies":     {"trend_id", "trend_drafts"},
	"trend_frameworks":    {"trend_id", "trend_drafts"},
	"faq_frameworks":      {"faq_id", "faq_drafts"},
	"faq_trends":          {"faq_id", "faq_drafts"},
}

// linkNotDrafted is the condition "link row l's owner has no draft" (a
// drafted owner's links are in the drafts link table).
func linkNotDrafted(table string) string {
	o := linkOwner[table]
	return "NOT EXISTS (SELECT 1 FROM " + o[1] + " dd WHERE dd.id = l." + o[0] + ")"
}

// twice is the arguments of a condition written in both arms of a
// preview's query (see list and related), in a new slice.
func twice(args []any) []any {
	return append(append(make([]any, 0, 2*len(args)), args...), args...)
}

// notDrafted is the condition "item id of type t has no draft".
func notDrafted(t TypeName, id string) string {
	return "NOT EXISTS (SELECT 1 FROM " + draftTableOf[t] + " dd WHERE dd.id = " + id + ")"
}

func int64sJSON(ids []int64) string {
	b := make([]byte, 0, len(ids)*4+2)
	b = append(b, '[')
	for i, id := range ids {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, id, 10)
	}
	return string(append(b, ']'))
}
