package main

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/alecthomas/kingpin/v2"
	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/postfix-queue-exporter/postfix_queue_exporter/collector"
	"github.com/postfix-queue-exporter/postfix_queue_exporter/flush"
	"github.com/postfix-queue-exporter/postfix_queue_exporter/postfix"
	"github.com/postfix-queue-exporter/postfix_queue_exporter/webapi"
)

// flushFlags holds the flags of the flush endpoint.
type flushFlags struct {
	enable      *bool
	tokenFile   *string
	minInterval *time.Duration
}

func addFlushFlags(app *kingpin.Application) *flushFlags {
	return &flushFlags{
		enable: app.Flag("flush.enable",
			"Serve POST "+flush.Path+", which runs postqueue -f, -s SITE or -i QUEUE_ID to retry deferred mail. "+
				"Needs --flush.token-file.").
			Bool(),
		tokenFile: app.Flag("flush.token-file",
			"File with the bearer token that flush requests must send. It must not be readable by all users. "+
				"The exporter reads it again when it changes, so the token can be rotated without a restart.").
			PlaceHolder("FILE").String(),
		minInterval: app.Flag("flush.min-interval",
			"Minimum time from the end of one flush to the start of the next, across all targets and instances. "+
				"A flush retries every matching message at once, which loads the mail server and the hosts it "+
				"delivers to, while Postfix itself retries deferred mail every queue_run_delay (300s by default). "+
				"0 turns the limit off.").
			Default("5m").Duration(),
	}
}

// register adds the flush endpoint to mux and its metrics to registry when
// --flush.enable is set. It returns an error naming the flag to fix when the
// flags do not go together or the token file cannot be used.
func (f *flushFlags) register(mux *http.ServeMux, registry prometheus.Registerer, logger log.Logger,
	queueCfg *queueFlags, instances []collector.Instance,
) error {
	if !*f.enable {
		if *f.tokenFile != "" {
			level.Warn(logger).Log("msg", "--flush.token-file is set but --flush.enable is not, so the flush endpoint is off")
		}
		return nil
	}

	switch {
	case *f.tokenFile == "":
		return errors.New("--flush.enable needs --flush.token-file: write a random token to a file " +
			"(openssl rand -hex 32 > FILE; chmod 0640 FILE) and pass its path")
	case *queueCfg.input != "":
		return errors.New("--flush.enable cannot be used with --postqueue.input, which reads a saved listing")
	case *f.minInterval < 0:
		return fmt.Errorf("invalid --flush.min-interval %s: use a duration of 0 or more", *f.minInterval)
	}
	if *f.minInterval == 0 {
		level.Warn(logger).Log("msg", "--flush.min-interval is 0: flush requests are not rate-limited")
	}

	tokens, err := webapi.LoadTokenFile(*f.tokenFile, logger)
	if err != nil {
		return fmt.Errorf("--flush.token-file: %w", err)
	}
	flushInstances, err := f.instances(queueCfg)
	if err != nil {
		return err
	}
	handler, err := flush.NewHandler(flush.Config{
		Tokens:     tokens,
		Limiter:    webapi.NewRateLimiter(*f.minInterval, nil),
		Instances:  flushInstances,
		Invalidate: invalidateAll(instances),
		Logger:     logger,
	})
	if err != nil {
		return err
	}

	if err := registry.Register(handler); err != nil {
		return fmt.Errorf("register flush metrics: %w", err)
	}
	mux.Handle(flush.Path, handler)
	level.Info(logger).Log("msg", "Flush endpoint enabled", "path", flush.Path, "token_file", *f.tokenFile,
		"min_interval", *f.minInterval)
	return nil
}

// instances builds a Flusher for every instance that is read, with the same
// postqueue binary, format and timeout as the queue listing.
func (f *flushFlags) instances(queueCfg *queueFlags) ([]flush.Instance, error) {
	resolved := queueCfg.resolved
	if resolved == nil {
		return nil, errors.New("the flush endpoint needs the postqueue instances, which were not set up")
	}
	instances := make([]flush.Instance, 0, len(resolved.configs))
	for _, config := range resolved.configs {
		flusher := &postfix.Flusher{
			Path:      resolved.postqueuePath,
			ConfigDir: config.dir,
			Runner:    resolved.runner,
			Lister:    resolved.postqueue(config.dir),
		}
		instances = append(instances, flush.Instance{Name: config.dir, Flusher: flusher})
	}
	return instances, nil
}

// invalidateAll returns a function that drops the cached queue listing of
// every instance, so the scrape after a flush lists the queues again.
func invalidateAll(instances []collector.Instance) func() {
	return func() {
		for _, instance := range instances {
			if cache, ok := instance.Source.(interface{ Invalidate() }); ok {
				cache.Invalidate()
			}
		}
	}
}
