// Command postfix_queue_exporter publishes the state of the Postfix mail
// queue as Prometheus metrics.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
	"time"

	"github.com/alecthomas/kingpin/v2"
	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/common/version"
	"github.com/prometheus/exporter-toolkit/web"
	"github.com/prometheus/exporter-toolkit/web/kingpinflag"

	"github.com/postfix-queue-exporter/postfix_queue_exporter/collector"
	"github.com/postfix-queue-exporter/postfix_queue_exporter/internal/logging"
	"github.com/postfix-queue-exporter/postfix_queue_exporter/postfix"
)

const exporterName = "postfix_queue_exporter"

// defaultListenAddress avoids 9154, the port of the older postfix_exporter,
// so both can run on one host.
const defaultListenAddress = ":9751"

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	app := kingpin.New(exporterName, "Prometheus exporter for the Postfix mail queue.")
	webFlags := kingpinflag.AddFlags(app, defaultListenAddress)
	telemetryPath := app.Flag("web.telemetry-path", "Path under which to expose metrics.").
		Default("/metrics").String()
	logLevel := app.Flag("log.level", "Only log messages with this severity or above: debug, info, warn, error.").
		Default("info").Enum(logging.Levels...)
	logFormat := app.Flag("log.format", "Output format of log messages: logfmt or json.").
		Default("logfmt").Enum(logging.Formats...)
	once := app.Flag("once", "Read the queue once, print the metrics to stdout and exit; "+
		"the exit code is 1 when the queue could not be read.").Bool()
	cfg := addQueueFlags(app)
	flushCfg := addFlushFlags(app)
	actionsCfg := addActionsFlags(app)
	app.Version(version.Print(exporterName))
	app.HelpFlag.Short('h')
	if _, err := app.Parse(args); err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", exporterName, err)
		return 2
	}

	logger, slogger, err := logging.New(os.Stderr, *logFormat, *logLevel)
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", exporterName, err)
		return 2
	}

	instances, err := cfg.instances(logger)
	if err != nil {
		level.Error(logger).Log("msg", "Invalid configuration", "err", err)
		return 2
	}
	registry := prometheus.NewRegistry()
	queueCollector := collector.New(logger, 0, instances...)
	queueCollector.SnapshotAge = cfg.collect.background()
	registry.MustRegister(queueCollector, collector.NewBuildInfo())

	// The endpoints are set up before --once returns, so that invalid
	// flush and action flags are reported in both modes.
	mux := http.NewServeMux()
	if err := flushCfg.register(mux, registry, logger, cfg, instances); err != nil {
		level.Error(logger).Log("msg", "Invalid flush configuration", "err", err)
		return 2
	}
	if err := actionsCfg.register(mux, registry, logger, cfg, instances); err != nil {
		level.Error(logger).Log("msg", "Invalid queue actions configuration", "err", err)
		return 2
	}

	if *once {
		return printOnce(registry, os.Stdout, logger, len(instances))
	}
	if *cfg.input == "-" {
		level.Error(logger).Log("msg", "Invalid configuration",
			"err", "--postqueue.input=- reads standard input once, so it needs --once; name a file to serve it")
		return 2
	}

	level.Info(logger).Log("msg", "Starting "+exporterName, "version", version.Info())
	level.Info(logger).Log("msg", "Build context", "build_context", version.BuildContext())
	mux.Handle(*telemetryPath, promhttp.HandlerFor(
		prometheus.Gatherers{registry, exporterRegistry()},
		promhttp.HandlerOpts{ErrorLog: stdLogger{logger}, ErrorHandling: promhttp.ContinueOnError},
	))
	if *telemetryPath != "/" {
		landing, err := web.NewLandingPage(web.LandingConfig{
			Name:        "Postfix queue exporter",
			Description: "Prometheus exporter for the Postfix mail queue",
			Version:     version.Info(),
			Links:       []web.LandingLinks{{Address: *telemetryPath, Text: "Metrics"}},
			// The exporter serves no pprof handlers, so the page must not
			// link to them.
			Profiling: "false",
		})
		if err != nil {
			level.Error(logger).Log("msg", "Failed to build the landing page", "err", err)
			return 1
		}
		mux.Handle("/", landing)
	}

	// No WriteTimeout: a scrape may wait up to --postqueue.timeout for
	// postqueue. Reading a request, body included, gets 30 s at most, so a
	// client that sends its body slowly cannot hold a connection open.
	server := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		IdleTimeout:       2 * time.Minute,
	}
	return serve(server, webFlags, slogger, logger)
}

// serve runs the HTTP server until it fails or the process gets SIGTERM or
// SIGINT. On a signal it stops accepting scrapes, waits briefly for those in
// flight, and kills any Postfix command still running, so no postqueue
// outlives the exporter.
func serve(server *http.Server, webFlags *web.FlagConfig, slogger *slog.Logger, logger log.Logger) int {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()

	serveErr := make(chan error, 1)
	go func() { serveErr <- web.ListenAndServe(server, webFlags, slogger) }()

	select {
	case err := <-serveErr:
		level.Error(logger).Log("msg", "HTTP server stopped", "err", err)
		postfix.KillRunning()
		return 1
	case <-ctx.Done():
	}

	level.Info(logger).Log("msg", "Shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := server.Shutdown(shutdownCtx); err != nil {
		level.Warn(logger).Log("msg", "Scrapes still running at shutdown were cut off", "err", err)
	}
	postfix.KillRunning()
	return 0
}

// exporterRegistry holds the Go runtime and process metrics of the exporter
// itself, apart from the queue metrics so --once prints only the latter.
func exporterRegistry() *prometheus.Registry {
	registry := prometheus.NewRegistry()
	registry.MustRegister(
		prometheus.NewGoCollector(),
		prometheus.NewProcessCollector(prometheus.ProcessCollectorOpts{}),
	)
	return registry
}

// stdLogger lets promhttp report encoding errors through go-kit.
type stdLogger struct{ logger log.Logger }

func (l stdLogger) Println(v ...interface{}) {
	level.Error(l.logger).Log("msg", "Failed to serve metrics", "err", fmt.Sprint(v...))
}

// lookPostqueue returns postqueue's path from PATH, or /usr/sbin/postqueue,
// where Debian and most distributions install it, when PATH lacks it.
func lookPostqueue() string {
	if path, err := exec.LookPath("postqueue"); err == nil {
		return path
	}
	return "/usr/sbin/postqueue"
}
