package webapi

import (
	"errors"
	"sync"
	"time"
)

// Errors of RateLimiter.Begin.
var (
	ErrBusy        = errors.New("another run is in progress")
	ErrRateLimited = errors.New("too soon after the last run")
)

// RateLimiter allows one run at a time and at most one run per interval.
//
// The interval is counted from the end of the last run that counts, so
// there is always at least one interval of quiet between two runs, however
// long a run takes. The caller decides whether a run counts when it calls
// release: a run that may have changed something counts, and one that
// certainly did nothing (its command was rejected before it acted) does
// not, so that an operator can fix the cause and retry at once.
type RateLimiter struct {
	interval time.Duration
	now      func() time.Time

	mu      sync.Mutex
	running bool
	lastEnd time.Time // end of the last run that counted; zero before the first
}

// NewRateLimiter returns a limiter for one run per interval. now is the
// clock; nil means time.Now.
func NewRateLimiter(interval time.Duration, now func() time.Time) *RateLimiter {
	if now == nil {
		now = time.Now
	}
	return &RateLimiter{interval: interval, now: now}
}

// Begin starts a run. It returns ErrBusy while another run is in progress,
// and ErrRateLimited with the time left to wait when the last counted run
// ended less than one interval ago. Otherwise the caller must call release
// when the run ends. It passes counts true if the run may have had an
// effect. Calls of release after the first do nothing.
func (l *RateLimiter) Begin() (release func(counts bool), retryAfter time.Duration, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()

	if l.running {
		return nil, 0, ErrBusy
	}
	if !l.lastEnd.IsZero() {
		wait := l.lastEnd.Add(l.interval).Sub(l.now())
		// A clock that went back must not stretch the wait beyond one
		// interval.
		wait = min(wait, l.interval)
		if wait > 0 {
			return nil, wait, ErrRateLimited
		}
	}

	l.running = true
	var once sync.Once
	release = func(counts bool) {
		once.Do(func() {
			l.mu.Lock()
			defer l.mu.Unlock()
			l.running = false
			if counts {
				l.lastEnd = l.now()
			}
		})
	}
	return release, 0, nil
}
