package webapi

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

type testBody struct {
	Site    string `json:"site"`
	QueueID string `json:"queue_id"`
}

func bodyRequest(contentType, body string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/api", strings.NewReader(body))
	if contentType != "" {
		r.Header.Set("Content-Type", contentType)
	}
	return r
}

func TestReadBodyAccepts(t *testing.T) {
	tests := []struct {
		name        string
		contentType string
		body        string
		want        testBody
	}{
		{name: "empty", want: testBody{}},
		{name: "empty json", contentType: "application/json", want: testBody{}},
		{name: "json object", contentType: "application/json", body: `{"site":"example.com"}`,
			want: testBody{Site: "example.com"}},
		{name: "json charset", contentType: "application/json; charset=UTF-8", body: `{"queue_id":"ABCDEF"}`,
			want: testBody{QueueID: "ABCDEF"}},
		{name: "json trailing newline", contentType: "application/json", body: "{}\n", want: testBody{}},
		{name: "form", contentType: "application/x-www-form-urlencoded", body: "site=example.com",
			want: testBody{Site: "example.com"}},
		{name: "form two fields", contentType: "application/x-www-form-urlencoded", body: "site=a&queue_id=B",
			want: testBody{Site: "a", QueueID: "B"}},
		{name: "form escaped", contentType: "application/x-www-form-urlencoded", body: "site=%24%28id%29",
			want: testBody{Site: "$(id)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got testBody
			if err := ReadBody(bodyRequest(tt.contentType, tt.body), 1024, &got); err != nil {
				t.Fatalf("ReadBody: %v", err)
			}
			if got != tt.want {
				t.Errorf("ReadBody decoded %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestReadBodyRejects(t *testing.T) {
	tests := []struct {
		name        string
		contentType string
		body        string
		status      int
	}{
		{name: "no content type", body: `{"site":"a"}`, status: http.StatusUnsupportedMediaType},
		{name: "text plain", contentType: "text/plain", body: "site=a", status: http.StatusUnsupportedMediaType},
		{name: "multipart", contentType: "multipart/form-data; boundary=x", body: "--x--",
			status: http.StatusUnsupportedMediaType},
		{name: "latin1", contentType: "application/json; charset=iso-8859-1", body: "{}",
			status: http.StatusUnsupportedMediaType},
		{name: "bad content type", contentType: "application/json; =", body: "{}",
			status: http.StatusUnsupportedMediaType},
		{name: "unknown json field", contentType: "application/json", body: `{"sites":"a"}`,
			status: http.StatusBadRequest},
		{name: "json not object", contentType: "application/json", body: `["a"]`, status: http.StatusBadRequest},
		{name: "json number", contentType: "application/json", body: `{"site":1}`, status: http.StatusBadRequest},
		{name: "json truncated", contentType: "application/json", body: `{"site":"a"`, status: http.StatusBadRequest},
		{name: "json two objects", contentType: "application/json", body: `{}{}`, status: http.StatusBadRequest},
		{name: "json trailing garbage", contentType: "application/json", body: `{} x`, status: http.StatusBadRequest},
		{name: "unknown form field", contentType: "application/x-www-form-urlencoded", body: "host=a",
			status: http.StatusBadRequest},
		{name: "repeated form field", contentType: "application/x-www-form-urlencoded", body: "site=a&site=b",
			status: http.StatusBadRequest},
		{name: "bad form escape", contentType: "application/x-www-form-urlencoded", body: "site=%zz",
			status: http.StatusBadRequest},
		{name: "over limit", contentType: "application/json",
			body: `{"site":"` + strings.Repeat("a", 10*1024) + `"}`, status: http.StatusRequestEntityTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got testBody
			err := ReadBody(bodyRequest(tt.contentType, tt.body), 1024, &got)
			var bodyErr *BodyError
			if !errors.As(err, &bodyErr) {
				t.Fatalf("ReadBody = %v, want a *BodyError", err)
			}
			if bodyErr.Status != tt.status {
				t.Errorf("status = %d, want %d (%v)", bodyErr.Status, tt.status, err)
			}
		})
	}
}

// TestReadBodyOverLimitUnknownLength covers a chunked body, whose length
// is not known before it is read.
func TestReadBodyOverLimitUnknownLength(t *testing.T) {
	r := bodyRequest("application/json", `{"site":"`+strings.Repeat("a", 2048)+`"}`)
	r.ContentLength = -1
	var got testBody
	err := ReadBody(r, 1024, &got)
	var bodyErr *BodyError
	if !errors.As(err, &bodyErr) {
		t.Fatalf("ReadBody = %v, want a *BodyError", err)
	}
	if bodyErr.Status != http.StatusRequestEntityTooLarge {
		t.Errorf("status = %d, want 413", bodyErr.Status)
	}
}

func TestReadBodyIgnoresQuery(t *testing.T) {
	r := httptest.NewRequest(http.MethodPost, "/api?site=example.com", nil)
	var got testBody
	if err := ReadBody(r, 1024, &got); err != nil {
		t.Fatalf("ReadBody: %v", err)
	}
	if got.Site != "" {
		t.Errorf("Site = %q from the URL query, want empty", got.Site)
	}
}

func TestWriteJSON(t *testing.T) {
	w := httptest.NewRecorder()
	WriteJSON(w, http.StatusTeapot, map[string]string{"result": "ok"})
	if w.Code != http.StatusTeapot {
		t.Errorf("status = %d, want %d", w.Code, http.StatusTeapot)
	}
	if got := w.Header().Get("Content-Type"); got != "application/json; charset=utf-8" {
		t.Errorf("Content-Type = %q", got)
	}
	if got := w.Header().Get("Cache-Control"); got != "no-store" {
		t.Errorf("Cache-Control = %q, want no-store", got)
	}
	var body map[string]string
	if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
		t.Fatalf("body %q: %v", w.Body.String(), err)
	}
	if body["result"] != "ok" {
		t.Errorf("body = %v", body)
	}
}

func TestWriteJSONUnencodable(t *testing.T) {
	w := httptest.NewRecorder()
	WriteJSON(w, http.StatusOK, map[string]any{"bad": make(chan int)})
	if w.Code != http.StatusInternalServerError {
		t.Errorf("status = %d, want 500", w.Code)
	}
}
