package db

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/go-json-experiment/json/jsontext"
)

// MaxImportRecords is the most records of one kind (companies,
// frameworks, trends, FAQs) a content file may hold: ten times the
// largest list of the benchmark's 10× set, well beyond any real site. It
// bounds what an import keeps that grows with the file (a rank or
// position per trend and FAQ, a bit per row id) and how long one
// transaction holds the write lock.
const MaxImportRecords = 1_000_000

// maxRecordBytes bounds one record's JSON text: the field limits allow a
// record of about 1.3 MB at most (a 100,000-character body of 4-byte
// characters, escaped), so a larger one is refused as soon as it is read
// instead of being held in memory whole.
const maxRecordBytes = 4 << 20

// contentSink receives a content document's parts as they are read. The
// lists arrive in dependency order (companies, frameworks, trends, FAQs)
// whatever their order in the file, each record with its index in its
// list; end is called once after the last part.
type contentSink interface {
	format(string) error
	article(*ArticleDoc) error
	company(i int, x *CompanyDoc) error
	framework(i int, x *FrameworkDoc) error
	trend(i int, x *TrendDoc) error
	faq(i int, x *FAQDoc) error
	end(formatSeen bool) error
}

// listOrder names the lists in the order a sink receives them: each
// refers only to those before it.
var listOrder = []string{"companies", "frameworks", "trends", "faqs"}

// readContent streams a content document from r into sink, one record at
// a time: memory holds one record (and, for a list that comes before a list
// it refers to, a temporary file of its records), never the document. An
// error that jsontext reports at a byte offset is placed at a line and
// column when r can seek (a file); otherwise by its offset.
func readContent(r io.Reader, sink contentSink) error {
	_, err := readContentMode(r, sink, false)
	return err
}

// scanContent reads a content document through without decoding its
// records: it finds what is wrong with the file's JSON (syntax, UTF-8, a
// member twice, an unknown top-level field, the format) and a list longer
// than MaxImportRecords, quickly and before anything is written. It
// returns how many records (companies, frameworks, trends and FAQs) the
// document holds.
func scanContent(r io.Reader) (records int, err error) {
	cr, err := readContentMode(r, nil, true)
	return cr.records, err
}

func readContentMode(r io.Reader, sink contentSink, scan bool) (*contentReader, error) {
	// jsontext over encoding/json's Decoder: it reads a stream with exact
	// byte offsets in its errors (encoding/json's are relative to an
	// internal buffer once Token and Decode mix), refuses invalid UTF-8
	// and lone surrogate escapes with the JSON pointer of the field
	// (encoding/json turns them into U+FFFD silently), and refuses a
	// member name given twice.
	g := &guard{r: r, max: maxRecordBytes}
	dec := jsontext.NewDecoder(g)
	cr := &contentReader{dec: dec, guard: g, sink: sink, src: r, seen: map[string]bool{}, scan: scan}
	err := cr.read()
	for _, s := range cr.spools {
		s.f.Close()
		os.Remove(s.f.Name())
	}
	return cr, err
}

type contentReader struct {
	dec        *jsontext.Decoder
	guard      *guard
	sink       contentSink
	src        io.Reader
	seen       map[string]bool // lists delivered (or spooled)
	spools     []*spool
	formatSeen bool
	scan       bool // only check the JSON and count the records
	records    int  // records counted (scan)
}

// spool holds a list that came before a list it refers to until the
// document's end: its raw records, each after its length (a uvarint).
type spool struct {
	name string
	f    *os.File
	n    int
}

func (cr *contentReader) read() error {
	dec := cr.dec
	switch k := dec.PeekKind(); k {
	case '{':
	case 0:
		_, err := dec.ReadToken()
		if err == io.EOF {
			return Invalid("", "the file is empty")
		}
		return cr.syntax(err)
	case 'n':
		return Invalid("", "the file must hold a JSON object (a %s document), not null", ContentFormat)
	default:
		return Invalid("", "the file must hold a JSON object (a %s document), not a JSON %s", ContentFormat, kindName(k))
	}
	if _, err := dec.ReadToken(); err != nil {
		return cr.syntax(err)
	}
	for {
		if dec.PeekKind() == '}' {
			break
		}
		cr.guard.max = dec.InputOffset() + maxRecordBytes
		tok, err := dec.ReadToken()
		if errors.Is(err, errTooLarge) {
			return Invalid("", "the file has a top-level field name longer than %d MiB", maxRecordBytes>>20)
		} else if err != nil {
			return cr.syntax(err)
		}
		name := tok.String()
		switch name {
		case "format":
			v, err := cr.value("format")
			if err != nil {
				return err
			}
			var f string
			if err := strictDecode(v, &f); err != nil {
				return decodeError("format", err)
			}
			if f != ContentFormat {
				return Invalid("format", "format must be %q, got %q", ContentFormat, truncate(f, 40))
			}
			cr.formatSeen = true
			if cr.scan {
				continue
			}
			if err := cr.sink.format(f); err != nil {
				return err
			}
		case "article":
			v, err := cr.value("article")
			if err != nil {
				return err
			}
			if string(v) == "null" || cr.scan {
				continue
			}
			a := &ArticleDoc{}
			if err := strictDecode(v, a); err != nil {
				return decodeError("article", err)
			}
			if err := cr.sink.article(a); err != nil {
				return err
			}
		case "companies", "frameworks", "trends", "faqs":
			if err := cr.list(name); err != nil {
				return err
			}
		default:
			return Invalid(name, "unknown field %q at the top level", truncate(name, 64))
		}
	}
	if _, err := dec.ReadToken(); err != nil {
		return cr.syntax(err)
	}
	cr.guard.max = dec.InputOffset() + maxRecordBytes
	if _, err := dec.ReadToken(); err != io.EOF {
		if err == nil {
			return cr.syntaxAt(dec.InputOffset(), "there is more after the document's closing brace")
		}
		return cr.syntax(err)
	}
	if cr.scan {
		if !cr.formatSeen {
			return Invalid("format", "format must be %q, got %q", ContentFormat, "")
		}
		return nil
	}
	for _, name := range listOrder {
		for _, s := range cr.spools {
			if s.name == name {
				if err := cr.replay(s); err != nil {
					return err
				}
			}
		}
	}
	return cr.sink.end(cr.formatSeen)
}

// value reads the next value whole (a record, the article, the format),
// refusing one larger than maxRecordBytes before it is all in memory.
func (cr *contentReader) value(field string) (jsontext.Value, error) {
	cr.guard.max = cr.dec.InputOffset() + maxRecordBytes
	v, err := cr.dec.ReadValue()
	if errors.Is(err, errTooLarge) {
		return nil, Invalid(field, "%s is larger than %d MiB", field, maxRecordBytes>>20)
	} else if err != nil {
		return nil, cr.syntax(err)
	}
	return v, nil
}

var errTooLarge = errors.New("value too large")

// guard reads from r and fails once it has read more than max bytes (plus
// what the decoder reads ahead).
type guard struct {
	r   io.Reader
	n   int64
	max int64
}

func (g *guard) Read(p []byte) (int, error) {
	left := g.max + guardSlack - g.n
	if left <= 0 {
		return 0, errTooLarge
	}
	if int64(len(p)) > left {
		p = p[:left]
	}
	n, err := g.r.Read(p)
	g.n += int64(n)
	return n, err
}

// guardSlack is how far past a value's limit the decoder may read ahead.
const guardSlack = 256 << 10

// list reads one list; it is delivered at once when the lists it refers
// to came before it, else spooled.
func (cr *contentReader) list(name string) error {
	dec := cr.dec
	if k := dec.PeekKind(); k == 'n' {
		_, err := dec.ReadToken()
		return cr.syntax(err)
	} else if k != '[' {
		if k == 0 {
			_, err := dec.ReadToken()
			return cr.syntax(err)
		}
		return Invalid(name, "%s must be a list, not a JSON %s", name, kindName(k))
	}
	if cr.seen[name] {
		return Invalid(name, "%s appears twice at the top level", name)
	}
	cr.seen[name] = true
	var sp *spool
	for _, before := range listOrder {
		if before == name || cr.scan {
			break
		}
		if !cr.seen[before] {
			f, err := os.CreateTemp("", "trendql-import-*.jsonl")
			if err != nil {
				return fmt.Errorf("import: %w", err)
			}
			sp = &spool{name: name, f: f}
			cr.spools = append(cr.spools, sp)
			break
		}
	}
	var w *bufio.Writer
	if sp != nil {
		w = bufio.NewWriter(sp.f)
	}
	if _, err := dec.ReadToken(); err != nil {
		return cr.syntax(err)
	}
	for i := 0; dec.PeekKind() != ']'; i++ {
		v, err := cr.value(fmt.Sprintf("%s[%d]", name, i))
		if err != nil {
			return err
		}
		if i >= MaxImportRecords {
			return Invalid(name, "the file has more than %d %s; the limit is %d of each kind", MaxImportRecords, name, MaxImportRecords)
		}
		if cr.scan {
			cr.records++
			continue
		}
		if sp != nil {
			w.Write(binary.AppendUvarint(nil, uint64(len(v))))
			if _, err := w.Write(v); err != nil {
				return fmt.Errorf("import: %w", err)
			}
			sp.n++
			continue
		}
		if err := cr.record(name, i, v); err != nil {
			return err
		}
	}
	if _, err := dec.ReadToken(); err != nil {
		return cr.syntax(err)
	}
	if w != nil {
		if err := w.Flush(); err != nil {
			return fmt.Errorf("import: %w", err)
		}
	}
	return nil
}

// replay delivers a spooled list.
func (cr *contentReader) replay(s *spool) error {
	if _, err := s.f.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("import: %w", err)
	}
	br := bufio.NewReader(s.f)
	var buf []byte
	for i := range s.n {
		n, err := binary.ReadUvarint(br)
		if err != nil || n > maxRecordBytes {
			return fmt.Errorf("import: reading back %s: %v", s.f.Name(), err)
		}
		buf = slices.Grow(buf[:0], int(n))[:n]
		if _, err := io.ReadFull(br, buf); err != nil {
			return fmt.Errorf("import: reading back %s: %w", s.f.Name(), err)
		}
		if err := cr.record(s.name, i, buf); err != nil {
			return err
		}
	}
	return nil
}

// record decodes record i of list name and hands it to the sink.
func (cr *contentReader) record(name string, i int, v []byte) error {
	field := fmt.Sprintf("%s[%d]", name, i)
	if string(v) == "null" {
		return Invalid(field, "%s is null, not a record", field)
	}
	switch name {
	case "companies":
		var x CompanyDoc
		if err := strictDecode(v, &x); err != nil {
			return decodeError(field, err)
		}
		return cr.sink.company(i, &x)
	case "frameworks":
		var x FrameworkDoc
		if err := strictDecode(v, &x); err != nil {
			return decodeError(field, err)
		}
		return cr.sink.framework(i, &x)
	case "trends":
		var x TrendDoc
		if err := strictDecode(v, &x); err != nil {
			return decodeError(field, err)
		}
		return cr.sink.trend(i, &x)
	default:
		var x FAQDoc
		if err := strictDecode(v, &x); err != nil {
			return decodeError(field, err)
		}
		return cr.sink.faq(i, &x)
	}
}

// syntax turns a jsontext error into one sentence: a field for what is
// wrong inside a value (invalid UTF-8, a name twice), a line and column for
// broken JSON.
func (cr *contentReader) syntax(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, errTooLarge) {
		return Invalid("", "the file is not valid content: more than %d MiB without a complete value, at byte %d", maxRecordBytes>>20, cr.dec.InputOffset())
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || err == io.EOF {
		return Invalid("", "the file is not valid JSON: it ends in the middle of a value (is it truncated?)")
	}
	var se *jsontext.SyntacticError
	if !errors.As(err, &se) {
		return fmt.Errorf("read content: %w", err)
	}
	field := pointerField(se.JSONPointer)
	switch {
	case se.Err != nil && (strings.Contains(se.Err.Error(), "invalid UTF-8") || strings.Contains(se.Err.Error(), "surrogate")):
		if field == "" {
			return Invalid("", "the file is not valid UTF-8 (at byte %d)", se.ByteOffset)
		}
		return Invalid(field, "%s is not valid UTF-8 (or holds an unpaired surrogate escape)", field)
	case errors.Is(se.Err, jsontext.ErrDuplicateName):
		parent := pointerField(se.JSONPointer.Parent())
		where := "at the top level"
		if parent != "" {
			where = "in " + parent
		}
		return Invalid(field, "field %q appears twice %s", truncate(se.JSONPointer.LastToken(), 64), where)
	}
	msg := "syntax error"
	if se.Err != nil {
		msg = se.Err.Error()
	}
	return cr.syntaxAt(se.ByteOffset, msg)
}

// syntaxAt reports broken JSON at a byte offset, as a line and column when
// the source can be read again from its start.
func (cr *contentReader) syntaxAt(off int64, msg string) error {
	if s, ok := cr.src.(io.ReadSeeker); ok {
		if line, col, err := lineCol(s, off+1); err == nil {
			return Invalid("", "the file is not valid JSON: %s at line %d, column %d", msg, line, col)
		}
	}
	return Invalid("", "the file is not valid JSON: %s at byte %d", msg, off)
}

// lineCol counts the lines of the first off bytes of s: the 1-based line
// and column just after them.
func lineCol(s io.ReadSeeker, off int64) (line, col int, err error) {
	if _, err := s.Seek(0, io.SeekStart); err != nil {
		return 0, 0, err
	}
	br := bufio.NewReader(io.LimitReader(s, off))
	line, col = 1, 1
	for {
		b, err := br.ReadByte()
		if err == io.EOF {
			return line, col, nil
		} else if err != nil {
			return 0, 0, err
		}
		if b == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
	}
}

// pointerField turns a JSON pointer ("/trends/3/body") into the field
// name errors use ("trends[3].body").
func pointerField(p jsontext.Pointer) string {
	var b strings.Builder
	for tok := range p.Tokens() {
		if _, err := strconv.Atoi(tok); err == nil && b.Len() > 0 {
			b.WriteString("[" + tok + "]")
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(truncate(tok, 64))
	}
	return b.String()
}

func kindName(k jsontext.Kind) string {
	switch k {
	case '[':
		return "array"
	case '{':
		return "object"
	case '"':
		return "string"
	case '0':
		return "number"
	case 't', 'f':
		return "bool"
	case 'n':
		return "null"
	}
	return "value"
}

func strictDecode(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

// decodeError turns a json decoding error inside record into one sentence
// naming the field.
func decodeError(record string, err error) error {
	join := func(a, b string) string {
		switch {
		case a == "":
			return b
		case b == "":
			return a
		}
		return a + "." + b
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		field := join(record, te.Field)
		if field == "" {
			return Invalid("", "the file must hold a JSON object (a %s document), not a JSON %s", ContentFormat, te.Value)
		}
		return Invalid(field, "%s must be %s, not a JSON %s", field, jsonKind(te.Type), te.Value)
	}
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		name = strings.Trim(name, `"`)
		where := "at the top level"
		if record != "" {
			where = "in " + record
		}
		return Invalid(join(record, name), "unknown field %q %s", name, where)
	}
	return Invalid(record, "%s cannot be read: %v", record, strings.TrimPrefix(err.Error(), "json: "))
}

// jsonKind names what JSON value a Go type takes.
func jsonKind(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Bool:
		return "true or false"
	case reflect.Slice, reflect.Array:
		return "a list"
	}
	return "an object"
}
