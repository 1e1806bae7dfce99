package parser

import (
	"io"
	"strings"
	"testing"
)

func TestParseDetectsFormat(t *testing.T) {
	const jsonLine = `{"queue_name": "deferred", "queue_id": "A1", "arrival_time": 1, "message_size": 2, "sender": "s", "recipients": []}`
	tests := []struct {
		name     string
		input    string
		want     Format
		messages int
	}{
		{"empty", "", FormatJSON, 0},
		{"blank lines", "\n \r\n\t\n", FormatJSON, 0},
		{"JSON", jsonLine + "\n" + jsonLine + "\n", FormatJSON, 2},
		{"JSON after blank lines", "\n\n  " + jsonLine + "\n", FormatJSON, 1},
		{"empty queue", "Mail queue is empty\n", FormatText, 0},
		{"short id header", string(readFixture(t, "final-state.postqueue-p.txt")), FormatText, 21},
		{"long id header", string(readFixture(t, "mixed-long-ids.postqueue-p.txt")), FormatText, 20},
		{"Postfix 3.0 header", string(readFixture(t, "postfix30-short-ids.postqueue-p.txt")), FormatText, 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			messages, used, err := parseAll(FormatAuto, []byte(tt.input))
			if err != nil {
				t.Fatal(err)
			}
			if used != tt.want {
				t.Errorf("format = %v, want %v", used, tt.want)
			}
			if len(messages) != tt.messages {
				t.Errorf("got %d messages, want %d", len(messages), tt.messages)
			}
		})
	}
}

// TestParseStreams checks that the handler receives the first message while the
// rest of the input is still unwritten. A parser that reads its whole input
// first makes this test hang until the test timeout.
func TestParseStreams(t *testing.T) {
	tests := []struct {
		name  string
		first string // enough to complete the first message
		rest  string
		ids   string
	}{
		{"JSON",
			`{"queue_name": "hold", "queue_id": "A1", "arrival_time": 1, "message_size": 2, "sender": "s", "recipients": []}` + "\n",
			`{"queue_name": "hold", "queue_id": "A2", "arrival_time": 1, "message_size": 2, "sender": "s", "recipients": []}` + "\n",
			"A1 A2"},
		{"text",
			"-Queue ID-  --Size-- ----Arrival Time---- -Sender/Recipient-------\n" +
				"0D59BB8240      287 Fri Dec  4 14:53:35  alice@example.org\n" +
				"                                         dave@example.com\n\n",
			"1E6ACC8241*     290 Fri Dec  4 14:53:36  grace@example.org\n" +
				"                                         s1@slow.example.test\n\n" +
				"-- 0 Kbytes in 2 Requests.\n",
			"0D59BB8240 1E6ACC8241"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reader, writer := io.Pipe()
			firstSeen := make(chan struct{})
			go func() {
				io.WriteString(writer, tt.first)
				<-firstSeen
				io.WriteString(writer, tt.rest)
				writer.Close()
			}()

			var ids []string
			_, err := Parse(reader, FormatAuto, fixtureOptions, func(m *Message) error {
				if len(ids) == 0 {
					close(firstSeen)
				}
				ids = append(ids, strings.Clone(m.ID))
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(ids, " "); got != tt.ids {
				t.Errorf("IDs = %q, want %q", got, tt.ids)
			}
		})
	}
}
