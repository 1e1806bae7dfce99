// Package reason sorts Postfix delay reasons, the text that `postqueue -j`
// reports as delay_reason and `postqueue -p` prints in parentheses, into a
// small fixed set of categories, and extracts the enhanced status code
// (RFC 3463) that a reason carries.
package reason

import "strings"

// Categories of delay reasons. The values are Prometheus label values and
// part of the exporter's interface.
const (
	ConnectionRefused    = "connection_refused"
	ConnectionTimedOut   = "connection_timed_out"
	DNS                  = "dns"
	TLS                  = "tls"
	LostConnection       = "lost_connection"
	TransportUnavailable = "transport_unavailable"
	DeferredTransport    = "deferred_transport"
	RateLimited          = "rate_limited"
	Greylisted           = "greylisted"
	MailboxFull          = "mailbox_full"
	ContentRejected      = "content_rejected"
	Remote4xx            = "remote_4xx"
	Remote5xx            = "remote_5xx"
	Other                = "other"
)

// Categories lists every category Classify returns, in a fixed order.
var Categories = []string{
	ConnectionRefused, ConnectionTimedOut, DNS, TLS, LostConnection,
	TransportUnavailable, DeferredTransport, RateLimited, Greylisted,
	MailboxFull, ContentRejected, Remote4xx, Remote5xx, Other,
}

// suspendedPrefix starts the reason Postfix records for the other recipients
// of a destination that it has given up on for now. The failure that caused
// it follows the prefix.
const suspendedPrefix = "delivery temporarily suspended: "

// Classify returns the category of a delay reason and the enhanced status
// code it carries, such as "4.7.1", or "" when it carries none. Text that no
// rule matches, the empty string included, is Other. Classify is a pure
// function of text: the same text always gets the same result.
func Classify(text string) (category, dsn string) {
	lower := asciiLower(strings.TrimSpace(text))
	for strings.HasPrefix(lower, suspendedPrefix) {
		lower = strings.TrimSpace(lower[len(suspendedPrefix):])
	}

	code, reply, isReply := findReplyCode(lower)
	switch {
	case isReply && code != 0:
		// RFC 2034: the enhanced code starts the text of the reply line.
		dsn = findDSN(codePrefix(reply[min(len(reply), len("450 ")):]))
	case isReply:
		dsn = findDSN(reply)
	default:
		dsn = findDSN(lower)
	}

	if isReply {
		return classifyReply(code, reply, dsn), dsn
	}
	return classifyLocal(lower, dsn), dsn
}

// classifyReply sorts the reply of a remote SMTP or LMTP server by its
// wording first, then by its reply code.
func classifyReply(code int, reply, dsn string) string {
	switch {
	case isTLS(reply):
		return TLS
	case containsAny(reply, greylistTexts):
		return Greylisted
	case containsAny(reply, rateLimitTexts):
		return RateLimited
	case containsAny(reply, mailboxFullTexts) || dsnSubject(dsn) == "2.2":
		return MailboxFull
	case isContent(reply) || strings.HasPrefix(dsnSubject(dsn), "6."):
		return ContentRejected
	case code/100 == 4 && containsAny(reply, retryLaterTexts):
		// Greylisting servers that do not name it ask to try again later.
		return Greylisted
	case code/100 == 4:
		return Remote4xx
	case code/100 == 5:
		return Remote5xx
	}
	return Other
}

// classifyLocal sorts reasons worded by Postfix itself: failures to connect
// or to converse, name lookups, and the state of its own transports. The
// checks for the fixed sentence starts come first, because the host names
// that follow them could contain any keyword.
func classifyLocal(text, dsn string) string {
	switch {
	case strings.HasPrefix(text, "connect to "):
		return classifyConnect(text)
	case strings.HasPrefix(text, "lost connection with "):
		return LostConnection
	case strings.HasPrefix(text, "conversation with ") && strings.Contains(text, "timed out"):
		return ConnectionTimedOut
	case containsAny(text, dnsTexts):
		return DNS
	case isTLS(text):
		return TLS
	case containsAny(text, transportUnavailableTexts):
		return TransportUnavailable
	case text == "deferred transport":
		return DeferredTransport
	case containsAny(text, rateLimitTexts):
		return RateLimited
	case strings.Contains(text, "connection reset"):
		return LostConnection
	case strings.Contains(text, "timed out"):
		return ConnectionTimedOut
	case dsnSubject(dsn) == "2.2":
		return MailboxFull
	}
	return Other
}

// classifyConnect sorts "connect to HOST[ADDR]:PORT: ERROR" by its error.
func classifyConnect(text string) string {
	_, cause, found := strings.Cut(text, "]:")
	if !found {
		cause = text
	}
	switch {
	case containsAny(cause, refusedTexts):
		return ConnectionRefused
	case strings.Contains(cause, "timed out"):
		return ConnectionTimedOut
	case strings.Contains(cause, "connection reset"):
		return LostConnection
	case containsAny(cause, dnsTexts):
		return DNS
	}
	return Other
}

// dsnSubject returns the subject and detail of an enhanced status code
// ("2.2" of "4.2.2"), or "" for no code.
func dsnSubject(dsn string) string {
	_, rest, found := strings.Cut(dsn, ".")
	if !found {
		return ""
	}
	return rest
}
