package actions

import (
	"strings"
	"testing"
	"time"

	"github.com/postfix-queue-exporter/postfix_queue_exporter/parser"
)

var testNow = time.Date(2026, 12, 4, 15, 0, 0, 0, time.UTC)

const (
	refusedReason  = "connect to 127.0.0.1[127.0.0.1]:2525: Connection refused"
	tempfailReason = "host 127.0.0.1[127.0.0.1] said: 450 4.3.0 Error: command failed (in reply to RCPT TO command)"
)

// testMessage is a deferred message from alice@Example.ORG to
// bob@example.net and Carol@Example.COM, 3 hours old and 2,000 bytes, with
// the delay reasons of the lab's refused and tempfail destinations.
func testMessage() *parser.Message {
	return &parser.Message{
		Queue:       parser.QueueDeferred,
		ID:          "4jgvV55S19z5g1Y",
		ArrivalTime: testNow.Add(-3 * time.Hour),
		Size:        2000,
		Sender:      "alice@Example.ORG",
		Recipients: []parser.Recipient{
			{Address: "bob@example.net", DelayReason: refusedReason},
			{Address: "Carol@Example.COM", DelayReason: tempfailReason},
		},
	}
}

func mustAddress(t *testing.T, s string, nullAllowed bool) *Address {
	t.Helper()
	a, err := ParseAddress(s, nullAllowed, DefaultNullSender)
	if err != nil {
		t.Fatalf("ParseAddress(%q): %v", s, err)
	}
	return a
}

func TestSelectorMatch(t *testing.T) {
	tests := []struct {
		name     string
		selector func(t *testing.T) Selector
		message  func(m *parser.Message)
		want     bool
	}{
		{"zero selector", func(*testing.T) Selector { return Selector{MinSize: -1, MaxSize: -1} }, nil, false},
		{"all", func(*testing.T) Selector { return Selector{All: true, MinSize: -1, MaxSize: -1} }, nil, true},

		{"queue same", sel(func(s *Selector) { s.Queue = "deferred" }), nil, true},
		{"queue other", sel(func(s *Selector) { s.Queue = "hold" }), nil, false},

		{"sender exact", selAddr("sender", "alice@Example.ORG"), nil, true},
		{"sender domain case", selAddr("sender", "alice@example.org"), nil, true},
		{"sender local case", selAddr("sender", "Alice@example.org"), nil, false},
		{"sender other", selAddr("sender", "bob@example.org"), nil, false},
		{"sender at domain", selAddr("sender", "@EXAMPLE.org"), nil, true},
		{"sender at subdomain", selAddr("sender", "@mail.example.org"), nil, false},
		{"sender at parent", selAddr("sender", "@org"), nil, false},
		{"sender null vs address", selAddr("sender", ""), nil, false},
		{"sender null vs listed null", selAddr("sender", ""),
			func(m *parser.Message) { m.Sender = DefaultNullSender }, true},
		{"sender address vs listed null", selAddr("sender", "alice@example.org"),
			func(m *parser.Message) { m.Sender = DefaultNullSender }, false},
		{"sender at domain vs listed null", selAddr("sender", "@example.org"),
			func(m *parser.Message) { m.Sender = DefaultNullSender }, false},
		{"sender local name", selAddr("sender", "root"),
			func(m *parser.Message) { m.Sender = "root" }, true},
		{"sender local name vs address", selAddr("sender", "alice"), nil, false},
		{"sender quoted local part", selAddr("sender", `"john doe"@example.org`),
			func(m *parser.Message) { m.Sender = `"john doe"@EXAMPLE.org` }, true},
		{"sender at in quoted local part", selAddr("sender", `"a@b"@example.org`),
			func(m *parser.Message) { m.Sender = `"a@b"@example.org` }, true},

		{"recipient first", selAddr("recipient", "bob@example.net"), nil, true},
		{"recipient second", selAddr("recipient", "Carol@example.com"), nil, true},
		{"recipient local case", selAddr("recipient", "carol@example.com"), nil, false},
		{"recipient at domain", selAddr("recipient", "@example.COM"), nil, true},
		{"recipient at other domain", selAddr("recipient", "@example.org"), nil, false},
		{"recipient none", selAddr("recipient", "@example.net"),
			func(m *parser.Message) { m.Recipients = nil }, false},

		{"older than match", sel(func(s *Selector) { s.OlderThan = 2 * time.Hour }), nil, true},
		{"older than boundary", sel(func(s *Selector) { s.OlderThan = 3 * time.Hour }), nil, true},
		{"older than too young", sel(func(s *Selector) { s.OlderThan = 3*time.Hour + time.Second }), nil, false},
		{"younger than match", sel(func(s *Selector) { s.YoungerThan = 4 * time.Hour }), nil, true},
		{"younger than boundary", sel(func(s *Selector) { s.YoungerThan = 3 * time.Hour }), nil, false},
		{"younger than future arrival", sel(func(s *Selector) { s.YoungerThan = time.Second }),
			func(m *parser.Message) { m.ArrivalTime = testNow.Add(time.Hour) }, true},
		{"older than future arrival", sel(func(s *Selector) { s.OlderThan = time.Second }),
			func(m *parser.Message) { m.ArrivalTime = testNow.Add(time.Hour) }, false},
		{"age window", sel(func(s *Selector) { s.OlderThan, s.YoungerThan = 2*time.Hour, 4*time.Hour }), nil, true},

		{"min size boundary", sel(func(s *Selector) { s.MinSize = 2000 }), nil, true},
		{"min size above", sel(func(s *Selector) { s.MinSize = 2001 }), nil, false},
		{"max size boundary", sel(func(s *Selector) { s.MaxSize = 2000 }), nil, true},
		{"max size below", sel(func(s *Selector) { s.MaxSize = 1999 }), nil, false},
		{"min size zero", sel(func(s *Selector) { s.MinSize = 0 }), nil, true},

		{"category of first recipient", sel(func(s *Selector) { s.ReasonCategory = "connection_refused" }), nil, true},
		{"category of second recipient", sel(func(s *Selector) { s.ReasonCategory = "remote_4xx" }), nil, true},
		{"category absent", sel(func(s *Selector) { s.ReasonCategory = "dns" }), nil, false},
		{"category other without reason", sel(func(s *Selector) { s.ReasonCategory = "other" }),
			func(m *parser.Message) { m.Recipients = []parser.Recipient{{Address: "h1@example.net"}} }, false},

		{"reason contains", sel(func(s *Selector) { s.ReasonContains = "Connection refused" }), nil, true},
		{"reason contains case", sel(func(s *Selector) { s.ReasonContains = "CONNECTION REFUSED" }), nil, true},
		{"reason contains second", sel(func(s *Selector) { s.ReasonContains = "450 4.3.0" }), nil, true},
		{"reason contains no regexp", sel(func(s *Selector) { s.ReasonContains = "450 4.3.*" }), nil, false},
		{"reason contains absent", sel(func(s *Selector) { s.ReasonContains = "timed out" }), nil, false},

		{"and all match", func(t *testing.T) Selector {
			s := sel(func(s *Selector) {
				s.Queue, s.OlderThan, s.MaxSize, s.ReasonCategory = "deferred", time.Hour, 5000, "remote_4xx"
			})(t)
			s.Sender = mustAddress(t, "@example.org", true)
			s.Recipient = mustAddress(t, "bob@example.net", false)
			return s
		}, nil, true},
		{"and one fails", func(t *testing.T) Selector {
			s := sel(func(s *Selector) {
				s.Queue, s.OlderThan, s.MaxSize, s.ReasonCategory = "deferred", time.Hour, 5000, "remote_4xx"
			})(t)
			s.Sender = mustAddress(t, "@example.org", true)
			s.Recipient = mustAddress(t, "bob@example.com", false)
			return s
		}, nil, false},
		{"and recipient and reason on different recipients", func(t *testing.T) Selector {
			// Each field needs some recipient to match, not the same one.
			s := sel(func(s *Selector) { s.ReasonCategory = "remote_4xx" })(t)
			s.Recipient = mustAddress(t, "bob@example.net", false)
			return s
		}, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := tt.selector(t)
			m := testMessage()
			if tt.message != nil {
				tt.message(m)
			}
			if got := s.Match(m, testNow, DefaultNullSender); got != tt.want {
				t.Errorf("Match = %t, want %t", got, tt.want)
			}
		})
	}
}

// sel returns a selector with no bounds, changed by set.
func sel(set func(*Selector)) func(*testing.T) Selector {
	return func(*testing.T) Selector {
		s := Selector{MinSize: -1, MaxSize: -1}
		set(&s)
		return s
	}
}

// selAddr returns a selector on the sender or recipient value.
func selAddr(field, value string) func(*testing.T) Selector {
	return func(t *testing.T) Selector {
		s := Selector{MinSize: -1, MaxSize: -1}
		if field == "sender" {
			s.Sender = mustAddress(t, value, true)
		} else {
			s.Recipient = mustAddress(t, value, false)
		}
		return s
	}
}

func TestSelectorMatchOtherNullSender(t *testing.T) {
	// empty_address_recipient = postmaster makes listings print the null
	// sender as postmaster.
	s := Selector{Sender: &Address{Null: true}, MinSize: -1, MaxSize: -1}
	m := testMessage()
	m.Sender = "postmaster"
	if !s.Match(m, testNow, "postmaster") {
		t.Error("null sender listed as postmaster does not match")
	}
	m.Sender = DefaultNullSender
	if s.Match(m, testNow, "postmaster") {
		t.Error("MAILER-DAEMON matches the null sender although it is listed as postmaster")
	}
}

func TestParseAddressErrors(t *testing.T) {
	tests := []struct {
		name        string
		value       string
		nullAllowed bool
		want        string
	}{
		{"empty recipient", "", false, "is empty"},
		{"listed null sender", "MAILER-DAEMON", true, "select the null sender with \"\""},
		{"listed null sender lower case", "mailer-daemon", true, "select the null sender"},
		{"at only", "@", true, "has no domain"},
		{"no domain", "alice@", true, "has no domain"},
		{"two ats in pattern", "@a@example.org", true, "is not an @domain pattern"},
		{"newline", "alice@example.org\nbob@example.org", true, "control character"},
		{"nul", "alice\x00@example.org", false, "control character"},
		{"too long", strings.Repeat("a", maxPatternLength) + "@example.org", true, "more than the maximum"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseAddress(tt.value, tt.nullAllowed, DefaultNullSender)
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
		})
	}
}

func TestParseAddressForms(t *testing.T) {
	tests := []struct {
		value string
		want  Address
	}{
		{"", Address{Null: true}},
		{"alice@example.org", Address{Local: "alice", Domain: "example.org"}},
		{"@example.org", Address{Domain: "example.org", Any: true}},
		{"root", Address{Local: "root"}},
		{`"a@b"@example.org`, Address{Local: `"a@b"`, Domain: "example.org"}},
		{"MAILER-DAEMON@example.org", Address{Local: "MAILER-DAEMON", Domain: "example.org"}},
	}
	for _, tt := range tests {
		t.Run(tt.value, func(t *testing.T) {
			got, err := ParseAddress(tt.value, true, DefaultNullSender)
			if err != nil {
				t.Fatal(err)
			}
			if *got != tt.want {
				t.Errorf("ParseAddress = %+v, want %+v", *got, tt.want)
			}
			if got.String() != tt.value {
				t.Errorf("String = %q, want %q", got.String(), tt.value)
			}
		})
	}
}
