package flush

import (
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/common/expfmt"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// hostileValues are sites and queue IDs that must be rejected before any
// command runs.
var hostileValues = []string{
	"-x",
	"-f",
	"$(id)",
	"`id`",
	"a;b",
	"a|b",
	"a b",
	"..",
	"../etc",
	"example.com\n",
	"example.com\nINJECTED",
	"a\x00b",
	"exämple.com",
	"4jgvV55S19z5g1Y\n",
	"'4jgvV55S19z5g1Y'",
}

func TestHandlerRejects(t *testing.T) {
	tests := []struct {
		name   string
		call   call
		status int
		result string
	}{
		{name: "GET", call: call{method: http.MethodGet, token: testToken},
			status: http.StatusMethodNotAllowed, result: ResultMethodNotAllowed},
		{name: "PUT", call: call{method: http.MethodPut, token: testToken},
			status: http.StatusMethodNotAllowed, result: ResultMethodNotAllowed},
		{name: "GET without token", call: call{method: http.MethodGet},
			status: http.StatusMethodNotAllowed, result: ResultMethodNotAllowed},
		{name: "no token", call: call{}, status: http.StatusUnauthorized, result: ResultUnauthorized},
		{name: "wrong token", call: call{token: otherToken}, status: http.StatusUnauthorized, result: ResultUnauthorized},
		{name: "token in URL", call: call{target: Path + "?access_token=" + testToken},
			status: http.StatusUnauthorized, result: ResultUnauthorized},
		{name: "token in URL and header", call: call{target: Path + "?token=" + testToken, token: testToken},
			status: http.StatusUnauthorized, result: ResultUnauthorized},
		{name: "site in URL", call: call{target: Path + "?site=example.com", token: testToken},
			status: http.StatusBadRequest, result: ResultInvalid},
		{name: "both fields", call: jsonCall(`{"site":"flush.example.test","queue_id":"` + deferredID + `"}`),
			status: http.StatusBadRequest, result: ResultInvalid},
		{name: "both form fields", call: formCall("site=flush.example.test&queue_id=" + deferredID),
			status: http.StatusBadRequest, result: ResultInvalid},
		{name: "unknown field", call: jsonCall(`{"host":"flush.example.test"}`),
			status: http.StatusBadRequest, result: ResultInvalid},
		{name: "unknown instance", call: jsonCall(`{"instance":"/etc/postfix-other"}`),
			status: http.StatusBadRequest, result: ResultInvalid},
		{name: "site not a string", call: jsonCall(`{"site":["a","b"]}`),
			status: http.StatusBadRequest, result: ResultInvalid},
		{name: "10 KB site", call: jsonCall(`{"site":"` + strings.Repeat("a", 10*1024) + `"}`),
			status: http.StatusRequestEntityTooLarge, result: ResultInvalid},
		{name: "10 KB form site", call: formCall("site=" + strings.Repeat("a", 10*1024)),
			status: http.StatusRequestEntityTooLarge, result: ResultInvalid},
		{name: "text body", call: call{token: testToken, contentType: "text/plain", body: "site=example.com"},
			status: http.StatusUnsupportedMediaType, result: ResultInvalid},
		{name: "body without type", call: call{token: testToken, body: `{"site":"example.com"}`},
			status: http.StatusUnsupportedMediaType, result: ResultInvalid},
	}
	for _, value := range hostileValues {
		tests = append(tests,
			struct {
				name   string
				call   call
				status int
				result string
			}{name: fmt.Sprintf("site %q", value), call: formCall("site=" + url.QueryEscape(value)),
				status: http.StatusBadRequest, result: ResultInvalid},
			struct {
				name   string
				call   call
				status int
				result string
			}{name: fmt.Sprintf("queue_id %q", value), call: formCall("queue_id=" + url.QueryEscape(value)),
				status: http.StatusBadRequest, result: ResultInvalid},
		)
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newTestServer(t, "exit 0")
			w, resp := s.do(t, tt.call)
			if w.Code != tt.status {
				t.Errorf("status = %d, want %d (%+v)", w.Code, tt.status, resp)
			}
			if resp.Result != tt.result {
				t.Errorf("result = %q, want %q", resp.Result, tt.result)
			}
			if resp.Error == "" {
				t.Error("response has no error message")
			}
			if got := s.postqueue.calls(t); len(got) != 0 {
				t.Errorf("postqueue ran with %q, want no run", got)
			}
			if got := s.handler.metrics.requests[tt.result].Load(); got != 1 {
				t.Errorf("requests{result=%q} = %d, want 1", tt.result, got)
			}
			if strings.Contains(s.logs.String(), testToken) {
				t.Errorf("log contains the token: %s", s.logs.String())
			}
		})
	}
}

func TestHandlerRejectHeaders(t *testing.T) {
	tests := []struct {
		name   string
		call   call
		header string
		want   string
	}{
		{name: "allow", call: call{method: http.MethodGet}, header: "Allow", want: "POST"},
		{name: "challenge", call: call{}, header: "WWW-Authenticate", want: `Bearer realm="postfix_queue_exporter"`},
		{name: "invalid token challenge", call: call{token: otherToken}, header: "WWW-Authenticate",
			want: `Bearer realm="postfix_queue_exporter", error="invalid_token"`},
		{name: "json", call: call{}, header: "Content-Type", want: "application/json; charset=utf-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newTestServer(t, "exit 0")
			w, _ := s.do(t, tt.call)
			if got := w.Header().Get(tt.header); got != tt.want {
				t.Errorf("%s = %q, want %q", tt.header, got, tt.want)
			}
		})
	}
}

func TestHandlerFlushes(t *testing.T) {
	tests := []struct {
		name     string
		call     call
		wantArgs []string
	}{
		{name: "all, no body", call: call{token: testToken}, wantArgs: []string{"-f"}},
		{name: "all, empty JSON", call: jsonCall(`{}`), wantArgs: []string{"-f"}},
		{name: "site JSON", call: jsonCall(`{"site":"flush.example.test"}`),
			wantArgs: []string{"-s flush.example.test"}},
		{name: "site form", call: formCall("site=flush.example.test"), wantArgs: []string{"-s flush.example.test"}},
		{name: "site literal", call: formCall("site=%5B127.0.0.1%5D"), wantArgs: []string{"-s [127.0.0.1]"}},
		{name: "queue id", call: jsonCall(`{"queue_id":"` + deferredID + `"}`),
			wantArgs: []string{"-j", "-i " + deferredID}},
		{name: "default instance by name", call: jsonCall(`{"instance":""}`), wantArgs: []string{"-f"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newTestServer(t, "exit 0")
			w, resp := s.do(t, tt.call)
			if w.Code != http.StatusOK {
				t.Fatalf("status = %d, want 200 (%+v)", w.Code, resp)
			}
			if resp.Result != ResultOK {
				t.Errorf("result = %q, want ok", resp.Result)
			}
			wantCommand := s.postqueue.path + " " + tt.wantArgs[len(tt.wantArgs)-1]
			if resp.Command != wantCommand {
				t.Errorf("command = %q, want %q", resp.Command, wantCommand)
			}
			if got := s.postqueue.calls(t); strings.Join(got, "|") != strings.Join(tt.wantArgs, "|") {
				t.Errorf("postqueue ran with %q, want %q", got, tt.wantArgs)
			}
			if got := s.invalidated.Load(); got != 1 {
				t.Errorf("caches invalidated %d times, want 1", got)
			}
			if got, want := s.handler.metrics.lastSuccess.Load(), s.clock.Now().UnixNano(); got != want {
				t.Errorf("last success = %d, want %d", got, want)
			}
		})
	}
}

func TestHandlerPostqueueFailures(t *testing.T) {
	tests := []struct {
		name        string
		body        string
		timeout     time.Duration
		status      int
		wantMessage string
		// blocks is set when a retry right after is rate-limited, because
		// only a failure that may have retried mail uses up the interval.
		blocks bool
	}{
		{name: "not configured",
			body:   `echo 'postqueue: fatal: Flush service is not configured for destination "example.net"' >&2; exit 69`,
			status: http.StatusUnprocessableEntity, wantMessage: "Flush service is not configured"},
		{name: "not allowed",
			body:   `echo 'postqueue: fatal: User promexp(999) is not allowed to flush the mail queue' >&2; exit 69`,
			status: http.StatusForbidden, wantMessage: "not allowed to flush"},
		{name: "mail system down",
			body:   `echo 'postqueue: fatal: Cannot flush mail queue - mail system is down' >&2; exit 69`,
			status: http.StatusServiceUnavailable, wantMessage: "mail system is down"},
		{name: "timeout", body: "exec sleep 30", timeout: 100 * time.Millisecond,
			status: http.StatusGatewayTimeout, blocks: true},
		{name: "other failure", body: `echo 'postqueue: fatal: out of memory' >&2; exit 75`,
			status: http.StatusInternalServerError, wantMessage: "out of memory", blocks: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newTestServer(t, tt.body)
			if tt.timeout > 0 {
				s.handler.cfg.Instances[0] = s.postqueue.instance("", tt.timeout)
			}
			w, resp := s.do(t, formCall("site=example.net"))
			if w.Code != tt.status {
				t.Errorf("status = %d, want %d (%+v)", w.Code, tt.status, resp)
			}
			if resp.Result != ResultFailed {
				t.Errorf("result = %q, want failed", resp.Result)
			}
			if !strings.Contains(resp.Message, tt.wantMessage) {
				t.Errorf("message = %q, want it to contain %q", resp.Message, tt.wantMessage)
			}
			if got := s.invalidated.Load(); got != 0 {
				t.Errorf("caches invalidated %d times after a failure, want 0", got)
			}

			w, _ = s.do(t, formCall("site=example.net"))
			if got := w.Code == http.StatusTooManyRequests; got != tt.blocks {
				t.Errorf("retry status = %d; rate-limited = %v, want %v", w.Code, got, tt.blocks)
			}
		})
	}
}

func TestHandlerQueueIDNotDeferred(t *testing.T) {
	tests := []struct {
		name   string
		id     string
		status int
	}{
		{name: "held", id: heldID, status: http.StatusUnprocessableEntity},
		{name: "not in queue", id: missingID, status: http.StatusNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newTestServer(t, "exit 0")
			w, resp := s.do(t, jsonCall(`{"queue_id":"`+tt.id+`"}`))
			if w.Code != tt.status {
				t.Errorf("status = %d, want %d (%+v)", w.Code, tt.status, resp)
			}
			if resp.Result != ResultInvalid {
				t.Errorf("result = %q, want invalid", resp.Result)
			}
			if resp.Command != "" {
				t.Errorf("command = %q, want none: no flush ran", resp.Command)
			}
			if got := s.postqueue.calls(t); len(got) != 1 || got[0] != "-j" {
				t.Errorf("postqueue ran with %q, want only the listing", got)
			}
		})
	}
}

func TestHandlerRateLimit(t *testing.T) {
	s := newTestServer(t, "exit 0")
	if w, resp := s.do(t, call{token: testToken}); w.Code != http.StatusOK {
		t.Fatalf("first flush: status = %d (%+v)", w.Code, resp)
	}

	// Every kind of flush shares the limit.
	for _, c := range []call{{token: testToken}, formCall("site=flush.example.test"),
		jsonCall(`{"queue_id":"` + deferredID + `"}`)} {
		w, resp := s.do(t, c)
		if w.Code != http.StatusTooManyRequests {
			t.Errorf("status = %d, want 429 (%+v)", w.Code, resp)
		}
		if got := w.Header().Get("Retry-After"); got != "300" {
			t.Errorf("Retry-After = %q, want 300", got)
		}
		if resp.Result != ResultRateLimited {
			t.Errorf("result = %q, want rate_limited", resp.Result)
		}
	}

	s.clock.Advance(299*time.Second + time.Millisecond)
	w, _ := s.do(t, call{token: testToken})
	if got := w.Header().Get("Retry-After"); got != "1" {
		t.Errorf("Retry-After near the end = %q, want 1", got)
	}

	s.clock.Advance(time.Second)
	if w, resp := s.do(t, call{token: testToken}); w.Code != http.StatusOK {
		t.Errorf("after the interval: status = %d, want 200 (%+v)", w.Code, resp)
	}
	if got := s.postqueue.calls(t); len(got) != 2 {
		t.Errorf("postqueue ran %d times, want 2: %q", len(got), got)
	}
}

func TestHandlerRejectedRequestsKeepInterval(t *testing.T) {
	s := newTestServer(t, "exit 0")
	for _, c := range []call{{}, {token: otherToken}, formCall("site=-x")} {
		s.do(t, c)
	}
	if w, resp := s.do(t, call{token: testToken}); w.Code != http.StatusOK {
		t.Errorf("status = %d after rejected requests, want 200 (%+v)", w.Code, resp)
	}
}

// TestHandlerConcurrent sends 50 requests at once to a postqueue that takes
// a while: exactly one of them runs it.
func TestHandlerConcurrent(t *testing.T) {
	s := newTestServer(t, "sleep 0.3")
	server := httptest.NewServer(s.handler)
	defer server.Close()

	const requests = 50
	statuses := make(chan int, requests)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for range requests {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			r, err := http.NewRequest(http.MethodPost, server.URL+Path, nil)
			if err != nil {
				t.Error(err)
				return
			}
			r.Header.Set("Authorization", "Bearer "+testToken)
			resp, err := http.DefaultClient.Do(r)
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			statuses <- resp.StatusCode
		}()
	}
	close(start)
	wg.Wait()
	close(statuses)

	counts := map[int]int{}
	for status := range statuses {
		counts[status]++
	}
	if counts[http.StatusOK] != 1 {
		t.Errorf("%d requests succeeded, want 1 (statuses %v)", counts[http.StatusOK], counts)
	}
	if counts[http.StatusConflict]+counts[http.StatusTooManyRequests] != requests-1 {
		t.Errorf("statuses %v, want the rest 409 or 429", counts)
	}
	if got := s.postqueue.calls(t); len(got) != 1 {
		t.Errorf("postqueue ran %d times, want 1: %q", len(got), got)
	}
}

func TestHandlerInstances(t *testing.T) {
	tests := []struct {
		name     string
		call     call
		wantArgs string
	}{
		{name: "default is first", call: call{token: testToken}, wantArgs: "-c /etc/postfix -f"},
		{name: "named", call: jsonCall(`{"instance":"/etc/postfix-lab2"}`), wantArgs: "-c /etc/postfix-lab2 -f"},
		{name: "named form", call: formCall("instance=%2Fetc%2Fpostfix-lab2&site=flush.example.test"),
			wantArgs: "-c /etc/postfix-lab2 -s flush.example.test"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newTestServer(t, "exit 0")
			s.handler.cfg.Instances = []Instance{
				s.postqueue.instance("/etc/postfix", 10*time.Second),
				s.postqueue.instance("/etc/postfix-lab2", 10*time.Second),
			}
			if w, resp := s.do(t, tt.call); w.Code != http.StatusOK {
				t.Fatalf("status = %d, want 200 (%+v)", w.Code, resp)
			}
			if got := s.postqueue.calls(t); len(got) != 1 || got[0] != tt.wantArgs {
				t.Errorf("postqueue ran with %q, want [%q]", got, tt.wantArgs)
			}
		})
	}
}

func TestHandlerTokenRotation(t *testing.T) {
	s := newTestServer(t, "exit 0")
	writeToken(t, s.tokenPath, otherToken)
	if w, _ := s.do(t, call{token: testToken}); w.Code != http.StatusUnauthorized {
		t.Errorf("old token: status = %d, want 401", w.Code)
	}
	if w, resp := s.do(t, call{token: otherToken}); w.Code != http.StatusOK {
		t.Errorf("new token: status = %d, want 200 (%+v)", w.Code, resp)
	}
}

func TestHandlerAuditLine(t *testing.T) {
	s := newTestServer(t, "exit 0")
	s.do(t, formCall("site=flush.example.test"))
	s.do(t, call{token: otherToken})
	lines := strings.Split(strings.TrimSpace(s.logs.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d log lines, want one per request: %q", len(lines), lines)
	}
	want := [][]string{
		{`msg="API request"`, "remote_addr=192.0.2.10:40000", "action=flush", "target=site", "site=flush.example.test",
			"result=ok", "status=200", "duration="},
		{"result=unauthorized", "status=401", `err="wrong bearer token"`},
	}
	for i, line := range lines {
		for _, part := range want[i] {
			if !strings.Contains(line, part) {
				t.Errorf("audit line %d %q lacks %q", i, line, part)
			}
		}
		if strings.Contains(line, testToken) || strings.Contains(line, otherToken) {
			t.Errorf("audit line %d contains a token: %q", i, line)
		}
	}
}

func TestHandlerMetrics(t *testing.T) {
	s := newTestServer(t, "exit 0")
	s.do(t, call{token: testToken})
	s.do(t, call{token: testToken})
	s.do(t, call{method: http.MethodGet})
	s.do(t, call{})
	s.do(t, formCall("site=a;b"))

	golden := "testdata/metrics.golden"
	if *update {
		families, err := testutil.CollectAndFormat(s.handler, expfmt.TypeTextPlain,
			"postfix_exporter_flush_requests_total", "postfix_exporter_flush_last_success_timestamp_seconds")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, families, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.Open(golden)
	if err != nil {
		t.Fatal(err)
	}
	defer want.Close()
	if err := testutil.CollectAndCompare(s.handler, want); err != nil {
		t.Error(err)
	}
	if problems, err := testutil.CollectAndLint(s.handler); err != nil || len(problems) > 0 {
		t.Errorf("lint: %v %v", problems, err)
	}
}
