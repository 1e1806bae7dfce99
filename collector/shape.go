package collector

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/postfix-queue-exporter/postfix_queue_exporter/queue"
)

// shapeDescs holds the descriptors of the queue shape metrics.
type shapeDescs struct {
	age                  *prometheus.Desc
	size                 *prometheus.Desc
	domainMessages       *prometheus.Desc
	domainRecipients     *prometheus.Desc
	delayReasons         *prometheus.Desc
	bounceMessages       *prometheus.Desc
	forcedExpireMessages *prometheus.Desc
}

// newShapeDescs builds the descriptors. queueLabels are the instance label,
// if any, and "queue".
func newShapeDescs(queueLabels []string) shapeDescs {
	domainLabels := withLabel(queueLabels, "domain")
	reasonLabels := append(withLabel(queueLabels, "category"), "dsn")
	return shapeDescs{
		age: prometheus.NewDesc(prometheus.BuildFQName(namespace, "queue", "message_age_seconds"),
			"Age of the messages in the queue when it was read: time since arrival, 0 for arrival times in the future.",
			queueLabels, nil),
		size: prometheus.NewDesc(prometheus.BuildFQName(namespace, "queue", "message_size_bytes"),
			"Size of the messages in the queue (header and body, without the envelope).",
			queueLabels, nil),
		domainMessages: prometheus.NewDesc(prometheus.BuildFQName(namespace, "queue", "recipient_domain_messages"),
			"Messages with at least one recipient in the domain, for the recipient domains with the most recipients; "+
				"domain=\"other\" sums up the rest. A message with recipients in two domains counts for both.",
			domainLabels, nil),
		domainRecipients: prometheus.NewDesc(prometheus.BuildFQName(namespace, "queue", "recipient_domain_recipients"),
			"Recipients in the domain, for the recipient domains with the most recipients; domain=\"other\" sums up the rest.",
			domainLabels, nil),
		delayReasons: prometheus.NewDesc(prometheus.BuildFQName(namespace, "queue", "delay_reasons"),
			"Recipients with a delay reason, by reason category and enhanced status code (dsn, empty when none).",
			reasonLabels, nil),
		bounceMessages: prometheus.NewDesc(prometheus.BuildFQName(namespace, "queue", "bounce_messages"),
			"Messages from the null sender (MAILER-DAEMON): bounces, delay notices and other delivery status notifications.",
			queueLabels, nil),
		forcedExpireMessages: prometheus.NewDesc(prometheus.BuildFQName(namespace, "queue", "forced_expire_messages"),
			"Messages marked to expire with postsuper -e or -f, returned to the sender at their next delivery attempt.",
			queueLabels, nil),
	}
}

func (d shapeDescs) describe(ch chan<- *prometheus.Desc) {
	for _, desc := range []*prometheus.Desc{
		d.age, d.size, d.domainMessages, d.domainRecipients, d.delayReasons,
		d.bounceMessages, d.forcedExpireMessages,
	} {
		ch <- desc
	}
}

// emit publishes the shape of one queue. queueLabels are the label values
// of the instance, if any, and the queue.
func (d shapeDescs) emit(ch chan<- prometheus.Metric, shape *queue.Shape, queueLabels []string) {
	ch <- prometheus.MustNewConstHistogram(d.age, shape.Age.Count, shape.Age.Sum, shape.Age.Buckets(), queueLabels...)
	ch <- prometheus.MustNewConstHistogram(d.size, shape.Size.Count, shape.Size.Sum, shape.Size.Buckets(), queueLabels...)

	for _, domain := range shape.TopDomains {
		d.emitDomain(ch, domain, queueLabels)
	}
	d.emitDomain(ch, shape.OtherDomains, queueLabels)

	for reason, recipients := range shape.Reasons {
		labels := append(withLabel(queueLabels, reason.Category), reason.DSN)
		ch <- prometheus.MustNewConstMetric(d.delayReasons, prometheus.GaugeValue, float64(recipients), labels...)
	}

	ch <- prometheus.MustNewConstMetric(d.bounceMessages, prometheus.GaugeValue, float64(shape.Bounces), queueLabels...)
	ch <- prometheus.MustNewConstMetric(d.forcedExpireMessages, prometheus.GaugeValue, float64(shape.ForcedExpire), queueLabels...)
}

func (d shapeDescs) emitDomain(ch chan<- prometheus.Metric, domain queue.DomainCount, queueLabels []string) {
	labels := withLabel(queueLabels, domain.Domain)
	ch <- prometheus.MustNewConstMetric(d.domainMessages, prometheus.GaugeValue, float64(domain.Messages), labels...)
	ch <- prometheus.MustNewConstMetric(d.domainRecipients, prometheus.GaugeValue, float64(domain.Recipients), labels...)
}
