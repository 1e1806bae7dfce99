package queue

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"

	"github.com/postfix-queue-exporter/postfix_queue_exporter/parser"
	"github.com/postfix-queue-exporter/postfix_queue_exporter/postfix"
)

// emptyInputWarning explains an empty listing, which postqueue -j prints
// for an empty queue but which is also all that a failed postqueue leaves on
// stdout.
const emptyInputWarning = "the listing is empty, so every queue counts as empty; " +
	"postqueue -j prints nothing for an empty queue, but also nothing when it fails " +
	"(use set -o pipefail in a pipeline)"

// FileLister reads a saved `postqueue -j` or `postqueue -p` listing from a
// file, or from standard input when Path is "-". The format is detected from
// the content. A file is read again on every List; standard input can be
// read only once.
type FileLister struct {
	Path        string
	Stdin       io.Reader // read when Path is "-"; nil means os.Stdin
	TextOptions parser.TextOptions

	mu        sync.Mutex
	stdinRead bool
}

// List parses the file and hands every message to h.
func (f *FileLister) List(_ context.Context, h parser.Handler) (*postfix.ListResult, error) {
	command := "read " + f.Path
	var input io.Reader
	if f.Path == "-" {
		command = "read - (standard input)"
		var err error
		if input, err = f.stdin(); err != nil {
			return nil, &postfix.Error{Kind: postfix.KindExec, Command: command, Err: err}
		}
	} else {
		file, err := os.Open(f.Path)
		if err != nil {
			return nil, &postfix.Error{Kind: openErrorKind(err), Command: command, Err: unwrapPathError(err)}
		}
		defer file.Close()
		if info, err := file.Stat(); err == nil && info.IsDir() {
			return nil, &postfix.Error{Kind: postfix.KindExec, Command: command,
				Err: errors.New("is a directory: name a file with a saved postqueue listing")}
		}
		input = file
	}

	counter := &countingReader{r: input}
	format, err := parser.Parse(counter, parser.FormatAuto, f.TextOptions, h)
	if err != nil {
		return nil, &postfix.Error{Kind: postfix.KindParse, Command: command, Err: fmt.Errorf("parse listing: %w", err)}
	}
	result := &postfix.ListResult{Format: format, Result: &postfix.Result{}}
	if counter.n == 0 {
		result.Warnings = append(result.Warnings, emptyInputWarning)
	}
	return result, nil
}

func (f *FileLister) stdin() (io.Reader, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.stdinRead {
		return nil, errors.New("standard input was read already and has no second listing: " +
			"use --postqueue.input=- with --once, or name a file")
	}
	f.stdinRead = true
	if f.Stdin != nil {
		return f.Stdin, nil
	}
	return os.Stdin, nil
}

// openErrorKind returns KindPermission for a file this user may not read.
func openErrorKind(err error) postfix.Kind {
	if errors.Is(err, os.ErrPermission) {
		return postfix.KindPermission
	}
	return postfix.KindExec
}

// unwrapPathError drops the *fs.PathError wrapper, whose message repeats
// the path that the *postfix.Error already names.
func unwrapPathError(err error) error {
	var pathErr *os.PathError
	if errors.As(err, &pathErr) {
		return pathErr.Err
	}
	return err
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
