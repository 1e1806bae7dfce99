package postfix

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestPostconfValues(t *testing.T) {
	tests := []struct {
		name      string
		configDir string
		names     []string
		want      []string
	}{
		{"one", "", []string{"enable_long_queue_ids"}, []string{"enable_long_queue_ids in default"}},
		{"two with config dir", "/etc/postfix-lab2", []string{"a", "b"},
			[]string{"a in /etc/postfix-lab2", "b in /etc/postfix-lab2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &Postconf{Path: "testdata/postconf/fake.sh", ConfigDir: tt.configDir, Runner: &Runner{Timeout: 10 * time.Second}}
			got, err := p.Values(context.Background(), tt.names...)
			if err != nil {
				t.Fatalf("Values: %v", err)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("Values = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestPostconfValuesUnknown(t *testing.T) {
	p := &Postconf{Path: "testdata/postconf/fake.sh", Runner: &Runner{Timeout: 10 * time.Second}}
	_, err := p.Values(context.Background(), "a", "unknown")
	if err == nil {
		t.Fatal("no error")
	}
	if got := KindOf(err); got != KindParse {
		t.Errorf("kind = %s, want %s", got, KindParse)
	}
	if !strings.Contains(err.Error(), "printed 1 values for 2 parameters") {
		t.Errorf("error %q does not give the counts", err)
	}
}
