package parser

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParseJSONUnusual(t *testing.T) {
	const refused = "connect to 127.0.0.1[127.0.0.1]:2525: Connection refused"
	want := []Message{
		{QueueDeferred, "3F1A2B4C5D", time.Unix(1796396015, 0), 512, false, "MAILER-DAEMON", []Recipient{{
			Address:     "postmaster@example.net",
			DelayReason: "tab\there, newline\nthere, \x1b escape, \b\f\r, quote \" and backslash \\",
		}}},
		{QueueHold, "4jgvV56dbhz5g2P", time.Unix(0, 0), 0, true, "alice@example.org", []Recipient{
			{Address: "r1@example.net", DelayReason: refused},
		}},
		{QueueActive, "4jgvXd1DgDz5g2c", time.Unix(1796396015, 0), 436, false, "in@example.org", []Recipient{
			{Address: "user@example.net", OrigAddress: "alias@example.net", BounceReason: "5.1.1 mailbox unknown"},
			{Address: "second@example.net", OrigAddress: "second@example.net", DelayReason: "deferred transport"},
		}},
		{QueueIncoming, "0D59BB8240", time.Unix(1796396016, 0), 1026579, false, "📧/mail@example.org", []Recipient{
			{Address: "jörg@exämple.org"},
			{Address: "用户@例子.广告"},
			{Address: `"john doe"@example.org`},
		}},
		{QueueMaildrop, "5E6F7A8B9C", time.Unix(1796395762, 0), 116, false, "root", nil},
	}
	checkMessages(t, mustParse(t, FormatJSON, readFixture(t, "unusual.postqueue-j.jsonl")), want)
}

func TestParseJSONLayout(t *testing.T) {
	const line = `{"queue_name": "deferred", "queue_id": "A1", "arrival_time": 1, "message_size": 2, "sender": "s", "recipients": []}`
	tests := []struct {
		name  string
		input string
		count int
	}{
		{"empty", "", 0},
		{"blank lines only", "\n \n\t\r\n", 0},
		{"no final newline", line, 1},
		{"blank line between and after", line + "\n\n" + line + "\n\n", 2},
		{"CRLF", line + "\r\n" + line + "\r\n", 2},
		{"blanks around the object", "  " + line + " \t\n", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := len(mustParse(t, FormatJSON, []byte(tt.input))); got != tt.count {
				t.Errorf("got %d messages, want %d", got, tt.count)
			}
		})
	}
}

// TestJSONScanner checks that the fast scanner accepts the lines Postfix
// prints, gives up on the unusual ones, and agrees with encoding/json on
// every line it accepts.
func TestJSONScanner(t *testing.T) {
	const base = `"queue_id": "A1", "arrival_time": 1, "message_size": 2, "sender": "s"`
	tests := []struct {
		name     string
		line     string
		wantFast bool
	}{
		{"Postfix 3.7", `{"queue_name": "deferred", ` + base + `, "forced_expire": false, "recipients": [{"address": "a", "delay_reason": "r"}]}`, true},
		{"unknown members", `{"queue_name": "hold", ` + base + `, "x": {"y": [1, -2.5e+3, "z", true, null, {}]}, "recipients": []}`, true},
		{"escapes", `{"queue_name": "hold", ` + base + `, "recipients": [{"address": "\"\\\/\b\f\n\r\t\u00e9\ud83d\udce7"}]}`, true},
		{"null member", `{"queue_name": "hold", ` + base + `, "forced_expire": null, "recipients": []}`, false},
		{"duplicate member", `{"queue_name": "hold", "queue_name": "active", ` + base + `, "recipients": []}`, false},
		{"member in other case", `{"queue_name": "hold", "Queue_ID": "B2", ` + base + `, "recipients": []}`, false},
		{"escape in member name", `{"queue_name": "hold", ` + base + `, "recipient\u0073": []}`, false},
		{"fraction", `{"queue_name": "hold", "queue_id": "A1", "arrival_time": 1.0, "message_size": 2, "sender": "s", "recipients": []}`, false},
		{"lone surrogate", `{"queue_name": "hold", ` + base + `, "recipients": [{"address": "\ud83d"}]}`, false},
		{"invalid UTF-8", `{"queue_name": "hold", ` + base + `, "recipients": [{"address": "` + "\xff" + `"}]}`, false},
		{"deep unknown member", `{"queue_name": "hold", ` + base + `, "x": ` + strings.Repeat("[", 40) + strings.Repeat("]", 40) + `, "recipients": []}`, false},
		{"19 digits", `{"queue_name": "hold", "queue_id": "A1", "arrival_time": 1000000000000000000, "message_size": 2, "sender": "s", "recipients": []}`, false},
		{"missing recipients", `{"queue_name": "hold", ` + base + `}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkScanner(t, []byte(tt.line), tt.wantFast)
		})
	}

	names, err := filepath.Glob("testdata/*.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range names {
		t.Run(filepath.Base(name), func(t *testing.T) {
			for line := range bytes.Lines(readFixture(t, filepath.Base(name))) {
				if !isBlank(bytes.TrimSuffix(line, []byte("\n"))) {
					checkScanner(t, bytes.TrimSuffix(line, []byte("\n")), true)
				}
			}
		})
	}
}

func checkScanner(t *testing.T, line []byte, wantFast bool) {
	t.Helper()
	var scanner jsonScanner
	var fast, slow Message
	accepted := scanner.scanMessage(line, &fast)
	if accepted != wantFast {
		t.Errorf("scanner accepted = %v, want %v for %s", accepted, wantFast, line)
	}
	err := decodeJSONMessage(line, 1, &slow)
	if accepted && err != nil {
		t.Errorf("scanner accepted a line that encoding/json rejects: %v", err)
	}
	if accepted && err == nil {
		checkMessages(t, []Message{copyMessage(&fast)}, []Message{copyMessage(&slow)})
	}
}
