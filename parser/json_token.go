package parser

import (
	"bytes"
	"encoding/binary"
	"unicode/utf16"
	"unicode/utf8"
)

// skipValue checks and skips one JSON value of any type.
func (d *jsonScanner) skipValue(depth int) bool {
	d.skipSpace()
	if d.pos >= len(d.line) {
		return false
	}
	switch c := d.line[d.pos]; {
	case c == '"':
		mark := len(d.decoded)
		_, ok := d.stringValue()
		d.decoded = d.decoded[:mark]
		return ok
	case c == '{' || c == '[':
		return depth < maxSkipDepth && d.skipComposite(depth)
	case c == 't':
		return d.literal("true")
	case c == 'f':
		return d.literal("false")
	case c == 'n':
		return d.literal("null")
	case c == '-' || isDigit(c):
		return d.skipNumber()
	}
	return false
}

// skipComposite skips an object or an array.
func (d *jsonScanner) skipComposite(depth int) bool {
	closing := byte(']')
	if d.line[d.pos] == '{' {
		closing = '}'
	}
	d.pos++
	d.skipSpace()
	if d.pos < len(d.line) && d.line[d.pos] == closing {
		d.pos++
		return true
	}
	for {
		if closing == '}' {
			if _, ok := d.memberName(); !ok {
				return false
			}
		}
		if !d.skipValue(depth + 1) {
			return false
		}
		switch d.nextToken() {
		case ',':
		case closing:
			return true
		default:
			return false
		}
	}
}

// skipNumber skips a number with the JSON grammar
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?. The caller checks what
// follows it.
func (d *jsonScanner) skipNumber() bool {
	if d.line[d.pos] == '-' {
		d.pos++
	}
	if d.pos < len(d.line) && d.line[d.pos] == '0' {
		d.pos++
	} else if !d.skipDigits() {
		return false
	}
	if d.pos < len(d.line) && d.line[d.pos] == '.' {
		d.pos++
		if !d.skipDigits() {
			return false
		}
	}
	if d.pos < len(d.line) && (d.line[d.pos] == 'e' || d.line[d.pos] == 'E') {
		d.pos++
		if d.pos < len(d.line) && (d.line[d.pos] == '+' || d.line[d.pos] == '-') {
			d.pos++
		}
		if !d.skipDigits() {
			return false
		}
	}
	return true
}

// skipDigits skips one or more digits.
func (d *jsonScanner) skipDigits() bool {
	start := d.pos
	for d.pos < len(d.line) && isDigit(d.line[d.pos]) {
		d.pos++
	}
	return d.pos > start
}

// memberName reads a member name and the colon after it. It gives up on a
// name with an escape or a byte outside printable ASCII.
func (d *jsonScanner) memberName() ([]byte, bool) {
	if d.nextToken() != '"' {
		return nil, false
	}
	line, start := d.line, d.pos
	end := skipPlainString(line, start)
	if end == len(line) || line[end] != '"' {
		return nil, false
	}
	d.pos = end + 1
	return line[start:end], d.nextToken() == ':'
}

// stringValue reads a string value and returns its place: in d.line when it
// has no escapes and only printable ASCII, else appended unescaped to
// d.decoded.
func (d *jsonScanner) stringValue() (span, bool) {
	if d.nextToken() != '"' {
		return span{}, false
	}
	if end := skipPlainString(d.line, d.pos); end < len(d.line) && d.line[end] == '"' {
		sp := span{start: d.pos, end: end, inLine: true}
		d.pos = end + 1
		return sp, true
	}
	start := len(d.decoded)
	for {
		end := skipPlainString(d.line, d.pos)
		d.decoded = append(d.decoded, d.line[d.pos:end]...)
		d.pos = end
		if end == len(d.line) {
			return span{}, false
		}

		switch c := d.line[end]; {
		case c == '"':
			d.pos++
			return span{start: start, end: len(d.decoded)}, true
		case c == '\\':
			if !d.unescape() {
				return span{}, false
			}
		case c < 0x20:
			return span{}, false
		default:
			r, size := utf8.DecodeRune(d.line[end:])
			if r == utf8.RuneError && size == 1 {
				return span{}, false // encoding/json would substitute U+FFFD
			}
			d.decoded = append(d.decoded, d.line[end:end+size]...)
			d.pos += size
		}
	}
}

// unescape appends the character of the escape sequence at d.pos to
// d.decoded.
func (d *jsonScanner) unescape() bool {
	if d.pos+1 >= len(d.line) {
		return false
	}
	c := d.line[d.pos+1]
	d.pos += 2
	switch c {
	case '"', '\\', '/':
		d.decoded = append(d.decoded, c)
	case 'b':
		d.decoded = append(d.decoded, '\b')
	case 'f':
		d.decoded = append(d.decoded, '\f')
	case 'n':
		d.decoded = append(d.decoded, '\n')
	case 'r':
		d.decoded = append(d.decoded, '\r')
	case 't':
		d.decoded = append(d.decoded, '\t')
	case 'u':
		r, ok := d.hex4()
		if !ok {
			return false
		}
		if utf16.IsSurrogate(r) {
			// Only a high surrogate followed by an escaped low surrogate
			// is a character; encoding/json substitutes U+FFFD for the rest.
			if r >= 0xDC00 || !bytes.HasPrefix(d.line[d.pos:], []byte(`\u`)) {
				return false
			}
			d.pos += 2
			low, ok := d.hex4()
			if !ok {
				return false
			}
			r = utf16.DecodeRune(r, low)
			if r == utf8.RuneError {
				return false
			}
		}
		d.decoded = utf8.AppendRune(d.decoded, r)
	default:
		return false
	}
	return true
}

// hex4 reads the four hexadecimal digits of a \u escape.
func (d *jsonScanner) hex4() (rune, bool) {
	if d.pos+4 > len(d.line) {
		return 0, false
	}
	var r rune
	for _, c := range d.line[d.pos : d.pos+4] {
		var v byte
		switch {
		case '0' <= c && c <= '9':
			v = c - '0'
		case 'a' <= c && c <= 'f':
			v = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			v = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(v)
	}
	d.pos += 4
	return r, true
}

// integer reads a JSON number without fraction or exponent. It gives up on
// more than 18 digits, which could overflow int64.
func (d *jsonScanner) integer() (int64, bool) {
	d.skipSpace()
	negative := false
	if d.pos < len(d.line) && d.line[d.pos] == '-' {
		negative = true
		d.pos++
	}
	start := d.pos
	var n int64
	for d.pos < len(d.line) && isDigit(d.line[d.pos]) {
		n = n*10 + int64(d.line[d.pos]-'0')
		d.pos++
	}
	digits := d.pos - start
	if digits == 0 || digits > 18 || (digits > 1 && d.line[start] == '0') {
		return 0, false
	}
	if d.pos < len(d.line) {
		if c := d.line[d.pos]; c == '.' || c == 'e' || c == 'E' {
			return 0, false
		}
	}
	if negative {
		n = -n
	}
	return n, true
}

// boolean reads true or false.
func (d *jsonScanner) boolean() (bool, bool) {
	d.skipSpace()
	if bytes.HasPrefix(d.line[d.pos:], []byte("true")) {
		d.pos += len("true")
		return true, true
	}
	if bytes.HasPrefix(d.line[d.pos:], []byte("false")) {
		d.pos += len("false")
		return false, true
	}
	return false, false
}

// literal reads the literal word, which must come next.
func (d *jsonScanner) literal(word string) bool {
	if !bytes.HasPrefix(d.line[d.pos:], []byte(word)) {
		return false
	}
	d.pos += len(word)
	return true
}

// nextToken skips whitespace and returns the next byte, or 0 at the end of
// the line.
func (d *jsonScanner) nextToken() byte {
	d.skipSpace()
	if d.pos >= len(d.line) {
		return 0
	}
	c := d.line[d.pos]
	d.pos++
	return c
}

func (d *jsonScanner) skipSpace() {
	line, i := d.line, d.pos
	for i < len(line) && isJSONSpace(line[i]) {
		i++
	}
	d.pos = i
}

func isJSONSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\r' || c == '\n'
}

// skipPlainString returns the offset of the first byte at or after i that
// is not a plainStringByte. It tests eight bytes at a time, because this
// loop takes most of the scanning time.
func skipPlainString(s []byte, i int) int {
	const (
		ones   = 0x0101010101010101
		highs  = 0x8080808080808080
		quotes = '"' * ones
		slashs = '\\' * ones
		blanks = 0x20 * ones
	)
	for ; i+8 <= len(s); i += 8 {
		x := binary.LittleEndian.Uint64(s[i:])
		q, b := x^quotes, x^slashs
		// special has a high bit set if a byte is >= 0x80, < 0x20, a
		// quote or a backslash. Borrows can set one without such a byte,
		// and the byte loop below then finds that the bytes are plain.
		special := x | (x-blanks)&^x | (q-ones)&^q | (b-ones)&^b
		if special&highs != 0 {
			break
		}
	}
	for i < len(s) && plainStringByte[s[i]] {
		i++
	}
	return i
}

// plainStringByte marks the bytes that a JSON string can contain as they
// are: printable ASCII other than the quote and the backslash.
var plainStringByte = func() (table [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		table[c] = c != '"' && c != '\\'
	}
	return table
}()

func isDigit(c byte) bool {
	return '0' <= c && c <= '9'
}
