package queue

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/postfix-queue-exporter/postfix_queue_exporter/parser"
	"github.com/postfix-queue-exporter/postfix_queue_exporter/postfix"
)

// FileLister reads a saved `postqueue -j` or `postqueue -p` listing from a
// file, or from standard input when Path is "-". The format is detected from
// the content.
type FileLister struct {
	Path        string
	Stdin       io.Reader // read when Path is "-"; nil means os.Stdin
	TextOptions parser.TextOptions
}

// List parses the file and hands every message to h.
func (f *FileLister) List(_ context.Context, h parser.Handler) (*postfix.ListResult, error) {
	input := f.Stdin
	if f.Path != "-" {
		file, err := os.Open(f.Path)
		if err != nil {
			return nil, &postfix.Error{Kind: postfix.KindExec, Command: "read " + f.Path, Err: err}
		}
		defer file.Close()
		input = file
	} else if input == nil {
		input = os.Stdin
	}

	format, err := parser.Parse(input, parser.FormatAuto, f.TextOptions, h)
	if err != nil {
		return nil, &postfix.Error{Kind: postfix.KindParse, Command: "read " + f.Path, Err: fmt.Errorf("parse listing: %w", err)}
	}
	return &postfix.ListResult{Format: format, Result: &postfix.Result{}}, nil
}
