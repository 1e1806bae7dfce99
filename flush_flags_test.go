package main

import (
	"bytes"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/alecthomas/kingpin/v2"
	"github.com/go-kit/log"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/exporter-toolkit/web"

	"github.com/postfix-queue-exporter/postfix_queue_exporter/flush"
)

const flushTestToken = "0123456789abcdef0123456789abcdef"

// flushSetup is a parsed command line with a fake postqueue that records
// its arguments.
type flushSetup struct {
	dir      string
	argsFile string
	token    string // path of a valid token file
}

func newFlushSetup(t *testing.T) *flushSetup {
	t.Helper()
	dir := t.TempDir()
	s := &flushSetup{dir: dir, argsFile: filepath.Join(dir, "args"), token: filepath.Join(dir, "token")}
	script := "#!/bin/sh\nprintf '%s\\n' \"$*\" >> '" + s.argsFile + "'\n"
	if err := os.WriteFile(filepath.Join(dir, "postqueue"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(s.token, []byte(flushTestToken+"\n"), 0o640); err != nil {
		t.Fatal(err)
	}
	return s
}

// register parses args after --postqueue.path and runs the flush
// registration on a new mux.
func (s *flushSetup) register(t *testing.T, args ...string) (*http.ServeMux, string, error) {
	t.Helper()
	app := kingpin.New("test", "")
	queueCfg := addQueueFlags(app)
	flushCfg := addFlushFlags(app)
	if _, err := app.Parse(append([]string{"--postqueue.path", filepath.Join(s.dir, "postqueue")}, args...)); err != nil {
		t.Fatalf("parse %q: %v", args, err)
	}
	var logs bytes.Buffer
	logger := log.NewLogfmtLogger(&logs)
	instances, err := queueCfg.instances(logger)
	if err != nil {
		return nil, logs.String(), err
	}
	mux := http.NewServeMux()
	err = flushCfg.register(mux, prometheus.NewRegistry(), logger, queueCfg, instances)
	return mux, logs.String(), err
}

func (s *flushSetup) calls(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile(s.argsFile)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(data))
}

func TestFlushFlagsRejectStart(t *testing.T) {
	s := newFlushSetup(t)
	emptyToken := filepath.Join(s.dir, "empty")
	if err := os.WriteFile(emptyToken, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	openToken := filepath.Join(s.dir, "open")
	if err := os.WriteFile(openToken, []byte(flushTestToken), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(openToken, 0o644); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name string
		args []string
		want string // in the error
	}{
		{name: "no token file", args: []string{"--flush.enable"}, want: "--flush.token-file"},
		{name: "missing token file", args: []string{"--flush.enable", "--flush.token-file", filepath.Join(s.dir, "none")},
			want: "no such file"},
		{name: "empty token file", args: []string{"--flush.enable", "--flush.token-file", emptyToken},
			want: "is empty"},
		{name: "world-readable token file", args: []string{"--flush.enable", "--flush.token-file", openToken},
			want: "chmod 0640 " + openToken},
		{name: "negative interval", args: []string{"--flush.enable", "--flush.token-file", s.token,
			"--flush.min-interval=-1s"}, want: "--flush.min-interval"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := s.register(t, tt.args...)
			if err == nil {
				t.Fatal("register succeeded, want an error")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
		})
	}
}

func TestFlushFlagsWithInput(t *testing.T) {
	s := newFlushSetup(t)
	app := kingpin.New("test", "")
	queueCfg := addQueueFlags(app)
	flushCfg := addFlushFlags(app)
	if _, err := app.Parse([]string{"--postqueue.input=-", "--flush.enable", "--flush.token-file", s.token}); err != nil {
		t.Fatal(err)
	}
	err := flushCfg.register(http.NewServeMux(), prometheus.NewRegistry(), log.NewNopLogger(), queueCfg, nil)
	if err == nil || !strings.Contains(err.Error(), "--postqueue.input") {
		t.Errorf("register = %v, want an error naming --postqueue.input", err)
	}
}

func TestFlushFlagsOffByDefault(t *testing.T) {
	s := newFlushSetup(t)
	mux, logs, err := s.register(t, "--flush.token-file", s.token)
	if err != nil {
		t.Fatalf("register: %v", err)
	}
	if _, pattern := mux.Handler(httpPost(t, "http://127.0.0.1"+flush.Path, "")); pattern != "" {
		t.Errorf("flush path is served by %q with the endpoint off", pattern)
	}
	if !strings.Contains(logs, "flush endpoint is off") {
		t.Errorf("log %q does not warn that the token file is unused", logs)
	}
}

// TestFlushBehindWebConfig serves the flush endpoint as main does, through
// exporter-toolkit with a web config that requires basic auth: a request
// needs both the basic auth password and the bearer token.
func TestFlushBehindWebConfig(t *testing.T) {
	s := newFlushSetup(t)
	mux, _, err := s.register(t, "--flush.enable", "--flush.token-file", s.token)
	if err != nil {
		t.Fatalf("register: %v", err)
	}
	url := serveWithWebConfig(t, mux, "testdata/flush/web-config.yml")

	tests := []struct {
		name     string
		user     string
		password string
		token    string
		status   int
	}{
		{name: "token without basic auth", token: flushTestToken, status: http.StatusUnauthorized},
		{name: "wrong password", user: "operator", password: "wrong", token: flushTestToken,
			status: http.StatusUnauthorized},
		{name: "basic auth without token", user: "operator", password: "flush-test-password",
			status: http.StatusUnauthorized},
		{name: "basic auth and token", user: "operator", password: "flush-test-password", token: flushTestToken,
			status: http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httpPost(t, url+flush.Path, "")
			if tt.user != "" {
				r.SetBasicAuth(tt.user, tt.password)
			}
			if tt.token != "" {
				// The Authorization header carries basic auth, so the token
				// goes in its own header.
				r.Header.Set("X-Auth-Token", tt.token)
			}
			resp, err := http.DefaultClient.Do(r)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.status {
				t.Errorf("status = %d, want %d: %s", resp.StatusCode, tt.status, body)
			}
		})
	}
	if got := s.calls(t); got != "-f" {
		t.Errorf("postqueue ran with %q, want one run with -f", got)
	}
}

func httpPost(t *testing.T, url, body string) *http.Request {
	t.Helper()
	r, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// serveWithWebConfig serves handler on a free loopback port through
// exporter-toolkit with the given web config file, and returns its URL.
func serveWithWebConfig(t *testing.T, handler http.Handler, webConfig string) string {
	t.Helper()
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	server := &http.Server{Handler: handler}
	systemd := false
	addresses := []string{listener.Addr().String()}
	flags := &web.FlagConfig{WebListenAddresses: &addresses, WebSystemdSocket: &systemd, WebConfigFile: &webConfig}
	done := make(chan error, 1)
	go func() { done <- web.Serve(listener, server, flags, slog.New(slog.DiscardHandler)) }()
	t.Cleanup(func() {
		server.Close()
		if err := <-done; err != nil && err != http.ErrServerClosed {
			t.Errorf("web.Serve: %v", err)
		}
	})
	return "http://" + listener.Addr().String()
}
