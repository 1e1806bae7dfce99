package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// defaultCommandTimeout bounds commands run through Run and RunAs.
const defaultCommandTimeout = 2 * time.Minute

// Result is a finished command.
type Result struct {
	Stdout   string
	Stderr   string
	ExitCode int
}

// commandSpec describes a command for runCommand.
type commandSpec struct {
	Name    string
	Args    []string
	Stdin   []byte
	Env     []string // added to the test's environment
	Timeout time.Duration
}

// runCommand runs a command in its own process group, with stdout and
// stderr written to temporary files. A daemon that the command starts may
// inherit those files, but, unlike a pipe, a file does not make Wait block
// until the daemon exits. When the timeout runs out the whole process group
// is killed. A non-zero exit is not an error: it is in Result.ExitCode.
func runCommand(spec commandSpec) (Result, error) {
	timeout := spec.Timeout
	if timeout == 0 {
		timeout = defaultCommandTimeout
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()

	stdout, err := os.CreateTemp("", "pqe-e2e-stdout-")
	if err != nil {
		return Result{}, err
	}
	defer os.Remove(stdout.Name())
	defer stdout.Close()
	stderr, err := os.CreateTemp("", "pqe-e2e-stderr-")
	if err != nil {
		return Result{}, err
	}
	defer os.Remove(stderr.Name())
	defer stderr.Close()

	cmd := exec.CommandContext(ctx, spec.Name, spec.Args...)
	cmd.Stdout = stdout
	cmd.Stderr = stderr
	if spec.Stdin != nil {
		cmd.Stdin = bytes.NewReader(spec.Stdin)
	}
	cmd.Env = append(os.Environ(), spec.Env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error {
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
	cmd.WaitDelay = 5 * time.Second
	runErr := cmd.Run()

	result := Result{
		Stdout: readAll(stdout),
		Stderr: readAll(stderr),
	}
	if cmd.ProcessState != nil {
		result.ExitCode = cmd.ProcessState.ExitCode()
	}
	if ctx.Err() != nil {
		return result, fmt.Errorf("%s timed out after %s; stderr: %s", spec.Name, timeout, result.Stderr)
	}
	var exitErr *exec.ExitError
	if runErr != nil && !errors.As(runErr, &exitErr) {
		return result, fmt.Errorf("run %s: %w", spec.Name, runErr)
	}
	return result, nil
}

func readAll(file *os.File) string {
	if _, err := file.Seek(0, io.SeekStart); err != nil {
		return ""
	}
	data, _ := io.ReadAll(file)
	return string(data)
}

// Command runs name with args as root and returns its output and exit
// code. The test fails if the command cannot start or times out, but not
// on a non-zero exit.
func Command(t testing.TB, name string, args ...string) Result {
	t.Helper()
	RequireLab(t)
	result, err := runCommand(commandSpec{Name: name, Args: args})
	if err != nil {
		t.Fatalf("%s %s: %v", name, strings.Join(args, " "), err)
	}
	return result
}

// CommandInput is Command with stdin as the command's standard input.
func CommandInput(t testing.TB, stdin []byte, name string, args ...string) Result {
	t.Helper()
	RequireLab(t)
	result, err := runCommand(commandSpec{Name: name, Args: args, Stdin: stdin})
	if err != nil {
		t.Fatalf("%s %s: %v", name, strings.Join(args, " "), err)
	}
	return result
}

// Run runs name with args as root and returns its stdout. The test fails
// unless the command exits 0.
func Run(t testing.TB, name string, args ...string) string {
	t.Helper()
	result := Command(t, name, args...)
	if result.ExitCode != 0 {
		t.Fatalf("%s %s: exit code %d\nstdout: %s\nstderr: %s",
			name, strings.Join(args, " "), result.ExitCode, result.Stdout, result.Stderr)
	}
	return result.Stdout
}

// RunAs runs name with args as user, with that user's groups, and returns
// its output and exit code. setpriv(1) switches the user and then executes
// the command itself, so no extra process sits in between.
func RunAs(t testing.TB, user, name string, args ...string) Result {
	t.Helper()
	RequireLab(t)
	result, err := runCommand(commandSpec{Name: "setpriv", Args: asUser(user, name, args...)})
	if err != nil {
		t.Fatalf("as %s: %s %s: %v", user, name, strings.Join(args, " "), err)
	}
	return result
}

// asUser returns setpriv's arguments for running name as user.
func asUser(user, name string, args ...string) []string {
	return append([]string{"--reuid=" + user, "--regid=" + user, "--init-groups", "--", name}, args...)
}

// EnsureUser creates the system user name, with a group of the same name, if
// it does not exist, and adds it to groups. The user is left in place after
// the test, so later runs reuse it.
func EnsureUser(t testing.TB, name string, groups ...string) {
	t.Helper()
	RequireLab(t)
	if Command(t, "id", "-u", name).ExitCode != 0 {
		Run(t, "useradd", "--system", "--user-group", "--no-create-home",
			"--home-dir", "/nonexistent", "--shell", "/usr/sbin/nologin", name)
	}
	if len(groups) > 0 {
		Run(t, "usermod", "--append", "--groups", strings.Join(groups, ","), name)
	}
}
