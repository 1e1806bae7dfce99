package postfix

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/postfix-queue-exporter/postfix_queue_exporter/parser"
)

// fakePostqueue writes a postqueue stand-in with recordingPostqueue that
// prints the listing in testdata/flush/listing.jsonl for -j, and otherwise
// runs body. It returns the script's path and a function that returns the
// argument lines so far.
func fakePostqueue(t *testing.T, body string) (string, func() []string) {
	t.Helper()
	listing, err := filepath.Abs("testdata/flush/listing.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	path, calls := recordingPostqueue(t, fmt.Sprintf("for arg; do [ \"$arg\" = -j ] && exec cat %q; done\n%s", listing, body))
	return path, func() []string { return readCalls(t, calls) }
}

func newTestFlusher(path string) *Flusher {
	return &Flusher{Path: path, Runner: &Runner{Timeout: 10 * time.Second}}
}

func TestFlusherCommands(t *testing.T) {
	tests := []struct {
		name      string
		configDir string
		flush     func(f *Flusher) (*FlushResult, error)
		wantArgs  string
	}{
		{name: "flush", flush: func(f *Flusher) (*FlushResult, error) { return f.Flush(context.Background()) },
			wantArgs: "-f"},
		{name: "site", flush: func(f *Flusher) (*FlushResult, error) {
			return f.FlushSite(context.Background(), "flush.example.test")
		}, wantArgs: "-s flush.example.test"},
		{name: "queue id", flush: func(f *Flusher) (*FlushResult, error) {
			return f.FlushQueueID(context.Background(), "4jgvV55S19z5g1Y")
		}, wantArgs: "-i 4jgvV55S19z5g1Y"},
		{name: "config dir", configDir: "/etc/postfix-lab2",
			flush:    func(f *Flusher) (*FlushResult, error) { return f.Flush(context.Background()) },
			wantArgs: "-c /etc/postfix-lab2 -f"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path, calls := fakePostqueue(t, "exit 0")
			f := newTestFlusher(path)
			f.ConfigDir = tt.configDir
			result, err := tt.flush(f)
			if err != nil {
				t.Fatalf("flush: %v", err)
			}
			if want := path + " " + tt.wantArgs; result.Command != want {
				t.Errorf("Command = %q, want %q", result.Command, want)
			}
			if got := calls(); len(got) != 1 || got[0] != tt.wantArgs {
				t.Errorf("postqueue ran with %q, want [%q]", got, tt.wantArgs)
			}
		})
	}
}

func TestFlusherErrors(t *testing.T) {
	tests := []struct {
		name         string
		body         string
		wantKind     Kind
		wantRejected bool
	}{
		{
			name:         "not configured",
			body:         `echo 'postqueue: fatal: Flush service is not configured for destination "example.net"' >&2; exit 69`,
			wantKind:     KindExec,
			wantRejected: true,
		},
		{
			name:         "invalid request",
			body:         `echo 'postqueue: fatal: Invalid request: "a b"' >&2; exit 64`,
			wantKind:     KindExec,
			wantRejected: true,
		},
		{
			name:     "not allowed",
			body:     `echo 'postqueue: fatal: User promexp(999) is not allowed to flush the mail queue' >&2; exit 69`,
			wantKind: KindPermission,
		},
		{
			name:     "mail system down",
			body:     `echo 'postqueue: fatal: Cannot flush mail queue - mail system is down' >&2; exit 69`,
			wantKind: KindMailSystemDown,
		},
		{
			name:     "other failure",
			body:     `echo 'postqueue: fatal: out of memory' >&2; exit 75`,
			wantKind: KindExec,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path, _ := fakePostqueue(t, tt.body)
			result, err := newTestFlusher(path).FlushSite(context.Background(), "example.net")
			if err == nil {
				t.Fatal("FlushSite succeeded, want an error")
			}
			if kind := KindOf(err); kind != tt.wantKind {
				t.Errorf("KindOf = %q, want %q (%v)", kind, tt.wantKind, err)
			}
			if got := FlushRejected(err); got != tt.wantRejected {
				t.Errorf("FlushRejected = %v, want %v (%v)", got, tt.wantRejected, err)
			}
			if result == nil || result.Result == nil || result.Stderr == "" {
				t.Errorf("result %+v lacks postqueue's stderr", result)
			}
		})
	}
}

func TestFlusherTimeout(t *testing.T) {
	path, _ := fakePostqueue(t, "exec sleep 30")
	f := newTestFlusher(path)
	f.Runner.Timeout = 50 * time.Millisecond
	_, err := f.Flush(context.Background())
	if kind := KindOf(err); kind != KindTimeout {
		t.Errorf("KindOf = %q, want %q (%v)", kind, KindTimeout, err)
	}
}

func TestFlusherMissingBinary(t *testing.T) {
	f := newTestFlusher(filepath.Join(t.TempDir(), "postqueue"))
	result, err := f.Flush(context.Background())
	if kind := KindOf(err); err == nil || kind != KindExec {
		t.Errorf("err = %v (kind %q), want a %q error", err, kind, KindExec)
	}
	if result == nil || result.Command == "" {
		t.Errorf("result %+v lacks the command", result)
	}
}

func TestFlushQueueIDChecksQueue(t *testing.T) {
	tests := []struct {
		name      string
		id        string
		wantErr   error
		wantQueue string // of a *NotDeferredError
		wantCalls []string
	}{
		{name: "deferred", id: "4jgvV55S19z5g1Y", wantCalls: []string{"-j", "-i 4jgvV55S19z5g1Y"}},
		{name: "held", id: "4jgvV561p4z5g2F", wantQueue: parser.QueueHold, wantCalls: []string{"-j"}},
		{name: "active", id: "4jgvV567bWz5g2H", wantQueue: parser.QueueActive, wantCalls: []string{"-j"}},
		{name: "not in queue", id: "4jgvV55S19z5g1Z", wantErr: ErrNotInQueue, wantCalls: []string{"-j"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path, calls := fakePostqueue(t, "exit 0")
			f := newTestFlusher(path)
			f.Lister = &Postqueue{Path: path, Format: parser.FormatJSON, Runner: f.Runner}
			result, err := f.FlushQueueID(context.Background(), tt.id)
			ran := len(tt.wantCalls) == 2
			if got := result.Command != ""; got != ran {
				t.Errorf("Command = %q, want one only when the flush ran", result.Command)
			}

			var notDeferred *NotDeferredError
			switch {
			case tt.wantQueue != "":
				if !errors.As(err, &notDeferred) {
					t.Fatalf("err = %v, want a *NotDeferredError", err)
				}
				if notDeferred.Queue != tt.wantQueue {
					t.Errorf("Queue = %q, want %q", notDeferred.Queue, tt.wantQueue)
				}
			case !errors.Is(err, tt.wantErr):
				t.Errorf("err = %v, want %v", err, tt.wantErr)
			}
			if got := calls(); strings.Join(got, "|") != strings.Join(tt.wantCalls, "|") {
				t.Errorf("postqueue ran with %q, want %q", got, tt.wantCalls)
			}
		})
	}
}

func TestFlusherRejectsOptionLikeArguments(t *testing.T) {
	tests := []struct {
		name  string
		flush func(f *Flusher) error
	}{
		{name: "site option", flush: func(f *Flusher) error {
			_, err := f.FlushSite(context.Background(), "-x")
			return err
		}},
		{name: "empty site", flush: func(f *Flusher) error {
			_, err := f.FlushSite(context.Background(), "")
			return err
		}},
		{name: "queue id option", flush: func(f *Flusher) error {
			_, err := f.FlushQueueID(context.Background(), "-f")
			return err
		}},
		{name: "queue id NUL", flush: func(f *Flusher) error {
			_, err := f.FlushQueueID(context.Background(), "ABC\x00DEF")
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path, calls := fakePostqueue(t, "exit 0")
			if err := tt.flush(newTestFlusher(path)); err == nil {
				t.Error("flush succeeded, want an error")
			}
			if got := calls(); len(got) != 0 {
				t.Errorf("postqueue ran with %q, want no run", got)
			}
		})
	}
}
