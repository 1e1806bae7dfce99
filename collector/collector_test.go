package collector

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-kit/log"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/common/expfmt"

	"github.com/postfix-queue-exporter/postfix_queue_exporter/parser"
	"github.com/postfix-queue-exporter/postfix_queue_exporter/postfix"
	"github.com/postfix-queue-exporter/postfix_queue_exporter/queue"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/ from the current output")

// fakeSource returns a fixed snapshot or error and fixed counts.
type fakeSource struct {
	snapshot *queue.Snapshot
	err      error
	status   queue.Status
}

func (f *fakeSource) Snapshot(context.Context) (*queue.Snapshot, error) { return f.snapshot, f.err }
func (f *fakeSource) Status() queue.Status                              { return f.status }

var readTime = time.Date(2026, time.December, 4, 15, 0, 0, 0, time.UTC)

// fullSnapshot has mail in every queue.
func fullSnapshot() *queue.Snapshot {
	return &queue.Snapshot{
		Time:     readTime,
		Duration: 250 * time.Millisecond,
		Format:   parser.FormatJSON,
		Queues: map[string]*queue.Stats{
			parser.QueueMaildrop: {Messages: 3, Bytes: 812, Recipients: 4, Oldest: readTime.Add(-30 * time.Second)},
			parser.QueueIncoming: {Messages: 3, Bytes: 903, Recipients: 4, Oldest: readTime.Add(-2 * time.Minute)},
			parser.QueueActive:   {Messages: 2, Bytes: 580, Recipients: 2, Oldest: readTime.Add(-5 * time.Minute)},
			parser.QueueDeferred: {Messages: 13, Bytes: 1004811, Recipients: 21, Oldest: readTime.Add(-26 * time.Hour)},
			parser.QueueHold:     {Messages: 3, Bytes: 901, Recipients: 4, Oldest: readTime.Add(-90 * time.Minute)},
		},
	}
}

// emptySnapshot is a successful read of an empty queue, with only some
// queue names in the map: the collector fills in the others.
func emptySnapshot() *queue.Snapshot {
	return &queue.Snapshot{
		Time:     readTime,
		Duration: 4 * time.Millisecond,
		Format:   parser.FormatJSON,
		Queues:   map[string]*queue.Stats{parser.QueueDeferred: {}},
	}
}

func downSnapshot() *queue.Snapshot {
	snapshot := fullSnapshot()
	snapshot.MailSystemDown = true
	return snapshot
}

func errorCounts(counts map[postfix.Kind]uint64) map[postfix.Kind]uint64 {
	all := make(map[postfix.Kind]uint64, len(postfix.Kinds))
	for _, kind := range postfix.Kinds {
		all[kind] = counts[kind]
	}
	return all
}

var permissionError = &postfix.Error{
	Kind:    postfix.KindPermission,
	Command: "/usr/sbin/postqueue -j",
	Stderr:  "postqueue: fatal: User pqe-test(998) is not allowed to view the mail queue",
	Err:     errors.New("exit status 69"),
}

func TestCollectorGolden(t *testing.T) {
	tests := []struct {
		name      string
		instances []Instance
		wantLog   []string // substrings of the log
	}{
		{
			name: "all queues",
			instances: []Instance{{Name: "", Source: &fakeSource{
				snapshot: fullSnapshot(),
				status:   queue.Status{Errors: errorCounts(map[postfix.Kind]uint64{postfix.KindTimeout: 1}), LastSuccess: readTime},
			}}},
		},
		{
			name: "empty queue",
			instances: []Instance{{Name: "", Source: &fakeSource{
				snapshot: emptySnapshot(),
				status:   queue.Status{Errors: errorCounts(nil), LastSuccess: readTime},
			}}},
		},
		{
			// No queue series after a failed read, and no success
			// timestamp before the first success.
			name: "read failed",
			instances: []Instance{{Name: "", Source: &fakeSource{
				err: permissionError,
				status: queue.Status{
					Errors:    errorCounts(map[postfix.Kind]uint64{postfix.KindPermission: 3}),
					LastError: permissionError,
				},
			}}},
			wantLog: []string{"level=error", "reason=permission", "not allowed to view the mail queue"},
		},
		{
			name: "read failed after success",
			instances: []Instance{{Name: "", Source: &fakeSource{
				err: &postfix.Error{Kind: postfix.KindTimeout, Command: "/usr/sbin/postqueue -j", Err: errors.New("timed out after 10s")},
				status: queue.Status{
					Errors:      errorCounts(map[postfix.Kind]uint64{postfix.KindTimeout: 1}),
					LastSuccess: readTime.Add(-time.Minute),
				},
			}}},
			wantLog: []string{"level=error", "reason=timeout", "timed out after 10s"},
		},
		{
			// Postfix is stopped, but root read the queue files.
			name: "mail system down",
			instances: []Instance{{Name: "", Source: &fakeSource{
				snapshot: downSnapshot(),
				status:   queue.Status{Errors: errorCounts(map[postfix.Kind]uint64{postfix.KindMailSystemDown: 1}), LastSuccess: readTime},
			}}},
			wantLog: []string{"level=warn", "Postfix is not running"},
		},
		{
			name: "two instances",
			instances: []Instance{
				{Name: "/etc/postfix", Source: &fakeSource{
					snapshot: fullSnapshot(),
					status:   queue.Status{Errors: errorCounts(nil), LastSuccess: readTime},
				}},
				{Name: "/etc/postfix-lab2", Source: &fakeSource{
					err:    permissionError,
					status: queue.Status{Errors: errorCounts(map[postfix.Kind]uint64{postfix.KindPermission: 1})},
				}},
			},
			wantLog: []string{"level=error", "instance=/etc/postfix-lab2", "reason=permission"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs bytes.Buffer
			collector := New(log.NewLogfmtLogger(log.NewSyncWriter(&logs)), time.Second, tt.instances...)
			checkGolden(t, collector, tt.name)

			for _, want := range tt.wantLog {
				if !strings.Contains(logs.String(), want) {
					t.Errorf("log does not contain %q:\n%s", want, logs.String())
				}
			}
		})
	}
}

// checkGolden compares the named metrics of collector, or all of them, with
// testdata/NAME.prom (blanks in name become dashes), after rewriting the
// file with -update, and reports what testutil.CollectAndLint finds.
func checkGolden(t *testing.T, collector prometheus.Collector, name string, metricNames ...string) {
	t.Helper()
	golden := filepath.Join("testdata", strings.ReplaceAll(name, " ", "-")+".prom")
	if *update {
		writeGolden(t, collector, golden)
	}
	expected, err := os.Open(golden)
	if err != nil {
		t.Fatalf("%v (run go test ./collector/ -update to create it)", err)
	}
	defer expected.Close()
	if err := testutil.CollectAndCompare(collector, expected, metricNames...); err != nil {
		t.Errorf("output differs from %s (rerun with -update if the change is intended):\n%v", golden, err)
	}

	problems, err := testutil.CollectAndLint(collector)
	if err != nil {
		t.Fatalf("CollectAndLint: %v", err)
	}
	for _, problem := range problems {
		t.Errorf("lint: %s: %s", problem.Metric, problem.Text)
	}
}

// writeGolden gathers the collector through a pedantic registry, which
// also checks that every metric matches a described descriptor, and writes
// the text exposition to path.
func writeGolden(t *testing.T, collector prometheus.Collector, path string) {
	t.Helper()
	registry := prometheus.NewPedanticRegistry()
	registry.MustRegister(collector)
	families, err := registry.Gather()
	if err != nil {
		t.Fatalf("Gather: %v", err)
	}
	var out bytes.Buffer
	encoder := expfmt.NewEncoder(&out, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, family := range families {
		if err := encoder.Encode(family); err != nil {
			t.Fatalf("Encode: %v", err)
		}
	}
	if err := os.WriteFile(path, out.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestCollectorPedantic(t *testing.T) {
	// A pedantic registry fails Gather when a metric does not match the
	// descriptors that Describe sent.
	success := &fakeSource{snapshot: fullSnapshot(), status: queue.Status{Errors: errorCounts(nil), LastSuccess: readTime}}
	failure := &fakeSource{err: permissionError, status: queue.Status{Errors: errorCounts(nil)}}
	tests := map[string][]Instance{
		"one success":   {{Source: success}},
		"one failure":   {{Source: failure}},
		"two instances": {{Name: "/etc/postfix", Source: success}, {Name: "/etc/postfix-lab2", Source: failure}},
	}
	for name, instances := range tests {
		t.Run(name, func(t *testing.T) {
			registry := prometheus.NewPedanticRegistry()
			registry.MustRegister(New(log.NewNopLogger(), 0, instances...), NewBuildInfo())
			if _, err := registry.Gather(); err != nil {
				t.Errorf("Gather: %v", err)
			}
		})
	}
}

func TestCollectorInstanceLabel(t *testing.T) {
	source := &fakeSource{snapshot: fullSnapshot(), status: queue.Status{Errors: errorCounts(nil), LastSuccess: readTime}}
	tests := []struct {
		name      string
		instances []Instance
		want      bool
	}{
		{name: "one instance", instances: []Instance{{Name: "/etc/postfix", Source: source}}, want: false},
		{name: "two instances", instances: []Instance{{Name: "/etc/postfix", Source: source}, {Name: "/etc/postfix-b", Source: source}}, want: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			registry := prometheus.NewRegistry()
			registry.MustRegister(New(log.NewNopLogger(), 0, tt.instances...))
			families, err := registry.Gather()
			if err != nil {
				t.Fatalf("Gather: %v", err)
			}
			for _, family := range families {
				for _, metric := range family.GetMetric() {
					has := false
					for _, pair := range metric.GetLabel() {
						has = has || pair.GetName() == InstanceLabel
					}
					if has != tt.want {
						t.Errorf("%s: %s label present: %t, want %t", family.GetName(), InstanceLabel, has, tt.want)
					}
				}
			}
		})
	}
}

func TestBuildInfo(t *testing.T) {
	problems, err := testutil.CollectAndLint(NewBuildInfo())
	if err != nil {
		t.Fatalf("CollectAndLint: %v", err)
	}
	for _, problem := range problems {
		t.Errorf("lint: %s: %s", problem.Metric, problem.Text)
	}
	if got := testutil.CollectAndCount(NewBuildInfo(), "postfix_exporter_build_info"); got != 1 {
		t.Errorf("postfix_exporter_build_info series = %d, want 1", got)
	}
}
