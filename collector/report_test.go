package collector

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/go-kit/log"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/postfix-queue-exporter/postfix_queue_exporter/postfix"
	"github.com/postfix-queue-exporter/postfix_queue_exporter/queue"
)

// collectTimes runs n collections of c.
func collectTimes(t *testing.T, c *Collector, n int) {
	t.Helper()
	for range n {
		if testutil.CollectAndCount(c) == 0 {
			t.Fatal("collect sent no metrics")
		}
	}
}

func TestCollectorLogsSharedErrorOnce(t *testing.T) {
	var buf bytes.Buffer
	source := &fakeSource{err: &postfix.Error{Kind: postfix.KindTimeout, Command: "postqueue -j", Err: errors.New("timed out")}}
	c := New(log.NewLogfmtLogger(&buf), 0, Instance{Source: source})

	collectTimes(t, c, 3)
	if got := strings.Count(buf.String(), "Failed to read the mail queue"); got != 1 {
		t.Errorf("error logged %d times for one shared failure, want 1:\n%s", got, buf.String())
	}

	// A new failure is a new outcome and is logged again.
	source.err = &postfix.Error{Kind: postfix.KindTimeout, Command: "postqueue -j", Err: errors.New("timed out")}
	collectTimes(t, c, 2)
	if got := strings.Count(buf.String(), "Failed to read the mail queue"); got != 2 {
		t.Errorf("error logged %d times after a second failure, want 2:\n%s", got, buf.String())
	}
}

func TestCollectorLogsSnapshotWarningsOnce(t *testing.T) {
	var buf bytes.Buffer
	snapshot := &queue.Snapshot{Queues: map[string]*queue.Stats{}, Warnings: []string{"postqueue: warning: test"}}
	c := New(log.NewLogfmtLogger(&buf), 0, Instance{Source: &fakeSource{snapshot: snapshot}})

	collectTimes(t, c, 3)
	if got := strings.Count(buf.String(), "postqueue: warning: test"); got != 1 {
		t.Errorf("warning logged %d times for one cached snapshot, want 1:\n%s", got, buf.String())
	}
}
