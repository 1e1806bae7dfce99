package parser

import (
	"bytes"
	"encoding/binary"
	"strings"
	"time"
	"unicode/utf16"
	"unicode/utf8"
)

// jsonScanner decodes `postqueue -j` lines without reflection. It accepts a
// line only when its result is certain to equal what decodeJSONMessage would
// produce with encoding/json. Anything unusual makes it give up, and the
// caller then decodes the line with encoding/json. These cases are unusual:
//   - a duplicate member, or a member name that differs from a known one
//     only in case or that contains an escape or a non-ASCII byte,
//   - null, or a number with a fraction, an exponent or more than 18 digits,
//   - invalid UTF-8 or an unpaired surrogate,
//   - nesting deeper than maxSkipDepth in an unknown member,
//   - every invalid line.
//
// Member order is not assumed, and unknown members of any JSON type are
// skipped.
//
// The scanner collects the unescaped strings of a message in one buffer and
// converts it to a string once, so a message costs one allocation for its
// strings, whatever their number.
type jsonScanner struct {
	line    []byte // the line being scanned
	pos     int    // offset of the next byte to read in line
	decoded []byte // unescaped strings of the message, one after another
	spans   []span // recipient strings in decoded, recipientStrings per recipient
}

// span is the place of one string in jsonScanner.decoded.
type span struct{ start, end int }

// recipientStrings is the number of spans a recipient takes in
// jsonScanner.spans: address, orig_address, delay_reason, bounce_reason.
const recipientStrings = 4

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

// seenAddress is the bit of the address member among the members seen in
// one recipient object, which are numbered as in jsonScanner.spans.
const seenAddress = 1 << 0

var (
	messageMembers   = []string{"queue_name", "queue_id", "arrival_time", "message_size", "forced_expire", "sender", "recipients"}
	recipientMembers = []string{"address", "orig_address", "delay_reason", "bounce_reason"}
)

// scanMessage decodes line into m and reports whether it did. When it
// returns false, m contains partial data and the line must be decoded again.
func (d *jsonScanner) scanMessage(line []byte, m *Message) bool {
	d.line = line
	d.pos = 0
	d.decoded = d.decoded[:0]
	d.spans = d.spans[:0]
	m.ForcedExpire = false

	if d.nextToken() != '{' {
		return false
	}
	var id, sender span
	seen := 0
	for {
		name, ok := d.memberName()
		if !ok {
			return false
		}
		bit := 0
		switch string(name) {
		case "queue_name":
			bit = seenQueueName
			ok = d.queueName(m)
		case "queue_id":
			bit = seenQueueID
			id, ok = d.stringValue()
			ok = ok && id.end > id.start
		case "arrival_time":
			bit = seenArrivalTime
			var n int64
			n, ok = d.integer()
			m.ArrivalTime = time.Unix(n, 0)
		case "message_size":
			bit = seenMessageSize
			m.Size, ok = d.integer()
			ok = ok && m.Size >= 0
		case "forced_expire":
			bit = seenForcedExpire
			m.ForcedExpire, ok = d.boolean()
		case "sender":
			bit = seenSender
			sender, ok = d.stringValue()
		case "recipients":
			bit = seenRecipients
			ok = d.recipients()
		default:
			ok = d.skipUnknown(name, messageMembers)
		}
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
	if d.pos != len(d.line) || seen&seenRequired != seenRequired {
		return false
	}

	d.copyStrings(m, id, sender)
	return true
}

// copyStrings converts the collected strings to one string and points the
// string fields of m into it.
func (d *jsonScanner) copyStrings(m *Message, id, sender span) {
	text := string(d.decoded)
	m.ID = text[id.start:id.end]
	m.Sender = text[sender.start:sender.end]

	m.Recipients = m.Recipients[:0]
	for i := 0; i < len(d.spans); i += recipientStrings {
		spans := d.spans[i : i+recipientStrings]
		m.Recipients = append(m.Recipients, Recipient{
			Address:      text[spans[0].start:spans[0].end],
			OrigAddress:  text[spans[1].start:spans[1].end],
			DelayReason:  text[spans[2].start:spans[2].end],
			BounceReason: text[spans[3].start:spans[3].end],
		})
	}
}

// queueName reads the queue_name value and sets m.Queue to the package
// constant equal to it.
func (d *jsonScanner) queueName(m *Message) bool {
	v, ok := d.stringValue()
	if !ok {
		return false
	}
	m.Queue, ok = queueName(string(d.decoded[v.start:v.end]))
	d.decoded = d.decoded[:v.start] // the constant is used, not the copy
	return ok
}

// recipients reads the recipients array into d.spans.
func (d *jsonScanner) recipients() bool {
	if d.nextToken() != '[' {
		return false
	}
	d.skipSpace()
	if d.pos < len(d.line) && d.line[d.pos] == ']' {
		d.pos++
		return true
	}
	for {
		if !d.recipient() {
			return false
		}
		switch d.nextToken() {
		case ',':
		case ']':
			return true
		default:
			return false
		}
	}
}

// recipient reads one object of the recipients array and appends its
// recipientStrings spans to d.spans.
func (d *jsonScanner) recipient() bool {
	if d.nextToken() != '{' {
		return false
	}
	first := len(d.spans)
	d.spans = append(d.spans, make([]span, recipientStrings)...)
	spans := d.spans[first:]

	seen := 0
	for {
		name, ok := d.memberName()
		if !ok {
			return false
		}
		field := -1
		switch string(name) {
		case "address":
			field = 0
		case "orig_address":
			field = 1
		case "delay_reason":
			field = 2
		case "bounce_reason":
			field = 3
		}
		if field < 0 {
			ok = d.skipUnknown(name, recipientMembers)
		} else {
			bit := 1 << field
			spans[field], ok = d.stringValue()
			ok = ok && seen&bit == 0
			seen |= bit
		}
		if !ok {
			return false
		}

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
func (d *jsonScanner) skipUnknown(name []byte, known []string) bool {
	for _, k := range known {
		if strings.EqualFold(string(name), k) {
			return false
		}
	}
	return d.skipValue(0)
}

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

// stringValue reads a string value, appends it unescaped to d.decoded and
// returns its place there.
func (d *jsonScanner) stringValue() (span, bool) {
	if d.nextToken() != '"' {
		return span{}, false
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
			return span{start, len(d.decoded)}, true
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
