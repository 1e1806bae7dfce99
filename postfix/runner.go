// Package postfix runs the Postfix command-line tools (postqueue, postsuper)
// with a time limit, and turns their exit status and stderr into errors that
// say what went wrong.
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
// command started cannot keep its pipes open.
type Runner struct {
	Timeout time.Duration
	// WaitDelay bounds the wait for stdout and stderr to close after the
	// process has exited or been killed. Zero means one second.
	WaitDelay time.Duration
}

// Run starts cmd, hands its stdout to consume as a stream and waits for the
// command to exit. consume must read until EOF or return an error; a consume
// error stops the command.
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
		// A negative pid signals the whole process group.
		return syscall.Kill(-c.Process.Pid, syscall.SIGKILL)
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

	consumeErr := consume(stdout)
	if consumeErr != nil {
		// Stop the command: its remaining output is of no use.
		_ = syscall.Kill(-c.Process.Pid, syscall.SIGKILL)
	}
	// Drain what consume left so the command does not block on a full pipe.
	_, _ = io.Copy(io.Discard, stdout)
	waitErr := c.Wait()

	result := &Result{
		Stderr:   strings.TrimSpace(stderr.String()),
		ExitCode: c.ProcessState.ExitCode(),
		Duration: time.Since(start),
	}

	switch {
	case ctx.Err() != nil && errors.Is(ctx.Err(), context.DeadlineExceeded):
		return result, &Error{Kind: KindTimeout, Command: cmd.String(), Stderr: result.Stderr,
			Err: fmt.Errorf("timed out after %s", r.Timeout)}
	case ctx.Err() != nil:
		return result, &Error{Kind: KindExec, Command: cmd.String(), Stderr: result.Stderr, Err: ctx.Err()}
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
