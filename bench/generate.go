package main

import (
	"bufio"
	"fmt"
	"os"
	"time"
)

// syntheticReasons are delay reasons as the lab and real servers write them.
var syntheticReasons = []string{
	"connect to 127.0.0.1[127.0.0.1]:2525: Connection refused",
	"delivery temporarily suspended: connect to 127.0.0.1[127.0.0.1]:2525: Connection refused",
	"host 127.0.0.1[127.0.0.1] said: 450 4.3.0 Error: command failed (in reply to RCPT TO command)",
	"host mx.example.net[192.0.2.10] said: 450 4.2.0 <u@example.net>: Recipient address rejected: Greylisted, see http://postgrey.example/ (in reply to RCPT TO command)",
	"conversation with mx.example.com[192.0.2.11] timed out while receiving the initial server greeting",
}

// generateListing writes a `postqueue -j` listing of n deferred messages
// shaped like the lab's bulk mail: one recipient each, spread over 1,000
// domains, a week of arrival times, sizes around 512 bytes.
func generateListing(path string, n int) error {
	file, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(file, 1<<20)
	now := time.Now().Unix()
	for i := range n {
		_, err := fmt.Fprintf(w, `{"queue_name": "deferred", "queue_id": "%X", "arrival_time": %d, `+
			`"message_size": %d, "forced_expire": false, "sender": "bench@example.org", `+
			`"recipients": [{"address": "user%d@d%d.example", "delay_reason": "%s"}]}`+"\n",
			0x100000+i, now-int64(i%604800), 512+i%64, i, i%1000, jsonEscape(syntheticReasons[i%len(syntheticReasons)]))
		if err != nil {
			file.Close()
			return err
		}
	}
	if err := w.Flush(); err != nil {
		file.Close()
		return err
	}
	return file.Close()
}

// jsonEscape escapes the quotes of the reasons above, which hold no other
// character that JSON escapes.
func jsonEscape(s string) string {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '"' || s[i] == '\\' {
			out = append(out, '\\')
		}
		out = append(out, s[i])
	}
	return string(out)
}
