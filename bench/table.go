package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
)

const tableHeader = "| source | messages | postqueue -j s | scrape s | scrape / postqueue | exporter CPU s | CPU / postqueue | peak RSS MB | postqueue runs for concurrent scrapes | background /metrics p50 / max ms | older exporter: scrape s, CPU s, peak RSS MB |\n" +
	"|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|\n"

// printTable prints every row of a results file.
func printTable(w io.Writer, path string) error {
	file, err := os.Open(path)
	if err != nil {
		return err
	}
	defer file.Close()
	fmt.Fprint(w, tableHeader)
	scanner := bufio.NewScanner(file)
	for scanner.Scan() {
		var r row
		if err := json.Unmarshal(scanner.Bytes(), &r); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		fmt.Fprint(w, formatRow(r))
	}
	return scanner.Err()
}

func printRow(w io.Writer, r row) {
	fmt.Fprint(w, tableHeader, formatRow(r))
}

func formatRow(r row) string {
	peer := "-"
	if r.PeerScrapeSeconds > 0 {
		peer = fmt.Sprintf("%.3f, %.3f, %.1f", r.PeerScrapeSeconds, r.PeerCPUSeconds, megabytes(r.PeerPeakRSSBytes))
	}
	return fmt.Sprintf("| %s | %d | %.3f | %.3f | %.2f | %.3f | %.1f%% | %.1f | %d of %d | %.1f / %.1f | %s |\n",
		r.Source, r.Messages, r.PostqueueSeconds, r.ScrapeSeconds, ratio(r.ScrapeSeconds, r.PostqueueSeconds),
		r.ExporterCPUSeconds, 100*ratio(r.ExporterCPUSeconds, r.PostqueueSeconds), megabytes(r.PeakRSSBytes),
		r.ConcurrentRuns, r.ConcurrentScrapes, 1000*r.BackgroundP50Seconds, 1000*r.BackgroundMaxSeconds, peer)
}

func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

func megabytes(bytes int64) float64 {
	return float64(bytes) / (1 << 20)
}
