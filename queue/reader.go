package queue

import (
	"context"
	"time"

	"github.com/postfix-queue-exporter/postfix_queue_exporter/parser"
	"github.com/postfix-queue-exporter/postfix_queue_exporter/postfix"
)

// Lister produces a queue listing, message by message. *postfix.Postqueue
// runs postqueue; FileLister reads a saved listing.
type Lister interface {
	List(ctx context.Context, h parser.Handler) (*postfix.ListResult, error)
}

// Source produces snapshots of one Postfix instance.
type Source interface {
	Snapshot(ctx context.Context) (*Snapshot, error)
}

// Reader takes a fresh snapshot on every call by running a Lister.
type Reader struct {
	Lister Lister
	Shape  *ShapeOptions    // nil means DefaultShapeOptions
	Now    func() time.Time // nil means time.Now
}

// Snapshot lists the queue and adds it up. A listing that fails half-way
// returns no snapshot, so no partial numbers are ever published.
func (r *Reader) Snapshot(ctx context.Context) (*Snapshot, error) {
	now := time.Now
	if r.Now != nil {
		now = r.Now
	}
	options := DefaultShapeOptions()
	if r.Shape != nil {
		options = *r.Shape
	}
	start := now()
	aggregator := NewShapeAggregator(options, start)
	result, err := r.Lister.List(ctx, aggregator.Add)
	if err != nil {
		return nil, err
	}

	end := now()
	return &Snapshot{
		Time:           end,
		Duration:       end.Sub(start),
		Format:         result.Format,
		Queues:         aggregator.Finish(end),
		MailSystemDown: result.MailSystemDown,
		Warnings:       result.Warnings,
	}, nil
}
