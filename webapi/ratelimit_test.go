package webapi

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/postfix-queue-exporter/postfix_queue_exporter/internal/testhelp"
)

func newTestLimiter() (*RateLimiter, *testhelp.FakeClock) {
	clock := testhelp.NewFakeClock(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	return NewRateLimiter(5*time.Minute, clock.Now), clock
}

func mustBegin(t *testing.T, l *RateLimiter) func(bool) {
	t.Helper()
	release, _, err := l.Begin()
	if err != nil {
		t.Fatalf("Begin: %v", err)
	}
	return release
}

func TestRateLimiterFirstRun(t *testing.T) {
	l, _ := newTestLimiter()
	release, wait, err := l.Begin()
	if err != nil {
		t.Fatalf("Begin: %v", err)
	}
	if wait != 0 {
		t.Errorf("retryAfter = %v, want 0", wait)
	}
	release(true)
}

func TestRateLimiterBusy(t *testing.T) {
	l, _ := newTestLimiter()
	release := mustBegin(t, l)
	if _, _, err := l.Begin(); !errors.Is(err, ErrBusy) {
		t.Errorf("second Begin during a run: err = %v, want %v", err, ErrBusy)
	}
	release(true)
}

func TestRateLimiterInterval(t *testing.T) {
	l, clock := newTestLimiter()
	release := mustBegin(t, l)
	// The run takes a minute: the interval counts from its end.
	clock.Advance(time.Minute)
	release(true)

	clock.Advance(2 * time.Minute)
	_, wait, err := l.Begin()
	if !errors.Is(err, ErrRateLimited) {
		t.Fatalf("Begin inside the interval: err = %v, want %v", err, ErrRateLimited)
	}
	if wait != 3*time.Minute {
		t.Errorf("retryAfter = %v, want 3m", wait)
	}

	clock.Advance(3*time.Minute - time.Nanosecond)
	if _, _, err := l.Begin(); !errors.Is(err, ErrRateLimited) {
		t.Errorf("Begin 1ns before the end: err = %v, want %v", err, ErrRateLimited)
	}

	clock.Advance(time.Nanosecond)
	release = mustBegin(t, l)
	release(true)
}

func TestRateLimiterRunThatDidNotCount(t *testing.T) {
	l, _ := newTestLimiter()
	release := mustBegin(t, l)
	release(false)
	release = mustBegin(t, l)
	release(true)
}

func TestRateLimiterReleaseTwice(t *testing.T) {
	l, clock := newTestLimiter()
	release := mustBegin(t, l)
	release(true)
	clock.Advance(5 * time.Minute)
	release2 := mustBegin(t, l)
	// A second call of the first release must not end the second run.
	release(true)
	if _, _, err := l.Begin(); !errors.Is(err, ErrBusy) {
		t.Errorf("Begin after a stale release: err = %v, want %v", err, ErrBusy)
	}
	release2(true)
}

func TestRateLimiterClockBack(t *testing.T) {
	l, clock := newTestLimiter()
	release := mustBegin(t, l)
	release(true)
	clock.Advance(-time.Hour)
	_, wait, err := l.Begin()
	if !errors.Is(err, ErrRateLimited) {
		t.Fatalf("err = %v, want %v", err, ErrRateLimited)
	}
	if wait != 5*time.Minute {
		t.Errorf("retryAfter = %v, want the interval, 5m", wait)
	}
}

func TestRateLimiterZeroInterval(t *testing.T) {
	l := NewRateLimiter(0, nil)
	for range 3 {
		release := mustBegin(t, l)
		release(true)
	}
}

func TestRateLimiterConcurrent(t *testing.T) {
	l, _ := newTestLimiter()
	const workers = 50
	var started sync.WaitGroup
	var wg sync.WaitGroup
	results := make(chan error, workers)
	gate := make(chan struct{})
	for range workers {
		wg.Add(1)
		started.Add(1)
		go func() {
			defer wg.Done()
			started.Done()
			<-gate
			release, _, err := l.Begin()
			if err == nil {
				// Keep the run going until every worker has tried.
				defer release(true)
			}
			results <- err
		}()
	}
	started.Wait()
	close(gate)
	wg.Wait()
	close(results)

	ok := 0
	for err := range results {
		switch {
		case err == nil:
			ok++
		case errors.Is(err, ErrBusy), errors.Is(err, ErrRateLimited):
		default:
			t.Errorf("unexpected error %v", err)
		}
	}
	if ok != 1 {
		t.Errorf("%d runs began, want exactly 1", ok)
	}
}
