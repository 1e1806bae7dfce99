package parser

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// FuzzParseJSON compares ParseJSON with referenceParseJSON, a plain
// encoding/json decoder of the same format. Both must accept the same
// input, report the same line, and hand on the same messages.
func FuzzParseJSON(f *testing.F) {
	// JSON lines are independent, so single lines make better seeds than
	// whole files: mutations then spread over fewer bytes.
	addFixtureSeeds(f, "*.jsonl", false)
	f.Add(readFixture(f, "unusual.postqueue-j.jsonl"))
	for _, line := range shortJSONSeeds {
		f.Add([]byte(line))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if difference := compareWithReference(data); difference != "" {
			t.Fatal(difference)
		}
	})
}

// shortJSONSeeds are short lines that reach every branch of the JSON
// scanner within a few mutations: numbers, literals, escapes and nesting in
// unknown members, null, and names that differ in case or repeat.
var shortJSONSeeds = func() []string {
	const head = `{"queue_name":"hold","queue_id":"A","arrival_time":1,"message_size":2,"sender":"","recipients":[]`
	seeds := []string{
		`{"queue_name":"hold","queue_id":"A","arrival_time":-0,"message_size":0,"sender":"\ud800",` +
			`"recipients":[{"address":"\u00e9\/","x":[{}]},{"address":"b","delay_reason":"r","Address":"c"}]}`,
		`{"queue_name":"hold","queue_id":"A","arrival_time":1,"message_size":2,` +
			`"sender":"\"\\\/\b\f\n\r\t\u0041\ud83d\udce7é","recipients":[]}`,
	}
	for _, tail := range []string{
		`}`,
		`,"x":-0.5e+1}`,
		`,"x":10E2,"y":0}`,
		`,"x":[true,false,null]}`,
		`,"x":{"a":{"b":[]}}}`,
		`,"x":"\ud800\u0041"}`,
		`,"forced_expire":null}`,
		`,"Sender":"b"}`,
		`,"queue_id":"B"}`,
	} {
		seeds = append(seeds, head+tail)
	}
	return seeds
}()

// TestJSONNearSeeds runs compareWithReference on every input one edit away
// from the short seeds: one byte deleted, replaced or inserted, with bytes
// that matter to JSON. It finds in a second what random fuzzing may miss
// for minutes, such as a number "0.e1" that only a deleted digit makes.
func TestJSONNearSeeds(t *testing.T) {
	const bytesToTry = "\"\\.,:}]0e+-nu \x00\x1f\xff"
	for _, seed := range shortJSONSeeds {
		for i := range len(seed) + 1 {
			var variants []string
			if i < len(seed) {
				variants = append(variants, seed[:i]+seed[i+1:])
			}
			for j := range len(bytesToTry) {
				if i < len(seed) {
					variants = append(variants, seed[:i]+bytesToTry[j:j+1]+seed[i+1:])
				}
				variants = append(variants, seed[:i]+bytesToTry[j:j+1]+seed[i:])
			}
			for _, data := range variants {
				if difference := compareWithReference([]byte(data)); difference != "" {
					t.Fatalf("%s\ninput: %q", difference, data)
				}
			}
		}
	}
}

// compareWithReference parses data with ParseJSON and referenceParseJSON
// and describes the first difference, or returns "".
func compareWithReference(data []byte) string {
	var got []Message
	err := ParseJSON(bytes.NewReader(data), func(m *Message) error {
		got = append(got, copyMessage(m))
		return nil
	})
	want, badLine := referenceParseJSON(data)

	var syntaxErr *SyntaxError
	switch {
	case badLine == 0 && err != nil:
		return fmt.Sprintf("ParseJSON: %v; the reference accepts the input", err)
	case badLine != 0 && !errors.As(err, &syntaxErr):
		return fmt.Sprintf("ParseJSON error = %v, want a *SyntaxError for line %d", err, badLine)
	case badLine != 0 && syntaxErr.Line != badLine:
		return fmt.Sprintf("ParseJSON: %v; the reference rejects line %d", err, badLine)
	case !slices.EqualFunc(got, want, equalMessages):
		return fmt.Sprintf("ParseJSON messages:\n%+v\nreference messages:\n%+v", got, want)
	}
	for _, m := range got {
		if m.Queue == "" || m.ID == "" {
			return fmt.Sprintf("handler got a message with Queue %q and ID %q", m.Queue, m.ID)
		}
	}
	return ""
}

func equalMessages(a, b Message) bool {
	return a.Queue == b.Queue && a.ID == b.ID && a.ArrivalTime.Equal(b.ArrivalTime) && a.Size == b.Size &&
		a.ForcedExpire == b.ForcedExpire && a.Sender == b.Sender && slices.Equal(a.Recipients, b.Recipients)
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
	addFixtureSeeds(f, "*.txt", true)
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

// addFixtureSeeds adds each line of the fixtures matching pattern to the
// seed corpus, and each whole fixture if whole is set.
func addFixtureSeeds(f *testing.F, pattern string, whole bool) {
	names, err := filepath.Glob(filepath.Join("testdata", pattern))
	if err != nil {
		f.Fatal(err)
	}
	for _, name := range names {
		data := readFixture(f, filepath.Base(name))
		if whole {
			f.Add(data)
		}
		for line := range bytes.Lines(data) {
			f.Add(line)
		}
	}
}
