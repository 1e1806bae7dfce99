package webapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"reflect"
	"strings"
)

// BodyError is a request body that ReadBody rejects, with the HTTP status
// of the response: 400, 413 or 415.
type BodyError struct {
	Status int
	Err    error
}

func (e *BodyError) Error() string { return e.Err.Error() }

func (e *BodyError) Unwrap() error { return e.Err }

func bodyErrorf(status int, format string, args ...any) *BodyError {
	return &BodyError{Status: status, Err: fmt.Errorf(format, args...)}
}

// ReadBody decodes the body of r into v, a pointer to a struct whose fields
// are strings named by their json tags. The body may be a JSON object
// (Content-Type application/json) or form fields (Content-Type
// application/x-www-form-urlencoded). An empty body leaves v unchanged.
//
// The error is a *BodyError: 413 for a body over limit bytes, 415 for
// another content type or charset, 400 for malformed content, an unknown
// field, a form field given twice or data after the JSON object. Fields in
// the URL query are not read.
func ReadBody(r *http.Request, limit int64, v any) error {
	if r.ContentLength > limit {
		return bodyErrorf(http.StatusRequestEntityTooLarge,
			"request body of %d bytes is larger than the limit of %d bytes", r.ContentLength, limit)
	}
	var body []byte
	if r.Body != nil {
		var err error
		body, err = io.ReadAll(io.LimitReader(r.Body, limit+1))
		if err != nil {
			return bodyErrorf(http.StatusBadRequest, "read request body: %v", err)
		}
	}
	if int64(len(body)) > limit {
		return bodyErrorf(http.StatusRequestEntityTooLarge,
			"request body is larger than the limit of %d bytes", limit)
	}
	if len(body) == 0 {
		return nil
	}

	mediaType, err := parseContentType(r.Header.Get("Content-Type"))
	if err != nil {
		return err
	}
	switch mediaType {
	case "application/json":
		return decodeJSON(body, v)
	case "application/x-www-form-urlencoded":
		return decodeForm(body, v)
	}
	return bodyErrorf(http.StatusUnsupportedMediaType,
		"unsupported Content-Type %q: use application/json or application/x-www-form-urlencoded", mediaType)
}

func parseContentType(header string) (string, error) {
	if header == "" {
		return "", bodyErrorf(http.StatusUnsupportedMediaType,
			"missing Content-Type: use application/json or application/x-www-form-urlencoded")
	}
	mediaType, params, err := mime.ParseMediaType(header)
	if err != nil {
		return "", bodyErrorf(http.StatusUnsupportedMediaType, "invalid Content-Type %q: %v", header, err)
	}
	if charset, ok := params["charset"]; ok && !strings.EqualFold(charset, "utf-8") {
		return "", bodyErrorf(http.StatusUnsupportedMediaType, "unsupported charset %q: use utf-8", charset)
	}
	return mediaType, nil
}

func decodeJSON(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return bodyErrorf(http.StatusBadRequest, "invalid JSON body: %v", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return bodyErrorf(http.StatusBadRequest, "invalid JSON body: data after the JSON object")
	}
	return nil
}

// decodeForm sets the string fields of the struct that v points to from
// form fields named like their json tags.
func decodeForm(body []byte, v any) error {
	values, err := url.ParseQuery(string(body))
	if err != nil {
		return bodyErrorf(http.StatusBadRequest, "invalid form body: %v", err)
	}

	target := reflect.ValueOf(v)
	if target.Kind() != reflect.Pointer || target.Elem().Kind() != reflect.Struct {
		return fmt.Errorf("decode form into %T: not a pointer to a struct", v)
	}
	fields := formFields(target.Elem())
	for name, list := range values {
		field, ok := fields[name]
		if !ok {
			return bodyErrorf(http.StatusBadRequest, "invalid form body: unknown field %q", name)
		}
		if len(list) != 1 {
			return bodyErrorf(http.StatusBadRequest, "invalid form body: field %q is given %d times", name, len(list))
		}
		field.SetString(list[0])
	}
	return nil
}

// formFields maps the json tag names of s's settable string fields to the
// fields.
func formFields(s reflect.Value) map[string]reflect.Value {
	fields := make(map[string]reflect.Value)
	for i := 0; i < s.NumField(); i++ {
		field := s.Type().Field(i)
		name, _, _ := strings.Cut(field.Tag.Get("json"), ",")
		if name == "" || name == "-" || field.Type.Kind() != reflect.String || !s.Field(i).CanSet() {
			continue
		}
		fields[name] = s.Field(i)
	}
	return fields
}

// WriteJSON sends v as a JSON response with the given status. The response
// must not be cached, because it describes one request.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	data, err := json.Marshal(v)
	if err != nil {
		// Only a programming error gets here: the API's response types
		// always marshal.
		http.Error(w, "internal error: cannot encode the response", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(append(data, '\n'))
}
