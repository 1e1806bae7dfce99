package e2e

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Time limits of the exporter helpers.
const (
	exporterStartTimeout = 30 * time.Second
	exporterStopTimeout  = 10 * time.Second
	scrapeTimeout        = 60 * time.Second
)

// Exporter is a postfix_queue_exporter process started by StartExporter.
type Exporter struct {
	// URL is the base URL, http://127.0.0.1:PORT without a trailing slash.
	URL string

	cmd     *exec.Cmd
	logPath string        // file with the exporter's stdout and stderr
	exited  chan struct{} // closed when the process has exited
}

// StartExporter starts the built exporter as root, listening on a free
// 127.0.0.1 port, with args added after --web.listen-address. It returns
// once the exporter serves HTTP, and stops it when the test ends.
func StartExporter(t testing.TB, args ...string) *Exporter {
	t.Helper()
	return startExporter(t, "", args)
}

// StartExporterAs is StartExporter with the exporter running as user, with
// that user's groups.
func StartExporterAs(t testing.TB, user string, args ...string) *Exporter {
	t.Helper()
	return startExporter(t, user, args)
}

func startExporter(t testing.TB, user string, args []string) *Exporter {
	t.Helper()
	RequireLab(t)
	address := freeAddress(t)
	args = append([]string{"--web.listen-address=" + address}, args...)

	var cmd *exec.Cmd
	if user == "" {
		cmd = exec.Command(exporterBinary, args...)
	} else {
		cmd = exec.Command("setpriv", asUser(user, exporterBinary, args...)...)
	}
	// The exporter writes its log straight into a file, so a line logged
	// while serving a scrape is in the file before the response arrives.
	// Through a pipe, copied by a goroutine, it could come later.
	logFile, err := os.Create(filepath.Join(t.TempDir(), "exporter.log"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { logFile.Close() })
	e := &Exporter{
		URL:     "http://" + address,
		cmd:     cmd,
		logPath: logFile.Name(),
		exited:  make(chan struct{}),
	}
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	// GORACE makes a race-enabled exporter report every race it finds.
	cmd.Env = append(os.Environ(), "GORACE=halt_on_error=0")
	if err := cmd.Start(); err != nil {
		t.Fatalf("start exporter: %v", err)
	}
	go func() {
		_ = cmd.Wait()
		close(e.exited)
	}()
	t.Cleanup(func() { e.stop(t) })

	e.waitReady(t)
	return e
}

// freeAddress returns a 127.0.0.1 address whose port was free a moment ago.
func freeAddress(t testing.TB) string {
	t.Helper()
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("find a free port: %v", err)
	}
	defer listener.Close()
	return listener.Addr().String()
}

// waitReady polls the landing page until it returns status 200.
func (e *Exporter) waitReady(t testing.TB) {
	t.Helper()
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(exporterStartTimeout)
	for {
		response, err := client.Get(e.URL + "/")
		if err == nil {
			response.Body.Close()
			if response.StatusCode == http.StatusOK {
				return
			}
		}
		select {
		case <-e.exited:
			t.Fatalf("exporter exited before serving HTTP (%s)\nlog:\n%s", e.cmd.ProcessState, e.Log())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("exporter did not serve %s/ within %s (last error: %v)\nlog:\n%s",
				e.URL, exporterStartTimeout, err, e.Log())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// stop ends the exporter with SIGTERM, or SIGKILL if it does not exit, and
// fails the test if a race-enabled build reported a data race.
func (e *Exporter) stop(t testing.TB) {
	_ = syscall.Kill(-e.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-e.exited:
	case <-time.After(exporterStopTimeout):
		_ = syscall.Kill(-e.cmd.Process.Pid, syscall.SIGKILL)
		<-e.exited
	}
	if strings.Contains(e.Log(), "WARNING: DATA RACE") {
		t.Errorf("the exporter reported a data race:\n%s", e.Log())
	}
}

// Log returns what the exporter wrote to stderr and stdout so far.
func (e *Exporter) Log() string {
	data, err := os.ReadFile(e.logPath)
	if err != nil {
		return fmt.Sprintf("(cannot read the exporter log: %v)", err)
	}
	return string(data)
}

// MetricsURL returns the URL of the default telemetry path.
func (e *Exporter) MetricsURL() string {
	return e.URL + "/metrics"
}

// ScrapeText fetches the exporter's /metrics and returns the body.
func (e *Exporter) ScrapeText(t testing.TB) string {
	t.Helper()
	return ScrapeText(t, e.MetricsURL())
}

// Scrape fetches and parses the exporter's /metrics.
func (e *Exporter) Scrape(t testing.TB) Metrics {
	t.Helper()
	return Scrape(t, e.MetricsURL())
}

// ScrapeText fetches url, which must return status 200, and returns the body.
func ScrapeText(t testing.TB, url string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
	defer cancel()
	request, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		t.Fatalf("scrape %s: %v", url, err)
	}
	response, err := http.DefaultClient.Do(request)
	if err != nil {
		t.Fatalf("scrape %s: %v", url, err)
	}
	defer response.Body.Close()
	body, err := io.ReadAll(response.Body)
	if err != nil {
		t.Fatalf("scrape %s: read body: %v", url, err)
	}
	if response.StatusCode != http.StatusOK {
		t.Fatalf("scrape %s: status %s\n%s", url, response.Status, body)
	}
	return string(body)
}

// Scrape fetches url and parses it as Prometheus text exposition.
func Scrape(t testing.TB, url string) Metrics {
	t.Helper()
	return ParseMetrics(t, ScrapeText(t, url))
}

// RunOnce runs the built exporter as root with --once and args, with stdin
// as its standard input (nil for none). It returns stdout, which holds the
// exposition text, stderr with the log, and the exit code.
func RunOnce(t testing.TB, stdin []byte, args ...string) Result {
	t.Helper()
	RequireLab(t)
	result, err := runCommand(commandSpec{
		Name:  exporterBinary,
		Args:  append([]string{"--once"}, args...),
		Stdin: stdin,
	})
	if err != nil {
		t.Fatalf("%s --once %s: %v", binaryName, strings.Join(args, " "), err)
	}
	return result
}

// String describes the exporter for test messages.
func (e *Exporter) String() string {
	return fmt.Sprintf("exporter at %s (pid %d)", e.URL, e.cmd.Process.Pid)
}

// logBuffer collects the output of a process that tests read while it runs.
// exec copies into it from its own goroutine, so a line can arrive a moment
// after the process wrote it.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
