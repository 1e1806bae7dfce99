package webapi

import (
	"strings"
	"testing"
)

// hostile lists values that neither a site nor a queue ID may be: option
// injection, shell syntax, path tricks, control characters, non-ASCII and
// oversized input.
var hostile = []string{
	"",
	"-x",
	"-f",
	"--help",
	"$(id)",
	"`id`",
	"a;b",
	"a|b",
	"a&b",
	"a>b",
	"a b",
	"a\tb",
	"example.com\n",
	"example.com\nINJECTED",
	"example.com\r",
	"..",
	"../../etc/passwd",
	"a\x00b",
	"\x00",
	"exämple.com",
	"例え.jp",
	"example.com\u200b",
	strings.Repeat("A", 10*1024),
	strings.Repeat("a.", 5*1024) + "com",
	"*",
	"'quoted'",
	"\"quoted\"",
	"a\\b",
}

func TestValidQueueID(t *testing.T) {
	tests := []struct {
		id   string
		want bool
	}{
		// Short IDs: five hex digits of microseconds, then the hex inode.
		{"0D59BB8240", true},
		{"4B3C21C0F5", true},
		{"ABCDE1", true},
		{"ABCDEF0123456789ABCDE", true},
		{"ABCDE", false},                  // no inode digit
		{"ABCDEF0123456789ABCDEF", false}, // longer than a 64-bit inode allows
		{"0d59bb8240", false},             // lower case
		{"9DJF64JS935J", false},           // J and S are not hex
		// Long IDs: base-52 time, 'z', base-51 inode.
		{"4jgvV56dbhz5g2P", true},
		{"4TkXqB2Yc5z9sB0", true},
		{"49Mdqs22btz3wWJZ", true},
		{"zzzzzzzzzzz1", true},      // 'z' is a base-52 digit of the time
		{"4jgvV56dbhz", false},      // no inode
		{"4jgvV56dbz5g2P", false},   // time part shorter than 10
		{"4jgvV56dbhz5g2Pz", false}, // nothing after the last 'z'
		{"4jgvV56dbhz5g2A", false},  // vowel
		{"4jgvV56dbhz5g2e", false},  // vowel
		{"4jgvV56dbh_5g2P", false},
		{"4jgvV56dbhz" + strings.Repeat("1", 13), false}, // inode longer than 12
		{strings.Repeat("1", 17) + "z1", false},          // time longer than 16
		{"ALL", false},                                   // postsuper keyword, not an ID
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			if got := ValidQueueID(tt.id); got != tt.want {
				t.Errorf("ValidQueueID(%q) = %v, want %v", tt.id, got, tt.want)
			}
		})
	}
}

func TestValidQueueIDHostile(t *testing.T) {
	for _, id := range hostile {
		if ValidQueueID(id) {
			t.Errorf("ValidQueueID(%q) = true, want false", id)
		}
	}
}

func TestValidSite(t *testing.T) {
	tests := []struct {
		site string
		want bool
	}{
		{"flush.example.test", true},
		{"example.com", true},
		{"EXAMPLE.COM", true},
		{"localhost", true},
		{"a.b-c.d", true},
		{"xn--bcher-kva.example", true},
		{"3com.example", true},
		{"example.123a", true},
		{strings.Repeat("a", 63) + ".com", true},
		{strings.Repeat(strings.Repeat("a", 62)+".", 4) + "b", true}, // 253 characters
		{"[127.0.0.1]", true},
		{"[192.0.2.1]", true},
		{"[ipv6:2001:db8::1]", true},
		{"[IPv6:::1]", true},
		{"[IPV6:2001:db8::1]", true},
		{strings.Repeat("a", 64) + ".com", false},                      // label over 63
		{strings.Repeat(strings.Repeat("a", 62)+".", 4) + "bc", false}, // 254 characters
		{"example.com.", false},
		{".example.com", false},
		{"example..com", false},
		{"-example.com", false},
		{"example-.com", false},
		{"exa_mple.com", false},
		{"127.0.0.1", false},
		{"1.2.3.4.5", false},
		{"[127.0.0.1", false},
		{"127.0.0.1]", false},
		{"[]", false},
		{"[ipv6:]", false},
		{"[256.0.0.1]", false},
		{"[2001:db8::1]", false},       // IPv6 needs the ipv6: prefix
		{"[ipv6:127.0.0.1]", false},    // IPv4 with the IPv6 prefix
		{"[ipv6:fe80::1%eth0]", false}, // zone
		{"[example.com]", false},
		{"[127.0.0.1]x", false},
		{"[ 127.0.0.1]", false},
	}
	for _, tt := range tests {
		t.Run(tt.site, func(t *testing.T) {
			if got := ValidSite(tt.site); got != tt.want {
				t.Errorf("ValidSite(%q) = %v, want %v", tt.site, got, tt.want)
			}
		})
	}
}

func TestValidSiteHostile(t *testing.T) {
	for _, site := range hostile {
		if ValidSite(site) {
			t.Errorf("ValidSite(%q) = true, want false", site)
		}
	}
}
