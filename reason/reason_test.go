package reason

import (
	"bufio"
	"os"
	"slices"
	"strings"
	"testing"
)

type reasonCase struct {
	line     int
	category string
	dsn      string
	text     string
}

// readCases reads testdata/reasons.tsv: category, code ("-" for none) and
// reason text, separated by tabs.
func readCases(t *testing.T) []reasonCase {
	t.Helper()
	file, err := os.Open("testdata/reasons.tsv")
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()

	var cases []reasonCase
	scanner := bufio.NewScanner(file)
	for number := 1; scanner.Scan(); number++ {
		line := scanner.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.SplitN(line, "\t", 3)
		if len(fields) != 3 {
			t.Fatalf("reasons.tsv line %d: expected 3 tab-separated fields, got %d", number, len(fields))
		}
		dsn := fields[1]
		if dsn == "-" {
			dsn = ""
		}
		cases = append(cases, reasonCase{line: number, category: fields[0], dsn: dsn, text: fields[2]})
	}
	if err := scanner.Err(); err != nil {
		t.Fatal(err)
	}
	return cases
}

func TestClassifyRealReasons(t *testing.T) {
	cases := readCases(t)
	if len(cases) < 50 {
		t.Fatalf("read %d cases from reasons.tsv, expected at least 50", len(cases))
	}
	for _, c := range cases {
		category, dsn := Classify(c.text)
		if category != c.category {
			t.Errorf("line %d: Classify(%q) category = %q, want %q", c.line, c.text, category, c.category)
		}
		if dsn != c.dsn {
			t.Errorf("line %d: Classify(%q) dsn = %q, want %q", c.line, c.text, dsn, c.dsn)
		}
	}
}

func TestClassifyCoversEveryCategory(t *testing.T) {
	seen := make(map[string]bool)
	for _, c := range readCases(t) {
		seen[c.category] = true
	}
	for _, category := range Categories {
		if !seen[category] {
			t.Errorf("reasons.tsv has no case for category %q", category)
		}
	}
	for category := range seen {
		if !slices.Contains(Categories, category) {
			t.Errorf("reasons.tsv uses category %q, which is not in Categories", category)
		}
	}
}

func TestFindDSN(t *testing.T) {
	tests := []struct {
		name string
		text string
		want string
	}{
		{"after reply code", "450 4.7.1 denied", "4.7.1"},
		{"multiline reply", "421-4.7.28 slow down", "4.7.28"},
		{"three digit parts", "451 4.999.999 x", "4.999.999"},
		{"leading zeros", "450 4.07.01 x", "4.7.1"},
		{"end of text", "status 5.1.1", "5.1.1"},
		{"class 3", "300 3.1.1 x", ""},
		{"four digits", "450 4.1000.1 x", ""},
		{"ipv4 address", "host 10.4.4.1 said", ""},
		{"ipv4 in brackets", "[4.4.4.4]", ""},
		{"version number", "Postfix 3.7.11 here", ""},
		{"letter before", "v5.1.1", ""},
		{"letter after", "5.1.1a", ""},
		{"code after address", "[10.4.4.1] said: 450 4.3.0 x", "4.3.0"},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := findDSN(tt.text); got != tt.want {
				t.Errorf("findDSN(%q) = %q, want %q", tt.text, got, tt.want)
			}
		})
	}
}

func TestContainsWord(t *testing.T) {
	tests := []struct {
		text string
		word string
		want bool
	}{
		{"classified as spam.", "spam", true},
		{"blocked using zen.spamhaus.org", "spam", false},
		{"spam, rejected", "spam", true},
		{"spam-filter.example.com", "spam", false},
		{"cannot start tls: handshake failure", "tls", true},
		{"connect to tls.example.com[192.0.2.1]", "tls", false},
		{"<spam@example.com>", "spam", false},
		{"antispam filter", "spam", false},
		{"tls", "tls", true},
	}
	for _, tt := range tests {
		if got := containsWord(tt.text, tt.word); got != tt.want {
			t.Errorf("containsWord(%q, %q) = %v, want %v", tt.text, tt.word, got, tt.want)
		}
	}
}

func TestClassifyStable(t *testing.T) {
	text := "host mx.example.com[192.0.2.10] said: 450 4.2.0 Greylisted, see http://example.com/"
	firstCategory, firstDSN := Classify(text)
	for range 3 {
		category, dsn := Classify(text)
		if category != firstCategory {
			t.Errorf("Classify category changed from %q to %q", firstCategory, category)
		}
		if dsn != firstDSN {
			t.Errorf("Classify dsn changed from %q to %q", firstDSN, dsn)
		}
	}
}

func BenchmarkClassify(b *testing.B) {
	text := "delivery temporarily suspended: host mx.example.com[192.0.2.10] said: 450 4.2.0 " +
		"<user@example.com>: Recipient address rejected: Greylisted (in reply to RCPT TO command)"
	for b.Loop() {
		Classify(text)
	}
}
