package lambda

import (
	"context"
	"encoding/json"
	"strings"
	"time"

	"github.com/dualread/dualread/adapter/store"
	"github.com/dualread/dualread/streamproc/ddbstreams"
	"github.com/dualread/dualread/streamproc/record"
)

// StampSpace holds, per item, the last DynamoDB Streams record stamped for
// it by this endpoint: its time unit, its rank k in that unit and its
// sequence number.
const StampSpace = "streamproc_stamp"

// ItemStamps gives DynamoDB Streams records from Lambda events the same
// kind of version the ddbstreams consumer gives them (ddbstreams.Stamp:
// the end of the record's time unit plus a rank within the unit), but
// ranks per item, in the store, because a Lambda event says nothing about
// shards: there is no lineage to count along. Lambda delivers an item's
// records in order (per shard, retrying a batch from its first failed
// record), so per item:
//
//   - a record in a later time unit than the last one stamped starts the
//     unit at rank 0;
//   - in the same unit, a record with a higher sequence number gets the
//     next rank, the same sequence number gets its rank again (a retry);
//   - a record in an earlier unit, or lower in the same unit, is older than
//     one already stamped: superseded, it is not applied (the newer record
//     was applied, or will be when its batch is retried).
//
// Each decision is one serializable transaction on the item's stamp row,
// made before the change is applied, so retries and concurrent duplicate
// deliveries agree on versions. The price is one extra small transaction
// per record; Kinesis-shaped events (exact times) need none.
type ItemStamps struct {
	st store.Store
}

// NewItemStamps creates the stamp space if missing.
func NewItemStamps(ctx context.Context, st store.Store) (*ItemStamps, error) {
	if err := st.CreateSpace(ctx, StampSpace); err != nil {
		return nil, err
	}
	return &ItemStamps{st: st}, nil
}

type itemStamp struct {
	Unit int64  `json:"unit"`
	K    uint64 `json:"k"`
	Seq  string `json:"seq"`
	Res  int64  `json:"res"` // µs per unit
}

// ended reports whether the row's time unit ended before cutoff (µs).
func (s itemStamp) ended(cutoff int64) bool { return s.Res > 0 && (s.Unit+1)*s.Res < cutoff }

func stampKey(c *record.Change) []byte {
	return c.Keys.AppendJSON([]byte(c.Table + "\x00"))
}

// Version returns the version of c (a DynamoDB Streams record; c.Version is
// its ApproximateCreationDateTime in µs) at time resolution res, or ok
// false when c is superseded by a newer record of the same item.
func (s *ItemStamps) Version(ctx context.Context, c *record.Change, res time.Duration) (v uint64, ok bool, err error) {
	r := uint64(res.Microseconds())
	unit := int64(c.Version / r)
	key := stampKey(c)
	err = s.st.Update(ctx, func(ctx context.Context, tx store.Txn) error {
		ok = false
		raw, found, err := tx.Get(ctx, StampSpace, key)
		if err != nil {
			return err
		}
		var cur itemStamp
		if found {
			if err := json.Unmarshal(raw, &cur); err != nil {
				return err
			}
		}
		next := itemStamp{Unit: unit, Seq: c.SequenceNumber, Res: int64(r)}
		switch {
		case !found || unit > cur.Unit:
		case c.SequenceNumber == cur.Seq:
			v, ok = ddbstreams.VersionAt(cur.Unit, cur.K, res), true
			return nil
		case unit == cur.Unit && seqLess(cur.Seq, c.SequenceNumber):
			next.K = cur.K + 1
		default:
			return nil // superseded
		}
		b, err := json.Marshal(next)
		if err != nil {
			return err
		}
		tx.Put(StampSpace, key, b)
		v, ok = ddbstreams.VersionAt(next.Unit, next.K, res), true
		return nil
	})
	return v, ok, err
}

// seqLess compares two DynamoDB Streams sequence numbers, which are
// decimal strings of any length, possibly zero-padded.
func seqLess(a, b string) bool {
	a, b = strings.TrimLeft(a, "0"), strings.TrimLeft(b, "0")
	if len(a) != len(b) {
		return len(a) < len(b)
	}
	return a < b
}

// Collect deletes stamp rows whose time unit ended before `before` and
// reports how many. Once every delivery of an item's older records is
// impossible (past the stream's 24 h retention), its row only saves a
// re-delivery's version from being recomputed; run it with the tombstone
// retention (streamproc.Sweeper).
func (s *ItemStamps) Collect(ctx context.Context, before time.Time) (int, error) {
	cutoff := before.UnixMicro()
	n := 0
	var start []byte
	for {
		var keys [][]byte
		var last []byte
		rows := 0
		for row, err := range s.st.Scan(ctx, StampSpace, store.Range{Start: start, Limit: 500}) {
			if err != nil {
				return n, err
			}
			rows++
			last = row.Key
			var cur itemStamp
			if json.Unmarshal(row.Value, &cur) == nil && cur.ended(cutoff) {
				keys = append(keys, append([]byte(nil), row.Key...))
			}
		}
		for _, k := range keys {
			deleted := false
			err := s.st.Update(ctx, func(ctx context.Context, tx store.Txn) error {
				deleted = false
				raw, found, err := tx.Get(ctx, StampSpace, k)
				if err != nil || !found {
					return err
				}
				var cur itemStamp
				if json.Unmarshal(raw, &cur) == nil && cur.ended(cutoff) {
					tx.Delete(StampSpace, k)
					deleted = true
				}
				return nil
			})
			if err != nil {
				return n, err
			}
			if deleted {
				n++
			}
		}
		if rows < 500 {
			return n, nil
		}
		start = append(append([]byte(nil), last...), 0)
	}
}
