package collector

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/postfix-queue-exporter/postfix_queue_exporter/parser"
	"github.com/postfix-queue-exporter/postfix_queue_exporter/postfix"
	"github.com/postfix-queue-exporter/postfix_queue_exporter/queue"
)

// descs holds the descriptors of the per-instance metrics.
type descs struct {
	up              *prometheus.Desc
	messages        *prometheus.Desc
	sizeBytes       *prometheus.Desc
	recipients      *prometheus.Desc
	oldestAge       *prometheus.Desc
	collectDuration *prometheus.Desc
	collectErrors   *prometheus.Desc
	lastSuccessTime *prometheus.Desc
	snapshotAge     *prometheus.Desc
	shape           shapeDescs
}

// newDescs builds the descriptors. instanceLabels is empty for a single
// instance and holds InstanceLabel otherwise.
func newDescs(instanceLabels []string) descs {
	queueLabels := withLabel(instanceLabels, "queue")
	reasonLabels := withLabel(instanceLabels, "reason")
	return descs{
		up: prometheus.NewDesc(prometheus.BuildFQName(namespace, "", "up"),
			"1 when the last collection read the whole queue from a running Postfix, else 0.",
			instanceLabels, nil),
		messages: prometheus.NewDesc(prometheus.BuildFQName(namespace, "queue", "messages"),
			"Messages in the queue.",
			queueLabels, nil),
		sizeBytes: prometheus.NewDesc(prometheus.BuildFQName(namespace, "queue", "size_bytes"),
			"Total size of the messages in the queue (header and body, without the envelope).",
			queueLabels, nil),
		recipients: prometheus.NewDesc(prometheus.BuildFQName(namespace, "queue", "recipients"),
			"Recipients still to be delivered, summed over the messages in the queue.",
			queueLabels, nil),
		oldestAge: prometheus.NewDesc(prometheus.BuildFQName(namespace, "queue", "oldest_message_age_seconds"),
			"Age of the oldest message in the queue when it was read, 0 for an empty queue.",
			queueLabels, nil),
		collectDuration: prometheus.NewDesc(prometheus.BuildFQName(namespace, "exporter", "collect_duration_seconds"),
			"Time the last successful queue listing took to run and parse.",
			instanceLabels, nil),
		collectErrors: prometheus.NewDesc(prometheus.BuildFQName(namespace, "exporter", "collect_errors_total"),
			"Queue listings that failed, by reason, plus complete listings read while Postfix was down (reason mail_system_down).",
			reasonLabels, nil),
		lastSuccessTime: prometheus.NewDesc(prometheus.BuildFQName(namespace, "exporter", "last_collect_success_timestamp_seconds"),
			"Unix time when the queue was last read completely.",
			instanceLabels, nil),
		snapshotAge: prometheus.NewDesc(prometheus.BuildFQName(namespace, "exporter", "snapshot_age_seconds"),
			"Time since the queue listing that the published queue metrics come from finished.",
			instanceLabels, nil),
		shape: newShapeDescs(queueLabels),
	}
}

func (d descs) describe(ch chan<- *prometheus.Desc) {
	for _, desc := range []*prometheus.Desc{
		d.up, d.messages, d.sizeBytes, d.recipients, d.oldestAge,
		d.collectDuration, d.collectErrors, d.lastSuccessTime, d.snapshotAge,
	} {
		ch <- desc
	}
	d.shape.describe(ch)
}

// emitStatus publishes the counts kept across collections. The success
// timestamp is left out until the first successful read.
func (d descs) emitStatus(ch chan<- prometheus.Metric, status queue.Status, labels []string) {
	for _, kind := range postfix.Kinds {
		ch <- prometheus.MustNewConstMetric(d.collectErrors, prometheus.CounterValue,
			float64(status.Errors[kind]), withLabel(labels, string(kind))...)
	}
	if !status.LastSuccess.IsZero() {
		ch <- prometheus.MustNewConstMetric(d.lastSuccessTime, prometheus.GaugeValue,
			float64(status.LastSuccess.UnixNano())/1e9, labels...)
	}
}

// emitSnapshot publishes the queue metrics of a complete listing, with every
// known queue present, zeros included.
func (d descs) emitSnapshot(ch chan<- prometheus.Metric, snapshot *queue.Snapshot, labels []string) {
	ch <- prometheus.MustNewConstMetric(d.collectDuration, prometheus.GaugeValue,
		snapshot.Duration.Seconds(), labels...)
	for _, name := range parser.Queues {
		stats := snapshot.Queues[name]
		if stats == nil {
			stats = &queue.Stats{}
		}
		queueLabels := withLabel(labels, name)
		ch <- prometheus.MustNewConstMetric(d.messages, prometheus.GaugeValue, float64(stats.Messages), queueLabels...)
		ch <- prometheus.MustNewConstMetric(d.sizeBytes, prometheus.GaugeValue, float64(stats.Bytes), queueLabels...)
		ch <- prometheus.MustNewConstMetric(d.recipients, prometheus.GaugeValue, float64(stats.Recipients), queueLabels...)
		ch <- prometheus.MustNewConstMetric(d.oldestAge, prometheus.GaugeValue, snapshot.OldestAge(name).Seconds(), queueLabels...)
		if stats.Shape != nil {
			d.shape.emit(ch, stats.Shape, queueLabels)
		}
	}
}

// withLabel returns a new slice of labels followed by value, leaving labels
// untouched.
func withLabel(labels []string, value string) []string {
	return append(append(make([]string, 0, len(labels)+1), labels...), value)
}
