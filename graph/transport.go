package graph

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// jsonTransport is GraphQL over HTTP for GET and POST: one JSON response
// per request, in the media type the route negotiated, with the statuses
// of the GraphQL-over-HTTP spec (requestErrorStatus). It replaces gqlgen's
// transport.GET and transport.POST, whose statuses predate the spec's
// application/graphql-response+json rules, and writes a response without
// errors as {"data":…} directly: gqlgen's transports json.Marshal the whole
// response, which re-validates and copies the data it has just produced;
// profiles of the reference queries put that at a quarter of a 16 KB
// query's CPU.
type jsonTransport struct{}

var _ graphql.Transport = jsonTransport{}

// Supports implements graphql.Transport: every GET, and every POST of
// JSON, that the route did not send to a stream (negotiate.go).
func (jsonTransport) Supports(r *http.Request) bool {
	if streamFrom(r.Context()) != "" {
		return false
	}
	switch r.Method {
	case http.MethodGet:
		return true
	case http.MethodPost:
		mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
		return err == nil && mt == mediaJSON
	}
	return false
}

// responseMediaType is the JSON media type negotiated for r, or
// application/json when the client accepts no JSON type at all (only
// error answers reach that case).
func responseMediaType(r *http.Request) string {
	if m := routeOf(r).media; m != "" {
		return m
	}
	return mediaJSON
}

// routedTransport is a streaming transport that takes exactly the requests
// the route sent to it, rather than every request whose Accept header
// merely mentions its media type (gqlgen's own Supports), so that a query
// is never answered as a stream.
type routedTransport struct {
	graphql.Transport
	kind stream
}

// Supports implements graphql.Transport.
func (t routedTransport) Supports(r *http.Request) bool {
	return streamFrom(r.Context()) == t.kind
}

// Do implements graphql.Transport.
func (jsonTransport) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	ctx := r.Context()
	media := responseMediaType(r)
	w.Header().Set("Content-Type", media)
	params := &graphql.RawParams{Headers: r.Header}
	params.ReadTime.Start = graphql.Now()
	if decoded := takeDecoded(ctx); decoded != nil {
		decoded.Headers, decoded.ReadTime = params.Headers, params.ReadTime
		params = decoded
	} else if r.Method == http.MethodGet {
		if name, err := decodeQueryString(r.URL.Query(), params); err != nil {
			w.WriteHeader(http.StatusBadRequest)
			writeRequestErrors(w, exec.DispatchError(ctx, gqlerror.List{{Message: name + " could not be decoded",
				Extensions: map[string]any{"code": CodeBadUserInput}}}))
			return
		}
	} else {
		body, err := io.ReadAll(r.Body)
		if err == nil {
			err = decodeJSON(bytes.NewReader(body), params)
		}
		if err != nil {
			w.WriteHeader(http.StatusBadRequest)
			// The error presenter recognises this message (errors.go).
			writeRequestErrors(w, exec.DispatchError(ctx, gqlerror.List{gqlerror.Errorf("json request body could not be decoded: %v", err)}))
			return
		}
	}
	params.ReadTime.End = graphql.Now()

	if params.Query == "" && params.Extensions["persistedQuery"] == nil {
		// Not a well-formed GraphQL-over-HTTP request: 400 whatever the
		// media type.
		w.WriteHeader(http.StatusBadRequest)
		writeRequestErrors(w, exec.DispatchError(ctx, gqlerror.List{{Message: `the request has no query: send {"query": "…"}`,
			Extensions: map[string]any{"code": CodeBadUserInput, "field": "query"}}}))
		return
	}
	oc, errs := exec.CreateOperationContext(ctx, params)
	if errs != nil && ctx.Err() != nil {
		// Parsing and validation ran out of the request's time: say so,
		// whatever else they found.
		w.WriteHeader(http.StatusServiceUnavailable)
		writeResponse(w, &graphql.Response{Errors: gqlerror.List{timeoutError(nil)}})
		return
	}
	if errs != nil {
		w.WriteHeader(requestErrorStatus(media))
		writeRequestErrors(w, exec.DispatchError(graphql.WithOperationContext(ctx, oc), errs))
		return
	}
	if r.Method == http.MethodGet && oc.Operation.Operation != ast.Query {
		// checkEnvelope refuses these first; this keeps the rule whole.
		w.Header().Set("Allow", "POST")
		w.WriteHeader(http.StatusMethodNotAllowed)
		writeRequestErrors(w, exec.DispatchError(ctx, gqlerror.List{{Message: "GET runs queries only; send mutations and subscriptions with POST",
			Extensions: map[string]any{"code": CodeBadUserInput}}}))
		return
	}
	responses, ctx := exec.DispatchOperation(ctx, oc)
	resp := responses(ctx)
	if resp == nil {
		// The executor gives no response once the request's context has
		// ended: the time limit ran out (or the client left).
		w.WriteHeader(http.StatusServiceUnavailable)
		writeResponse(w, &graphql.Response{Errors: gqlerror.List{timeoutError(nil)}})
		return
	}
	writeResponse(w, resp)
}

// requestErrorStatus is the status of a request error (the document does
// not parse or validate, a variable does not coerce, a limit refuses the
// operation: nothing ran). GraphQL over HTTP: with application/json every
// well-formed request answers 200 and the errors say what went wrong; with
// application/graphql-response+json a response without data is a 4xx.
func requestErrorStatus(media string) int {
	if media == mediaGraphQLResponse {
		return http.StatusBadRequest
	}
	return http.StatusOK
}

// writeRequestErrors writes the response to a request that did not run:
// errors (and extensions) only, never a "data" key, which GraphQL over
// HTTP reserves for operations that executed.
func writeRequestErrors(w io.Writer, resp *graphql.Response) {
	b, err := json.Marshal(struct {
		Errors     gqlerror.List  `json:"errors"`
		Extensions map[string]any `json:"extensions,omitempty"`
	}{resp.Errors, resp.Extensions})
	if err != nil {
		b = []byte(`{"errors":[{"message":"internal server error","extensions":{"code":"INTERNAL_SERVER_ERROR"}}]}`)
	}
	w.Write(b)
}

// timeoutError is the error of a request that ran out of its time limit.
func timeoutError(path ast.Path) *gqlerror.Error {
	return &gqlerror.Error{
		Message:    "the request took longer than the server's time limit; ask for less",
		Path:       path,
		Extensions: map[string]any{"code": CodeInternalServerError},
	}
}

// decodeQueryString reads a GET request's parameters into params; name
// is the one that did not decode.
func decodeQueryString(q url.Values, params *graphql.RawParams) (name string, err error) {
	params.Query, params.OperationName = q.Get("query"), q.Get("operationName")
	for _, p := range []struct {
		name string
		dst  *map[string]any
	}{{"variables", &params.Variables}, {"extensions", &params.Extensions}} {
		if v := q.Get(p.name); v != "" {
			if err := decodeJSON(strings.NewReader(v), p.dst); err != nil {
				return p.name, err
			}
		}
	}
	return "", nil
}

// takeDecoded returns the request's body as the response cache decoded
// it (see cacheKey), once; nil when it did not.
func takeDecoded(ctx context.Context) *graphql.RawParams {
	info := infoFrom(ctx)
	if info == nil {
		return nil
	}
	info.mu.Lock()
	defer info.mu.Unlock()
	p := info.params
	info.params = nil
	return p
}

func decodeJSON(r io.Reader, v any) error {
	dec := json.NewDecoder(r)
	dec.UseNumber()
	return dec.Decode(v)
}

var (
	dataPrefix = []byte(`{"data":`)
	dataSuffix = []byte(`}`)
	jsonNull   = []byte(`null`)
)

// writeResponse writes a response; one with nothing but data skips
// json.Marshal, whose output would be the same bytes.
func writeResponse(w io.Writer, resp *graphql.Response) {
	if resp == nil {
		io.WriteString(w, `{"data":null}`)
		return
	}
	if len(resp.Errors) == 0 && len(resp.Extensions) == 0 && resp.Label == "" && resp.Path == nil && resp.HasNext == nil {
		data := []byte(resp.Data)
		if len(data) == 0 {
			data = jsonNull
		}
		n := len(dataPrefix) + len(data) + len(dataSuffix)
		if g, ok := w.(interface{ Grow(int) }); ok {
			// A buffer (the response cache's): written in place.
			g.Grow(n)
			w.Write(dataPrefix)
			w.Write(data)
			w.Write(dataSuffix)
			return
		}
		buf := make([]byte, 0, n)
		buf = append(append(append(buf, dataPrefix...), data...), dataSuffix...)
		w.Write(buf)
		return
	}
	b, err := json.Marshal(resp)
	if err != nil {
		b = []byte(`{"errors":[{"message":"internal server error","extensions":{"code":"INTERNAL_SERVER_ERROR"}}],"data":null}`)
	}
	w.Write(b)
}
