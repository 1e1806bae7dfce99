package main

import (
	"slices"
	"strings"
	"testing"

	"github.com/alecthomas/kingpin/v2"

	"github.com/postfix-queue-exporter/postfix_queue_exporter/queue"
)

func TestShapeFlagsDefaults(t *testing.T) {
	app := kingpin.New("test", "")
	flags := addShapeFlags(app)
	if _, err := app.Parse(nil); err != nil {
		t.Fatal(err)
	}
	options, err := flags.options()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(options.AgeBuckets, queue.DefaultAgeBuckets) {
		t.Errorf("age buckets = %v, want %v", options.AgeBuckets, queue.DefaultAgeBuckets)
	}
	if !slices.Equal(options.SizeBuckets, queue.DefaultSizeBuckets) {
		t.Errorf("size buckets = %v, want %v", options.SizeBuckets, queue.DefaultSizeBuckets)
	}
	if options.TopDomains != queue.DefaultTopDomains {
		t.Errorf("top domains = %d, want %d", options.TopDomains, queue.DefaultTopDomains)
	}
}

func TestShapeFlagsParse(t *testing.T) {
	tests := []struct {
		name string
		args []string
		age  []float64
		size []float64
	}{
		{"durations", []string{"--queue.age-buckets=90s, 1h,2d"}, []float64{90, 3600, 172800}, queue.DefaultSizeBuckets},
		{"plain seconds", []string{"--queue.age-buckets=0.5,60"}, []float64{0.5, 60}, queue.DefaultSizeBuckets},
		{"sizes", []string{"--queue.size-buckets=512,1KiB,10MB"}, queue.DefaultAgeBuckets, []float64{512, 1024, 10 << 20}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			app := kingpin.New("test", "")
			flags := addShapeFlags(app)
			if _, err := app.Parse(tt.args); err != nil {
				t.Fatal(err)
			}
			options, err := flags.options()
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(options.AgeBuckets, tt.age) {
				t.Errorf("age buckets = %v, want %v", options.AgeBuckets, tt.age)
			}
			if !slices.Equal(options.SizeBuckets, tt.size) {
				t.Errorf("size buckets = %v, want %v", options.SizeBuckets, tt.size)
			}
		})
	}
}

func TestShapeFlagsInvalid(t *testing.T) {
	tests := []struct {
		name string
		arg  string
		want string
	}{
		{"decreasing", "--queue.age-buckets=1h,30m", `--queue.age-buckets: bucket bound "30m" is not larger`},
		{"unknown unit", "--queue.age-buckets=5x", `invalid age bucket bound "5x"`},
		{"zero", "--queue.size-buckets=0,1KiB", `--queue.size-buckets: bucket bound "0" is not positive`},
		{"bad size", "--queue.size-buckets=2XB", `invalid size bucket bound "2XB"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			app := kingpin.New("test", "")
			addShapeFlags(app)
			_, err := app.Parse([]string{tt.arg})
			if err == nil {
				t.Fatalf("Parse(%q) returned no error", tt.arg)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
		})
	}
}
