package actions

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// Result is the outcome of an action request, the result label of
// postfix_exporter_action_requests_total.
type Result string

// Request outcomes.
const (
	ResultOK           Result = "ok"                 // postsuper ran, or the selection was empty
	ResultDryRun       Result = "dry_run"            // a dry run returned its selection
	ResultUnauthorized Result = "unauthorized"       // missing or wrong token (401)
	ResultForbidden    Result = "forbidden"          // action not enabled, or a bulk delete not allowed (403)
	ResultInvalid      Result = "invalid"            // bad body or selector (400, 413, 415, 422)
	ResultMethod       Result = "method_not_allowed" // not a POST (405)
	ResultConflict     Result = "conflict"           // the selection changed since the dry run (409)
	ResultBusy         Result = "busy"               // another action was running (409)
	ResultFailed       Result = "failed"             // postqueue or postsuper failed (5xx)
)

// Results lists every Result, so that counters start at zero.
var Results = []Result{
	ResultOK, ResultDryRun, ResultUnauthorized, ResultForbidden, ResultInvalid,
	ResultMethod, ResultConflict, ResultBusy, ResultFailed,
}

// Metrics counts action requests and the messages they changed. It is a
// prometheus.Collector that publishes const metrics, with every action and
// result present from the start.
type Metrics struct {
	requestsDesc *prometheus.Desc
	messagesDesc *prometheus.Desc

	mu       sync.Mutex
	requests map[Action]map[Result]uint64
	messages map[Action]uint64
}

// NewMetrics returns Metrics with every count at zero.
func NewMetrics() *Metrics {
	m := &Metrics{
		requestsDesc: prometheus.NewDesc("postfix_exporter_action_requests_total",
			"Queue action requests by action and result: ok, dry_run, unauthorized, forbidden, invalid, "+
				"method_not_allowed, conflict, busy or failed.",
			[]string{"action", "result"}, nil),
		messagesDesc: prometheus.NewDesc("postfix_exporter_action_messages_total",
			"Messages that postsuper reported as held, released, requeued or deleted by queue actions.",
			[]string{"action"}, nil),
		requests: make(map[Action]map[Result]uint64, len(All)),
		messages: make(map[Action]uint64, len(All)),
	}
	for _, action := range All {
		m.requests[action] = make(map[Result]uint64, len(Results))
	}
	return m
}

// countRequest adds one request of action with result.
func (m *Metrics) countRequest(action Action, result Result) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.requests[action][result]++
}

// countMessages adds n changed messages to action.
func (m *Metrics) countMessages(action Action, n int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.messages[action] += uint64(n)
}

// Describe sends the descriptors of both counters.
func (m *Metrics) Describe(ch chan<- *prometheus.Desc) {
	ch <- m.requestsDesc
	ch <- m.messagesDesc
}

// Collect sends the counts so far.
func (m *Metrics) Collect(ch chan<- prometheus.Metric) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, action := range All {
		for _, result := range Results {
			ch <- prometheus.MustNewConstMetric(m.requestsDesc, prometheus.CounterValue,
				float64(m.requests[action][result]), string(action), string(result))
		}
		ch <- prometheus.MustNewConstMetric(m.messagesDesc, prometheus.CounterValue,
			float64(m.messages[action]), string(action))
	}
}
