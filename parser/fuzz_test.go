package parser

import (
	"bytes"
	"encoding/json"
	"errors"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// FuzzParseJSON compares ParseJSON with referenceParseJSON, a plain
// encoding/json decoder of the same format: both must accept the same
// input, report the same line, and hand on the same messages.
func FuzzParseJSON(f *testing.F) {
	addFixtureSeeds(f, "*.jsonl")
	f.Add([]byte(`{"queue_name": "hold", "queue_id": "A", "arrival_time": -0, "message_size": 0, "sender": "\ud800", "recipients": [{"address": "\u00e9\/", "x": [{}]}]}`))
	f.Add([]byte(`{"QUEUE_NAME": "hold", "queue_name": "active", "queue_id": "A", "arrival_time": 1, "message_size": 2, "sender": "", "recipients": []}`))

	f.Fuzz(func(t *testing.T, data []byte) {
		var got []Message
		err := ParseJSON(bytes.NewReader(data), func(m *Message) error {
			if m.Queue == "" || m.ID == "" {
				t.Errorf("handler got a message with Queue %q and ID %q", m.Queue, m.ID)
			}
			got = append(got, copyMessage(m))
			return nil
		})
		want, badLine := referenceParseJSON(data)

		var syntaxErr *SyntaxError
		switch {
		case badLine == 0 && err != nil:
			t.Fatalf("ParseJSON: %v; the reference accepts the input", err)
		case badLine != 0 && !errors.As(err, &syntaxErr):
			t.Fatalf("ParseJSON error = %v, want a *SyntaxError for line %d", err, badLine)
		case badLine != 0 && syntaxErr.Line != badLine:
			t.Fatalf("ParseJSON: %v; the reference rejects line %d", err, badLine)
		}
		checkMessages(t, got, want)
	})
}

// referenceJSON is a `postqueue -j` line as the reference decodes it.
type referenceJSON struct {
	QueueName    *string `json:"queue_name"`
	QueueID      *string `json:"queue_id"`
	ArrivalTime  *int64  `json:"arrival_time"`
	MessageSize  *int64  `json:"message_size"`
	ForcedExpire bool    `json:"forced_expire"`
	Sender       *string `json:"sender"`
	Recipients   *[]struct {
		Address      *string `json:"address"`
		OrigAddress  string  `json:"orig_address"`
		DelayReason  string  `json:"delay_reason"`
		BounceReason string  `json:"bounce_reason"`
	} `json:"recipients"`
}

// referenceParseJSON decodes each line of data that is not blank with
// encoding/json and checks the rules of ParseJSON. It returns the messages
// before the first invalid line and that line's number, or 0.
func referenceParseJSON(data []byte) ([]Message, int) {
	var messages []Message
	for i, line := range bytes.Split(data, []byte("\n")) {
		trimmed := bytes.TrimLeft(line, " \t\r")
		if len(trimmed) == 0 {
			continue
		}
		var v referenceJSON
		if trimmed[0] != '{' || json.Unmarshal(line, &v) != nil {
			return messages, i + 1
		}
		if v.QueueName == nil || !slices.Contains(Queues, *v.QueueName) || v.QueueID == nil ||
			*v.QueueID == "" || v.ArrivalTime == nil || v.MessageSize == nil || *v.MessageSize < 0 ||
			v.Sender == nil || v.Recipients == nil {
			return messages, i + 1
		}
		m := Message{
			Queue:        *v.QueueName,
			ID:           *v.QueueID,
			ArrivalTime:  time.Unix(*v.ArrivalTime, 0),
			Size:         *v.MessageSize,
			ForcedExpire: v.ForcedExpire,
			Sender:       *v.Sender,
		}
		for _, r := range *v.Recipients {
			if r.Address == nil {
				return messages, i + 1
			}
			m.Recipients = append(m.Recipients, Recipient{*r.Address, r.OrigAddress, r.DelayReason, r.BounceReason})
		}
		messages = append(messages, m)
	}
	return messages, 0
}

// FuzzParseText checks that ParseText never panics, returns only
// *SyntaxError for bad input, and hands on only complete messages.
func FuzzParseText(f *testing.F) {
	addFixtureSeeds(f, "*.txt")
	f.Add([]byte("-Queue ID- --Size-- ----Arrival Time---- -Sender/Recipient-------\n" +
		"A1*12345678 Tue Feb 29 07:06:05  (maildrop queue, sender UID 0)\n\n-- 1 Kbytes in 1 Request.\n"))

	f.Fuzz(func(t *testing.T, data []byte) {
		err := ParseText(bytes.NewReader(data), fixtureOptions, func(m *Message) error {
			if !slices.Contains(Queues, m.Queue) {
				t.Errorf("handler got Queue %q", m.Queue)
			}
			if m.ID == "" {
				t.Error("handler got an empty ID")
			}
			if m.ArrivalTime.After(fixtureNow.Add(maxClockSkew)) {
				t.Errorf("handler got ArrivalTime %v, after now and the skew", m.ArrivalTime)
			}
			for _, r := range m.Recipients {
				if r.Address == "" {
					t.Error("handler got an empty recipient address")
				}
			}
			return nil
		})
		var syntaxErr *SyntaxError
		if err != nil && !errors.As(err, &syntaxErr) {
			t.Fatalf("error = %v (%T), want a *SyntaxError", err, err)
		}
		if syntaxErr != nil && syntaxErr.Line < 1 {
			t.Errorf("SyntaxError.Line = %d, want 1 or more", syntaxErr.Line)
		}
	})
}

// addFixtureSeeds adds each fixture matching pattern, and each of its lines,
// to the seed corpus.
func addFixtureSeeds(f *testing.F, pattern string) {
	names, err := filepath.Glob(filepath.Join("testdata", pattern))
	if err != nil {
		f.Fatal(err)
	}
	for _, name := range names {
		data := readFixture(f, filepath.Base(name))
		f.Add(data)
		for line := range bytes.Lines(data) {
			f.Add(line)
		}
	}
}
