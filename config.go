package main

import (
	"fmt"
	"path/filepath"
	"time"

	"github.com/alecthomas/kingpin/v2"
	"github.com/go-kit/log"

	"github.com/postfix-queue-exporter/postfix_queue_exporter/collector"
	"github.com/postfix-queue-exporter/postfix_queue_exporter/parser"
	"github.com/postfix-queue-exporter/postfix_queue_exporter/postfix"
	"github.com/postfix-queue-exporter/postfix_queue_exporter/queue"
)

// queueFlags holds the flags that control how the queue is read.
type queueFlags struct {
	postqueuePath *string
	format        *string
	timeout       *time.Duration
	minInterval   *time.Duration
	input         *string
	inputSet      bool // kingpin takes "--postqueue.input -" as an empty value, which must not mean "run postqueue"

	// Set by instances and reused by the flush and action endpoints, so
	// that they act on exactly the instances that are read.
	resolved   *resolvedInstances
	configDirs *[]string
	shape      *shapeFlags   // shape_flags.go
	collect    *collectFlags // collect_flags.go
}

func addQueueFlags(app *kingpin.Application) *queueFlags {
	f := &queueFlags{}
	*f = queueFlags{
		postqueuePath: app.Flag("postqueue.path",
			"Path of the postqueue binary. Default: postqueue from PATH, else /usr/sbin/postqueue.").
			String(),
		format: app.Flag("postqueue.format",
			"Listing format to request: json (postqueue -j, Postfix 3.1 and later), text (postqueue -p), "+
				"or auto (json, falling back to text when postqueue rejects -j).").
			Default("auto").Enum("auto", "json", "text"),
		timeout: app.Flag("postqueue.timeout",
			"Time limit for one postqueue run; when it runs out postqueue and its children are killed "+
				"and the scrape reports failure.").
			Default("10s").Duration(),
		minInterval: app.Flag("postqueue.min-interval",
			"Reuse a queue listing younger than this instead of running postqueue again, so that several "+
				"Prometheus servers scraping one host do not multiply the load on showq. 0 lists on every scrape.").
			Default("5s").Duration(),
		input: app.Flag("postqueue.input",
			"Read a saved postqueue -j or -p listing from this file (- for stdin) instead of running postqueue. "+
				"The format is detected from the content.").
			PlaceHolder("FILE").IsSetByUser(&f.inputSet).String(),
		configDirs: app.Flag("postfix.config-dir",
			"Postfix configuration directory of an instance to read, passed to postqueue as -c. "+
				"Repeat the flag to read several instances. Default: the default instance.").
			PlaceHolder("DIR").Strings(),
		shape:   addShapeFlags(app),
		collect: addCollectFlags(app),
	}
	return f
}

// instances builds a cached queue source for every configured instance.
func (f *queueFlags) instances(logger log.Logger) ([]collector.Instance, error) {
	if f.inputSet && *f.input == "" {
		return nil, fmt.Errorf("--postqueue.input needs a file name; write --postqueue.input=- to read stdin")
	}
	if *f.input != "" {
		if len(*f.configDirs) > 0 || *f.collect.multiInstance {
			return nil, fmt.Errorf("--postqueue.input cannot be used with --postfix.config-dir or --postfix.multi-instance")
		}
		source, err := f.source(&queue.FileLister{Path: *f.input}, logger)
		if err != nil {
			return nil, err
		}
		return []collector.Instance{{Name: *f.input, Source: source}}, nil
	}

	format, err := parseFormat(*f.format)
	if err != nil {
		return nil, err
	}
	path := *f.postqueuePath
	if path == "" {
		path = lookPostqueue()
	}
	runner := &postfix.Runner{Timeout: *f.timeout}

	configs, err := f.discoverInstances(logger, path, runner)
	if err != nil {
		return nil, err
	}
	seen := make(map[string]bool, len(configs))
	for _, config := range configs {
		if seen[config.dir] {
			return nil, fmt.Errorf("--postfix.config-dir %q is given twice", config.dir)
		}
		seen[config.dir] = true
	}
	f.resolved = &resolvedInstances{postqueuePath: path, format: format, runner: runner, configs: configs}

	instances := make([]collector.Instance, 0, len(configs))
	for _, config := range configs {
		source, err := f.source(f.resolved.postqueue(config.dir), logger)
		if err != nil {
			return nil, err
		}
		instances = append(instances, collector.Instance{Name: config.name, Source: source})
	}
	return instances, nil
}

func (f *queueFlags) cache(lister queue.Lister) *queue.Cache {
	return &queue.Cache{
		Source:      &queue.Reader{Lister: lister},
		MinInterval: *f.minInterval,
		// The runner's timeout ends postqueue; this bound only matters if
		// the parser itself stalls.
		Timeout: *f.timeout + 5*time.Second,
	}
}

// resolvedInstances are the Postfix instances to read, with the postqueue
// binary, format and runner that every command for them uses.
type resolvedInstances struct {
	postqueuePath string
	format        parser.Format
	runner        *postfix.Runner
	configs       []instanceConfig
}

// postqueue returns a lister for the instance in configDir.
func (r *resolvedInstances) postqueue(configDir string) *postfix.Postqueue {
	return &postfix.Postqueue{Path: r.postqueuePath, ConfigDir: configDir, Format: r.format, Runner: r.runner}
}

// siblingPath returns the path of another Postfix command, such as postconf,
// in postqueue's directory.
func (r *resolvedInstances) siblingPath(command string) string {
	return filepath.Join(filepath.Dir(r.postqueuePath), command)
}

func parseFormat(s string) (parser.Format, error) {
	switch s {
	case "auto":
		return parser.FormatAuto, nil
	case "json":
		return parser.FormatJSON, nil
	case "text":
		return parser.FormatText, nil
	}
	return parser.FormatAuto, fmt.Errorf("invalid --postqueue.format %q: use auto, json or text", s)
}
