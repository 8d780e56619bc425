package graph

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"
)

// Media types a GraphQL request may be answered with.
const (
	mediaJSON            = "application/json"
	mediaGraphQLResponse = "application/graphql-response+json"
	mediaEventStream     = "text/event-stream"
	mediaMultipart       = "multipart/mixed"
)

// singleOffers are the media types of one whole response, in the order
// the server prefers them when the client likes them equally (so */*
// gets application/json, as GraphQL over HTTP asks).
var singleOffers = []string{mediaJSON, mediaGraphQLResponse}

// streamOffers are the media types a subscription can be streamed in.
var streamOffers = []string{mediaEventStream, mediaMultipart}

// mediaRange is one element of an Accept header.
type mediaRange struct {
	typ, sub string
	q        float64
}

// parseAccept splits an Accept header into its media ranges, skipping the
// malformed ones (as HTTP lets a server do). A header that is absent, or
// has no well-formed range, gives nil: the client takes the default.
func parseAccept(h string) []mediaRange {
	if strings.TrimSpace(h) == "" {
		return nil
	}
	var out []mediaRange
	for _, part := range splitQuoted(h, ',') {
		fields := splitQuoted(part, ';')
		typ, sub, ok := strings.Cut(strings.ToLower(strings.TrimSpace(fields[0])), "/")
		if !ok || !isToken(typ) || !isToken(sub) || (typ == "*" && sub != "*") {
			continue
		}
		mr := mediaRange{typ: typ, sub: sub, q: 1}
		valid := true
		for _, p := range fields[1:] {
			name, value, ok := strings.Cut(strings.TrimSpace(p), "=")
			if !ok {
				valid = strings.TrimSpace(p) == "" // a stray ";" is harmless
				if !valid {
					break
				}
				continue
			}
			if strings.EqualFold(strings.TrimSpace(name), "q") {
				q, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
				if err != nil || q < 0 || q > 1 {
					valid = false
					break
				}
				mr.q = q
			}
		}
		if valid {
			out = append(out, mr)
		}
	}
	return out
}

// splitQuoted splits s at sep outside double-quoted strings.
func splitQuoted(s string, sep byte) []string {
	var out []string
	quoted, start := false, 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"':
			quoted = !quoted
		case c == '\\' && quoted:
			i++
		case c == sep && !quoted:
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}

func isToken(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c <= ' ' || c >= 0x7f || strings.ContainsRune(`()<>@,;:\"/[]?={}`, c) {
			return false
		}
	}
	return true
}

// negotiate picks, among offers, the media type the client prefers: the
// highest q of the most specific range that matches each offer, then the
// earliest such range in the header, then the order of offers. It returns
// "" when the client accepts none of them. With no usable Accept header
// the client accepts application/json only.
func negotiate(ranges []mediaRange, offers []string) string {
	if len(ranges) == 0 {
		ranges = []mediaRange{{typ: "application", sub: "json", q: 1}}
	}
	best, bestQ, bestAt := "", 0.0, len(ranges)
	for _, offer := range offers {
		typ, sub, _ := strings.Cut(offer, "/")
		q, at, specificity := 0.0, -1, -1
		for i, r := range ranges {
			s := -1
			switch {
			case r.typ == typ && r.sub == sub:
				s = 2
			case r.typ == typ && r.sub == "*":
				s = 1
			case r.typ == "*":
				s = 0
			}
			if s > specificity {
				q, at, specificity = r.q, i, s
			}
		}
		if specificity < 0 || q <= 0 {
			continue
		}
		if q > bestQ || (q == bestQ && at < bestAt) {
			best, bestQ, bestAt = offer, q, at
		}
	}
	return best
}

// route is how a request to /graphql is answered, decided once from its
// method, headers and operation, before any other layer looks at it.
type route struct {
	// stream is the streaming transport that takes the request, or "" for
	// one whole JSON response.
	stream stream
	// media is the JSON media type of a whole response (and of request
	// errors, on any transport); "" when the client accepts neither.
	media string
	// subscription is set for a POST whose operation is a subscription.
	subscription bool
}

type routeKey struct{}

// routeOf returns the route withRoute decided for r, or decides it now.
func routeOf(r *http.Request) *route {
	if rt, ok := r.Context().Value(routeKey{}).(*route); ok {
		return rt
	}
	return decideRoute(r)
}

// decideRoute applies the content negotiation of GraphQL over HTTP: a
// websocket upgrade is a websocket (other upgrades, such as h2c, are
// ignored as HTTP allows); a POSTed subscription is streamed as
// SSE or multipart/mixed, whichever the Accept header prefers; every other
// request (every query and mutation, whatever the Accept header lists) is
// one JSON response, never a stream. A POST body must already be buffered
// (limitBody does it): it is read and put back.
func decideRoute(r *http.Request) *route {
	ranges := parseAccept(strings.Join(r.Header.Values("Accept"), ","))
	rt := &route{media: negotiate(ranges, singleOffers)}
	if hasToken(r.Header.Values("Upgrade"), "websocket") {
		rt.stream = streamWebsocket
		return rt
	}
	if r.Method != http.MethodPost || r.Body == nil || r.Body == http.NoBody {
		return rt
	}
	body, err := peekBody(r)
	if err != nil || !bytes.Contains(body, []byte("subscription")) {
		return rt
	}
	var p struct {
		Query         string `json:"query"`
		OperationName string `json:"operationName"`
	}
	if json.Unmarshal(body, &p) != nil || operationType(p.Query, p.OperationName) != ast.Subscription {
		return rt // the JSON transport reports what is wrong with it
	}
	rt.subscription = true
	switch negotiate(ranges, streamOffers) {
	case mediaEventStream:
		rt.stream = streamSSE
	case mediaMultipart:
		rt.stream = streamMultipart
	}
	return rt
}

// hasToken reports whether a comma-separated header lists token
// (case-insensitively).
func hasToken(values []string, token string) bool {
	for _, v := range values {
		for _, t := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}

// peekBody returns r's body and leaves it to be read again: the bytes
// limitBody kept, or (for a body that did not pass through it) a copy.
func peekBody(r *http.Request) ([]byte, error) {
	if b, ok := r.Body.(*bufferedBody); ok && b.Len() == len(b.data) {
		return b.data, nil
	}
	body, err := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(body))
	return body, err
}

// operationType is the type of the operation a request would run, or ""
// when the document does not parse or names no single operation.
func operationType(doc, name string) ast.Operation {
	if !strings.Contains(doc, "subscription") {
		if !strings.Contains(doc, "mutation") {
			return ast.Query
		}
	}
	parsed, err := parser.ParseQuery(&ast.Source{Input: doc})
	if err != nil {
		return ""
	}
	if name == "" {
		if len(parsed.Operations) != 1 {
			return ""
		}
		return parsed.Operations[0].Operation
	}
	if op := parsed.Operations.ForName(name); op != nil {
		return op.Operation
	}
	return ""
}

// withRoute decides each request's route once (routeOf), for the layers
// inside: the timeout, which spares streams; the envelope check, which
// refuses what cannot be answered acceptably; and the transports.
func withRoute(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rt := decideRoute(r)
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), routeKey{}, rt)))
	})
}
