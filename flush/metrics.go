package flush

import (
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

// Results of a flush request, the values of the result label of
// postfix_exporter_flush_requests_total.
const (
	ResultOK               = "ok"                 // postqueue ran and succeeded
	ResultUnauthorized     = "unauthorized"       // no token, a wrong one, or one in the URL
	ResultInvalid          = "invalid"            // the exporter rejected the input, or the message is not deferred
	ResultMethodNotAllowed = "method_not_allowed" // not a POST
	ResultBusy             = "busy"               // another flush was running
	ResultRateLimited      = "rate_limited"       // inside the minimum interval after the last flush
	ResultFailed           = "failed"             // postqueue ran and failed, or timed out
)

// results lists every result, so the counters are published from zero.
var results = []string{
	ResultOK, ResultUnauthorized, ResultInvalid, ResultMethodNotAllowed,
	ResultBusy, ResultRateLimited, ResultFailed,
}

var (
	requestsDesc = prometheus.NewDesc(
		"postfix_exporter_flush_requests_total",
		"Requests to the flush API, by result.",
		[]string{"result"}, nil,
	)
	lastSuccessDesc = prometheus.NewDesc(
		"postfix_exporter_flush_last_success_timestamp_seconds",
		"Unix time of the last successful flush, 0 before the first one since the exporter started.",
		nil, nil,
	)
)

// metrics counts flush requests. It keeps plain counters and builds const
// metrics from them on every scrape.
type metrics struct {
	requests    map[string]*atomic.Uint64 // by result; the map is never written after newMetrics
	lastSuccess atomic.Int64              // Unix nanoseconds, 0 before the first success
}

func newMetrics() *metrics {
	m := &metrics{requests: make(map[string]*atomic.Uint64, len(results))}
	for _, result := range results {
		m.requests[result] = &atomic.Uint64{}
	}
	return m
}

func (m *metrics) count(result string) {
	m.requests[result].Add(1)
}

// Describe implements prometheus.Collector.
func (h *Handler) Describe(ch chan<- *prometheus.Desc) {
	ch <- requestsDesc
	ch <- lastSuccessDesc
}

// Collect implements prometheus.Collector.
func (h *Handler) Collect(ch chan<- prometheus.Metric) {
	for _, result := range results {
		ch <- prometheus.MustNewConstMetric(requestsDesc, prometheus.CounterValue,
			float64(h.metrics.requests[result].Load()), result)
	}
	ch <- prometheus.MustNewConstMetric(lastSuccessDesc, prometheus.GaugeValue,
		float64(h.metrics.lastSuccess.Load())/1e9)
}
