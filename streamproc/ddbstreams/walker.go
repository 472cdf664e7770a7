package ddbstreams

import (
	"context"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"
)

// Walker reads a whole stream in one process, in lineage order: a shard is
// read only once every parent it has (still listed) was read to its end,
// starting from the parent's final Stamp, so each item's records come out
// in order with the same versions the leased Consumer computes. It keeps
// no checkpoints: every shard is read from TRIM_HORIZON, which with
// deterministic stamps makes a restarted walker repeat exactly what it
// emitted before (duplicates that last-writer-wins absorbs).
type Walker struct {
	Reader *Reader
	// Poll is how often the shard list is re-read (default 1 s).
	Poll time.Duration
}

// Walk reads s until ctx ends (returning ctx's error) or, once the stream
// is disabled, every shard was read to its end (returning nil). fn gets
// each batch of each shard; batches of one shard come in order, one at a
// time, while sibling shards run concurrently. An error from fn stops that
// shard's reading until the next poll, which resumes it after the last
// batch fn accepted.
func (w *Walker) Walk(ctx context.Context, s Stream, fn func(ctx context.Context, shard string, b Batch) error) error {
	poll := w.Poll
	if poll <= 0 {
		poll = time.Second
	}
	log := w.Reader.logger().With("stream", s.ARN)
	var (
		mu      sync.Mutex
		done    = map[string]Stamp{}    // shard → final stamp
		running = map[string]struct{}{} // being read now
		// progress is where a shard whose reading failed resumes: after
		// the last batch fn accepted, with the stamp there.
		progress = map[string]Batch{}
		wg       sync.WaitGroup
	)
	defer wg.Wait()
	for {
		d, err := w.Reader.Describe(ctx, s.ARN)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			log.Warn("DescribeStream failed", "err", err)
		} else {
			listed := map[string]bool{}
			for _, sh := range d.Shards {
				listed[sh.ID] = true
			}
			mu.Lock()
			all := true
			for _, sh := range d.Shards {
				_, fin := done[sh.ID]
				_, run := running[sh.ID]
				all = all && fin
				if fin || run {
					continue
				}
				var start Stamp
				if sh.Parent != "" && listed[sh.Parent] {
					ps, ok := done[sh.Parent]
					if !ok {
						continue // parent not finished: its records come first
					}
					start = ps
				}
				after := ""
				if p, ok := progress[sh.ID]; ok {
					after, start = p.Last, p.Stamp
				}
				running[sh.ID] = struct{}{}
				wg.Add(1)
				go func(shard, after string, start Stamp) {
					defer wg.Done()
					final, err := w.Reader.ReadShard(ctx, s, shard, after, start, func(ctx context.Context, b Batch) error {
						if err := fn(ctx, shard, b); err != nil {
							return err
						}
						mu.Lock()
						progress[shard] = Batch{Last: b.Last, Stamp: b.Stamp}
						mu.Unlock()
						return nil
					})
					mu.Lock()
					defer mu.Unlock()
					delete(running, shard)
					if err == nil {
						done[shard] = final
						delete(progress, shard)
					} else if ctx.Err() == nil {
						log.Warn("shard read stopped; will retry", "shard", shard, "err", err)
					}
				}(sh.ID, after, start)
			}
			mu.Unlock()
			if all && d.Status == types.StreamStatusDisabled {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(poll):
		}
	}
}
