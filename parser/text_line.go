package parser

import (
	"bytes"
	"fmt"
	"strconv"
	"time"
)

// unavailableReason is the text that Postfix 3.1 and later print in place of
// a reason for a recipient without one that follows a recipient with one.
const unavailableReason = "reason unavailable"

// maildropPrefix starts the text that Postfix 3.0 and earlier print in place
// of a sender for a maildrop file they cannot open.
const maildropPrefix = "(maildrop queue, sender UID "

const expectedArrival = `an arrival time such as "Fri Dec  4 14:53:35"`

// parseEntry parses the first line of a queue entry: queue ID with status
// marks, size, arrival time and sender, separated by blanks. Columns are not
// used, because long IDs and sizes of 10,000,000 bytes and more push the
// fields right, and Postfix 3.4 and earlier add a blank after the ID.
func (p *textParser) parseEntry(line []byte, expected string) error {
	if len(line) == 0 || isSpace(line[0]) {
		return p.syntaxError(expected, line)
	}
	text := string(line)

	p.m = Message{Recipients: p.m.Recipients[:0]}
	p.reason = ""

	field, rest := nextField(text)
	id, glued, ok := p.parseID(field)
	if !ok {
		return p.syntaxError(`a queue ID with optional status marks "*", "!" or "#"`, line)
	}
	p.m.ID = id

	if glued == "" {
		glued, rest = nextField(rest)
	}
	size, err := strconv.ParseInt(glued, 10, 64)
	if err != nil || !isDigits(glued) {
		return p.syntaxError("a message size in bytes after the queue ID", line)
	}
	p.m.Size = size

	arrival, rest, ok := p.parseArrival(rest)
	if !ok {
		return p.syntaxError(expectedArrival, line)
	}
	p.m.ArrivalTime = arrival

	sender := trimSpace(rest)
	if sender == "" {
		return p.syntaxError("a sender address after the arrival time", line)
	}
	if isUnreadableMaildrop(sender) {
		p.m.Queue = QueueMaildrop
		return nil
	}
	p.m.Sender = sender
	return nil
}

// parseID splits the first field of an entry into the queue ID and its
// status marks, and sets Queue and ForcedExpire. glued is the size when
// Postfix 3.0 and earlier printed it right after a status mark, as they do
// for sizes of 8 digits.
func (p *textParser) parseID(field string) (id, glued string, ok bool) {
	n := 0
	for n < len(field) && isAlphanumeric(field[n]) {
		n++
	}
	if n == 0 {
		return "", "", false
	}
	id, marks := field[:n], field[n:]

	p.m.Queue = QueueDeferred
	if marks != "" && (marks[0] == '*' || marks[0] == '!') {
		if marks[0] == '*' {
			p.m.Queue = QueueActive
		} else {
			p.m.Queue = QueueHold
		}
		marks = marks[1:]
	}
	if marks != "" && marks[0] == '#' {
		p.m.ForcedExpire = true
		marks = marks[1:]
	}
	if marks != "" && (len(marks) == len(field)-n || !isDigits(marks)) {
		return "", "", false
	}
	return id, marks, true
}

// parseArrival parses an asctime(3) date without the year, such as
// "Fri Dec  4 14:53:35", and returns the text after it.
func (p *textParser) parseArrival(text string) (time.Time, string, bool) {
	weekday, rest := nextField(text)
	monthName, rest := nextField(rest)
	dayText, rest := nextField(rest)
	clock, rest := nextField(rest)

	month, ok := parseMonth(monthName)
	if !ok || !isWeekday(weekday) {
		return time.Time{}, "", false
	}
	day, err := strconv.Atoi(dayText)
	if err != nil || len(dayText) > 2 || day < 1 || day > 31 {
		return time.Time{}, "", false
	}
	hour, minute, second, ok := parseClock(clock)
	if !ok {
		return time.Time{}, "", false
	}

	t, ok := arrivalTime(month, day, hour, minute, second, p.now, p.location)
	return t, rest, ok
}

// parseClock parses "hh:mm:ss". A second of 60 is a leap second.
func parseClock(text string) (hour, minute, second int, ok bool) {
	if len(text) != len("14:53:35") || text[2] != ':' || text[5] != ':' {
		return 0, 0, 0, false
	}
	hour, ok1 := twoDigits(text[0:2])
	minute, ok2 := twoDigits(text[3:5])
	second, ok3 := twoDigits(text[6:8])
	ok = ok1 && ok2 && ok3 && hour < 24 && minute < 60 && second <= 60
	return hour, minute, second, ok
}

func twoDigits(text string) (int, bool) {
	if !isDigit(text[0]) || !isDigit(text[1]) {
		return 0, false
	}
	return int(text[0]-'0')*10 + int(text[1]-'0'), true
}

func parseMonth(name string) (time.Month, bool) {
	for m := time.January; m <= time.December; m++ {
		if name == m.String()[:3] {
			return m, true
		}
	}
	return 0, false
}

func isWeekday(name string) bool {
	for d := time.Sunday; d <= time.Saturday; d++ {
		if name == d.String()[:3] {
			return true
		}
	}
	return false
}

// isUnreadableMaildrop reports whether sender is the text that Postfix 3.0
// and earlier print for a maildrop file they cannot open.
func isUnreadableMaildrop(sender string) bool {
	uid, ok := cutAffixes(sender, maildropPrefix, ")")
	return ok && isDigits(uid)
}

// parseReason sets the delay reason for the recipients that follow. The
// reason is everything between the first "(" and the last ")".
//
// NOTE: Postfix 3.0 and earlier list the recipients that have no reason yet
// after those with one, without a "(reason unavailable)" line, so they get
// the reason of the recipients above them.
func (p *textParser) parseReason(line []byte) error {
	text := bytes.TrimRight(bytes.TrimLeft(line, " \t"), " \t\r")
	if len(text) < 2 || text[len(text)-1] != ')' {
		return p.syntaxError(`a reason line ending in ")"`, line)
	}
	reason := text[1 : len(text)-1]
	if string(reason) == unavailableReason {
		p.reason = ""
		return nil
	}

	if shared, ok := p.reasons[string(reason)]; ok {
		p.reason = shared
		return nil
	}
	if p.reasons == nil || len(p.reasons) >= maxSharedReasons {
		p.reasons = make(map[string]string)
	}
	p.reason = string(reason)
	p.reasons[p.reason] = p.reason
	return nil
}

func (p *textParser) addRecipient(line []byte) {
	address := bytes.Trim(line, " \t\r")
	p.m.Recipients = append(p.m.Recipients, Recipient{Address: string(address), DelayReason: p.reason})
}

// parseFooter checks "-- N Kbytes in N Requests." against the number of
// messages read. Postfix prints "Request." for exactly one.
func (p *textParser) parseFooter(line []byte) error {
	dashes, rest := nextField(string(line))
	kbytes, rest := nextField(rest)
	unit, rest := nextField(rest)
	in, rest := nextField(rest)
	count, rest := nextField(rest)
	requests, rest := nextField(rest)

	ok := dashes == "--" && isDigits(kbytes) && unit == "Kbytes" && in == "in" &&
		isDigits(count) && (requests == "Request." || requests == "Requests.") &&
		trimSpace(rest) == ""
	if !ok {
		return p.syntaxError(`a footer such as "-- 12 Kbytes in 3 Requests."`, line)
	}
	if count != strconv.Itoa(p.count) {
		expected := fmt.Sprintf("a request count of %d, the number of entries listed", p.count)
		return p.syntaxError(expected, line)
	}
	return nil
}
