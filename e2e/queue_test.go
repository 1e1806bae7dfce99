package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// queueNames lists the queues the exporter reports, in Postfix's scan order.
var queueNames = []string{"maildrop", "incoming", "active", "deferred", "hold"}

// QueueCount is one queue's totals, counted by the tests themselves.
type QueueCount struct {
	Messages   int64
	Bytes      int64
	Recipients int64
	// OldestArrival is the earliest arrival_time in Unix seconds, 0 for an
	// empty queue.
	OldestArrival int64
}

// QueueState is the queue of the default instance as `postqueue -j` lists it,
// counted with encoding/json here rather than with the exporter's parser.
type QueueState struct {
	Queues  map[string]QueueCount // every name in queueNames, zeros included
	Listing []byte                // the `postqueue -j` output
	// ForcedExpire, NullSender and MultiRecipient count messages with those
	// properties over all queues, so tests can check that the lab's
	// special cases are present.
	ForcedExpire   int
	NullSender     int
	MultiRecipient int
}

// jsonMessage is the part of a `postqueue -j` line that the tests use.
type jsonMessage struct {
	QueueName    string `json:"queue_name"`
	QueueID      string `json:"queue_id"`
	ArrivalTime  int64  `json:"arrival_time"`
	MessageSize  int64  `json:"message_size"`
	ForcedExpire bool   `json:"forced_expire"`
	Sender       string `json:"sender"`
	Recipients   []struct {
		Address string `json:"address"`
	} `json:"recipients"`
}

// ReadQueue lists the queue with `postqueue -j` as root and checks every
// queue's message count against the files in its queue directory. Postfix
// moves files while it works, so it reads again until two listings and the
// file counts agree, and fails the test if they do not settle.
func ReadQueue(t testing.TB) QueueState {
	t.Helper()
	RequireLab(t)
	queueDir := strings.TrimSpace(Run(t, "postconf", "-h", "queue_directory"))

	var previous *QueueState
	var lastProblem string
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		state, err := decodeListing([]byte(Run(t, "postqueue", "-j")))
		if err != nil {
			t.Fatalf("postqueue -j: %v", err)
		}
		files := countQueueFiles(t, queueDir)
		lastProblem = compareFileCounts(state, files)
		if lastProblem == "" && previous != nil && maps.Equal(previous.Queues, state.Queues) {
			return state
		}
		previous = &state
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("the queue did not settle within 30s: %s", lastProblem)
	return QueueState{}
}

// decodeListing adds up `postqueue -j` output.
func decodeListing(listing []byte) (QueueState, error) {
	state := QueueState{Queues: make(map[string]QueueCount), Listing: listing}
	for _, name := range queueNames {
		state.Queues[name] = QueueCount{}
	}
	scanner := bufio.NewScanner(bytes.NewReader(listing))
	scanner.Buffer(nil, 64<<20)
	for line := 1; scanner.Scan(); line++ {
		var message jsonMessage
		if err := json.Unmarshal(scanner.Bytes(), &message); err != nil {
			return state, fmt.Errorf("line %d: %w", line, err)
		}
		count, ok := state.Queues[message.QueueName]
		if !ok {
			return state, fmt.Errorf("line %d: unknown queue_name %q", line, message.QueueName)
		}
		count.Messages++
		count.Bytes += message.MessageSize
		count.Recipients += int64(len(message.Recipients))
		if count.OldestArrival == 0 || message.ArrivalTime < count.OldestArrival {
			count.OldestArrival = message.ArrivalTime
		}
		state.Queues[message.QueueName] = count

		if message.ForcedExpire {
			state.ForcedExpire++
		}
		if message.Sender == "MAILER-DAEMON" {
			state.NullSender++
		}
		if len(message.Recipients) > 1 {
			state.MultiRecipient++
		}
	}
	return state, scanner.Err()
}

// countQueueFiles counts the regular files under each queue directory.
func countQueueFiles(t testing.TB, queueDir string) map[string]int64 {
	t.Helper()
	counts := make(map[string]int64, len(queueNames))
	for _, name := range queueNames {
		out := Run(t, "find", filepath.Join(queueDir, name), "-type", "f")
		counts[name] = int64(len(strings.Fields(out)))
	}
	return counts
}

// compareFileCounts returns a description of the queues whose listed
// message count differs from the file count, or "" when all agree.
func compareFileCounts(state QueueState, files map[string]int64) string {
	var problems []string
	for _, name := range queueNames {
		if listed := state.Queues[name].Messages; listed != files[name] {
			problems = append(problems, fmt.Sprintf("%s: postqueue -j lists %d messages, the queue directory has %d files",
				name, listed, files[name]))
		}
	}
	return strings.Join(problems, "; ")
}

// TextView returns the counts that a `postqueue -p` listing can give: the
// text format marks active (*) and hold (!) messages only, so the exporter
// counts every unmarked message, from maildrop, incoming and deferred, as
// deferred.
func (s QueueState) TextView() QueueState {
	view := s
	view.Queues = maps.Clone(s.Queues)
	deferred := QueueCount{}
	for _, name := range []string{"maildrop", "incoming", "deferred"} {
		count := s.Queues[name]
		deferred.Messages += count.Messages
		deferred.Bytes += count.Bytes
		deferred.Recipients += count.Recipients
		if count.OldestArrival != 0 && (deferred.OldestArrival == 0 || count.OldestArrival < deferred.OldestArrival) {
			deferred.OldestArrival = count.OldestArrival
		}
		view.Queues[name] = QueueCount{}
	}
	view.Queues["deferred"] = deferred
	return view
}

// populated reports whether every queue has mail and the lab's special
// cases are present.
func (s QueueState) populated() bool {
	for _, name := range queueNames {
		if s.Queues[name].Messages == 0 {
			return false
		}
	}
	return s.ForcedExpire > 0 && s.NullSender > 0 && s.MultiRecipient > 0
}

// Total returns the number of messages over all queues.
func (s QueueState) Total() int64 {
	var total int64
	for _, count := range s.Queues {
		total += count.Messages
	}
	return total
}

// Observation is one read of the exporter's metrics together with the queue
// as it was before and after the read.
type Observation struct {
	Metrics Metrics
	Queue   QueueState
	// Start and End enclose the read, so the exporter's snapshot was taken
	// between them.
	Start time.Time
	End   time.Time
}

// ObserveStable runs read, which returns the exporter's metrics, between two
// ReadQueue calls, and repeats until the queue did not change during the
// read, so the metrics can be compared with the count exactly.
func ObserveStable(t testing.TB, read func() Metrics) Observation {
	t.Helper()
	for attempt := 1; ; attempt++ {
		before := ReadQueue(t)
		start := time.Now()
		metrics := read()
		end := time.Now()
		after := ReadQueue(t)
		if maps.Equal(before.Queues, after.Queues) {
			return Observation{Metrics: metrics, Queue: after, Start: start, End: end}
		}
		if attempt == 5 {
			t.Fatalf("the queue changed during each of %d reads; last change: %v -> %v",
				attempt, before.Queues, after.Queues)
		}
	}
}

// ageSlack covers the whole seconds of arrival times and the clock reads.
const ageSlack = 2 * time.Second

// CheckQueueMetrics compares the queue metrics of obs with its queue count,
// using want in place of obs.Queue when given (for example obs.Queue.TextView()).
// labelPairs select the instance, as in Metrics.Get. Messages, bytes and
// recipients must match exactly, and the oldest message age must fit the
// time window of the read.
func CheckQueueMetrics(t testing.TB, obs Observation, want *QueueState, labelPairs ...string) {
	t.Helper()
	state := obs.Queue
	if want != nil {
		state = *want
	}
	for _, name := range queueNames {
		count := state.Queues[name]
		labels := append([]string{"queue", name}, labelPairs...)
		checkValue(t, obs.Metrics, "postfix_queue_messages", labels, float64(count.Messages))
		checkValue(t, obs.Metrics, "postfix_queue_size_bytes", labels, float64(count.Bytes))
		checkValue(t, obs.Metrics, "postfix_queue_recipients", labels, float64(count.Recipients))

		age := obs.Metrics.Get(t, "postfix_queue_oldest_message_age_seconds", labels...)
		if count.Messages == 0 {
			if age != 0 {
				t.Errorf("postfix_queue_oldest_message_age_seconds{queue=%q} = %g, want 0 for an empty queue", name, age)
			}
			continue
		}
		oldest := time.Unix(count.OldestArrival, 0)
		low := obs.Start.Sub(oldest) - ageSlack
		high := obs.End.Sub(oldest) + ageSlack
		if got := time.Duration(age * float64(time.Second)); got < low || got > high {
			t.Errorf("postfix_queue_oldest_message_age_seconds{queue=%q} = %g, want between %.0f and %.0f",
				name, age, low.Seconds(), high.Seconds())
		}
	}
}

func checkValue(t testing.TB, metrics Metrics, name string, labels []string, want float64) {
	t.Helper()
	got, err := metrics.Value(name, labels...)
	if err != nil {
		t.Error(err)
		return
	}
	if got != want {
		t.Errorf("%s%s = %s, want %s", name, formatPairs(labels), formatFloat(got), formatFloat(want))
	}
}

func formatFloat(v float64) string {
	if v == math.Trunc(v) && math.Abs(v) < 1e15 {
		return strconv.FormatInt(int64(v), 10)
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}
