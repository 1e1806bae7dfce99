package queue

import (
	"context"
	"sync"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
)

// Background lists the queue on its own schedule, so that serving metrics
// does not wait for a listing: once the first listing has finished, Snapshot
// returns the outcome of the last finished listing at once. It suits queues
// that take longer to list than Prometheus' scrape timeout allows.
type Background struct {
	cache    *Cache
	interval time.Duration
	logger   log.Logger

	wake  chan struct{} // a listing is due now
	ready chan struct{} // closed when the first listing has finished

	mu       sync.Mutex
	snapshot *Snapshot
	err      error
}

// NewBackground returns a Background that lists the queue through cache
// every interval once Run is called. The cache counts the outcomes and makes
// sure only one listing runs at a time; its MinInterval should be 0.
func NewBackground(cache *Cache, interval time.Duration, logger log.Logger) *Background {
	return &Background{
		cache:    cache,
		interval: interval,
		logger:   logger,
		wake:     make(chan struct{}, 1),
		ready:    make(chan struct{}),
	}
}

// Run lists the queue until ctx ends: one listing at the start, then one
// every interval, counted from the start of the previous one. A listing that
// runs longer than the interval is followed by the next one at once, never
// overlapped.
func (b *Background) Run(ctx context.Context) {
	first := true
	for {
		start := time.Now()
		snapshot, err := b.cache.Snapshot(ctx)
		if ctx.Err() != nil {
			return
		}
		b.store(snapshot, err)
		if first {
			close(b.ready)
			first = false
		}
		if err != nil {
			level.Error(b.logger).Log("msg", "Background queue listing failed", "err", err)
		} else {
			level.Debug(b.logger).Log("msg", "Background queue listing finished", "duration", snapshot.Duration)
		}

		timer := time.NewTimer(b.interval - time.Since(start))
		select {
		case <-ctx.Done():
			timer.Stop()
			return
		case <-b.wake:
			timer.Stop()
		case <-timer.C:
		}
	}
}

func (b *Background) store(snapshot *Snapshot, err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.snapshot, b.err = snapshot, err
}

// Snapshot returns the outcome of the last finished listing: its snapshot,
// or its error when it failed. Before the first listing has finished it
// waits for it, or returns ctx's error when ctx ends first.
func (b *Background) Snapshot(ctx context.Context) (*Snapshot, error) {
	select {
	case <-b.ready:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.snapshot, b.err
}

// Status returns the counts of the listings taken so far.
func (b *Background) Status() Status {
	return b.cache.Status()
}

// Invalidate starts a new listing now, for example after a change to the
// queue. Until it finishes, Snapshot returns the previous outcome.
func (b *Background) Invalidate() {
	b.cache.Invalidate()
	select {
	case b.wake <- struct{}{}:
	default:
		// A listing is already due.
	}
}
