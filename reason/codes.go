package reason

import (
	"strconv"
	"strings"
)

// replyMarkers introduce the reply of a remote server in Postfix's delay
// reasons: "host mx.example.com[192.0.2.1] said: 450 4.2.0 ..." and "host
// mx.example.com[192.0.2.1] refused to talk to me: 421 ...".
var replyMarkers = []string{" said: ", " refused to talk to me: "}

// findReplyCode returns the remote server's reply within text, and its
// three-digit reply code, or 0 when the reply does not start with one. A
// text without a reply marker is a reply when it starts with a reply code.
func findReplyCode(text string) (code int, reply string, found bool) {
	for _, marker := range replyMarkers {
		if _, after, ok := strings.Cut(text, marker); ok {
			return replyCode(after), after, true
		}
	}
	if code := replyCode(text); code != 0 {
		return code, text, true
	}
	return 0, "", false
}

// replyCode returns the SMTP reply code (RFC 5321) that starts text, "450 "
// or "450-" or a bare "450", or 0 when text does not start with a code of
// class 2, 4 or 5.
func replyCode(text string) int {
	if len(text) < 3 || !isClass(text[0]) || !isDigit(text[1]) || !isDigit(text[2]) {
		return 0
	}
	if len(text) > 3 && text[3] != ' ' && text[3] != '-' {
		return 0
	}
	code, _ := strconv.Atoi(text[:3])
	return code
}

// Limits of the enhanced status code syntax of RFC 3463: class "." subject
// "." detail, with a subject and detail of one to three digits.
const maxCodeDigits = 3

// findDSN returns the first enhanced status code in text, normalized without
// leading zeros ("4.07.01" becomes "4.7.1"), or "" when there is none. A code
// counts only as a whole token: the numbers of an IPv4 address such as
// 10.4.4.1 or of a version such as 3.5.2.1 are not codes.
func findDSN(text string) string {
	for i := 0; i+5 <= len(text); i++ {
		if !isClass(text[i]) || text[i+1] != '.' {
			continue
		}
		if i > 0 && (isAlphanumeric(text[i-1]) || text[i-1] == '.') {
			continue
		}
		subject, n := digits(text[i+2:])
		if n == 0 || i+2+n >= len(text) || text[i+2+n] != '.' {
			continue
		}
		detailStart := i + 3 + n
		detail, m := digits(text[detailStart:])
		if m == 0 {
			continue
		}
		end := detailStart + m
		if end < len(text) && (isAlphanumeric(text[end]) || text[end] == '.' && end+1 < len(text) && isDigit(text[end+1])) {
			continue
		}
		return string(text[i]) + "." + strconv.Itoa(subject) + "." + strconv.Itoa(detail)
	}
	return ""
}

// codePrefix returns the first word of text, where an enhanced status code
// sits in a reply that carries one.
func codePrefix(text string) string {
	if end := strings.IndexByte(text, ' '); end >= 0 {
		return text[:end]
	}
	return text
}

// digits parses the one to three digits that start text and returns their
// value and count, or a count of 0 when text does not start with one to
// three digits followed by a non-digit.
func digits(text string) (value, count int) {
	for count < len(text) && isDigit(text[count]) {
		if count == maxCodeDigits {
			return 0, 0
		}
		value = value*10 + int(text[count]-'0')
		count++
	}
	return value, count
}

func isClass(c byte) bool {
	return c == '2' || c == '4' || c == '5'
}
