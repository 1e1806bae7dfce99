package main

import (
	"slices"
	"testing"
	"time"

	"github.com/alecthomas/kingpin/v2"
	"github.com/go-kit/log"

	"github.com/postfix-queue-exporter/postfix_queue_exporter/postfix"
	"github.com/postfix-queue-exporter/postfix_queue_exporter/queue"
)

const fakePostqueue = "testdata/multi-instance/postqueue"

func parseQueueFlags(t *testing.T, args ...string) *queueFlags {
	t.Helper()
	app := kingpin.New("test", "")
	flags := addQueueFlags(app)
	if _, err := app.Parse(args); err != nil {
		t.Fatalf("parse %q: %v", args, err)
	}
	return flags
}

func TestDiscoverInstances(t *testing.T) {
	tests := []struct {
		name      string
		args      []string
		wantNames []string
		wantDirs  []string
	}{
		{"default instance", nil, []string{""}, []string{""}},
		{"one config dir", []string{"--postfix.config-dir=/etc/postfix-lab2"},
			[]string{"/etc/postfix-lab2"}, []string{"/etc/postfix-lab2"}},
		{"named config dirs", []string{"--postfix.config-dir=/etc/postfix", "--postfix.config-dir=/etc/postfix-lab2"},
			[]string{"/etc/postfix", "postfix-lab2"}, []string{"/etc/postfix", "/etc/postfix-lab2"}},
		{"postconf fails", []string{"--postfix.config-dir=/etc/postfix-lab2", "--postfix.config-dir=/etc/postfix-broken"},
			[]string{"postfix-lab2", "/etc/postfix-broken"}, []string{"/etc/postfix-lab2", "/etc/postfix-broken"}},
		{"same names", []string{"--postfix.config-dir=/etc/postfix-twin1", "--postfix.config-dir=/etc/postfix-twin2"},
			[]string{"postfix-twin", "/etc/postfix-twin2"}, []string{"/etc/postfix-twin1", "/etc/postfix-twin2"}},
		{"postmulti", []string{"--postfix.multi-instance"},
			[]string{"/etc/postfix", "postfix-lab2"}, []string{"/etc/postfix", "/etc/postfix-lab2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			flags := parseQueueFlags(t, tt.args...)
			configs, err := flags.discoverInstances(log.NewNopLogger(), fakePostqueue, &postfix.Runner{Timeout: 10 * time.Second})
			if err != nil {
				t.Fatalf("discoverInstances: %v", err)
			}
			var names, dirs []string
			for _, config := range configs {
				names = append(names, config.name)
				dirs = append(dirs, config.dir)
			}
			if !slices.Equal(names, tt.wantNames) {
				t.Errorf("names = %q, want %q", names, tt.wantNames)
			}
			if !slices.Equal(dirs, tt.wantDirs) {
				t.Errorf("dirs = %q, want %q", dirs, tt.wantDirs)
			}
		})
	}
}

func TestMultiInstanceSetsConfigDirs(t *testing.T) {
	flags := parseQueueFlags(t, "--postfix.multi-instance")
	if _, err := flags.discoverInstances(log.NewNopLogger(), fakePostqueue, &postfix.Runner{Timeout: 10 * time.Second}); err != nil {
		t.Fatal(err)
	}
	// The flush and queue action endpoints read the discovered directories.
	if want := []string{"/etc/postfix", "/etc/postfix-lab2"}; !slices.Equal(*flags.configDirs, want) {
		t.Errorf("config dirs = %q, want %q", *flags.configDirs, want)
	}
}

func TestInstancesRejects(t *testing.T) {
	tests := []struct {
		name string
		args []string
	}{
		{"multi-instance with config dir", []string{"--postfix.multi-instance", "--postfix.config-dir=/etc/postfix"}},
		{"input with multi-instance", []string{"--postqueue.input=x.jsonl", "--postfix.multi-instance"}},
		{"top domains too large", []string{"--postqueue.input=x.jsonl", "--queue.top-domains=101"}},
		{"negative interval", []string{"--postqueue.input=x.jsonl", "--collect.mode=background", "--collect.interval=-1s"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			flags := parseQueueFlags(t, append(tt.args, "--postqueue.path="+fakePostqueue)...)
			if _, err := flags.instances(log.NewNopLogger()); err == nil {
				t.Errorf("instances(%q) returned no error", tt.args)
			}
		})
	}
}

func TestBackgroundModeSource(t *testing.T) {
	flags := parseQueueFlags(t, "--postqueue.input=queue/testdata/final-state.postqueue-j.jsonl",
		"--collect.mode=background", "--collect.interval=1h")
	instances, err := flags.instances(log.NewNopLogger())
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := instances[0].Source.(*queue.Background); !ok {
		t.Fatalf("source is %T, want *queue.Background", instances[0].Source)
	}
	snapshot, err := instances[0].Source.Snapshot(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if n := snapshot.Queues["deferred"].Messages; n != 16 {
		t.Errorf("deferred messages = %d, want 16", n)
	}
}
