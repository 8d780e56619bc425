package db

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
)

// DecodeContent reads a content document strictly: the file must be one
// JSON object, with no unknown fields and every value of the right type.
// It fails with EINVALID whose Field names the record and field at fault
// ("trends[3].rank") and whose message says what is wrong in one sentence.
// It does not validate the values: Import does.
func DecodeContent(r io.Reader) (*Content, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("read content: %w", err)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, Invalid("", "the file is empty")
	}
	if !json.Valid(data) {
		var v any
		err := json.Unmarshal(data, &v)
		var se *json.SyntaxError
		if errors.As(err, &se) {
			if strings.Contains(se.Error(), "unexpected end of JSON input") {
				return nil, Invalid("", "the file is not valid JSON: it ends in the middle of a value (is it truncated?)")
			}
			line, col := position(data, se.Offset)
			return nil, Invalid("", "the file is not valid JSON: %s at line %d, column %d", strings.TrimPrefix(se.Error(), "json: "), line, col)
		}
		return nil, Invalid("", "the file is not valid JSON")
	}
	var top struct {
		Format     json.RawMessage   `json:"format"`
		Article    json.RawMessage   `json:"article"`
		Companies  []json.RawMessage `json:"companies"`
		Frameworks []json.RawMessage `json:"frameworks"`
		Trends     []json.RawMessage `json:"trends"`
		FAQs       []json.RawMessage `json:"faqs"`
	}
	if bytes.HasPrefix(bytes.TrimSpace(data), []byte("null")) {
		return nil, Invalid("", "the file must hold a JSON object (a %s document), not null", ContentFormat)
	}
	if err := strictDecode(data, &top); err != nil {
		return nil, decodeError("", err)
	}
	c := &Content{}
	if err := strictDecode(orNull(top.Format), &c.Format); err != nil {
		return nil, decodeError("format", err)
	}
	if len(top.Article) > 0 && string(top.Article) != "null" {
		c.Article = &ArticleDoc{}
		if err := strictDecode(top.Article, c.Article); err != nil {
			return nil, decodeError("article", err)
		}
	}
	if err := decodeRecords(top.Companies, "companies", &c.Companies); err != nil {
		return nil, err
	}
	if err := decodeRecords(top.Frameworks, "frameworks", &c.Frameworks); err != nil {
		return nil, err
	}
	if err := decodeRecords(top.Trends, "trends", &c.Trends); err != nil {
		return nil, err
	}
	if err := decodeRecords(top.FAQs, "faqs", &c.FAQs); err != nil {
		return nil, err
	}
	return c, nil
}

func orNull(b json.RawMessage) json.RawMessage {
	if len(b) == 0 {
		return json.RawMessage("null")
	}
	return b
}

// decodeRecords decodes each record on its own, so an error names its index.
func decodeRecords[T any](raw []json.RawMessage, name string, out *[]T) error {
	if raw == nil {
		return nil
	}
	*out = make([]T, len(raw))
	for i, r := range raw {
		if string(r) == "null" {
			return Invalid(fmt.Sprintf("%s[%d]", name, i), "%s[%d] is null, not a record", name, i)
		}
		if err := strictDecode(r, &(*out)[i]); err != nil {
			return decodeError(fmt.Sprintf("%s[%d]", name, i), err)
		}
	}
	return nil
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

// position turns a byte offset into a 1-based line and column.
func position(data []byte, off int64) (line, col int) {
	if off > int64(len(data)) {
		off = int64(len(data))
	}
	before := data[:off]
	line = bytes.Count(before, []byte("\n")) + 1
	col = int(off) - bytes.LastIndexByte(before, '\n')
	return line, col
}
