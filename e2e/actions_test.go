package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"
)

const (
	actionsPathPrefix = "/api/v1/queue/"
	// actionsUser is the user that deploy/sudoers/postfix_queue_exporter
	// names, the user of the shipped systemd unit.
	actionsUser = "postfix-exporter"
	// sudoersSource and sudoersTarget are the shipped drop-in and where
	// the tests install it.
	sudoersSource = "deploy/sudoers/postfix_queue_exporter"
	sudoersTarget = "/etc/sudoers.d/postfix_queue_exporter"
)

// actionResponse is the part of an action response that the tests read.
type actionResponse struct {
	Action   string         `json:"action"`
	Result   string         `json:"result"`
	Error    string         `json:"error"`
	DryRun   bool           `json:"dry_run"`
	Matched  *int           `json:"matched"`
	Queues   map[string]int `json:"queues"`
	Confirm  string         `json:"confirm"`
	Affected *int           `json:"affected"`
	NotFound []string       `json:"not_found"`
	Skipped  []struct {
		QueueID string `json:"queue_id"`
		Queue   string `json:"queue"`
	} `json:"skipped"`
	Messages []struct {
		QueueID string `json:"queue_id"`
		Queue   string `json:"queue"`
		Sender  string `json:"sender"`
	} `json:"messages"`
}

// letter is one message the tests inject with sendmail. A subject with
// HOLDME makes the lab's header_checks put it on hold.
type letter struct {
	sender     string // "" for the null sender
	subject    string
	recipients []string
}

// actionLetters is the mail of the action tests: several senders and
// recipient domains, a sender that differs from another only in the case of
// its local part, the null sender, and held mail.
var actionLetters = []letter{
	{"alice@a.example.org", "one", []string{"x1@dest.example.net"}},
	{"alice@a.example.org", "two", []string{"x2@DEST.example.net"}},
	{"alice@a.example.org", "three", []string{"y1@other.example.com"}},
	{"Alice@a.example.org", "four", []string{"x3@dest.example.net"}},
	{"bob@b.example.org", "five", []string{"x4@dest.example.net", "y2@other.example.com"}},
	{"carol@c.example.org", "six", []string{"z1@third.example.com"}},
	{"", "seven", []string{"n1@dest.example.net"}},
	{"dave@d.example.org", "HOLDME one", []string{"h1@dest.example.net"}},
	{"dave@d.example.org", "HOLDME two", []string{"h2@other.example.com"}},
	{"erin@e.example.org", "HOLDME three", []string{"h3@dest.example.net"}},
}

// TestActionsEndToEnd runs every action through the exporter on the real
// Postfix, as root and as an unprivileged user through the shipped sudoers
// rule, and checks with its own `postqueue -j` that exactly the selected
// messages changed.
func TestActionsEndToEnd(t *testing.T) {
	RequireLab(t)
	// The other tests expect the lab's mixed queue: put it back.
	t.Cleanup(func() {
		Clear(t)
		Populate(t)
	})

	t.Run("root", func(t *testing.T) {
		runActions(t, "", "--actions.postsuper-command=/usr/sbin/postsuper")
	})
	t.Run("sudoers", func(t *testing.T) {
		EnsureUser(t, actionsUser, "postdrop")
		installSudoers(t)
		runActions(t, actionsUser)
	})
}

// runActions fills the queue with actionLetters and runs the actions in an
// order that leaves each step's expected state independent of timing.
func runActions(t *testing.T, user string, args ...string) {
	Clear(t)
	sendLetters(t, actionLetters...)
	before := waitForMessages(t, "7 deferred and 3 held messages", func(m map[string]jsonMessage) bool {
		return countQueue(m, "deferred") == 7 && countQueue(m, "hold") == 3
	})
	// older_than needs every message to be at least a second old.
	waitFor(t, 5*time.Second, "the mail to be a second old", func() bool {
		return time.Now().Unix() > newestArrival(before)+1
	})
	exporter := startActionsExporter(t, user, "hold,release,requeue,delete", args...)
	// The listing is cached for an hour from here on, so the queue metrics
	// at the end are current only if the actions invalidated the cache.
	checkGauge(t, exporter.Scrape(t), "postfix_queue_messages", 3, "queue", "hold")

	// Hold alice's mail to dest.example.net: the sender's domain and the
	// recipient's domain compare without regard to case, the local part
	// exactly, so Alice@ is left alone.
	selector := `{"queue":"deferred","sender":"alice@A.EXAMPLE.ORG","recipient":"@dest.example.net","older_than":"1s"}`
	want := selectIDs(before, func(m jsonMessage) bool {
		return m.QueueName == "deferred" && m.Sender == "alice@a.example.org" &&
			hasRecipientDomain(m, "dest.example.net")
	})
	after := dryRunAndConfirm(t, exporter, "hold", selector, want)
	checkMoved(t, before, after, want, "hold")

	// A confirm value stops working when the selection changes.
	before = after
	dry := postAction(t, exporter, "hold", `{"select":{"sender":"@b.example.org"},"dry_run":true}`, http.StatusOK)
	deferred := countQueue(before, "deferred")
	sendLetters(t, letter{"bob@b.example.org", "eight", []string{"x5@dest.example.net"}})
	before = waitForMessages(t, "bob's second message to be deferred", func(m map[string]jsonMessage) bool {
		return countQueue(m, "deferred") == deferred+1
	})
	conflict := postAction(t, exporter, "hold", `{"select":{"sender":"@b.example.org"},"confirm":"`+dry.Confirm+`"}`,
		http.StatusConflict)
	if conflict.Matched == nil || *conflict.Matched != 2 || conflict.Confirm == dry.Confirm {
		t.Errorf("409 response: matched %v, confirm %q, want 2 and a new confirm", conflict.Matched, conflict.Confirm)
	}
	checkUnchanged(t, before, readMessages(t))

	// Release everything held from one sender. Release only looks at the
	// hold queue, so alice's held mail stays.
	before = readMessages(t)
	want = selectIDs(before, func(m jsonMessage) bool { return m.QueueName == "hold" && m.Sender == "dave@d.example.org" })
	after = dryRunAndConfirm(t, exporter, "release", `{"sender":"dave@d.example.org"}`, want)
	checkMoved(t, before, after, want, "deferred")

	// Ids from another queue are not touched: release skips carol's
	// deferred message and releases erin's.
	before = after
	carol := selectIDs(before, func(m jsonMessage) bool { return m.Sender == "carol@c.example.org" })
	erin := selectIDs(before, func(m jsonMessage) bool { return m.Sender == "erin@e.example.org" })
	resp := postAction(t, exporter, "release", `{"queue_ids":["`+carol[0]+`","`+erin[0]+`","4jgvV55S19z5g1Z"]}`,
		http.StatusOK)
	if len(resp.Skipped) != 1 || resp.Skipped[0].QueueID != carol[0] || resp.Skipped[0].Queue != "deferred" {
		t.Errorf("skipped = %+v, want carol's deferred message %s", resp.Skipped, carol[0])
	}
	if !slices.Equal(resp.NotFound, []string{"4jgvV55S19z5g1Z"}) {
		t.Errorf("not found = %q, want the made-up id", resp.NotFound)
	}
	checkMoved(t, before, readMessages(t), erin, "deferred")

	// The null sender is selected with "", never with the name listings
	// print for it.
	before = readMessages(t)
	nullSender := selectIDs(before, func(m jsonMessage) bool { return m.Sender == "MAILER-DAEMON" })
	dry = postAction(t, exporter, "delete", `{"select":{"sender":""},"dry_run":true}`, http.StatusOK)
	if got := responseIDs(dry); !slices.Equal(got, nullSender) {
		t.Errorf("null sender selects %q, want %q", got, nullSender)
	}
	postAction(t, exporter, "delete", `{"select":{"sender":"MAILER-DAEMON"},"dry_run":true}`, http.StatusBadRequest)

	// Delete the deferred mail to one domain.
	want = selectIDs(before, func(m jsonMessage) bool {
		return m.QueueName == "deferred" && hasRecipientDomain(m, "other.example.com")
	})
	after = dryRunAndConfirm(t, exporter, "delete", `{"queue":"deferred","recipient":"@other.example.com"}`, want)
	checkMoved(t, before, after, want, "")

	// Requeue carol's message: postsuper moves it to maildrop, and pickup
	// later copies it into a new queue file with a new id.
	before = after
	want = selectIDs(before, func(m jsonMessage) bool { return m.Sender == "carol@c.example.org" })
	after = dryRunAndConfirm(t, exporter, "requeue", `{"sender":"carol@c.example.org"}`, want)
	checkRequeued(t, before, after, want, "carol@c.example.org")

	checkActionMetrics(t, exporter, after)
}

// TestActionsNotEnabled checks that an action left out of --actions.enable
// gets 403 and changes nothing.
func TestActionsNotEnabled(t *testing.T) {
	RequireLab(t)
	before := EnsurePopulated(t)
	exporter := startActionsExporter(t, "", "hold")
	resp := postAction(t, exporter, "delete", `{"select":{"queue":"deferred"},"dry_run":true}`, http.StatusForbidden)
	if !strings.Contains(resp.Error, "--actions.enable") {
		t.Errorf("error %q does not name --actions.enable", resp.Error)
	}
	if after := ReadQueue(t); !slices.Equal(after.Listing, before.Listing) {
		t.Errorf("the queue changed:\nbefore:\n%s\nafter:\n%s", before.Listing, after.Listing)
	}
}

// TestActionsSudoWithoutRule checks that without the sudoers drop-in a real
// action fails with the mapped error and changes nothing.
func TestActionsSudoWithoutRule(t *testing.T) {
	RequireLab(t)
	requireSudo(t)
	if _, err := os.Stat(sudoersTarget); err == nil {
		t.Fatalf("%s exists: remove it, this test needs sudo without the rule", sudoersTarget)
	}
	EnsureUser(t, actionsUser, "postdrop")
	Clear(t)
	t.Cleanup(func() {
		Clear(t)
		Populate(t)
	})
	sendLetters(t, actionLetters[0])
	before := waitForMessages(t, "1 deferred message", func(m map[string]jsonMessage) bool {
		return countQueue(m, "deferred") == 1
	})
	exporter := startActionsExporter(t, actionsUser, "hold")

	id := selectIDs(before, func(jsonMessage) bool { return true })[0]
	resp := postAction(t, exporter, "hold", `{"queue_ids":["`+id+`"]}`, http.StatusInternalServerError)
	if !strings.Contains(resp.Error, "a password is required") {
		t.Errorf("error %q does not give sudo's reason", resp.Error)
	}
	checkUnchanged(t, before, readMessages(t))
}

// startActionsExporter starts the exporter as user ("" for root) with the
// actions enabled and a listing cache of an hour, so that a scrape shows an
// action's effect only if the action invalidated the cache.
func startActionsExporter(t *testing.T, user, enable string, args ...string) *Exporter {
	t.Helper()
	// The flush token file format serves the actions too.
	tokenFile := writeTokenFile(t, user)
	args = append([]string{"--actions.enable=" + enable, "--actions.token-file=" + tokenFile,
		"--postqueue.min-interval=1h"}, args...)
	if user == "" {
		return StartExporter(t, args...)
	}
	return StartExporterAs(t, user, args...)
}

// installSudoers copies the shipped drop-in to /etc/sudoers.d and removes it
// when the test ends.
func installSudoers(t *testing.T) {
	t.Helper()
	requireSudo(t)
	if _, err := os.Stat(sudoersTarget); err == nil {
		t.Fatalf("%s exists already; the test does not overwrite it", sudoersTarget)
	}
	data, err := os.ReadFile(filepath.Join(repoRoot, sudoersSource))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := os.Remove(sudoersTarget); err != nil {
			t.Errorf("remove %s: %v", sudoersTarget, err)
		}
	})
	if err := os.WriteFile(sudoersTarget, data, 0o440); err != nil {
		t.Fatal(err)
	}
	Run(t, "visudo", "-c")

	// The rule allows the exporter's commands and nothing else.
	allowed := RunAs(t, actionsUser, "sudo", "-n", "-l", "/usr/sbin/postsuper", "-d", "-", "deferred")
	if allowed.ExitCode != 0 {
		t.Errorf("sudo -l postsuper -d - deferred: exit code %d: %s", allowed.ExitCode, allowed.Stderr)
	}
	for _, args := range [][]string{
		{"-d", "ALL"}, {"-d", "-", "deferred", "hold"}, {"-d", "-", "/tmp"}, {"-s"}, {"-e", "-", "deferred"},
		{"-c", "/tmp", "-d", "-", "deferred"}, {"-h", "-", "hold"},
	} {
		command := append([]string{"-n", "-l", "/usr/sbin/postsuper"}, args...)
		if result := RunAs(t, actionsUser, "sudo", command...); result.ExitCode == 0 {
			t.Errorf("sudoers allows postsuper %s", strings.Join(args, " "))
		}
	}
}

func requireSudo(t *testing.T) {
	t.Helper()
	for _, tool := range []string{"sudo", "visudo"} {
		if Command(t, "sh", "-c", "command -v "+tool).ExitCode != 0 {
			t.Fatalf("%s is not installed: scripts/test installs it (apt-get install sudo)", tool)
		}
	}
}

// dryRunAndConfirm dry-runs selector for action, checks that it selects
// exactly want, confirms it, and returns the queue afterwards.
func dryRunAndConfirm(t *testing.T, e *Exporter, action, selector string, want []string) map[string]jsonMessage {
	t.Helper()
	dry := postAction(t, e, action, `{"select":`+selector+`,"dry_run":true}`, http.StatusOK)
	if got := responseIDs(dry); !slices.Equal(got, want) {
		t.Fatalf("%s dry run selects %q, want %q", action, got, want)
	}
	resp := postAction(t, e, action, `{"select":`+selector+`,"confirm":"`+dry.Confirm+`"}`, http.StatusOK)
	if resp.Result != "ok" || resp.Affected == nil || *resp.Affected != len(want) {
		t.Errorf("%s: result %q, affected %v, want ok and %d", action, resp.Result, resp.Affected, len(want))
	}
	return readMessages(t)
}

// postAction posts body to an action endpoint with the token and checks the
// status.
func postAction(t *testing.T, e *Exporter, action, body string, wantStatus int) actionResponse {
	t.Helper()
	request, err := http.NewRequest(http.MethodPost, e.URL+actionsPathPrefix+action, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	request.Header.Set("Authorization", "Bearer "+flushToken)
	request.Header.Set("Content-Type", "application/json")
	client := &http.Client{Timeout: time.Minute}
	response, err := client.Do(request)
	if err != nil {
		t.Fatalf("POST %s: %v", action, err)
	}
	defer response.Body.Close()
	data, err := io.ReadAll(response.Body)
	if err != nil {
		t.Fatalf("POST %s: read body: %v", action, err)
	}
	var resp actionResponse
	if err := json.Unmarshal(data, &resp); err != nil {
		t.Fatalf("POST %s: status %d, body %q is not JSON: %v", action, response.StatusCode, data, err)
	}
	if response.StatusCode != wantStatus {
		t.Fatalf("POST %s %s: status %d, want %d: %s", action, body, response.StatusCode, wantStatus, data)
	}
	return resp
}

func responseIDs(resp actionResponse) []string {
	ids := make([]string, 0, len(resp.Messages))
	for _, m := range resp.Messages {
		ids = append(ids, m.QueueID)
	}
	sort.Strings(ids)
	return ids
}

// sendLetters injects letters with sendmail as root.
func sendLetters(t *testing.T, letters ...letter) {
	t.Helper()
	for _, l := range letters {
		sender := l.sender
		if sender == "" {
			sender = "<>"
		}
		message := "Subject: " + l.subject + "\n\nqueue action end-to-end test\n"
		args := append([]string{"-f", sender, "--"}, l.recipients...)
		if result := CommandInput(t, []byte(message), "sendmail", args...); result.ExitCode != 0 {
			t.Fatalf("sendmail -f %s: exit code %d: %s", sender, result.ExitCode, result.Stderr)
		}
	}
}

// readMessages lists the queue with `postqueue -j`, decoded here with
// encoding/json, by queue id.
func readMessages(t *testing.T) map[string]jsonMessage {
	t.Helper()
	state := ReadQueue(t)
	messages := make(map[string]jsonMessage)
	scanner := bufio.NewScanner(bytes.NewReader(state.Listing))
	scanner.Buffer(nil, 1<<20)
	for scanner.Scan() {
		var m jsonMessage
		if err := json.Unmarshal(scanner.Bytes(), &m); err != nil {
			t.Fatalf("postqueue -j line %q: %v", scanner.Text(), err)
		}
		if _, ok := messages[m.QueueID]; ok {
			t.Fatalf("postqueue -j lists %s twice", m.QueueID)
		}
		messages[m.QueueID] = m
	}
	if err := scanner.Err(); err != nil {
		t.Fatal(err)
	}
	return messages
}

func waitForMessages(t *testing.T, what string, condition func(map[string]jsonMessage) bool) map[string]jsonMessage {
	t.Helper()
	var messages map[string]jsonMessage
	waitFor(t, 60*time.Second, what, func() bool {
		messages = readMessages(t)
		return condition(messages)
	})
	return messages
}

func countQueue(messages map[string]jsonMessage, queue string) int {
	n := 0
	for _, m := range messages {
		if m.QueueName == queue {
			n++
		}
	}
	return n
}

func newestArrival(messages map[string]jsonMessage) int64 {
	var newest int64
	for _, m := range messages {
		newest = max(newest, m.ArrivalTime)
	}
	return newest
}

// selectIDs returns the sorted ids of the messages that match.
func selectIDs(messages map[string]jsonMessage, match func(jsonMessage) bool) []string {
	var ids []string
	for id, m := range messages {
		if match(m) {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	return ids
}

func hasRecipientDomain(m jsonMessage, domain string) bool {
	for _, r := range m.Recipients {
		at := strings.LastIndexByte(r.Address, '@')
		if at >= 0 && strings.EqualFold(r.Address[at+1:], domain) {
			return true
		}
	}
	return false
}

// checkMoved checks that the messages ids are in queue after ("" for gone)
// and that every other message is where it was before.
func checkMoved(t *testing.T, before, after map[string]jsonMessage, ids []string, queue string) {
	t.Helper()
	if len(ids) == 0 {
		t.Fatal("the test selected no message")
	}
	for _, id := range ids {
		m, ok := after[id]
		switch {
		case queue == "" && ok:
			t.Errorf("message %s is still in %s, want it deleted", id, m.QueueName)
		case queue != "" && !ok:
			t.Errorf("message %s is gone, want it in %s", id, queue)
		case queue != "" && m.QueueName != queue:
			t.Errorf("message %s is in %s, want %s", id, m.QueueName, queue)
		}
	}
	checkOthersUnchanged(t, before, after, ids)
}

// checkRequeued checks that the messages ids left their queue for maildrop,
// or went through pickup to a new id, and that every message of another
// sender is where it was before.
func checkRequeued(t *testing.T, before, after map[string]jsonMessage, ids []string, sender string) {
	t.Helper()
	for _, id := range ids {
		if m, ok := after[id]; ok && m.QueueName != "maildrop" {
			t.Errorf("message %s is in %s, want it requeued to maildrop", id, m.QueueName)
		}
	}
	if got := len(selectIDs(after, func(m jsonMessage) bool { return m.Sender == sender })); got != len(ids) {
		t.Errorf("%d messages from %s after the requeue, want %d", got, sender, len(ids))
	}
	others := selectIDs(before, func(m jsonMessage) bool { return m.Sender == sender })
	checkOthersUnchanged(t, before, after, others)
}

func checkUnchanged(t *testing.T, before, after map[string]jsonMessage) {
	t.Helper()
	checkOthersUnchanged(t, before, after, nil)
	if len(after) != len(before) {
		t.Errorf("%d messages after, %d before", len(after), len(before))
	}
}

// checkOthersUnchanged checks that every message of before except changed
// is in after, in the same queue.
func checkOthersUnchanged(t *testing.T, before, after map[string]jsonMessage, changed []string) {
	t.Helper()
	for id, m := range before {
		if slices.Contains(changed, id) {
			continue
		}
		got, ok := after[id]
		switch {
		case !ok:
			t.Errorf("message %s from %s (%s) is gone, but it was not selected", id, m.Sender, m.QueueName)
		case got.QueueName != m.QueueName:
			t.Errorf("message %s from %s moved from %s to %s, but it was not selected",
				id, m.Sender, m.QueueName, got.QueueName)
		}
	}
}

// checkActionMetrics checks the action counters after runActions, and that
// the queue metrics are current although the listing cache lasts an hour.
func checkActionMetrics(t *testing.T, e *Exporter, queue map[string]jsonMessage) {
	t.Helper()
	metrics := e.Scrape(t)
	counters := []struct {
		name   string
		labels []string
		want   float64
	}{
		{"postfix_exporter_action_requests_total", []string{"action", "hold", "result", "ok"}, 1},
		{"postfix_exporter_action_requests_total", []string{"action", "hold", "result", "dry_run"}, 2},
		{"postfix_exporter_action_requests_total", []string{"action", "hold", "result", "conflict"}, 1},
		{"postfix_exporter_action_requests_total", []string{"action", "release", "result", "ok"}, 2},
		{"postfix_exporter_action_requests_total", []string{"action", "delete", "result", "dry_run"}, 2},
		{"postfix_exporter_action_requests_total", []string{"action", "delete", "result", "invalid"}, 1},
		{"postfix_exporter_action_requests_total", []string{"action", "delete", "result", "ok"}, 1},
		{"postfix_exporter_action_requests_total", []string{"action", "requeue", "result", "dry_run"}, 1},
		{"postfix_exporter_action_requests_total", []string{"action", "requeue", "result", "ok"}, 1},
		{"postfix_exporter_action_requests_total", []string{"action", "requeue", "result", "failed"}, 0},
		{"postfix_exporter_action_messages_total", []string{"action", "hold"}, 2},
		{"postfix_exporter_action_messages_total", []string{"action", "release"}, 3},
		{"postfix_exporter_action_messages_total", []string{"action", "requeue"}, 1},
		{"postfix_exporter_action_messages_total", []string{"action", "delete"}, 3},
	}
	for _, c := range counters {
		checkGauge(t, metrics, c.name, c.want, c.labels...)
	}
	// alice's two messages are still held.
	checkGauge(t, metrics, "postfix_queue_messages", 2, "queue", "hold")
	checkGauge(t, metrics, "postfix_queue_messages", float64(countQueue(queue, "hold")), "queue", "hold")
}
