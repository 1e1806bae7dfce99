package postfix

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/postfix-queue-exporter/postfix_queue_exporter/parser"
)

// recordingPostqueue writes a postqueue stand-in that appends its arguments to
// $DIR/calls, one run a line, and then runs body.
func recordingPostqueue(t *testing.T, body string) (path, calls string) {
	t.Helper()
	path = writeRunnerScript(t, `echo "$*" >> "$DIR/calls"`+"\n"+body)
	return path, filepath.Join(filepath.Dir(path), "calls")
}

// readCalls returns the argument lists the fake postqueue was run with.
func readCalls(t *testing.T, calls string) []string {
	t.Helper()
	data, err := os.ReadFile(calls)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
}

// queueTotals counts messages and recipients by queue.
type queueTotals map[string][2]int

func (q queueTotals) add(m *parser.Message) error {
	totals := q[m.Queue]
	totals[0]++
	totals[1] += len(m.Recipients)
	q[m.Queue] = totals
	return nil
}

func newPostqueue(path string, format parser.Format) *Postqueue {
	return &Postqueue{Path: path, Format: format, Runner: &Runner{Timeout: 10 * time.Second}}
}

// Totals of testdata/postqueue/listing.jsonl and listing.txt, the same 21
// messages listed by Postfix 3.7 in both formats.
var listingTotals = queueTotals{"active": {2, 2}, "deferred": {16, 22}, "hold": {3, 4}}

func TestPostqueueList(t *testing.T) {
	tests := []struct {
		name       string
		body       string
		format     parser.Format
		wantFormat parser.Format
		wantCalls  []string
		wantTotals queueTotals
		wantDown   bool
		wantWarn   string
	}{
		{
			name:       "json",
			body:       "cat " + testdataPath("listing.jsonl"),
			wantFormat: parser.FormatJSON,
			wantCalls:  []string{"-j"},
			wantTotals: listingTotals,
		},
		{
			name:       "text",
			body:       "cat " + testdataPath("listing.txt"),
			format:     parser.FormatText,
			wantFormat: parser.FormatText,
			wantCalls:  []string{"-p"},
			wantTotals: listingTotals,
		},
		{
			name:       "empty json",
			body:       "exit 0",
			wantFormat: parser.FormatJSON,
			wantCalls:  []string{"-j"},
			wantTotals: queueTotals{},
		},
		{
			name:       "empty text",
			body:       "echo 'Mail queue is empty'",
			format:     parser.FormatText,
			wantFormat: parser.FormatText,
			wantCalls:  []string{"-p"},
			wantTotals: queueTotals{},
		},
		{
			// As root, postqueue reads the queue files itself when
			// showq does not respond, and exits 0.
			name:       "mail system down as root",
			body:       "cat " + testdataPath("down-root.stderr") + " >&2; cat " + testdataPath("down-root.jsonl"),
			wantFormat: parser.FormatJSON,
			wantCalls:  []string{"-j"},
			wantTotals: queueTotals{"maildrop": {2, 2}, "deferred": {19, 26}},
			wantDown:   true,
			wantWarn:   "postqueue: warning: Mail system is down -- accessing queue directly",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path, calls := recordingPostqueue(t, tt.body)
			totals := queueTotals{}

			result, err := newPostqueue(path, tt.format).List(context.Background(), totals.add)

			if err != nil {
				t.Fatalf("List: %v", err)
			}
			if result.Format != tt.wantFormat {
				t.Errorf("Format = %v, want %v", result.Format, tt.wantFormat)
			}
			if got := readCalls(t, calls); fmt.Sprint(got) != fmt.Sprint(tt.wantCalls) {
				t.Errorf("postqueue runs = %q, want %q", got, tt.wantCalls)
			}
			if fmt.Sprint(totals) != fmt.Sprint(tt.wantTotals) {
				t.Errorf("messages and recipients by queue = %v, want %v", totals, tt.wantTotals)
			}
			if result.MailSystemDown != tt.wantDown {
				t.Errorf("MailSystemDown = %t, want %t", result.MailSystemDown, tt.wantDown)
			}
			if tt.wantWarn != "" && (len(result.Warnings) != 1 || !strings.HasPrefix(result.Warnings[0], tt.wantWarn)) {
				t.Errorf("Warnings = %q, want one line starting %q", result.Warnings, tt.wantWarn)
			}
			if tt.wantWarn == "" && len(result.Warnings) != 0 {
				t.Errorf("Warnings = %q, want none", result.Warnings)
			}
		})
	}
}

func TestPostqueueListErrors(t *testing.T) {
	tests := []struct {
		name       string
		body       string
		format     parser.Format
		wantKind   Kind
		wantStderr string
	}{
		{
			name:       "not allowed",
			body:       "cat " + testdataPath("not-allowed.stderr") + " >&2; exit 69",
			wantKind:   KindPermission,
			wantStderr: "is not allowed to view the mail queue",
		},
		{
			name:       "mail system down as non-root",
			body:       "cat " + testdataPath("down-nonroot.stderr") + " >&2; exit 69",
			wantKind:   KindMailSystemDown,
			wantStderr: "Queue report unavailable - mail system is down",
		},
		{
			name:     "sendmail mailq output",
			body:     "cat " + testdataPath("sendmail-mailq.txt"),
			wantKind: KindParse,
		},
		{
			name:     "sendmail mailq output as text",
			body:     "cat " + testdataPath("sendmail-mailq.txt"),
			format:   parser.FormatText,
			wantKind: KindParse,
		},
		{
			name:     "binary garbage",
			body:     "head -c 4096 /bin/sh",
			wantKind: KindParse,
		},
		{
			name:     "truncated json",
			body:     "head -c 500 " + testdataPath("listing.jsonl"),
			wantKind: KindParse,
		},
		{
			// Postfix 3.0 and earlier reject -j, but with -j forced
			// there is no fallback to -p.
			name:       "json forced and rejected",
			body:       "cat " + testdataPath("no-json-option.stderr") + " >&2; exit 64",
			format:     parser.FormatJSON,
			wantKind:   KindExec,
			wantStderr: "invalid option -- 'j'",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path, _ := recordingPostqueue(t, tt.body)
			messages := 0

			_, err := newPostqueue(path, tt.format).List(context.Background(), func(*parser.Message) error {
				messages++
				return nil
			})

			if got := KindOf(err); got != tt.wantKind {
				t.Errorf("KindOf(err) = %q, want %q (err: %v)", got, tt.wantKind, err)
			}
			var cmdErr *Error
			if !errors.As(err, &cmdErr) {
				t.Fatalf("err = %v (%T), want an *Error", err, err)
			}
			if !strings.Contains(cmdErr.Stderr, tt.wantStderr) {
				t.Errorf("Error.Stderr = %q, want it to contain %q", cmdErr.Stderr, tt.wantStderr)
			}
			if !strings.Contains(err.Error(), path) {
				t.Errorf("error %q does not name the command %s", err, path)
			}
		})
	}
}

func TestPostqueueMissingBinary(t *testing.T) {
	path := filepath.Join(t.TempDir(), "postqueue")

	_, err := newPostqueue(path, parser.FormatAuto).List(context.Background(), func(*parser.Message) error { return nil })

	if got := KindOf(err); got != KindExec {
		t.Errorf("KindOf(err) = %q, want %q (err: %v)", got, KindExec, err)
	}
}

func TestPostqueueFallbackToText(t *testing.T) {
	// Postfix 3.0 and earlier: getopt rejects -j and postqueue exits with
	// EX_USAGE (64) before listing anything.
	path, calls := recordingPostqueue(t, `
if [ "$1" = -j ]; then
	cat `+testdataPath("no-json-option.stderr")+` >&2
	exit 64
fi
cat `+testdataPath("listing.txt"))
	postqueue := newPostqueue(path, parser.FormatAuto)

	for run := 1; run <= 2; run++ {
		totals := queueTotals{}
		result, err := postqueue.List(context.Background(), totals.add)
		if err != nil {
			t.Fatalf("List run %d: %v", run, err)
		}
		if result.Format != parser.FormatText {
			t.Errorf("run %d: Format = %v, want text", run, result.Format)
		}
		if fmt.Sprint(totals) != fmt.Sprint(listingTotals) {
			t.Errorf("run %d: messages and recipients by queue = %v, want %v", run, totals, listingTotals)
		}
	}

	// The second List goes straight to -p.
	want := []string{"-j", "-p", "-p"}
	if got := readCalls(t, calls); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("postqueue runs = %q, want %q", got, want)
	}
}

func TestPostqueueNoFallbackOnFailure(t *testing.T) {
	// A -j run that fails for another reason must not switch the format:
	// -p would fail the same way, and the error would be hidden.
	path, calls := recordingPostqueue(t, "cat "+testdataPath("down-nonroot.stderr")+" >&2; exit 69")
	postqueue := newPostqueue(path, parser.FormatAuto)

	_, err := postqueue.List(context.Background(), func(*parser.Message) error { return nil })

	if got := KindOf(err); got != KindMailSystemDown {
		t.Errorf("KindOf(err) = %q, want %q (err: %v)", got, KindMailSystemDown, err)
	}
	want := []string{"-j"}
	if got := readCalls(t, calls); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("postqueue runs = %q, want %q", got, want)
	}
}

func TestPostqueueConfigDir(t *testing.T) {
	path, calls := recordingPostqueue(t, "exit 0")
	postqueue := newPostqueue(path, parser.FormatAuto)
	postqueue.ConfigDir = "/etc/postfix-lab2"

	if _, err := postqueue.List(context.Background(), func(*parser.Message) error { return nil }); err != nil {
		t.Fatalf("List: %v", err)
	}

	want := []string{"-c /etc/postfix-lab2 -j"}
	if got := readCalls(t, calls); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("postqueue runs = %q, want %q", got, want)
	}
}

func TestPostqueueTextOptions(t *testing.T) {
	// listing.txt has no years: its dates (Fri Dec  4) are placed in the
	// most recent year, before the reference time, in which they fall.
	path, _ := recordingPostqueue(t, "cat "+testdataPath("listing.txt"))
	postqueue := newPostqueue(path, parser.FormatText)
	reference := time.Date(2027, time.January, 2, 12, 0, 0, 0, time.UTC)
	postqueue.TextOptions = func() parser.TextOptions {
		return parser.TextOptions{Now: reference, Location: time.UTC}
	}

	var arrivals []time.Time
	_, err := postqueue.List(context.Background(), func(m *parser.Message) error {
		arrivals = append(arrivals, m.ArrivalTime)
		return nil
	})

	if err != nil {
		t.Fatalf("List: %v", err)
	}
	if len(arrivals) == 0 {
		t.Fatal("no messages listed")
	}
	for _, arrival := range arrivals {
		if arrival.Year() != 2026 || arrival.Month() != time.December || arrival.Day() != 4 {
			t.Errorf("arrival time %v, want 2026-12-04", arrival)
		}
	}
}
