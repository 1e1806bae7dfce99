// Package collector publishes queue snapshots as Prometheus metrics. It
// holds no metric state of its own: every Collect builds const metrics from
// the snapshots and counts that package queue keeps.
package collector

import (
	"context"
	"sync"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/postfix-queue-exporter/postfix_queue_exporter/postfix"
	"github.com/postfix-queue-exporter/postfix_queue_exporter/queue"
)

const namespace = "postfix"

// InstanceLabel is the label that distinguishes Postfix instances when the
// exporter reads more than one.
const InstanceLabel = "postfix_instance"

// Source provides the snapshots of one instance and the counts of their
// outcomes. *queue.Cache implements it.
type Source interface {
	Snapshot(ctx context.Context) (*queue.Snapshot, error)
	Status() queue.Status
}

// Instance is one Postfix instance to publish.
type Instance struct {
	Name   string // the instance name or its config directory
	Source Source
}

// Collector implements prometheus.Collector for one or more Postfix
// instances. With a single instance the postfix_instance label is left out,
// so simple setups keep simple queries.
type Collector struct {
	// SnapshotAge adds postfix_exporter_snapshot_age_seconds, the time
	// since the published listing finished. It is meant for sources that
	// list the queue in the background, where that time can grow.
	SnapshotAge bool
	Now         func() time.Time // clock for SnapshotAge; nil means time.Now

	instances []Instance
	logger    log.Logger
	timeout   time.Duration
	descs     descs
}

// New returns a Collector. timeout bounds one Collect for each instance;
// zero means no bound beyond the sources' own.
func New(logger log.Logger, timeout time.Duration, instances ...Instance) *Collector {
	var labels []string
	if len(instances) > 1 {
		labels = []string{InstanceLabel}
	}
	return &Collector{
		instances: instances,
		logger:    logger,
		timeout:   timeout,
		descs:     newDescs(labels),
	}
}

// Describe sends the descriptors of every metric the collector can publish.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	c.descs.describe(ch)
}

// Collect reads every instance in parallel, each with its own timeout, and
// publishes what it found.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	var wg sync.WaitGroup
	for _, instance := range c.instances {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.collectInstance(ch, instance)
		}()
	}
	wg.Wait()
}

func (c *Collector) collectInstance(ch chan<- prometheus.Metric, instance Instance) {
	ctx := context.Background()
	if c.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.timeout)
		defer cancel()
	}
	var labels []string
	logger := c.logger
	if len(c.instances) > 1 {
		labels = []string{instance.Name}
		logger = log.With(logger, "instance", instance.Name)
	}

	snapshot, err := instance.Source.Snapshot(ctx)
	status := instance.Source.Status()
	c.descs.emitStatus(ch, status, labels)

	switch {
	case err != nil:
		level.Error(logger).Log("msg", "Failed to read the mail queue", "reason", postfix.KindOf(err), "err", err)
		ch <- prometheus.MustNewConstMetric(c.descs.up, prometheus.GaugeValue, 0, labels...)
		return
	case snapshot.MailSystemDown:
		level.Warn(logger).Log("msg", "Postfix is not running; queue read directly from the queue files")
		ch <- prometheus.MustNewConstMetric(c.descs.up, prometheus.GaugeValue, 0, labels...)
	default:
		level.Debug(logger).Log("msg", "Read the mail queue", "format", snapshot.Format, "duration", snapshot.Duration)
		ch <- prometheus.MustNewConstMetric(c.descs.up, prometheus.GaugeValue, 1, labels...)
	}
	c.descs.emitSnapshot(ch, snapshot, labels)
	if c.SnapshotAge {
		ch <- prometheus.MustNewConstMetric(c.descs.snapshotAge, prometheus.GaugeValue,
			max(c.now().Sub(snapshot.Time), 0).Seconds(), labels...)
	}
}

func (c *Collector) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}
