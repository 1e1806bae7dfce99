package parser

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// fixtureNow is the reference time for the text fixtures. The captures were
// made on Dec 4 2026 on a lab that ran in UTC. Half an hour into the new
// year, hand-made entries dated Dec 31 and Jan 1 fall in different years.
var fixtureNow = time.Date(2027, time.January, 1, 0, 30, 0, 0, time.UTC)

var fixtureOptions = TextOptions{Now: fixtureNow, Location: time.UTC}

// parseAll parses input and returns copies of the messages handed to the
// handler, including those before an error.
func parseAll(format Format, input []byte) ([]Message, Format, error) {
	var messages []Message
	used, err := Parse(bytes.NewReader(input), format, fixtureOptions, func(m *Message) error {
		messages = append(messages, copyMessage(m))
		return nil
	})
	return messages, used, err
}

// mustParse parses a fixture that must be valid.
func mustParse(t *testing.T, format Format, input []byte) []Message {
	t.Helper()
	messages, _, err := parseAll(format, input)
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return messages
}

// copyMessage copies m out of the parser's reused storage. An empty
// recipient list becomes nil, so that tables can leave it out.
func copyMessage(m *Message) Message {
	c := m.Clone()
	if len(c.Recipients) == 0 {
		c.Recipients = nil
	}
	return c
}

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// checkMessages compares messages field by field and reports each
// difference on its own.
func checkMessages(t *testing.T, got, want []Message) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d messages, want %d", len(got), len(want))
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.Queue != w.Queue {
			t.Errorf("message %d (%s): Queue = %q, want %q", i, w.ID, g.Queue, w.Queue)
		}
		if g.ID != w.ID {
			t.Errorf("message %d: ID = %q, want %q", i, g.ID, w.ID)
		}
		if !g.ArrivalTime.Equal(w.ArrivalTime) {
			t.Errorf("message %d (%s): ArrivalTime = %v, want %v", i, w.ID, g.ArrivalTime, w.ArrivalTime)
		}
		if g.Size != w.Size {
			t.Errorf("message %d (%s): Size = %d, want %d", i, w.ID, g.Size, w.Size)
		}
		if g.ForcedExpire != w.ForcedExpire {
			t.Errorf("message %d (%s): ForcedExpire = %v, want %v", i, w.ID, g.ForcedExpire, w.ForcedExpire)
		}
		if g.Sender != w.Sender {
			t.Errorf("message %d (%s): Sender = %q, want %q", i, w.ID, g.Sender, w.Sender)
		}
		if !slices.Equal(g.Recipients, w.Recipients) {
			t.Errorf("message %d (%s): Recipients =\n%+v\nwant\n%+v", i, w.ID, g.Recipients, w.Recipients)
		}
	}
}

// utc returns a time in UTC for expected values.
func utc(year int, month time.Month, day, hour, minute, second int) time.Time {
	return time.Date(year, month, day, hour, minute, second, 0, time.UTC)
}
