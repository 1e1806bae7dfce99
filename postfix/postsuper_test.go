package postfix

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The captures in testdata/postsuper were made by testdata/postsuper/capture.sh
// on the Postfix 3.7.11 lab.
func readCapture(t *testing.T, name string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "postsuper", name+".stderr"))
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func TestParsePostsuperOutputCaptures(t *testing.T) {
	tests := []struct {
		capture  string
		op       Operation
		affected int
		ids      int
		warnings int
	}{
		{"delete-one", OpDelete, 1, 1, 0},
		{"delete-two", OpDelete, 2, 2, 0},
		{"delete-unknown", OpDelete, 0, 0, 0},
		{"delete-from-hold", OpDelete, 1, 1, 0},
		{"delete-from-maildrop", OpDelete, 1, 1, 0},
		{"delete-bad-id", OpDelete, 0, 0, 1},
		{"hold-one", OpHold, 1, 1, 0},
		{"hold-two", OpHold, 2, 2, 0},
		{"hold-again", OpHold, 0, 0, 0},
		{"hold-from-hold", OpHold, 0, 0, 0},
		{"hold-from-maildrop", OpHold, 0, 0, 0},
		{"release-one", OpRelease, 1, 1, 0},
		{"release-two", OpRelease, 2, 2, 0},
		{"release-from-deferred", OpRelease, 0, 0, 0},
		{"requeue-one", OpRequeue, 1, 1, 0},
		{"requeue-two", OpRequeue, 2, 2, 0},
		{"requeue-from-hold", OpRequeue, 1, 1, 0},
		{"requeue-from-maildrop", OpRequeue, 0, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.capture, func(t *testing.T) {
			stderr := readCapture(t, tt.capture)
			got, err := ParsePostsuperOutput(tt.op, stderr)
			if err != nil {
				t.Fatalf("ParsePostsuperOutput: %v", err)
			}
			if got.Affected != tt.affected {
				t.Errorf("Affected = %d, want %d", got.Affected, tt.affected)
			}
			if len(got.IDs) != tt.ids {
				t.Errorf("IDs = %q, want %d ids", got.IDs, tt.ids)
			}
			for _, id := range got.IDs {
				if !strings.Contains(stderr, "postsuper: "+id+": ") {
					t.Errorf("id %q is not in the capture", id)
				}
			}
			if len(got.Warnings) != tt.warnings {
				t.Errorf("Warnings = %q, want %d", got.Warnings, tt.warnings)
			}
		})
	}
}

func TestParsePostsuperOutputBadWarning(t *testing.T) {
	got, err := ParsePostsuperOutput(OpDelete, readCapture(t, "delete-bad-id"))
	if err != nil {
		t.Fatal(err)
	}
	want := "postsuper: warning: invalid mail queue id: ../x"
	if len(got.Warnings) != 1 || got.Warnings[0] != want {
		t.Errorf("Warnings = %q, want [%q]", got.Warnings, want)
	}
}

func TestParsePostsuperOutputErrors(t *testing.T) {
	tests := []struct {
		name   string
		op     Operation
		stderr string
		want   string
	}{
		{"empty", OpDelete, "", `no "Deleted: N messages" count line`},
		{"other operation", OpHold, "postsuper: Deleted: 1 message\n", `no "Placed on hold: N messages"`},
		{"two counts", OpDelete, "postsuper: Deleted: 1 message\npostsuper: Deleted: 1 message\n", "two count lines"},
		{"not a number", OpDelete, "postsuper: Deleted: one message\n", `count "one" is not a number`},
		{"negative", OpDelete, "postsuper: Deleted: -1 messages\n", `count "-1" is not a number`},
		{"wrong noun", OpRequeue, "postsuper: Requeued: 3 files\n", `got "files"`},
		{"no noun", OpRequeue, "postsuper: Requeued: 3\n", `got ""`},
		{"unknown operation", Operation("-e"), "postsuper: Deleted: 1 message\n", `unknown postsuper operation "-e"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParsePostsuperOutput(tt.op, tt.stderr)
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
		})
	}
}

func TestParsePostsuperOutputOtherProgramName(t *testing.T) {
	stderr := "postfix-lab2/postsuper: 3F745C00AB: requeued\npostfix-lab2/postsuper: Requeued: 1 message\n"
	got, err := ParsePostsuperOutput(OpRequeue, stderr)
	if err != nil {
		t.Fatal(err)
	}
	if got.Affected != 1 {
		t.Errorf("Affected = %d, want 1", got.Affected)
	}
	if len(got.IDs) != 1 || got.IDs[0] != "3F745C00AB" {
		t.Errorf("IDs = %q, want [3F745C00AB]", got.IDs)
	}
}

// fakePostsuper returns a Postsuper that runs testdata/postsuper/fake.sh,
// which replays capture and records its arguments and stdin in the returned
// file.
func fakePostsuper(t *testing.T, capture string) (*Postsuper, string) {
	t.Helper()
	record := filepath.Join(t.TempDir(), "record")
	fake, err := filepath.Abs(filepath.Join("testdata", "postsuper", "fake.sh"))
	if err != nil {
		t.Fatal(err)
	}
	return &Postsuper{
		Command: []string{"/bin/sh", fake, capture, record},
		Runner:  &Runner{Timeout: 10 * time.Second},
	}, record
}

func readRecord(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func TestPostsuperRun(t *testing.T) {
	p, record := fakePostsuper(t, "delete-two")
	got, err := p.Run(context.Background(), OpDelete, "deferred", []string{"6E724C00D7", "70CA3C00D6"})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if got.Affected != 2 {
		t.Errorf("Affected = %d, want 2", got.Affected)
	}
	if len(got.Commands) != 1 || !strings.HasSuffix(got.Commands[0], " -d - deferred") {
		t.Errorf("Commands = %q, want one ending in -d - deferred", got.Commands)
	}
	want := "args: -d - deferred\n6E724C00D7\n70CA3C00D6\n"
	if rec := readRecord(t, record); rec != want {
		t.Errorf("postsuper got %q, want %q", rec, want)
	}
}

func TestPostsuperRunConfigDir(t *testing.T) {
	p, record := fakePostsuper(t, "release-one")
	p.ConfigDir = "/etc/postfix-lab2"
	if _, err := p.Run(context.Background(), OpRelease, "hold", []string{"6E724C00D7"}); err != nil {
		t.Fatalf("Run: %v", err)
	}
	want := "args: -c /etc/postfix-lab2 -H - hold\n6E724C00D7\n"
	if rec := readRecord(t, record); rec != want {
		t.Errorf("postsuper got %q, want %q", rec, want)
	}
}

func TestPostsuperRunBatches(t *testing.T) {
	p, record := fakePostsuper(t, "requeue-two")
	ids := make([]string, 2*PostsuperBatch+1)
	for i := range ids {
		ids[i] = fmt.Sprintf("%010X", i)
	}
	got, err := p.Run(context.Background(), OpRequeue, "deferred", ids)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if len(got.Commands) != 3 {
		t.Errorf("ran %d commands, want 3", len(got.Commands))
	}
	// The fake reports 2 messages per run.
	if got.Affected != 6 {
		t.Errorf("Affected = %d, want 6", got.Affected)
	}
	rec := readRecord(t, record)
	if n := strings.Count(rec, "args: -r - deferred\n"); n != 3 {
		t.Errorf("record has %d runs, want 3", n)
	}
	if n := strings.Count(rec, "\n") - 3; n != len(ids) {
		t.Errorf("stdin carried %d ids, want %d", n, len(ids))
	}
	if !strings.Contains(rec, "\n"+ids[len(ids)-1]+"\n") {
		t.Errorf("last id %s was not sent", ids[len(ids)-1])
	}
}

func TestPostsuperRunFailures(t *testing.T) {
	tests := []struct {
		capture string
		kind    Kind
		stderr  string
	}{
		{"delete-nonroot", KindPermission, "use of this command is reserved for the superuser"},
		{"sudo-no-rule", KindPermission, "sudo: a password is required"},
		{"delete-bad-queue", KindExec, "invalid directory name: bogus"},
	}
	for _, tt := range tests {
		t.Run(tt.capture, func(t *testing.T) {
			p, _ := fakePostsuper(t, tt.capture)
			_, err := p.Run(context.Background(), OpDelete, "deferred", []string{"6E724C00D7"})
			if err == nil {
				t.Fatal("no error")
			}
			if got := KindOf(err); got != tt.kind {
				t.Errorf("kind = %s, want %s", got, tt.kind)
			}
			if !strings.Contains(err.Error(), tt.stderr) {
				t.Errorf("error %q does not contain %q", err, tt.stderr)
			}
		})
	}
}

func TestPostsuperRunNoCountLine(t *testing.T) {
	// A release run whose output is that of a hold run lacks the count
	// line a release prints.
	p, _ := fakePostsuper(t, "hold-one")
	_, err := p.Run(context.Background(), OpRelease, "hold", []string{"6E724C00D7"})
	if got := KindOf(err); err == nil || got != KindParse {
		t.Errorf("error %v of kind %s, want kind %s", err, got, KindParse)
	}
}

func TestPostsuperRunInvalidArgs(t *testing.T) {
	tests := []struct {
		name  string
		op    Operation
		queue string
		ids   []string
		want  string
	}{
		{"unknown operation", Operation("-e"), "deferred", []string{"6E724C00D7"}, "unknown postsuper operation"},
		{"unknown queue", OpDelete, "bogus", []string{"6E724C00D7"}, `invalid queue name "bogus"`},
		{"path as queue", OpDelete, "../deferred", []string{"6E724C00D7"}, "invalid queue name"},
		{"no ids", OpDelete, "deferred", nil, "no queue ids"},
		{"empty id", OpDelete, "deferred", []string{""}, "invalid queue id"},
		{"newline in id", OpDelete, "deferred", []string{"6E724C00D7\n70CA3C00D6"}, "invalid queue id"},
		{"option as id", OpDelete, "deferred", []string{"-s"}, "invalid queue id"},
		{"ALL", OpDelete, "deferred", []string{"6E724C00D7", "ALL"}, `invalid queue id "ALL"`},
		{"blank in id", OpDelete, "deferred", []string{"6E724C00D7 70CA3C00D6"}, "invalid queue id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, record := fakePostsuper(t, "delete-one")
			_, err := p.Run(context.Background(), tt.op, tt.queue, tt.ids)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one containing %q", err, tt.want)
			}
			if _, err := os.Stat(record); err == nil {
				t.Error("postsuper ran")
			}
		})
	}
}
