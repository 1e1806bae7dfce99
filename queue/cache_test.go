package queue

import (
	"context"
	"errors"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/postfix-queue-exporter/postfix_queue_exporter/postfix"
)

// outcome is one result of fakeSource.
type outcome struct {
	err  error
	down bool // the snapshot has MailSystemDown set
}

// fakeSource counts its runs and returns the outcomes in order, repeating the
// last one. While release is open, each run waits for it to be closed.
type fakeSource struct {
	release  chan struct{}
	outcomes []outcome
	now      func() time.Time

	mu       sync.Mutex
	runs     int
	contexts []context.Context
}

func (f *fakeSource) Snapshot(ctx context.Context) (*Snapshot, error) {
	f.mu.Lock()
	run := f.runs
	f.runs++
	f.contexts = append(f.contexts, ctx)
	f.mu.Unlock()

	if f.release != nil {
		select {
		case <-f.release:
		case <-ctx.Done():
			return nil, &postfix.Error{Kind: postfix.KindTimeout, Command: "fake", Err: ctx.Err()}
		}
	}
	result := outcome{}
	if len(f.outcomes) > 0 {
		result = f.outcomes[min(run, len(f.outcomes)-1)]
	}
	if result.err != nil {
		return nil, result.err
	}
	now := time.Now
	if f.now != nil {
		now = f.now
	}
	return &Snapshot{Time: now(), Queues: NewAggregator().Queues(), MailSystemDown: result.down}, nil
}

func (f *fakeSource) Runs() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.runs
}

func (f *fakeSource) Context(run int) context.Context {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.contexts[run]
}

func TestCacheSharesRunInFlight(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		source := &fakeSource{release: make(chan struct{})}
		cache := &Cache{Source: source}
		const callers = 50
		snapshots := make([]*Snapshot, callers)
		errs := make([]error, callers)

		var wg sync.WaitGroup
		for i := range callers {
			wg.Go(func() {
				snapshots[i], errs[i] = cache.Snapshot(context.Background())
			})
		}
		// Every caller now waits, one of them for the run it started.
		synctest.Wait()
		close(source.release)
		wg.Wait()

		if runs := source.Runs(); runs != 1 {
			t.Errorf("Source ran %d times for %d concurrent callers, want 1", runs, callers)
		}
		for i := range callers {
			if errs[i] != nil {
				t.Errorf("caller %d: %v", i, errs[i])
			}
			if snapshots[i] != snapshots[0] {
				t.Errorf("caller %d got a different snapshot than caller 0", i)
			}
		}
	})
}

func TestCacheMinInterval(t *testing.T) {
	tests := []struct {
		name        string
		minInterval time.Duration
		secondCall  time.Duration // after the first call finished
		wantRuns    int
	}{
		{name: "zero interval", minInterval: 0, secondCall: 0, wantRuns: 2},
		{name: "within interval", minInterval: 10 * time.Second, secondCall: 9 * time.Second, wantRuns: 1},
		{name: "at interval", minInterval: 10 * time.Second, secondCall: 10 * time.Second, wantRuns: 2},
		{name: "after interval", minInterval: 10 * time.Second, secondCall: time.Minute, wantRuns: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			now := time.Date(2026, time.December, 4, 15, 0, 0, 0, time.UTC)
			clock := func() time.Time { return now }
			source := &fakeSource{now: clock}
			cache := &Cache{Source: source, MinInterval: tt.minInterval, Now: clock}

			first, err := cache.Snapshot(context.Background())
			if err != nil {
				t.Fatalf("first Snapshot: %v", err)
			}
			now = now.Add(tt.secondCall)
			second, err := cache.Snapshot(context.Background())
			if err != nil {
				t.Fatalf("second Snapshot: %v", err)
			}

			if runs := source.Runs(); runs != tt.wantRuns {
				t.Errorf("Source ran %d times, want %d", runs, tt.wantRuns)
			}
			if reused := first == second; reused != (tt.wantRuns == 1) {
				t.Errorf("second call reused the first snapshot: %t, want %t", reused, tt.wantRuns == 1)
			}
		})
	}
}

func TestCacheErrorNotReused(t *testing.T) {
	failure := &postfix.Error{Kind: postfix.KindPermission, Command: "fake", Err: errors.New("exit status 69")}
	source := &fakeSource{outcomes: []outcome{{err: failure}, {}}}
	cache := &Cache{Source: source, MinInterval: time.Hour}

	if _, err := cache.Snapshot(context.Background()); err != failure {
		t.Fatalf("first Snapshot error = %v, want %v", err, failure)
	}
	snapshot, err := cache.Snapshot(context.Background())

	if err != nil {
		t.Fatalf("second Snapshot: %v", err)
	}
	if snapshot == nil {
		t.Error("second Snapshot returned no snapshot")
	}
	if runs := source.Runs(); runs != 2 {
		t.Errorf("Source ran %d times, want 2: a failed read must not be reused", runs)
	}
}

func TestCacheInvalidateDuringRun(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		source := &fakeSource{release: make(chan struct{})}
		cache := &Cache{Source: source, MinInterval: time.Hour}

		var snapshot *Snapshot
		var err error
		done := make(chan struct{})
		go func() {
			defer close(done)
			snapshot, err = cache.Snapshot(context.Background())
		}()
		synctest.Wait()
		// The queue changes while it is being listed.
		cache.Invalidate()
		close(source.release)
		<-done

		if err != nil {
			t.Fatalf("Snapshot: %v", err)
		}
		if snapshot == nil {
			t.Fatal("the caller waiting for the run got no snapshot")
		}
		if _, err := cache.Snapshot(context.Background()); err != nil {
			t.Fatalf("Snapshot after the run: %v", err)
		}
		if runs := source.Runs(); runs != 2 {
			t.Errorf("Source ran %d times, want 2: a run invalidated while in flight must not be reused", runs)
		}
	})
}

func TestCacheInvalidateDropsSnapshot(t *testing.T) {
	source := &fakeSource{}
	cache := &Cache{Source: source, MinInterval: time.Hour}

	first, err := cache.Snapshot(context.Background())
	if err != nil {
		t.Fatalf("first Snapshot: %v", err)
	}
	cache.Invalidate()
	second, err := cache.Snapshot(context.Background())
	if err != nil {
		t.Fatalf("second Snapshot: %v", err)
	}

	if runs := source.Runs(); runs != 2 {
		t.Errorf("Source ran %d times, want 2", runs)
	}
	if first == second {
		t.Error("Snapshot after Invalidate returned the dropped snapshot")
	}
}

func TestCacheCallerCancel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		source := &fakeSource{release: make(chan struct{})}
		cache := &Cache{Source: source}
		ctx, cancel := context.WithCancel(context.Background())

		var firstErr error
		firstDone := make(chan struct{})
		go func() {
			defer close(firstDone)
			_, firstErr = cache.Snapshot(ctx)
		}()
		synctest.Wait()
		// The scrape that started the run gives up, as when Prometheus
		// closes the connection.
		cancel()
		<-firstDone

		if !errors.Is(firstErr, context.Canceled) {
			t.Errorf("cancelled caller's error = %v, want context.Canceled", firstErr)
		}
		if err := source.Context(0).Err(); err != nil {
			t.Errorf("the shared run's context ended with the caller's: %v", err)
		}

		// A later caller joins the same run and gets its result.
		var second *Snapshot
		var secondErr error
		secondDone := make(chan struct{})
		go func() {
			defer close(secondDone)
			second, secondErr = cache.Snapshot(context.Background())
		}()
		synctest.Wait()
		close(source.release)
		<-secondDone

		if secondErr != nil {
			t.Fatalf("second caller: %v", secondErr)
		}
		if second == nil {
			t.Error("second caller got no snapshot")
		}
		if runs := source.Runs(); runs != 1 {
			t.Errorf("Source ran %d times, want 1", runs)
		}
	})
}

func TestCacheTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// The source never finishes on its own.
		source := &fakeSource{release: make(chan struct{})}
		cache := &Cache{Source: source, Timeout: 15 * time.Second}
		start := time.Now()

		_, err := cache.Snapshot(context.Background())

		if got := postfix.KindOf(err); got != postfix.KindTimeout {
			t.Errorf("KindOf(err) = %q, want %q (err: %v)", got, postfix.KindTimeout, err)
		}
		deadline, ok := source.Context(0).Deadline()
		if !ok {
			t.Fatal("the run's context has no deadline")
		}
		if want := start.Add(15 * time.Second); !deadline.Equal(want) {
			t.Errorf("the run's deadline is %v, want Timeout after the start, %v", deadline, want)
		}
	})
}

func TestCacheStatus(t *testing.T) {
	errorOf := func(kind postfix.Kind) error {
		return &postfix.Error{Kind: kind, Command: "fake", Err: errors.New(string(kind))}
	}
	plain := errors.New("not a postfix.Error")
	now := time.Date(2026, time.December, 4, 15, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	source := &fakeSource{now: clock, outcomes: []outcome{
		{err: errorOf(postfix.KindTimeout)},
		{err: errorOf(postfix.KindPermission)},
		{err: errorOf(postfix.KindPermission)},
		{down: true},
		{},
		{err: errorOf(postfix.KindParse)},
		{err: plain},
	}}
	cache := &Cache{Source: source, Now: clock}

	type step struct {
		wantLastError   bool
		wantLastSuccess time.Time
	}
	start := now
	steps := []step{
		{wantLastError: true},
		{wantLastError: true},
		{wantLastError: true},
		{wantLastSuccess: start.Add(3 * time.Second)},
		{wantLastSuccess: start.Add(4 * time.Second)},
		{wantLastError: true, wantLastSuccess: start.Add(4 * time.Second)},
		{wantLastError: true, wantLastSuccess: start.Add(4 * time.Second)},
	}
	for i, step := range steps {
		_, _ = cache.Snapshot(context.Background())
		status := cache.Status()
		if got := status.LastError != nil; got != step.wantLastError {
			t.Errorf("after read %d: LastError = %v, want set: %t", i, status.LastError, step.wantLastError)
		}
		if !status.LastSuccess.Equal(step.wantLastSuccess) {
			t.Errorf("after read %d: LastSuccess = %v, want %v", i, status.LastSuccess, step.wantLastSuccess)
		}
		now = now.Add(time.Second)
	}

	want := map[postfix.Kind]uint64{
		postfix.KindTimeout:        1,
		postfix.KindPermission:     2,
		postfix.KindMailSystemDown: 1, // a complete listing read while Postfix was down
		postfix.KindExec:           1, // an error that is not a *postfix.Error
		postfix.KindParse:          1,
	}
	status := cache.Status()
	for _, kind := range postfix.Kinds {
		if got := status.Errors[kind]; got != want[kind] {
			t.Errorf("Errors[%s] = %d, want %d", kind, got, want[kind])
		}
	}
	if len(status.Errors) != len(postfix.Kinds) {
		t.Errorf("Errors has %d kinds, want every one of the %d", len(status.Errors), len(postfix.Kinds))
	}
	if status.LastError != plain {
		t.Errorf("LastError = %v, want %v", status.LastError, plain)
	}
}

func TestCacheStatusIsCopy(t *testing.T) {
	cache := &Cache{Source: &fakeSource{outcomes: []outcome{{err: errors.New("failed")}}}}
	_, _ = cache.Snapshot(context.Background())

	status := cache.Status()
	status.Errors[postfix.KindExec] = 100

	if got := cache.Status().Errors[postfix.KindExec]; got != 1 {
		t.Errorf("Errors[exec] = %d after changing a returned copy, want 1", got)
	}
}

func TestCacheStatusBeforeFirstRead(t *testing.T) {
	status := (&Cache{Source: &fakeSource{}}).Status()

	for _, kind := range postfix.Kinds {
		count, ok := status.Errors[kind]
		if !ok {
			t.Errorf("Errors has no entry for %s", kind)
		}
		if count != 0 {
			t.Errorf("Errors[%s] = %d, want 0", kind, count)
		}
	}
	if !status.LastSuccess.IsZero() {
		t.Errorf("LastSuccess = %v, want zero", status.LastSuccess)
	}
}
