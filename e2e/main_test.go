package e2e

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// Names and paths shared by the lab scripts and the tests.
const (
	enableEnv   = "POSTFIX_E2E"
	labLockFile = "/run/postfix-lab.lock"
	// labLockWait bounds the wait for another holder of the lab lock, such
	// as a second test run, before TestMain gives up.
	labLockWait = 15 * time.Minute
	binaryName  = "postfix_queue_exporter"
)

var (
	// enabled is set when POSTFIX_E2E=1 and TestMain prepared the lab.
	enabled bool
	// repoRoot is the absolute path of the repository checkout.
	repoRoot string
	// exporterBinary is the binary built by TestMain.
	exporterBinary string
	// raceEnabled is set by race_test.go when the tests run with -race, and
	// the exporter is then built with -race too.
	raceEnabled bool
)

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	if os.Getenv(enableEnv) != "1" {
		// Every test skips through RequireLab.
		return m.Run()
	}

	cleanup, err := setUp()
	if cleanup != nil {
		defer cleanup()
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "e2e: setup failed: %v\n", err)
		return 1
	}
	enabled = true
	return m.Run()
}

// setUp takes the lab lock, builds the exporter and brings the lab up. The
// returned function releases the lock and removes the build directory.
func setUp() (func(), error) {
	if os.Geteuid() != 0 {
		return nil, errors.New("the end-to-end tests must run as root: they configure Postfix and create users")
	}
	root, err := filepath.Abs("..")
	if err != nil {
		return nil, err
	}
	repoRoot = root

	unlock, err := lockLab()
	if err != nil {
		return nil, err
	}
	// The lab scripts take the lock themselves unless LAB_LOCKED=1 marks it
	// as held by the caller. The Go lock descriptor is close-on-exec, so they cannot
	// find it, and exporters started by the tests do not keep it.
	os.Setenv("LAB_LOCKED", "1")

	buildDir, err := os.MkdirTemp("", "pqe-e2e-")
	cleanup := func() {
		if buildDir != "" {
			os.RemoveAll(buildDir)
		}
		unlock()
	}
	if err != nil {
		return cleanup, err
	}
	// Non-root users started by StartExporterAs must reach the binary.
	if err := os.Chmod(buildDir, 0o755); err != nil {
		return cleanup, err
	}
	if exporterBinary, err = buildExporter(buildDir); err != nil {
		return cleanup, err
	}

	start := time.Now()
	out, err := runSetupCommand(10*time.Minute, filepath.Join(repoRoot, "deploy/lab/lab-up.sh"))
	if err != nil {
		return cleanup, fmt.Errorf("deploy/lab/lab-up.sh: %w\n%s", err, out)
	}
	fmt.Fprintf(os.Stderr, "e2e: lab is up (%.1fs)\n", time.Since(start).Seconds())
	return cleanup, nil
}

// lockLab takes an exclusive flock on the lab lock file, waiting up to
// labLockWait, and returns the function that releases it.
func lockLab() (func(), error) {
	file, err := os.OpenFile(labLockFile, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open lab lock: %w", err)
	}
	start := time.Now()
	deadline := start.Add(labLockWait)
	told := false
	for {
		err = syscall.Flock(int(file.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			break
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			file.Close()
			return nil, fmt.Errorf("lock %s: %w", labLockFile, err)
		}
		if time.Now().After(deadline) {
			file.Close()
			return nil, fmt.Errorf("timed out after %s waiting for the lab lock %s; see `fuser -v %s` for its holder",
				labLockWait, labLockFile, labLockFile)
		}
		if !told {
			fmt.Fprintf(os.Stderr, "e2e: waiting for the lab lock %s held by another process\n", labLockFile)
			told = true
		}
		time.Sleep(200 * time.Millisecond)
	}
	if told {
		fmt.Fprintf(os.Stderr, "e2e: took the lab lock after waiting %.1fs\n", time.Since(start).Seconds())
	}
	return func() {
		syscall.Flock(int(file.Fd()), syscall.LOCK_UN)
		file.Close()
	}, nil
}

// buildExporter builds the exporter from the repository into dir, with the
// race detector when the tests have it.
func buildExporter(dir string) (string, error) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		goTool = "/usr/local/go/bin/go"
	}
	binary := filepath.Join(dir, binaryName)
	args := []string{"build", "-o", binary,
		"-ldflags", "-X github.com/prometheus/common/version.Version=e2e"}
	if raceEnabled {
		args = append(args, "-race")
	}
	args = append(args, ".")

	start := time.Now()
	cmd := exec.Command(goTool, args...)
	cmd.Dir = repoRoot
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go %v: %w\n%s", args, err, out)
	}
	fmt.Fprintf(os.Stderr, "e2e: built %s (race detector: %t, %.1fs)\n",
		binary, raceEnabled, time.Since(start).Seconds())
	return binary, nil
}

// runSetupCommand runs a command outside any test, with its output going to a
// file so that daemons it starts cannot hold a pipe open.
func runSetupCommand(timeout time.Duration, name string, args ...string) (string, error) {
	result, err := runCommand(commandSpec{Name: name, Args: args, Timeout: timeout})
	if err != nil {
		return "", err
	}
	out := result.Stdout + result.Stderr
	if result.ExitCode != 0 {
		return out, fmt.Errorf("exit code %d", result.ExitCode)
	}
	return out, nil
}

// RequireLab skips the test unless the end-to-end run is enabled.
func RequireLab(t testing.TB) {
	t.Helper()
	if !enabled {
		t.Skipf("end-to-end test: it needs root and a disposable host whose Postfix it may configure; "+
			"run it with %s=1 go test -count=1 ./e2e/ (scripts/test does)", enableEnv)
	}
}
