package dynamo

import (
	"context"
	"encoding/binary"

	"github.com/dualread/dualread/adapter/attr"
	"github.com/dualread/dualread/adapter/ddberr"
	"github.com/dualread/dualread/adapter/store"
)

// Outcome is what Replicate did with one change.
type Outcome int

const (
	Applied   Outcome = iota // the change is now the item's state
	Stale                    // the stored version is newer: change dropped
	Duplicate                // the stored version is this change's: change dropped
)

func (o Outcome) String() string {
	return [...]string{"applied", "stale", "duplicate"}[o]
}

// Replicate applies a change replicated from DynamoDB (a stream record or a
// backfilled item) with last-writer-wins on version: the item becomes image
// (nil: deleted) only if version is newer than what is stored. A delete
// leaves a tombstone carrying its version, so a late, older INSERT of the
// same item cannot resurrect it. Indexes are maintained in the same
// transaction, exactly as for the adapter's own writes.
//
// version is the change's time in microseconds (ApproximateCreationDateTime);
// the adapter's own writes carry their wall-clock time, so the newest write
// wins whichever path it came by.
func (e *Executor) Replicate(ctx context.Context, table string, key, image attr.Item, version uint64) (Outcome, error) {
	t, err := e.catalog.get(ctx, table)
	if err != nil {
		return 0, err
	}
	if image != nil {
		key = t.key.keyOf(image)
	}
	if err := t.key.checkKey(key); err != nil {
		return 0, err
	}
	if image != nil && image.Size() > maxItemSize {
		return 0, ddberr.Validation(itemTooLargeMsg)
	}
	rowKey := t.key.rowKey(key)
	var out Outcome
	err = e.st.Update(ctx, func(ctx context.Context, tx store.Txn) error {
		raw, ok, err := tx.Get(ctx, t.rec.Space, rowKey)
		if err != nil {
			return err
		}
		var old attr.Item
		if ok {
			var stored uint64
			if old, stored, err = decodeRow(raw); err != nil {
				return err
			}
			switch {
			case stored > version:
				out = Stale
				return nil
			case stored == version:
				out = Duplicate
				return nil
			}
		}
		out = Applied
		if image == nil {
			tx.Put(t.rec.Space, rowKey, encodeTombstone(version))
		} else {
			enc, err := encodeRow(image, version)
			if err != nil {
				return err
			}
			tx.Put(t.rec.Space, rowKey, enc)
		}
		return t.maintainIndexes(tx, old, image, version)
	})
	if err == store.ErrNoSpace {
		return 0, errNoTable()
	}
	return out, e.publicError(err)
}

func encodeTombstone(version uint64) []byte {
	out := make([]byte, valueHeader)
	out[0] = kindTombstone
	binary.BigEndian.PutUint64(out[1:], version)
	return out
}
