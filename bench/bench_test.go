package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/postfix-queue-exporter/postfix_queue_exporter/parser"
)

func TestGenerateListingParses(t *testing.T) {
	path := filepath.Join(t.TempDir(), "listing.jsonl")
	if err := generateListing(path, 1500); err != nil {
		t.Fatal(err)
	}
	file, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()

	messages, reasons := 0, 0
	err = parser.ParseJSON(file, func(m *parser.Message) error {
		messages++
		for _, r := range m.Recipients {
			if r.DelayReason != "" {
				reasons++
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("parse the generated listing: %v", err)
	}
	if messages != 1500 {
		t.Errorf("parsed %d messages, want 1500", messages)
	}
	if reasons != 1500 {
		t.Errorf("parsed %d delay reasons, want 1500", reasons)
	}
}

func TestFormatRow(t *testing.T) {
	r := row{
		Source: "lab", Messages: 10000,
		PostqueueSeconds: 0.4, ScrapeSeconds: 0.42, ExporterCPUSeconds: 0.02, PeakRSSBytes: 20 << 20,
		ConcurrentScrapes: 50, ConcurrentRuns: 1,
		BackgroundP50Seconds: 0.003, BackgroundMaxSeconds: 0.005,
	}
	got := formatRow(r)
	want := "| lab | 10000 | 0.400 | 0.420 | 1.05 | 0.020 | 5.0% | 20.0 | 1 of 50 | 3.0 / 5.0 | - |\n"
	if got != want {
		t.Errorf("formatRow =\n%s want\n%s", got, want)
	}
	if columns := strings.Count(tableHeader[:strings.Index(tableHeader, "\n")], "|"); columns != strings.Count(got, "|") {
		t.Errorf("row has %d separators, header %d", strings.Count(got, "|"), columns)
	}
}
