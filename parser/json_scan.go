package parser

import (
	"strings"
	"time"
	"unsafe"
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
// A string without escapes stays where it is in the line. The scanner
// collects the others unescaped in one buffer, which it reuses for the next
// message. The strings of a message thus cost no allocation, and most of
// them no copy.
type jsonScanner struct {
	line    []byte // the line being scanned
	pos     int    // offset of the next byte to read in line
	decoded []byte // unescaped strings of the message, one after another
	id      span   // queue_id
	sender  span   // sender
	spans   []span // recipient strings, recipientStrings per recipient
}

// span is the place of one string: in jsonScanner.line for a string without
// escapes, else in jsonScanner.decoded.
type span struct {
	start, end int
	inLine     bool
}

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
	seen := 0
	for {
		name, ok := d.memberName()
		if !ok {
			return false
		}
		bit, ok := d.scanMember(name, m)
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

	d.setStrings(m)
	return true
}

// scanMember reads the value of the member name into m or d, and returns
// the member's seen bit, or 0 for an unknown member.
func (d *jsonScanner) scanMember(name []byte, m *Message) (bit int, ok bool) {
	switch string(name) {
	case "queue_name":
		return seenQueueName, d.queueName(m)
	case "queue_id":
		d.id, ok = d.stringValue()
		return seenQueueID, ok && d.id.end > d.id.start
	case "arrival_time":
		var seconds int64
		seconds, ok = d.integer()
		m.ArrivalTime = time.Unix(seconds, 0)
		return seenArrivalTime, ok
	case "message_size":
		m.Size, ok = d.integer()
		return seenMessageSize, ok && m.Size >= 0
	case "forced_expire":
		m.ForcedExpire, ok = d.boolean()
		return seenForcedExpire, ok
	case "sender":
		d.sender, ok = d.stringValue()
		return seenSender, ok
	case "recipients":
		return seenRecipients, d.recipients()
	}
	return 0, d.skipUnknown(name, messageMembers)
}

// setStrings points the string fields of m into the line and the collected
// strings without copying them, so the next message overwrites them, as
// Handler documents. At 10,000 lab messages, a string per message cost about 3 of
// the exporter's 19 ms of CPU time per scrape, mostly in garbage collection.
func (d *jsonScanner) setStrings(m *Message) {
	line := unsafe.String(unsafe.SliceData(d.line), len(d.line))
	decoded := unsafe.String(unsafe.SliceData(d.decoded), len(d.decoded))
	str := func(sp span) string {
		if sp.inLine {
			return line[sp.start:sp.end]
		}
		return decoded[sp.start:sp.end]
	}
	m.ID = str(d.id)
	m.Sender = str(d.sender)

	m.Recipients = m.Recipients[:0]
	for i := 0; i < len(d.spans); i += recipientStrings {
		spans := d.spans[i : i+recipientStrings]
		m.Recipients = append(m.Recipients, Recipient{
			Address:      str(spans[0]),
			OrigAddress:  str(spans[1]),
			DelayReason:  str(spans[2]),
			BounceReason: str(spans[3]),
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
	if v.inLine {
		m.Queue, ok = queueName(string(d.line[v.start:v.end]))
		return ok
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
