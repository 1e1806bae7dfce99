// Package collector publishes queue snapshots as Prometheus metrics. It
// holds no metric state of its own: every Collect builds const metrics from
// the snapshots and counts that package queue keeps.
package collector

import (
	"context"
	"reflect"
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

	reportedMu sync.Mutex
	reported   map[string]any // by instance name: the last error or snapshot logged
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

	// Scrapes that share one listing, or reuse a cached one, get the same
	// error or snapshot: log each outcome once, not once per scrape.
	firstReport := c.firstReport(instance.Name, err, snapshot)

	switch {
	case err != nil:
		if firstReport {
			level.Error(logger).Log("msg", "Failed to read the mail queue", "reason", postfix.KindOf(err), "err", err)
		}
		ch <- prometheus.MustNewConstMetric(c.descs.up, prometheus.GaugeValue, 0, labels...)
		return
	case snapshot.MailSystemDown:
		if firstReport {
			level.Warn(logger).Log("msg", "Postfix is not running; queue read directly from the queue files")
		}
		ch <- prometheus.MustNewConstMetric(c.descs.up, prometheus.GaugeValue, 0, labels...)
	default:
		if firstReport {
			level.Debug(logger).Log("msg", "Read the mail queue", "format", snapshot.Format, "duration", snapshot.Duration)
		}
		ch <- prometheus.MustNewConstMetric(c.descs.up, prometheus.GaugeValue, 1, labels...)
	}
	if firstReport {
		for _, warning := range snapshot.Warnings {
			level.Warn(logger).Log("msg", "Warning while reading the mail queue", "warning", warning)
		}
	}
	c.descs.emitSnapshot(ch, snapshot, labels)
	if c.SnapshotAge {
		ch <- prometheus.MustNewConstMetric(c.descs.snapshotAge, prometheus.GaugeValue,
			max(c.now().Sub(snapshot.Time), 0).Seconds(), labels...)
	}
}

// firstReport records the outcome of a collection for the instance and
// reports whether it differs from the last one recorded. Outcomes compare by
// identity: a shared or cached listing returns the same pointer.
func (c *Collector) firstReport(instance string, err error, snapshot *queue.Snapshot) bool {
	var outcome any = snapshot
	if err != nil {
		outcome = err
		// Only pointers compare safely and by identity; an error of
		// another type is logged every time.
		if reflect.ValueOf(err).Kind() != reflect.Pointer {
			return true
		}
	}
	c.reportedMu.Lock()
	defer c.reportedMu.Unlock()
	if c.reported == nil {
		c.reported = make(map[string]any)
	}
	if previous, ok := c.reported[instance]; ok && previous == outcome {
		return false
	}
	c.reported[instance] = outcome
	return true
}

func (c *Collector) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}
