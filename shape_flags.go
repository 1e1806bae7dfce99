package main

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/alecthomas/kingpin/v2"
	"github.com/alecthomas/units"
	"github.com/prometheus/common/model"

	"github.com/postfix-queue-exporter/postfix_queue_exporter/queue"
)

// shapeFlags holds the flags of the queue shape metrics.
type shapeFlags struct {
	ageBuckets  []float64
	sizeBuckets []float64
	topDomains  *int
}

func addShapeFlags(app *kingpin.Application) *shapeFlags {
	f := &shapeFlags{}
	app.Flag("queue.age-buckets",
		"Upper bounds of the postfix_queue_message_age_seconds buckets: comma-separated durations "+
			"(units s, m, h, d, w) or plain seconds, increasing.").
		Default(formatDurations(queue.DefaultAgeBuckets)).
		SetValue(&bucketsValue{flag: "queue.age-buckets", target: &f.ageBuckets, parse: parseAgeBound})
	app.Flag("queue.size-buckets",
		"Upper bounds of the postfix_queue_message_size_bytes buckets: comma-separated sizes "+
			"(units KiB, MiB, GiB, also written KB, MB, GB, all powers of 1024) or plain bytes, increasing.").
		Default(formatSizes(queue.DefaultSizeBuckets)).
		SetValue(&bucketsValue{flag: "queue.size-buckets", target: &f.sizeBuckets, parse: parseSizeBound})
	f.topDomains = app.Flag("queue.top-domains",
		fmt.Sprintf("Recipient domains published by name per queue, those with the most recipients; "+
			"the rest are summed up under domain=\"other\". 0 to %d.", queue.MaxTopDomains)).
		Default(strconv.Itoa(queue.DefaultTopDomains)).Int()
	return f
}

// options returns the shape options the flags set, or an error that names
// the invalid flag.
func (f *shapeFlags) options() (queue.ShapeOptions, error) {
	options := queue.ShapeOptions{
		AgeBuckets:  f.ageBuckets,
		SizeBuckets: f.sizeBuckets,
		TopDomains:  *f.topDomains,
	}
	if options.TopDomains < 0 || options.TopDomains > queue.MaxTopDomains {
		return options, fmt.Errorf("invalid --queue.top-domains %d: use 0 to %d", options.TopDomains, queue.MaxTopDomains)
	}
	return options, options.Validate()
}

// bucketsValue is a kingpin flag value that holds a comma-separated list of
// increasing bucket bounds.
type bucketsValue struct {
	flag   string // for error messages
	target *[]float64
	parse  func(string) (float64, error)
}

func (v *bucketsValue) Set(s string) error {
	var bounds []float64
	for _, field := range strings.Split(s, ",") {
		field = strings.TrimSpace(field)
		if field == "" {
			continue
		}
		bound, err := v.parse(field)
		if err != nil {
			return fmt.Errorf("--%s: %w", v.flag, err)
		}
		if bound <= 0 {
			return fmt.Errorf("--%s: bucket bound %q is not positive", v.flag, field)
		}
		if n := len(bounds); n > 0 && bound <= bounds[n-1] {
			return fmt.Errorf("--%s: bucket bound %q is not larger than the one before it: "+
				"list bounds in increasing order", v.flag, field)
		}
		bounds = append(bounds, bound)
	}
	*v.target = bounds
	return nil
}

func (v *bucketsValue) String() string {
	return fmt.Sprint(*v.target)
}

// parseAgeBound parses a duration such as "90m" or "2d", or plain seconds.
func parseAgeBound(s string) (float64, error) {
	if seconds, err := strconv.ParseFloat(s, 64); err == nil {
		return seconds, nil
	}
	d, err := model.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("invalid age bucket bound %q: use a duration such as 5m, 2h or 1d, or seconds", s)
	}
	return time.Duration(d).Seconds(), nil
}

// parseSizeBound parses a size such as "64KiB" or "10MB" (both powers of
// 1024), or plain bytes.
func parseSizeBound(s string) (float64, error) {
	if bytes, err := strconv.ParseFloat(s, 64); err == nil {
		return bytes, nil
	}
	size, err := units.ParseBase2Bytes(s)
	if err != nil {
		return 0, fmt.Errorf("invalid size bucket bound %q: use a size such as 64KiB or 4MiB, or bytes", s)
	}
	return float64(size), nil
}

func formatDurations(bounds []float64) string {
	parts := make([]string, len(bounds))
	for i, bound := range bounds {
		parts[i] = model.Duration(time.Duration(bound * float64(time.Second))).String()
	}
	return strings.Join(parts, ",")
}

func formatSizes(bounds []float64) string {
	parts := make([]string, len(bounds))
	for i, bound := range bounds {
		parts[i] = units.Base2Bytes(bound).String()
	}
	return strings.Join(parts, ",")
}
