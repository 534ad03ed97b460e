// Package httpapi is the /api/v1 JSON surface: one file per resource, one
// route table (api.go), and the OpenAPI document that a test keeps in step
// with the table.
package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"

	"github.com/trellisml/trellis/internal/route"
	"github.com/trellisml/trellis/internal/trellis"
)

type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
}

// ErrorWriter returns the /api/v1 error writer: {"error":{code,message,field}}.
// Internal errors are logged with the request id and hidden from the client.
func ErrorWriter(log *slog.Logger) func(http.ResponseWriter, *http.Request, error) {
	return func(w http.ResponseWriter, r *http.Request, err error) {
		code := trellis.ErrorCode(err)
		status := route.Status(err)
		if status == http.StatusInternalServerError {
			log.ErrorContext(r.Context(), "internal error", "method", r.Method, "path", r.URL.Path, "err", err)
		}
		if status == http.StatusUnauthorized {
			w.Header().Set("WWW-Authenticate", `Bearer realm="trellis"`)
		}
		writeJSON(w, status, errorBody{Error: errorDetail{Code: code, Message: trellis.ErrorMessage(err), Field: trellis.ErrorField(err)}})
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) error {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	return json.NewEncoder(w).Encode(v)
}

// decode reads exactly one JSON object into v, rejecting unknown fields, so
// that a typo in a field name is an error rather than silently ignored. Each
// failure names the field and the rule where it can.
func decode(r *http.Request, v any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/json") {
		return trellis.Invalid("", "Content-Type must be application/json")
	}
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return decodeError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return trellis.Invalid("", "request body must hold exactly one JSON object")
	}
	return nil
}

func decodeError(err error) error {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	var tooBig *http.MaxBytesError
	switch {
	case errors.Is(err, io.EOF):
		return trellis.Invalid("", "request body is empty; send a JSON object")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return trellis.Invalid("", "request body is truncated JSON")
	case errors.As(err, &syntax):
		return trellis.Invalid("", "malformed JSON at byte %d: %s", syntax.Offset, syntax.Error())
	case errors.As(err, &typ):
		if typ.Field == "" {
			return trellis.Invalid("", "request body must be a JSON object, not %s", typ.Value)
		}
		return trellis.Invalid(typ.Field, "%s must be %s, not %s", typ.Field, jsonKind(typ.Type.Kind().String()), typ.Value)
	case errors.As(err, &tooBig):
		return trellis.Errorf(trellis.ETOOLARGE, "request body is larger than %d bytes", tooBig.Limit)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		field := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return trellis.Invalid(field, "unknown field %q", field)
	}
	return trellis.Invalid("", "cannot read request body: %v", err)
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "a string"
	case "bool":
		return "true or false"
	case "int", "int64", "int32", "uint", "uint64", "float64", "float32":
		return "a number"
	case "slice", "array":
		return "an array"
	}
	return "an object"
}

// pathValue returns a path parameter, refusing absurd lengths early.
func pathValue(r *http.Request, name string) (string, error) {
	v := r.PathValue(name)
	if v == "" || len(v) > 200 {
		return "", trellis.Invalid(name, "%s in the path must be 1–200 characters", name)
	}
	return v, nil
}

// boolQuery parses an optional boolean query parameter.
func boolQuery(r *http.Request, name string) (bool, error) {
	switch v := r.URL.Query().Get(name); v {
	case "", "0", "false":
		return false, nil
	case "1", "true":
		return true, nil
	default:
		return false, trellis.Invalid(name, "%s must be true or false, not %q", name, fmt.Sprint(v))
	}
}
