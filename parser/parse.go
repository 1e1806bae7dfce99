package parser

import (
	"bytes"
	"fmt"
	"io"
)

// Parse reads a queue listing in the given format and returns the format it
// used. FormatAuto looks at the first line that is not blank, without
// reading further: a "{" starts `postqueue -j` output, and the
// `postqueue -p` header or "Mail queue is empty" starts text. Empty input is
// an empty JSON listing, as `postqueue -j` prints nothing for an empty queue.
// Any other first line is a *SyntaxError, and Parse returns FormatAuto.
func Parse(r io.Reader, format Format, opts TextOptions, h Handler) (Format, error) {
	switch format {
	case FormatJSON:
		return format, ParseJSON(r, h)
	case FormatText:
		return format, ParseText(r, opts, h)
	case FormatAuto:
	default:
		return format, fmt.Errorf("parse queue listing: unknown format %d", int(format))
	}

	lr := newLineReader(r)
	first, err := lr.nextNonBlank()
	if err == io.EOF {
		return FormatJSON, nil
	}
	if err != nil {
		return FormatAuto, err
	}
	lr.unread()

	switch {
	case bytes.TrimLeft(first, " \t\r")[0] == '{':
		return FormatJSON, parseJSONLines(lr, h)
	case isTextHeader(first) || isEmptyQueueLine(first):
		return FormatText, parseTextLines(lr, opts, h)
	}
	expected := "a postqueue -j JSON object, " + expectedTextStart
	return FormatAuto, newSyntaxError(lr.number+1, expected, first)
}
