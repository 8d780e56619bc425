package db

import (
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

// Size limits on content fields, in characters.
const (
	MaxNameLen    = 200
	MaxSlugLen    = 100
	MaxShortLen   = 200    // language, creator, architecture, category names
	MaxSummaryLen = 2000   // summaries, questions
	MaxBodyLen    = 100000 // bodies, answers
	MaxListLen    = 100    // items in a list field
	MaxItemLen    = 500    // one list item
)

var slugRE = regexp.MustCompile(`^[a-z0-9]+(?:-[a-z0-9]+)*$`)

// Slugify derives a slug from a name: lower-case ASCII letters and digits
// separated by single hyphens, accents removed ("Café Società" → "cafe-societa").
func Slugify(name string) string {
	t := transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)
	s, _, err := transform.String(t, name)
	if err != nil {
		s = name
	}
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			dash = false
			b.WriteRune(r)
		case r == '+':
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			dash = true
			b.WriteString("plus")
		case r == '#':
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			dash = true
			b.WriteString("sharp")
		default:
			dash = true
		}
	}
	out := b.String()
	if len(out) > MaxSlugLen {
		out = strings.TrimRight(out[:MaxSlugLen], "-")
	}
	return out
}

// validator collects the first error of a set of field checks.
type validator struct {
	err error
}

func (v *validator) fail(field, format string, args ...any) {
	if v.err == nil {
		v.err = Invalid(field, format, args...)
	}
}

// text checks a text field that may span lines (a summary, a Markdown
// body): valid UTF-8, no control characters but tab, line feed and a
// carriage return before a line feed, at most max characters, and (when
// required) not blank.
func (v *validator) text(field, s string, max int, required bool) {
	v.check(field, s, max, required, false)
}

// name checks a one-line field that is shown as a label (a name, a
// question, a heading, a list item, a token's name): text's rules, and no
// control character at all (no tab, no line break: a name printed in a
// table or a log cannot forge a column or a row), no Unicode line
// separators and no bidirectional overrides or isolates (which make a
// name display as another).
func (v *validator) name(field, s string, max int, required bool) {
	v.check(field, s, max, required, true)
}

func (v *validator) check(field, s string, max int, required, oneLine bool) {
	switch {
	case !utf8.ValidString(s):
		v.fail(field, "%s is not valid UTF-8", field)
	case strings.ContainsRune(s, 0):
		v.fail(field, "%s contains a NUL character", field)
	case badRune(s, oneLine) >= 0:
		r := badRune(s, oneLine)
		v.fail(field, "%s contains the control character %U, which is not allowed here", field, r)
	case required && strings.TrimSpace(s) == "":
		v.fail(field, "%s must not be empty", field)
	case utf8.RuneCountInString(s) > max:
		v.fail(field, "%s is longer than %d characters", field, max)
	}
}

// badRune returns the first character s may not hold, or -1: C0 controls
// (but tab, line feed, and carriage return before a line feed, unless
// oneLine), DEL and C1 controls; with oneLine also the line and paragraph
// separators and the bidirectional embeddings, overrides and isolates.
func badRune(s string, oneLine bool) rune {
	for i, r := range s {
		switch {
		case r == '\t' || r == '\n':
			if oneLine {
				return r
			}
		case r == '\r':
			if oneLine || !strings.HasPrefix(s[i+1:], "\n") {
				return r
			}
		case r < 0x20, r >= 0x7f && r <= 0x9f:
			return r
		case oneLine && (r == 0x2028 || r == 0x2029 || (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069)):
			return r
		}
	}
	return -1
}

// SafeText returns s as it may be printed on a terminal or in a table:
// unchanged when it holds only printable characters, else Go-quoted with
// every control character, line separator, bidirectional control and
// invalid byte escaped. For names stored before these were refused.
func SafeText(s string) string {
	if utf8.ValidString(s) && badRune(s, true) < 0 && strings.IndexFunc(s, func(r rune) bool { return !unicode.IsPrint(r) && r != ' ' }) < 0 {
		return s
	}
	return strconv.QuoteToGraphic(s)
}

func (v *validator) slug(field, s string) {
	switch {
	case len(s) > MaxSlugLen:
		v.fail(field, "slug is longer than %d characters", MaxSlugLen)
	case !slugRE.MatchString(s):
		v.fail(field, "slug %q must be lower-case letters and digits separated by single hyphens", truncate(s, 64))
	}
}

func (v *validator) list(field string, l []string) {
	if len(l) > MaxListLen {
		v.fail(field, "%s has more than %d items", field, MaxListLen)
		return
	}
	for _, s := range l {
		v.name(field, s, MaxItemLen, true)
	}
}

func (v *validator) positive(field string, n int) {
	if n <= 0 {
		v.fail(field, "%s must be a positive number, got %d", field, n)
	}
}

func (v *validator) status(field string, s Status) {
	if s != StatusDraft && s != StatusPublished {
		v.fail(field, "unknown status %q", s)
	}
}

func (v *validator) kind(field string, k FrameworkKind) {
	if k == "" {
		v.fail(field, "kind is required (FRAMEWORK or LANGUAGE)")
	} else if k != KindFramework && k != KindLanguage {
		v.fail(field, "unknown kind %q (FRAMEWORK or LANGUAGE)", k)
	}
}

func (v *validator) category(field string, c Category) {
	switch c {
	case "":
		v.fail(field, "category is required")
	case CategoryArchitecture, CategoryFramework, CategoryLanguage, CategoryTooling, CategoryAPI:
	default:
		v.fail(field, "unknown category %q", c)
	}
}

func (v *validator) year(field string, y *int) {
	if y != nil && (*y < 1940 || *y > 2200) {
		v.fail(field, "%s must be a year between 1940 and 2200, got %d", field, *y)
	}
}

// isoDate checks a YYYY-MM-DD date.
var isoDateRE = regexp.MustCompile(`^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$`)

// validate checks one company document's fields; prefix names the record
// in errors ("input." or "companies[3].").
func (x *CompanyDoc) validate(v *validator, prefix string) {
	v.name(prefix+"name", x.Name, MaxNameLen, true)
	v.slug(prefix+"slug", x.Slug)
	v.status(prefix+"status", x.Status)
}

// validate checks one framework document's fields.
func (x *FrameworkDoc) validate(v *validator, prefix string) {
	v.name(prefix+"name", x.Name, MaxNameLen, true)
	v.slug(prefix+"slug", x.Slug)
	v.kind(prefix+"kind", x.Kind)
	v.name(prefix+"language", x.Language, MaxShortLen, false)
	v.name(prefix+"creator", x.Creator, MaxShortLen, false)
	v.year(prefix+"firstReleased", x.FirstReleased)
	v.name(prefix+"architecture", x.Architecture, MaxShortLen, false)
	v.text(prefix+"summary", x.Summary, MaxSummaryLen, false)
	v.list(prefix+"features", x.Features)
	v.refs(prefix+"companies", x.Companies)
	v.status(prefix+"status", x.Status)
}

// validate checks one trend document's fields.
func (x *TrendDoc) validate(v *validator, prefix string) {
	v.name(prefix+"name", x.Name, MaxNameLen, true)
	v.slug(prefix+"slug", x.Slug)
	v.positive(prefix+"rank", x.Rank)
	v.category(prefix+"category", x.Category)
	v.text(prefix+"summary", x.Summary, MaxSummaryLen, false)
	v.text(prefix+"body", x.Body, MaxBodyLen, false)
	v.list(prefix+"highlights", x.Highlights)
	v.list(prefix+"examples", x.Examples)
	v.refs(prefix+"frameworks", x.Frameworks)
	v.refs(prefix+"companies", x.Companies)
	v.status(prefix+"status", x.Status)
}

// validate checks one FAQ document's fields.
func (x *FAQDoc) validate(v *validator, prefix string) {
	v.name(prefix+"question", x.Question, MaxSummaryLen, true)
	v.slug(prefix+"slug", x.Slug)
	v.positive(prefix+"position", x.Position)
	v.text(prefix+"answer", x.Answer, MaxBodyLen, false)
	v.list(prefix+"items", x.Items)
	v.refs(prefix+"frameworks", x.Frameworks)
	v.refs(prefix+"trends", x.Trends)
	v.status(prefix+"status", x.Status)
}

// refs checks a relation list: not too long, no item twice.
func (v *validator) refs(field string, l []string) {
	if len(l) > MaxListLen*10 {
		v.fail(field, "%s has more than %d items", field, MaxListLen*10)
		return
	}
	seen := make(map[string]bool, len(l))
	for _, s := range l {
		if seen[s] {
			v.fail(field, "%q is listed twice", truncate(s, 64))
			return
		}
		seen[s] = true
	}
}
