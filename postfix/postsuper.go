package postfix

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Operation is a postsuper option that acts on messages named by queue id.
type Operation string

// Operations the exporter runs. Each reads queue ids from stdin when given
// the id "-".
const (
	OpDelete  Operation = "-d"
	OpHold    Operation = "-h"
	OpRelease Operation = "-H"
	OpRequeue Operation = "-r"
)

// OperationQueues lists, for each Operation, the queues in which postsuper
// acts on a message. Naming another queue is accepted by postsuper but
// changes nothing: on Postfix 3.7.11, -h and -r leave a message in maildrop
// alone, and -H only takes messages out of hold (postfix/testdata/postsuper).
var OperationQueues = map[Operation][]string{
	OpDelete:  {"maildrop", "incoming", "active", "deferred", "hold"},
	OpHold:    {"incoming", "active", "deferred"},
	OpRelease: {"hold"},
	OpRequeue: {"incoming", "active", "deferred", "hold"},
}

// summaries maps each Operation to the text of postsuper's closing count
// line and of its line per message, as in "postsuper: Deleted: 2 messages"
// and "postsuper: 6E724C00D7: removed".
var summaries = map[Operation]struct{ total, each string }{
	OpDelete:  {"Deleted", "removed"},
	OpHold:    {"Placed on hold", "placed on hold"},
	OpRelease: {"Released from hold", "released from hold"},
	OpRequeue: {"Requeued", "requeued"},
}

// PostsuperBatch is the maximum number of queue ids passed to one postsuper
// run. The runner keeps the first 64 KiB of stderr, and postsuper prints its
// count line last. Before it come up to about 75 bytes per message: a long
// program name, a 29-character long queue id and ": released from hold".
// So a run must stay below about 870 messages for the count to be read.
const PostsuperBatch = 500

// Postsuper runs postsuper(1) on lists of queue ids. postsuper refuses to run
// for any user but root, so Command usually starts with sudo.
type Postsuper struct {
	// Command is the program and its leading arguments, such as
	// ["sudo", "-n", "postsuper"]. The operation, "-" and the queue name
	// follow, after -c ConfigDir when that is set.
	Command   []string
	ConfigDir string
	Runner    *Runner
}

// PostsuperResult describes the postsuper runs of one Run call.
type PostsuperResult struct {
	Commands []string // each command line that ran
	Affected int      // the sum of postsuper's count lines
	IDs      []string // the ids postsuper reported as affected, in its order
	Warnings []string // "warning:" lines, such as an id postsuper found invalid
}

// Run applies op to the messages ids in queue, in runs of at most
// PostsuperBatch ids each sent to postsuper's stdin. postsuper only looks in
// the named queue, so a message that moved to another queue since it was
// listed is left alone.
//
// On error the result still counts the runs that finished before it. A
// runner failure is an *Error of its kind. Output without the count line is
// an *Error of KindParse, and the operation may have taken effect anyway.
func (p *Postsuper) Run(ctx context.Context, op Operation, queue string, ids []string) (*PostsuperResult, error) {
	if err := checkPostsuperArgs(op, queue, ids); err != nil {
		return nil, err
	}
	if len(p.Command) == 0 {
		return nil, errors.New("no postsuper command configured")
	}

	total := &PostsuperResult{}
	for start := 0; start < len(ids); start += PostsuperBatch {
		batch := ids[start:min(start+PostsuperBatch, len(ids))]
		cmd := p.command(op, queue, batch)
		total.Commands = append(total.Commands, cmd.String())

		result, err := p.Runner.Run(ctx, cmd, discard)
		if err != nil {
			return total, err
		}
		out, err := ParsePostsuperOutput(op, result.Stderr)
		if err != nil {
			return total, &Error{Kind: KindParse, Command: cmd.String(), Stderr: result.Stderr, Err: err}
		}
		total.Affected += out.Affected
		total.IDs = append(total.IDs, out.IDs...)
		total.Warnings = append(total.Warnings, out.Warnings...)
	}
	return total, nil
}

func (p *Postsuper) command(op Operation, queue string, ids []string) Command {
	args := append([]string{}, p.Command[1:]...)
	if p.ConfigDir != "" {
		args = append(args, "-c", p.ConfigDir)
	}
	args = append(args, string(op), "-", queue)
	return Command{
		Path:  p.Command[0],
		Args:  args,
		Stdin: strings.NewReader(strings.Join(ids, "\n") + "\n"),
	}
}

// checkPostsuperArgs rejects what postsuper would misread: an unknown queue
// name would be taken as a directory, an id with a newline or blank as
// several ids on stdin, and the id ALL as every message.
func checkPostsuperArgs(op Operation, queue string, ids []string) error {
	if _, ok := summaries[op]; !ok {
		return fmt.Errorf("unknown postsuper operation %q", op)
	}
	known := false
	for _, name := range OperationQueues[OpDelete] {
		known = known || name == queue
	}
	if !known {
		return fmt.Errorf("invalid queue name %q for postsuper", queue)
	}
	if len(ids) == 0 {
		return errors.New("no queue ids for postsuper")
	}
	for _, id := range ids {
		if !isAlphanumeric(id) || id == "ALL" {
			return fmt.Errorf("invalid queue id %q for postsuper: only letters and digits are allowed, "+
				"and ALL is not a queue id", id)
		}
	}
	return nil
}

func isAlphanumeric(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z') {
			return false
		}
	}
	return true
}

// ParsePostsuperOutput reads the stderr of a postsuper run that exited 0:
//
//	postsuper: 6E724C00D7: removed
//	postsuper: warning: invalid mail queue id: ../x
//	postsuper: Deleted: 1 message
//
// The count line is required, because no other line gives the number of
// messages affected. Lines of other kinds are returned as warnings.
func ParsePostsuperOutput(op Operation, stderr string) (*PostsuperResult, error) {
	texts, ok := summaries[op]
	if !ok {
		return nil, fmt.Errorf("unknown postsuper operation %q", op)
	}
	result := &PostsuperResult{}
	counted := false
	for _, line := range strings.Split(stderr, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		// The program name before the first ": " is "postsuper", or
		// another name when syslog_name is set for an instance.
		_, text, found := strings.Cut(line, ": ")
		if !found {
			result.Warnings = append(result.Warnings, line)
			continue
		}
		first, rest, _ := strings.Cut(text, ": ")

		switch {
		case first == texts.total:
			if counted {
				return nil, fmt.Errorf("postsuper printed two count lines: %q", line)
			}
			n, err := parseCount(rest)
			if err != nil {
				return nil, fmt.Errorf("invalid postsuper count line %q: %w", line, err)
			}
			result.Affected, counted = n, true
		case rest == texts.each && isAlphanumeric(first):
			result.IDs = append(result.IDs, first)
		default:
			result.Warnings = append(result.Warnings, line)
		}
	}
	if !counted {
		return nil, fmt.Errorf("postsuper printed no %q count line", texts.total+": N messages")
	}
	return result, nil
}

// parseCount reads "1 message" or "N messages".
func parseCount(s string) (int, error) {
	number, noun, _ := strings.Cut(s, " ")
	n, err := strconv.Atoi(number)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("count %q is not a number", number)
	}
	if noun != "message" && noun != "messages" {
		return 0, fmt.Errorf("expected \"message\" or \"messages\" after the count, got %q", noun)
	}
	return n, nil
}

// discard reads a command's stdout to the end. postsuper prints nothing
// there.
func discard(r io.Reader) error {
	_, err := io.Copy(io.Discard, r)
	return err
}
