package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// Time limits of the Prometheus helpers.
const (
	prometheusInstallTimeout = 10 * time.Minute
	prometheusStartTimeout   = 60 * time.Second
	prometheusStopTimeout    = 10 * time.Second
	prometheusQueryTimeout   = 30 * time.Second
)

// prometheusPackageBinary is where Debian's prometheus package installs the
// server.
const prometheusPackageBinary = "/usr/bin/prometheus"

// RequirePrometheus returns the path of Debian's Prometheus server and
// installs the prometheus package when it is missing.
func RequirePrometheus(t testing.TB) string {
	t.Helper()
	RequireLab(t)
	if _, err := os.Stat(prometheusPackageBinary); err == nil {
		return prometheusPackageBinary
	}
	// NOTE: on a host where systemd runs, the package's postinst also starts
	// prometheus.service on port 9090; in containers policy-rc.d stops that.
	install := []string{"install", "-y", "-qq", "--no-install-recommends", "prometheus"}
	env := []string{"DEBIAN_FRONTEND=noninteractive"}
	result, err := runCommand(commandSpec{Name: "apt-get", Args: install, Env: env, Timeout: prometheusInstallTimeout})
	if err == nil && result.ExitCode != 0 {
		// A fresh machine may have no package lists yet.
		update := commandSpec{Name: "apt-get", Args: []string{"update", "-qq"}, Env: env, Timeout: prometheusInstallTimeout}
		if _, err = runCommand(update); err == nil {
			result, err = runCommand(commandSpec{Name: "apt-get", Args: install, Env: env, Timeout: prometheusInstallTimeout})
		}
	}
	if err != nil {
		t.Fatalf("apt-get install prometheus: %v", err)
	}
	if result.ExitCode != 0 {
		t.Fatalf("apt-get install prometheus: exit code %d\n%s%s", result.ExitCode, result.Stdout, result.Stderr)
	}
	return prometheusPackageBinary
}

// PrometheusServer is a Prometheus process started by StartPrometheus.
type PrometheusServer struct {
	// URL is the base URL, http://127.0.0.1:PORT.
	URL string

	cmd    *exec.Cmd
	log    *logBuffer
	exited chan struct{}
}

// StartPrometheus starts binary with configFile on a free 127.0.0.1 port and
// storage in a temporary directory, waits until it is ready and stops it
// when the test ends.
func StartPrometheus(t testing.TB, binary, configFile string) *PrometheusServer {
	t.Helper()
	address := freeAddress(t)
	cmd := exec.Command(binary,
		"--config.file="+configFile,
		"--web.listen-address="+address,
		"--storage.tsdb.path="+filepath.Join(t.TempDir(), "data"),
		"--log.level=warn",
	)
	server := &PrometheusServer{
		URL:    "http://" + address,
		cmd:    cmd,
		log:    &logBuffer{},
		exited: make(chan struct{}),
	}
	cmd.Stdout = server.log
	cmd.Stderr = server.log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start prometheus: %v", err)
	}
	go func() {
		_ = cmd.Wait()
		close(server.exited)
	}()
	t.Cleanup(server.stop)

	server.waitReady(t)
	return server
}

// waitReady polls /-/ready until it returns 200.
func (p *PrometheusServer) waitReady(t testing.TB) {
	t.Helper()
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(prometheusStartTimeout)
	for {
		response, err := client.Get(p.URL + "/-/ready")
		if err == nil {
			response.Body.Close()
			if response.StatusCode == http.StatusOK {
				return
			}
		}
		select {
		case <-p.exited:
			t.Fatalf("prometheus exited before it was ready (%s)\nlog:\n%s", p.cmd.ProcessState, p.log)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("prometheus at %s was not ready within %s (last error: %v)\nlog:\n%s",
				p.URL, prometheusStartTimeout, err, p.log)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (p *PrometheusServer) stop() {
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(prometheusStopTimeout):
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.exited
	}
}

// Log returns what Prometheus wrote so far.
func (p *PrometheusServer) Log() string {
	return p.log.String()
}

// apiResponse is the envelope of every Prometheus HTTP API response.
type apiResponse struct {
	Status    string          `json:"status"`
	Data      json.RawMessage `json:"data"`
	ErrorType string          `json:"errorType"`
	Error     string          `json:"error"`
}

// APIError is an error that the Prometheus API returned, such as a PromQL
// syntax error (errorType bad_data).
type APIError struct {
	Type    string
	Message string
}

func (e *APIError) Error() string {
	return e.Type + ": " + e.Message
}

// get calls the API path with query parameters and decodes its data into
// out. It returns an *APIError when the API reports an error, and fails the
// test when the request itself fails.
func (p *PrometheusServer) get(t testing.TB, path string, params url.Values, out any) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), prometheusQueryTimeout)
	defer cancel()
	request, err := http.NewRequestWithContext(ctx, http.MethodGet, p.URL+path+"?"+params.Encode(), nil)
	if err != nil {
		t.Fatalf("prometheus %s: %v", path, err)
	}
	response, err := http.DefaultClient.Do(request)
	if err != nil {
		t.Fatalf("prometheus %s: %v", path, err)
	}
	defer response.Body.Close()
	body, err := io.ReadAll(response.Body)
	if err != nil {
		t.Fatalf("prometheus %s: read body: %v", path, err)
	}

	var envelope apiResponse
	if err := json.Unmarshal(body, &envelope); err != nil {
		t.Fatalf("prometheus %s: status %s, body is not an API response: %v\n%s", path, response.Status, err, body)
	}
	if envelope.Status != "success" {
		return &APIError{Type: envelope.ErrorType, Message: envelope.Error}
	}
	if err := json.Unmarshal(envelope.Data, out); err != nil {
		t.Fatalf("prometheus %s: decode data: %v\n%s", path, err, envelope.Data)
	}
	return nil
}

// QueryResult is the data of an instant query.
type QueryResult struct {
	ResultType string             `json:"resultType"`
	Result     json.RawMessage    `json:"result"`
	Series     []PrometheusSeries `json:"-"`
}

// PrometheusSeries is one series of a vector result.
type PrometheusSeries struct {
	Metric map[string]string `json:"metric"`
	Value  [2]any            `json:"value"`
}

// Query runs an instant query. It returns an *APIError when Prometheus
// rejects the expression.
func (p *PrometheusServer) Query(t testing.TB, expr string) (QueryResult, error) {
	t.Helper()
	var result QueryResult
	if err := p.get(t, "/api/v1/query", url.Values{"query": {expr}}, &result); err != nil {
		return result, err
	}
	if result.ResultType == "vector" {
		if err := json.Unmarshal(result.Result, &result.Series); err != nil {
			t.Fatalf("query %s: decode vector: %v", expr, err)
		}
	}
	return result, nil
}

// SeriesCount returns how many series a query result contains. A scalar or
// a string counts as one.
func (r QueryResult) SeriesCount() int {
	switch r.ResultType {
	case "vector":
		return len(r.Series)
	case "matrix":
		var matrix []json.RawMessage
		if err := json.Unmarshal(r.Result, &matrix); err != nil {
			return 0
		}
		return len(matrix)
	}
	return 1
}

// PrometheusRule is a rule as /api/v1/rules reports it.
type PrometheusRule struct {
	Name      string `json:"name"`
	Query     string `json:"query"`
	Type      string `json:"type"` // "alerting" or "recording"
	Health    string `json:"health"`
	LastError string `json:"lastError"`
	State     string `json:"state"` // alerting rules only
}

// Rules returns the rules of every loaded group, by group name.
func (p *PrometheusServer) Rules(t testing.TB) map[string][]PrometheusRule {
	t.Helper()
	var data struct {
		Groups []struct {
			Name  string           `json:"name"`
			Rules []PrometheusRule `json:"rules"`
		} `json:"groups"`
	}
	if err := p.get(t, "/api/v1/rules", nil, &data); err != nil {
		t.Fatalf("prometheus /api/v1/rules: %v", err)
	}
	groups := make(map[string][]PrometheusRule, len(data.Groups))
	for _, group := range data.Groups {
		groups[group.Name] = group.Rules
	}
	return groups
}

// PrometheusAlert is an active alert as /api/v1/alerts reports it.
type PrometheusAlert struct {
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
	State       string            `json:"state"` // "pending" or "firing"
}

// Alerts returns the pending and firing alerts.
func (p *PrometheusServer) Alerts(t testing.TB) []PrometheusAlert {
	t.Helper()
	var data struct {
		Alerts []PrometheusAlert `json:"alerts"`
	}
	if err := p.get(t, "/api/v1/alerts", nil, &data); err != nil {
		t.Fatalf("prometheus /api/v1/alerts: %v", err)
	}
	return data.Alerts
}

// PrometheusTarget is an active scrape target.
type PrometheusTarget struct {
	Labels     map[string]string `json:"labels"`
	ScrapeURL  string            `json:"scrapeUrl"`
	Health     string            `json:"health"`
	LastError  string            `json:"lastError"`
	ScrapePool string            `json:"scrapePool"`
}

// Targets returns the active scrape targets.
func (p *PrometheusServer) Targets(t testing.TB) []PrometheusTarget {
	t.Helper()
	var data struct {
		ActiveTargets []PrometheusTarget `json:"activeTargets"`
	}
	if err := p.get(t, "/api/v1/targets", url.Values{"state": {"active"}}, &data); err != nil {
		t.Fatalf("prometheus /api/v1/targets: %v", err)
	}
	return data.ActiveTargets
}

// String describes the server for test messages.
func (p *PrometheusServer) String() string {
	return fmt.Sprintf("prometheus at %s (pid %d)", p.URL, p.cmd.Process.Pid)
}
