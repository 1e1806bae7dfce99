package postfix

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/postfix-queue-exporter/postfix_queue_exporter/parser"
)

// Flusher makes one Postfix instance retry queued mail with postqueue(1):
// -f for the whole queue, -s for one fast-flush destination, -i for one
// message.
type Flusher struct {
	Path      string // the postqueue binary
	ConfigDir string // passed as -c when not empty
	Runner    *Runner
	// Lister, when set, lists the queue before `postqueue -i` so that
	// FlushQueueID can report a message that is missing or not deferred.
	// postqueue -i exits 0 without a word in both cases.
	Lister *Postqueue
}

// FlushResult describes a finished flush command.
type FlushResult struct {
	Command string // the command line that ran, empty when the flush was rejected before running
	*Result        // nil when the command could not start
}

// ErrNotInQueue is returned by FlushQueueID for a message that the listing
// does not contain.
var ErrNotInQueue = errors.New("no message with this queue ID is in the queue")

// NotDeferredError is returned by FlushQueueID for a message outside the
// deferred queue, which postqueue -i leaves alone: held mail stays held, and
// mail in the other queues is already on its way.
type NotDeferredError struct {
	ID    string
	Queue string
}

func (e *NotDeferredError) Error() string {
	return fmt.Sprintf("message %s is in the %s queue, and postqueue -i only retries deferred mail", e.ID, e.Queue)
}

// Stderr text of postqueue -s, matched in lower case. The first is the
// reply for a destination that fast_flush_domains does not list, the second
// for a request the flush service rejects as malformed.
var flushRejectedTexts = []string{
	"flush service is not configured for destination",
	"invalid request:",
}

// FlushRejected reports whether err is postqueue's refusal of a flush
// request for its destination: the site is not in fast_flush_domains, or the
// flush service rejected the request as malformed.
func FlushRejected(err error) bool {
	var e *Error
	if !errors.As(err, &e) || e.Kind != KindExec {
		return false
	}
	return containsAny(strings.ToLower(e.Stderr), flushRejectedTexts)
}

// Flush runs `postqueue -f`, which makes Postfix retry every deferred message
// and pick up the maildrop queue. Held mail stays held, and mail that
// `postsuper -e` marked expired is returned to its sender.
func (f *Flusher) Flush(ctx context.Context) (*FlushResult, error) {
	return f.run(ctx, "-f")
}

// FlushSite runs `postqueue -s SITE`, which retries the mail queued for a
// destination that fast_flush_domains lists.
func (f *Flusher) FlushSite(ctx context.Context, site string) (*FlushResult, error) {
	if err := checkArgument("site", site); err != nil {
		return &FlushResult{}, err
	}
	return f.run(ctx, "-s", site)
}

// FlushQueueID runs `postqueue -i ID`, which retries one deferred message.
// With a Lister it first checks that the message is deferred, and returns
// ErrNotInQueue or a *NotDeferredError if not.
func (f *Flusher) FlushQueueID(ctx context.Context, id string) (*FlushResult, error) {
	if err := checkArgument("queue ID", id); err != nil {
		return &FlushResult{}, err
	}
	if f.Lister != nil {
		queue, err := f.findMessage(ctx, id)
		switch {
		case err != nil:
			return &FlushResult{}, err
		case queue == "":
			return &FlushResult{}, fmt.Errorf("queue ID %s: %w", id, ErrNotInQueue)
		case queue != parser.QueueDeferred:
			return &FlushResult{}, &NotDeferredError{ID: id, Queue: queue}
		}
	}
	return f.run(ctx, "-i", id)
}

// findMessage returns the queue that the message with the given ID is in,
// or "" if the listing does not contain it.
func (f *Flusher) findMessage(ctx context.Context, id string) (string, error) {
	queue := ""
	_, err := f.Lister.List(ctx, func(m *parser.Message) error {
		if m.ID == id {
			queue = m.Queue
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	return queue, nil
}

func (f *Flusher) command(args ...string) Command {
	var all []string
	if f.ConfigDir != "" {
		all = append(all, "-c", f.ConfigDir)
	}
	return Command{Path: f.Path, Args: append(all, args...)}
}

func (f *Flusher) run(ctx context.Context, args ...string) (*FlushResult, error) {
	cmd := f.command(args...)
	result, err := f.Runner.Run(ctx, cmd, func(stdout io.Reader) error {
		// postqueue prints nothing on stdout when it flushes.
		_, err := io.Copy(io.Discard, stdout)
		return err
	})
	return &FlushResult{Command: cmd.String(), Result: result}, err
}

// checkArgument rejects a value that postqueue would read as an option or
// that exec cannot pass. Callers validate the form of sites and queue IDs
// before they get here: this is the last line of defence.
func checkArgument(name, value string) error {
	if value == "" || strings.HasPrefix(value, "-") || strings.ContainsRune(value, 0) {
		return fmt.Errorf("invalid %s %q: empty, starting with '-' or containing NUL", name, value)
	}
	return nil
}
