package parser

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
)

// MaxLineBytes is the longest line, without its newline, that the parsers
// accept. A `postqueue -j` line contains every recipient of one message, so
// a message with ten thousand recipients makes a line of more than 1 MiB.
// The limit only stops unbounded memory use on input that is not a listing.
const MaxLineBytes = 64 << 20

// readBufferSize is the bufio.Reader size. Longer lines are collected in a
// separate buffer that grows as needed, up to MaxLineBytes.
const readBufferSize = 64 << 10

// lineReader returns the input one line at a time and counts lines for
// error messages.
type lineReader struct {
	r        *bufio.Reader
	long     []byte // line longer than the bufio.Reader buffer
	maxBytes int
	number   int    // 1-based number of the line last returned
	last     []byte // line last returned
	pending  bool   // unread was called: return last again
	eof      bool
}

func newLineReader(r io.Reader) *lineReader {
	return &lineReader{r: bufio.NewReaderSize(r, readBufferSize), maxBytes: MaxLineBytes}
}

// next returns the next line without its newline, or io.EOF after the last
// one. A final line without a newline is returned too. The slice is only
// valid until the next call.
func (lr *lineReader) next() ([]byte, error) {
	if lr.pending {
		lr.pending = false
		lr.number++
		return lr.last, nil
	}
	if lr.eof {
		return nil, io.EOF
	}

	line, err := lr.r.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		line, err = lr.readLong(line)
	}
	if err == io.EOF {
		lr.eof = true
		if len(line) == 0 {
			return nil, io.EOF
		}
		err = nil
	}
	if err != nil {
		return nil, fmt.Errorf("read line %d: %w", lr.number+1, err)
	}

	line = bytes.TrimSuffix(line, []byte{'\n'})
	if len(line) > lr.maxBytes {
		return nil, lr.tooLong(line)
	}
	lr.number++
	lr.last = line
	return line, nil
}

// readLong collects a line that does not fit in the bufio.Reader buffer.
// It stops reading once the line exceeds maxBytes.
func (lr *lineReader) readLong(start []byte) ([]byte, error) {
	lr.long = append(lr.long[:0], start...)
	for {
		if len(lr.long) > lr.maxBytes {
			return nil, lr.tooLong(lr.long)
		}
		part, err := lr.r.ReadSlice('\n')
		lr.long = append(lr.long, part...)
		if err != bufio.ErrBufferFull {
			return lr.long, err
		}
	}
}

func (lr *lineReader) tooLong(line []byte) error {
	expected := fmt.Sprintf("a line of at most %d bytes", lr.maxBytes)
	return newSyntaxError(lr.number+1, expected, line)
}

// unread makes the next call to next return the last line again.
func (lr *lineReader) unread() {
	lr.pending = true
	lr.number--
}

// nextNonBlank returns the next line that is not blank.
func (lr *lineReader) nextNonBlank() ([]byte, error) {
	for {
		line, err := lr.next()
		if err != nil || !isBlank(line) {
			return line, err
		}
	}
}

// isBlank reports whether line contains only blanks, tabs and carriage
// returns.
func isBlank(line []byte) bool {
	for _, c := range line {
		if !isSpace(c) {
			return false
		}
	}
	return true
}

// isSpace reports whether c separates fields in a listing line. The set is
// also the JSON whitespace set without the newline.
func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\r'
}
