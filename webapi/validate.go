package webapi

import (
	"net/netip"
	"strings"
)

// Queue ID lengths, from Postfix's mail_queue.h.
//
// A short ID is the microseconds of the arrival time as five upper-case hex
// digits followed by the queue file's inode number in hex: 6 to 21
// characters for a 64-bit inode.
//
// A long ID (enable_long_queue_ids = yes) is the arrival time's seconds in
// base 52 (six or more digits, at most 12 for a 64-bit time), its
// microseconds in base 52 (exactly four digits), the separator 'z' and the
// inode number in base 51 (1 to 12 digits), which has no 'z'.
const (
	shortIDMinLen  = 5 + 1
	shortIDMaxLen  = 5 + 16
	longTimeMinLen = 6 + 4
	longTimeMaxLen = 12 + 4
	longInodeMax   = 12
)

// longIDAlphabet is Postfix's base-52 alphabet for long queue IDs: digits
// and the consonants in both cases, so that no word can be spelled. The
// base-51 inode part uses all but the last character, 'z'.
const longIDAlphabet = "0123456789BCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz"

// ValidQueueID reports whether s has the form of a Postfix short or long
// queue ID. It checks the form only: the message may not exist.
func ValidQueueID(s string) bool {
	return validShortQueueID(s) || validLongQueueID(s)
}

func validShortQueueID(s string) bool {
	if len(s) < shortIDMinLen || len(s) > shortIDMaxLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

func validLongQueueID(s string) bool {
	sep := strings.LastIndexByte(s, 'z')
	if sep < longTimeMinLen || sep > longTimeMaxLen {
		return false
	}
	timePart, inodePart := s[:sep], s[sep+1:]
	if len(inodePart) < 1 || len(inodePart) > longInodeMax {
		return false
	}
	for i := 0; i < len(timePart); i++ {
		if strings.IndexByte(longIDAlphabet, timePart[i]) < 0 {
			return false
		}
	}
	// inodePart has no 'z', because sep is the last one.
	for i := 0; i < len(inodePart); i++ {
		if strings.IndexByte(longIDAlphabet, inodePart[i]) < 0 {
			return false
		}
	}
	return true
}

// maxDomainLength is the longest domain name in text form without the
// trailing dot: 255 octets on the wire (RFC 1035 section 2.3.4) less the
// length octets.
const maxDomainLength = 253

// ValidSite reports whether s is a destination that `postqueue -s` may be
// given: a domain name, or an address literal in brackets such as
// [192.0.2.1] or [ipv6:2001:db8::1] (the IPv6 prefix in any case).
//
// A domain name has at most 253 characters in dot-separated labels of 1 to
// 63 letters, digits and hyphens, with no hyphen at either end of a label
// (RFC 1035 and RFC 1123). The last label must not be all digits, so that
// an address without brackets is rejected. IDNA A-labels (xn--...) pass,
// while U-labels and other non-ASCII text, a trailing dot, whitespace,
// control characters and shell metacharacters do not.
func ValidSite(s string) bool {
	if strings.HasPrefix(s, "[") {
		return validAddressLiteral(s)
	}
	return validDomain(s)
}

func validAddressLiteral(s string) bool {
	if len(s) < 3 || s[len(s)-1] != ']' {
		return false
	}
	inner := s[1 : len(s)-1]
	want4 := true
	if len(inner) >= 5 && strings.EqualFold(inner[:5], "ipv6:") {
		inner, want4 = inner[5:], false
	}
	addr, err := netip.ParseAddr(inner)
	if err != nil || addr.Zone() != "" {
		return false
	}
	if want4 {
		return addr.Is4()
	}
	return addr.Is6()
}

func validDomain(s string) bool {
	if s == "" || len(s) > maxDomainLength {
		return false
	}
	labels := strings.Split(s, ".")
	for _, label := range labels {
		if !validLabel(label) {
			return false
		}
	}
	return !allDigits(labels[len(labels)-1])
}

func validLabel(label string) bool {
	if len(label) < 1 || len(label) > 63 {
		return false
	}
	if label[0] == '-' || label[len(label)-1] == '-' {
		return false
	}
	for i := 0; i < len(label); i++ {
		c := label[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
