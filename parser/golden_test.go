package parser

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestParseGolden parses every fixture in testdata and compares the result
// with testdata/golden/NAME.golden. Run `go test ./parser -update` to
// rewrite the golden files after a deliberate change, and review the diff.
func TestParseGolden(t *testing.T) {
	names, err := filepath.Glob("testdata/*.postqueue-*")
	if err != nil {
		t.Fatal(err)
	}
	if len(names) == 0 {
		t.Fatal("no fixtures found in testdata")
	}
	for _, name := range names {
		base := filepath.Base(name)
		t.Run(base, func(t *testing.T) {
			input := readFixture(t, base)
			messages, used, err := parseAll(FormatAuto, input)
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			wantFormat := FormatText
			if strings.HasSuffix(base, ".jsonl") {
				wantFormat = FormatJSON
			}
			if used != wantFormat {
				t.Errorf("format = %v, want %v", used, wantFormat)
			}

			got := renderGolden(t, messages)
			path := filepath.Join("testdata", "golden", base+".golden")
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("parsed messages differ from %s (run with -update to rewrite):\n%s", path, got)
			}
		})
	}
}

// goldenMessage is Message with the arrival time in UTC, so that golden
// files do not depend on the local time zone.
type goldenMessage struct {
	Queue        string
	ID           string
	ArrivalTime  string
	Size         int64
	ForcedExpire bool
	Sender       string
	Recipients   []Recipient
}

// renderGolden writes one JSON object per message and line.
func renderGolden(t *testing.T, messages []Message) []byte {
	t.Helper()
	var out bytes.Buffer
	encoder := json.NewEncoder(&out)
	encoder.SetEscapeHTML(false)
	for _, m := range messages {
		err := encoder.Encode(goldenMessage{
			Queue:        m.Queue,
			ID:           m.ID,
			ArrivalTime:  m.ArrivalTime.UTC().Format(time.RFC3339),
			Size:         m.Size,
			ForcedExpire: m.ForcedExpire,
			Sender:       m.Sender,
			Recipients:   m.Recipients,
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return out.Bytes()
}
