package reason

import "strings"

// Wordings matched in lower case. They cover the delay reasons that Postfix
// 3.x writes itself and common replies of remote servers: greylisting
// filters, large mailbox providers, and Postfix's smtpd.
var (
	refusedTexts = []string{
		"connection refused",
		"no route to host",
		"network is unreachable",
	}
	dnsTexts = []string{
		"host or domain name not found",
		"name service error",
		"host not found",
		"unable to look up host",
		"name or service not known",
		"temporary failure in name resolution",
		"no mx host for",
		"has no mx record",
	}
	transportUnavailableTexts = []string{
		"mail transport unavailable",
		"unknown mail transport error",
	}
	greylistTexts = []string{
		"greylist", "graylist", "grey-list", "gray-list", "grey list", "gray list",
	}
	retryLaterTexts = []string{
		"try again later", "try later", "retry later", "come back later",
		"try again in ", "please come back",
	}
	rateLimitTexts = []string{
		"too many connections",
		"too many concurrent",
		"too many messages",
		"too many mails",
		"too many recipients",
		"too many sessions",
		"rate limit", "ratelimit", "rate-limit",
		"rate exceeded", "unusual rate", "at a rate", "sending rate",
		"message rate", "connection rate",
		"throttl", "server busy",
	}
	mailboxFullTexts = []string{
		"mailbox full", "mailbox is full", "full mailbox",
		"quota", "exceeded storage allocation",
	}
	contentWords = []string{
		"spam", "virus", "malware", "phishing", "infected",
	}
	contentTexts = []string{
		"content", "unsolicited", "suspicious",
	}
	tlsWords = []string{
		"tls", "starttls", "tlsa", "ssl", "certificate",
	}
)

func containsAny(text string, subs []string) bool {
	for _, sub := range subs {
		if strings.Contains(text, sub) {
			return true
		}
	}
	return false
}

func isTLS(text string) bool {
	return containsAnyWord(text, tlsWords)
}

func isContent(text string) bool {
	return containsAnyWord(text, contentWords) || containsAny(text, contentTexts)
}

func containsAnyWord(text string, words []string) bool {
	for _, word := range words {
		if containsWord(text, word) {
			return true
		}
	}
	return false
}

// containsWord reports whether word occurs in text as a word of its own:
// not inside a longer word, a host name or an address. So "spam" matches
// "classified as spam." but not "spamhaus.org", and "tls" does not match
// "tls.example.com".
func containsWord(text, word string) bool {
	for start := 0; ; {
		i := strings.Index(text[start:], word)
		if i < 0 {
			return false
		}
		i += start
		end := i + len(word)
		if !isNamePart(text, i-1) && !isNameContinuation(text, end) {
			return true
		}
		start = i + 1
	}
}

// isNamePart reports whether the byte at i belongs to a word, host name or
// address that the byte after it continues.
func isNamePart(text string, i int) bool {
	if i < 0 {
		return false
	}
	c := text[i]
	return isAlphanumeric(c) || c == '.' || c == '-' || c == '_' || c == '@'
}

// isNameContinuation reports whether the text at i continues the word before
// it: a letter or digit, or a dot, hyphen or at sign followed by one.
func isNameContinuation(text string, i int) bool {
	if i >= len(text) {
		return false
	}
	c := text[i]
	if isAlphanumeric(c) || c == '_' {
		return true
	}
	if c == '.' || c == '-' || c == '@' {
		return i+1 < len(text) && isAlphanumeric(text[i+1])
	}
	return false
}

func isAlphanumeric(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

func isDigit(c byte) bool {
	return c >= '0' && c <= '9'
}

// asciiLower lower-cases ASCII letters only, so byte offsets stay valid and
// non-ASCII text is left as it is.
func asciiLower(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if c := b[j]; c >= 'A' && c <= 'Z' {
					b[j] = c + 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}
