package e2e

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Metrics is one parsed exposition, by metric family name.
type Metrics map[string]*dto.MetricFamily

// ParseMetrics parses Prometheus text exposition.
func ParseMetrics(t testing.TB, text string) Metrics {
	t.Helper()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(strings.NewReader(text))
	if err != nil {
		t.Fatalf("parse exposition: %v\n%s", err, text)
	}
	return families
}

// Value returns the value of the one sample of family name whose labels
// include the label pairs given as name, value, name, value... It returns an
// error when no sample or more than one sample matches.
func (m Metrics) Value(name string, labelPairs ...string) (float64, error) {
	if len(labelPairs)%2 != 0 {
		return 0, fmt.Errorf("odd number of label arguments %q", labelPairs)
	}
	family, ok := m[name]
	if !ok {
		return 0, fmt.Errorf("no metric %s in the exposition", name)
	}
	var matches []*dto.Metric
	for _, metric := range family.GetMetric() {
		if hasLabels(metric, labelPairs) {
			matches = append(matches, metric)
		}
	}
	switch len(matches) {
	case 0:
		return 0, fmt.Errorf("no sample %s%s among %s", name, formatPairs(labelPairs), describeSamples(family))
	case 1:
		return sampleValue(family.GetType(), matches[0])
	default:
		return 0, fmt.Errorf("%d samples match %s%s among %s; give more labels",
			len(matches), name, formatPairs(labelPairs), describeSamples(family))
	}
}

// Get is Value that fails the test when the sample is missing or ambiguous.
func (m Metrics) Get(t testing.TB, name string, labelPairs ...string) float64 {
	t.Helper()
	value, err := m.Value(name, labelPairs...)
	if err != nil {
		t.Fatal(err)
	}
	return value
}

// Count returns how many samples of family name include the label pairs.
// It is 0 for a family that is absent.
func (m Metrics) Count(name string, labelPairs ...string) int {
	count := 0
	for _, metric := range m[name].GetMetric() {
		if hasLabels(metric, labelPairs) {
			count++
		}
	}
	return count
}

// LabelValues returns the sorted values of label in the samples of family
// name.
func (m Metrics) LabelValues(name, label string) []string {
	var values []string
	for _, metric := range m[name].GetMetric() {
		for _, pair := range metric.GetLabel() {
			if pair.GetName() == label {
				values = append(values, pair.GetValue())
			}
		}
	}
	sort.Strings(values)
	return values
}

func hasLabels(metric *dto.Metric, labelPairs []string) bool {
	for i := 0; i+1 < len(labelPairs); i += 2 {
		found := false
		for _, pair := range metric.GetLabel() {
			if pair.GetName() == labelPairs[i] && pair.GetValue() == labelPairs[i+1] {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

func sampleValue(kind dto.MetricType, metric *dto.Metric) (float64, error) {
	switch kind {
	case dto.MetricType_COUNTER:
		return metric.GetCounter().GetValue(), nil
	case dto.MetricType_GAUGE:
		return metric.GetGauge().GetValue(), nil
	case dto.MetricType_UNTYPED:
		return metric.GetUntyped().GetValue(), nil
	}
	return 0, fmt.Errorf("metric type %s has no single value", kind)
}

func formatPairs(labelPairs []string) string {
	if len(labelPairs) == 0 {
		return ""
	}
	var parts []string
	for i := 0; i+1 < len(labelPairs); i += 2 {
		parts = append(parts, fmt.Sprintf("%s=%q", labelPairs[i], labelPairs[i+1]))
	}
	return "{" + strings.Join(parts, ",") + "}"
}

func describeSamples(family *dto.MetricFamily) string {
	var samples []string
	for _, metric := range family.GetMetric() {
		var pairs []string
		for _, pair := range metric.GetLabel() {
			pairs = append(pairs, pair.GetName(), pair.GetValue())
		}
		samples = append(samples, family.GetName()+formatPairs(pairs))
	}
	if len(samples) == 0 {
		return "no samples"
	}
	return strings.Join(samples, ", ")
}
