package queue

import (
	"strings"
	"unicode/utf8"
	"unsafe"

	"golang.org/x/net/idna"
)

// Domain label values that are not recipient domains.
const (
	// OtherDomain sums up the recipients of every domain outside the top.
	OtherDomain = "other"
	// NoDomain is the domain of an address without "@", such as a bare
	// login listed from the maildrop queue.
	NoDomain = "(none)"
	// InvalidDomain is the domain of an address whose domain is longer than
	// a domain name can be, or is not valid UTF-8.
	InvalidDomain = "(invalid)"
)

// maxDomainLength is the longest domain name, in bytes, that DNS allows in
// text form (RFC 1035: 255 octets on the wire).
const maxDomainLength = 253

// domainOf returns the normalized recipient domain of address:
//
//   - the text after the last "@", so a quoted local part that contains "@"
//     ("\"a@b\"@example.com") is handled;
//   - ASCII letters lower-cased and a trailing dot removed;
//   - an internationalized domain converted to its A-label (xn--) form, or
//     lower-cased when it is not a valid IDN;
//   - an address literal ("[192.0.2.1]", "[IPv6:2001:db8::1]") kept as it is;
//   - NoDomain when there is no "@" or nothing follows it, and InvalidDomain
//     for a domain longer than 253 bytes or not valid UTF-8;
//   - "other." for a domain named "other", so that it stays apart from
//     OtherDomain: with the trailing dot it is the same DNS name.
//
// scratch is reused for lower-casing. The result may be a substring of
// address or alias scratch: copy it before keeping it.
func domainOf(address string, scratch *[]byte) string {
	at := strings.LastIndexByte(address, '@')
	if at < 0 || at == len(address)-1 {
		return NoDomain
	}
	domain := address[at+1:]
	if domain[0] == '[' {
		return domain
	}
	domain = strings.TrimRight(domain, ".")
	if domain == "" {
		return NoDomain
	}

	lower, ascii := true, true
	for i := 0; i < len(domain); i++ {
		c := domain[i]
		if c >= utf8.RuneSelf {
			ascii = false
			break
		}
		if c >= 'A' && c <= 'Z' {
			lower = false
		}
	}
	switch {
	case !ascii:
		domain = idnDomain(domain)
	case !lower:
		buf := (*scratch)[:0]
		for i := 0; i < len(domain); i++ {
			c := domain[i]
			if c >= 'A' && c <= 'Z' {
				c += 'a' - 'A'
			}
			buf = append(buf, c)
		}
		*scratch = buf
		// A view of scratch, valid until the next call: looking it up in a
		// map costs no allocation, and the table copies the keys it keeps.
		domain = unsafe.String(unsafe.SliceData(buf), len(buf))
	}

	if len(domain) > maxDomainLength {
		return InvalidDomain
	}
	if domain == OtherDomain {
		return OtherDomain + "."
	}
	return domain
}

// idnDomain converts an internationalized domain to A-labels, with the
// mapping that DNS lookups use (UTS #46). A domain that is not a valid IDN is
// lower-cased as it is.
func idnDomain(domain string) string {
	if !utf8.ValidString(domain) {
		return InvalidDomain
	}
	ascii, err := idna.Lookup.ToASCII(domain)
	if err != nil {
		return strings.ToLower(domain)
	}
	return ascii
}
