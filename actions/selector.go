package actions

import (
	"fmt"
	"strings"
	"time"

	"github.com/postfix-queue-exporter/postfix_queue_exporter/parser"
	"github.com/postfix-queue-exporter/postfix_queue_exporter/reason"
)

// DefaultNullSender is the name queue listings give the null sender: the
// default value of Postfix's empty_address_recipient setting.
const DefaultNullSender = "MAILER-DAEMON"

// maxPatternLength bounds sender, recipient and reason_contains values. An
// address is at most 254 octets in SMTP (RFC 5321 section 4.5.3.1 and its
// errata), so longer values cannot match anything.
const maxPatternLength = 1024

// Selector picks messages from a queue listing. Every field that is set must
// match (AND). A zero Selector matches nothing: All must be set to select
// every message.
type Selector struct {
	All            bool
	Queue          string        // "" for any queue
	Sender         *Address      // nil for any sender
	Recipient      *Address      // nil for any recipient; else one recipient must match
	OlderThan      time.Duration // 0 for no bound; else the age must be at least this
	YoungerThan    time.Duration // 0 for no bound; else the age must be less than this
	MinSize        int64         // -1 for no bound; sizes are in bytes, bounds inclusive
	MaxSize        int64         // -1 for no bound
	ReasonCategory string        // "" for any; else one recipient's delay reason must be in it
	ReasonContains string        // "" for any; else one recipient's delay reason must contain it, ignoring ASCII case
}

// Address matches envelope addresses. The domain compares without regard to
// case, and the local part exactly, because RFC 5321 section 2.4 lets the
// receiving host treat local parts as case-sensitive.
type Address struct {
	Null   bool   // the null sender, listed as NullSender
	Domain string // the part after the last "@"; "" for an address without one
	Local  string // the part before it; "" with Domain set matches any local part
	Any    bool   // "@domain": any local part
}

// ParseAddress reads a sender or recipient value: an exact address, "@domain"
// for every address in that domain (not its subdomains), or "" for the null
// sender when nullAllowed is set. nullSender is the name that listings give
// the null sender, which is rejected as ambiguous.
func ParseAddress(s string, nullAllowed bool, nullSender string) (*Address, error) {
	switch {
	case s == "":
		if !nullAllowed {
			return nil, fmt.Errorf("is empty: give an address or @domain")
		}
		return &Address{Null: true}, nil
	case len(s) > maxPatternLength:
		return nil, fmt.Errorf("is %d bytes long, more than the maximum of %d", len(s), maxPatternLength)
	case hasControl(s):
		return nil, fmt.Errorf("%q contains a control character", s)
	case nullAllowed && strings.EqualFold(s, nullSender):
		return nil, fmt.Errorf("%q is how listings print the null sender: select the null sender with \"\"", s)
	}

	if domain, ok := strings.CutPrefix(s, "@"); ok {
		switch {
		case domain == "":
			return nil, fmt.Errorf("%q has no domain after the @", s)
		case strings.Contains(domain, "@"):
			return nil, fmt.Errorf("%q is not an @domain pattern: the domain contains an @", s)
		}
		return &Address{Domain: domain, Any: true}, nil
	}

	at := strings.LastIndexByte(s, '@')
	if at < 0 {
		// A local name such as "root", as listed for mail submitted
		// with sendmail while Postfix is stopped.
		return &Address{Local: s}, nil
	}
	if at == len(s)-1 {
		return nil, fmt.Errorf("%q has no domain after the @", s)
	}
	// The last @ separates the domain: a quoted local part may hold one.
	return &Address{Local: s[:at], Domain: s[at+1:]}, nil
}

// Match reports whether the address as listed matches a. nullSender is the
// listed name of the null sender.
func (a *Address) Match(listed, nullSender string) bool {
	if a.Null {
		return listed == nullSender
	}
	at := strings.LastIndexByte(listed, '@')
	if at < 0 {
		return a.Domain == "" && listed == a.Local
	}
	if a.Domain == "" || !strings.EqualFold(listed[at+1:], a.Domain) {
		return false
	}
	return a.Any || listed[:at] == a.Local
}

// String returns the value the address was parsed from.
func (a *Address) String() string {
	switch {
	case a.Null:
		return ""
	case a.Domain == "":
		return a.Local
	}
	return a.Local + "@" + a.Domain
}

// Match reports whether m is selected. now is the time ages are taken from;
// a message that arrived after now has age 0. nullSender is the listed name
// of the null sender.
func (s *Selector) Match(m *parser.Message, now time.Time, nullSender string) bool {
	if !s.matchMessage(m, now, nullSender) || !s.matchRecipients(m, nullSender) {
		return false
	}
	// A selector with no field set matches nothing unless it is All.
	return s.All || s.hasFilter()
}

// matchMessage checks the fields that describe the message as a whole.
func (s *Selector) matchMessage(m *parser.Message, now time.Time, nullSender string) bool {
	if s.Queue != "" && m.Queue != s.Queue {
		return false
	}
	if s.Sender != nil && !s.Sender.Match(m.Sender, nullSender) {
		return false
	}

	age := max(now.Sub(m.ArrivalTime), 0)
	if s.OlderThan > 0 && age < s.OlderThan {
		return false
	}
	if s.YoungerThan > 0 && age >= s.YoungerThan {
		return false
	}
	if s.MinSize >= 0 && m.Size < s.MinSize {
		return false
	}
	if s.MaxSize >= 0 && m.Size > s.MaxSize {
		return false
	}
	return true
}

// matchRecipients checks the fields that some recipient must match. Each
// field may be matched by a different recipient.
func (s *Selector) matchRecipients(m *parser.Message, nullSender string) bool {
	if s.Recipient != nil && !anyRecipient(m, func(r *parser.Recipient) bool {
		return s.Recipient.Match(r.Address, nullSender)
	}) {
		return false
	}
	if s.ReasonCategory != "" && !anyRecipient(m, func(r *parser.Recipient) bool {
		if r.DelayReason == "" {
			return false
		}
		category, _ := reason.Classify(r.DelayReason)
		return category == s.ReasonCategory
	}) {
		return false
	}
	if s.ReasonContains != "" && !anyRecipient(m, func(r *parser.Recipient) bool {
		return containsFold(r.DelayReason, s.ReasonContains)
	}) {
		return false
	}
	return true
}

func (s *Selector) hasFilter() bool {
	return s.Queue != "" || s.Sender != nil || s.Recipient != nil || s.OlderThan > 0 || s.YoungerThan > 0 ||
		s.MinSize >= 0 || s.MaxSize >= 0 || s.ReasonCategory != "" || s.ReasonContains != ""
}

func anyRecipient(m *parser.Message, match func(*parser.Recipient) bool) bool {
	for i := range m.Recipients {
		if match(&m.Recipients[i]) {
			return true
		}
	}
	return false
}

// containsFold reports whether substr is in s, ignoring the case of ASCII
// letters. Delay reasons quote remote servers, whose capitalisation varies.
func containsFold(s, substr string) bool {
	return strings.Contains(asciiLower(s), asciiLower(substr))
}

func asciiLower(s string) string {
	return strings.Map(func(r rune) rune {
		if 'A' <= r && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return r
	}, s)
}

func hasControl(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] == 0x7f {
			return true
		}
	}
	return false
}
