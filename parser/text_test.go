package parser

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestParseTextFixtures(t *testing.T) {
	const refused = "connect to 127.0.0.1[127.0.0.1]:2525: Connection refused"
	const mailboxFull = "host mx.example.net[192.0.2.25] said: 452 4.2.2 <jörg@exämple.org>: " +
		"Recipient address rejected: mailbox full (in reply to RCPT TO command)"

	tests := []struct {
		fixture string
		want    []Message
	}{
		{"postfix30-short-ids.postqueue-p.txt", []Message{
			{QueueActive, "A1B2C3D4E5F6", utc(2026, 12, 31, 23, 59, 0), 2048, false, "alice@example.org",
				[]Recipient{{Address: "bob@example.net"}}},
			{QueueDeferred, "3F1A2B4C5D", utc(2026, 12, 30, 8, 0, 1), 512, false, "MAILER-DAEMON",
				[]Recipient{
					{Address: "postmaster@example.net", DelayReason: refused},
					{Address: "carol@example.net", DelayReason: refused},
				}},
			// An 8-digit size follows the status mark without a blank.
			{QueueHold, "4D5E6F7A8B", utc(2026, 12, 29, 7, 6, 5), 12345678, false, "dave@example.org",
				[]Recipient{{Address: "erin@example.net"}}},
			// A maildrop file that postqueue could not open.
			{QueueMaildrop, "5E6F7A8B9C", utc(2027, 1, 1, 0, 10, 0), 731, false, "", nil},
			{QueueActive, "6F7A8B9CAD", utc(2026, 12, 28, 6, 5, 4), 12345678, false, "frank@example.org",
				[]Recipient{{Address: "grace@example.net"}}},
		}},
		{"long-ids-marks.postqueue-p.txt", []Message{
			{QueueHold, "4jgvV56dbhz5g2P", utc(2026, 12, 4, 14, 47, 25), 1234, true, "judy@example.org",
				[]Recipient{{Address: "ee@example.net"}}},
			{QueueActive, "49Mdqs22btz3wWJZ", utc(2026, 12, 31, 23, 59, 59), 123456789, false, "ivan@example.org",
				[]Recipient{{Address: "big@example.net"}}},
			{QueueActive, "49Mdqs22btz3wWJY", utc(2027, 1, 1, 0, 0, 5), 301, true, `"john doe"@example.org`,
				[]Recipient{
					{Address: "jörg@exämple.org", DelayReason: mailboxFull},
					{Address: `"jane q"@example.net`},
				}},
			{QueueDeferred, "4jgvXd1DgDz5g2c", utc(2026, 2, 28, 12, 0, 0), 436, true, "用户@例子.广告",
				[]Recipient{
					{Address: "a@example.net", DelayReason: refused},
					{Address: "b@example.net", DelayReason: `lab: simulated temporary failure "quoted" \backslash`},
					{Address: "c@example.net", DelayReason: `lab: simulated temporary failure "quoted" \backslash`},
				}},
		}},
		{"macos-ids-postfix34.postqueue-p.txt", []Message{
			{QueueDeferred, "1A2B3C4D5E6F7", utc(2026, 12, 1, 9, 30, 0), 10240000, false, "kim@example.org",
				[]Recipient{{Address: "fl@example.net", DelayReason: refused}}},
			{QueueHold, "ABCDEF01234", utc(2026, 12, 2, 10, 0, 0), 999, false, "MAILER-DAEMON",
				[]Recipient{{Address: "heidi@example.org"}}},
			{QueueActive, "1A2B3C4D5E6F8", utc(2026, 12, 3, 11, 0, 0), 99999999, false, "leo@example.org",
				[]Recipient{{Address: "s1@slow.example.test"}}},
		}},
		{"single.postqueue-p.txt", []Message{
			{QueueDeferred, "0D59BB8240", utc(2026, 12, 4, 14, 53, 35), 287, false, "alice@example.org",
				[]Recipient{{Address: "dave@example.com", DelayReason: refused}}},
		}},
		{"no-footer.postqueue-p.txt", []Message{
			{QueueDeferred, "0D59BB8240", utc(2026, 12, 4, 14, 53, 35), 287, false, "alice@example.org",
				[]Recipient{{Address: "dave@example.com"}}},
			{QueueActive, "1E6ACC8241", utc(2026, 12, 4, 14, 53, 36), 290, false, "grace@example.org",
				[]Recipient{{Address: "s1@slow.example.test"}}},
		}},
		{"empty.postqueue-p.txt", nil},
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			checkMessages(t, mustParse(t, FormatText, readFixture(t, tt.fixture)), tt.want)
		})
	}
}

func TestParseTextLines(t *testing.T) {
	const header = "-Queue ID-  --Size-- ----Arrival Time---- -Sender/Recipient-------\n"
	const entry = "0D59BB8240      287 Fri Dec  4 14:53:35  alice@example.org\n"
	const recipient = "                                         dave@example.com\n"

	tests := []struct {
		name  string
		input string
		want  []Message
	}{
		{
			name:  "tabs and CRLF",
			input: strings.ReplaceAll(header+"0D59BB8240\t287\tFri Dec\t4 14:53:35\talice@example.org\n\tdave@example.com\n", "\n", "\r\n"),
			want: []Message{{QueueDeferred, "0D59BB8240", utc(2026, 12, 4, 14, 53, 35), 287, false,
				"alice@example.org", []Recipient{{Address: "dave@example.com"}}}},
		},
		{
			name:  "leading blank lines",
			input: "\n  \n" + header + entry + recipient,
			want: []Message{{QueueDeferred, "0D59BB8240", utc(2026, 12, 4, 14, 53, 35), 287, false,
				"alice@example.org", []Recipient{{Address: "dave@example.com"}}}},
		},
		{
			name:  "no recipients",
			input: header + entry + "\n-- 0 Kbytes in 1 Request.\n",
			want: []Message{{QueueDeferred, "0D59BB8240", utc(2026, 12, 4, 14, 53, 35), 287, false,
				"alice@example.org", nil}},
		},
		{
			name: "reason unavailable then new reason",
			input: header + entry +
				"                                   (connect to 127.0.0.1[127.0.0.1]:25: refused)\n" + recipient +
				"                                                          (reason unavailable)\n" +
				"                                         erin@example.com\n" +
				"                                                                     (refused)\n" +
				"                                         frank@example.com\n",
			want: []Message{{QueueDeferred, "0D59BB8240", utc(2026, 12, 4, 14, 53, 35), 287, false,
				"alice@example.org", []Recipient{
					{Address: "dave@example.com", DelayReason: "connect to 127.0.0.1[127.0.0.1]:25: refused"},
					{Address: "erin@example.com"},
					{Address: "frank@example.com", DelayReason: "refused"},
				}}},
		},
		{
			name:  "forced expire without other mark",
			input: header + "0D59BB8240#     287 Fri Dec  4 14:53:35  alice@example.org\n" + recipient,
			want: []Message{{QueueDeferred, "0D59BB8240", utc(2026, 12, 4, 14, 53, 35), 287, true,
				"alice@example.org", []Recipient{{Address: "dave@example.com"}}}},
		},
		{
			name:  "hold and forced expire",
			input: header + "0D59BB8240!#     287 Fri Dec  4 14:53:35  alice@example.org\n" + recipient,
			want: []Message{{QueueHold, "0D59BB8240", utc(2026, 12, 4, 14, 53, 35), 287, true,
				"alice@example.org", []Recipient{{Address: "dave@example.com"}}}},
		},
		{
			name:  "Mail queue is empty with blank lines",
			input: "Mail queue is empty\n\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkMessages(t, mustParse(t, FormatText, []byte(tt.input)), tt.want)
		})
	}
}

func TestParseTextDefaultOptions(t *testing.T) {
	before := time.Now()
	var got time.Time
	err := ParseText(strings.NewReader(string(readFixture(t, "single.postqueue-p.txt"))), TextOptions{},
		func(m *Message) error {
			got = m.ArrivalTime
			return nil
		})
	if err != nil {
		t.Fatal(err)
	}
	if got.Location() != time.Local {
		t.Errorf("location = %v, want time.Local", got.Location())
	}
	if got.After(before.Add(maxClockSkew)) {
		t.Errorf("arrival time %v is more than the allowed skew after now %v", got, before)
	}
	if got.Month() != time.December || got.Day() != 4 {
		t.Errorf("arrival time %v, want a Dec 4", got)
	}
}

func TestParseTextLocation(t *testing.T) {
	zone := time.FixedZone("UTC+10", 10*60*60)
	opts := TextOptions{Now: utc(2026, 12, 4, 5, 0, 0), Location: zone}
	var got time.Time
	err := ParseText(strings.NewReader(string(readFixture(t, "single.postqueue-p.txt"))), opts,
		func(m *Message) error {
			got = m.ArrivalTime
			return nil
		})
	if err != nil {
		t.Fatal(err)
	}
	want := time.Date(2026, 12, 4, 14, 53, 35, 0, zone) // 04:53:35 UTC
	if !got.Equal(want) {
		t.Errorf("arrival time = %v, want %v", got, want)
	}
}

func TestParseHandlerError(t *testing.T) {
	stop := errors.New("stop")
	tests := []struct {
		fixture string
		format  Format
	}{
		{"final-state.postqueue-j.jsonl", FormatJSON},
		{"final-state.postqueue-p.txt", FormatText},
		{"no-footer.postqueue-p.txt", FormatText},
		{"final-state.postqueue-j.jsonl", FormatAuto},
	}
	for _, tt := range tests {
		t.Run(tt.fixture+"/"+tt.format.String(), func(t *testing.T) {
			calls := 0
			_, err := Parse(strings.NewReader(string(readFixture(t, tt.fixture))), tt.format, fixtureOptions,
				func(*Message) error {
					calls++
					return stop
				})
			if err != stop {
				t.Errorf("error = %v, want the handler's error unchanged", err)
			}
			if calls != 1 {
				t.Errorf("handler called %d times, want 1", calls)
			}
		})
	}
}
