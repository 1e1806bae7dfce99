package main

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestRunAsExporter is not a test: TestShutdownKillsPostqueue starts the
// test binary again with this test selected, to run the exporter in a
// process of its own.
func TestRunAsExporter(t *testing.T) {
	args := os.Getenv("PQE_EXPORTER_ARGS")
	if args == "" {
		t.Skip("helper process for TestShutdownKillsPostqueue")
	}
	os.Exit(run(strings.Split(args, "\n")))
}

func TestShutdownKillsPostqueue(t *testing.T) {
	dir := t.TempDir()
	pidFile := filepath.Join(dir, "pids")
	// A postqueue that hangs, with a child that hangs too.
	script := fmt.Sprintf("#!/bin/sh\nsleep 600 &\necho $! >> %s\necho $$ >> %s\nwait\n", pidFile, pidFile)
	postqueue := filepath.Join(dir, "postqueue")
	if err := os.WriteFile(postqueue, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	address := freeAddress(t)

	cmd := exec.Command(os.Args[0], "-test.run=^TestRunAsExporter$")
	cmd.Env = append(os.Environ(), "PQE_EXPORTER_ARGS="+strings.Join([]string{
		"--web.listen-address=" + address,
		"--postqueue.path=" + postqueue,
		"--postqueue.timeout=5m",
	}, "\n"))
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() })

	// A scrape starts the hanging postqueue; it is not expected to finish.
	go func() {
		client := &http.Client{Timeout: time.Minute}
		for range 100 {
			if resp, err := client.Get("http://" + address + "/metrics"); err == nil {
				resp.Body.Close()
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
	}()
	pids := waitForPIDs(t, pidFile, 2)

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Errorf("exporter exited with %v after SIGTERM, want status 0", err)
	}
	for _, pid := range pids {
		if processRunning(pid) {
			t.Errorf("process %d started by postqueue still runs after the exporter exited", pid)
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}

func freeAddress(t *testing.T) string {
	t.Helper()
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer listener.Close()
	return listener.Addr().String()
}

// waitForPIDs waits until file lists n process ids and returns them.
func waitForPIDs(t *testing.T, file string, n int) []int {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		data, _ := os.ReadFile(file)
		fields := strings.Fields(string(data))
		if len(fields) >= n {
			pids := make([]int, 0, n)
			for _, field := range fields[:n] {
				pid, err := strconv.Atoi(field)
				if err != nil {
					t.Fatalf("invalid pid %q in %s", field, file)
				}
				pids = append(pids, pid)
			}
			return pids
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("postqueue did not start within 30 s: %s lists fewer than %d pids", file, n)
	return nil
}

// processRunning reports whether pid exists and is not a zombie.
func processRunning(pid int) bool {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// The state follows the command name in parentheses.
	fields := strings.Fields(string(data[strings.LastIndexByte(string(data), ')')+1:]))
	return len(fields) > 0 && fields[0] != "Z"
}
