package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"go.yaml.in/yaml/v2"
)

// Files of the deploy kit, relative to the repository root.
const (
	kitPrometheusConfig = "deploy/prometheus/prometheus.yml"
	kitRecordingRules   = "deploy/prometheus/postfix_queue_exporter.rules.yml"
	kitAlertRules       = "deploy/prometheus/postfix_queue_exporter.alerts.yml"
	kitDashboard        = "deploy/grafana/postfix_queue_exporter.json"
)

// RuleFile is a Prometheus rule file.
type RuleFile struct {
	Groups []RuleGroup `yaml:"groups"`
}

// RuleGroup is one group of a rule file.
type RuleGroup struct {
	Name  string `yaml:"name"`
	Rules []Rule `yaml:"rules"`
}

// Rule is a recording or alerting rule.
type Rule struct {
	Record      string            `yaml:"record,omitempty"`
	Alert       string            `yaml:"alert,omitempty"`
	Expr        string            `yaml:"expr"`
	For         string            `yaml:"for,omitempty"`
	Labels      map[string]string `yaml:"labels,omitempty"`
	Annotations map[string]string `yaml:"annotations,omitempty"`
}

// ReadRuleFile parses the rule file at path, relative to the repository
// root.
func ReadRuleFile(t testing.TB, path string) RuleFile {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot, path))
	if err != nil {
		t.Fatalf("read rule file: %v", err)
	}
	var file RuleFile
	if err := yaml.UnmarshalStrict(data, &file); err != nil {
		t.Fatalf("parse rule file %s: %v", path, err)
	}
	return file
}

// FindAlert returns the alerting rule name of file.
func (f RuleFile) FindAlert(t testing.TB, name string) Rule {
	t.Helper()
	for _, group := range f.Groups {
		for _, rule := range group.Rules {
			if rule.Alert == name {
				return rule
			}
		}
	}
	t.Fatalf("no alert %s in the rule file", name)
	return Rule{}
}

// WriteYAML writes value as YAML to path.
func WriteYAML(t testing.TB, path string, value any) {
	t.Helper()
	data, err := yaml.Marshal(value)
	if err != nil {
		t.Fatalf("marshal %s: %v", path, err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatalf("write %s: %v", path, err)
	}
}

// exampleConfig is the part of deploy/prometheus/prometheus.yml that the
// test changes. Scrape configs stay generic maps, so settings the test does
// not know about pass through unchanged.
type exampleConfig struct {
	Global        map[string]any   `yaml:"global"`
	RuleFiles     []string         `yaml:"rule_files"`
	Alerting      map[string]any   `yaml:"alerting,omitempty"`
	ScrapeConfigs []map[string]any `yaml:"scrape_configs"`
}

// fileSDGroup is one target group of a file_sd file.
type fileSDGroup struct {
	Targets []string          `yaml:"targets"`
	Labels  map[string]string `yaml:"labels,omitempty"`
}

// TestConfig holds what DerivePrometheusConfig changes in the example
// configuration.
type TestConfig struct {
	Dir           string // directory for the derived files
	StaticTarget  string // host:port that replaces the static targets
	FileSDTarget  string // host:port written into the file_sd file
	ExtraRuleFile string // added to the example's rule files
	Interval      string // scrape and evaluation interval
}

// DerivePrometheusConfig reads the example configuration and writes a copy
// into cfg.Dir that scrapes the test's exporters every cfg.Interval. The
// copy has cfg.StaticTarget in place of the static targets. Its file_sd
// file lists cfg.FileSDTarget with the labels of the example's first
// file_sd group. Rule files become absolute paths. It returns the path of
// the copy and the job name.
func DerivePrometheusConfig(t testing.TB, cfg TestConfig) (string, string) {
	t.Helper()
	exampleDir := filepath.Join(repoRoot, filepath.Dir(kitPrometheusConfig))
	data, err := os.ReadFile(filepath.Join(repoRoot, kitPrometheusConfig))
	if err != nil {
		t.Fatalf("read example config: %v", err)
	}
	var config exampleConfig
	if err := yaml.UnmarshalStrict(data, &config); err != nil {
		t.Fatalf("parse %s: %v", kitPrometheusConfig, err)
	}

	if config.Global == nil {
		config.Global = map[string]any{}
	}
	config.Global["scrape_interval"] = cfg.Interval
	config.Global["evaluation_interval"] = cfg.Interval

	ruleFiles := make([]string, 0, len(config.RuleFiles)+1)
	for _, file := range config.RuleFiles {
		path := filepath.Join(exampleDir, file)
		if _, err := os.Stat(path); err != nil {
			t.Fatalf("rule file %s of %s: %v", file, kitPrometheusConfig, err)
		}
		ruleFiles = append(ruleFiles, path)
	}
	config.RuleFiles = append(ruleFiles, cfg.ExtraRuleFile)
	// The test reads alerts from /api/v1/alerts, so it needs no Alertmanager.
	config.Alerting = nil

	if len(config.ScrapeConfigs) != 1 {
		t.Fatalf("%s has %d scrape configs; the test expects the one postfix_queue_exporter job",
			kitPrometheusConfig, len(config.ScrapeConfigs))
	}
	job := config.ScrapeConfigs[0]
	jobName, _ := job["job_name"].(string)
	if _, ok := job["file_sd_configs"]; !ok {
		t.Fatalf("job %s of %s has no file_sd_configs", jobName, kitPrometheusConfig)
	}
	job["scrape_interval"] = cfg.Interval
	job["scrape_timeout"] = cfg.Interval
	job["static_configs"] = []fileSDGroup{{Targets: []string{cfg.StaticTarget}}}

	sdDir := filepath.Join(cfg.Dir, "file_sd")
	if err := os.MkdirAll(sdDir, 0o755); err != nil {
		t.Fatal(err)
	}
	WriteYAML(t, filepath.Join(sdDir, "lab.yml"), []fileSDGroup{{
		Targets: []string{cfg.FileSDTarget},
		Labels:  exampleFileSDLabels(t, exampleDir),
	}})
	job["file_sd_configs"] = []map[string]any{{"files": []string{filepath.Join(sdDir, "*.yml")}}}

	path := filepath.Join(cfg.Dir, "prometheus.yml")
	WriteYAML(t, path, config)
	return path, jobName
}

// exampleFileSDLabels returns the labels of the first target group of the
// example's file_sd files.
func exampleFileSDLabels(t testing.TB, exampleDir string) map[string]string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(exampleDir, "file_sd", "*.yml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no example file_sd file in %s/file_sd (%v)", exampleDir, err)
	}
	data, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	var groups []fileSDGroup
	if err := yaml.UnmarshalStrict(data, &groups); err != nil {
		t.Fatalf("parse %s: %v", files[0], err)
	}
	if len(groups) == 0 {
		t.Fatalf("%s has no target groups", files[0])
	}
	return groups[0].Labels
}

// Dashboard is the part of a Grafana dashboard that the test checks.
type Dashboard struct {
	UID        string `json:"uid"`
	Title      string `json:"title"`
	Templating struct {
		List []DashboardVariable `json:"list"`
	} `json:"templating"`
	Panels []DashboardPanel `json:"panels"`
}

// DashboardDatasource is a panel's or target's data source reference.
type DashboardDatasource struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

// DashboardPanel is a panel or a row. A collapsed row nests its panels.
type DashboardPanel struct {
	ID         int                  `json:"id"`
	Type       string               `json:"type"`
	Title      string               `json:"title"`
	Datasource *DashboardDatasource `json:"datasource"`
	Targets    []struct {
		Expr       string               `json:"expr"`
		RefID      string               `json:"refId"`
		Datasource *DashboardDatasource `json:"datasource"`
	} `json:"targets"`
	Panels []DashboardPanel `json:"panels"`
}

// DashboardVariable is a template variable. Query is a string or, in newer
// Grafana versions, an object with a query member.
type DashboardVariable struct {
	Name       string               `json:"name"`
	Type       string               `json:"type"`
	Query      json.RawMessage      `json:"query"`
	Datasource *DashboardDatasource `json:"datasource"`
	IncludeAll bool                 `json:"includeAll"`
	AllValue   string               `json:"allValue"`
}

// QueryText returns the variable's query as a string.
func (v DashboardVariable) QueryText() (string, error) {
	var text string
	if err := json.Unmarshal(v.Query, &text); err == nil {
		return text, nil
	}
	var object struct {
		Query string `json:"query"`
	}
	if err := json.Unmarshal(v.Query, &object); err != nil {
		return "", fmt.Errorf("variable %s: query is neither a string nor an object with a query: %s", v.Name, v.Query)
	}
	return object.Query, nil
}

// ReadDashboard parses the dashboard JSON.
func ReadDashboard(t testing.TB) Dashboard {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot, kitDashboard))
	if err != nil {
		t.Fatalf("read dashboard: %v", err)
	}
	var dashboard Dashboard
	if err := json.Unmarshal(data, &dashboard); err != nil {
		t.Fatalf("parse %s: %v", kitDashboard, err)
	}
	return dashboard
}

// AllPanels returns every panel, those nested in collapsed rows included.
func (d Dashboard) AllPanels() []DashboardPanel {
	var panels []DashboardPanel
	var walk func([]DashboardPanel)
	walk = func(list []DashboardPanel) {
		for _, panel := range list {
			panels = append(panels, panel)
			walk(panel.Panels)
		}
	}
	walk(d.Panels)
	return panels
}

// KitExpression is a PromQL expression found in the deploy kit.
type KitExpression struct {
	Source string // where it was found, for test messages
	Expr   string
}

// DashboardExpressions returns the expression of every panel target.
func (d Dashboard) DashboardExpressions() []KitExpression {
	var expressions []KitExpression
	for _, panel := range d.AllPanels() {
		for _, target := range panel.Targets {
			expressions = append(expressions, KitExpression{
				Source: fmt.Sprintf("panel %q target %s", panel.Title, target.RefID),
				Expr:   target.Expr,
			})
		}
	}
	return expressions
}

// grafanaVariable matches $name and ${name} (Grafana also accepts
// ${name:format}, which the dashboard does not use).
var grafanaVariable = regexp.MustCompile(`\$\{(\w+)\}|\$(\w+)`)

// SubstituteVariables replaces Grafana variables in expr with values, as
// Grafana does before it sends a query. It returns an error naming any
// variable that values lacks.
func SubstituteVariables(expr string, values map[string]string) (string, error) {
	var missing []string
	result := grafanaVariable.ReplaceAllStringFunc(expr, func(match string) string {
		groups := grafanaVariable.FindStringSubmatch(match)
		name := groups[1] + groups[2]
		value, ok := values[name]
		if !ok {
			missing = append(missing, name)
			return match
		}
		return value
	})
	if len(missing) > 0 {
		sort.Strings(missing)
		return "", fmt.Errorf("no value for variable(s) %s", strings.Join(missing, ", "))
	}
	return result, nil
}

// labelValuesQuery matches Grafana's label_values(SELECTOR, LABEL) variable
// query.
var labelValuesQuery = regexp.MustCompile(`^label_values\((.+),\s*(\w+)\)$`)

// ParseLabelValues splits a label_values variable query into its series
// selector and label name.
func ParseLabelValues(query string) (selector, label string, err error) {
	groups := labelValuesQuery.FindStringSubmatch(strings.TrimSpace(query))
	if groups == nil {
		return "", "", fmt.Errorf("query %q is not label_values(SELECTOR, LABEL)", query)
	}
	return groups[1], groups[2], nil
}

// thresholdComparison matches a comparison with a number, the form of every
// threshold in the alert rules.
var thresholdComparison = regexp.MustCompile(`(==|!=|>=|<=|>|<)\s*-?[0-9][0-9.]*(?:[eE][+-]?[0-9]+)?`)

// RelaxThresholds replaces every comparison with a number by ">= -Inf",
// which keeps every sample that is not NaN, and returns how many it
// replaced. A relaxed alert expression returns series whenever the data it
// compares exists and its "and" and "on" clauses match.
func RelaxThresholds(expr string) (string, int) {
	count := len(thresholdComparison.FindAllStringIndex(expr, -1))
	return thresholdComparison.ReplaceAllString(expr, ">= -Inf"), count
}

// RuleExpressions returns the expression of every rule of file.
func (f RuleFile) RuleExpressions(path string) []KitExpression {
	var expressions []KitExpression
	for _, group := range f.Groups {
		for _, rule := range group.Rules {
			name := "record " + rule.Record
			if rule.Alert != "" {
				name = "alert " + rule.Alert
			}
			expressions = append(expressions, KitExpression{
				Source: fmt.Sprintf("%s in %s", name, path),
				Expr:   rule.Expr,
			})
		}
	}
	return expressions
}
