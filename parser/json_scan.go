package parser

import (
	"strings"
	"time"
	"unicode/utf16"
	"unicode/utf8"
)

// jsonScanner decodes `postqueue -j` lines without reflection. It accepts a
// line only when its result is certain to equal what decodeJSONMessage would
// produce with encoding/json. Anything unusual makes it give up, and the
// caller decodes the line with encoding/json instead: a duplicate member, a
// member name that differs from a known one only in case or that holds an
// escape or a non-ASCII byte, null, a number with a fraction or exponent or
// more than 18 digits, invalid UTF-8, an unpaired surrogate, nesting deeper
// than maxSkipDepth in an unknown member, and every invalid line.
//
// Member order is not assumed, and unknown members of any JSON type are
// skipped.
type jsonScanner struct {
	s       string // the line being scanned
	pos     int    // offset of the next byte to read in s
	scratch []byte // unescaped string being built
}

// maxSkipDepth bounds the nesting of unknown members that jsonScanner skips
// itself.
const maxSkipDepth = 32

// Bits for the members seen in one object.
const (
	seenQueueName = 1 << iota
	seenQueueID
	seenArrivalTime
	seenMessageSize
	seenForcedExpire
	seenSender
	seenRecipients

	seenRequired = seenQueueName | seenQueueID | seenArrivalTime | seenMessageSize |
		seenSender | seenRecipients
)

// Bits for the members seen in one recipient object.
const (
	seenAddress = 1 << iota
	seenOrigAddress
	seenDelayReason
	seenBounceReason
)

var (
	messageMembers   = []string{"queue_name", "queue_id", "arrival_time", "message_size", "forced_expire", "sender", "recipients"}
	recipientMembers = []string{"address", "orig_address", "delay_reason", "bounce_reason"}
)

// scanMessage decodes line into m and reports whether it did. When it
// returns false, m holds partial data and the line must be decoded again.
func (d *jsonScanner) scanMessage(line []byte, m *Message) bool {
	d.s = string(line)
	d.pos = 0
	m.ForcedExpire = false
	m.Recipients = m.Recipients[:0]

	if d.nextToken() != '{' {
		return false
	}
	seen := 0
	for {
		name, ok := d.memberName()
		if !ok {
			return false
		}
		bit, ok := d.scanMessageMember(name, m)
		if !ok || seen&bit != 0 {
			return false
		}
		seen |= bit

		c := d.nextToken()
		if c == '}' {
			break
		}
		if c != ',' {
			return false
		}
	}

	d.skipSpace()
	return d.pos == len(d.s) && seen&seenRequired == seenRequired
}

// scanMessageMember decodes the value of the member name into m and returns
// the member's seen bit, or 0 for an unknown member.
func (d *jsonScanner) scanMessageMember(name string, m *Message) (int, bool) {
	switch name {
	case "queue_name":
		v, ok := d.stringValue()
		if !ok {
			return 0, false
		}
		m.Queue, ok = queueName(v)
		return seenQueueName, ok
	case "queue_id":
		v, ok := d.stringValue()
		m.ID = v
		return seenQueueID, ok && v != ""
	case "arrival_time":
		n, ok := d.integer()
		m.ArrivalTime = time.Unix(n, 0)
		return seenArrivalTime, ok
	case "message_size":
		n, ok := d.integer()
		m.Size = n
		return seenMessageSize, ok && n >= 0
	case "forced_expire":
		v, ok := d.boolean()
		m.ForcedExpire = v
		return seenForcedExpire, ok
	case "sender":
		v, ok := d.stringValue()
		m.Sender = v
		return seenSender, ok
	case "recipients":
		return seenRecipients, d.recipients(m)
	}
	return 0, d.skipUnknown(name, messageMembers)
}

// recipients decodes the recipients array into m.Recipients.
func (d *jsonScanner) recipients(m *Message) bool {
	if d.nextToken() != '[' {
		return false
	}
	d.skipSpace()
	if d.pos < len(d.s) && d.s[d.pos] == ']' {
		d.pos++
		return true
	}
	for {
		var r Recipient
		if !d.recipient(&r) {
			return false
		}
		m.Recipients = append(m.Recipients, r)

		switch d.nextToken() {
		case ',':
		case ']':
			return true
		default:
			return false
		}
	}
}

// recipient decodes one object of the recipients array.
func (d *jsonScanner) recipient(r *Recipient) bool {
	if d.nextToken() != '{' {
		return false
	}
	seen := 0
	for {
		name, ok := d.memberName()
		if !ok {
			return false
		}
		bit := 0
		switch name {
		case "address":
			bit = seenAddress
			r.Address, ok = d.stringValue()
		case "orig_address":
			bit = seenOrigAddress
			r.OrigAddress, ok = d.stringValue()
		case "delay_reason":
			bit = seenDelayReason
			r.DelayReason, ok = d.stringValue()
		case "bounce_reason":
			bit = seenBounceReason
			r.BounceReason, ok = d.stringValue()
		default:
			ok = d.skipUnknown(name, recipientMembers)
		}
		if !ok || seen&bit != 0 {
			return false
		}
		seen |= bit

		c := d.nextToken()
		if c == '}' {
			return seen&seenAddress != 0
		}
		if c != ',' {
			return false
		}
	}
}

// skipUnknown skips the value of a member that is not in known. It gives up
// when name matches a known member without regard to case, because
// encoding/json matches member names that way.
func (d *jsonScanner) skipUnknown(name string, known []string) bool {
	for _, k := range known {
		if strings.EqualFold(name, k) {
			return false
		}
	}
	return d.skipValue(0)
}

// skipValue checks and skips one JSON value of any type.
func (d *jsonScanner) skipValue(depth int) bool {
	d.skipSpace()
	if d.pos >= len(d.s) {
		return false
	}
	switch c := d.s[d.pos]; {
	case c == '"':
		_, ok := d.stringValue()
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
	if d.s[d.pos] == '{' {
		closing = '}'
	}
	d.pos++
	d.skipSpace()
	if d.pos < len(d.s) && d.s[d.pos] == closing {
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
	if d.s[d.pos] == '-' {
		d.pos++
	}
	if d.pos < len(d.s) && d.s[d.pos] == '0' {
		d.pos++
	} else if !d.skipDigits() {
		return false
	}
	if d.pos < len(d.s) && d.s[d.pos] == '.' {
		d.pos++
		if !d.skipDigits() {
			return false
		}
	}
	if d.pos < len(d.s) && (d.s[d.pos] == 'e' || d.s[d.pos] == 'E') {
		d.pos++
		if d.pos < len(d.s) && (d.s[d.pos] == '+' || d.s[d.pos] == '-') {
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
	for d.pos < len(d.s) && isDigit(d.s[d.pos]) {
		d.pos++
	}
	return d.pos > start
}

// memberName reads a member name and the colon after it. It gives up on a
// name with an escape or a byte outside printable ASCII.
func (d *jsonScanner) memberName() (string, bool) {
	if d.nextToken() != '"' {
		return "", false
	}
	start := d.pos
	for d.pos < len(d.s) {
		c := d.s[d.pos]
		if c == '"' {
			name := d.s[start:d.pos]
			d.pos++
			return name, d.nextToken() == ':'
		}
		if c == '\\' || c < 0x20 || c >= utf8.RuneSelf {
			return "", false
		}
		d.pos++
	}
	return "", false
}

// stringValue reads a string value. A string without escapes is a substring
// of the line and costs no allocation.
func (d *jsonScanner) stringValue() (string, bool) {
	if d.nextToken() != '"' {
		return "", false
	}
	start := d.pos
	for d.pos < len(d.s) {
		c := d.s[d.pos]
		if c == '"' {
			v := d.s[start:d.pos]
			d.pos++
			return v, true
		}
		if c == '\\' || c < 0x20 || c >= utf8.RuneSelf {
			return d.unusualString(start)
		}
		d.pos++
	}
	return "", false
}

// unusualString finishes reading a string that holds escapes or non-ASCII
// bytes. start is the offset just after the opening quote.
func (d *jsonScanner) unusualString(start int) (string, bool) {
	d.scratch = append(d.scratch[:0], d.s[start:d.pos]...)
	escaped := false
	for d.pos < len(d.s) {
		c := d.s[d.pos]
		switch {
		case c == '"':
			d.pos++
			if !escaped {
				return d.s[start : d.pos-1], true
			}
			return string(d.scratch), true
		case c == '\\':
			if !d.unescape() {
				return "", false
			}
			escaped = true
		case c < 0x20:
			return "", false
		case c < utf8.RuneSelf:
			d.scratch = append(d.scratch, c)
			d.pos++
		default:
			r, size := utf8.DecodeRuneInString(d.s[d.pos:])
			if r == utf8.RuneError && size == 1 {
				return "", false // encoding/json would substitute U+FFFD
			}
			d.scratch = append(d.scratch, d.s[d.pos:d.pos+size]...)
			d.pos += size
		}
	}
	return "", false
}

// unescape appends the character of the escape sequence at d.pos to
// d.scratch.
func (d *jsonScanner) unescape() bool {
	if d.pos+1 >= len(d.s) {
		return false
	}
	c := d.s[d.pos+1]
	d.pos += 2
	switch c {
	case '"', '\\', '/':
		d.scratch = append(d.scratch, c)
	case 'b':
		d.scratch = append(d.scratch, '\b')
	case 'f':
		d.scratch = append(d.scratch, '\f')
	case 'n':
		d.scratch = append(d.scratch, '\n')
	case 'r':
		d.scratch = append(d.scratch, '\r')
	case 't':
		d.scratch = append(d.scratch, '\t')
	case 'u':
		r, ok := d.hex4()
		if !ok {
			return false
		}
		if utf16.IsSurrogate(r) {
			// Only a high surrogate followed by an escaped low surrogate
			// is a character; encoding/json substitutes U+FFFD for the rest.
			if r >= 0xDC00 || !strings.HasPrefix(d.s[d.pos:], `\u`) {
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
		d.scratch = utf8.AppendRune(d.scratch, r)
	default:
		return false
	}
	return true
}

// hex4 reads the four hexadecimal digits of a \u escape.
func (d *jsonScanner) hex4() (rune, bool) {
	if d.pos+4 > len(d.s) {
		return 0, false
	}
	var r rune
	for _, c := range []byte(d.s[d.pos : d.pos+4]) {
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
	if d.pos < len(d.s) && d.s[d.pos] == '-' {
		negative = true
		d.pos++
	}
	start := d.pos
	var n int64
	for d.pos < len(d.s) && isDigit(d.s[d.pos]) {
		n = n*10 + int64(d.s[d.pos]-'0')
		d.pos++
	}
	digits := d.pos - start
	if digits == 0 || digits > 18 || (digits > 1 && d.s[start] == '0') {
		return 0, false
	}
	if d.pos < len(d.s) {
		if c := d.s[d.pos]; c == '.' || c == 'e' || c == 'E' {
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
	if strings.HasPrefix(d.s[d.pos:], "true") {
		d.pos += len("true")
		return true, true
	}
	if strings.HasPrefix(d.s[d.pos:], "false") {
		d.pos += len("false")
		return false, true
	}
	return false, false
}

// literal reads the literal word, which must come next.
func (d *jsonScanner) literal(word string) bool {
	if !strings.HasPrefix(d.s[d.pos:], word) {
		return false
	}
	d.pos += len(word)
	return true
}

// nextToken skips whitespace and returns the next byte, or 0 at the end of
// the line.
func (d *jsonScanner) nextToken() byte {
	d.skipSpace()
	if d.pos >= len(d.s) {
		return 0
	}
	c := d.s[d.pos]
	d.pos++
	return c
}

func (d *jsonScanner) skipSpace() {
	for d.pos < len(d.s) && isJSONSpace(d.s[d.pos]) {
		d.pos++
	}
}

func isJSONSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\r' || c == '\n'
}

func isDigit(c byte) bool {
	return '0' <= c && c <= '9'
}
