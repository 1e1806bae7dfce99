package parser

import (
	"bytes"
	"fmt"
	"io"
	"testing"
	"time"
)

// benchmarkReasons are delay reasons as the lab captures show them. Most
// deferred mail shares a few reasons; the third contains escapes.
var benchmarkReasons = []string{
	"connect to 127.0.0.1[127.0.0.1]:2525: Connection refused",
	"delivery temporarily suspended: connect to 127.0.0.1[127.0.0.1]:2525: Connection refused",
	`lab: simulated temporary failure "quoted" \backslash`,
	"host 127.0.0.1[127.0.0.1] said: 450 4.3.0 Error: command failed (in reply to RCPT TO command)",
}

// benchmarkJSON returns n single-recipient `postqueue -j` lines shaped like
// the captures: about 300 bytes each, 1 in 10 active without a reason.
func benchmarkJSON(n int) []byte {
	var out bytes.Buffer
	for i := range n {
		queue, reason := "deferred", benchmarkReasons[i%len(benchmarkReasons)]
		if i%10 == 0 {
			queue, reason = "active", ""
		}
		fmt.Fprintf(&out, `{"queue_name": "%s", "queue_id": "%05X%05X", "arrival_time": %d, `+
			`"message_size": %d, "forced_expire": false, "sender": "sender%d@example.org", `+
			`"recipients": [{"address": "rcpt%d@example.net"`,
			queue, i%0xFFFFF, 0xC8000+i, 1796396015-i, 250+i%5000, i%100, i)
		if reason != "" {
			out.WriteString(`, "delay_reason": `)
			quoted := fmt.Sprintf("%q", reason) // Go and JSON agree for these reasons
			out.WriteString(quoted)
		}
		out.WriteString("}]}\n")
	}
	return out.Bytes()
}

// benchmarkText returns the same messages as benchmarkJSON in
// `postqueue -p` format.
func benchmarkText(n int) []byte {
	var out bytes.Buffer
	out.WriteString("-Queue ID-  --Size-- ----Arrival Time---- -Sender/Recipient-------\n")
	var total int64
	for i := range n {
		id, reason := fmt.Sprintf("%05X%05X", i%0xFFFFF, 0xC8000+i), benchmarkReasons[i%len(benchmarkReasons)]
		if i%10 == 0 {
			id, reason = id+"*", ""
		}
		size := int64(250 + i%5000)
		total += size
		arrival := time.Unix(int64(1796396015-i), 0).UTC().Format(time.ANSIC)[:19]
		if i > 0 {
			out.WriteByte('\n')
		}
		fmt.Fprintf(&out, "%-11s %7d %-20.20s %s\n", id, size, arrival, fmt.Sprintf("sender%d@example.org", i%100))
		if reason != "" {
			fmt.Fprintf(&out, "%*s(%s)\n", max(76-len(reason), 0), "", reason)
		}
		fmt.Fprintf(&out, "%41s%s\n", "", fmt.Sprintf("rcpt%d@example.net", i))
	}
	fmt.Fprintf(&out, "\n-- %d Kbytes in %d Requests.\n", total/1024, n)
	return out.Bytes()
}

func BenchmarkParseJSON(b *testing.B) {
	benchmarkParse(b, benchmarkJSON(100000), func(r io.Reader, h Handler) error {
		return ParseJSON(r, h)
	})
}

// BenchmarkDecodeJSONFallback measures the encoding/json path alone, for
// comparison with BenchmarkParseJSON.
func BenchmarkDecodeJSONFallback(b *testing.B) {
	input := benchmarkJSON(100000)
	b.SetBytes(int64(len(input)))
	b.ReportAllocs()
	var m Message
	for b.Loop() {
		for i, line := range bytes.Split(bytes.TrimSuffix(input, []byte("\n")), []byte("\n")) {
			if err := decodeJSONMessage(line, i+1, &m); err != nil {
				b.Fatal(err)
			}
		}
	}
}

func BenchmarkParseText(b *testing.B) {
	opts := TextOptions{Now: time.Unix(1796396015, 0), Location: time.UTC}
	benchmarkParse(b, benchmarkText(100000), func(r io.Reader, h Handler) error {
		return ParseText(r, opts, h)
	})
}

func benchmarkParse(b *testing.B, input []byte, parse func(io.Reader, Handler) error) {
	b.SetBytes(int64(len(input)))
	b.ReportAllocs()
	count := 0
	handler := func(*Message) error {
		count++
		return nil
	}
	for b.Loop() {
		count = 0
		if err := parse(bytes.NewReader(input), handler); err != nil {
			b.Fatal(err)
		}
		if count != 100000 {
			b.Fatalf("parsed %d messages, want 100000", count)
		}
	}
}
