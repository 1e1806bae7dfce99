package queue

import (
	"testing"
	"time"

	"github.com/postfix-queue-exporter/postfix_queue_exporter/parser"
)

var base = time.Date(2026, time.December, 4, 15, 0, 0, 0, time.UTC)

func message(queue string, size int64, arrival time.Time, recipients int) *parser.Message {
	m := &parser.Message{Queue: queue, ID: "ID", Size: size, ArrivalTime: arrival, Sender: "alice@example.org"}
	for range recipients {
		m.Recipients = append(m.Recipients, parser.Recipient{Address: "bob@example.net"})
	}
	return m
}

func TestAggregatorAdd(t *testing.T) {
	tests := []struct {
		name     string
		messages []*parser.Message
		want     map[string]Stats
	}{
		{
			name: "empty",
			want: map[string]Stats{},
		},
		{
			name: "one queue",
			messages: []*parser.Message{
				message(parser.QueueDeferred, 300, base.Add(-time.Hour), 1),
				message(parser.QueueDeferred, 1000000, base.Add(-2*time.Hour), 5),
				message(parser.QueueDeferred, 0, base.Add(-30*time.Minute), 0),
			},
			want: map[string]Stats{
				parser.QueueDeferred: {Messages: 3, Bytes: 1000300, Recipients: 6, Oldest: base.Add(-2 * time.Hour)},
			},
		},
		{
			name: "every queue",
			messages: []*parser.Message{
				message(parser.QueueMaildrop, 10, base.Add(-1*time.Minute), 2),
				message(parser.QueueIncoming, 20, base.Add(-2*time.Minute), 1),
				message(parser.QueueActive, 30, base.Add(-3*time.Minute), 1),
				message(parser.QueueDeferred, 40, base.Add(-4*time.Minute), 3),
				message(parser.QueueHold, 50, base.Add(-5*time.Minute), 1),
				message(parser.QueueHold, 60, base.Add(-6*time.Minute), 1),
			},
			want: map[string]Stats{
				parser.QueueMaildrop: {Messages: 1, Bytes: 10, Recipients: 2, Oldest: base.Add(-1 * time.Minute)},
				parser.QueueIncoming: {Messages: 1, Bytes: 20, Recipients: 1, Oldest: base.Add(-2 * time.Minute)},
				parser.QueueActive:   {Messages: 1, Bytes: 30, Recipients: 1, Oldest: base.Add(-3 * time.Minute)},
				parser.QueueDeferred: {Messages: 1, Bytes: 40, Recipients: 3, Oldest: base.Add(-4 * time.Minute)},
				parser.QueueHold:     {Messages: 2, Bytes: 110, Recipients: 2, Oldest: base.Add(-6 * time.Minute)},
			},
		},
		{
			// A queue name that a later Postfix might add is counted
			// under its own name rather than dropped.
			name:     "unknown queue",
			messages: []*parser.Message{message("future", 70, base, 1)},
			want: map[string]Stats{
				"future": {Messages: 1, Bytes: 70, Recipients: 1, Oldest: base},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			aggregator := NewAggregator()
			for _, m := range tt.messages {
				if err := aggregator.Add(m); err != nil {
					t.Fatalf("Add: %v", err)
				}
			}

			queues := aggregator.Queues()
			for _, name := range parser.Queues {
				if queues[name] == nil {
					t.Errorf("queue %s is missing, want it present with zeros", name)
				}
			}
			for name, stats := range queues {
				if got, want := statsWithoutHistograms(stats), tt.want[name]; got != want {
					t.Errorf("queue %s = %+v, want %+v", name, got, want)
				}
			}
			for name := range tt.want {
				if queues[name] == nil {
					t.Errorf("queue %s is missing", name)
				}
			}
		})
	}
}

// statsWithoutHistograms returns the plain counters of s, so the
// comparison does not depend on distribution fields.
func statsWithoutHistograms(s *Stats) Stats {
	return Stats{Messages: s.Messages, Bytes: s.Bytes, Recipients: s.Recipients, Oldest: s.Oldest}
}

func TestAggregatorKeepsNoMessage(t *testing.T) {
	// Parsers reuse one Message for every line.
	aggregator := NewAggregator()
	m := message(parser.QueueActive, 100, base.Add(-time.Hour), 2)
	if err := aggregator.Add(m); err != nil {
		t.Fatalf("Add: %v", err)
	}

	m.Size = 999
	m.ArrivalTime = base.Add(-100 * time.Hour)
	m.Recipients = m.Recipients[:0]

	want := Stats{Messages: 1, Bytes: 100, Recipients: 2, Oldest: base.Add(-time.Hour)}
	if got := statsWithoutHistograms(aggregator.Queues()[parser.QueueActive]); got != want {
		t.Errorf("active = %+v after the message was reused, want %+v", got, want)
	}
}

func TestSnapshotOldestAge(t *testing.T) {
	snapshot := &Snapshot{
		Time: base,
		Queues: map[string]*Stats{
			parser.QueueDeferred: {Messages: 1, Oldest: base.Add(-90 * time.Minute)},
			parser.QueueActive:   {Messages: 1, Oldest: base.Add(time.Minute)},
			parser.QueueHold:     {},
		},
	}
	tests := []struct {
		queue string
		want  time.Duration
	}{
		{queue: parser.QueueDeferred, want: 90 * time.Minute},
		{queue: parser.QueueActive, want: 0}, // arrival in the future: clock skew
		{queue: parser.QueueHold, want: 0},   // empty
		{queue: parser.QueueIncoming, want: 0},
	}
	for _, tt := range tests {
		t.Run(tt.queue, func(t *testing.T) {
			if got := snapshot.OldestAge(tt.queue); got != tt.want {
				t.Errorf("OldestAge(%s) = %v, want %v", tt.queue, got, tt.want)
			}
		})
	}
}
