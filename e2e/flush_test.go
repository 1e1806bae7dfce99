package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

const (
	flushPath  = "/api/v1/flush"
	flushToken = "e2e-flush-token-0123456789abcdef"
	// sinkAddress is the lab's relayhost, where nothing listens, so relayed
	// mail is deferred with "Connection refused" until a test starts
	// smtp-sink there.
	sinkAddress = "127.0.0.1:2525"
	// flushSender is the envelope sender of the mail these tests inject.
	flushSender = "flush-e2e@example.org"
)

// flushResponse is the JSON body of a flush response.
type flushResponse struct {
	Result            string `json:"result"`
	Error             string `json:"error"`
	Command           string `json:"command"`
	Message           string `json:"message"`
	RetryAfterSeconds int64  `json:"retry_after_seconds"`
}

// TestFlushEndToEnd flushes deferred mail of the real Postfix through the
// exporter while smtp-sink accepts it on the relayhost port, and checks
// that the next scrape shows the queue drained. The exporter caches the
// listing for an hour, so only the flush's invalidation of the cache can
// make the scrape current.
func TestFlushEndToEnd(t *testing.T) {
	RequireLab(t)
	// The other tests expect the lab's mixed queue: put it back.
	t.Cleanup(func() {
		Clear(t)
		Populate(t)
	})

	t.Run("all", func(t *testing.T) {
		Clear(t)
		sendMail(t, "a1@example.net")
		sendMail(t, "a2@example.com", "a3@example.org")
		waitForQueue(t, "2 deferred messages", func(s QueueState) bool { return onlyDeferred(s, 2) })
		exporter := startFlushExporter(t, "")
		checkDeferredMetric(t, exporter, 2)

		startSink(t)
		status, resp := postFlush(t, exporter, flushToken, "")

		checkFlushResponse(t, status, resp, http.StatusOK, "ok")
		if !strings.HasSuffix(resp.Command, "postqueue -f") {
			t.Errorf("command = %q, want postqueue -f", resp.Command)
		}
		waitForQueue(t, "an empty queue", func(s QueueState) bool { return s.Total() == 0 })
		metrics := exporter.Scrape(t)
		checkGauge(t, metrics, "postfix_queue_messages", 0, "queue", "deferred")
		checkGauge(t, metrics, "postfix_exporter_flush_requests_total", 1, "result", "ok")
		if got := metrics.Get(t, "postfix_exporter_flush_last_success_timestamp_seconds"); got <= 0 {
			t.Errorf("postfix_exporter_flush_last_success_timestamp_seconds = %g, want a time", got)
		}
		if log := exporter.Log(); !strings.Contains(log, `msg="API request"`) || strings.Contains(log, flushToken) {
			t.Errorf("log lacks the audit line or contains the token:\n%s", log)
		}
	})

	t.Run("site", func(t *testing.T) {
		Clear(t)
		sendMail(t, "f1@flush.example.test")
		sendMail(t, "f2@flush.example.test")
		sendMail(t, "other@example.net")
		waitForQueue(t, "3 deferred messages", func(s QueueState) bool { return onlyDeferred(s, 3) })
		exporter := startFlushExporter(t, "")
		checkDeferredMetric(t, exporter, 3)

		startSink(t)
		status, resp := postFlush(t, exporter, flushToken, `{"site":"flush.example.test"}`)

		checkFlushResponse(t, status, resp, http.StatusOK, "ok")
		waitForQueue(t, "only the example.net message", func(s QueueState) bool {
			return onlyDeferred(s, 1) && slices.Equal(deferredRecipients(t, s), []string{"other@example.net"})
		})
		checkDeferredMetric(t, exporter, 1)
	})

	t.Run("queue_id", func(t *testing.T) {
		Clear(t)
		sendMail(t, "q1@example.net")
		sendMail(t, "q2@example.net")
		state := waitForQueue(t, "2 deferred messages", func(s QueueState) bool { return onlyDeferred(s, 2) })
		ids := deferredIDs(t, state)
		exporter := startFlushExporter(t, "")
		checkDeferredMetric(t, exporter, 2)

		startSink(t)
		status, resp := postFlush(t, exporter, flushToken, `{"queue_id":"`+ids[0]+`"}`)

		checkFlushResponse(t, status, resp, http.StatusOK, "ok")
		waitForQueue(t, "only message "+ids[1], func(s QueueState) bool {
			return onlyDeferred(s, 1) && slices.Equal(deferredIDs(t, s), ids[1:])
		})
		checkDeferredMetric(t, exporter, 1)

		// A second flush within --flush.min-interval (5m by default) is
		// rejected before anything runs.
		status, resp = postFlush(t, exporter, flushToken, `{"queue_id":"`+ids[1]+`"}`)
		checkFlushResponse(t, status, resp, http.StatusTooManyRequests, "rate_limited")
		if resp.RetryAfterSeconds <= 0 || resp.RetryAfterSeconds > 300 {
			t.Errorf("retry_after_seconds = %d, want 1 to 300", resp.RetryAfterSeconds)
		}
		checkDeferredMetric(t, exporter, 1)
	})

	t.Run("not authorized", func(t *testing.T) {
		EnsureUser(t, testUser, "postdrop")
		SetPostconf(t, "authorized_flush_users = root")
		Clear(t)
		sendMail(t, "n1@example.net")
		waitForQueue(t, "1 deferred message", func(s QueueState) bool { return onlyDeferred(s, 1) })
		exporter := startFlushExporter(t, testUser)

		status, resp := postFlush(t, exporter, flushToken, "")

		checkFlushResponse(t, status, resp, http.StatusForbidden, "failed")
		if !strings.Contains(resp.Message, "not allowed to flush the mail queue") {
			t.Errorf("message = %q, want postqueue's refusal", resp.Message)
		}
		// A refusal flushed nothing, so it does not use up the interval.
		status, resp = postFlush(t, exporter, flushToken, "")
		checkFlushResponse(t, status, resp, http.StatusForbidden, "failed")
		checkDeferredMetric(t, exporter, 1)
	})
}

// startFlushExporter starts the exporter with the flush endpoint on, as
// root or, with a user name, as that user. The listing is cached for an
// hour, so a scrape shows a change only after a flush invalidated it.
func startFlushExporter(t *testing.T, asUser string) *Exporter {
	t.Helper()
	tokenFile := writeTokenFile(t, asUser)
	args := []string{"--flush.enable", "--flush.token-file=" + tokenFile, "--postqueue.min-interval=1h"}
	if asUser == "" {
		return StartExporter(t, args...)
	}
	return StartExporterAs(t, asUser, args...)
}

// writeTokenFile writes flushToken to a file that only root and, if owner
// is not empty, the group of that user can read.
func writeTokenFile(t *testing.T, owner string) string {
	t.Helper()
	// The exporter's user must reach the file, and t.TempDir's parent is
	// private to root.
	dir, err := os.MkdirTemp("", "pqe-flush-token-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "flush-token")
	if err := os.WriteFile(path, []byte(flushToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if owner == "" {
		return path
	}
	u, err := user.Lookup(owner)
	if err != nil {
		t.Fatal(err)
	}
	gid, err := strconv.Atoi(u.Gid)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(path, 0, gid); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o640); err != nil {
		t.Fatal(err)
	}
	return path
}

// postFlush sends a flush request with a JSON body, or none if body is
// empty, and returns the status and the decoded response.
func postFlush(t *testing.T, e *Exporter, token, body string) (int, flushResponse) {
	t.Helper()
	request, err := http.NewRequest(http.MethodPost, e.URL+flushPath, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	request.Header.Set("Authorization", "Bearer "+token)
	if body != "" {
		request.Header.Set("Content-Type", "application/json")
	}
	client := &http.Client{Timeout: time.Minute}
	response, err := client.Do(request)
	if err != nil {
		t.Fatalf("POST %s: %v", flushPath, err)
	}
	defer response.Body.Close()
	data, err := io.ReadAll(response.Body)
	if err != nil {
		t.Fatalf("POST %s: read body: %v", flushPath, err)
	}
	var resp flushResponse
	if err := json.Unmarshal(data, &resp); err != nil {
		t.Fatalf("POST %s: status %d, body %q is not JSON: %v", flushPath, response.StatusCode, data, err)
	}
	return response.StatusCode, resp
}

func checkFlushResponse(t *testing.T, status int, resp flushResponse, wantStatus int, wantResult string) {
	t.Helper()
	if status != wantStatus {
		t.Errorf("status = %d, want %d (%+v)", status, wantStatus, resp)
	}
	if resp.Result != wantResult {
		t.Errorf("result = %q, want %q", resp.Result, wantResult)
	}
}

func checkDeferredMetric(t *testing.T, e *Exporter, want float64) {
	t.Helper()
	checkGauge(t, e.Scrape(t), "postfix_queue_messages", want, "queue", "deferred")
}

// sendMail injects one message to the recipients with sendmail(1).
func sendMail(t *testing.T, recipients ...string) {
	t.Helper()
	message := "From: " + flushSender + "\nTo: " + strings.Join(recipients, ", ") +
		"\nSubject: flush end-to-end test\n\nflush end-to-end test\n"
	args := append([]string{"-f", flushSender, "--"}, recipients...)
	result := CommandInput(t, []byte(message), "sendmail", args...)
	if result.ExitCode != 0 {
		t.Fatalf("sendmail %s: exit code %d: %s", strings.Join(recipients, " "), result.ExitCode, result.Stderr)
	}
}

// waitForQueue polls the queue until condition holds and returns the state
// that satisfied it.
func waitForQueue(t *testing.T, what string, condition func(QueueState) bool) QueueState {
	t.Helper()
	var state QueueState
	waitFor(t, 60*time.Second, what, func() bool {
		state = ReadQueue(t)
		return condition(state)
	})
	return state
}

// onlyDeferred reports whether the queue holds exactly n messages, all of
// them deferred.
func onlyDeferred(s QueueState, n int64) bool {
	return s.Total() == n && s.Queues["deferred"].Messages == n
}

// deferredMessages decodes the deferred messages of the state's listing.
func deferredMessages(t *testing.T, s QueueState) []jsonMessage {
	t.Helper()
	var messages []jsonMessage
	scanner := bufio.NewScanner(bytes.NewReader(s.Listing))
	scanner.Buffer(nil, 1<<20)
	for scanner.Scan() {
		var m jsonMessage
		if err := json.Unmarshal(scanner.Bytes(), &m); err != nil {
			t.Fatalf("postqueue -j line %q: %v", scanner.Text(), err)
		}
		if m.QueueName == "deferred" {
			messages = append(messages, m)
		}
	}
	if err := scanner.Err(); err != nil {
		t.Fatal(err)
	}
	return messages
}

// deferredIDs returns the sorted queue IDs of the deferred messages.
func deferredIDs(t *testing.T, s QueueState) []string {
	t.Helper()
	var ids []string
	for _, m := range deferredMessages(t, s) {
		ids = append(ids, m.QueueID)
	}
	slices.Sort(ids)
	return ids
}

// deferredRecipients returns the sorted recipients of the deferred messages.
func deferredRecipients(t *testing.T, s QueueState) []string {
	t.Helper()
	var recipients []string
	for _, m := range deferredMessages(t, s) {
		for _, r := range m.Recipients {
			recipients = append(recipients, r.Address)
		}
	}
	slices.Sort(recipients)
	return recipients
}

// startSink runs smtp-sink on the relayhost port, so that Postfix can
// deliver the deferred mail, and stops it when the test ends.
func startSink(t *testing.T) {
	t.Helper()
	if conn, err := net.DialTimeout("tcp", sinkAddress, time.Second); err == nil {
		conn.Close()
		t.Fatalf("%s already accepts connections; the lab expects nothing to listen there", sinkAddress)
	}
	logFile, err := os.Create(filepath.Join(t.TempDir(), "smtp-sink.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("smtp-sink", "-u", "nobody", sinkAddress, "64")
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start smtp-sink: %v", err)
	}
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		_ = cmd.Wait()
		logFile.Close()
	})
	waitFor(t, 10*time.Second, "smtp-sink to listen on "+sinkAddress, func() bool {
		conn, err := net.DialTimeout("tcp", sinkAddress, time.Second)
		if err != nil {
			return false
		}
		conn.Close()
		return true
	})
}
