package logging

import (
	"bytes"
	"strings"
	"testing"

	"github.com/go-kit/log/level"
)

func TestNewOneTimestampAndCaller(t *testing.T) {
	for _, format := range Formats {
		t.Run(format, func(t *testing.T) {
			var buf bytes.Buffer
			logger, slogger, err := New(&buf, format, "info")
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			level.Info(logger).Log("msg", "from go-kit")
			slogger.Info("from slog")

			lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
			if len(lines) != 2 {
				t.Fatalf("got %d lines, want 2:\n%s", len(lines), buf.String())
			}
			for _, line := range lines {
				if got := strings.Count(line, "ts"); got != 1 {
					t.Errorf("line has %d ts keys, want 1: %s", got, line)
				}
				if got := strings.Count(line, "caller"); got != 1 {
					t.Errorf("line has %d caller keys, want 1: %s", got, line)
				}
				if strings.Contains(line, "time") {
					t.Errorf("line has a time key: %s", line)
				}
			}
		})
	}
}

func TestNewFiltersLevel(t *testing.T) {
	var buf bytes.Buffer
	logger, slogger, err := New(&buf, "logfmt", "warn")
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	level.Info(logger).Log("msg", "dropped")
	slogger.Info("dropped")
	level.Warn(logger).Log("msg", "kept")
	slogger.Warn("kept")
	if got := strings.Count(buf.String(), "dropped"); got != 0 {
		t.Errorf("info lines logged at level warn: %s", buf.String())
	}
	if got := strings.Count(buf.String(), "kept"); got != 2 {
		t.Errorf("got %d warn lines, want 2: %s", got, buf.String())
	}
}

func TestNewRejectsInvalidValues(t *testing.T) {
	if _, _, err := New(&bytes.Buffer{}, "xml", "info"); err == nil {
		t.Error("format xml accepted")
	}
	if _, _, err := New(&bytes.Buffer{}, "logfmt", "verbose"); err == nil {
		t.Error("level verbose accepted")
	}
}
