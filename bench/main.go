// Command bench measures postfix_queue_exporter against a queue of a given
// size and prints one row of BENCHMARKS.md. The row has the cost of
// `postqueue -j` and of a scrape, the exporter's CPU time and peak memory,
// the postqueue runs that 50 concurrent scrapes cause, and the /metrics
// latency in background mode. When given Debian's prometheus-postfix-exporter,
// it measures that too. bench/run.sh prepares the queues and calls it once
// per size.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// row is one measured queue size.
type row struct {
	Source   string `json:"source"` // "lab" (a real Postfix queue) or "synthetic" (a saved listing)
	Messages int    `json:"messages"`

	PostqueueSeconds    float64 `json:"postqueue_seconds"`     // wall time of postqueue -j > /dev/null
	PostqueueCPUSeconds float64 `json:"postqueue_cpu_seconds"` // CPU time of the postqueue process
	ScrapeSeconds       float64 `json:"scrape_seconds"`
	ExporterCPUSeconds  float64 `json:"exporter_cpu_seconds"` // during one scrape
	PeakRSSBytes        int64   `json:"peak_rss_bytes"`

	ConcurrentScrapes int `json:"concurrent_scrapes"`
	ConcurrentRuns    int `json:"concurrent_runs"` // postqueue runs they caused

	BackgroundP50Seconds float64 `json:"background_p50_seconds"`
	BackgroundMaxSeconds float64 `json:"background_max_seconds"`

	PeerScrapeSeconds float64 `json:"peer_scrape_seconds,omitempty"`
	PeerCPUSeconds    float64 `json:"peer_cpu_seconds,omitempty"`
	PeerPeakRSSBytes  int64   `json:"peer_peak_rss_bytes,omitempty"`
}

type config struct {
	exporter   string
	postqueue  string
	peer       string
	source     string
	messages   int
	runs       int
	concurrent int
	workdir    string
	results    string
}

func main() {
	os.Exit(run())
}

func run() int {
	var c config
	flag.StringVar(&c.exporter, "exporter", "", "postfix_queue_exporter binary to measure")
	flag.StringVar(&c.postqueue, "postqueue", "/usr/sbin/postqueue", "postqueue binary, or a script that prints a saved listing for -j")
	flag.StringVar(&c.peer, "peer", "", "prometheus-postfix-exporter binary to compare with; empty to skip")
	flag.StringVar(&c.source, "source", "lab", "what the queue is, for the table: lab or synthetic")
	flag.IntVar(&c.messages, "n", 0, "messages in the queue, for the table")
	flag.IntVar(&c.runs, "runs", 3, "sequential runs of each measurement; the median is reported")
	flag.IntVar(&c.concurrent, "concurrent", 50, "concurrent scrapes for the single-flight check")
	flag.StringVar(&c.workdir, "workdir", os.TempDir(), "directory for logs and helper scripts")
	flag.StringVar(&c.results, "results", "", "file to append the row to, as a JSON line")
	generate := flag.String("generate", "", "write a synthetic `postqueue -j` listing of -n messages to this file and exit")
	table := flag.String("table", "", "print the rows of this results file as a Markdown table and exit")
	flag.Parse()

	var err error
	switch {
	case *generate != "":
		err = generateListing(*generate, c.messages)
	case *table != "":
		err = printTable(os.Stdout, *table)
	default:
		err = measure(c)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "bench: %v\n", err)
		return 1
	}
	return 0
}

func measure(c config) error {
	if c.exporter == "" {
		return fmt.Errorf("-exporter is required")
	}
	r := row{Source: c.source, Messages: c.messages, ConcurrentScrapes: c.concurrent}
	log := func(name string) string { return filepath.Join(c.workdir, fmt.Sprintf("%s-%d.log", name, c.messages)) }
	common := []string{"--postqueue.path=" + c.postqueue, "--postqueue.timeout=10m", "--log.level=warn"}

	// 1 and 2. postqueue -j on its own and sequential scrapes that each
	// list the queue, in turns, so that a change in the machine's load
	// affects both alike.
	exporter, err := startServer(c.exporter, "--web.listen-address", "/", append(common, "--postqueue.min-interval=0"), log("scrape"))
	if err != nil {
		return err
	}
	postqueue, cost, err := measureInTurns(c, exporter)
	if err == nil {
		r.PostqueueSeconds, r.PostqueueCPUSeconds = postqueue.wall.Seconds(), postqueue.cpu.Seconds()
		r.ScrapeSeconds, r.ExporterCPUSeconds = cost.wall.Seconds(), cost.cpu.Seconds()
		r.PeakRSSBytes, err = peakRSS(exporter.cmd.Process.Pid)
	}
	exporter.stop()
	if err != nil {
		return err
	}

	// 3. Concurrent scrapes through a postqueue that counts its runs.
	if r.ConcurrentRuns, err = concurrentRuns(c, log("concurrent")); err != nil {
		return err
	}

	// 4. Background mode: /metrics serves the last listing.
	if err := measureBackground(c, common, log("background"), &r); err != nil {
		return err
	}

	// 5. The older exporter, which reads the showq socket itself.
	if c.peer != "" {
		if err := measurePeer(c, log("peer"), &r); err != nil {
			return err
		}
	}

	printRow(os.Stdout, r)
	if c.results != "" {
		return appendResult(c.results, r)
	}
	return nil
}

// measureInTurns warms up with one postqueue run and one scrape, then
// alternates c.runs runs of `postqueue -j` with c.runs scrapes and returns
// the median of each.
func measureInTurns(c config, exporter *process) (postqueue, scrapes scrapeCost, err error) {
	if _, err := timeCommand(1, c.postqueue, "-j"); err != nil {
		return postqueue, scrapes, err
	}
	if _, err := scrape(exporter.url()); err != nil {
		return postqueue, scrapes, err
	}
	var postqueueWalls, postqueueCPUs, scrapeWalls, scrapeCPUs []time.Duration
	for range c.runs {
		run, err := timeCommand(1, c.postqueue, "-j")
		if err != nil {
			return postqueue, scrapes, err
		}
		postqueueWalls, postqueueCPUs = append(postqueueWalls, run.wall), append(postqueueCPUs, run.cpu)
		one, err := measureScrapes(exporter, 1)
		if err != nil {
			return postqueue, scrapes, err
		}
		scrapeWalls, scrapeCPUs = append(scrapeWalls, one.wall), append(scrapeCPUs, one.cpu)
	}
	postqueue = scrapeCost{wall: median(postqueueWalls), cpu: median(postqueueCPUs)}
	scrapes = scrapeCost{wall: median(scrapeWalls), cpu: median(scrapeCPUs)}
	return postqueue, scrapes, nil
}

// warmAndMeasure scrapes once to warm up caches, then measures runs scrapes.
func warmAndMeasure(p *process, runs int) (scrapeCost, error) {
	if _, err := scrape(p.url()); err != nil {
		return scrapeCost{}, err
	}
	return measureScrapes(p, runs)
}

func concurrentRuns(c config, logPath string) (int, error) {
	counter := filepath.Join(c.workdir, fmt.Sprintf("postqueue-runs-%d", c.messages))
	os.Remove(counter)
	script := filepath.Join(c.workdir, "counting-postqueue")
	body := fmt.Sprintf("#!/bin/sh\necho run >> %q\nexec %q \"$@\"\n", counter, c.postqueue)
	if err := os.WriteFile(script, []byte(body), 0o755); err != nil {
		return 0, err
	}
	args := []string{"--postqueue.path=" + script, "--postqueue.timeout=10m", "--log.level=warn", "--postqueue.min-interval=0"}
	exporter, err := startServer(c.exporter, "--web.listen-address", "/", args, logPath)
	if err != nil {
		return 0, err
	}
	defer exporter.stop()

	start := make(chan struct{})
	errs := make(chan error, c.concurrent)
	var wg sync.WaitGroup
	for range c.concurrent {
		wg.Go(func() {
			<-start
			_, err := scrape(exporter.url())
			errs <- err
		})
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			return 0, err
		}
	}
	data, err := os.ReadFile(counter)
	if err != nil {
		return 0, err
	}
	return strings.Count(string(data), "\n"), nil
}

func measureBackground(c config, common []string, logPath string, r *row) error {
	args := append(append([]string{}, common...), "--collect.mode=background", "--collect.interval=1h")
	exporter, err := startServer(c.exporter, "--web.listen-address", "/", args, logPath)
	if err != nil {
		return err
	}
	defer exporter.stop()
	// The first scrape waits for the first listing.
	if _, err := scrape(exporter.url()); err != nil {
		return err
	}
	var latencies []time.Duration
	for range 20 {
		latency, err := scrape(exporter.url())
		if err != nil {
			return err
		}
		latencies = append(latencies, latency)
	}
	r.BackgroundP50Seconds = median(latencies).Seconds()
	r.BackgroundMaxSeconds = maxDuration(latencies).Seconds()
	return nil
}

func measurePeer(c config, logPath string, r *row) error {
	emptyLog := filepath.Join(c.workdir, "empty-mail.log")
	if err := os.WriteFile(emptyLog, nil, 0o644); err != nil {
		return err
	}
	peer, err := startServer(c.peer, "--web.listen-address", "/metrics", []string{"--postfix.logfile_path=" + emptyLog}, logPath)
	if err != nil {
		return err
	}
	defer peer.stop()
	cost, err := warmAndMeasure(peer, c.runs)
	if err != nil {
		return err
	}
	r.PeerScrapeSeconds, r.PeerCPUSeconds = cost.wall.Seconds(), cost.cpu.Seconds()
	r.PeerPeakRSSBytes, err = peakRSS(peer.cmd.Process.Pid)
	return err
}

func maxDuration(values []time.Duration) time.Duration {
	var longest time.Duration
	for _, v := range values {
		longest = max(longest, v)
	}
	return longest
}

func appendResult(path string, r row) error {
	file, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer file.Close()
	return json.NewEncoder(file).Encode(r)
}
