package queue

import (
	"strings"
	"testing"
)

func TestDomainOf(t *testing.T) {
	tests := []struct {
		name    string
		address string
		want    string
	}{
		{"plain", "user@example.com", "example.com"},
		{"upper case", "User@Example.COM", "example.com"},
		{"trailing dot", "user@example.com.", "example.com"},
		{"quoted local part with at", `"a@b"@example.org`, "example.org"},
		{"quoted local part with space", `"jane q"@example.net`, "example.net"},
		{"source route", "@relay.example:user@example.net", "example.net"},
		{"ipv4 literal", "user@[192.0.2.1]", "[192.0.2.1]"},
		{"ipv6 literal kept as is", "user@[IPv6:2001:DB8::1]", "[IPv6:2001:DB8::1]"},
		{"no at", "root", NoDomain},
		{"empty", "", NoDomain},
		{"nothing after at", "user@", NoDomain},
		{"only dots after at", "user@..", NoDomain},
		{"u-label", "user@bücher.example", "xn--bcher-kva.example"},
		{"u-label upper case", "user@BÜCHER.example", "xn--bcher-kva.example"},
		{"a-label", "user@xn--bcher-kva.example", "xn--bcher-kva.example"},
		{"not utf-8", "user@b\xffad.example", InvalidDomain},
		{"replaced non-ascii", "user@b?cher.example", "b?cher.example"},
		{"too long", "user@" + strings.Repeat("a", 254), InvalidDomain},
		{"longest", "user@" + strings.Repeat("a", 253), strings.Repeat("a", 253)},
		{"named other", "user@other", "other."},
		{"named other upper case", "user@OTHER.", "other."},
	}
	var scratch []byte
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := domainOf(tt.address, &scratch); got != tt.want {
				t.Errorf("domainOf(%q) = %q, want %q", tt.address, got, tt.want)
			}
		})
	}
}

func TestDomainOfAllocations(t *testing.T) {
	var scratch []byte
	for _, address := range []string{"user@example.com", "User@Example.COM"} {
		allocs := testing.AllocsPerRun(100, func() { domainOf(address, &scratch) })
		if allocs != 0 {
			t.Errorf("domainOf(%q) allocates %v times, want 0", address, allocs)
		}
	}
}
