package postfix

import (
	"context"
	"errors"
	"io"
	"strings"
	"sync"

	"github.com/postfix-queue-exporter/postfix_queue_exporter/parser"
)

// Postqueue lists the queue of one Postfix instance with postqueue(1).
type Postqueue struct {
	Path      string        // the postqueue binary
	ConfigDir string        // passed as -c when not empty
	Format    parser.Format // FormatAuto tries -j and falls back to -p
	Runner    *Runner
	// TextOptions returns the clock and time zone for `postqueue -p`
	// listings, whose arrival times carry no year. Nil means now, local time.
	TextOptions func() parser.TextOptions

	mu       sync.Mutex
	detected parser.Format // the format that worked, once FormatAuto has run
}

// ListResult describes a finished listing.
type ListResult struct {
	Format parser.Format
	// MailSystemDown is set when postqueue read the queue files directly
	// because the showq service did not respond. Only root can do that, and
	// the listing is complete, but Postfix is not running.
	MailSystemDown bool
	Warnings       []string // stderr lines of a successful run
	*Result
}

// List runs postqueue and hands every message of the listing to h.
func (p *Postqueue) List(ctx context.Context, h parser.Handler) (*ListResult, error) {
	format := p.format()
	if format != parser.FormatText {
		result, err := p.list(ctx, parser.FormatJSON, h)
		if err == nil || format == parser.FormatJSON || !rejectsJSON(err) {
			if err == nil && format == parser.FormatAuto {
				p.remember(parser.FormatJSON)
			}
			return result, err
		}
		// Postfix before 3.1 has no -j: its getopt rejects the option and
		// postqueue exits with a usage message before listing anything.
	}
	result, err := p.list(ctx, parser.FormatText, h)
	if err == nil && format == parser.FormatAuto {
		p.remember(parser.FormatText)
	}
	return result, err
}

// ConfigArgs returns the -c option for the instance, or nothing for the
// default instance.
func (p *Postqueue) ConfigArgs() []string {
	if p.ConfigDir == "" {
		return nil
	}
	return []string{"-c", p.ConfigDir}
}

func (p *Postqueue) list(ctx context.Context, format parser.Format, h parser.Handler) (*ListResult, error) {
	option := "-j"
	if format == parser.FormatText {
		option = "-p"
	}
	cmd := Command{Path: p.Path, Args: append(p.ConfigArgs(), option)}
	opts := parser.TextOptions{}
	if p.TextOptions != nil {
		opts = p.TextOptions()
	}

	result, err := p.Runner.Run(ctx, cmd, func(stdout io.Reader) error {
		_, err := parser.Parse(stdout, format, opts, h)
		return err
	})
	listResult := &ListResult{Format: format, Result: result}
	if err != nil {
		return listResult, err
	}

	for _, line := range strings.Split(result.Stderr, "\n") {
		if line == "" {
			continue
		}
		listResult.Warnings = append(listResult.Warnings, line)
		if containsAny(strings.ToLower(line), mailSystemDownTexts) {
			listResult.MailSystemDown = true
		}
	}
	return listResult, nil
}

func (p *Postqueue) format() parser.Format {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.Format != parser.FormatAuto {
		return p.Format
	}
	return p.detected
}

func (p *Postqueue) remember(f parser.Format) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.detected = f
}

// exitUsage is EX_USAGE from sysexits.h, postqueue's exit code for a
// command line it does not accept.
const exitUsage = 64

func rejectsJSON(err error) bool {
	var e *Error
	if !errors.As(err, &e) || e.Kind != KindExec {
		return false
	}
	lower := strings.ToLower(e.Stderr)
	var exitErr interface{ ExitCode() int }
	usage := errors.As(e.Err, &exitErr) && exitErr.ExitCode() == exitUsage
	return usage || strings.Contains(lower, "usage:") || strings.Contains(lower, "invalid option") ||
		strings.Contains(lower, "illegal option")
}
