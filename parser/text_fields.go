package parser

import "bytes"

// isReasonLine reports whether line, after any indent, starts with "(".
// Recipient addresses never do, because Postfix quotes a local part that
// contains "(".
func isReasonLine(line []byte) bool {
	text := bytes.TrimLeft(line, " \t")
	return len(text) > 0 && text[0] == '('
}

// isTextHeader reports whether line is one of the `postqueue -p` headers,
// for short or long queue IDs, ignoring the number of blanks and dashes:
//
//	-Queue ID-  --Size-- ----Arrival Time---- -Sender/Recipient-------
//	----Queue ID----- --Size-- ---Arrival Time---- --Sender/Recipient------
func isTextHeader(line []byte) bool {
	words := []string{"Queue", "ID", "Size", "Arrival", "Time", "Sender/Recipient"}
	rest := string(line)
	for _, word := range words {
		var field string
		field, rest = nextField(rest)
		trimmed := trimDashes(field)
		if trimmed != word || len(trimmed) == len(field) {
			return false
		}
	}
	return trimSpace(rest) == ""
}

func isEmptyQueueLine(line []byte) bool {
	return trimSpace(string(line)) == "Mail queue is empty"
}

// nextField returns the first blank-separated field of text and the text
// after it.
func nextField(text string) (field, rest string) {
	start := 0
	for start < len(text) && isSpace(text[start]) {
		start++
	}
	end := start
	for end < len(text) && !isSpace(text[end]) {
		end++
	}
	return text[start:end], text[end:]
}

func trimSpace(text string) string {
	start, end := 0, len(text)
	for start < end && isSpace(text[start]) {
		start++
	}
	for end > start && isSpace(text[end-1]) {
		end--
	}
	return text[start:end]
}

func trimDashes(text string) string {
	start, end := 0, len(text)
	for start < end && text[start] == '-' {
		start++
	}
	for end > start && text[end-1] == '-' {
		end--
	}
	return text[start:end]
}

// cutAffixes returns text without prefix and suffix, and whether it had
// both.
func cutAffixes(text, prefix, suffix string) (string, bool) {
	if len(text) < len(prefix)+len(suffix) || text[:len(prefix)] != prefix ||
		text[len(text)-len(suffix):] != suffix {
		return "", false
	}
	return text[len(prefix) : len(text)-len(suffix)], true
}

func isDigits(text string) bool {
	if text == "" {
		return false
	}
	for i := 0; i < len(text); i++ {
		if !isDigit(text[i]) {
			return false
		}
	}
	return true
}

func isAlphanumeric(c byte) bool {
	return isDigit(c) || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}
