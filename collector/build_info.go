package collector

import (
	"runtime"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/version"
)

// BuildInfo publishes postfix_exporter_build_info, a constant 1 whose labels
// carry the version set at link time with -ldflags "-X
// github.com/prometheus/common/version.Version=...".
type BuildInfo struct {
	desc *prometheus.Desc
}

// NewBuildInfo returns the build info collector.
func NewBuildInfo() *BuildInfo {
	return &BuildInfo{desc: prometheus.NewDesc(
		prometheus.BuildFQName(namespace, "exporter", "build_info"),
		"A metric with a constant '1' value labeled by the version, revision, branch and Go version the exporter was built from.",
		[]string{"version", "revision", "branch", "goversion", "goos", "goarch"}, nil,
	)}
}

// Describe sends the one descriptor.
func (b *BuildInfo) Describe(ch chan<- *prometheus.Desc) { ch <- b.desc }

// Collect sends the one metric.
func (b *BuildInfo) Collect(ch chan<- prometheus.Metric) {
	ch <- prometheus.MustNewConstMetric(b.desc, prometheus.GaugeValue, 1,
		version.Version, version.Revision, version.Branch, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}
