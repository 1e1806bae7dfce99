package queue

import (
	"context"
	"sync"
	"time"

	"github.com/postfix-queue-exporter/postfix_queue_exporter/postfix"
)

// Cache shares one Source among concurrent callers. At most one snapshot is
// taken at a time: callers that arrive while one is running wait for it and
// get its result. A snapshot younger than MinInterval is returned again
// without asking the Source.
type Cache struct {
	Source      Source
	MinInterval time.Duration
	// Timeout bounds a snapshot that runs without a caller's deadline. The
	// Source's own runner timeout normally ends it first.
	Timeout time.Duration
	Now     func() time.Time // nil means time.Now

	mu         sync.Mutex
	generation uint64 // raised by Invalidate; a result from an older generation is not kept
	last       *Snapshot
	lastAt     time.Time
	inflight   *call
	status     Status
}

// Status counts the outcomes of the snapshots a Cache has taken.
type Status struct {
	Errors      map[postfix.Kind]uint64 // failed snapshots by kind, plus complete listings taken while Postfix was down
	LastSuccess time.Time               // when the last snapshot without error finished
	LastError   error                   // error of the last snapshot, nil after a success
}

type call struct {
	done     chan struct{}
	snapshot *Snapshot
	err      error
}

// Snapshot returns a snapshot no older than MinInterval, taking a new one
// when needed. If ctx ends first, Snapshot returns ctx's error, and a
// snapshot already running goes on for the callers that come next.
func (c *Cache) Snapshot(ctx context.Context) (*Snapshot, error) {
	c.mu.Lock()
	now := c.now()
	if c.last != nil && c.MinInterval > 0 && now.Sub(c.lastAt) < c.MinInterval {
		snapshot := c.last
		c.mu.Unlock()
		return snapshot, nil
	}
	current := c.inflight
	if current == nil {
		current = &call{done: make(chan struct{})}
		c.inflight = current
		go c.run(current, c.generation)
	}
	c.mu.Unlock()

	select {
	case <-current.done:
		return current.snapshot, current.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Invalidate drops the cached snapshot, so the next call to Snapshot lists
// the queue again. A listing that is running when Invalidate is called still
// returns its result to the callers waiting for it, but that result is not
// cached.
func (c *Cache) Invalidate() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.generation++
	c.last = nil
}

// Status returns a copy of the counts so far.
func (c *Cache) Status() Status {
	c.mu.Lock()
	defer c.mu.Unlock()
	status := c.status
	status.Errors = make(map[postfix.Kind]uint64, len(postfix.Kinds))
	for _, kind := range postfix.Kinds {
		status.Errors[kind] = c.status.Errors[kind]
	}
	return status
}

func (c *Cache) run(current *call, generation uint64) {
	// The snapshot does not belong to the caller that started it: it must
	// not end when that caller's scrape times out.
	ctx := context.Background()
	if c.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.Timeout)
		defer cancel()
	}
	snapshot, err := c.Source.Snapshot(ctx)

	c.mu.Lock()
	if c.status.Errors == nil {
		c.status.Errors = make(map[postfix.Kind]uint64)
	}
	c.status.LastError = err
	switch {
	case err != nil:
		c.status.Errors[postfix.KindOf(err)]++
	case snapshot.MailSystemDown:
		c.status.Errors[postfix.KindMailSystemDown]++
		c.status.LastSuccess = snapshot.Time
	default:
		c.status.LastSuccess = snapshot.Time
	}
	if err == nil && generation == c.generation {
		c.last = snapshot
		c.lastAt = c.now()
	}
	c.inflight = nil
	c.mu.Unlock()

	current.snapshot, current.err = snapshot, err
	close(current.done)
}

func (c *Cache) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}
