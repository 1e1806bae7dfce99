package postfix

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// writeRunnerScript writes a /bin/sh script with body into a new temporary
// directory and returns its path. The script gets that directory as $DIR.
func writeRunnerScript(t *testing.T, body string) string {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "fake-command")
	script := fmt.Sprintf("#!/bin/sh\nDIR=%q\n%s\n", dir, body)
	if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

func drain(stdout io.Reader) error {
	_, err := io.Copy(io.Discard, stdout)
	return err
}

// readPID reads a process ID that a script wrote to file.
func readPID(t *testing.T, file string) int {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("the script did not record its process ID: %v", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil {
		t.Fatalf("invalid process ID in %s: %v", file, err)
	}
	return pid
}

// processGone reports whether pid has exited. A zombie, which has exited but
// whose parent has not reaped it yet, counts as gone: kill(pid, 0) still
// succeeds for it, so /proc is read as well.
func processGone(pid int) bool {
	if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
		return true
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	// The state follows the command name, which is in parentheses.
	fields := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
	return len(fields) > 0 && (fields[0] == "Z" || fields[0] == "X")
}

// waitProcessGone fails the test unless pid exits within five seconds. A
// process killed with SIGKILL ends at once, but the kernel finishes its
// exit asynchronously.
func waitProcessGone(t *testing.T, pid int, what string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !processGone(pid) {
		if time.Now().After(deadline) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
			t.Errorf("%s (pid %d) still runs after the command was killed", what, pid)
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestRunnerTimeoutKillsGroup(t *testing.T) {
	// The script records its own PID and that of a child sleep, which
	// inherits stdout and would keep the pipe open if only the script
	// were killed, then waits for the child.
	path := writeRunnerScript(t, `
echo $$ > "$DIR/parent.pid"
sleep 300 &
echo $! > "$DIR/child.pid"
echo ready
wait`)
	dir := filepath.Dir(path)
	runner := &Runner{Timeout: time.Second}

	ready := false
	result, err := runner.Run(context.Background(), Command{Path: path}, func(stdout io.Reader) error {
		scanner := bufio.NewScanner(stdout)
		ready = scanner.Scan() && scanner.Text() == "ready"
		return drain(stdout)
	})

	if !ready {
		t.Fatal("the script did not start its child before the timeout")
	}
	if got := KindOf(err); got != KindTimeout {
		t.Errorf("KindOf(err) = %q, want %q (err: %v)", got, KindTimeout, err)
	}
	if result == nil {
		t.Fatal("Run returned no Result for a command that started")
	}
	waitProcessGone(t, readPID(t, filepath.Join(dir, "parent.pid")), "the script")
	waitProcessGone(t, readPID(t, filepath.Join(dir, "child.pid")), "its child sleep")
}

func TestRunnerContextCancel(t *testing.T) {
	path := writeRunnerScript(t, `echo $$ > "$DIR/parent.pid"; echo ready; exec sleep 300`)
	ctx, cancel := context.WithCancel(context.Background())
	runner := &Runner{Timeout: time.Minute}

	_, err := runner.Run(ctx, Command{Path: path}, func(stdout io.Reader) error {
		bufio.NewScanner(stdout).Scan()
		cancel()
		return drain(stdout)
	})

	if got := KindOf(err); got != KindExec {
		t.Errorf("KindOf(err) = %q, want %q (err: %v)", got, KindExec, err)
	}
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want it to wrap context.Canceled", err)
	}
	waitProcessGone(t, readPID(t, filepath.Join(filepath.Dir(path), "parent.pid")), "the script")
}

func TestRunnerStartErrors(t *testing.T) {
	dir := t.TempDir()
	notExecutable := filepath.Join(dir, "not-executable")
	if err := os.WriteFile(notExecutable, []byte("#!/bin/sh\nexit 0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		path string
		want Kind
	}{
		{name: "missing binary", path: filepath.Join(dir, "no-such-postqueue"), want: KindExec},
		{name: "no exec permission", path: notExecutable, want: KindPermission},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			runner := &Runner{Timeout: 10 * time.Second}
			consumed := false
			result, err := runner.Run(context.Background(), Command{Path: tt.path}, func(stdout io.Reader) error {
				consumed = true
				return drain(stdout)
			})

			if got := KindOf(err); got != tt.want {
				t.Errorf("KindOf(err) = %q, want %q (err: %v)", got, tt.want, err)
			}
			if err != nil && !strings.Contains(err.Error(), tt.path) {
				t.Errorf("error %q does not name the path %s", err, tt.path)
			}
			if result != nil {
				t.Errorf("Result = %+v, want nil for a command that did not start", result)
			}
			if consumed {
				t.Error("consume was called for a command that did not start")
			}
		})
	}
}

func TestRunnerExitStatus(t *testing.T) {
	tests := []struct {
		name       string
		body       string
		wantKind   Kind // "" means no error
		wantStderr string
		wantCode   int
	}{
		{name: "success", body: "echo listing; echo 'postqueue: warning: something' >&2", wantStderr: "postqueue: warning: something"},
		{name: "exit 69 not allowed", body: "cat " + testdataPath("not-allowed.stderr") + " >&2; exit 69",
			wantKind: KindPermission, wantStderr: "is not allowed to view the mail queue", wantCode: 69},
		{name: "exit 70 socket denied", body: "cat " + testdataPath("showq-denied.stderr") + " >&2; exit 70",
			wantKind: KindPermission, wantStderr: "Permission denied", wantCode: 70},
		{name: "exit 69 mail system down", body: "cat " + testdataPath("down-nonroot.stderr") + " >&2; exit 69",
			wantKind: KindMailSystemDown, wantStderr: "mail system is down", wantCode: 69},
		{name: "exit 1 unknown", body: "echo 'postqueue: fatal: malformed showq server response' >&2; exit 1",
			wantKind: KindExec, wantStderr: "malformed showq server response", wantCode: 1},
		{name: "killed by signal", body: "kill -9 $$", wantKind: KindExec, wantCode: -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeRunnerScript(t, tt.body)
			runner := &Runner{Timeout: 10 * time.Second}

			result, err := runner.Run(context.Background(), Command{Path: path}, drain)

			if tt.wantKind == "" && err != nil {
				t.Fatalf("Run: %v", err)
			}
			if got := KindOf(err); tt.wantKind != "" && got != tt.wantKind {
				t.Errorf("KindOf(err) = %q, want %q (err: %v)", got, tt.wantKind, err)
			}
			if !strings.Contains(result.Stderr, tt.wantStderr) {
				t.Errorf("Result.Stderr = %q, want it to contain %q", result.Stderr, tt.wantStderr)
			}
			if result.ExitCode != tt.wantCode {
				t.Errorf("Result.ExitCode = %d, want %d", result.ExitCode, tt.wantCode)
			}
			var cmdErr *Error
			if tt.wantKind != "" && !errors.As(err, &cmdErr) {
				t.Fatalf("err is %T, want *Error", err)
			}
			if cmdErr != nil && cmdErr.Stderr != result.Stderr {
				t.Errorf("Error.Stderr = %q, want the command's stderr %q", cmdErr.Stderr, result.Stderr)
			}
			if cmdErr != nil && !strings.Contains(err.Error(), tt.wantStderr) {
				t.Errorf("error message %q does not contain the stderr text %q", err, tt.wantStderr)
			}
		})
	}
}

func TestRunnerStderrCapped(t *testing.T) {
	// 1 MiB of stderr: without a cap it would all be kept in memory and
	// copied into the error message.
	path := writeRunnerScript(t, `head -c 1048576 /dev/zero | tr '\0' e >&2; echo 'postqueue: fatal: last line' >&2; exit 1`)
	runner := &Runner{Timeout: 30 * time.Second}

	result, err := runner.Run(context.Background(), Command{Path: path}, drain)

	if err == nil {
		t.Fatal("Run succeeded for a command that exited 1")
	}
	if len(result.Stderr) > maxStderr {
		t.Errorf("len(Result.Stderr) = %d, want at most %d", len(result.Stderr), maxStderr)
	}
	if len(result.Stderr) < maxStderr {
		t.Errorf("len(Result.Stderr) = %d, want the first %d bytes kept", len(result.Stderr), maxStderr)
	}
	if len(err.Error()) > maxStderr+len(path)+200 {
		t.Errorf("len(err.Error()) = %d, want the stderr in it capped", len(err.Error()))
	}
}

func TestRunnerConsumeErrorStopsCommand(t *testing.T) {
	// The script writes output until it is killed.
	path := writeRunnerScript(t, `echo $$ > "$DIR/parent.pid"; exec yes 'not a listing'`)
	runner := &Runner{Timeout: time.Minute}
	parseErr := errors.New("line 1: expected a JSON object")

	_, err := runner.Run(context.Background(), Command{Path: path}, func(stdout io.Reader) error {
		bufio.NewScanner(stdout).Scan()
		return parseErr
	})

	if got := KindOf(err); got != KindParse {
		t.Errorf("KindOf(err) = %q, want %q (err: %v)", got, KindParse, err)
	}
	if !errors.Is(err, parseErr) {
		t.Errorf("err = %v, want it to wrap the consume error", err)
	}
	waitProcessGone(t, readPID(t, filepath.Join(filepath.Dir(path), "parent.pid")), "the command")
}

func TestRunnerConsumeErrorKept(t *testing.T) {
	path := writeRunnerScript(t, `echo output`)
	runner := &Runner{Timeout: 10 * time.Second}
	want := &Error{Kind: KindMailSystemDown, Command: "consume", Err: errors.New("handler failed")}

	_, err := runner.Run(context.Background(), Command{Path: path}, func(io.Reader) error { return want })

	if err != want {
		t.Errorf("err = %v, want the *Error returned by consume unchanged", err)
	}
}

func TestRunnerFailedCommandBeatsParseError(t *testing.T) {
	// Truncated output from a command that then fails: its stderr explains
	// more than a parse error on the output would.
	path := writeRunnerScript(t, `printf '{"queue_name": "defer'; echo 'postqueue: fatal: Queue report unavailable - mail system is down' >&2; exit 69`)
	runner := &Runner{Timeout: 10 * time.Second}

	_, err := runner.Run(context.Background(), Command{Path: path}, func(stdout io.Reader) error {
		_ = drain(stdout)
		return errors.New("unexpected end of input")
	})

	if got := KindOf(err); got != KindMailSystemDown {
		t.Errorf("KindOf(err) = %q, want %q (err: %v)", got, KindMailSystemDown, err)
	}
}

func TestRunnerArgsAndStdin(t *testing.T) {
	path := writeRunnerScript(t, `printf '%s\n' "$@"; cat`)
	runner := &Runner{Timeout: 10 * time.Second}
	cmd := Command{Path: path, Args: []string{"-c", "/etc/postfix two", "-j"}, Stdin: strings.NewReader("from stdin\n")}

	var stdout strings.Builder
	_, err := runner.Run(context.Background(), cmd, func(r io.Reader) error {
		_, err := io.Copy(&stdout, r)
		return err
	})

	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if want := "-c\n/etc/postfix two\n-j\nfrom stdin\n"; stdout.String() != want {
		t.Errorf("stdout = %q, want %q", stdout.String(), want)
	}
}

func TestErrorMessage(t *testing.T) {
	err := &Error{
		Kind:    KindPermission,
		Command: "/usr/sbin/postqueue -j",
		Stderr:  "postqueue: warning: first\npostqueue: fatal: second",
		Err:     errors.New("exit status 69"),
	}
	want := "/usr/sbin/postqueue -j: exit status 69: postqueue: warning: first; postqueue: fatal: second"
	if got := err.Error(); got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

func TestKindOfPlainError(t *testing.T) {
	if got := KindOf(errors.New("plain")); got != KindExec {
		t.Errorf("KindOf(plain error) = %q, want %q", got, KindExec)
	}
	wrapped := fmt.Errorf("read queue: %w", &Error{Kind: KindTimeout})
	if got := KindOf(wrapped); got != KindTimeout {
		t.Errorf("KindOf(wrapped) = %q, want %q", got, KindTimeout)
	}
}

// testdataPath returns the absolute path of a file in testdata/postqueue.
func testdataPath(name string) string {
	path, err := filepath.Abs(filepath.Join("testdata", "postqueue", name))
	if err != nil {
		panic(err)
	}
	return path
}

// runWithin runs cmd in a new goroutine and fails the test unless Run
// returns within ten seconds, so that a hanging Run cannot hang the test.
func runWithin(t *testing.T, runner *Runner, cmd Command, consume func(io.Reader) error) (*Result, error) {
	t.Helper()
	type outcome struct {
		result *Result
		err    error
	}
	done := make(chan outcome, 1)
	go func() {
		result, err := runner.Run(context.Background(), cmd, consume)
		done <- outcome{result, err}
	}()
	select {
	case o := <-done:
		return o.result, o.err
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return within 10s")
		return nil, nil
	}
}

// waitFile fails the test unless file exists and is not empty within ten
// seconds.
func waitFile(t *testing.T, file string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if info, err := os.Stat(file); err == nil && info.Size() > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s was not written within 10s", file)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// killPIDFile kills the process whose ID a script wrote to file, if it did.
func killPIDFile(file string) {
	data, err := os.ReadFile(file)
	if err != nil {
		return
	}
	if pid, err := strconv.Atoi(strings.TrimSpace(string(data))); err == nil && pid > 0 {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
}

func TestRunnerEscapedChildTimeout(t *testing.T) {
	// A child that calls setsid(2) leaves the process group, so the kill
	// at the timeout misses it, and it keeps stdout open for 30 seconds.
	tests := []struct {
		name string
		tail string // what the script does after starting the child
	}{
		{name: "command still running", tail: "sleep 30"},
		{name: "command exited", tail: "exit 0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeRunnerScript(t, `
echo $$ > "$DIR/parent.pid"
setsid sh -c 'echo $$ > "$1/escaped.pid.tmp"; mv "$1/escaped.pid.tmp" "$1/escaped.pid"; exec sleep 30' sh "$DIR" &
while [ ! -s "$DIR/escaped.pid" ]; do sleep 0.01; done
echo ready
`+tt.tail)
			dir := filepath.Dir(path)
			t.Cleanup(func() { killPIDFile(filepath.Join(dir, "escaped.pid")) })
			runner := &Runner{Timeout: 300 * time.Millisecond, WaitDelay: 200 * time.Millisecond}
			consumeReturned := make(chan struct{})

			result, err := runWithin(t, runner, Command{Path: path}, func(stdout io.Reader) error {
				defer close(consumeReturned)
				return drain(stdout)
			})

			if got := KindOf(err); got != KindTimeout {
				t.Errorf("KindOf(err) = %q, want %q (err: %v)", got, KindTimeout, err)
			}
			if err != nil && !strings.Contains(err.Error(), "stdout was still open") {
				t.Errorf("error %q does not say that stdout stayed open", err)
			}
			if result == nil {
				t.Error("Run returned no Result for a command that started")
			}
			waitProcessGone(t, readPID(t, filepath.Join(dir, "parent.pid")), "the script")

			// Run closed stdout, so the abandoned consume returns within
			// about a second, while the escaped child still holds the
			// pipe, rather than keep a thread blocked in read(2).
			select {
			case <-consumeReturned:
			case <-time.After(10 * time.Second):
				t.Error("consume did not return within 10s of Run")
			}
			escaped := readPID(t, filepath.Join(dir, "escaped.pid"))
			if err := syscall.Kill(escaped, 0); err != nil {
				t.Errorf("the escaped child is gone (%v), so the test did not check an open pipe", err)
			}
		})
	}
}

// resetKillRunning undoes KillRunning at the end of a test, so that later
// tests can run commands again.
func resetKillRunning(t *testing.T) {
	t.Cleanup(func() {
		running.mu.Lock()
		defer running.mu.Unlock()
		running.closed = false
	})
}

func TestKillRunningKillsGroup(t *testing.T) {
	resetKillRunning(t)
	path := writeRunnerScript(t, `
echo $$ > "$DIR/parent.pid"
sleep 300 &
echo $! > "$DIR/child.pid.tmp"
mv "$DIR/child.pid.tmp" "$DIR/child.pid"
wait`)
	dir := filepath.Dir(path)
	t.Cleanup(func() {
		killPIDFile(filepath.Join(dir, "parent.pid"))
		killPIDFile(filepath.Join(dir, "child.pid"))
	})
	runner := &Runner{Timeout: time.Minute}
	type outcome struct {
		result *Result
		err    error
	}
	done := make(chan outcome, 1)
	go func() {
		result, err := runner.Run(context.Background(), Command{Path: path}, drain)
		done <- outcome{result, err}
	}()
	waitFile(t, filepath.Join(dir, "child.pid"))

	KillRunning()

	var o outcome
	select {
	case o = <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return within 10s of KillRunning")
	}
	if o.err == nil {
		t.Fatal("Run succeeded for a command that KillRunning killed")
	}
	if !errors.Is(o.err, errShutdown) {
		t.Errorf("err = %v, want it to wrap errShutdown", o.err)
	}
	if got := KindOf(o.err); got != KindExec {
		t.Errorf("KindOf(err) = %q, want %q", got, KindExec)
	}
	waitProcessGone(t, readPID(t, filepath.Join(dir, "parent.pid")), "the script")
	waitProcessGone(t, readPID(t, filepath.Join(dir, "child.pid")), "its child sleep")
}

func TestKillRunningStopsLaterRuns(t *testing.T) {
	resetKillRunning(t)
	KillRunning()
	path := writeRunnerScript(t, `exec sleep 300`)
	runner := &Runner{Timeout: time.Minute}

	_, err := runWithin(t, runner, Command{Path: path}, drain)

	if !errors.Is(err, errShutdown) {
		t.Errorf("err = %v, want it to wrap errShutdown", err)
	}
}
