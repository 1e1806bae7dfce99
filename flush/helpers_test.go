package flush

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-kit/log"

	"github.com/postfix-queue-exporter/postfix_queue_exporter/parser"
	"github.com/postfix-queue-exporter/postfix_queue_exporter/postfix"
	"github.com/postfix-queue-exporter/postfix_queue_exporter/webapi"

	"github.com/postfix-queue-exporter/postfix_queue_exporter/internal/testhelp"
)

const (
	testToken  = "0123456789abcdef0123456789abcdef"
	otherToken = "fedcba9876543210fedcba9876543210"
	// Queue IDs of testdata/listing.jsonl, a capture from the lab.
	deferredID = "4jgvV55S19z5g1Y"
	heldID     = "4jgvV561p4z5g2F"
	missingID  = "4jgvV55S19z5g1Z"
)

// fakePostqueue is a shell script in place of postqueue. It appends its
// arguments to a file, prints testdata/listing.jsonl for -j, and runs a
// body given by the test for every other option.
type fakePostqueue struct {
	path     string
	argsFile string
}

func newFakePostqueue(t *testing.T, body string) *fakePostqueue {
	t.Helper()
	dir := t.TempDir()
	listing, err := filepath.Abs("testdata/listing.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	f := &fakePostqueue{path: filepath.Join(dir, "postqueue"), argsFile: filepath.Join(dir, "args")}
	script := "#!/bin/sh\n" +
		"printf '%s\\n' \"$*\" >> '" + f.argsFile + "'\n" +
		"for arg; do [ \"$arg\" = -j ] && exec cat '" + listing + "'; done\n" +
		body + "\n"
	if err := os.WriteFile(f.path, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return f
}

// calls returns the argument lines of every run so far.
func (f *fakePostqueue) calls(t *testing.T) []string {
	t.Helper()
	data, err := os.ReadFile(f.argsFile)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
}

func (f *fakePostqueue) instance(configDir string, timeout time.Duration) Instance {
	runner := &postfix.Runner{Timeout: timeout}
	lister := &postfix.Postqueue{Path: f.path, ConfigDir: configDir, Format: parser.FormatJSON, Runner: runner}
	return Instance{
		Name:    configDir,
		Flusher: &postfix.Flusher{Path: f.path, ConfigDir: configDir, Runner: runner, Lister: lister},
	}
}

// testServer is a Handler with a fake postqueue, a fake clock and a
// 5-minute rate limit.
type testServer struct {
	handler     *Handler
	postqueue   *fakePostqueue
	clock       *testhelp.FakeClock
	logs        *testhelp.SyncBuffer
	tokenPath   string
	invalidated atomic.Int64
}

func newTestServer(t *testing.T, body string) *testServer {
	t.Helper()
	s := &testServer{
		postqueue: newFakePostqueue(t, body),
		clock:     testhelp.NewFakeClock(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)),
		logs:      &testhelp.SyncBuffer{},
		tokenPath: filepath.Join(t.TempDir(), "token"),
	}
	writeToken(t, s.tokenPath, testToken)
	logger := log.NewLogfmtLogger(s.logs)
	tokens, err := webapi.LoadTokenFile(s.tokenPath, logger)
	if err != nil {
		t.Fatal(err)
	}
	s.handler, err = NewHandler(Config{
		Tokens:     tokens,
		Limiter:    webapi.NewRateLimiter(5*time.Minute, s.clock.Now),
		Instances:  []Instance{s.postqueue.instance("", 10*time.Second)},
		Invalidate: func() { s.invalidated.Add(1) },
		Logger:     logger,
		Now:        s.clock.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// writeToken replaces the token file in one rename, as rotation should.
func writeToken(t *testing.T, path, token string) {
	t.Helper()
	tmp := path + ".new"
	if err := os.WriteFile(tmp, []byte(token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// call is one request to the handler.
type call struct {
	method      string // POST when empty
	target      string // Path when empty
	token       string // sent as a bearer token when not empty
	contentType string
	body        string
}

// jsonCall is a POST with a JSON body and the right token.
func jsonCall(body string) call {
	return call{token: testToken, contentType: "application/json", body: body}
}

// formCall is a POST with a form body and the right token.
func formCall(body string) call {
	return call{token: testToken, contentType: "application/x-www-form-urlencoded", body: body}
}

func (c call) request() *http.Request {
	method, target := c.method, c.target
	if method == "" {
		method = http.MethodPost
	}
	if target == "" {
		target = Path
	}
	var body io.Reader
	if c.body != "" {
		body = strings.NewReader(c.body)
	}
	r := httptest.NewRequest(method, target, body)
	r.RemoteAddr = "192.0.2.10:40000"
	if c.token != "" {
		r.Header.Set("Authorization", "Bearer "+c.token)
	}
	if c.contentType != "" {
		r.Header.Set("Content-Type", c.contentType)
	}
	return r
}

// do sends c to the handler and decodes the JSON response.
func (s *testServer) do(t *testing.T, c call) (*httptest.ResponseRecorder, response) {
	t.Helper()
	w := httptest.NewRecorder()
	s.handler.ServeHTTP(w, c.request())
	var resp response
	if err := json.Unmarshal(w.Body.Bytes(), &resp); err != nil {
		t.Fatalf("response %q is not JSON: %v", w.Body.String(), err)
	}
	return w, resp
}
