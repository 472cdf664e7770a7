// Package lease shares the shards of a change stream between consumer
// instances and keeps their checkpoints, in the target store: the lease
// table (Table) and the lease rounds that take, renew, steal and shed
// leases and run one worker per held shard in lineage order
// (Coordinator). The Kinesis consumer (streamproc/kinesis) and the DynamoDB
// Streams consumer (streamproc/ddbstreams) differ only in how they list and
// read shards.
package lease

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/dualread/dualread/adapter/store"
)

// Space is the store space of the lease table: one row per (stream, shard)
// holding the owner, a counter bumped by every take and renewal, the
// expiry, the shard's parents, its checkpoint and the reader's state at
// that checkpoint. Checkpoints live in the lease row (as in the KCL) so a
// checkpoint write is fenced by the same transaction that checks ownership.
const Space = "streamproc_lease"

// ShardEnd is the checkpoint of a shard read to its end.
const ShardEnd = "SHARD_END"

// Lease is one row of the lease table.
type Lease struct {
	Stream  string   `json:"stream"`
	Shard   string   `json:"shard"`
	Parents []string `json:"parents,omitempty"`
	Owner   string   `json:"owner,omitempty"`
	Counter uint64   `json:"counter"`
	// Expiry is judged on the local clock of whoever looks; clocks only
	// decide when a lease may be stolen. Safety never depends on them: a
	// checkpoint is written only by the holder of the current counter, and
	// records applied twice by an old and a new owner are duplicates that
	// last-writer-wins absorbs.
	Expiry time.Time `json:"expiry"`
	// Checkpoint is the sequence number of the last record whose batch
	// was fully applied, ShardEnd, or "" (nothing yet).
	Checkpoint string `json:"checkpoint,omitempty"`
	// State is what the shard's reader needs, besides the position, to
	// continue exactly as it would have without a restart (the DynamoDB
	// Streams consumer keeps its version stamper here). Written with the
	// checkpoint; kept at ShardEnd so children can start from it.
	State json.RawMessage `json:"state,omitempty"`
}

func (l *Lease) expired(now time.Time) bool { return l.Owner == "" || now.After(l.Expiry) }

// ErrLost means the lease is no longer ours (taken over, or our counter
// is stale): the shard's worker must stop without checkpointing.
var ErrLost = errors.New("lease: lease lost")

// Table is the lease table of one stream.
type Table struct {
	st     store.Store
	stream string
}

// NewTable addresses stream's rows of the lease table in st (the space
// must exist: CreateSpace(ctx, Space)).
func NewTable(st store.Store, stream string) *Table { return &Table{st: st, stream: stream} }

func (t *Table) key(shard string) []byte { return []byte(t.stream + "\x00" + shard) }

func get(ctx context.Context, tx store.Txn, key []byte) (*Lease, error) {
	raw, ok, err := tx.Get(ctx, Space, key)
	if err != nil || !ok {
		return nil, err
	}
	l := new(Lease)
	return l, json.Unmarshal(raw, l)
}

func put(tx store.Txn, key []byte, l *Lease) error {
	b, err := json.Marshal(l)
	if err != nil {
		return err
	}
	tx.Put(Space, key, b)
	return nil
}

// Ensure creates a lease row for a shard that has none.
func (t *Table) Ensure(ctx context.Context, shard string, parents []string) error {
	k := t.key(shard)
	return t.st.Update(ctx, func(ctx context.Context, tx store.Txn) error {
		l, err := get(ctx, tx, k)
		if err != nil || l != nil {
			return err
		}
		return put(tx, k, &Lease{Stream: t.stream, Shard: shard, Parents: parents})
	})
}

// List returns the stream's leases by shard id.
func (t *Table) List(ctx context.Context) (map[string]*Lease, error) {
	start := []byte(t.stream + "\x00")
	end := []byte(t.stream + "\x01")
	out := map[string]*Lease{}
	for row, err := range t.st.Scan(ctx, Space, store.Range{Start: start, End: end}) {
		if err != nil {
			return nil, err
		}
		l := new(Lease)
		if err := json.Unmarshal(row.Value, l); err != nil {
			return nil, err
		}
		out[l.Shard] = l
	}
	return out, nil
}

// take makes owner the holder of shard's lease if it is free or expired (or
// steal is set) and unchanged since seen (its counter), and returns the new
// lease. The previous holder finds out at its next renewal or checkpoint.
func (t *Table) take(ctx context.Context, shard, owner string, seen uint64, now time.Time, d time.Duration, steal bool) (*Lease, error) {
	k := t.key(shard)
	var out *Lease
	err := t.st.Update(ctx, func(ctx context.Context, tx store.Txn) error {
		l, err := get(ctx, tx, k)
		if err != nil {
			return err
		}
		if l == nil || l.Counter != seen || (!steal && !l.expired(now)) || l.Checkpoint == ShardEnd {
			return ErrLost
		}
		l.Owner, l.Counter, l.Expiry = owner, l.Counter+1, now.Add(d)
		out = l
		return put(tx, k, l)
	})
	return out, err
}

// update runs f on the lease if owner still holds it at counter; f may
// change it, and the counter is bumped when renew is set.
func (t *Table) update(ctx context.Context, shard, owner string, counter uint64, renew bool, f func(*Lease)) (*Lease, error) {
	k := t.key(shard)
	var out *Lease
	err := t.st.Update(ctx, func(ctx context.Context, tx store.Txn) error {
		l, err := get(ctx, tx, k)
		if err != nil {
			return err
		}
		if l == nil || l.Owner != owner || l.Counter != counter {
			return ErrLost
		}
		if renew {
			l.Counter++
		}
		f(l)
		out = l
		return put(tx, k, l)
	})
	return out, err
}

// release clears the owner of shard's lease if it is owner (bumping the
// counter, so a stale holder's checkpoint cannot land afterwards).
func (t *Table) release(ctx context.Context, shard, owner string) error {
	k := t.key(shard)
	return t.st.Update(ctx, func(ctx context.Context, tx store.Txn) error {
		l, err := get(ctx, tx, k)
		if err != nil {
			return err
		}
		if l == nil || l.Owner != owner {
			return ErrLost
		}
		l.Owner, l.Counter = "", l.Counter+1
		return put(tx, k, l)
	})
}
