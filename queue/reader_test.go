package queue

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/postfix-queue-exporter/postfix_queue_exporter/parser"
	"github.com/postfix-queue-exporter/postfix_queue_exporter/postfix"
)

// fakeLister hands messages to the handler and then returns result and err.
type fakeLister struct {
	messages []*parser.Message
	result   *postfix.ListResult
	err      error
}

func (f *fakeLister) List(_ context.Context, h parser.Handler) (*postfix.ListResult, error) {
	for _, m := range f.messages {
		if err := h(m); err != nil {
			return nil, err
		}
	}
	return f.result, f.err
}

// steppingClock returns start, then start plus step, and so on.
func steppingClock(start time.Time, step time.Duration) func() time.Time {
	next := start
	return func() time.Time {
		now := next
		next = next.Add(step)
		return now
	}
}

func TestReaderSnapshot(t *testing.T) {
	lister := &fakeLister{
		messages: []*parser.Message{
			message(parser.QueueDeferred, 300, base.Add(-time.Hour), 2),
			message(parser.QueueHold, 200, base.Add(-time.Minute), 1),
		},
		result: &postfix.ListResult{Format: parser.FormatText, MailSystemDown: true, Result: &postfix.Result{}},
	}
	reader := &Reader{Lister: lister, Now: steppingClock(base, 250*time.Millisecond)}

	snapshot, err := reader.Snapshot(context.Background())

	if err != nil {
		t.Fatalf("Snapshot: %v", err)
	}
	if want := base.Add(250 * time.Millisecond); !snapshot.Time.Equal(want) {
		t.Errorf("Time = %v, want the end of the listing %v", snapshot.Time, want)
	}
	if snapshot.Duration != 250*time.Millisecond {
		t.Errorf("Duration = %v, want 250ms", snapshot.Duration)
	}
	if snapshot.Format != parser.FormatText {
		t.Errorf("Format = %v, want text", snapshot.Format)
	}
	if !snapshot.MailSystemDown {
		t.Error("MailSystemDown = false, want the listing's true")
	}
	if got := snapshot.Queues[parser.QueueDeferred].Messages; got != 1 {
		t.Errorf("deferred messages = %d, want 1", got)
	}
	if got := snapshot.Queues[parser.QueueHold].Bytes; got != 200 {
		t.Errorf("hold bytes = %d, want 200", got)
	}
	if stats := snapshot.Queues[parser.QueueActive]; stats == nil || stats.Messages != 0 {
		t.Errorf("active = %+v, want present and empty", stats)
	}
}

func TestReaderSnapshotError(t *testing.T) {
	failure := &postfix.Error{Kind: postfix.KindParse, Command: "postqueue -j", Err: errors.New("line 7: expected a JSON object")}
	lister := &fakeLister{
		// Messages before the failure must not reach any snapshot.
		messages: []*parser.Message{message(parser.QueueDeferred, 300, base, 1)},
		result:   &postfix.ListResult{Result: &postfix.Result{}},
		err:      failure,
	}
	reader := &Reader{Lister: lister}

	snapshot, err := reader.Snapshot(context.Background())

	if err != failure {
		t.Errorf("err = %v, want the lister's error", err)
	}
	if snapshot != nil {
		t.Errorf("snapshot = %+v, want nil after a failed listing", snapshot)
	}
}

// Totals of testdata/listing.jsonl and testdata/listing.txt, one 21-message
// queue listed by Postfix 3.7 in both formats.
var listingStats = map[string]Stats{
	parser.QueueActive:   {Messages: 2, Bytes: 580, Recipients: 2},
	parser.QueueDeferred: {Messages: 16, Bytes: 1032891, Recipients: 22},
	parser.QueueHold:     {Messages: 3, Bytes: 901, Recipients: 4},
}

func TestFileLister(t *testing.T) {
	jsonListing, err := os.ReadFile(filepath.Join("testdata", "listing.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		path       string
		stdin      string
		wantFormat parser.Format
		wantStats  map[string]Stats
	}{
		{name: "json file", path: "testdata/listing.jsonl", wantFormat: parser.FormatJSON, wantStats: listingStats},
		{name: "text file", path: "testdata/listing.txt", wantFormat: parser.FormatText, wantStats: listingStats},
		{name: "json stdin", path: "-", stdin: string(jsonListing), wantFormat: parser.FormatJSON, wantStats: listingStats},
		{name: "empty stdin", path: "-", stdin: "", wantFormat: parser.FormatJSON, wantStats: map[string]Stats{}},
		{name: "empty text queue", path: "-", stdin: "Mail queue is empty\n", wantFormat: parser.FormatText, wantStats: map[string]Stats{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lister := &FileLister{Path: tt.path, Stdin: strings.NewReader(tt.stdin)}
			reader := &Reader{Lister: lister}

			snapshot, err := reader.Snapshot(context.Background())

			if err != nil {
				t.Fatalf("Snapshot: %v", err)
			}
			if snapshot.Format != tt.wantFormat {
				t.Errorf("Format = %v, want %v", snapshot.Format, tt.wantFormat)
			}
			for _, name := range parser.Queues {
				got := statsWithoutHistograms(snapshot.Queues[name])
				got.Oldest = time.Time{}
				if want := tt.wantStats[name]; got != want {
					t.Errorf("queue %s = %+v, want %+v", name, got, want)
				}
			}
		})
	}
}

func TestFileListerErrors(t *testing.T) {
	tests := []struct {
		name     string
		path     string
		stdin    string
		wantKind postfix.Kind
		wantText string
	}{
		{name: "missing file", path: "testdata/no-such-listing", wantKind: postfix.KindExec, wantText: "no such file"},
		{name: "sendmail mailq", path: "testdata/sendmail-mailq.txt", wantKind: postfix.KindParse, wantText: "line 1"},
		{name: "truncated json", path: "-", stdin: `{"queue_name": "deferred", "queue_id": "34A4`, wantKind: postfix.KindParse, wantText: "line 1"},
		{name: "html", path: "-", stdin: "<html><body>502 Bad Gateway</body></html>\n", wantKind: postfix.KindParse, wantText: "line 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lister := &FileLister{Path: tt.path, Stdin: strings.NewReader(tt.stdin)}

			_, err := (&Reader{Lister: lister}).Snapshot(context.Background())

			if got := postfix.KindOf(err); got != tt.wantKind {
				t.Errorf("KindOf(err) = %q, want %q (err: %v)", got, tt.wantKind, err)
			}
			if err != nil && !strings.Contains(err.Error(), tt.wantText) {
				t.Errorf("error %q does not contain %q", err, tt.wantText)
			}
			if err != nil && !strings.Contains(err.Error(), tt.path) {
				t.Errorf("error %q does not name the input %s", err, tt.path)
			}
		})
	}
}

func TestFileListerStdinReadOnce(t *testing.T) {
	lister := &FileLister{Path: "-", Stdin: strings.NewReader("")}
	if _, err := lister.List(context.Background(), func(*parser.Message) error { return nil }); err != nil {
		t.Fatalf("first read: %v", err)
	}
	_, err := lister.List(context.Background(), func(*parser.Message) error { return nil })
	if err == nil {
		t.Fatal("second read of standard input succeeded, want an error instead of an empty queue")
	}
}

func TestFileListerEmptyInputWarns(t *testing.T) {
	lister := &FileLister{Path: "-", Stdin: strings.NewReader("")}
	result, err := lister.List(context.Background(), func(*parser.Message) error { return nil })
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	if len(result.Warnings) != 1 {
		t.Errorf("warnings = %q, want one about the empty listing", result.Warnings)
	}
}

func TestFileListerErrorKinds(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		path string
		want postfix.Kind
	}{
		{"missing", filepath.Join(dir, "missing.jsonl"), postfix.KindExec},
		{"directory", dir, postfix.KindExec},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lister := &FileLister{Path: tt.path}
			_, err := lister.List(context.Background(), func(*parser.Message) error { return nil })
			if got := postfix.KindOf(err); err == nil || got != tt.want {
				t.Errorf("error %v of kind %s, want kind %s", err, got, tt.want)
			}
		})
	}
}
