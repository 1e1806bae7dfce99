package queue

import (
	"cmp"
	"slices"
	"strings"
)

// DomainCount is the mail of one queue for one recipient domain.
type DomainCount struct {
	Domain     string
	Messages   int64 // messages with at least one recipient in the domain
	Recipients int64
}

// domainTable counts recipients by domain in bounded memory with the
// Space-Saving algorithm (Metwally, Agrawal and El Abbadi, "Efficient
// Computation of Frequent and Top-k Elements in Data Streams", 2005). It
// keeps at most capacity domains. While fewer distinct domains arrive, every
// count is exact. After that, a new domain replaces the entry with the
// smallest estimate and inherits that estimate as its overcount, so a
// domain's estimate is never below its true count and exceeds it by at most
// the overcount.
//
// The counts published for an entry are those made since it was inserted,
// which never exceed the true counts. Every domain whose true share of the
// recipients is above 1/capacity stays in the table.
type domainTable struct {
	capacity int
	entries  []domainEntry
	index    map[string]int32 // entry by domain
	heap     []int32          // entries by estimate, smallest first; built when the table first fills
	replaced bool             // whether an entry has ever been replaced

	message uint64 // number of the message being counted
	// Domains replaced while the current message was being counted, after
	// it had been counted for them.
	replacedInMessage []string

	recipients int64 // all recipients added
	pairs      int64 // all message and domain pairs: each message counted once per domain
}

type domainEntry struct {
	domain      string
	recipients  int64  // recipients since the entry was inserted
	messages    int64  // messages since the entry was inserted
	overcount   int64  // estimate of the entry this one replaced
	lastMessage uint64 // the last message counted for the entry
	heapIndex   int32
}

func (e *domainEntry) estimate() int64 {
	return e.recipients + e.overcount
}

func newDomainTable(capacity int) *domainTable {
	return &domainTable{capacity: capacity, index: make(map[string]int32)}
}

// startMessage begins a new message, so the next recipients of a domain
// count it once.
func (t *domainTable) startMessage() {
	t.message++
	t.replacedInMessage = t.replacedInMessage[:0]
}

// add counts one recipient in domain. domain may alias a buffer that the
// caller reuses: the table copies it before keeping it.
func (t *domainTable) add(domain string) {
	t.recipients++
	i, found := t.index[domain]
	if !found {
		i = t.insert(domain)
	}

	e := &t.entries[i]
	e.recipients++
	if e.lastMessage != t.message {
		e.lastMessage = t.message
		e.messages++
		if found || !slices.Contains(t.replacedInMessage, e.domain) {
			t.pairs++
		}
	}
	if t.heap != nil {
		t.siftDown(int(e.heapIndex))
	}
}

// insert adds an entry for domain, replacing the entry with the smallest
// estimate when the table is full, and returns its index.
func (t *domainTable) insert(domain string) int32 {
	key := strings.Clone(domain)
	if len(t.entries) < t.capacity {
		t.entries = append(t.entries, domainEntry{domain: key})
		i := int32(len(t.entries) - 1)
		t.index[key] = i
		return i
	}

	if t.heap == nil {
		t.buildHeap()
	}
	i := t.heap[0]
	e := &t.entries[i]
	if e.lastMessage == t.message {
		t.replacedInMessage = append(t.replacedInMessage, e.domain)
	}
	delete(t.index, e.domain)
	*e = domainEntry{domain: key, overcount: e.estimate(), heapIndex: e.heapIndex}
	t.index[key] = i
	t.replaced = true
	return i
}

func (t *domainTable) buildHeap() {
	t.heap = make([]int32, len(t.entries))
	for i := range t.entries {
		t.heap[i] = int32(i)
		t.entries[i].heapIndex = int32(i)
	}
	for i := len(t.heap)/2 - 1; i >= 0; i-- {
		t.siftDown(i)
	}
}

// siftDown restores the heap below position i after the estimate there grew.
func (t *domainTable) siftDown(i int) {
	for {
		smallest := i
		if left := 2*i + 1; left < len(t.heap) && t.heapEstimate(left) < t.heapEstimate(smallest) {
			smallest = left
		}
		if right := 2*i + 2; right < len(t.heap) && t.heapEstimate(right) < t.heapEstimate(smallest) {
			smallest = right
		}
		if smallest == i {
			return
		}
		t.heap[i], t.heap[smallest] = t.heap[smallest], t.heap[i]
		t.entries[t.heap[i]].heapIndex = int32(i)
		t.entries[t.heap[smallest]].heapIndex = int32(smallest)
		i = smallest
	}
}

func (t *domainTable) heapEstimate(position int) int64 {
	return t.entries[t.heap[position]].estimate()
}

// top returns the n domains with the largest estimates, most first (ties by
// name), and the rest of the recipients and message and domain pairs summed
// up under OtherDomain.
func (t *domainTable) top(n int) (top []DomainCount, other DomainCount) {
	order := make([]*domainEntry, len(t.entries))
	for i := range t.entries {
		order[i] = &t.entries[i]
	}
	slices.SortFunc(order, func(a, b *domainEntry) int {
		return cmp.Or(
			cmp.Compare(b.estimate(), a.estimate()),
			cmp.Compare(b.recipients, a.recipients),
			strings.Compare(a.domain, b.domain),
		)
	})

	other = DomainCount{Domain: OtherDomain, Messages: t.pairs, Recipients: t.recipients}
	for _, e := range order[:min(n, len(order))] {
		top = append(top, DomainCount{Domain: e.domain, Messages: e.messages, Recipients: e.recipients})
		other.Messages -= e.messages
		other.Recipients -= e.recipients
	}
	return top, other
}
