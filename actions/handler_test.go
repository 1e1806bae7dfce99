package actions

import (
	"errors"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/common/expfmt"

	"github.com/postfix-queue-exporter/postfix_queue_exporter/parser"
	"github.com/postfix-queue-exporter/postfix_queue_exporter/postfix"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// Deferred messages of testdata/long-ids.jsonl from alice@example.org.
var aliceDeferred = []string{"4jgvV55S19z5g1Y", "4jgvV55Tmxz5g1X", "4jgvV55XPdz5g1b", "4jgvV55bZYz5g1c"}

func TestHandlerRejects(t *testing.T) {
	tests := []struct {
		name    string
		request func() *http.Request
		change  func(*Config)
		status  int
		result  Result
		header  string // a response header that must be set
		want    string // part of the error
	}{
		{"get", func() *http.Request {
			return authorized(httptest.NewRequest(http.MethodGet, PathPrefix+"delete", nil))
		}, nil, 405, ResultMethod, "Allow", "use POST"},
		{"no token", func() *http.Request {
			r := jsonRequest("delete", `{"queue_ids":["4jgvV55S19z5g1Y"]}`)
			r.Header.Del("Authorization")
			return r
		}, nil, 401, ResultUnauthorized, "WWW-Authenticate", "missing or invalid bearer token"},
		{"wrong token", func() *http.Request {
			r := jsonRequest("delete", `{"queue_ids":["4jgvV55S19z5g1Y"]}`)
			r.Header.Set("Authorization", "Bearer fedcba9876543210fedcba9876543210")
			return r
		}, nil, 401, ResultUnauthorized, "WWW-Authenticate", "missing or invalid bearer token"},
		{"token in url", func() *http.Request {
			r := jsonRequest("delete?access_token="+testToken, `{"queue_ids":["4jgvV55S19z5g1Y"]}`)
			return r
		}, nil, 401, ResultUnauthorized, "WWW-Authenticate", "token in the URL"},
		{"not enabled", func() *http.Request {
			return jsonRequest("delete", `{"queue_ids":["4jgvV55S19z5g1Y"]}`)
		}, func(c *Config) { c.Enabled = map[Action]bool{Hold: true} }, 403, ResultForbidden, "",
			"the delete action is not enabled: add it to --actions.enable"},
		{"query", func() *http.Request {
			return jsonRequest("hold?dry_run=1", `{"queue_ids":["4jgvV55S19z5g1Y"]}`)
		}, nil, 400, ResultInvalid, "", "must have no query"},
		{"bad body", func() *http.Request {
			return jsonRequest("hold", `{"select":{}}`)
		}, nil, 400, ResultInvalid, "", "select is empty"},
		{"form body", func() *http.Request {
			r := jsonRequest("hold", `queue_ids=4jgvV55S19z5g1Y`)
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			return r
		}, nil, 415, ResultInvalid, "", "application/json"},
		{"queue not acted on", func() *http.Request {
			return jsonRequest("release", `{"select":{"queue":"deferred"},"dry_run":true}`)
		}, nil, 422, ResultInvalid, "", "only on hold"},
		{"unknown instance", func() *http.Request {
			return jsonRequest("hold", `{"queue_ids":["4jgvV55S19z5g1Y"],"instance":"/etc/postfix-x"}`)
		}, nil, 400, ResultInvalid, "", `unknown instance "/etc/postfix-x"`},
		{"delete all", func() *http.Request {
			return jsonRequest("delete", `{"select":{"all":true},"dry_run":true}`)
		}, nil, 403, ResultForbidden, "", "needs --actions.allow-bulk-delete"},
		{"delete too many ids", func() *http.Request {
			return jsonRequest("delete", `{"queue_ids":["4jgvV55S19z5g1Y","4jgvV55Tmxz5g1X"]}`)
		}, func(c *Config) { c.MaxDelete = 1 }, 403, ResultForbidden, "", "more than --actions.max-delete=1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := newTestEnv(t, "long-ids.jsonl", tt.change)
			w, resp := env.serve(t, tt.request())
			if w.Code != tt.status {
				t.Errorf("status = %d, want %d (%s)", w.Code, tt.status, w.Body)
			}
			if resp.Result != tt.result {
				t.Errorf("result = %q, want %q", resp.Result, tt.result)
			}
			if !strings.Contains(resp.Error, tt.want) {
				t.Errorf("error %q does not contain %q", resp.Error, tt.want)
			}
			if tt.header != "" && w.Header().Get(tt.header) == "" {
				t.Errorf("header %s is missing", tt.header)
			}
			if n := env.lister.callCount(); n != 0 {
				t.Errorf("the queue was listed %d times", n)
			}
			if calls := env.postsuper.callList(); len(calls) != 0 {
				t.Errorf("postsuper ran: %+v", calls)
			}
		})
	}
}

func jsonRequest(pathAndQuery, body string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, PathPrefix+pathAndQuery, strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	return authorized(r)
}

func authorized(r *http.Request) *http.Request {
	r.Header.Set("Authorization", "Bearer "+testToken)
	return r
}

func TestHandlerDryRunThenConfirm(t *testing.T) {
	env := newTestEnv(t, "long-ids.jsonl", nil)
	selector := `{"queue":"deferred","sender":"alice@EXAMPLE.org"}`

	dry := env.dryRun(t, Delete, selector)
	if dry.Result != ResultDryRun || !dry.DryRun {
		t.Errorf("result %q, dry run %t, want a dry run", dry.Result, dry.DryRun)
	}
	if dry.Matched == nil || *dry.Matched != 4 {
		t.Errorf("matched = %v, want 4", dry.Matched)
	}
	if dry.MatchedBytes != 281+283+282+355 {
		t.Errorf("matched bytes = %d, want %d", dry.MatchedBytes, 281+283+282+355)
	}
	if dry.Queues["deferred"] != 4 || len(dry.Queues) != 1 {
		t.Errorf("queues = %v, want 4 deferred", dry.Queues)
	}
	var ids []string
	for _, m := range dry.Messages {
		ids = append(ids, m.QueueID)
	}
	if !slices.Equal(ids, aliceDeferred) {
		t.Errorf("messages = %q, want %q", ids, aliceDeferred)
	}
	if dry.Affected != nil {
		t.Errorf("a dry run reports %d affected", *dry.Affected)
	}
	if calls := env.postsuper.callList(); len(calls) != 0 {
		t.Fatalf("a dry run ran postsuper: %+v", calls)
	}
	if n := env.invalidations(); n != 0 {
		t.Errorf("a dry run invalidated the cache %d times", n)
	}

	w, real := env.post(t, Delete, `{"select":`+selector+`,"confirm":"`+dry.Confirm+`"}`)
	if w.Code != http.StatusOK || real.Result != ResultOK {
		t.Fatalf("status %d, result %q, body %s", w.Code, real.Result, w.Body)
	}
	calls := env.postsuper.callList()
	want := []postsuperCall{{op: postfix.OpDelete, queue: "deferred", ids: aliceDeferred}}
	if !equalCalls(calls, want) {
		t.Errorf("postsuper calls = %+v, want %+v", calls, want)
	}
	if real.Affected == nil || *real.Affected != 4 {
		t.Errorf("affected = %v, want 4", real.Affected)
	}
	if len(real.Commands) != 1 {
		t.Errorf("commands = %q, want one", real.Commands)
	}
	if real.Confirm != dry.Confirm {
		t.Errorf("confirm of the real run %q differs from the dry run's %q", real.Confirm, dry.Confirm)
	}
	if n := env.invalidations(); n != 1 {
		t.Errorf("invalidated %d times, want 1", n)
	}
	if n := env.lister.callCount(); n != 2 {
		t.Errorf("listed the queue %d times, want 2: the real request must read it again", n)
	}
}

func equalCalls(a, b []postsuperCall) bool {
	return slices.EqualFunc(a, b, func(x, y postsuperCall) bool {
		return x.op == y.op && x.queue == y.queue && slices.Equal(x.ids, y.ids)
	})
}

func TestHandlerConfirmMismatch(t *testing.T) {
	env := newTestEnv(t, "long-ids.jsonl", nil)
	before := readListing(t, "long-ids.jsonl")
	after := slices.DeleteFunc(slices.Clone(before), func(m parser.Message) bool { return m.ID == aliceDeferred[0] })
	env.lister.listings = [][]parser.Message{before, after}
	selector := `{"sender":"@example.org","recipient":"@example.net","queue":"deferred"}`

	dry := env.dryRun(t, Hold, selector)
	w, resp := env.post(t, Hold, `{"select":`+selector+`,"confirm":"`+dry.Confirm+`"}`)
	if w.Code != http.StatusConflict {
		t.Fatalf("status = %d, want 409 (%s)", w.Code, w.Body)
	}
	if resp.Result != ResultConflict {
		t.Errorf("result = %q, want conflict", resp.Result)
	}
	if resp.Confirm == "" || resp.Confirm == dry.Confirm {
		t.Errorf("confirm = %q, want a new value", resp.Confirm)
	}
	if resp.Matched == nil || *resp.Matched != *dry.Matched-1 {
		t.Errorf("matched = %v, want %d", resp.Matched, *dry.Matched-1)
	}
	if !strings.Contains(resp.Error, "changed since the dry run") {
		t.Errorf("error = %q", resp.Error)
	}
	if calls := env.postsuper.callList(); len(calls) != 0 {
		t.Errorf("postsuper ran: %+v", calls)
	}

	// The new confirm value acts on the new set.
	w, resp = env.post(t, Hold, `{"select":`+selector+`,"confirm":"`+resp.Confirm+`"}`)
	if w.Code != http.StatusOK {
		t.Fatalf("status = %d, want 200 (%s)", w.Code, w.Body)
	}
	if resp.Affected == nil || *resp.Affected != *dry.Matched-1 {
		t.Errorf("affected = %v, want %d", resp.Affected, *dry.Matched-1)
	}
}

func TestHandlerConfirmOtherAction(t *testing.T) {
	env := newTestEnv(t, "long-ids.jsonl", nil)
	selector := `{"queue":"deferred","sender":"@example.org"}`
	dry := env.dryRun(t, Hold, selector)
	w, _ := env.post(t, Delete, `{"select":`+selector+`,"confirm":"`+dry.Confirm+`"}`)
	if w.Code != http.StatusConflict {
		t.Errorf("status = %d, want 409: a hold dry run must not confirm a delete", w.Code)
	}
	if calls := env.postsuper.callList(); len(calls) != 0 {
		t.Errorf("postsuper ran: %+v", calls)
	}
}

func TestHandlerQueueIDs(t *testing.T) {
	env := newTestEnv(t, "long-ids.jsonl", nil)
	w, resp := env.post(t, Release,
		`{"queue_ids":["4jgvV564Ztz5g2G","4jgvV55S19z5g1Y","4jgvV55S19z5g1Z","4jgvV561p4z5g2F"]}`)
	if w.Code != http.StatusOK {
		t.Fatalf("status = %d (%s)", w.Code, w.Body)
	}
	want := []postsuperCall{{op: postfix.OpRelease, queue: "hold", ids: []string{"4jgvV561p4z5g2F", "4jgvV564Ztz5g2G"}}}
	if calls := env.postsuper.callList(); !equalCalls(calls, want) {
		t.Errorf("postsuper calls = %+v, want %+v", calls, want)
	}
	if !slices.Equal(resp.NotFound, []string{"4jgvV55S19z5g1Z"}) {
		t.Errorf("not found = %q", resp.NotFound)
	}
	if len(resp.Skipped) != 1 || resp.Skipped[0] != (Skipped{QueueID: "4jgvV55S19z5g1Y", Queue: "deferred"}) {
		t.Errorf("skipped = %+v", resp.Skipped)
	}
	if resp.Affected == nil || *resp.Affected != 2 {
		t.Errorf("affected = %v, want 2", resp.Affected)
	}
}

func TestHandlerQueueIDsAllUnknown(t *testing.T) {
	env := newTestEnv(t, "long-ids.jsonl", nil)
	w, resp := env.post(t, Delete, `{"queue_ids":["4jgvV55S19z5g1Z"]}`)
	if w.Code != http.StatusOK {
		t.Fatalf("status = %d (%s)", w.Code, w.Body)
	}
	if resp.Affected == nil || *resp.Affected != 0 {
		t.Errorf("affected = %v, want 0", resp.Affected)
	}
	if calls := env.postsuper.callList(); len(calls) != 0 {
		t.Errorf("postsuper ran: %+v", calls)
	}
	if n := env.invalidations(); n != 0 {
		t.Errorf("invalidated %d times without a postsuper run", n)
	}
}

func TestHandlerQueueIDsConfirm(t *testing.T) {
	env := newTestEnv(t, "long-ids.jsonl", nil)
	body := `{"queue_ids":["4jgvV55S19z5g1Y","4jgvV55Tmxz5g1X"]`
	_, dry := env.post(t, Requeue, body+`,"dry_run":true}`)
	if calls := env.postsuper.callList(); len(calls) != 0 {
		t.Fatalf("a dry run ran postsuper: %+v", calls)
	}
	w, _ := env.post(t, Requeue, body+`,"confirm":"`+testConfirm+`"}`)
	if w.Code != http.StatusConflict {
		t.Errorf("wrong confirm: status = %d, want 409", w.Code)
	}
	w, _ = env.post(t, Requeue, body+`,"confirm":"`+dry.Confirm+`"}`)
	if w.Code != http.StatusOK {
		t.Errorf("dry run confirm: status = %d, want 200 (%s)", w.Code, w.Body)
	}
}

func TestHandlerBulkDelete(t *testing.T) {
	tests := []struct {
		name      string
		maxDelete int
		bulk      bool
		selector  string
		status    int
		want      string
	}{
		{"under limit", 15, false, `{"queue":"deferred"}`, 200, ""},
		{"over limit", 14, false, `{"queue":"deferred"}`, 403, "more than --actions.max-delete=14"},
		{"over limit with bulk", 14, true, `{"queue":"deferred"}`, 200, ""},
		{"all with bulk", 1, true, `{"all":true}`, 200, ""},
		{"all without bulk", 1000, false, `{"all":true}`, 403, "needs --actions.allow-bulk-delete"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := newTestEnv(t, "long-ids.jsonl", func(c *Config) {
				c.MaxDelete, c.AllowBulkDelete = tt.maxDelete, tt.bulk
			})
			w, resp := env.post(t, Delete, `{"select":`+tt.selector+`,"dry_run":true}`)
			if w.Code != tt.status {
				t.Errorf("status = %d, want %d (%s)", w.Code, tt.status, w.Body)
			}
			if !strings.Contains(resp.Error, tt.want) {
				t.Errorf("error %q does not contain %q", resp.Error, tt.want)
			}
			if tt.status != 200 && resp.Confirm != "" {
				t.Errorf("a rejected selection got confirm %q", resp.Confirm)
			}
			if !resp.DryRun {
				t.Error("dry_run is false in the response to a dry run")
			}
		})
	}
}

func TestHandlerBulkLimitOnlyForDelete(t *testing.T) {
	env := newTestEnv(t, "long-ids.jsonl", func(c *Config) { c.MaxDelete = 1 })
	dry := env.dryRun(t, Hold, `{"queue":"deferred"}`)
	if dry.Matched == nil || *dry.Matched != 15 {
		t.Errorf("matched = %v, want 15", dry.Matched)
	}
}

func TestHandlerTooManyMessages(t *testing.T) {
	env := newTestEnv(t, "long-ids.jsonl", nil)
	template := readListing(t, "long-ids.jsonl")[2]
	listing := make([]parser.Message, MaxMessages+1)
	for i := range listing {
		listing[i] = template
		listing[i].ID = fmt.Sprintf("%010X", i)
	}
	env.lister.listings = [][]parser.Message{listing}

	w, resp := env.post(t, Hold, `{"select":{"queue":"deferred"},"dry_run":true}`)
	if w.Code != http.StatusUnprocessableEntity {
		t.Errorf("status = %d, want 422", w.Code)
	}
	if !strings.Contains(resp.Error, "more than 100000 messages") {
		t.Errorf("error = %q", resp.Error)
	}
}

func TestHandlerFailures(t *testing.T) {
	tests := []struct {
		name          string
		listErr       error
		postsuperErr  error
		status        int
		affected      int // -1 when no postsuper ran
		invalidations int
	}{
		{"list timeout", &postfix.Error{Kind: postfix.KindTimeout, Command: "postqueue -j", Err: errors.New("timed out")},
			nil, 504, -1, 0},
		{"list mail system down", &postfix.Error{Kind: postfix.KindMailSystemDown, Command: "postqueue -j",
			Err: errors.New("exit status 69")}, nil, 503, -1, 0},
		{"list permission", &postfix.Error{Kind: postfix.KindPermission, Command: "postqueue -j",
			Err: errors.New("exit status 69")}, nil, 500, -1, 0},
		{"list other", errors.New("boom"), nil, 500, -1, 0},
		{"postsuper timeout", nil, &postfix.Error{Kind: postfix.KindTimeout, Command: "postsuper -h - deferred",
			Err: errors.New("timed out")}, 504, 4, 1},
		{"postsuper sudo", nil, &postfix.Error{Kind: postfix.KindPermission, Command: "sudo -n postsuper -h - deferred",
			Stderr: "sudo: a password is required", Err: errors.New("exit status 1")}, 500, 4, 1},
		{"postsuper output", nil, &postfix.Error{Kind: postfix.KindParse, Command: "postsuper -h - deferred",
			Err: errors.New("no count line")}, 500, 4, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := newTestEnv(t, "long-ids.jsonl", nil)
			env.lister.err = tt.listErr
			env.postsuper.err = tt.postsuperErr
			w, resp := env.post(t, Hold, `{"queue_ids":["`+strings.Join(aliceDeferred, `","`)+`"]}`)
			if w.Code != tt.status {
				t.Errorf("status = %d, want %d (%s)", w.Code, tt.status, w.Body)
			}
			if resp.Result != ResultFailed {
				t.Errorf("result = %q, want failed", resp.Result)
			}
			switch {
			case tt.affected < 0 && resp.Affected != nil:
				t.Errorf("affected = %d, want none", *resp.Affected)
			case tt.affected >= 0 && (resp.Affected == nil || *resp.Affected != tt.affected):
				t.Errorf("affected = %v, want %d", resp.Affected, tt.affected)
			}
			if n := env.invalidations(); n != tt.invalidations {
				t.Errorf("invalidated %d times, want %d", n, tt.invalidations)
			}
		})
	}
}

func TestHandlerMissed(t *testing.T) {
	env := newTestEnv(t, "long-ids.jsonl", nil)
	env.postsuper.skip = map[string]bool{aliceDeferred[1]: true}
	_, resp := env.post(t, Hold, `{"queue_ids":["`+strings.Join(aliceDeferred, `","`)+`"]}`)
	if resp.Affected == nil || *resp.Affected != 3 {
		t.Errorf("affected = %v, want 3", resp.Affected)
	}
	if !slices.Equal(resp.Missed, []string{aliceDeferred[1]}) {
		t.Errorf("missed = %q, want [%s]", resp.Missed, aliceDeferred[1])
	}
}

func TestHandlerEmptySelection(t *testing.T) {
	env := newTestEnv(t, "long-ids.jsonl", nil)
	selector := `{"sender":"nobody@example.org"}`
	dry := env.dryRun(t, Delete, selector)
	if dry.Matched == nil || *dry.Matched != 0 {
		t.Fatalf("matched = %v, want 0", dry.Matched)
	}
	w, resp := env.post(t, Delete, `{"select":`+selector+`,"confirm":"`+dry.Confirm+`"}`)
	if w.Code != http.StatusOK || resp.Affected == nil || *resp.Affected != 0 {
		t.Errorf("status %d, affected %v, want 200 and 0", w.Code, resp.Affected)
	}
	if calls := env.postsuper.callList(); len(calls) != 0 {
		t.Errorf("postsuper ran: %+v", calls)
	}
}

func TestHandlerBusy(t *testing.T) {
	env := newTestEnv(t, "long-ids.jsonl", nil)
	env.postsuper.started = make(chan struct{})
	env.postsuper.release = make(chan struct{})
	started := env.postsuper.started

	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		r := jsonRequest("hold", `{"queue_ids":["4jgvV55S19z5g1Y"]}`)
		env.mux.ServeHTTP(httptest.NewRecorder(), r)
	}()
	<-started

	w, resp := env.post(t, Delete, `{"queue_ids":["4jgvV55Tmxz5g1X"]}`)
	if w.Code != http.StatusConflict || resp.Result != ResultBusy {
		t.Errorf("second action: status %d, result %q, want 409 busy", w.Code, resp.Result)
	}
	w, _ = env.post(t, Delete, `{"queue_ids":["4jgvV55Tmxz5g1X"],"dry_run":true}`)
	if w.Code != http.StatusOK {
		t.Errorf("dry run during an action: status %d, want 200", w.Code)
	}

	close(env.postsuper.release)
	wg.Wait()
	w, _ = env.post(t, Delete, `{"queue_ids":["4jgvV55Tmxz5g1X"]}`)
	if w.Code != http.StatusOK {
		t.Errorf("action after the first ended: status %d, want 200", w.Code)
	}
}

func TestHandlerInstances(t *testing.T) {
	second := &fakeLister{listings: [][]parser.Message{readListing(t, "short-ids.jsonl")}}
	secondPostsuper := &fakePostsuper{}
	env := newTestEnv(t, "long-ids.jsonl", func(c *Config) {
		c.Instances[0].Name = "/etc/postfix"
		c.Instances = append(c.Instances,
			Instance{Name: "/etc/postfix-lab2", Lister: second, Postsuper: secondPostsuper})
	})

	w, resp := env.post(t, Hold, `{"select":{"queue":"deferred"},"dry_run":true}`)
	if w.Code != http.StatusBadRequest || !strings.Contains(resp.Error, `missing instance`) {
		t.Errorf("no instance: status %d, error %q", w.Code, resp.Error)
	}

	w, resp = env.post(t, Hold, `{"queue_ids":["3082DB82AF"],"instance":"/etc/postfix-lab2"}`)
	if w.Code != http.StatusOK {
		t.Fatalf("status %d (%s)", w.Code, w.Body)
	}
	if resp.Instance != "/etc/postfix-lab2" {
		t.Errorf("instance = %q", resp.Instance)
	}
	want := []postsuperCall{{op: postfix.OpHold, queue: "deferred", ids: []string{"3082DB82AF"}}}
	if calls := secondPostsuper.callList(); !equalCalls(calls, want) {
		t.Errorf("second instance calls = %+v, want %+v", calls, want)
	}
	if calls := env.postsuper.callList(); len(calls) != 0 {
		t.Errorf("first instance ran postsuper: %+v", calls)
	}
	if env.lister.callCount() != 0 {
		t.Error("first instance was listed")
	}
}

func TestHandlerWarnings(t *testing.T) {
	tests := []struct {
		listing string
		down    bool
		want    []string
	}{
		{"long-ids.jsonl", false, nil},
		{"short-ids.jsonl", false, []string{shortIDWarning}},
		{"long-ids.jsonl", true, []string{"Postfix is not running: postqueue read the queue files directly"}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s down %t", tt.listing, tt.down), func(t *testing.T) {
			env := newTestEnv(t, tt.listing, nil)
			env.lister.result.MailSystemDown = tt.down
			dry := env.dryRun(t, Hold, `{"queue":"deferred"}`)
			if !slices.Equal(dry.Warnings, tt.want) {
				t.Errorf("warnings = %q, want %q", dry.Warnings, tt.want)
			}
		})
	}
}

func TestHandlerShortIDLog(t *testing.T) {
	env := newTestEnv(t, "short-ids.jsonl", func(c *Config) { c.Instances[0].CheckIDShape = true })
	env.dryRun(t, Hold, `{"queue":"deferred"}`)
	env.dryRun(t, Hold, `{"queue":"deferred"}`)
	if n := strings.Count(env.log.String(), "selected messages with short queue ids"); n != 1 {
		t.Errorf("short id warning logged %d times, want once", n)
	}
}

func TestHandlerAudit(t *testing.T) {
	env := newTestEnv(t, "long-ids.jsonl", nil)
	dry := env.dryRun(t, Delete, `{"sender":"alice@example.org","queue":"deferred"}`)
	env.post(t, Delete, `{"select":{"sender":"alice@example.org","queue":"deferred"},"confirm":"`+dry.Confirm+`"}`)
	r := jsonRequest("delete", `{"queue_ids":["4jgvV55S19z5g1Y"]}`)
	r.Header.Del("Authorization")
	env.serve(t, r)

	lines := strings.Split(strings.TrimSpace(env.log.String()), "\n")
	var audit, debug []string
	for _, line := range lines {
		switch {
		case strings.Contains(line, `msg="API request"`):
			audit = append(audit, line)
		case strings.Contains(line, "level=debug"):
			debug = append(debug, line)
		}
	}
	if len(audit) != 3 {
		t.Fatalf("audit lines = %d, want 3:\n%s", len(audit), env.log)
	}
	wants := [][]string{
		{"level=info", "action=delete", "dry_run=true", `select="{\"queue\":\"deferred\",\"sender\":\"alice@example.org\"}"`,
			"matched=4", "result=dry_run", "status=200", "remote_addr="},
		{"action=delete", "dry_run=false", "matched=4", "affected=4", "result=ok", "status=200"},
		{"action=delete", "result=unauthorized", "status=401", "err="},
	}
	for i, want := range wants {
		for _, part := range want {
			if !strings.Contains(audit[i], part) {
				t.Errorf("audit line %d lacks %s:\n%s", i+1, part, audit[i])
			}
		}
	}
	for _, line := range audit {
		if strings.Contains(line, aliceDeferred[0]) {
			t.Errorf("audit line logs queue ids at info level:\n%s", line)
		}
		if strings.Contains(line, testToken) {
			t.Errorf("audit line logs the token:\n%s", line)
		}
	}
	if len(debug) != 2 || !strings.Contains(debug[1], "deferred:"+aliceDeferred[0]) {
		t.Errorf("debug lines = %q, want one with the ids per listing", debug)
	}
}

func TestHandlerMetrics(t *testing.T) {
	env := newTestEnv(t, "long-ids.jsonl", func(c *Config) { c.Enabled = map[Action]bool{Hold: true, Delete: true} })
	dry := env.dryRun(t, Delete, `{"sender":"alice@example.org","queue":"deferred"}`)
	env.post(t, Delete, `{"select":{"sender":"alice@example.org","queue":"deferred"},"confirm":"`+dry.Confirm+`"}`)
	env.post(t, Delete, `{"select":{"sender":"alice@example.org","queue":"deferred"},"confirm":"`+testConfirm+`"}`)
	env.post(t, Hold, `{"queue_ids":["4jgvV55S19z5g1Y","4jgvV55yjnz5g2D"]}`)
	env.post(t, Release, `{"queue_ids":["4jgvV564Ztz5g2G"]}`)
	env.post(t, Requeue, `{"select":{}}`)
	r := jsonRequest("hold", `{}`)
	r.Header.Del("Authorization")
	env.serve(t, r)

	golden := "testdata/metrics.golden"
	if *update {
		text, err := testutil.CollectAndFormat(env.handler, expfmt.TypeTextPlain,
			"postfix_exporter_action_requests_total", "postfix_exporter_action_messages_total")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, text, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	f, err := os.Open(golden)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := testutil.CollectAndCompare(env.handler, f); err != nil {
		t.Error(err)
	}
}

func TestNewHandlerErrors(t *testing.T) {
	tests := []struct {
		name   string
		change func(*Config)
		want   string
	}{
		{"no instance", func(c *Config) { c.Instances = nil }, "no Postfix instance"},
		{"no token", func(c *Config) { c.Tokens = nil }, "no token file"},
		{"max delete zero", func(c *Config) { c.MaxDelete = 0 }, "max delete 0 is outside"},
		{"max delete huge", func(c *Config) { c.MaxDelete = MaxMessages + 1 }, "is outside 1 to 100000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := Config{
				Tokens:    loadToken(t),
				MaxDelete: DefaultMaxDelete,
				Instances: []Instance{{Lister: &fakeLister{}, Postsuper: &fakePostsuper{}}},
			}
			tt.change(&cfg)
			_, err := NewHandler(cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
}
