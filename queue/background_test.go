package queue

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/go-kit/log"

	"github.com/postfix-queue-exporter/postfix_queue_exporter/postfix"
)

// steppedSource returns the results sent on its channel, one per listing,
// and announces the start of each listing on started.
type steppedSource struct {
	started chan struct{}
	results chan stepResult
}

type stepResult struct {
	snapshot *Snapshot
	err      error
}

func newSteppedSource() *steppedSource {
	return &steppedSource{started: make(chan struct{}, 10), results: make(chan stepResult)}
}

func (s *steppedSource) Snapshot(ctx context.Context) (*Snapshot, error) {
	s.started <- struct{}{}
	select {
	case r := <-s.results:
		return r.snapshot, r.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func TestBackgroundServesLastListing(t *testing.T) {
	source := newSteppedSource()
	background := NewBackground(&Cache{Source: source}, time.Hour, log.NewNopLogger())
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() {
		background.Run(ctx)
		close(stopped)
	}()

	first := &Snapshot{Time: time.Unix(1, 0)}
	<-source.started
	source.results <- stepResult{snapshot: first}
	snapshot, err := background.Snapshot(context.Background())
	if err != nil {
		t.Fatalf("Snapshot after the first listing: %v", err)
	}
	if snapshot != first {
		t.Errorf("Snapshot = %v, want the first listing", snapshot)
	}

	// A failed listing is served as its error.
	failure := &postfix.Error{Kind: postfix.KindTimeout, Command: "postqueue -j", Err: errors.New("timed out")}
	background.Invalidate()
	<-source.started
	source.results <- stepResult{err: failure}
	// The third listing starts only after the second was stored.
	background.Invalidate()
	<-source.started
	if _, err := background.Snapshot(context.Background()); !errors.Is(err, failure) {
		t.Errorf("Snapshot after a failed listing: error %v, want %v", err, failure)
	}
	if n := background.Status().Errors[postfix.KindTimeout]; n != 1 {
		t.Errorf("timeout errors = %d, want 1", n)
	}

	cancel()
	<-stopped
}

func TestBackgroundWaitsForFirstListing(t *testing.T) {
	source := newSteppedSource()
	background := NewBackground(&Cache{Source: source}, time.Hour, log.NewNopLogger())
	ctx, cancel := context.WithCancel(context.Background())
	cancel()

	if _, err := background.Snapshot(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Snapshot before any listing: error %v, want %v", err, context.Canceled)
	}
}

func TestBackgroundRunStops(t *testing.T) {
	source := newSteppedSource()
	background := NewBackground(&Cache{Source: source}, time.Hour, log.NewNopLogger())
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() {
		background.Run(ctx)
		close(stopped)
	}()
	<-source.started
	source.results <- stepResult{snapshot: &Snapshot{}}
	if _, err := background.Snapshot(context.Background()); err != nil {
		t.Fatal(err)
	}

	// Run waits for the next interval, an hour away, and must stop on
	// cancel instead.
	cancel()
	<-stopped
}
