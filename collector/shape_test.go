package collector

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/go-kit/log"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"

	"github.com/postfix-queue-exporter/postfix_queue_exporter/parser"
	"github.com/postfix-queue-exporter/postfix_queue_exporter/queue"
	"github.com/postfix-queue-exporter/postfix_queue_exporter/reason"
)

// captureArrival is the arrival time of the messages in the lab captures.
var captureArrival = time.Unix(1796396015, 0)

// shapeMetrics are the names of the queue shape metrics.
var shapeMetrics = []string{
	"postfix_queue_message_age_seconds",
	"postfix_queue_message_size_bytes",
	"postfix_queue_recipient_domain_messages",
	"postfix_queue_recipient_domain_recipients",
	"postfix_queue_delay_reasons",
	"postfix_queue_bounce_messages",
	"postfix_queue_forced_expire_messages",
	"postfix_exporter_snapshot_age_seconds",
}

// listingSnapshot aggregates a saved `postqueue -j` listing into a Snapshot
// taken 10 minutes after the capture, with the listing running 2 seconds.
func listingSnapshot(t *testing.T, path string, options queue.ShapeOptions) *queue.Snapshot {
	t.Helper()
	file, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	start := captureArrival.Add(10 * time.Minute)
	end := start.Add(2 * time.Second)
	aggregator := queue.NewShapeAggregator(options, start)
	if err := parser.ParseJSON(file, aggregator.Add); err != nil {
		t.Fatalf("parse %s: %v", path, err)
	}
	return &queue.Snapshot{
		Time:     end,
		Duration: 2 * time.Second,
		Format:   parser.FormatJSON,
		Queues:   aggregator.Finish(end),
	}
}

func successSource(snapshot *queue.Snapshot) *fakeSource {
	return &fakeSource{snapshot: snapshot, status: queue.Status{Errors: errorCounts(nil), LastSuccess: snapshot.Time}}
}

func TestShapeGolden(t *testing.T) {
	options := queue.DefaultShapeOptions()
	options.TopDomains = 3
	mixed := listingSnapshot(t, "../queue/testdata/final-state.postqueue-j.jsonl", options)
	second := listingSnapshot(t, "../queue/testdata/instance2.postqueue-c-j.jsonl", options)
	tests := []struct {
		name      string
		instances []Instance
	}{
		{"shape one instance", []Instance{{Name: "/etc/postfix", Source: successSource(mixed)}}},
		{"shape two instances", []Instance{
			{Name: "/etc/postfix", Source: successSource(mixed)},
			{Name: "postfix-lab2", Source: successSource(second)},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			collector := New(log.NewNopLogger(), time.Second, tt.instances...)
			collector.SnapshotAge = true
			collector.Now = func() time.Time { return mixed.Time.Add(45 * time.Second) }
			checkGolden(t, collector, tt.name, shapeMetrics...)
		})
	}
}

func TestShapePedantic(t *testing.T) {
	snapshot := listingSnapshot(t, "../queue/testdata/final-state.postqueue-j.jsonl", queue.DefaultShapeOptions())
	for _, instances := range [][]Instance{
		{{Source: successSource(snapshot)}},
		{{Name: "a", Source: successSource(snapshot)}, {Name: "b", Source: successSource(snapshot)}},
	} {
		collector := New(log.NewNopLogger(), 0, instances...)
		collector.SnapshotAge = true
		registry := prometheus.NewPedanticRegistry()
		registry.MustRegister(collector)
		if _, err := registry.Gather(); err != nil {
			t.Errorf("Gather with %d instances: %v", len(instances), err)
		}
	}
}

func TestSnapshotAgeOnlyWhenEnabled(t *testing.T) {
	snapshot := listingSnapshot(t, "../queue/testdata/final-state.postqueue-j.jsonl", queue.DefaultShapeOptions())
	collector := New(log.NewNopLogger(), 0, Instance{Source: successSource(snapshot)})
	if n := testutil.CollectAndCount(collector, "postfix_exporter_snapshot_age_seconds"); n != 0 {
		t.Errorf("snapshot age series = %d without SnapshotAge, want 0", n)
	}
}

// distinctDomainListing returns a `postqueue -j` listing of deferred
// messages, each to its own domain and with its own enhanced status code
// (of 5,000 distinct ones), and a few messages to one heavy domain.
func distinctDomainListing(messages int) string {
	var b strings.Builder
	for i := range messages {
		fmt.Fprintf(&b, `{"queue_name": "deferred", "queue_id": "A%d", "arrival_time": 1796396015, `+
			`"message_size": 300, "forced_expire": false, "sender": "s@example.org", "recipients": [`+
			`{"address": "u@d%d.example", "delay_reason": "host mx[192.0.2.1] said: 450 4.%d.%d busy"}]}`+"\n",
			i, i, i%5000/1000, i%1000)
		if i%100 == 0 {
			fmt.Fprintf(&b, `{"queue_name": "deferred", "queue_id": "H%d", "arrival_time": 1796396015, `+
				`"message_size": 300, "forced_expire": false, "sender": "s@example.org", "recipients": [`+
				`{"address": "a@heavy.example"}, {"address": "b@heavy.example"}]}`+"\n", i)
		}
	}
	return b.String()
}

func TestShapeCardinalityCap(t *testing.T) {
	const messages = 100_000
	aggregator := queue.NewShapeAggregator(queue.DefaultShapeOptions(), captureArrival)
	if err := parser.ParseJSON(strings.NewReader(distinctDomainListing(messages)), aggregator.Add); err != nil {
		t.Fatal(err)
	}
	snapshot := &queue.Snapshot{Time: captureArrival, Queues: aggregator.Finish(captureArrival)}
	registry := prometheus.NewPedanticRegistry()
	registry.MustRegister(New(log.NewNopLogger(), 0, Instance{Source: successSource(snapshot)}))
	families, err := registry.Gather()
	if err != nil {
		t.Fatal(err)
	}

	heavyMessages := messages / 100
	wantRecipients := float64(messages + 2*heavyMessages)
	for _, family := range families {
		switch family.GetName() {
		case "postfix_queue_recipient_domain_recipients":
			deferred := seriesOfQueue(family, parser.QueueDeferred)
			if len(deferred) != queue.DefaultTopDomains+1 {
				t.Errorf("deferred domain series = %d, want %d", len(deferred), queue.DefaultTopDomains+1)
			}
			if got := sumValues(deferred); got != wantRecipients {
				t.Errorf("deferred domain recipients add up to %v, want %v", got, wantRecipients)
			}
			if !hasDomain(deferred, "heavy.example") {
				t.Errorf("heavy.example is not among the top domains")
			}
		case "postfix_queue_delay_reasons":
			deferred := seriesOfQueue(family, parser.QueueDeferred)
			if max := len(reason.Categories) + 20; len(deferred) > max {
				t.Errorf("deferred delay reason series = %d, want at most %d", len(deferred), max)
			}
			if got := sumValues(deferred); got != messages {
				t.Errorf("deferred delay reasons add up to %v, want %d", got, messages)
			}
		}
	}
}

func seriesOfQueue(family *dto.MetricFamily, name string) []*dto.Metric {
	var series []*dto.Metric
	for _, metric := range family.GetMetric() {
		if labelValue(metric, "queue") == name {
			series = append(series, metric)
		}
	}
	return series
}

func labelValue(metric *dto.Metric, name string) string {
	for _, pair := range metric.GetLabel() {
		if pair.GetName() == name {
			return pair.GetValue()
		}
	}
	return ""
}

func hasDomain(series []*dto.Metric, domain string) bool {
	for _, metric := range series {
		if labelValue(metric, "domain") == domain {
			return true
		}
	}
	return false
}

func sumValues(series []*dto.Metric) float64 {
	var sum float64
	for _, metric := range series {
		sum += metric.GetGauge().GetValue()
	}
	return sum
}
