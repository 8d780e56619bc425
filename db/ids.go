package db

import (
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
)

// TypeName names a content type. It is the prefix of global ids and the value
// of events' type column.
type TypeName string

// The content types.
const (
	TypeTrend     TypeName = "Trend"
	TypeFramework TypeName = "Framework"
	TypeCompany   TypeName = "Company"
	TypeFAQ       TypeName = "FAQ"
)

// Ids of records that are not content: revisions (events), tokens,
// webhooks and their deliveries.
const (
	TypeRevision        TypeName = "Revision"
	TypeToken           TypeName = "Token"
	TypeWebhook         TypeName = "Webhook"
	TypeWebhookDelivery TypeName = "WebhookDelivery"
)

// Content reports whether t is a content type (a Node).
func (t TypeName) Content() bool {
	switch t {
	case TypeTrend, TypeFramework, TypeCompany, TypeFAQ:
		return true
	}
	return false
}

// Types lists every content type, in a stable order.
var Types = []TypeName{TypeTrend, TypeFramework, TypeCompany, TypeFAQ}

func (t TypeName) valid() bool {
	switch t {
	case TypeRevision, TypeToken, TypeWebhook, TypeWebhookDelivery, TypeArticle:
		return true
	}
	return t.Content()
}

// EncodeID returns the opaque global id of the row id of a content type:
// base64url("Trend:12") without padding. Clients must treat it as opaque.
func EncodeID(t TypeName, rowID int64) string {
	b := make([]byte, 0, 24)
	b = append(b, t...)
	b = append(b, ':')
	b = strconv.AppendInt(b, rowID, 10)
	return base64.RawURLEncoding.EncodeToString(b)
}

// DecodeID parses a global id. It fails with EINVALID (naming field) when
// the id is not one trendql issued.
func DecodeID(field, id string) (TypeName, int64, error) {
	if len(id) > 64 {
		return "", 0, Invalid(field, "%q is not a valid id", truncate(id, 64))
	}
	raw, err := decodeOpaque(id)
	if err != nil {
		return "", 0, Invalid(field, "%q is not a valid id", id)
	}
	name, num, ok := strings.Cut(string(raw), ":")
	t := TypeName(name)
	n, err := strconv.ParseInt(num, 10, 64)
	if !ok || !t.valid() || err != nil || n <= 0 || strconv.FormatInt(n, 10) != num {
		return "", 0, Invalid(field, "%q is not a valid id", id)
	}
	return t, n, nil
}

// DecodeIDOf parses a global id that must be of type want.
func DecodeIDOf(field string, want TypeName, id string) (int64, error) {
	t, n, err := DecodeID(field, id)
	if err != nil {
		return 0, err
	}
	if t != want {
		return 0, Invalid(field, "id %q is a %s, not a %s", id, t, want)
	}
	return n, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// decodeOpaque decodes an id or cursor: unpadded base64url, strictly.
// Go's decoder skips CR and LF and tolerates non-zero trailing bits, so
// without these checks one id would have many spellings.
func decodeOpaque(s string) ([]byte, error) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return nil, errors.New("not base64url")
		}
	}
	return base64.RawURLEncoding.Strict().DecodeString(s)
}
