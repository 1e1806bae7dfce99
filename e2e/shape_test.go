package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
)

// shapeCount is one queue's shape, counted by the tests from a `postqueue
// -j` listing with encoding/json and without the exporter's code.
type shapeCount struct {
	Messages     int64
	Bytes        int64
	Bounces      int64
	ForcedExpire int64
	// DomainRecipients and DomainMessages count by the lower-cased text
	// after the last "@" of each recipient.
	DomainRecipients map[string]int64
	DomainMessages   map[string]int64
	// Reasons counts recipients by "category dsn" for the delay reasons
	// that the lab produces.
	Reasons map[string]int64
}

// labReasons maps a text found in each delay reason of the lab to its
// category and enhanced status code, as documented in docs/reasons.md.
var labReasons = []struct {
	text     string
	category string
	dsn      string
}{
	{"Connection refused", "connection_refused", ""},
	{"said: 450 4.3.0 ", "remote_4xx", "4.3.0"},
	{"deferred transport", "deferred_transport", ""},
	{"lab retry transport", "other", ""},
	{`Command died with signal 15: "/bin/sleep"`, "other", ""},
}

// shapeRecipient is the part of a `postqueue -j` recipient the shape uses.
type shapeRecipient struct {
	Address     string `json:"address"`
	DelayReason string `json:"delay_reason"`
}

// countShapes counts the shape of every queue of a `postqueue -j` listing.
func countShapes(t testing.TB, listing []byte) map[string]*shapeCount {
	t.Helper()
	shapes := make(map[string]*shapeCount, len(queueNames))
	for _, name := range queueNames {
		shapes[name] = &shapeCount{
			DomainRecipients: map[string]int64{},
			DomainMessages:   map[string]int64{},
			Reasons:          map[string]int64{},
		}
	}
	scanner := bufio.NewScanner(bytes.NewReader(listing))
	scanner.Buffer(nil, 64<<20)
	for line := 1; scanner.Scan(); line++ {
		var message struct {
			jsonMessage
			Recipients []shapeRecipient `json:"recipients"`
		}
		if err := json.Unmarshal(scanner.Bytes(), &message); err != nil {
			t.Fatalf("postqueue -j line %d: %v", line, err)
		}
		shape := shapes[message.QueueName]
		if shape == nil {
			t.Fatalf("postqueue -j line %d: unknown queue %q", line, message.QueueName)
		}
		shape.Messages++
		shape.Bytes += message.MessageSize
		if message.Sender == "MAILER-DAEMON" {
			shape.Bounces++
		}
		if message.ForcedExpire {
			shape.ForcedExpire++
		}
		seen := map[string]bool{}
		for _, recipient := range message.Recipients {
			domain := strings.ToLower(recipient.Address[strings.LastIndex(recipient.Address, "@")+1:])
			shape.DomainRecipients[domain]++
			if !seen[domain] {
				shape.DomainMessages[domain]++
				seen[domain] = true
			}
			if recipient.DelayReason != "" {
				shape.Reasons[labReason(t, recipient.DelayReason)]++
			}
		}
	}
	if err := scanner.Err(); err != nil {
		t.Fatal(err)
	}
	return shapes
}

func labReason(t testing.TB, text string) string {
	t.Helper()
	for _, r := range labReasons {
		if strings.Contains(text, r.text) {
			return r.category + " " + r.dsn
		}
	}
	t.Fatalf("delay reason %q is not one the lab is known to produce; add it to labReasons", text)
	return ""
}

// checkShapeMetrics compares the shape metrics of one instance with a
// count of its listing. instancePairs are the label pairs that select the
// instance, empty for a single instance.
func checkShapeMetrics(t *testing.T, m Metrics, shapes map[string]*shapeCount, instancePairs ...string) {
	t.Helper()
	for _, name := range queueNames {
		shape := shapes[name]
		pairs := append(append([]string{}, instancePairs...), "queue", name)
		checkGauge(t, m, "postfix_queue_bounce_messages", float64(shape.Bounces), pairs...)
		checkGauge(t, m, "postfix_queue_forced_expire_messages", float64(shape.ForcedExpire), pairs...)
		checkHistogram(t, m, "postfix_queue_message_size_bytes", shape.Messages, float64(shape.Bytes), pairs...)
		checkHistogram(t, m, "postfix_queue_message_age_seconds", shape.Messages, -1, pairs...)

		// The lab has fewer domains per queue than the default top 10, so
		// every domain is published and "other" is 0.
		for domain, recipients := range shape.DomainRecipients {
			domainPairs := append(append([]string{}, pairs...), "domain", domain)
			checkGauge(t, m, "postfix_queue_recipient_domain_recipients", float64(recipients), domainPairs...)
			checkGauge(t, m, "postfix_queue_recipient_domain_messages", float64(shape.DomainMessages[domain]), domainPairs...)
		}
		otherPairs := append(append([]string{}, pairs...), "domain", "other")
		checkGauge(t, m, "postfix_queue_recipient_domain_recipients", 0, otherPairs...)
		if got, want := m.Count("postfix_queue_recipient_domain_recipients", pairs...), len(shape.DomainRecipients)+1; got != want {
			t.Errorf("postfix_queue_recipient_domain_recipients%s: %d series, want %d", formatPairs(pairs), got, want)
		}

		// Every published reason series matches the count, zeros included.
		for _, metric := range m["postfix_queue_delay_reasons"].GetMetric() {
			if !hasLabels(metric, pairs) {
				continue
			}
			key := labelOf(metric, "category") + " " + labelOf(metric, "dsn")
			if got, want := metric.GetGauge().GetValue(), float64(shape.Reasons[key]); got != want {
				t.Errorf("postfix_queue_delay_reasons%s{category dsn %q} = %g, want %g", formatPairs(pairs), key, got, want)
			}
		}
		for key, want := range shape.Reasons {
			category, dsn, _ := strings.Cut(key, " ")
			reasonPairs := append(append([]string{}, pairs...), "category", category, "dsn", dsn)
			checkGauge(t, m, "postfix_queue_delay_reasons", float64(want), reasonPairs...)
		}
	}
}

// checkHistogram checks the count of a histogram sample and, unless wantSum
// is negative, its sum.
func checkHistogram(t *testing.T, m Metrics, name string, wantCount int64, wantSum float64, labelPairs ...string) {
	t.Helper()
	for _, metric := range m[name].GetMetric() {
		if !hasLabels(metric, labelPairs) {
			continue
		}
		h := metric.GetHistogram()
		if got := h.GetSampleCount(); got != uint64(wantCount) {
			t.Errorf("%s%s count = %d, want %d", name, formatPairs(labelPairs), got, wantCount)
		}
		if wantSum >= 0 && h.GetSampleSum() != wantSum {
			t.Errorf("%s%s sum = %g, want %g", name, formatPairs(labelPairs), h.GetSampleSum(), wantSum)
		}
		return
	}
	t.Errorf("no sample %s%s", name, formatPairs(labelPairs))
}

func labelOf(metric *dto.Metric, name string) string {
	for _, pair := range metric.GetLabel() {
		if pair.GetName() == name {
			return pair.GetValue()
		}
	}
	return ""
}

func TestShapeMatchesQueue(t *testing.T) {
	RequireLab(t)
	state := EnsurePopulated(t)
	exporter := StartExporter(t, "--postqueue.min-interval=0")
	metrics := exporter.Scrape(t)
	after := ReadQueue(t)
	if string(after.Listing) != string(state.Listing) {
		t.Fatal("the queue changed during the scrape")
	}

	checkGauge(t, metrics, "postfix_up", 1)
	checkShapeMetrics(t, metrics, countShapes(t, state.Listing))
}

func TestShapeBackgroundMode(t *testing.T) {
	RequireLab(t)
	state := EnsurePopulated(t)
	dir := t.TempDir()
	runs := filepath.Join(dir, "runs")
	postqueue := strings.TrimSpace(Run(t, "sh", "-c", "command -v postqueue"))
	script := writeScript(t, dir, "counting-postqueue", fmt.Sprintf("echo run >> %q\nexec %q \"$@\"\n", runs, postqueue))
	exporter := StartExporter(t, "--postqueue.path="+script, "--collect.mode=background", "--collect.interval=1h")

	const scrapes = 20
	var metrics Metrics
	for range scrapes {
		metrics = exporter.Scrape(t)
	}
	if n := countLines(runs); n != 1 {
		t.Errorf("postqueue ran %d times for %d scrapes in background mode, want 1", n, scrapes)
	}
	checkGauge(t, metrics, "postfix_up", 1)
	age := metrics.Get(t, "postfix_exporter_snapshot_age_seconds")
	if age < 0 || age > time.Hour.Seconds() {
		t.Errorf("postfix_exporter_snapshot_age_seconds = %g, want between 0 and the interval", age)
	}
	for _, name := range queueNames {
		checkGauge(t, metrics, "postfix_queue_messages", float64(state.Queues[name].Messages), "queue", name)
	}
}
