package actions

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"

	"github.com/postfix-queue-exporter/postfix_queue_exporter/parser"
	"github.com/postfix-queue-exporter/postfix_queue_exporter/postfix"
	"github.com/postfix-queue-exporter/postfix_queue_exporter/webapi"

	"github.com/postfix-queue-exporter/postfix_queue_exporter/internal/testhelp"
)

const testToken = "0123456789abcdef0123456789abcdef"

// fakeLister hands out a fixed listing, or the next of several listings on
// each call, or fails with err.
type fakeLister struct {
	mu       sync.Mutex
	listings [][]parser.Message // call i gets listings[min(i, len-1)]
	result   postfix.ListResult
	err      error
	calls    int
}

func (l *fakeLister) List(ctx context.Context, h parser.Handler) (*postfix.ListResult, error) {
	l.mu.Lock()
	listing := l.listings[min(l.calls, len(l.listings)-1)]
	l.calls++
	err := l.err
	l.mu.Unlock()

	if err != nil {
		return nil, err
	}
	for i := range listing {
		// The parser reuses its Message: hand out a copy that the
		// handler may not keep.
		m := listing[i]
		m.Recipients = slices.Clone(m.Recipients)
		if err := h(&m); err != nil {
			return nil, &postfix.Error{Kind: postfix.KindParse, Command: "postqueue -j", Err: err}
		}
	}
	result := l.result
	return &result, nil
}

func (l *fakeLister) callCount() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.calls
}

// postsuperCall is one call of fakePostsuper.Run.
type postsuperCall struct {
	op    postfix.Operation
	queue string
	ids   []string
}

// fakePostsuper records its calls and reports every id as affected, except
// those in skip. It fails with err, and waits for release when set.
type fakePostsuper struct {
	mu      sync.Mutex
	calls   []postsuperCall
	err     error
	skip    map[string]bool
	started chan struct{} // closed by the first call, when set
	release chan struct{} // the call waits for it, when set
}

func (p *fakePostsuper) Run(ctx context.Context, op postfix.Operation, queue string,
	ids []string,
) (*postfix.PostsuperResult, error) {
	p.mu.Lock()
	p.calls = append(p.calls, postsuperCall{op: op, queue: queue, ids: slices.Clone(ids)})
	started, release := p.started, p.release
	p.started = nil
	p.mu.Unlock()
	if started != nil {
		close(started)
	}
	if release != nil {
		<-release
	}

	result := &postfix.PostsuperResult{Commands: []string{"postsuper " + string(op) + " - " + queue}}
	for _, id := range ids {
		if !p.skip[id] {
			result.IDs = append(result.IDs, id)
		}
	}
	result.Affected = len(result.IDs)
	if p.err != nil {
		return result, p.err
	}
	return result, nil
}

func (p *fakePostsuper) callList() []postsuperCall {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.calls)
}

// testEnv is a Handler with fakes around it.
type testEnv struct {
	handler     *Handler
	mux         *http.ServeMux
	lister      *fakeLister
	postsuper   *fakePostsuper
	log         *testhelp.SyncBuffer
	invalidated int
	mu          sync.Mutex
}

// newTestEnv returns a handler over the capture listing, with every action
// enabled and a max delete of 1000. change adjusts the config.
func newTestEnv(t *testing.T, listing string, change func(*Config)) *testEnv {
	t.Helper()
	env := &testEnv{
		lister:    &fakeLister{listings: [][]parser.Message{readListing(t, listing)}},
		postsuper: &fakePostsuper{},
		log:       &testhelp.SyncBuffer{},
	}
	cfg := Config{
		Enabled:   map[Action]bool{Hold: true, Release: true, Requeue: true, Delete: true},
		Tokens:    loadToken(t),
		MaxDelete: DefaultMaxDelete,
		Instances: []Instance{{Lister: env.lister, Postsuper: env.postsuper}},
		Invalidate: func() {
			env.mu.Lock()
			defer env.mu.Unlock()
			env.invalidated++
		},
		Logger: level.NewFilter(log.NewLogfmtLogger(env.log), level.AllowDebug()),
		Now:    func() time.Time { return testNow },
	}
	if change != nil {
		change(&cfg)
	}
	h, err := NewHandler(cfg)
	if err != nil {
		t.Fatal(err)
	}
	env.handler = h
	env.mux = http.NewServeMux()
	h.Register(env.mux)
	return env
}

func loadToken(t *testing.T) *webapi.TokenFile {
	t.Helper()
	path := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(path, []byte(testToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tokens, err := webapi.LoadTokenFile(path, log.NewNopLogger())
	if err != nil {
		t.Fatal(err)
	}
	return tokens
}

func (e *testEnv) invalidations() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.invalidated
}

// post sends body to the endpoint of action with the test token.
func (e *testEnv) post(t *testing.T, action Action, body string) (*httptest.ResponseRecorder, Response) {
	t.Helper()
	r := httptest.NewRequest(http.MethodPost, PathPrefix+string(action), strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("Authorization", "Bearer "+testToken)
	return e.serve(t, r)
}

func (e *testEnv) serve(t *testing.T, r *http.Request) (*httptest.ResponseRecorder, Response) {
	t.Helper()
	w := httptest.NewRecorder()
	e.mux.ServeHTTP(w, r)
	var resp Response
	if err := json.Unmarshal(w.Body.Bytes(), &resp); err != nil {
		t.Fatalf("response %q is not JSON: %v", w.Body.String(), err)
	}
	return w, resp
}

// dryRun posts body with "dry_run": true added and returns the confirm
// value of the 200 response.
func (e *testEnv) dryRun(t *testing.T, action Action, selectJSON string) Response {
	t.Helper()
	w, resp := e.post(t, action, `{"select":`+selectJSON+`,"dry_run":true}`)
	if w.Code != http.StatusOK {
		t.Fatalf("dry run: status %d, body %s", w.Code, w.Body)
	}
	return resp
}
