package parser

import (
	"fmt"
	"unicode/utf8"
)

// maxExcerptBytes bounds SyntaxError.Got, so that an error about a 1 MiB line
// or about binary input stays readable in a log line.
const maxExcerptBytes = 60

// SyntaxError reports input that is not a Postfix queue listing, or a listing
// line the parser cannot read.
type SyntaxError struct {
	Line     int    // 1-based number of the offending line
	Expected string // description of the input the parser expected there
	Got      string // excerpt of the input, at most about 60 bytes, unquoted

	atEOF bool // the input ended where Expected was due
}

// Error returns the message as `line N: expected X, got "Y"`, with Y quoted
// and its non-printable bytes escaped.
func (e *SyntaxError) Error() string {
	if e.atEOF {
		return fmt.Sprintf("line %d: expected %s, got end of input", e.Line, e.Expected)
	}
	return fmt.Sprintf("line %d: expected %s, got %q", e.Line, e.Expected, e.Got)
}

// newSyntaxError returns a SyntaxError whose Got is the start of got.
func newSyntaxError(line int, expected string, got []byte) *SyntaxError {
	return &SyntaxError{Line: line, Expected: expected, Got: headExcerpt(got)}
}

// eofError returns a SyntaxError for input that ends too early.
func eofError(line int, expected string) *SyntaxError {
	return &SyntaxError{Line: line, Expected: expected, atEOF: true}
}

// headExcerpt returns the first maxExcerptBytes bytes of b, cut at a rune
// boundary and marked with "..." when cut.
func headExcerpt(b []byte) string {
	if len(b) <= maxExcerptBytes {
		return string(b)
	}
	end := maxExcerptBytes - len("...")
	for end > 0 && !utf8.RuneStart(b[end]) {
		end--
	}
	return string(b[:end]) + "..."
}

// tailExcerpt returns the last maxExcerptBytes bytes of b[:end], cut at a
// rune boundary and marked with "..." when cut. It shows the input that led
// up to an error found at offset end.
func tailExcerpt(b []byte, end int) string {
	end = min(max(end, 0), len(b))
	if end <= maxExcerptBytes {
		return string(b[:end])
	}
	start := end - (maxExcerptBytes - len("..."))
	for start < end && !utf8.RuneStart(b[start]) {
		start++
	}
	return "..." + string(b[start:end])
}
