package actions

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"reflect"
	"slices"
	"testing"
	"testing/iotest"

	"github.com/postfix-queue-exporter/postfix_queue_exporter/parser"
)

// readListing parses a postqueue -j capture from testdata.
func readListing(t *testing.T, name string) []parser.Message {
	t.Helper()
	f, err := os.Open("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var messages []parser.Message
	err = parser.ParseJSON(f, func(m *parser.Message) error {
		messages = append(messages, m.Clone())
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return messages
}

// selectAll runs a selection for p over messages, as a listing would.
func selectAll(t *testing.T, p *plan, instance string, limit int, messages []parser.Message) (*selection, error) {
	t.Helper()
	s := newSelection(p, instance, testNow, DefaultNullSender, limit)
	for i := range messages {
		if err := s.add(&messages[i]); err != nil {
			return s, err
		}
	}
	s.finish()
	return s, nil
}

func queuePlan(action Action, queue string) *plan {
	return &plan{action: action, selector: &Selector{Queue: queue, MinSize: -1, MaxSize: -1}}
}

func TestSelectionConfirm(t *testing.T) {
	messages := readListing(t, "long-ids.jsonl")
	base, err := selectAll(t, queuePlan(Delete, "deferred"), "", MaxMessages, messages)
	if err != nil {
		t.Fatal(err)
	}
	if got := len(base.entries); got != 15 {
		t.Fatalf("selected %d messages, want the 15 deferred ones", got)
	}
	if !isConfirmValue(base.confirm()) {
		t.Fatalf("confirm %q is not a confirm value", base.confirm())
	}

	reversed := slices.Clone(messages)
	slices.Reverse(reversed)
	oneLess := slices.Clone(messages)
	oneLess = slices.DeleteFunc(oneLess, func(m parser.Message) bool { return m.ID == "4jgvV55S19z5g1Y" })
	moved := slices.Clone(messages)
	for i := range moved {
		if moved[i].ID == "4jgvV55S19z5g1Y" {
			moved[i].Queue = parser.QueueHold
		}
	}
	anyQueue := &plan{action: Delete, selector: &Selector{All: true, MinSize: -1, MaxSize: -1}}
	deferred := queuePlan(Delete, "deferred")

	// Each case compares the selection of plan, instance and messages with
	// that of reference over the unchanged listing with the default instance.
	tests := []struct {
		name      string
		plan      *plan
		instance  string
		messages  []parser.Message
		reference *plan
		same      bool
	}{
		{"listing order", deferred, "", reversed, deferred, true},
		{"other action", queuePlan(Hold, "deferred"), "", messages, deferred, false},
		{"other instance", deferred, "/etc/postfix-lab2", messages, deferred, false},
		{"message gone", deferred, "", oneLess, deferred, false},
		{"message moved", anyQueue, "", moved, anyQueue, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := selectAll(t, tt.plan, tt.instance, MaxMessages, tt.messages)
			if err != nil {
				t.Fatal(err)
			}
			reference, err := selectAll(t, tt.reference, "", MaxMessages, messages)
			if err != nil {
				t.Fatal(err)
			}
			if got := s.confirm() == reference.confirm(); got != tt.same {
				t.Errorf("confirm equal = %t, want %t", got, tt.same)
			}
		})
	}
}

func TestSelectionLimit(t *testing.T) {
	messages := readListing(t, "long-ids.jsonl")
	tests := []struct {
		limit    int
		overflow bool
	}{
		{14, true},
		{15, false},
		{16, false},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.limit), func(t *testing.T) {
			s, err := selectAll(t, queuePlan(Delete, "deferred"), "", tt.limit, messages)
			if tt.overflow != errors.Is(err, errTooMany) {
				t.Errorf("error %v, want errTooMany: %t", err, tt.overflow)
			}
			if s.overflow != tt.overflow {
				t.Errorf("overflow = %t, want %t", s.overflow, tt.overflow)
			}
		})
	}
}

func TestSelectionQueueIDs(t *testing.T) {
	messages := readListing(t, "long-ids.jsonl")
	p := &plan{action: Release, ids: []string{
		"4jgvV564Ztz5g2G", // hold
		"4jgvV55S19z5g1Y", // deferred: release leaves it alone
		"4jgvV55S19z5g1Z", // not in the listing
		"4jgvV561p4z5g2F", // hold
	}}
	s, err := selectAll(t, p, "", MaxMessages, messages)
	if err != nil {
		t.Fatal(err)
	}

	want := []entry{{"hold", "4jgvV561p4z5g2F"}, {"hold", "4jgvV564Ztz5g2G"}}
	if !slices.Equal(s.entries, want) {
		t.Errorf("entries = %v, want %v", s.entries, want)
	}
	if got := s.notFound(p.ids); !slices.Equal(got, []string{"4jgvV55S19z5g1Z"}) {
		t.Errorf("not found = %q, want [4jgvV55S19z5g1Z]", got)
	}
	if want := []Skipped{{QueueID: "4jgvV55S19z5g1Y", Queue: "deferred"}}; !slices.Equal(s.skipped, want) {
		t.Errorf("skipped = %v, want %v", s.skipped, want)
	}
	if s.bytes != 303+288 {
		t.Errorf("bytes = %d, want %d", s.bytes, 303+288)
	}
	if groups := s.groups(); len(groups) != 1 || groups[0].queue != "hold" || len(groups[0].ids) != 2 {
		t.Errorf("groups = %+v, want the two ids in hold", groups)
	}
}

func TestSelectionListedTwice(t *testing.T) {
	messages := readListing(t, "short-ids.jsonl")
	messages = append(messages, messages[len(messages)-1])
	s, err := selectAll(t, &plan{action: Delete, selector: &Selector{All: true, MinSize: -1, MaxSize: -1}},
		"", MaxMessages, messages)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.entries) != 20 {
		t.Errorf("entries = %d, want 20", len(s.entries))
	}
	if len(s.details) != 20 {
		t.Errorf("details = %d, want 20", len(s.details))
	}
}

func TestSelectionGroupsOrder(t *testing.T) {
	messages := readListing(t, "short-ids.jsonl")
	s, err := selectAll(t, &plan{action: Delete, selector: &Selector{All: true, MinSize: -1, MaxSize: -1}},
		"", MaxMessages, messages)
	if err != nil {
		t.Fatal(err)
	}
	var queues []string
	total := 0
	for _, group := range s.groups() {
		queues = append(queues, group.queue)
		total += len(group.ids)
		if !slices.IsSorted(group.ids) {
			t.Errorf("ids of %s are not sorted: %q", group.queue, group.ids)
		}
	}
	if want := []string{"active", "deferred", "hold"}; !slices.Equal(queues, want) {
		t.Errorf("queues = %q, want %q", queues, want)
	}
	if total != 20 {
		t.Errorf("grouped %d ids, want 20", total)
	}
}

func TestSelectionDetailsBounded(t *testing.T) {
	template := testMessage()
	template.Recipients = nil
	for i := 0; i < maxDetailRecipients+5; i++ {
		template.Recipients = append(template.Recipients,
			parser.Recipient{Address: fmt.Sprintf("r%d@example.net", i), DelayReason: refusedReason})
	}
	messages := make([]parser.Message, maxDetails+50)
	for i := range messages {
		messages[i] = *template
		messages[i].ID = fmt.Sprintf("%010X", i)
	}

	s, err := selectAll(t, queuePlan(Hold, "deferred"), "", MaxMessages, messages)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.entries) != len(messages) {
		t.Errorf("entries = %d, want %d", len(s.entries), len(messages))
	}
	if len(s.details) != maxDetails {
		t.Fatalf("details = %d, want %d", len(s.details), maxDetails)
	}
	first := s.details[0]
	if len(first.Recipients) != maxDetailRecipients {
		t.Errorf("recipients shown = %d, want %d", len(first.Recipients), maxDetailRecipients)
	}
	if first.RecipientCount != maxDetailRecipients+5 {
		t.Errorf("recipient count = %d, want %d", first.RecipientCount, maxDetailRecipients+5)
	}
	if first.AgeSeconds != 3*3600 {
		t.Errorf("age = %d s, want %d", first.AgeSeconds, 3*3600)
	}
}

func TestSelectionShortIDs(t *testing.T) {
	tests := []struct {
		listing string
		want    bool
	}{
		{"short-ids.jsonl", true},
		{"long-ids.jsonl", false},
	}
	for _, tt := range tests {
		t.Run(tt.listing, func(t *testing.T) {
			s, err := selectAll(t, queuePlan(Delete, "deferred"), "", MaxMessages, readListing(t, tt.listing))
			if err != nil {
				t.Fatal(err)
			}
			if got := s.hasShortIDs(); got != tt.want {
				t.Errorf("hasShortIDs = %t, want %t", got, tt.want)
			}
		})
	}
}

func TestIsConfirmValue(t *testing.T) {
	tests := []struct {
		value string
		want  bool
	}{
		{testConfirm, true},
		{"0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef", true},
		{testConfirm[:63], false},
		{testConfirm + "0", false},
		{"x123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := isConfirmValue(tt.value); got != tt.want {
			t.Errorf("isConfirmValue(%q) = %t, want %t", tt.value, got, tt.want)
		}
	}
}

// The parser reuses the memory of each message's strings, so whatever a
// selection keeps must be a copy. Fed straight from the parser, a selection
// must equal one made from copied messages.
func TestSelectionCopiesParserStrings(t *testing.T) {
	messages := readListing(t, "long-ids.jsonl")
	plans := map[string]*plan{
		"select": queuePlan(Hold, "deferred"),
		// An active, a deferred and a held message: hold skips the last.
		"queue_ids": {action: Hold, ids: []string{"4jgvV56BYLz5g2T", "4jgvV56dbhz5g2P", "4jgvV561p4z5g2F"}},
	}
	for name, p := range plans {
		t.Run(name, func(t *testing.T) {
			want, err := selectAll(t, p, "", MaxMessages, messages)
			if err != nil {
				t.Fatal(err)
			}

			f, err := os.Open("testdata/long-ids.jsonl")
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			got := newSelection(p, "", testNow, DefaultNullSender, MaxMessages)
			// One byte per read makes the parser's buffer take each line
			// where the last one was.
			if err := parser.ParseJSON(iotest.OneByteReader(f), got.add); err != nil {
				t.Fatal(err)
			}
			got.finish()

			if !slices.Equal(got.entries, want.entries) {
				t.Errorf("entries %v, want %v", got.entries, want.entries)
			}
			if !reflect.DeepEqual(got.details, want.details) {
				t.Errorf("details %+v, want %+v", got.details, want.details)
			}
			if !slices.Equal(got.skipped, want.skipped) {
				t.Errorf("skipped %v, want %v", got.skipped, want.skipped)
			}
			if !maps.Equal(got.requested, want.requested) {
				t.Errorf("requested %v, want %v", got.requested, want.requested)
			}
		})
	}
}
