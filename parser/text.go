package parser

import (
	"bytes"
	"io"
	"time"
)

// TextOptions sets how ParseText dates messages. A `postqueue -p` arrival
// time such as "Fri Dec  4 14:53:35" has no year and no time zone: it is the
// Postfix server's local time. ParseText takes the latest such time in
// Location that is not more than one day after Now. The day allows for
// clock skew, so that a message stamped a little in the future is not dated
// a year back.
type TextOptions struct {
	Now      time.Time      // reference time; the zero value means time.Now()
	Location *time.Location // time zone of the Postfix server; nil means time.Local
}

// ParseText reads `postqueue -p` output and calls h once per message, in
// input order. It reads both header styles of short queue IDs (Postfix 3.1
// and later, and 3.0 and earlier) and the long queue ID header, splitting
// lines at blanks rather than columns. "Mail queue is empty" is an empty
// queue. Empty input is an error, because postqueue -p always prints a line.
//
// The text format cannot tell the deferred, incoming and maildrop queues
// apart, so an entry without a status mark gets QueueDeferred. An entry
// marked "*" is active and one marked "!" is on hold. A "#" sets
// ForcedExpire. A reason line in parentheses applies to the recipients after
// it, and "(reason unavailable)" sets an empty DelayReason. When the footer
// "-- N Kbytes in N Requests." is present, its request count must match.
//
// Postfix 3.0 and earlier print a maildrop file they cannot open as
// "ID SIZE DATE (maildrop queue, sender UID N)": ParseText returns it as a
// maildrop message with an empty Sender and no recipients.
//
// Errors in the input are *SyntaxError values, and an error from h is
// returned unchanged. The ID and Sender of a message share one allocation
// with their input line, and equal reasons share one string.
func ParseText(r io.Reader, opts TextOptions, h Handler) error {
	return parseTextLines(newLineReader(r), opts, h)
}

const expectedTextStart = `the postqueue -p header "-Queue ID- ..." or "Mail queue is empty"`

// textState is the part of a listing that the next line belongs to.
type textState int

const (
	afterHeader    textState = iota // a queue entry must follow
	inEntry                         // reason, recipient or blank line
	afterReason                     // a recipient must follow
	afterNoRcpt                     // unreadable maildrop entry: blank line
	betweenEntries                  // queue entry, footer or end of input
	afterEnd                        // only blank lines may follow
)

type textParser struct {
	lr       *lineReader
	h        Handler
	now      time.Time
	location *time.Location

	m       Message
	reason  string            // delay reason of the recipients that follow
	reasons map[string]string // recent reasons, to share equal strings
	count   int               // messages handed to h
}

// maxSharedReasons bounds textParser.reasons. Deferred mail tends to share
// a few reasons, such as one connection error per unreachable destination.
const maxSharedReasons = 256

func parseTextLines(lr *lineReader, opts TextOptions, h Handler) error {
	p := textParser{lr: lr, h: h, now: opts.Now, location: opts.Location}
	if p.now.IsZero() {
		p.now = time.Now()
	}
	if p.location == nil {
		p.location = time.Local
	}

	first, err := lr.nextNonBlank()
	if err == io.EOF {
		return eofError(lr.number+1, expectedTextStart)
	}
	if err != nil {
		return err
	}
	state := afterHeader
	switch {
	case isEmptyQueueLine(first):
		state = afterEnd
	case !isTextHeader(first):
		return newSyntaxError(lr.number, expectedTextStart, first)
	}

	for {
		line, err := lr.next()
		if err == io.EOF {
			return p.finish(state)
		}
		if err != nil {
			return err
		}
		state, err = p.parseLine(state, line)
		if err != nil {
			return err
		}
	}
}

// parseLine handles one line read in state and returns the next state.
func (p *textParser) parseLine(state textState, line []byte) (textState, error) {
	blank := isBlank(line)
	switch state {
	case afterHeader:
		return p.startEntry(line, "a queue entry after the header")

	case inEntry:
		switch {
		case blank:
			return betweenEntries, p.emit()
		case isReasonLine(line):
			return afterReason, p.parseReason(line)
		case isSpace(line[0]):
			p.addRecipient(line)
			return inEntry, nil
		}
		return state, p.syntaxError("a recipient address, a (reason) line or a blank line", line)

	case afterReason:
		if blank || !isSpace(line[0]) || isReasonLine(line) {
			return state, p.syntaxError("a recipient address after the reason line", line)
		}
		p.addRecipient(line)
		return inEntry, nil

	case afterNoRcpt:
		if !blank {
			return state, p.syntaxError("a blank line after an unreadable maildrop entry", line)
		}
		return betweenEntries, p.emit()

	case betweenEntries:
		if bytes.HasPrefix(line, []byte("--")) {
			return afterEnd, p.parseFooter(line)
		}
		return p.startEntry(line, "a queue entry or the footer")

	case afterEnd:
		if !blank {
			return state, p.syntaxError("the end of the listing", line)
		}
		return state, nil
	}
	panic("parser: unknown text state")
}

// startEntry parses the first line of a queue entry and returns the state
// for the lines of its recipients.
func (p *textParser) startEntry(line []byte, expected string) (textState, error) {
	if err := p.parseEntry(line, expected); err != nil {
		return afterHeader, err
	}
	if p.m.Queue == QueueMaildrop {
		return afterNoRcpt, nil // no recipient lines follow
	}
	return inEntry, nil
}

// finish handles the end of input in state.
func (p *textParser) finish(state textState) error {
	switch state {
	case afterHeader:
		return eofError(p.lr.number+1, "a queue entry after the header")
	case afterReason:
		return eofError(p.lr.number+1, "a recipient address after the reason line")
	case inEntry, afterNoRcpt:
		return p.emit()
	}
	return nil
}

func (p *textParser) emit() error {
	p.count++
	return p.h(&p.m)
}

func (p *textParser) syntaxError(expected string, line []byte) error {
	return newSyntaxError(p.lr.number, expected, line)
}
