// Package postfix runs the Postfix command-line tools (postqueue, postsuper)
// with a time limit, and turns their exit status and stderr into errors that
// name the cause.
package postfix

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// maxStderr bounds how much of a command's stderr is kept for error messages.
// Postfix tools print a few short lines; anything longer is cut.
const maxStderr = 64 << 10

// Command is one run of an outside program.
type Command struct {
	Path  string
	Args  []string
	Stdin io.Reader // nil means no input
}

// String returns the command line for logs and error messages.
func (c Command) String() string {
	return strings.Join(append([]string{c.Path}, c.Args...), " ")
}

// Result describes a finished command.
type Result struct {
	Stderr   string // trimmed; cut at 64 KiB
	ExitCode int
	Duration time.Duration
}

// Runner starts commands with a time limit. When the limit runs out, or the
// context is cancelled, the whole process group is killed, so children that a
// command started cannot keep its pipes open unless they left the group.
type Runner struct {
	Timeout time.Duration
	// WaitDelay bounds the wait for stdout and stderr to close after the
	// process group was killed. Zero means one second.
	WaitDelay time.Duration
}

// Run starts cmd, hands its stdout to consume as a stream and waits for the
// command to exit. consume must read until EOF or return an error; a consume
// error stops the command.
//
// consume runs in its own goroutine, and reads stdout through a batchReader.
// When the time limit runs out or ctx is cancelled, Run kills the process
// group and waits at most WaitDelay for consume to return. A process that
// left the group, with setsid(1) for example, can keep stdout open beyond
// that: Run then returns its error at once and closes stdout, and the next
// read of consume fails within a second. consume may therefore still run,
// and call whatever it calls, after Run has returned an error, so a caller
// must discard everything that consume produced for a failed Run.
//
// The error is an *Error for a command that could not start, timed out or
// exited non-zero, or the error of consume, wrapped in an *Error of
// KindParse unless it already is an *Error.
func (r *Runner) Run(ctx context.Context, cmd Command, consume func(io.Reader) error) (*Result, error) {
	if r.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, r.Timeout)
		defer cancel()
	}

	c := exec.CommandContext(ctx, cmd.Path, cmd.Args...)
	c.Stdin = cmd.Stdin
	c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	c.Cancel = func() error {
		return killGroup(c)
	}
	c.WaitDelay = r.WaitDelay
	if c.WaitDelay == 0 {
		c.WaitDelay = time.Second
	}
	stderr := &limitedBuffer{limit: maxStderr}
	c.Stderr = stderr
	// A blocking pipe rather than c.StdoutPipe, whose pipe is polled: see
	// blockingPipe.
	stdout, stdoutWriter, err := blockingPipe()
	if err != nil {
		return nil, &Error{Kind: KindExec, Command: cmd.String(), Err: err}
	}
	// Closing a blocking *os.File while another goroutine reads it returns
	// at once, and the descriptor is closed when that read returns, so an
	// abandoned consume cannot read from a reused descriptor. Its next read
	// then fails: see waitReadable.
	defer stdout.Close()
	c.Stdout = stdoutWriter

	start := time.Now()
	err = c.Start()
	stdoutWriter.Close() // the child has its own copy
	if err != nil {
		// EACCES from execve: the file lacks execute permission for this
		// user, or a directory on its path lacks search permission.
		kind := KindExec
		if errors.Is(err, os.ErrPermission) {
			kind = KindPermission
		}
		return nil, &Error{Kind: kind, Command: cmd.String(), Err: err}
	}
	started := running.add(c)

	consumeErr, stdoutClosed := readStdout(ctx, c, newBatchReader(stdout), consume)
	waitErr := c.Wait()
	killedAtShutdown := running.remove(c) || !started

	result := &Result{
		Stderr:   strings.TrimSpace(stderr.String()),
		ExitCode: c.ProcessState.ExitCode(),
		Duration: time.Since(start),
	}

	switch {
	case ctx.Err() != nil:
		return result, r.interrupted(ctx, cmd, result, stdoutClosed, c.WaitDelay)
	case killedAtShutdown && (waitErr != nil || consumeErr != nil):
		return result, &Error{Kind: KindExec, Command: cmd.String(), Stderr: result.Stderr, Err: errShutdown}
	case waitErr != nil && consumeErr == nil:
		return result, classifyExit(cmd, result, waitErr)
	case consumeErr != nil:
		var perr *Error
		if errors.As(consumeErr, &perr) {
			return result, consumeErr
		}
		// A command that failed usually explains itself on stderr better
		// than a parse error on its truncated output does.
		if waitErr != nil && result.ExitCode > 0 {
			return result, classifyExit(cmd, result, waitErr)
		}
		return result, &Error{Kind: KindParse, Command: cmd.String(), Stderr: result.Stderr, Err: consumeErr}
	}
	return result, nil
}

// readStdout runs consume on stdout in a new goroutine, then drains what
// consume left so that the command does not block on a full pipe. It kills
// the process group of c when consume fails.
//
// readStdout returns when stdout has reached EOF, or WaitDelay after ctx
// ended. In the second case stdoutClosed is false, and the goroutine keeps
// reading until the last writer closes the pipe.
func readStdout(
	ctx context.Context,
	c *exec.Cmd,
	stdout io.Reader,
	consume func(io.Reader) error,
) (consumeErr error, stdoutClosed bool) {
	var goroutineErr error
	consumed := make(chan struct{})
	drained := make(chan struct{})
	go func() {
		defer close(drained)
		goroutineErr = consume(stdout)
		close(consumed)
		_, _ = io.Copy(io.Discard, stdout)
	}()

	deadline := afterContext{ctx: ctx, delay: c.WaitDelay}
	if !deadline.wait(consumed) {
		return nil, false
	}
	if goroutineErr != nil {
		// Stop the command: its remaining output is of no use.
		_ = killGroup(c)
	}
	return goroutineErr, deadline.wait(drained)
}

// afterContext bounds a series of waits: they give up delay after ctx ends.
type afterContext struct {
	ctx   context.Context
	delay time.Duration
	grace <-chan time.Time // set once ctx has ended
}

// wait reports whether ready was closed before the bound.
func (a *afterContext) wait(ready <-chan struct{}) bool {
	if a.grace == nil {
		select {
		case <-ready:
			return true
		case <-a.ctx.Done():
			a.grace = time.After(a.delay)
		}
	}
	select {
	case <-ready:
		return true
	case <-a.grace:
		return false
	}
}

// interrupted returns the error of a run whose time limit ran out or whose
// context was cancelled.
func (r *Runner) interrupted(ctx context.Context, cmd Command, result *Result, stdoutClosed bool,
	waitDelay time.Duration) *Error {
	var err error
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		err = fmt.Errorf("timed out after %s", r.Timeout)
	} else {
		err = ctx.Err()
	}
	if !stdoutClosed {
		err = fmt.Errorf("%w, and stdout was still open %s after the process group was killed, "+
			"so a process outside the group keeps it open", err, waitDelay)
	}
	kind := KindExec
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		kind = KindTimeout
	}
	return &Error{Kind: kind, Command: cmd.String(), Stderr: result.Stderr, Err: err}
}

// killGroup sends SIGKILL to the process group of c, which Run made c the
// leader of. Call it only before c.Wait has returned: after that, the
// process ID may belong to another process.
func killGroup(c *exec.Cmd) error {
	// A negative pid signals the whole process group.
	return syscall.Kill(-c.Process.Pid, syscall.SIGKILL)
}

// errShutdown is the error of a command that KillRunning killed.
var errShutdown = errors.New("killed because the program is shutting down")

// running is the set of commands that Run has started and not yet waited
// for.
var running = &commandSet{commands: make(map[*exec.Cmd]bool)}

// commandSet tracks started commands so that KillRunning can find them.
type commandSet struct {
	mu       sync.Mutex
	commands map[*exec.Cmd]bool // true once KillRunning has killed the command
	closed   bool               // KillRunning has run: kill every new command at once
}

// add records a started command. After KillRunning, it kills the command
// instead and returns false.
func (s *commandSet) add(c *exec.Cmd) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		_ = killGroup(c)
		return false
	}
	s.commands[c] = false
	return true
}

// remove deletes a command that c.Wait has reaped and reports whether
// KillRunning killed it.
func (s *commandSet) remove(c *exec.Cmd) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	killed := s.commands[c]
	delete(s.commands, c)
	return killed
}

// KillRunning sends SIGKILL to the process group of every command that a
// Runner has started and not yet waited for. Commands that a Runner starts
// afterwards are killed at once, so that no Postfix tool outlives a program
// that is shutting down. Run returns an error for each command it stopped.
// Processes that left their process group, with setsid(1) for example, are
// not reached.
//
// NOTE: a command that Run has just reaped, but not yet removed from the set,
// is signalled too. Its process group ID is then free, and Linux hands out
// IDs in turn up to pid_max, so a reuse within that moment is unlikely but
// not ruled out.
func KillRunning() {
	running.mu.Lock()
	defer running.mu.Unlock()
	running.closed = true
	for c := range running.commands {
		_ = killGroup(c)
		running.commands[c] = true
	}
}

// limitedBuffer keeps the first limit bytes written to it and discards the
// rest, so a command that floods stderr cannot exhaust memory.
type limitedBuffer struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	limit int
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if room := b.limit - b.buf.Len(); room > 0 {
		if len(p) > room {
			b.buf.Write(p[:room])
		} else {
			b.buf.Write(p)
		}
	}
	return len(p), nil
}

func (b *limitedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
