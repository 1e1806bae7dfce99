// Package queue turns a queue listing into per-queue statistics, and shares
// and caches listings so that scrapes do not multiply the load on Postfix.
package queue

import (
	"strings"
	"time"

	"github.com/postfix-queue-exporter/postfix_queue_exporter/parser"
)

// Stats sums up the messages of one queue.
type Stats struct {
	Messages   int64
	Bytes      int64
	Recipients int64
	Oldest     time.Time // arrival time of the oldest message; zero for an empty queue
	// Shape is the distribution of the messages, nil when the snapshot was
	// not taken with shape statistics.
	Shape *Shape
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
	Warnings       []string // warnings of the listing, such as postqueue's stderr lines
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

// Aggregator adds messages up into per-queue statistics and their Shape.
type Aggregator struct {
	queues     map[string]*queueCounter
	last       *queueCounter // the queue of the previous message, checked before the map
	options    ShapeOptions
	start      time.Time
	classifier *reasonClassifier
}

type queueCounter struct {
	name  string
	stats *Stats
	shape *shapeCounter
}

// NewAggregator returns an Aggregator with every queue at zero, the default
// shape options, and ages measured from now.
func NewAggregator() *Aggregator {
	return NewShapeAggregator(DefaultShapeOptions(), time.Now())
}

// NewShapeAggregator returns an Aggregator with every queue at zero. start
// is when the listing started: no snapshot time is earlier. options must be
// valid (see ShapeOptions.Validate).
func NewShapeAggregator(options ShapeOptions, start time.Time) *Aggregator {
	a := &Aggregator{
		queues:     make(map[string]*queueCounter, len(parser.Queues)),
		options:    options,
		start:      start,
		classifier: newReasonClassifier(),
	}
	for _, name := range parser.Queues {
		a.addQueue(name)
	}
	return a
}

func (a *Aggregator) addQueue(name string) *queueCounter {
	counter := &queueCounter{name: strings.Clone(name), stats: &Stats{}, shape: newShapeCounter(a.options, a.start)}
	a.queues[counter.name] = counter
	return counter
}

// Add counts one message. It has the signature of parser.Handler and keeps
// nothing of m.
func (a *Aggregator) Add(m *parser.Message) error {
	counter := a.last
	if counter == nil || counter.name != m.Queue {
		var ok bool
		counter, ok = a.queues[m.Queue]
		if !ok {
			// The parsers only report the five known queue names; a new name
			// from a future Postfix gets its own entry rather than being lost.
			counter = a.addQueue(m.Queue)
		}
		a.last = counter
	}
	stats := counter.stats
	stats.Messages++
	stats.Bytes += m.Size
	stats.Recipients += int64(len(m.Recipients))
	if stats.Oldest.IsZero() || m.ArrivalTime.Before(stats.Oldest) {
		stats.Oldest = m.ArrivalTime
	}
	counter.shape.add(m, a.classifier)
	return nil
}

// Finish returns the statistics by queue name, with message ages measured at
// end, the snapshot time. end must not be before the start given to
// NewShapeAggregator.
func (a *Aggregator) Finish(end time.Time) map[string]*Stats {
	queues := make(map[string]*Stats, len(a.queues))
	for name, counter := range a.queues {
		stats := *counter.stats
		stats.Shape = counter.shape.shape(end)
		queues[name] = &stats
	}
	return queues
}

// Queues returns the statistics gathered so far, with ages measured at the
// start time.
func (a *Aggregator) Queues() map[string]*Stats {
	return a.Finish(a.start)
}
