package queue

import (
	"fmt"
	"testing"
	"unsafe"
)

// addMessage counts one message with recipients in the given domains.
func addMessage(table *domainTable, domains ...string) {
	table.startMessage()
	for _, domain := range domains {
		table.add(domain)
	}
}

func TestDomainTableExactBelowCapacity(t *testing.T) {
	table := newDomainTable(10)
	addMessage(table, "a.example", "a.example", "b.example")
	addMessage(table, "a.example")
	addMessage(table, "c.example", "b.example", "c.example", "c.example")
	addMessage(table)
	top, other := table.top(2)

	// a and c tie on recipients and are ordered by name.
	want := []DomainCount{
		{Domain: "a.example", Messages: 2, Recipients: 3},
		{Domain: "c.example", Messages: 1, Recipients: 3},
	}
	if len(top) != len(want) {
		t.Fatalf("top = %v, want %v", top, want)
	}
	for i := range want {
		if top[i] != want[i] {
			t.Errorf("top[%d] = %+v, want %+v", i, top[i], want[i])
		}
	}
	if wantOther := (DomainCount{Domain: OtherDomain, Messages: 2, Recipients: 2}); other != wantOther {
		t.Errorf("other = %+v, want %+v", other, wantOther)
	}
	if table.replaced {
		t.Error("replaced = true below capacity, want false")
	}
}

func TestDomainTableTopLargerThanTable(t *testing.T) {
	table := newDomainTable(10)
	addMessage(table, "a.example")
	top, other := table.top(5)

	if len(top) != 1 {
		t.Errorf("len(top) = %d, want 1", len(top))
	}
	if other.Recipients != 0 || other.Messages != 0 {
		t.Errorf("other = %+v, want zero counts", other)
	}
}

func TestDomainTableBoundedAboveCapacity(t *testing.T) {
	const capacity = 100
	table := newDomainTable(capacity)
	// Two heavy domains among 100,000 distinct light ones.
	for i := range 100_000 {
		addMessage(table, fmt.Sprintf("d%d.example", i))
		if i%10 == 0 {
			addMessage(table, "heavy.example", "heavy.example")
		}
		if i%20 == 0 {
			addMessage(table, "second.example")
		}
	}
	top, other := table.top(2)

	if len(table.entries) != capacity {
		t.Errorf("table holds %d entries, want %d", len(table.entries), capacity)
	}
	if len(table.index) != capacity {
		t.Errorf("index holds %d domains, want %d", len(table.index), capacity)
	}
	if !table.replaced {
		t.Error("replaced = false above capacity, want true")
	}
	if len(top) != 2 {
		t.Fatalf("top = %v, want 2 domains", top)
	}
	if top[0].Domain != "heavy.example" {
		t.Errorf("top[0] = %q, want heavy.example", top[0].Domain)
	}
	if top[1].Domain != "second.example" {
		t.Errorf("top[1] = %q, want second.example", top[1].Domain)
	}
	// Published counts never exceed the true ones.
	if top[0].Recipients > 20_000 || top[0].Messages > 10_000 {
		t.Errorf("heavy.example = %+v, above its true 10,000 messages and 20,000 recipients", top[0])
	}
	if top[1].Recipients > 5_000 {
		t.Errorf("second.example = %+v, above its true 5,000 recipients", top[1])
	}
	wantRecipients := int64(100_000 + 20_000 + 5_000)
	if got := top[0].Recipients + top[1].Recipients + other.Recipients; got != wantRecipients {
		t.Errorf("top and other recipients add up to %d, want %d", got, wantRecipients)
	}
	wantPairs := int64(100_000 + 10_000 + 5_000)
	if got := top[0].Messages + top[1].Messages + other.Messages; got != wantPairs {
		t.Errorf("top and other messages add up to %d, want %d", got, wantPairs)
	}
}

func TestDomainTableReplacedWithinMessage(t *testing.T) {
	table := newDomainTable(1)
	// b replaces a, then a replaces b, within one message.
	addMessage(table, "a.example", "b.example", "a.example")
	_, other := table.top(0)

	if other.Messages != 2 {
		t.Errorf("other.Messages = %d, want 2 (one message, two domains)", other.Messages)
	}
	if other.Recipients != 3 {
		t.Errorf("other.Recipients = %d, want 3", other.Recipients)
	}
}

func TestDomainTableKeepsCopies(t *testing.T) {
	table := newDomainTable(10)
	buf := []byte("a.example")
	table.startMessage()
	table.add(unsafe.String(unsafe.SliceData(buf), len(buf)))
	copy(buf, "b")
	top, _ := table.top(1)

	if top[0].Domain != "a.example" {
		t.Errorf("kept domain = %q, want a.example", top[0].Domain)
	}
}

func BenchmarkDomainTable(b *testing.B) {
	domains := make([]string, 5000)
	for i := range domains {
		domains[i] = fmt.Sprintf("d%d.example", i)
	}
	table := newDomainTable(1000)
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		addMessage(table, domains[i%len(domains)])
	}
}
