package graph

import (
	"bytes"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// jsonTransport is GraphQL over HTTP for GET and POST, in place of gqlgen's
// transport.GET and transport.POST, with their behaviour (media types,
// status codes, errors through the executor's presenter) and one
// difference: a response without errors is written as {"data":…} directly.
// gqlgen's transports json.Marshal the whole response, which re-validates
// and copies the data it has just produced; profiles of the reference
// queries put that at a quarter of a 16 KB query's CPU.
type jsonTransport struct{}

var _ graphql.Transport = jsonTransport{}

const (
	mediaJSON            = "application/json"
	mediaGraphQLResponse = "application/graphql-response+json"
)

// Supports implements graphql.Transport: plain GET, and POST of JSON.
// Upgrades (websockets) and event streams belong to other transports.
func (jsonTransport) Supports(r *http.Request) bool {
	if r.Header.Get("Upgrade") != "" || strings.Contains(r.Header.Get("Accept"), "text/event-stream") {
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

// responseMediaType picks application/graphql-response+json when the
// client asks for it (GraphQL over HTTP), else application/json.
func responseMediaType(r *http.Request) string {
	for part := range strings.SplitSeq(r.Header.Get("Accept"), ",") {
		mt, _, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		switch mt {
		case mediaGraphQLResponse:
			return mediaGraphQLResponse
		case mediaJSON, "*/*", "application/*":
			return mediaJSON
		}
	}
	return mediaJSON
}

// Do implements graphql.Transport.
func (jsonTransport) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	ctx := r.Context()
	media := responseMediaType(r)
	w.Header().Set("Content-Type", media)
	params := &graphql.RawParams{Headers: r.Header}
	params.ReadTime.Start = graphql.Now()
	if r.Method == http.MethodGet {
		q := r.URL.Query()
		params.Query, params.OperationName = q.Get("query"), q.Get("operationName")
		for name, dst := range map[string]*map[string]any{"variables": &params.Variables, "extensions": &params.Extensions} {
			if v := q.Get(name); v != "" {
				if err := decodeJSON(strings.NewReader(v), dst); err != nil {
					w.WriteHeader(http.StatusBadRequest)
					writeResponse(w, exec.DispatchError(ctx, gqlerror.List{{Message: name + " could not be decoded",
						Extensions: map[string]any{"code": CodeBadUserInput}}}))
					return
				}
			}
		}
	} else {
		body, err := io.ReadAll(r.Body)
		if err == nil {
			err = decodeJSON(bytes.NewReader(body), params)
		}
		if err != nil {
			w.WriteHeader(http.StatusBadRequest)
			// The error presenter recognises this message (errors.go).
			writeResponse(w, exec.DispatchError(ctx, gqlerror.List{gqlerror.Errorf("json request body could not be decoded: %v", err)}))
			return
		}
	}
	params.ReadTime.End = graphql.Now()

	oc, errs := exec.CreateOperationContext(ctx, params)
	if errs != nil && ctx.Err() != nil {
		// Parsing and validation ran out of the request's time: say so,
		// whatever else they found.
		w.WriteHeader(http.StatusServiceUnavailable)
		writeResponse(w, &graphql.Response{Errors: gqlerror.List{timeoutError(nil)}})
		return
	}
	if errs != nil {
		status := http.StatusOK
		if errcode.GetErrorKind(errs) == errcode.KindProtocol {
			status = http.StatusUnprocessableEntity
			if media == mediaGraphQLResponse {
				status = http.StatusBadRequest
			}
		}
		w.WriteHeader(status)
		writeResponse(w, exec.DispatchError(graphql.WithOperationContext(ctx, oc), errs))
		return
	}
	if r.Method == http.MethodGet && oc.Operation.Operation != ast.Query {
		// checkEnvelope refuses these first; this keeps the rule whole.
		w.Header().Set("Allow", "POST")
		w.WriteHeader(http.StatusMethodNotAllowed)
		writeResponse(w, exec.DispatchError(ctx, gqlerror.List{{Message: "GET runs queries only; send mutations and subscriptions with POST",
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

// timeoutError is the error of a request that ran out of its time limit.
func timeoutError(path ast.Path) *gqlerror.Error {
	return &gqlerror.Error{
		Message:    "the request took longer than the server's time limit; ask for less",
		Path:       path,
		Extensions: map[string]any{"code": CodeInternalServerError},
	}
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
		buf := make([]byte, 0, len(dataPrefix)+len(data)+1)
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
