package queue

import (
	"cmp"
	"slices"
	"strings"

	"github.com/postfix-queue-exporter/postfix_queue_exporter/reason"
)

// Reason is a delay reason as published: its category and enhanced status
// code, both from reason.Classify. DSN is "" when the reason carries no
// code, or when its code is not among the most frequent of the queue.
type Reason struct {
	Category string
	DSN      string
}

// Limits on the enhanced status codes of one queue. Codes are counted
// exactly up to maxTrackedDSNs distinct values, and the recipients of codes
// seen after that count under DSN "". Of the counted codes, the
// maxPublishedDSNs with the most recipients are published, and the rest
// count under DSN "" of their category.
const (
	maxTrackedDSNs   = 1024
	maxPublishedDSNs = 20
)

// reasonCounter counts the recipients of one queue by Reason.
type reasonCounter struct {
	byReason map[Reason]int64
	byDSN    map[string]int64
}

func newReasonCounter() *reasonCounter {
	return &reasonCounter{byReason: make(map[Reason]int64), byDSN: make(map[string]int64)}
}

func (c *reasonCounter) add(r Reason) {
	if r.DSN != "" {
		if _, tracked := c.byDSN[r.DSN]; tracked || len(c.byDSN) < maxTrackedDSNs {
			c.byDSN[r.DSN]++
		} else {
			r.DSN = ""
		}
	}
	c.byReason[r]++
}

// counts returns the recipients by Reason, with every category present under
// DSN "" (zero when none) and at most maxPublishedDSNs distinct codes.
func (c *reasonCounter) counts() map[Reason]int64 {
	published := make(map[string]bool, maxPublishedDSNs)
	for _, dsn := range c.topDSNs() {
		published[dsn] = true
	}

	counts := make(map[Reason]int64, len(reason.Categories)+len(c.byReason))
	for _, category := range reason.Categories {
		counts[Reason{Category: category}] = 0
	}
	for r, n := range c.byReason {
		if r.DSN != "" && !published[r.DSN] {
			r.DSN = ""
		}
		counts[r] += n
	}
	return counts
}

// topDSNs returns the maxPublishedDSNs codes with the most recipients, ties
// broken by code so the choice does not depend on the listing order.
func (c *reasonCounter) topDSNs() []string {
	dsns := make([]string, 0, len(c.byDSN))
	for dsn := range c.byDSN {
		dsns = append(dsns, dsn)
	}
	slices.SortFunc(dsns, func(a, b string) int {
		return cmp.Or(cmp.Compare(c.byDSN[b], c.byDSN[a]), strings.Compare(a, b))
	})
	return dsns[:min(len(dsns), maxPublishedDSNs)]
}

// maxCachedReasons bounds the classification cache of one listing. Queues
// usually hold few distinct reason texts, repeated for many recipients.
const maxCachedReasons = 4096

// reasonClassifier classifies delay reasons with a cache, so a reason text
// repeated for many recipients is classified once.
type reasonClassifier struct {
	cache map[string]cachedReason
	// The last text looked up, a copy owned by the cache, and its result:
	// recipients in a row often share a reason, and comparing is cheaper
	// than hashing.
	last cachedReason
}

type cachedReason struct {
	text   string
	reason Reason
}

func newReasonClassifier() *reasonClassifier {
	return &reasonClassifier{cache: make(map[string]cachedReason)}
}

func (c *reasonClassifier) classify(text string) Reason {
	if text == c.last.text && text != "" {
		return c.last.reason
	}
	cached, found := c.cache[text]
	if !found {
		category, dsn := reason.Classify(text)
		cached = cachedReason{text: strings.Clone(text), reason: Reason{Category: category, DSN: dsn}}
		if len(c.cache) >= maxCachedReasons {
			// Start over rather than keep the first texts forever: the
			// ones that repeat come back quickly.
			clear(c.cache)
		}
		c.cache[cached.text] = cached
	}
	c.last = cached
	return cached.reason
}
