package main

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/alecthomas/kingpin/v2"
	"github.com/go-kit/log"
	"github.com/go-kit/log/level"

	"github.com/postfix-queue-exporter/postfix_queue_exporter/collector"
	"github.com/postfix-queue-exporter/postfix_queue_exporter/postfix"
	"github.com/postfix-queue-exporter/postfix_queue_exporter/queue"
)

// collectFlags holds the flags that set when the queue is read and which
// instances are read.
type collectFlags struct {
	mode          *string
	interval      *time.Duration
	multiInstance *bool
}

func addCollectFlags(app *kingpin.Application) *collectFlags {
	return &collectFlags{
		mode: app.Flag("collect.mode",
			"When to list the queue: scrape (on each scrape, reusing a listing younger than "+
				"--postqueue.min-interval) or background (every --collect.interval, with /metrics serving "+
				"the last finished listing at once; raise --postqueue.timeout above the listing time).").
			Default("scrape").Enum("scrape", "background"),
		interval: app.Flag("collect.interval",
			"Time from the start of one background listing to the start of the next, with --collect.mode=background.").
			Default("30s").Duration(),
		multiInstance: app.Flag("postfix.multi-instance",
			"Read every enabled instance that postmulti -l lists, found at start-up; postmulti is looked up "+
				"next to postqueue. Cannot be combined with --postfix.config-dir.").
			Bool(),
	}
}

func (f *collectFlags) background() bool {
	return *f.mode == "background"
}

// source returns the snapshot source of one instance: a cache that lists
// on demand, or in background mode a Background that lists on its own, started
// here and running until the process exits.
func (f *queueFlags) source(lister queue.Lister, logger log.Logger) (collector.Source, error) {
	options, err := f.shape.options()
	if err != nil {
		return nil, err
	}
	cache := f.cache(lister)
	cache.Source = &queue.Reader{Lister: lister, Shape: &options}
	if !f.collect.background() {
		return cache, nil
	}

	if *f.collect.interval <= 0 {
		return nil, fmt.Errorf("invalid --collect.interval %s: use a positive duration", *f.collect.interval)
	}
	cache.MinInterval = 0
	background := queue.NewBackground(cache, *f.collect.interval, logger)
	go background.Run(context.Background())
	return background, nil
}

// instanceConfig is one Postfix instance to read.
type instanceConfig struct {
	name string // the postfix_instance label value
	dir  string // the config directory, "" for the default instance
}

// discoverInstances returns the instances to read: those that postmulti
// lists with --postfix.multi-instance, else one per --postfix.config-dir, or
// the default instance. An instance is named by its multi_instance_name, or
// by its config directory when it has none. Names matter only with more than
// one instance, so a single instance is not looked up.
func (f *queueFlags) discoverInstances(logger log.Logger, postqueuePath string, runner *postfix.Runner) ([]instanceConfig, error) {
	if *f.collect.multiInstance {
		if len(*f.configDirs) > 0 {
			return nil, fmt.Errorf("--postfix.multi-instance and --postfix.config-dir cannot be used together")
		}
		return f.postmultiInstances(logger, postqueuePath, runner)
	}

	dirs := *f.configDirs
	if len(dirs) == 0 {
		return []instanceConfig{{}}, nil
	}
	configs := make([]instanceConfig, len(dirs))
	for i, dir := range dirs {
		configs[i] = instanceConfig{name: dir, dir: dir}
	}
	if len(configs) > 1 {
		postconfPath := filepath.Join(filepath.Dir(postqueuePath), "postconf")
		for i := range configs {
			configs[i].name = instanceName(logger, postconfPath, configs[i].dir, runner)
		}
	}
	return uniqueNames(logger, configs), nil
}

// postmultiInstances lists the enabled instances with postmulti. The flush
// and queue action endpoints read --postfix.config-dir, so it is set to the
// directories found.
func (f *queueFlags) postmultiInstances(logger log.Logger, postqueuePath string, runner *postfix.Runner) ([]instanceConfig, error) {
	postmulti := &postfix.Postmulti{Path: filepath.Join(filepath.Dir(postqueuePath), "postmulti"), Runner: runner}
	listed, err := postmulti.List(context.Background())
	if err != nil {
		return nil, fmt.Errorf("list instances for --postfix.multi-instance: %w", err)
	}

	var configs []instanceConfig
	var dirs []string
	for _, instance := range listed {
		if !instance.Enabled {
			level.Info(logger).Log("msg", "Skipping disabled Postfix instance", "instance", instance.Name,
				"config_dir", instance.ConfigDir)
			continue
		}
		name := instance.Name
		if name == "" {
			name = instance.ConfigDir
		}
		configs = append(configs, instanceConfig{name: name, dir: instance.ConfigDir})
		dirs = append(dirs, instance.ConfigDir)
	}
	if len(configs) == 0 {
		return nil, fmt.Errorf("--postfix.multi-instance: postmulti lists no enabled instance")
	}
	level.Info(logger).Log("msg", "Found Postfix instances", "count", len(configs), "config_dirs", fmt.Sprint(dirs))
	*f.configDirs = dirs
	return uniqueNames(logger, configs), nil
}

// instanceName returns the multi_instance_name of the instance in dir, or
// dir when it has none or postconf fails.
func instanceName(logger log.Logger, postconfPath, dir string, runner *postfix.Runner) string {
	postconf := &postfix.Postconf{Path: postconfPath, ConfigDir: dir, Runner: runner}
	values, err := postconf.Values(context.Background(), "multi_instance_name")
	if err != nil {
		level.Warn(logger).Log("msg", "Failed to read the instance name; using the config directory",
			"config_dir", dir, "err", err)
		return dir
	}
	if values[0] == "" {
		return dir
	}
	return values[0]
}

// uniqueNames replaces a name that an earlier instance already has with the
// instance's config directory, so that no two instances share a label value.
func uniqueNames(logger log.Logger, configs []instanceConfig) []instanceConfig {
	seen := make(map[string]bool, len(configs))
	for i := range configs {
		if seen[configs[i].name] {
			level.Warn(logger).Log("msg", "Two Postfix instances have the same name; using the config directory",
				"instance", configs[i].name, "config_dir", configs[i].dir)
			configs[i].name = configs[i].dir
		}
		seen[configs[i].name] = true
	}
	return configs
}
