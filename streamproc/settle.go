package streamproc

import (
	"context"
	"log/slog"
	"time"
)

// ApplyAll applies a batch again and again until every record settled
// (applied, dropped as stale or duplicate, or dead-lettered), backing off
// between tries, and returns nil then, or ctx's error. Re-applying a whole
// batch is safe (applied records come back as Duplicate), so a stream
// reader calls this and then checkpoints the batch: the checkpoint never
// passes a record that was not settled.
func (a *Applier) ApplyAll(ctx context.Context, ins []Input, log *slog.Logger, what string) (Result, error) {
	b := NewBackoff()
	for {
		res, err := a.Apply(ctx, ins)
		if err == nil {
			return res, nil
		}
		if ctx.Err() != nil {
			return res, ctx.Err()
		}
		log.Warn("batch not applied, retrying", "batch", what, "err", err)
		if err := b.Wait(ctx); err != nil {
			return res, err
		}
	}
}

// Backoff is capped exponential backoff for stream readers: 100 ms
// doubling to 5 s.
type Backoff struct{ d time.Duration }

// NewBackoff starts at 100 ms.
func NewBackoff() *Backoff { return &Backoff{100 * time.Millisecond} }

// Reset goes back to 100 ms after a success.
func (b *Backoff) Reset() { b.d = 100 * time.Millisecond }

// Wait sleeps the current delay (or until ctx ends) and doubles it.
func (b *Backoff) Wait(ctx context.Context) error {
	select {
	case <-time.After(b.d):
		b.d = min(2*b.d, 5*time.Second)
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
