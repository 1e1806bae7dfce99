// Package e2e holds the end-to-end tests: they build postfix_queue_exporter,
// run it against the loopback-only Postfix lab of deploy/lab and compare what
// it publishes with the queue as Postfix itself lists it.
//
// The tests change Postfix state, so they run only when POSTFIX_E2E=1 is set,
// as root, on a host where deploy/lab/lab-up.sh may install and configure
// Postfix (a disposable Debian 12 machine or container):
//
//	POSTFIX_E2E=1 go test -count=1 ./e2e/
//
// Without POSTFIX_E2E=1 every test skips with a message saying so.
//
// TestMain holds an exclusive flock(2) on /run/postfix-lab.lock for the
// whole run, so manual commands that change the lab must take the same lock
// (`flock /run/postfix-lab.lock CMD`). Lab scripts started by the tests get
// LAB_LOCKED=1 in their environment, which marks the lock as held.
//
// Helpers for tests in this package (all in the _test.go files):
//
//   - RequireLab(t) skips unless the end-to-end run is enabled. Every test
//     calls it first, directly or through any helper below.
//   - StartExporter(t, args...) and StartExporterAs(t, user, args...) start
//     the built binary on a free 127.0.0.1 port, wait until it serves HTTP
//     and stop it when the test ends. Exporter.Scrape, ScrapeText and Log
//     read its metrics and its stdout and stderr. Log is complete for
//     everything the exporter wrote before a scrape returned.
//   - RunOnce(t, stdin, args...) runs the binary with --once.
//   - Scrape and ScrapeText fetch any URL, ParseMetrics parses exposition
//     text, and Metrics.Get, Value, Count and LabelValues look samples up
//     by name and label pairs.
//   - EnsurePopulated(t) leaves mail in all five queues. It runs Clear and
//     Populate only when some queue is empty.
//   - Populate, Clear and Restore run the deploy/lab scripts, and
//     RunLabScript runs any of them.
//   - StopPostfix and SetPostconf change the lab and undo their change when
//     the test ends.
//   - ReadQueue counts the queue from `postqueue -j`, decoded here without
//     the exporter's parser, and cross-checks the message counts against
//     the files in the queue directories. ObserveStable reads metrics while
//     the queue stays unchanged, and CheckQueueMetrics compares them with
//     the count.
//   - Command, CommandInput, Run, RunAs and EnsureUser run commands, as
//     root or as another user.
package e2e
