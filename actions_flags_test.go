package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/alecthomas/kingpin/v2"
	"github.com/go-kit/log"
	"github.com/prometheus/client_golang/prometheus"
)

func TestSplitCommand(t *testing.T) {
	tests := []struct {
		value string
		want  []string
	}{
		{"sudo -n postsuper", []string{"sudo", "-n", "postsuper"}},
		{"  /usr/sbin/postsuper  ", []string{"/usr/sbin/postsuper"}},
		{"doas\t-n postsuper", []string{"doas", "-n", "postsuper"}},
	}
	for _, tt := range tests {
		got, err := splitCommand(tt.value)
		if err != nil {
			t.Errorf("splitCommand(%q): %v", tt.value, err)
			continue
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("splitCommand(%q) = %q, want %q", tt.value, got, tt.want)
		}
	}
}

func TestSplitCommandErrors(t *testing.T) {
	tests := []struct {
		value string
		want  string
	}{
		{"", "the command is empty"},
		{"   ", "the command is empty"},
		{`sudo -n "/opt/post fix/postsuper"`, "contains a quote or backslash"},
		{`sudo -n /opt/post\ fix/postsuper`, "contains a quote or backslash"},
		{`sh -c 'postsuper'`, "contains a quote or backslash"},
	}
	for _, tt := range tests {
		_, err := splitCommand(tt.value)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("splitCommand(%q): error %v, want one containing %q", tt.value, err, tt.want)
		}
	}
}

func TestActionsFlagsRegisterErrors(t *testing.T) {
	dir := t.TempDir()
	token := filepath.Join(dir, "token")
	if err := os.WriteFile(token, []byte("0123456789abcdef0123456789abcdef\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	readable := filepath.Join(dir, "readable")
	if err := os.WriteFile(readable, []byte("0123456789abcdef0123456789abcdef\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name string
		args []string
		want string
	}{
		{"unknown action", []string{"--actions.enable=purge"}, `invalid --actions.enable: unknown action "purge"`},
		{"no token file", []string{"--actions.enable=hold"}, "--actions.enable needs --actions.token-file"},
		{"saved listing", []string{"--actions.enable=hold", "--actions.token-file=" + token,
			"--postqueue.input=listing.jsonl"}, "cannot be used with --postqueue.input"},
		{"max delete zero", []string{"--actions.enable=delete", "--actions.token-file=" + token,
			"--actions.max-delete=0"}, "invalid --actions.max-delete 0"},
		{"max delete huge", []string{"--actions.enable=delete", "--actions.token-file=" + token,
			"--actions.max-delete=100001"}, "use a number from 1 to 100000"},
		{"quoted command", []string{"--actions.enable=hold", "--actions.token-file=" + token,
			`--actions.postsuper-command=sudo "postsuper"`}, "invalid --actions.postsuper-command"},
		{"missing token file", []string{"--actions.enable=hold", "--actions.token-file=" + filepath.Join(dir, "none")},
			"--actions.token-file: token file"},
		{"readable token file", []string{"--actions.enable=hold", "--actions.token-file=" + readable},
			"is readable by all users"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			app := kingpin.New("test", "")
			queueCfg := addQueueFlags(app)
			actionsCfg := addActionsFlags(app)
			if _, err := app.Parse(tt.args); err != nil {
				t.Fatal(err)
			}
			mux := http.NewServeMux()
			err := actionsCfg.register(mux, prometheus.NewRegistry(), log.NewNopLogger(), queueCfg, nil)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestActionsFlagsOff(t *testing.T) {
	app := kingpin.New("test", "")
	queueCfg := addQueueFlags(app)
	actionsCfg := addActionsFlags(app)
	if _, err := app.Parse(nil); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	if err := actionsCfg.register(mux, prometheus.NewRegistry(), log.NewNopLogger(), queueCfg, nil); err != nil {
		t.Fatal(err)
	}
	if _, pattern := mux.Handler(httptest.NewRequest(http.MethodPost, "/api/v1/queue/delete", nil)); pattern != "" {
		t.Errorf("the delete endpoint is served at %q with actions off", pattern)
	}
}
