package parser

import (
	"errors"
	"strings"
	"testing"
)

func TestParseErrors(t *testing.T) {
	const header = "-Queue ID-  --Size-- ----Arrival Time---- -Sender/Recipient-------\n"
	const entry = "0D59BB8240      287 Fri Dec  4 14:53:35  alice@example.org\n"
	const recipient = "                                         dave@example.com\n"
	const jsonLine = `{"queue_name": "deferred", "queue_id": "A1", "arrival_time": 1, "message_size": 2, "sender": "s", "recipients": []}` + "\n"
	const textStart = "postqueue -p header"

	tests := []struct {
		name     string
		format   Format
		input    string
		line     int
		expected string // part of SyntaxError.Expected
		messages int    // messages handed on before the error
	}{
		// Other mail systems' queue listings.
		{"sendmail empty", FormatAuto, "/var/spool/mqueue is empty\n", 1, textStart, 0},
		{"sendmail empty as text", FormatText, "/var/spool/mqueue is empty\n", 1, textStart, 0},
		{"sendmail empty as JSON", FormatJSON, "/var/spool/mqueue is empty\n", 1, "a JSON object", 0},
		{"sendmail no queue", FormatAuto, "No queue to print\n", 1, textStart, 0},
		{"sendmail title", FormatAuto, "\t\tMail Queue (1 request)\n--Q-ID-- --Size-- -----Q-Time----- " +
			"------------Sender/Recipient-----------\nw9A1x2 12 Fri Dec  4 14:53 <a@example.org>\n", 1, textStart, 0},
		{"sendmail spool title", FormatText, "/var/spool/mqueue (1 request)\n-----Q-ID----- --Size-- " +
			"-----Q-Time----- ------------Sender/Recipient-----------\n", 1, textStart, 0},
		{"sendmail header", FormatAuto, "----Q-ID---- --Size-- -----Q-Time----- ----Sender/Recipient----\n", 1, textStart, 0},
		{"exim", FormatAuto, " 2h  1.2K 1pBxyz-0001Ab-Cd <a@example.org>\n          b@example.net\n\n", 1, textStart, 0},
		{"exim as JSON", FormatJSON, " 2h  1.2K 1pBxyz-0001Ab-Cd <a@example.org>\n", 1, "a JSON object", 0},
		{"nullmailer", FormatAuto, "2024-01-05 10:00:00  1234 bytes from <a@example.org>\n", 1, textStart, 0},
		{"qmail", FormatAuto, "messages in queue: 3\nmessages in queue but not yet preprocessed: 0\n", 1, textStart, 0},
		{"HTML", FormatAuto, "<!DOCTYPE html>\n<html><body>502 Bad Gateway</body></html>\n", 1, textStart, 0},
		{"binary", FormatAuto, "\x00\x01\x02\xff\xfe garbage\n", 1, textStart, 0},
		{"binary as JSON", FormatJSON, "\x7fELF\x02\x01\x01\x00\n", 1, "a JSON object", 0},
		{"binary after blank lines", FormatAuto, "\n\n\x1f\x8b\x08\x00", 3, textStart, 0},

		// Broken postqueue -j output.
		{"truncated last line", FormatAuto, jsonLine + `{"queue_name": "deferred", "queue_id": "A2", "arr`, 2,
			"a complete JSON object on one line (unexpected end of JSON input)", 1},
		{"unterminated string", FormatJSON, jsonLine + jsonLine + `{"queue_name": "deferred}` + "\n", 3,
			"a complete JSON object on one line", 2},
		{"object over two lines", FormatJSON, "{\"queue_name\": \"deferred\",\n\"queue_id\": \"A1\"}\n", 1,
			"a complete JSON object", 0},
		{"two objects on a line", FormatJSON, strings.TrimSuffix(jsonLine, "\n") + jsonLine, 1,
			"a complete JSON object on one line (invalid character '{' after top-level value)", 0},
		{"JSON array", FormatJSON, "[" + strings.TrimSuffix(jsonLine, "\n") + "]\n", 1, "a JSON object", 0},
		{"missing queue_name", FormatJSON, `{"queue_id": "A1", "arrival_time": 1, "message_size": 2, "sender": "s", "recipients": []}`,
			1, `the member "queue_name"`, 0},
		{"missing queue_id", FormatJSON, jsonLine + `{"queue_name": "hold", "arrival_time": 1, "message_size": 2, "sender": "s", "recipients": []}`,
			2, `the member "queue_id"`, 1},
		{"null queue_id", FormatJSON, `{"queue_name": "hold", "queue_id": null, "arrival_time": 1, "message_size": 2, "sender": "s", "recipients": []}`,
			1, `the member "queue_id"`, 0},
		{"empty queue_id", FormatJSON, `{"queue_name": "hold", "queue_id": "", "arrival_time": 1, "message_size": 2, "sender": "s", "recipients": []}`,
			1, "a non-empty queue_id", 0},
		{"missing arrival_time", FormatJSON, `{"queue_name": "hold", "queue_id": "A1", "message_size": 2, "sender": "s", "recipients": []}`,
			1, `the member "arrival_time"`, 0},
		{"missing address", FormatJSON, `{"queue_name": "hold", "queue_id": "A1", "arrival_time": 1, "message_size": 2, "sender": "s", "recipients": [{"address": "a"}, {"delay_reason": "r"}]}`,
			1, `the member "address" in recipient 2`, 0},
		{"unknown queue_name", FormatJSON, `{"queue_name": "corrupt", "queue_id": "A1", "arrival_time": 1, "message_size": 2, "sender": "s", "recipients": []}`,
			1, "a queue_name of maildrop, incoming, active, deferred or hold", 0},
		{"negative size", FormatJSON, `{"queue_name": "hold", "queue_id": "A1", "arrival_time": 1, "message_size": -2, "sender": "s", "recipients": []}`,
			1, "a message_size of 0 or more", 0},
		{"size as string", FormatJSON, `{"queue_name": "hold", "queue_id": "A1", "arrival_time": 1, "message_size": "2", "sender": "s", "recipients": []}`,
			1, `a JSON integer in "message_size"`, 0},
		{"fractional arrival_time", FormatJSON, `{"queue_name": "hold", "queue_id": "A1", "arrival_time": 1.5, "message_size": 2, "sender": "s", "recipients": []}`,
			1, `a JSON integer in "arrival_time"`, 0},
		{"forced_expire as number", FormatJSON, `{"queue_name": "hold", "queue_id": "A1", "arrival_time": 1, "message_size": 2, "forced_expire": 1, "sender": "s", "recipients": []}`,
			1, `true or false in "forced_expire"`, 0},
		{"recipients as object", FormatJSON, `{"queue_name": "hold", "queue_id": "A1", "arrival_time": 1, "message_size": 2, "sender": "s", "recipients": {}}`,
			1, `a JSON array in "recipients"`, 0},
		{"address as number", FormatJSON, `{"queue_name": "hold", "queue_id": "A1", "arrival_time": 1, "message_size": 2, "sender": "s", "recipients": [{"address": 5}]}`,
			1, `a JSON string in "recipients.address"`, 0},
		{"text after JSON", FormatJSON, jsonLine + "Mail queue is empty\n", 2, "a JSON object", 1},

		// Broken postqueue -p output.
		{"empty text", FormatText, "", 1, textStart, 0},
		{"header only", FormatText, header, 2, "a queue entry after the header", 0},
		{"recipient at column 0", FormatText, header + entry + "dave@example.com\n", 3,
			"a recipient address, a (reason) line or a blank line", 0},
		{"reason without recipient", FormatText, header + entry + "        (refused)\n", 4,
			"a recipient address after the reason line", 0},
		{"reason then blank", FormatText, header + entry + "        (refused)\n\n", 4,
			"a recipient address after the reason line", 0},
		{"unclosed reason", FormatText, header + entry + "        (refused\n" + recipient, 3,
			`a reason line ending in ")"`, 0},
		{"bad status mark", FormatText, header + "0D59BB8240?     287 Fri Dec  4 14:53:35  a@example.org\n", 2,
			"a queue ID with optional status marks", 0},
		{"exim id", FormatText, header + "1pBxyz-0001Ab-Cd     287 Fri Dec  4 14:53:35  a@example.org\n", 2,
			"a queue ID with optional status marks", 0},
		{"size with unit", FormatText, header + "0D59BB8240     1.2K Fri Dec  4 14:53:35  a@example.org\n", 2,
			"a message size in bytes", 0},
		{"signed size", FormatText, header + "0D59BB8240     +287 Fri Dec  4 14:53:35  a@example.org\n", 2,
			"a message size in bytes", 0},
		{"date without seconds", FormatText, header + "0D59BB8240      287 Fri Dec  4 14:53  a@example.org\n", 2,
			"an arrival time", 0},
		{"Feb 30", FormatText, header + "0D59BB8240      287 Fri Feb 30 14:53:35  a@example.org\n", 2,
			"an arrival time", 0},
		{"no sender", FormatText, header + "0D59BB8240      287 Fri Dec  4 14:53:35\n", 2,
			"a sender address", 0},
		{"indented entry", FormatText, header + entry + recipient + "\n " + entry, 5,
			"a queue entry or the footer", 1},
		{"footer count", FormatText, header + entry + recipient + "\n-- 0 Kbytes in 2 Requests.\n", 5,
			"a request count of 1, the number of entries listed", 1},
		{"footer garbled", FormatText, header + entry + recipient + "\n-- 0 KB in 1 Request.\n", 5,
			"a footer such as", 1},
		{"text after footer", FormatText, header + entry + recipient + "\n-- 0 Kbytes in 1 Request.\n" + entry, 6,
			"the end of the listing", 1},
		{"text after empty queue", FormatAuto, "Mail queue is empty\n" + entry, 2, "the end of the listing", 0},
		{"recipient after maildrop line", FormatText, header +
			"5E6F7A8B9C      731 Fri Jan  1 00:10:00  (maildrop queue, sender UID 1000)\n" + recipient, 3,
			"a blank line after an unreadable maildrop entry", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			messages, _, err := parseAll(tt.format, []byte(tt.input))
			var syntaxErr *SyntaxError
			if !errors.As(err, &syntaxErr) {
				t.Fatalf("error = %v (%T), want a *SyntaxError", err, err)
			}
			if syntaxErr.Line != tt.line {
				t.Errorf("Line = %d, want %d (%v)", syntaxErr.Line, tt.line, err)
			}
			if !strings.Contains(syntaxErr.Expected, tt.expected) {
				t.Errorf("Expected = %q, want it to contain %q", syntaxErr.Expected, tt.expected)
			}
			if len(messages) != tt.messages {
				t.Errorf("handler got %d messages before the error, want %d", len(messages), tt.messages)
			}
		})
	}
}

func TestSyntaxErrorMessage(t *testing.T) {
	long := strings.Repeat("x", 100)
	tests := []struct {
		name string
		err  *SyntaxError
		want string
	}{
		{"short", newSyntaxError(3, "a recipient address or a blank line", []byte("oops")),
			`line 3: expected a recipient address or a blank line, got "oops"`},
		{"truncated", newSyntaxError(1, "a JSON object", []byte(long)),
			`line 1: expected a JSON object, got "` + long[:57] + `..."`},
		{"truncated at rune", newSyntaxError(1, "a JSON object", []byte(strings.Repeat("é", 40))),
			`line 1: expected a JSON object, got "` + strings.Repeat("é", 28) + `..."`},
		{"tail", &SyntaxError{Line: 2, Expected: "x", Got: tailExcerpt([]byte(long+"end"), 103)},
			`line 2: expected x, got "...` + long[:54] + `end"`},
		{"non-printable", newSyntaxError(1, "a JSON object", []byte("\x00\x1b\xff")),
			`line 1: expected a JSON object, got "\x00\x1b\xff"`},
		{"end of input", eofError(4, "a recipient address"),
			`line 4: expected a recipient address, got end of input`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.err.Error(); got != tt.want {
				t.Errorf("Error() =\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

func TestParseUnknownFormat(t *testing.T) {
	_, err := Parse(strings.NewReader(""), Format(7), TextOptions{}, func(*Message) error { return nil })
	if err == nil {
		t.Fatal("Parse with format 7 returned no error")
	}
}
