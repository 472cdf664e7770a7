package dynamo

import (
	"context"
	"time"

	"github.com/dualread/dualread/adapter/store"
)

// TombstoneSweep is what one CollectTombstones pass over a table did.
type TombstoneSweep struct {
	Scanned    int // rows read
	Tombstones int // tombstones seen
	Collected  int // tombstones deleted
}

// CollectOptions tune CollectTombstones.
type CollectOptions struct {
	// Page is the number of rows read per store Scan (default 500).
	Page int
	// Pace, when set, is called before each page with the page size, and
	// may wait (a rate limiter); its error ends the pass.
	Pace func(ctx context.Context, rows int) error
}

// CollectTombstones deletes the tombstones of table whose version (the
// delete's change time) is before `before`. Replicate leaves a tombstone
// for every replicated delete so that an older change of the item arriving
// later is recognised as stale instead of resurrecting it; that protection
// is needed only as long as such an older change can still arrive.
//
// The hazard is inherent: once a tombstone is collected, a change of that
// item older than the delete, delivered afterwards, is applied (nothing
// newer is stored) and resurrects the item. So `before` must lie further
// back than any change can still be delivered late: the source stream's
// retention (DynamoDB Streams: 24 h; a Kinesis data stream: its retention
// period, up to 365 days) plus the consumer's worst lag, plus a margin.
//
// Each tombstone is deleted in its own transaction that checks it is still
// a tombstone older than `before`, so writes racing with the sweep win.
// Rows are read in pages, so a pass holds no scan open while it waits.
func (e *Executor) CollectTombstones(ctx context.Context, table string, before time.Time, opts CollectOptions) (TombstoneSweep, error) {
	var out TombstoneSweep
	t, err := e.catalog.get(ctx, table)
	if err != nil {
		return out, err
	}
	if opts.Page <= 0 {
		opts.Page = 500
	}
	cutoff := uint64(max(before.UnixMicro(), 0))
	space := t.rec.Space
	var start []byte
	for {
		if opts.Pace != nil {
			if err := opts.Pace(ctx, opts.Page); err != nil {
				return out, err
			}
		}
		var old [][]byte
		var last []byte
		rows := 0
		for row, err := range e.st.Scan(ctx, space, store.Range{Start: start, Limit: opts.Page}) {
			if err != nil {
				if err == store.ErrNoSpace {
					return out, errNoTable()
				}
				return out, err
			}
			rows++
			last = row.Key
			if len(row.Value) >= valueHeader && row.Value[0] == kindTombstone {
				out.Tombstones++
				if _, ver, _ := decodeRow(row.Value); ver < cutoff {
					old = append(old, append([]byte(nil), row.Key...))
				}
			}
		}
		out.Scanned += rows
		for _, k := range old {
			deleted, err := e.collectOne(ctx, space, k, cutoff)
			if err != nil {
				return out, e.publicError(err)
			}
			if deleted {
				out.Collected++
			}
		}
		if rows < opts.Page {
			return out, nil
		}
		start = append(append([]byte(nil), last...), 0)
	}
}

// collectOne deletes the row at key if it is still a tombstone older than
// cutoff. A tombstone has no index rows, so only the base row goes.
func (e *Executor) collectOne(ctx context.Context, space string, key []byte, cutoff uint64) (bool, error) {
	deleted := false
	err := e.st.Update(ctx, func(ctx context.Context, tx store.Txn) error {
		deleted = false
		raw, ok, err := tx.Get(ctx, space, key)
		if err != nil || !ok || len(raw) < valueHeader || raw[0] != kindTombstone {
			return err
		}
		if _, ver, err := decodeRow(raw); err != nil || ver >= cutoff {
			return err
		}
		tx.Delete(space, key)
		deleted = true
		return nil
	})
	return deleted, err
}
