package queue

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/postfix-queue-exporter/postfix_queue_exporter/parser"
)

// labListing returns n deferred messages in `postqueue -j` form, shaped like
// the ones that deploy/lab/lab-populate.sh --bulk leaves: one recipient each,
// delayed by a refused connection, arriving over a few minutes.
func labListing(n int) []byte {
	var b bytes.Buffer
	arrival := int64(1796405422)
	for i := range n {
		fmt.Fprintf(&b, `{"queue_name": "deferred", "queue_id": "4jgvV%010X", "arrival_time": %d, `+
			`"message_size": %d, "forced_expire": false, "sender": "bulk@example.org", `+
			`"recipients": [{"address": "bulk%d@example.net", "delay_reason": "delivery temporarily suspended: `+
			`connect to 127.0.0.1[127.0.0.1]:2525: Connection refused"}]}`+"\n",
			i, arrival+int64(i%300), 830+i%10, i%7)
	}
	return b.Bytes()
}

// BenchmarkParseAndAggregate measures what the exporter does with a listing
// of 10,000 messages, without the pipe and the HTTP request.
func BenchmarkParseAndAggregate(b *testing.B) {
	listing := labListing(10000)
	start := time.Unix(1796405800, 0)
	b.SetBytes(int64(len(listing)))
	b.ReportAllocs()
	for b.Loop() {
		aggregator := NewShapeAggregator(DefaultShapeOptions(), start)
		if err := parser.ParseJSON(bytes.NewReader(listing), aggregator.Add); err != nil {
			b.Fatal(err)
		}
		aggregator.Finish(start)
	}
}
