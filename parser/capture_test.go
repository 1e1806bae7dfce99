package parser

import (
	"slices"
	"strings"
	"testing"
)

// captureSummary contains totals over one listing. The expected values were
// counted from the captures with a separate JSON tool, not with this
// package.
type captureSummary struct {
	perQueue     map[string]int
	recipients   int
	bytes        int64
	forced       int // messages with ForcedExpire
	nullSender   int // messages from MAILER-DAEMON
	withReason   int // recipients with a DelayReason
	quotedSender int // senders with a quoted local part
}

func summarize(messages []Message) captureSummary {
	s := captureSummary{perQueue: map[string]int{}}
	for _, m := range messages {
		s.perQueue[m.Queue]++
		s.recipients += len(m.Recipients)
		s.bytes += m.Size
		if m.ForcedExpire {
			s.forced++
		}
		if m.Sender == "MAILER-DAEMON" {
			s.nullSender++
		}
		if strings.HasPrefix(m.Sender, `"`) {
			s.quotedSender++
		}
		for _, r := range m.Recipients {
			if r.DelayReason != "" {
				s.withReason++
			}
		}
	}
	return s
}

func TestCaptureTotals(t *testing.T) {
	tests := []struct {
		fixture string
		want    captureSummary
	}{
		{"final-state.postqueue-j.jsonl", captureSummary{
			map[string]int{QueueActive: 2, QueueDeferred: 16, QueueHold: 3}, 28, 1034372, 2, 2, 23, 1}},
		{"mixed-short-ids.postqueue-j.jsonl", captureSummary{
			map[string]int{QueueActive: 2, QueueDeferred: 15, QueueHold: 3}, 27, 1034074, 2, 2, 22, 1}},
		{"mixed-long-ids.postqueue-j.jsonl", captureSummary{
			map[string]int{QueueActive: 2, QueueDeferred: 15, QueueHold: 3}, 27, 1033999, 2, 2, 22, 1}},
		{"qmgr-disabled.postqueue-j.jsonl", captureSummary{
			map[string]int{QueueActive: 2, QueueIncoming: 4, QueueDeferred: 19}, 32, 1039684, 0, 4, 26, 1}},
		{"requeued-maildrop.postqueue-j.jsonl", captureSummary{
			map[string]int{QueueMaildrop: 17, QueueDeferred: 2}, 26, 1035611, 1, 3, 21, 1}},
		{"down-root.postqueue-j.jsonl", captureSummary{
			map[string]int{QueueMaildrop: 2, QueueDeferred: 19}, 28, 1037802, 0, 4, 23, 1}},
		{"instance2.postqueue-c-j.jsonl", captureSummary{
			map[string]int{QueueDeferred: 3}, 3, 798, 0, 0, 3, 0}},
		{"empty.postqueue-j.jsonl", captureSummary{map[string]int{}, 0, 0, 0, 0, 0, 0}},

		// The text format lists incoming and maildrop messages as deferred.
		{"final-state.postqueue-p.txt", captureSummary{
			map[string]int{QueueActive: 2, QueueDeferred: 16, QueueHold: 3}, 28, 1034372, 2, 2, 23, 1}},
		{"mixed-short-ids.postqueue-p.txt", captureSummary{
			map[string]int{QueueActive: 2, QueueDeferred: 15, QueueHold: 3}, 27, 1034074, 2, 2, 22, 1}},
		{"mixed-long-ids.postqueue-p.txt", captureSummary{
			map[string]int{QueueActive: 2, QueueDeferred: 15, QueueHold: 3}, 27, 1033999, 2, 2, 22, 1}},
		{"qmgr-disabled.postqueue-p.txt", captureSummary{
			map[string]int{QueueActive: 2, QueueDeferred: 23}, 32, 1039684, 0, 4, 26, 1}},
		{"requeued-maildrop.postqueue-p.txt", captureSummary{
			map[string]int{QueueDeferred: 19}, 26, 1035611, 1, 3, 21, 1}},
		{"empty.postqueue-p.txt", captureSummary{map[string]int{}, 0, 0, 0, 0, 0, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			got := summarize(mustParse(t, FormatAuto, readFixture(t, tt.fixture)))
			for _, queue := range Queues {
				if got.perQueue[queue] != tt.want.perQueue[queue] {
					t.Errorf("%s messages = %d, want %d", queue, got.perQueue[queue], tt.want.perQueue[queue])
				}
			}
			if got.recipients != tt.want.recipients {
				t.Errorf("recipients = %d, want %d", got.recipients, tt.want.recipients)
			}
			if got.bytes != tt.want.bytes {
				t.Errorf("sum of sizes = %d, want %d", got.bytes, tt.want.bytes)
			}
			if got.forced != tt.want.forced {
				t.Errorf("forced to expire = %d, want %d", got.forced, tt.want.forced)
			}
			if got.nullSender != tt.want.nullSender {
				t.Errorf("MAILER-DAEMON senders = %d, want %d", got.nullSender, tt.want.nullSender)
			}
			if got.withReason != tt.want.withReason {
				t.Errorf("recipients with a reason = %d, want %d", got.withReason, tt.want.withReason)
			}
			if got.quotedSender != tt.want.quotedSender {
				t.Errorf("quoted senders = %d, want %d", got.quotedSender, tt.want.quotedSender)
			}
		})
	}
}

// TestCaptureEntries checks single entries of the final-state capture that
// show a feature, in both formats.
func TestCaptureEntries(t *testing.T) {
	const refused = "connect to 127.0.0.1[127.0.0.1]:2525: Connection refused"
	const tempfail = "host 127.0.0.1[127.0.0.1] said: 450 4.3.0 Error: command failed (in reply to RCPT TO command)"
	const retry = `lab: simulated temporary failure "quoted" \backslash`
	arrival := utc(2026, 12, 4, 14, 53, 35)

	want := map[string]Message{
		"30408C8047": {QueueDeferred, "30408C8047", arrival, 360, false, "alice@example.org", []Recipient{
			{Address: "m1@example.net", DelayReason: refused},
			{Address: "m4@tempfail.example.test", DelayReason: tempfail},
			{Address: "m2@retry.example.test", DelayReason: retry},
		}},
		"475D3C8066": {QueueDeferred, "475D3C8066", arrival, 306, false, `"john doe"@example.org`, []Recipient{
			{Address: `"jane q"@example.net`, DelayReason: refused},
		}},
		"45575C8060": {QueueDeferred, "45575C8060", arrival, 282, false, "MAILER-DAEMON", []Recipient{
			{Address: "postmaster@example.net", DelayReason: refused},
		}},
		"4A5DCC8068": {QueueDeferred, "4A5DCC8068", arrival, 1026579, false, "ivan@example.org", []Recipient{
			{Address: "big@example.net", DelayReason: refused},
		}},
		"503FAC8070": {QueueDeferred, "503FAC8070", arrival, 296, true, "judy@example.org", []Recipient{
			{Address: "ee@example.net", DelayReason: refused},
		}},
		"3CECDC8059": {QueueHold, "3CECDC8059", arrival, 293, true, "frank@example.org", []Recipient{
			{Address: "h1@example.net"},
		}},
		"40279C805B": {QueueActive, "40279C805B", arrival, 290, false, "grace@example.org", []Recipient{
			{Address: "s1@slow.example.test"},
		}},
	}
	for _, fixture := range []string{"final-state.postqueue-j.jsonl", "final-state.postqueue-p.txt"} {
		t.Run(fixture, func(t *testing.T) {
			messages := mustParse(t, FormatAuto, readFixture(t, fixture))
			for id, w := range want {
				i := slices.IndexFunc(messages, func(m Message) bool { return m.ID == id })
				if i < 0 {
					t.Errorf("message %s not found", id)
					continue
				}
				checkMessages(t, messages[i:i+1], []Message{w})
			}
		})
	}
}

// TestCaptureFormatsAgree parses the -p and -j captures of the same queue
// and compares everything that the text format can tell.
func TestCaptureFormatsAgree(t *testing.T) {
	for _, name := range []string{"final-state", "mixed-short-ids", "mixed-long-ids", "qmgr-disabled", "requeued-maildrop"} {
		t.Run(name, func(t *testing.T) {
			fromJSON := mustParse(t, FormatJSON, readFixture(t, name+".postqueue-j.jsonl"))
			fromText := mustParse(t, FormatText, readFixture(t, name+".postqueue-p.txt"))

			// Text marks only active and hold messages.
			want := make([]Message, len(fromJSON))
			for i, m := range fromJSON {
				want[i] = m
				if m.Queue != QueueActive && m.Queue != QueueHold {
					want[i].Queue = QueueDeferred
				}
			}
			checkMessages(t, fromText, want)
		})
	}
}
