package queue

import (
	"fmt"
	"math"
	"time"

	"github.com/postfix-queue-exporter/postfix_queue_exporter/parser"
)

// Shape describes how the messages of one queue are spread: by age, size,
// recipient domain and delay reason, in the spirit of Postfix's qshape tool.
// Every count has a fixed upper bound on its number of label values,
// whatever the queue holds.
type Shape struct {
	Age  Histogram // seconds from arrival to the snapshot time, 0 for arrivals after it
	Size Histogram // bytes

	// TopDomains are the recipient domains with the most recipients, most
	// first, at most ShapeOptions.TopDomains of them. OtherDomains sums up
	// the rest, so the recipients of TopDomains and OtherDomains add up to
	// Stats.Recipients. A message with recipients in two domains counts
	// once for each.
	TopDomains   []DomainCount
	OtherDomains DomainCount
	// DomainsExact is false when the queue had more distinct domains than
	// the domain table holds. The counts of TopDomains are then lower
	// bounds, and which domains make the top may be off near its edge.
	DomainsExact bool

	// Reasons counts recipients with a delay reason by reason category and
	// enhanced status code. Recipients without a reason are not counted.
	Reasons map[Reason]int64

	Bounces      int64 // messages from MAILER-DAEMON, the null sender
	ForcedExpire int64 // messages marked to expire by postsuper -e or -f
}

// ShapeOptions sets the buckets and limits of the Shape of every queue.
type ShapeOptions struct {
	AgeBuckets  []float64 // upper bounds in seconds, strictly increasing
	SizeBuckets []float64 // upper bounds in bytes, strictly increasing
	TopDomains  int       // recipient domains published by name, 0 to MaxTopDomains
}

// MaxTopDomains bounds ShapeOptions.TopDomains, and with it the memory of
// the domain table (50 entries per published domain).
const MaxTopDomains = 100

// DefaultTopDomains is the default of ShapeOptions.TopDomains.
const DefaultTopDomains = 10

// DefaultAgeBuckets are qshape's age buckets in minutes (5 to 1280, each
// twice the last) followed by 1, 2 and 4 days, in seconds.
var DefaultAgeBuckets = []float64{
	5 * 60, 10 * 60, 20 * 60, 40 * 60, 80 * 60, 160 * 60, 320 * 60, 640 * 60, 1280 * 60,
	86400, 2 * 86400, 4 * 86400,
}

// DefaultSizeBuckets grow by a factor of 4 from 1 KiB to 64 MiB. Postfix's
// default message_size_limit, 10,240,000 bytes, falls in the 16 MiB bucket.
var DefaultSizeBuckets = []float64{
	1 << 10, 4 << 10, 16 << 10, 64 << 10, 256 << 10, 1 << 20, 4 << 20, 16 << 20, 64 << 20,
}

// DefaultShapeOptions returns the default buckets and top domains.
func DefaultShapeOptions() ShapeOptions {
	return ShapeOptions{
		AgeBuckets:  DefaultAgeBuckets,
		SizeBuckets: DefaultSizeBuckets,
		TopDomains:  DefaultTopDomains,
	}
}

// Validate returns an error unless the buckets are finite, positive and
// strictly increasing and TopDomains is within 0 to MaxTopDomains.
func (o ShapeOptions) Validate() error {
	if err := validateBuckets(o.AgeBuckets); err != nil {
		return fmt.Errorf("age buckets: %w", err)
	}
	if err := validateBuckets(o.SizeBuckets); err != nil {
		return fmt.Errorf("size buckets: %w", err)
	}
	if o.TopDomains < 0 || o.TopDomains > MaxTopDomains {
		return fmt.Errorf("top domains %d out of range: use 0 to %d", o.TopDomains, MaxTopDomains)
	}
	return nil
}

func validateBuckets(bounds []float64) error {
	for i, bound := range bounds {
		if math.IsNaN(bound) || math.IsInf(bound, 0) || bound <= 0 {
			return fmt.Errorf("invalid bound %v: bounds must be positive and finite", bound)
		}
		if i > 0 && bound <= bounds[i-1] {
			return fmt.Errorf("bound %v follows %v: bounds must be strictly increasing", bound, bounds[i-1])
		}
	}
	return nil
}

// domainTableCapacity returns how many domains a queue's domain table holds
// for top published domains: 50 per published domain, at least 1,000.
func domainTableCapacity(top int) int {
	return max(1000, 50*top)
}

// shapeCounter gathers the Shape of one queue.
type shapeCounter struct {
	options ShapeOptions
	age     *ageCounter
	size    *sizeCounter
	domains *domainTable
	reasons *reasonCounter
	scratch []byte // for domainOf

	bounces      int64
	forcedExpire int64
}

func newShapeCounter(options ShapeOptions, start time.Time) *shapeCounter {
	return &shapeCounter{
		options: options,
		age:     newAgeCounter(options.AgeBuckets, start),
		size:    newSizeCounter(options.SizeBuckets),
		domains: newDomainTable(domainTableCapacity(options.TopDomains)),
		reasons: newReasonCounter(),
	}
}

func (c *shapeCounter) add(m *parser.Message, classifier *reasonClassifier) {
	c.age.add(m.ArrivalTime)
	c.size.add(m.Size)
	if m.Sender == "MAILER-DAEMON" {
		c.bounces++
	}
	if m.ForcedExpire {
		c.forcedExpire++
	}

	c.domains.startMessage()
	for i := range m.Recipients {
		recipient := &m.Recipients[i]
		c.domains.add(domainOf(recipient.Address, &c.scratch))
		if recipient.DelayReason != "" {
			c.reasons.add(classifier.classify(recipient.DelayReason))
		}
	}
}

func (c *shapeCounter) shape(end time.Time) *Shape {
	top, other := c.domains.top(c.options.TopDomains)
	return &Shape{
		Age:          c.age.histogram(end),
		Size:         c.size.histogram(),
		TopDomains:   top,
		OtherDomains: other,
		DomainsExact: !c.domains.replaced,
		Reasons:      c.reasons.counts(),
		Bounces:      c.bounces,
		ForcedExpire: c.forcedExpire,
	}
}
