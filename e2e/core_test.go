package e2e

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// testUser is the system user that the non-root tests run the exporter as.
const testUser = "pqe-test"

// queueFamilies are the metrics published only after a successful read.
var queueFamilies = []string{
	"postfix_queue_messages",
	"postfix_queue_size_bytes",
	"postfix_queue_recipients",
	"postfix_queue_oldest_message_age_seconds",
}

// checkNoQueueSeries fails the test if m has any per-queue series.
func checkNoQueueSeries(t *testing.T, m Metrics) {
	t.Helper()
	for _, name := range queueFamilies {
		if n := m.Count(name); n != 0 {
			t.Errorf("%s has %d series after a failed read, want none", name, n)
		}
	}
}

func checkGauge(t *testing.T, m Metrics, name string, want float64, labelPairs ...string) {
	t.Helper()
	checkValue(t, m, name, labelPairs, want)
}

func TestCoreScrapeMatchesQueue(t *testing.T) {
	RequireLab(t)
	EnsurePopulated(t)
	exporter := StartExporter(t, "--postqueue.min-interval=0")

	var body string
	obs := ObserveStable(t, func() Metrics {
		body = exporter.ScrapeText(t)
		return ParseMetrics(t, body)
	})

	CheckQueueMetrics(t, obs, nil)
	checkGauge(t, obs.Metrics, "postfix_up", 1)
	if got, want := strings.Join(obs.Metrics.LabelValues("postfix_queue_messages", "queue"), ","),
		"active,deferred,hold,incoming,maildrop"; got != want {
		t.Errorf("queue labels = %s, want %s", got, want)
	}
	for _, reason := range []string{"timeout", "permission", "mail_system_down", "exec", "parse"} {
		checkGauge(t, obs.Metrics, "postfix_exporter_collect_errors_total", 0, "reason", reason)
	}
	checkGauge(t, obs.Metrics, "postfix_exporter_build_info", 1, "version", "e2e")
	if n := obs.Metrics.Count("postfix_exporter_last_collect_success_timestamp_seconds"); n != 1 {
		t.Errorf("postfix_exporter_last_collect_success_timestamp_seconds has %d series, want 1", n)
	}

	// promtool prints nothing and exits 0 for clean exposition text.
	lint := CommandInput(t, []byte(body), "promtool", "check", "metrics")
	if lint.ExitCode != 0 {
		t.Errorf("promtool check metrics: exit code %d\n%s%s", lint.ExitCode, lint.Stdout, lint.Stderr)
	}
}

func TestCoreOnceMatchesStdin(t *testing.T) {
	RequireLab(t)
	EnsurePopulated(t)

	// --once running postqueue itself.
	obs := ObserveStable(t, func() Metrics {
		result := RunOnce(t, nil, "--postqueue.min-interval=0")
		if result.ExitCode != 0 {
			t.Fatalf("--once: exit code %d\n%s", result.ExitCode, result.Stderr)
		}
		return ParseMetrics(t, result.Stdout)
	})
	CheckQueueMetrics(t, obs, nil)
	checkGauge(t, obs.Metrics, "postfix_up", 1)

	// `postqueue -j | postfix_queue_exporter --once --postqueue.input=-`,
	// fed with the listing that ReadQueue took.
	start := time.Now()
	result := RunOnce(t, obs.Queue.Listing, "--postqueue.input=-")
	piped := Observation{Metrics: ParseMetrics(t, result.Stdout), Queue: obs.Queue, Start: start, End: time.Now()}
	if result.ExitCode != 0 {
		t.Fatalf("--once --postqueue.input=-: exit code %d\n%s", result.ExitCode, result.Stderr)
	}
	CheckQueueMetrics(t, piped, nil)
	checkGauge(t, piped.Metrics, "postfix_up", 1)

	for _, name := range []string{"postfix_queue_messages", "postfix_queue_size_bytes", "postfix_queue_recipients"} {
		for _, queue := range queueNames {
			direct := obs.Metrics.Get(t, name, "queue", queue)
			fromStdin := piped.Metrics.Get(t, name, "queue", queue)
			if direct != fromStdin {
				t.Errorf("%s{queue=%q}: --once prints %g, --postqueue.input=- prints %g", name, queue, direct, fromStdin)
			}
		}
	}
}

func TestCoreOnceFailureExitCode(t *testing.T) {
	RequireLab(t)
	result := RunOnce(t, []byte("<html>not a listing</html>\n"), "--postqueue.input=-")

	if result.ExitCode != 1 {
		t.Errorf("--once with an invalid listing: exit code %d, want 1", result.ExitCode)
	}
	metrics := ParseMetrics(t, result.Stdout)
	checkGauge(t, metrics, "postfix_up", 0)
	checkGauge(t, metrics, "postfix_exporter_collect_errors_total", 1, "reason", "parse")
	checkNoQueueSeries(t, metrics)
	if !strings.Contains(result.Stderr, "line 1") {
		t.Errorf("log does not name the offending line:\n%s", result.Stderr)
	}
}

func TestCoreTextFormat(t *testing.T) {
	RequireLab(t)
	EnsurePopulated(t)
	exporter := StartExporter(t, "--postqueue.format=text", "--postqueue.min-interval=0")

	obs := ObserveStable(t, func() Metrics { return exporter.Scrape(t) })

	// postqueue -p marks only active and held messages, so maildrop and
	// incoming mail is counted as deferred.
	want := obs.Queue.TextView()
	CheckQueueMetrics(t, obs, &want)
	checkGauge(t, obs.Metrics, "postfix_up", 1)
}

func TestCoreNonRoot(t *testing.T) {
	RequireLab(t)
	EnsurePopulated(t)
	EnsureUser(t, testUser, "postdrop")
	exporter := StartExporterAs(t, testUser, "--postqueue.min-interval=0")

	obs := ObserveStable(t, func() Metrics { return exporter.Scrape(t) })

	if uid := processUID(t, exporter.cmd.Process.Pid); uid == 0 {
		t.Fatalf("the exporter runs as root, want %s", testUser)
	}
	CheckQueueMetrics(t, obs, nil)
	checkGauge(t, obs.Metrics, "postfix_up", 1)
}

func TestCoreMailqUsersRoot(t *testing.T) {
	RequireLab(t)
	EnsurePopulated(t)
	EnsureUser(t, testUser, "postdrop")
	SetPostconf(t, "authorized_mailq_users = root")
	// postqueue itself now rejects the user.
	if direct := RunAs(t, testUser, "postqueue", "-j"); direct.ExitCode == 0 {
		t.Fatalf("postqueue -j as %s exits 0 with authorized_mailq_users = root", testUser)
	}
	exporter := StartExporterAs(t, testUser, "--postqueue.min-interval=0")

	metrics := exporter.Scrape(t)

	checkGauge(t, metrics, "postfix_up", 0)
	checkGauge(t, metrics, "postfix_exporter_collect_errors_total", 1, "reason", "permission")
	checkNoQueueSeries(t, metrics)
	if log := exporter.Log(); !strings.Contains(log, "not allowed to view the mail queue") {
		t.Errorf("log does not contain postqueue's error:\n%s", log)
	}
}

func TestCorePostfixStopped(t *testing.T) {
	RequireLab(t)
	EnsurePopulated(t)
	EnsureUser(t, testUser, "postdrop")
	StopPostfix(t)

	t.Run("root", func(t *testing.T) {
		// As root, postqueue reads the queue files itself and warns.
		exporter := StartExporter(t, "--postqueue.min-interval=0")

		obs := ObserveStable(t, func() Metrics { return exporter.Scrape(t) })

		CheckQueueMetrics(t, obs, nil)
		checkGauge(t, obs.Metrics, "postfix_up", 0)
		if got := obs.Metrics.Get(t, "postfix_exporter_collect_errors_total", "reason", "mail_system_down"); got < 1 {
			t.Errorf("postfix_exporter_collect_errors_total{reason=\"mail_system_down\"} = %g, want at least 1", got)
		}
		if log := exporter.Log(); !strings.Contains(log, "level=warn") || !strings.Contains(log, "Postfix is not running") {
			t.Errorf("log has no warning that Postfix is not running:\n%s", log)
		}
	})

	t.Run("non-root", func(t *testing.T) {
		exporter := StartExporterAs(t, testUser, "--postqueue.min-interval=0")

		metrics := exporter.Scrape(t)

		checkGauge(t, metrics, "postfix_up", 0)
		checkGauge(t, metrics, "postfix_exporter_collect_errors_total", 1, "reason", "mail_system_down")
		checkNoQueueSeries(t, metrics)
		if log := exporter.Log(); !strings.Contains(log, "mail system is down") {
			t.Errorf("log does not contain postqueue's error:\n%s", log)
		}
	})
}

func TestCoreHangingPostqueue(t *testing.T) {
	RequireLab(t)
	// The fake postqueue records its PID and that of a child that keeps
	// stdout open, and waits forever.
	dir := t.TempDir()
	pids := filepath.Join(dir, "pids")
	script := writeScript(t, dir, "hanging-postqueue", fmt.Sprintf(`
echo $$ >> %[1]q
sleep 300 &
echo $! >> %[1]q
wait
`, pids))
	exporter := StartExporter(t, "--postqueue.path="+script, "--postqueue.timeout=1s", "--postqueue.min-interval=0")

	metrics := exporter.Scrape(t)

	checkGauge(t, metrics, "postfix_up", 0)
	checkGauge(t, metrics, "postfix_exporter_collect_errors_total", 1, "reason", "timeout")
	checkNoQueueSeries(t, metrics)
	if log := exporter.Log(); !strings.Contains(log, "reason=timeout") {
		t.Errorf("log has no timeout error:\n%s", log)
	}
	data, err := os.ReadFile(pids)
	if err != nil {
		t.Fatalf("the fake postqueue did not run: %v", err)
	}
	recorded := strings.Fields(string(data))
	if len(recorded) != 2 {
		t.Fatalf("the fake postqueue recorded %d PIDs, want 2 (itself and its child)", len(recorded))
	}
	for _, field := range recorded {
		pid, err := strconv.Atoi(field)
		if err != nil {
			t.Fatalf("invalid PID %q in %s", field, pids)
		}
		waitProcessGone(t, pid)
	}
}

func TestCoreConcurrentScrapes(t *testing.T) {
	RequireLab(t)
	EnsurePopulated(t)
	// The wrapper counts its runs and holds postqueue back until the test
	// creates the release file, so that every scrape arrives while the
	// first run is in flight.
	dir := t.TempDir()
	runs := filepath.Join(dir, "runs")
	release := filepath.Join(dir, "release")
	postqueue, err := exec.LookPath("postqueue")
	if err != nil {
		postqueue = "/usr/sbin/postqueue"
	}
	script := writeScript(t, dir, "counting-postqueue", fmt.Sprintf(`
echo run >> %q
while [ ! -e %q ]; do sleep 0.05; done
exec %q "$@"
`, runs, release, postqueue))
	exporter := StartExporter(t, "--postqueue.path="+script, "--postqueue.min-interval=0", "--postqueue.timeout=60s")

	const scrapes = 50
	bodies := make([]string, scrapes)
	errs := make([]error, scrapes)
	var written atomic.Int32
	var wg sync.WaitGroup
	for i := range scrapes {
		wg.Go(func() {
			bodies[i], errs[i] = fetch(exporter.MetricsURL(), func() { written.Add(1) })
		})
	}
	waitFor(t, 30*time.Second, "all scrape requests to be sent", func() bool { return written.Load() == scrapes })
	waitFor(t, 30*time.Second, "the first postqueue run", func() bool { return countLines(runs) > 0 })
	// NOTE: the exporter gives no sign that a request has reached the
	// collector, so the test waits a second for the last requests sent to
	// be read before postqueue may finish.
	time.Sleep(time.Second)
	if err := os.WriteFile(release, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	wg.Wait()

	if n := countLines(runs); n != 1 {
		t.Errorf("postqueue ran %d times for %d concurrent scrapes, want 1", n, scrapes)
	}
	var first Metrics
	for i := range scrapes {
		if errs[i] != nil {
			t.Errorf("scrape %d: %v", i, errs[i])
			continue
		}
		metrics := ParseMetrics(t, bodies[i])
		checkGauge(t, metrics, "postfix_up", 1)
		if first == nil {
			first = metrics
			continue
		}
		for _, queue := range queueNames {
			if got, want := metrics.Get(t, "postfix_queue_messages", "queue", queue),
				first.Get(t, "postfix_queue_messages", "queue", queue); got != want {
				t.Errorf("scrape %d: postfix_queue_messages{queue=%q} = %g, other scrapes %g", i, queue, got, want)
			}
		}
	}
}

// fetch GETs url and returns the body, calling sent once the request has
// been written to the connection.
func fetch(url string, sent func()) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
	defer cancel()
	trace := &httptrace.ClientTrace{WroteRequest: func(httptrace.WroteRequestInfo) { sent() }}
	request, err := http.NewRequestWithContext(httptrace.WithClientTrace(ctx, trace), http.MethodGet, url, nil)
	if err != nil {
		return "", err
	}
	// A transport of its own gives every request its own connection.
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	response, err := client.Do(request)
	if err != nil {
		return "", err
	}
	defer response.Body.Close()
	body, err := io.ReadAll(response.Body)
	if err != nil {
		return "", err
	}
	if response.StatusCode != http.StatusOK {
		return "", fmt.Errorf("status %s", response.Status)
	}
	return string(body), nil
}

// writeScript writes an executable /bin/sh script named name into dir.
func writeScript(t *testing.T, dir, name, body string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte("#!/bin/sh\n"+body), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

// countLines returns the number of lines in file, 0 if it does not exist.
func countLines(file string) int {
	data, err := os.ReadFile(file)
	if err != nil {
		return 0
	}
	return strings.Count(string(data), "\n")
}

// processUID returns the real user ID of a running process.
func processUID(t *testing.T, pid int) int {
	t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if fields := strings.Fields(line); len(fields) > 1 && fields[0] == "Uid:" {
			uid, err := strconv.Atoi(fields[1])
			if err != nil {
				t.Fatalf("invalid Uid line %q", line)
			}
			return uid
		}
	}
	t.Fatalf("no Uid line in /proc/%d/status", pid)
	return -1
}

// waitProcessGone fails the test unless pid exits within ten seconds. A
// zombie counts as gone: it has exited and only waits for its parent.
func waitProcessGone(t *testing.T, pid int) {
	t.Helper()
	gone := func() bool {
		if err := syscall.Kill(pid, 0); err == syscall.ESRCH {
			return true
		}
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			return true
		}
		fields := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
		return len(fields) > 0 && (fields[0] == "Z" || fields[0] == "X")
	}
	deadline := time.Now().Add(10 * time.Second)
	for !gone() {
		if time.Now().After(deadline) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
			t.Errorf("process %d of the fake postqueue still runs after the timeout", pid)
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}
