package queue

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/postfix-queue-exporter/postfix_queue_exporter/parser"
	"github.com/postfix-queue-exporter/postfix_queue_exporter/reason"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// captureTime is the arrival time of every message in the lab capture.
var captureTime = time.Unix(1796396015, 0)

// aggregateFile parses a saved `postqueue -j` listing through an Aggregator
// whose listing starts at start and ends at end.
func aggregateFile(t *testing.T, path string, options ShapeOptions, start, end time.Time) map[string]*Stats {
	t.Helper()
	file, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	aggregator := NewShapeAggregator(options, start)
	if err := parser.ParseJSON(file, aggregator.Add); err != nil {
		t.Fatalf("parse %s: %v", path, err)
	}
	return aggregator.Finish(end)
}

// dumpShapes writes the statistics of every queue in a stable text form.
func dumpShapes(queues map[string]*Stats) string {
	var b strings.Builder
	for _, name := range parser.Queues {
		stats := queues[name]
		shape := stats.Shape
		fmt.Fprintf(&b, "queue %s: messages %d, bytes %d, recipients %d, bounces %d, forced expire %d\n",
			name, stats.Messages, stats.Bytes, stats.Recipients, shape.Bounces, shape.ForcedExpire)
		for _, h := range []struct {
			name string
			h    Histogram
		}{{"age", shape.Age}, {"size", shape.Size}} {
			fmt.Fprintf(&b, "  %s: count %d, sum %g, buckets", h.name, h.h.Count, h.h.Sum)
			for i, bound := range h.h.Bounds {
				fmt.Fprintf(&b, " %g:%d", bound, h.h.Cumulative[i])
			}
			b.WriteString("\n")
		}
		for _, d := range append(slices.Clone(shape.TopDomains), shape.OtherDomains) {
			fmt.Fprintf(&b, "  domain %s: messages %d, recipients %d\n", d.Domain, d.Messages, d.Recipients)
		}
		fmt.Fprintf(&b, "  domains exact: %v\n", shape.DomainsExact)
		var reasons []string
		for r, n := range shape.Reasons {
			if n > 0 {
				reasons = append(reasons, fmt.Sprintf("  reason %s %q: %d\n", r.Category, r.DSN, n))
			}
		}
		slices.Sort(reasons)
		b.WriteString(strings.Join(reasons, ""))
	}
	return b.String()
}

func compareGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal([]byte(got), want) {
		t.Errorf("%s differs from the output:\n%s", path, got)
	}
}

func TestShapeGolden(t *testing.T) {
	start := captureTime.Add(10 * time.Minute)
	end := start.Add(2 * time.Second)
	queues := aggregateFile(t, "testdata/final-state.postqueue-j.jsonl", DefaultShapeOptions(), start, end)
	compareGolden(t, "final-state.shape.golden", dumpShapes(queues))
}

func TestShapeCounts(t *testing.T) {
	start := captureTime.Add(10 * time.Minute)
	queues := aggregateFile(t, "testdata/final-state.postqueue-j.jsonl", DefaultShapeOptions(), start, start)
	deferred := queues[parser.QueueDeferred].Shape
	hold := queues[parser.QueueHold].Shape

	if deferred.Bounces != 2 {
		t.Errorf("deferred bounces = %d, want 2", deferred.Bounces)
	}
	if deferred.ForcedExpire != 1 {
		t.Errorf("deferred forced expire = %d, want 1", deferred.ForcedExpire)
	}
	if hold.ForcedExpire != 1 {
		t.Errorf("hold forced expire = %d, want 1", hold.ForcedExpire)
	}
	if n := deferred.Reasons[Reason{Category: reason.ConnectionRefused}]; n != 15 {
		t.Errorf("deferred connection_refused = %d, want 15", n)
	}
	if n := deferred.Reasons[Reason{Category: reason.Remote4xx, DSN: "4.3.0"}]; n != 3 {
		t.Errorf("deferred remote_4xx 4.3.0 = %d, want 3", n)
	}
	if n := deferred.Reasons[Reason{Category: reason.Other}]; n != 3 {
		t.Errorf("deferred other = %d, want 3 (the retry: transport)", n)
	}
	if n := deferred.Reasons[Reason{Category: reason.DeferredTransport}]; n != 1 {
		t.Errorf("deferred deferred_transport = %d, want 1", n)
	}
	// Ten minutes old: past the 5 minute bucket, within the 10 minute one.
	if deferred.Age.Cumulative[0] != 0 || deferred.Age.Cumulative[1] != 16 {
		t.Errorf("deferred age buckets = %v, want 0 then 16", deferred.Age.Cumulative[:2])
	}
}

func TestShapeRecipientsAddUp(t *testing.T) {
	options := DefaultShapeOptions()
	options.TopDomains = 2
	queues := aggregateFile(t, "testdata/final-state.postqueue-j.jsonl", options, captureTime, captureTime)
	for _, name := range parser.Queues {
		stats := queues[name]
		sum := stats.Shape.OtherDomains.Recipients
		for _, d := range stats.Shape.TopDomains {
			sum += d.Recipients
		}
		if sum != stats.Recipients {
			t.Errorf("queue %s: domain recipients add up to %d, want %d", name, sum, stats.Recipients)
		}
		if len(stats.Shape.TopDomains) > 2 {
			t.Errorf("queue %s: %d top domains, want at most 2", name, len(stats.Shape.TopDomains))
		}
	}
}

func TestReasonsZeroFilled(t *testing.T) {
	queues := NewShapeAggregator(DefaultShapeOptions(), captureTime).Finish(captureTime)
	for _, name := range parser.Queues {
		reasons := queues[name].Shape.Reasons
		for _, category := range reason.Categories {
			if n, found := reasons[Reason{Category: category}]; !found || n != 0 {
				t.Errorf("queue %s category %s = %d (present %v), want a zero", name, category, n, found)
			}
		}
	}
}

func TestReasonCounterCapsDSNs(t *testing.T) {
	counter := newReasonCounter()
	for i := range maxTrackedDSNs + 10 {
		dsn := fmt.Sprintf("4.%d.%d", i/1000, i%1000)
		// Code i gets i+1 recipients, so the last codes counted have the most.
		for range min(i+1, 50) {
			counter.add(Reason{Category: reason.Remote4xx, DSN: dsn})
		}
	}
	counts := counter.counts()

	dsns := 0
	var total int64
	for r, n := range counts {
		if r.DSN != "" {
			dsns++
		}
		total += n
	}
	if dsns != maxPublishedDSNs {
		t.Errorf("published %d codes, want %d", dsns, maxPublishedDSNs)
	}
	var want int64
	for i := range maxTrackedDSNs + 10 {
		want += int64(min(i+1, 50))
	}
	if total != want {
		t.Errorf("recipients add up to %d, want %d", total, want)
	}
}

func TestValidateShapeOptions(t *testing.T) {
	tests := []struct {
		name    string
		options ShapeOptions
		valid   bool
	}{
		{"defaults", DefaultShapeOptions(), true},
		{"no buckets", ShapeOptions{}, true},
		{"decreasing", ShapeOptions{AgeBuckets: []float64{60, 30}}, false},
		{"repeated", ShapeOptions{SizeBuckets: []float64{10, 10}}, false},
		{"zero", ShapeOptions{AgeBuckets: []float64{0}}, false},
		{"negative top", ShapeOptions{TopDomains: -1}, false},
		{"top too large", ShapeOptions{TopDomains: MaxTopDomains + 1}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.options.Validate()
			if (err == nil) != tt.valid {
				t.Errorf("Validate() = %v, want valid %v", err, tt.valid)
			}
		})
	}
}

// The parser reuses the memory of each message's strings, so whatever the
// aggregator keeps of a domain or a delay reason must be a copy. The later
// messages overwrite the strings of the first with text of the same length,
// which a kept string would then show.
func TestAggregatorCopiesParserStrings(t *testing.T) {
	listing := `{"queue_name": "deferred", "queue_id": "A1", "arrival_time": 1796395645, "message_size": 300, "sender": "s@example.org", "recipients": [{"address": "u@first.example", "delay_reason": "host mx.first.example[192.0.2.1] said: 450 4.7.1 greylisted, try again later (in reply to rcpt to command)"}]}
{"queue_name": "deferred", "queue_id": "A2", "arrival_time": 1796395645, "message_size": 300, "sender": "s@example.org", "recipients": [{"address": "u@other.example", "delay_reason": "host mx.other.example[192.0.2.2] said: 451 4.3.0 temporary failure, go later (in reply to rcpt to command)"}]}
{"queue_name": "deferred", "queue_id": "A3", "arrival_time": 1796395645, "message_size": 300, "sender": "s@example.org", "recipients": [{"address": "u@third.example", "delay_reason": "host mx.third.example[192.0.2.3] said: 452 4.2.2 mailbox is full, come later (in reply to rcpt to command)"}]}
`
	start := time.Unix(1796395700, 0)
	aggregator := NewShapeAggregator(DefaultShapeOptions(), start)
	// One byte per read makes the parser's buffer take each line where the
	// last one was.
	if err := parser.ParseJSON(iotest.OneByteReader(strings.NewReader(listing)), aggregator.Add); err != nil {
		t.Fatal(err)
	}
	shape := aggregator.Finish(start)[parser.QueueDeferred].Shape

	var domains []string
	for _, d := range shape.TopDomains {
		domains = append(domains, d.Domain)
	}
	slices.Sort(domains)
	if want := []string{"first.example", "other.example", "third.example"}; !slices.Equal(domains, want) {
		t.Errorf("top domains %q, want %q", domains, want)
	}

	for _, dsn := range []string{"4.7.1", "4.3.0", "4.2.2"} {
		found := false
		for r, n := range shape.Reasons {
			if r.DSN == dsn && n == 1 {
				found = true
			}
		}
		if !found {
			t.Errorf("no reason with DSN %s and 1 recipient in %v", dsn, shape.Reasons)
		}
	}
}
