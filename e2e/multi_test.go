package e2e

import (
	"bytes"
	"slices"
	"strings"
	"testing"
	"time"
)

// The second lab instance, created by deploy/lab/lab-up.sh --instance.
const (
	secondInstance    = "postfix-lab2"
	secondInstanceDir = "/etc/postfix-lab2"
	primaryDir        = "/etc/postfix"
)

// ensureSecondInstance starts the second lab instance, creating it first
// when it does not exist.
func ensureSecondInstance(t *testing.T) {
	t.Helper()
	if Command(t, "postmulti", "-i", secondInstance, "-p", "status").ExitCode == 0 {
		return
	}
	RunLabScript(t, "deploy/lab/lab-up.sh", "--instance", secondInstance)
}

// readInstanceListing returns `postqueue -c DIR -j` once two listings in a
// row agree.
func readInstanceListing(t *testing.T, dir string) []byte {
	t.Helper()
	var previous []byte
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		listing := []byte(Run(t, "postqueue", "-c", dir, "-j"))
		if previous != nil && bytes.Equal(listing, previous) {
			return listing
		}
		previous = listing
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("the queue of %s did not settle within 30s", dir)
	return nil
}

func TestMultiInstance(t *testing.T) {
	RequireLab(t)
	ensureSecondInstance(t)
	Clear(t)
	Populate(t)
	Populate(t, "--instance", secondInstanceDir)
	// The second instance gets fewer messages, so the two differ.
	Run(t, "postsuper", "-c", secondInstanceDir, "-d", "ALL", "hold")
	listings := map[string][]byte{
		primaryDir:     readInstanceListing(t, primaryDir),
		secondInstance: readInstanceListing(t, secondInstanceDir),
	}

	tests := []struct {
		name string
		args []string
	}{
		{"postmulti", []string{"--postfix.multi-instance"}},
		{"config dirs", []string{"--postfix.config-dir=" + primaryDir, "--postfix.config-dir=" + secondInstanceDir}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			exporter := StartExporter(t, append(tt.args, "--postqueue.min-interval=0")...)
			metrics := exporter.Scrape(t)

			// The primary instance has no multi_instance_name, so its
			// config directory names it.
			want := []string{primaryDir, secondInstance}
			if got := slices.Compact(metrics.LabelValues("postfix_up", "postfix_instance")); !slices.Equal(got, want) {
				t.Fatalf("postfix_up instances = %q, want %q", got, want)
			}
			checkEveryQueueSeriesHasInstance(t, metrics)
			for instance, listing := range listings {
				checkGauge(t, metrics, "postfix_up", 1, "postfix_instance", instance)
				state, err := decodeListing(listing)
				if err != nil {
					t.Fatal(err)
				}
				for _, name := range queueNames {
					checkGauge(t, metrics, "postfix_queue_messages", float64(state.Queues[name].Messages),
						"postfix_instance", instance, "queue", name)
					checkGauge(t, metrics, "postfix_queue_recipients", float64(state.Queues[name].Recipients),
						"postfix_instance", instance, "queue", name)
				}
				checkShapeMetrics(t, metrics, countShapes(t, listing), "postfix_instance", instance)
			}
		})
	}

	for dir, listing := range map[string][]byte{primaryDir: listings[primaryDir], secondInstanceDir: listings[secondInstance]} {
		if !bytes.Equal(readInstanceListing(t, dir), listing) {
			t.Errorf("the queue of %s changed during the test", dir)
		}
	}
}

func TestMultiInstanceSingleHasNoLabel(t *testing.T) {
	RequireLab(t)
	ensureSecondInstance(t)
	exporter := StartExporter(t, "--postfix.config-dir="+secondInstanceDir)
	metrics := exporter.Scrape(t)

	checkGauge(t, metrics, "postfix_up", 1)
	for name, family := range metrics {
		for _, metric := range family.GetMetric() {
			if labelOf(metric, "postfix_instance") != "" {
				t.Errorf("%s has a postfix_instance label with a single instance", name)
				break
			}
		}
	}
}

// checkEveryQueueSeriesHasInstance fails for a queue or up series without
// the postfix_instance label.
func checkEveryQueueSeriesHasInstance(t *testing.T, m Metrics) {
	t.Helper()
	for name, family := range m {
		if !strings.HasPrefix(name, "postfix_queue_") && name != "postfix_up" {
			continue
		}
		for _, metric := range family.GetMetric() {
			if labelOf(metric, "postfix_instance") == "" {
				t.Errorf("%s has a series without postfix_instance", name)
				break
			}
		}
	}
}
