package main

import (
	"io"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"
)

// printOnce gathers the registry, writes the exposition text to w and
// returns 1 if any instance's queue could not be read, so that scripts (and
// node_exporter's textfile collector jobs) can tell a failed read apart.
func printOnce(registry *prometheus.Registry, w io.Writer, logger log.Logger, instances int) int {
	families, err := registry.Gather()
	if err != nil {
		level.Error(logger).Log("msg", "Failed to gather metrics", "err", err)
		return 1
	}

	encoder := expfmt.NewEncoder(w, expfmt.NewFormat(expfmt.TypeTextPlain))
	readInstances := 0
	for _, family := range families {
		if err := encoder.Encode(family); err != nil {
			level.Error(logger).Log("msg", "Failed to write metrics", "err", err)
			return 1
		}
		// Queue metrics are published only for an instance whose queue
		// was read completely: count those.
		if family.GetName() == "postfix_exporter_collect_duration_seconds" {
			readInstances = len(family.GetMetric())
		}
	}
	if readInstances < instances {
		return 1
	}
	return 0
}
