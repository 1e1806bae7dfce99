package parser

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// TestParseLongLines parses lines of more than 1 MiB, longer than the read
// buffer: a JSON message with 10,000 recipients and a text reason line.
func TestParseLongLines(t *testing.T) {
	var jsonLine strings.Builder
	jsonLine.WriteString(`{"queue_name": "deferred", "queue_id": "4jgvV56dbhz5g2P", "arrival_time": 1796396015, ` +
		`"message_size": 2084, "forced_expire": false, "sender": "bulk@example.org", "recipients": [`)
	for i := range 10000 {
		if i > 0 {
			jsonLine.WriteString(", ")
		}
		fmt.Fprintf(&jsonLine, `{"address": "user%05d@example.net", "delay_reason": "connect to `+
			`mx%05d.example.net[192.0.2.1]:25: Connection timed out"}`, i, i)
	}
	jsonLine.WriteString("]}\n")

	reason := strings.Repeat("r", 1<<20)
	text := "-Queue ID-  --Size-- ----Arrival Time---- -Sender/Recipient-------\n" +
		"0D59BB8240      287 Fri Dec  4 14:53:35  alice@example.org\n" +
		"(" + reason + ")\n" +
		"                                         dave@example.com\n" +
		"\n-- 0 Kbytes in 1 Request.\n"

	tests := []struct {
		name       string
		input      string
		recipients int
		lastReason string
	}{
		{"JSON 10000 recipients", jsonLine.String(), 10000,
			"connect to mx09999.example.net[192.0.2.1]:25: Connection timed out"},
		{"text 1 MiB reason", text, 1, reason},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if len(tt.input) < 1<<20 {
				t.Fatalf("input is %d bytes, want at least 1 MiB", len(tt.input))
			}
			messages := mustParse(t, FormatAuto, []byte(tt.input))
			if len(messages) != 1 {
				t.Fatalf("got %d messages, want 1", len(messages))
			}
			got := messages[0].Recipients
			if len(got) != tt.recipients {
				t.Fatalf("got %d recipients, want %d", len(got), tt.recipients)
			}
			if got[len(got)-1].DelayReason != tt.lastReason {
				t.Errorf("last reason is %d bytes, want %d", len(got[len(got)-1].DelayReason), len(tt.lastReason))
			}
		})
	}
}

func TestLineLimit(t *testing.T) {
	tests := []struct {
		name    string
		input   string
		wantErr bool
	}{
		{"at limit", strings.Repeat("x", 100) + "\nnext\n", false},
		{"at limit without newline", strings.Repeat("x", 100), false},
		{"over limit", strings.Repeat("x", 101) + "\n", true},
		{"over limit without newline", strings.Repeat("x", 101), true},
		{"far over limit", strings.Repeat("x", 1000) + "\n", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lr := newLineReader(strings.NewReader(tt.input))
			lr.maxBytes = 100
			var err error
			for err == nil {
				_, err = lr.next()
			}
			var syntaxErr *SyntaxError
			gotErr := errors.As(err, &syntaxErr)
			if gotErr != tt.wantErr {
				t.Fatalf("error = %v, want a line length error: %v", err, tt.wantErr)
			}
			if gotErr && syntaxErr.Line != 1 {
				t.Errorf("Line = %d, want 1", syntaxErr.Line)
			}
		})
	}
}

// TestParseMaxLineBytes feeds a line one byte over MaxLineBytes through
// the public API.
func TestParseMaxLineBytes(t *testing.T) {
	if testing.Short() {
		t.Skip("allocates 128 MiB")
	}
	input := append([]byte(`{"queue_name": "`), bytes.Repeat([]byte("x"), MaxLineBytes)...)
	err := ParseJSON(bytes.NewReader(input), func(*Message) error { return nil })
	var syntaxErr *SyntaxError
	if !errors.As(err, &syntaxErr) {
		t.Fatalf("error = %v, want a *SyntaxError", err)
	}
	want := fmt.Sprintf("a line of at most %d bytes", MaxLineBytes)
	if syntaxErr.Expected != want {
		t.Errorf("Expected = %q, want %q", syntaxErr.Expected, want)
	}
}

// TestParseReusesMessage checks that memory does not grow with the queue:
// every handler call gets the same Message, and its Recipients array is
// reused once it is large enough.
func TestParseReusesMessage(t *testing.T) {
	for _, fixture := range []string{"final-state.postqueue-j.jsonl", "final-state.postqueue-p.txt"} {
		t.Run(fixture, func(t *testing.T) {
			var (
				first     *Message
				recipient *Recipient
				calls     int
			)
			_, err := Parse(bytes.NewReader(readFixture(t, fixture)), FormatAuto, fixtureOptions, func(m *Message) error {
				calls++
				if first == nil {
					first = m
				}
				if m != first {
					t.Errorf("call %d got a new *Message", calls)
				}
				// No message has more than 5 recipients, so once a 5-recipient
				// message is seen, the array must not change.
				if len(m.Recipients) == 5 {
					recipient = &m.Recipients[0]
				}
				if recipient != nil && len(m.Recipients) > 0 && &m.Recipients[0] != recipient {
					t.Errorf("call %d got a new Recipients array", calls)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if recipient == nil {
				t.Fatal("no message with 5 recipients")
			}
		})
	}
}

// TestParseJSONAllocations checks that the strings of a line cost no
// allocation, even when some of them contain escapes (9 in 40 lines of
// benchmarkJSON do): a run allocates a fixed amount, whatever its length.
func TestParseJSONAllocations(t *testing.T) {
	input := benchmarkJSON(1000)
	allocs := testing.AllocsPerRun(10, func() {
		if err := ParseJSON(bytes.NewReader(input), func(*Message) error { return nil }); err != nil {
			t.Fatal(err)
		}
	})
	if perLine := allocs / 1000; perLine > 0.02 {
		t.Errorf("%.3f allocations per line, want at most 0.02", perLine)
	}
}
