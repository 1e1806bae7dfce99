// Package queue turns a queue listing into per-queue statistics, and shares
// and caches listings so that scrapes do not multiply the load on Postfix.
package queue

import (
	"time"

	"github.com/postfix-queue-exporter/postfix_queue_exporter/parser"
)

// Stats sums up the messages of one queue.
type Stats struct {
	Messages   int64
	Bytes      int64
	Recipients int64
	Oldest     time.Time // arrival time of the oldest message; zero for an empty queue
}

// Snapshot is the state of every queue of one Postfix instance, taken from
// one complete listing.
type Snapshot struct {
	Time     time.Time         // when the listing finished
	Duration time.Duration     // how long running and parsing the listing took
	Format   parser.Format     // the listing format that was read
	Queues   map[string]*Stats // one entry for every name in parser.Queues
	// MailSystemDown is set when the listing is complete but Postfix is
	// not running (postqueue read the queue files directly, as root).
	MailSystemDown bool
}

// OldestAge returns how long the oldest message of the queue had waited when
// the snapshot was taken, or 0 for an empty queue. Arrival times in the
// future, from clock skew, count as 0.
func (s *Snapshot) OldestAge(queue string) time.Duration {
	stats := s.Queues[queue]
	if stats == nil || stats.Oldest.IsZero() {
		return 0
	}
	return max(s.Time.Sub(stats.Oldest), 0)
}

// Aggregator adds messages up into a Snapshot.
type Aggregator struct {
	queues map[string]*Stats
}

// NewAggregator returns an Aggregator with every queue at zero.
func NewAggregator() *Aggregator {
	queues := make(map[string]*Stats, len(parser.Queues))
	for _, name := range parser.Queues {
		queues[name] = &Stats{}
	}
	return &Aggregator{queues: queues}
}

// Add counts one message. It has the signature of parser.Handler and keeps
// nothing of m.
func (a *Aggregator) Add(m *parser.Message) error {
	stats, ok := a.queues[m.Queue]
	if !ok {
		// The parsers only report the five known queue names; a new name
		// from a future Postfix gets its own entry rather than being lost.
		stats = &Stats{}
		a.queues[m.Queue] = stats
	}
	stats.Messages++
	stats.Bytes += m.Size
	stats.Recipients += int64(len(m.Recipients))
	if stats.Oldest.IsZero() || m.ArrivalTime.Before(stats.Oldest) {
		stats.Oldest = m.ArrivalTime
	}
	return nil
}

// Queues returns the statistics gathered so far, by queue name.
func (a *Aggregator) Queues() map[string]*Stats {
	return a.queues
}
