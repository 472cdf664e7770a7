package streamproc

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"time"

	"github.com/dualread/dualread/adapter/store"
)

// DeadLetterSpace is the store space holding records that could not be
// applied. It lives in the target backend, next to the data, so it is as
// durable as the data and readable by the same tools; one row per record.
const DeadLetterSpace = "streamproc_deadletter"

// Letter is one dead-lettered record.
type Letter struct {
	Time   time.Time `json:"time"`
	Source string    `json:"source"`          // "kinesis", "backfill", ...
	Origin string    `json:"origin"`          // where it came from: stream/shard/sequence, table/segment
	Table  string    `json:"table,omitempty"` // when known
	Reason string    `json:"reason"`
	Record []byte    `json:"record"` // the raw record (base64 in JSON)
}

// DeadLetters is the dead-letter store.
type DeadLetters struct {
	st  store.Store
	now func() time.Time
}

// NewDeadLetters creates the space if missing.
func NewDeadLetters(ctx context.Context, st store.Store) (*DeadLetters, error) {
	if err := st.CreateSpace(ctx, DeadLetterSpace); err != nil {
		return nil, err
	}
	return &DeadLetters{st: st, now: time.Now}, nil
}

// Put stores one letter. Keys are time then 8 random bytes, so letters list
// in arrival order and two instances never collide.
func (d *DeadLetters) Put(ctx context.Context, l Letter) error {
	if l.Time.IsZero() {
		l.Time = d.now()
	}
	val, err := json.Marshal(l)
	if err != nil {
		return err
	}
	key := make([]byte, 16)
	binary.BigEndian.PutUint64(key, uint64(l.Time.UnixMicro()))
	_, _ = rand.Read(key[8:])
	return d.st.Update(ctx, func(ctx context.Context, tx store.Txn) error {
		tx.Put(DeadLetterSpace, key, val)
		return nil
	})
}

// List returns up to limit letters (0: all), oldest first.
func (d *DeadLetters) List(ctx context.Context, limit int) ([]Letter, error) {
	var out []Letter
	for row, err := range d.st.Scan(ctx, DeadLetterSpace, store.Range{Limit: limit}) {
		if err != nil {
			return nil, err
		}
		var l Letter
		if err := json.Unmarshal(row.Value, &l); err != nil {
			return nil, err
		}
		out = append(out, l)
	}
	return out, nil
}
