package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// prometheusInterval is the scrape and rule evaluation interval of the test
// Prometheus.
const prometheusInterval = "1s"

// kitWaitTimeout bounds each wait for Prometheus to have scraped, evaluated
// or fired what the test needs.
const kitWaitTimeout = 90 * time.Second

// drivenAlert is the alert that the test drives to firing, and
// drivenThreshold the part of its expression that the test's copy lowers.
const (
	drivenAlert     = "PostfixHoldQueueNotEmpty"
	drivenThreshold = "> 3600"
	drivenLabel     = "e2e"
)

// kitLab holds the servers that TestPrometheusDeployKit starts.
type kitLab struct {
	prometheus *PrometheusServer
	single     *Exporter // one Postfix instance: no postfix_instance label
	multi      *Exporter // two instances: every queue series has postfix_instance
	job        string
	instances  []string // the two config directories of multi
}

// TestPrometheusDeployKit runs Debian's Prometheus with the example
// configuration, the rule files and the dashboard of deploy/ against two
// exporters on the populated lab. One reads the default instance. The other
// reads it twice, from the default configuration directory and from a copy,
// so that its queue series carry the postfix_instance label.
func TestPrometheusDeployKit(t *testing.T) {
	binary := RequirePrometheus(t)
	lab := startKitLab(t, binary)

	t.Run("targets", func(t *testing.T) { checkTargets(t, lab) })
	t.Run("rules", func(t *testing.T) { checkRuleHealth(t, lab) })
	t.Run("dashboard", func(t *testing.T) { checkDashboard(t, lab) })
	t.Run("rule expressions", func(t *testing.T) { checkRuleExpressions(t, lab) })
	t.Run("hold alert", func(t *testing.T) { checkHoldAlert(t, lab) })
}

// startKitLab populates the lab with nothing on hold, flushes once through
// the exporter so the flush series exist, and starts both exporters and
// Prometheus.
func startKitLab(t *testing.T, binary string) *kitLab {
	t.Helper()
	Clear(t)
	Populate(t)
	// The hold alert test puts a message on hold itself, so the alert must
	// start out inactive.
	Run(t, "postsuper", "-H", "ALL", "hold")
	waitFor(t, 30*time.Second, "the hold queue to empty", func() bool {
		return ReadQueue(t).Queues["hold"].Messages == 0
	})

	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "flush.token")
	token := "e2e-prometheus-flush-token"
	if err := os.WriteFile(tokenFile, []byte(token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// The flush and action counters exist only with the endpoints on. The
	// test sends no action request, so postsuper never runs.
	single := StartExporter(t,
		"--postqueue.min-interval=0",
		"--flush.enable", "--flush.token-file="+tokenFile,
		"--actions.enable=hold,release,requeue,delete", "--actions.token-file="+tokenFile,
	)

	copyDir := copyPostfixConfig(t, filepath.Join(dir, "postfix-copy"))
	instances := []string{"/etc/postfix", copyDir}
	// Background collection publishes the snapshot age.
	multi := StartExporter(t,
		"--postqueue.min-interval=0",
		"--postfix.config-dir="+instances[0],
		"--postfix.config-dir="+instances[1],
		"--collect.mode=background", "--collect.interval=1s",
	)

	flushSite(t, single, token, "flush.example.test")

	configPath, job := DerivePrometheusConfig(t, TestConfig{
		Dir:           dir,
		StaticTarget:  strings.TrimPrefix(single.URL, "http://"),
		FileSDTarget:  strings.TrimPrefix(multi.URL, "http://"),
		ExtraRuleFile: writeDrivenRule(t, dir),
		Interval:      prometheusInterval,
	})
	server := StartPrometheus(t, binary, configPath)
	lab := &kitLab{
		prometheus: server,
		single:     single,
		multi:      multi,
		job:        job,
		instances:  instances,
	}
	lab.waitForData(t)
	return lab
}

// copyPostfixConfig copies main.cf and master.cf of the default instance to
// dir. Root may run postqueue -c with any configuration directory, and the
// copy names the same queue directory, so an exporter reading both lists the
// one queue twice, under two postfix_instance labels.
func copyPostfixConfig(t testing.TB, dir string) string {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"main.cf", "master.cf"} {
		data, err := os.ReadFile(filepath.Join("/etc/postfix", name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// flushSite sends the exporter a flush request for site and fails the test
// unless the flush succeeds.
func flushSite(t testing.TB, exporter *Exporter, token, site string) {
	t.Helper()
	body, err := json.Marshal(map[string]string{"site": site})
	if err != nil {
		t.Fatal(err)
	}
	request, err := http.NewRequest(http.MethodPost, exporter.URL+"/api/v1/flush", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	request.Header.Set("Authorization", "Bearer "+token)
	request.Header.Set("Content-Type", "application/json")
	response, err := (&http.Client{Timeout: scrapeTimeout}).Do(request)
	if err != nil {
		t.Fatalf("flush %s: %v", site, err)
	}
	defer response.Body.Close()
	var answer bytes.Buffer
	_, _ = answer.ReadFrom(response.Body)
	if response.StatusCode != http.StatusOK {
		t.Fatalf("flush %s: status %s\n%s\nexporter log:\n%s", site, response.Status, answer.String(), exporter.Log())
	}
}

// writeDrivenRule writes a rule file with a copy of the hold alert whose
// threshold is 0 seconds and whose for: is one interval, labelled so the test
// can tell it from the shipped rule, and returns its path.
func writeDrivenRule(t testing.TB, dir string) string {
	t.Helper()
	rule := ReadRuleFile(t, kitAlertRules).FindAlert(t, drivenAlert)
	if strings.Count(rule.Expr, drivenThreshold) != 1 {
		t.Fatalf("alert %s: expression %q does not contain the threshold %q once; update the test",
			drivenAlert, rule.Expr, drivenThreshold)
	}
	rule.Expr = strings.Replace(rule.Expr, drivenThreshold, "> 0", 1)
	rule.For = prometheusInterval
	rule.Labels[drivenLabel] = "driven"

	path := filepath.Join(dir, "driven.rules.yml")
	WriteYAML(t, path, RuleFile{Groups: []RuleGroup{{Name: "e2e_driven", Rules: []Rule{rule}}}})
	return path
}

// waitForData waits until Prometheus has scraped both exporters several
// times and evaluated the rules on that data, so that rate(), deriv() and
// increase() have two samples.
func (l *kitLab) waitForData(t testing.TB) {
	t.Helper()
	ready := []string{
		fmt.Sprintf(`count_over_time(up{job=%q}[1m]) >= 5`, l.job),
		fmt.Sprintf(`count_over_time(queue:postfix_queue_messages:deriv15m{job=%q}[1m]) >= 2`, l.job),
	}
	var last string
	deadline := time.Now().Add(kitWaitTimeout)
	for {
		done := true
		for _, expr := range ready {
			result, err := l.prometheus.Query(t, expr)
			if err != nil {
				t.Fatalf("query %s: %v", expr, err)
			}
			// Two targets, and the multi-instance one has two instances
			// for every queue.
			if result.SeriesCount() < 2 {
				done = false
				last = fmt.Sprintf("%s returned %d series", expr, result.SeriesCount())
			}
		}
		if done {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("Prometheus did not collect enough data within %s: %s\nprometheus log:\n%s",
				kitWaitTimeout, last, l.prometheus.Log())
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// checkTargets checks that both exporters are scraped, the file_sd one with
// the labels of the example's file_sd file.
func checkTargets(t *testing.T, l *kitLab) {
	targets := l.prometheus.Targets(t)
	if len(targets) != 2 {
		t.Fatalf("got %d active targets, want 2: %+v", len(targets), targets)
	}
	for _, target := range targets {
		if target.Health != "up" {
			t.Errorf("target %s: health %q, last error %q", target.ScrapeURL, target.Health, target.LastError)
		}
		if target.Labels["job"] != l.job {
			t.Errorf("target %s: job %q, want %q", target.ScrapeURL, target.Labels["job"], l.job)
		}
	}
	labels := exampleFileSDLabels(t, filepath.Join(repoRoot, filepath.Dir(kitPrometheusConfig)))
	for _, target := range targets {
		if target.Labels["instance"] != strings.TrimPrefix(l.multi.URL, "http://") {
			continue
		}
		for name, value := range labels {
			if target.Labels[name] != value {
				t.Errorf("file_sd target %s: label %s=%q, want %q", target.ScrapeURL, name, target.Labels[name], value)
			}
		}
	}
}

// checkRuleHealth checks that Prometheus loaded every rule of both files
// and evaluates each without error.
func checkRuleHealth(t *testing.T, l *kitLab) {
	groups := l.prometheus.Rules(t)
	for _, path := range []string{kitRecordingRules, kitAlertRules} {
		for _, group := range ReadRuleFile(t, path).Groups {
			loaded, ok := groups[group.Name]
			if !ok {
				t.Errorf("group %s of %s is not loaded", group.Name, path)
				continue
			}
			if len(loaded) != len(group.Rules) {
				t.Errorf("group %s: %d rules loaded, the file has %d", group.Name, len(loaded), len(group.Rules))
			}
			for _, rule := range loaded {
				if rule.Health != "ok" {
					t.Errorf("rule %s of group %s: health %q, last error %q", rule.Name, group.Name, rule.Health, rule.LastError)
				}
			}
		}
	}
}

// dashboardValues returns the values the test gives the dashboard's
// variables: both exporters, every Postfix instance, the deferred queue, and
// Grafana's interval variables.
func (l *kitLab) dashboardValues(postfixInstance string) map[string]string {
	var hosts []string
	for _, exporter := range []*Exporter{l.single, l.multi} {
		hosts = append(hosts, regexp.QuoteMeta(strings.TrimPrefix(exporter.URL, "http://")))
	}
	return map[string]string{
		"datasource":       "prometheus",
		"job":              l.job,
		"instance":         promqlString("(" + strings.Join(hosts, "|") + ")"),
		"postfix_instance": promqlString(postfixInstance),
		"queue":            "deferred",
		"__rate_interval":  "1m",
		"__interval":       "15s",
		"__range":          "1h",
	}
}

// promqlString escapes a value for use inside a double-quoted PromQL string,
// as Grafana does for regular expression variables.
func promqlString(value string) string {
	return strings.ReplaceAll(value, `\`, `\\`)
}

// checkDashboard checks the dashboard's structure, then runs every panel
// query and variable query with All postfix instances selected and with one.
func checkDashboard(t *testing.T, l *kitLab) {
	dashboard := ReadDashboard(t)
	checkDashboardStructure(t, dashboard)

	selections := map[string]string{
		"all postfix instances": ".*",
		"one postfix instance":  regexp.QuoteMeta(l.instances[1]),
	}
	for name, postfixInstance := range selections {
		t.Run(name, func(t *testing.T) {
			values := l.dashboardValues(postfixInstance)
			for _, variable := range dashboard.Templating.List {
				if variable.Type == "query" {
					l.checkVariableQuery(t, variable, values)
				}
			}
			for _, expression := range dashboard.DashboardExpressions() {
				expr, err := SubstituteVariables(expression.Expr, values)
				if err != nil {
					t.Errorf("%s: %v", expression.Source, err)
					continue
				}
				l.checkReturnsSeries(t, expression.Source, expr)
			}
		})
	}
}

// checkDashboardStructure checks what a Grafana import relies on: the fixed
// uid, the variables, and panels that query the chosen data source.
func checkDashboardStructure(t *testing.T, dashboard Dashboard) {
	if dashboard.UID != "postfix-queue-exporter" {
		t.Errorf("dashboard uid %q, want the fixed postfix-queue-exporter", dashboard.UID)
	}
	variables := make(map[string]DashboardVariable)
	for _, variable := range dashboard.Templating.List {
		variables[variable.Name] = variable
	}
	for _, name := range []string{"datasource", "job", "instance", "postfix_instance", "queue"} {
		if _, ok := variables[name]; !ok {
			t.Errorf("dashboard has no %s variable", name)
		}
	}
	// All must match series without the label, which only ".*" does.
	if variable := variables["postfix_instance"]; !variable.IncludeAll || variable.AllValue != ".*" {
		t.Errorf("postfix_instance variable: includeAll %t, allValue %q; want true and .*",
			variable.IncludeAll, variable.AllValue)
	}

	ids := make(map[int]string)
	for _, panel := range dashboard.AllPanels() {
		if previous, ok := ids[panel.ID]; ok {
			t.Errorf("panels %q and %q share id %d", previous, panel.Title, panel.ID)
		}
		ids[panel.ID] = panel.Title
		if panel.Type == "row" {
			continue
		}
		if panel.Datasource == nil || panel.Datasource.UID != "${datasource}" {
			t.Errorf("panel %q: data source %+v, want uid ${datasource}", panel.Title, panel.Datasource)
		}
		if len(panel.Targets) == 0 {
			t.Errorf("panel %q has no queries", panel.Title)
		}
		for _, target := range panel.Targets {
			if strings.TrimSpace(target.Expr) == "" {
				t.Errorf("panel %q target %s has no expression", panel.Title, target.RefID)
			}
		}
	}
}

// checkVariableQuery runs the selector of a label_values variable query and
// checks that its series have the label. With only single-instance
// exporters the postfix_instance variable would be empty, but here the
// multi-instance exporter sets that label.
func (l *kitLab) checkVariableQuery(t *testing.T, variable DashboardVariable, values map[string]string) {
	t.Helper()
	query, err := variable.QueryText()
	if err != nil {
		t.Error(err)
		return
	}
	selector, label, err := ParseLabelValues(query)
	if err != nil {
		t.Errorf("variable %s: %v", variable.Name, err)
		return
	}
	selector, err = SubstituteVariables(selector, values)
	if err != nil {
		t.Errorf("variable %s: %v", variable.Name, err)
		return
	}

	result, err := l.prometheus.Query(t, selector)
	if err != nil {
		t.Errorf("variable %s: query %s: %v", variable.Name, selector, err)
		return
	}

	found := make(map[string]bool)
	for _, series := range result.Series {
		if value, ok := series.Metric[label]; ok {
			found[value] = true
		}
	}
	if len(found) == 0 {
		t.Errorf("variable %s: no %s label in the %d series of %s", variable.Name, label, len(result.Series), selector)
	}
}

// checkReturnsSeries runs expr and fails the test if Prometheus rejects it
// or it returns no series. The exporters run with every feature on and the
// lab has mail in every queue, so no expression of the kit may be empty.
func (l *kitLab) checkReturnsSeries(t *testing.T, source, expr string) {
	t.Helper()
	result, err := l.prometheus.Query(t, expr)
	if err != nil {
		t.Errorf("%s: invalid expression %s: %v", source, expr, err)
		return
	}
	if result.SeriesCount() == 0 {
		t.Errorf("%s: no series for %s", source, expr)
	}
}

// checkRuleExpressions runs every rule expression. Recording rules must
// return series. Alert expressions are normally empty on a healthy lab, so
// they must be valid as written and return series with their thresholds
// relaxed, which shows that every selector finds data and every "and"
// matches.
func checkRuleExpressions(t *testing.T, l *kitLab) {
	recording := ReadRuleFile(t, kitRecordingRules)
	for _, expression := range recording.RuleExpressions(kitRecordingRules) {
		l.checkReturnsSeries(t, expression.Source, expression.Expr)
	}

	alerts := ReadRuleFile(t, kitAlertRules)
	for _, expression := range alerts.RuleExpressions(kitAlertRules) {
		if _, err := l.prometheus.Query(t, expression.Expr); err != nil {
			t.Errorf("%s: invalid expression %s: %v", expression.Source, expression.Expr, err)
			continue
		}
		relaxed, count := RelaxThresholds(expression.Expr)
		if count == 0 {
			t.Errorf("%s: no threshold comparison in %s", expression.Source, expression.Expr)
			continue
		}
		l.checkReturnsSeries(t, expression.Source+" (thresholds relaxed)", relaxed)
	}
}

// checkHoldAlert puts a deferred message on hold and waits until the test's
// copy of the hold alert fires for the single-instance exporter, with the
// shipped annotations. The shipped rule, with its one-hour threshold, must
// stay inactive.
func checkHoldAlert(t *testing.T, l *kitLab) {
	instance := strings.TrimPrefix(l.single.URL, "http://")
	if alert, ok := l.findDrivenAlert(t, instance); ok {
		t.Fatalf("alert %s is %s before any mail is on hold: %+v", drivenAlert, alert.State, alert)
	}

	queueID := deferredQueueID(t)
	Run(t, "postsuper", "-h", queueID)

	var alert PrometheusAlert
	waitFor(t, kitWaitTimeout, "the driven "+drivenAlert+" alert to fire", func() bool {
		found, ok := l.findDrivenAlert(t, instance)
		alert = found
		return ok && found.State == "firing"
	})

	wantSummary := "Mail on hold on " + instance + " for "
	if !strings.HasPrefix(alert.Annotations["summary"], wantSummary) {
		t.Errorf("summary %q, want it to start with %q", alert.Annotations["summary"], wantSummary)
	}
	if !strings.HasSuffix(alert.Annotations["runbook_url"], "docs/deploy.md#postfixholdqueuenotempty") {
		t.Errorf("runbook_url %q does not point at the runbook section", alert.Annotations["runbook_url"])
	}
	if alert.Labels["severity"] != "warning" {
		t.Errorf("severity %q, want warning", alert.Labels["severity"])
	}

	for _, active := range l.prometheus.Alerts(t) {
		if active.Labels["alertname"] == drivenAlert && active.Labels[drivenLabel] == "" {
			t.Errorf("the shipped %s is %s for a message held seconds ago: %+v", drivenAlert, active.State, active)
		}
	}
}

// findDrivenAlert returns the test's copy of the hold alert for instance,
// if it is pending or firing.
func (l *kitLab) findDrivenAlert(t testing.TB, instance string) (PrometheusAlert, bool) {
	t.Helper()
	for _, alert := range l.prometheus.Alerts(t) {
		if alert.Labels["alertname"] == drivenAlert && alert.Labels[drivenLabel] != "" &&
			alert.Labels["instance"] == instance {
			return alert, true
		}
	}
	return PrometheusAlert{}, false
}

// deferredQueueID returns the id of a deferred message that is not forced
// to expire.
func deferredQueueID(t testing.TB) string {
	t.Helper()
	var message struct {
		QueueName    string `json:"queue_name"`
		QueueID      string `json:"queue_id"`
		ForcedExpire bool   `json:"forced_expire"`
	}
	for _, line := range strings.Split(Run(t, "postqueue", "-j"), "\n") {
		if line == "" {
			continue
		}
		if err := json.Unmarshal([]byte(line), &message); err != nil {
			t.Fatalf("postqueue -j: %v", err)
		}
		if message.QueueName == "deferred" && !message.ForcedExpire {
			return message.QueueID
		}
	}
	t.Fatal("no deferred message to put on hold")
	return ""
}
