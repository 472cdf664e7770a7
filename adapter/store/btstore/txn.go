package btstore

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/dualread/dualread/adapter/store"
)

// errConflict is the internal "retry fn" signal; Update turns running out
// of retries into store.ErrConflict. It wraps store.ErrConflict for the
// rare case it escapes from Get or Scan (a row that kept changing).
var errConflict = fmt.Errorf("btstore: %w", store.ErrConflict)

func isNotFound(err error) bool { return status.Code(err) == codes.NotFound }

// rowID names a row across spaces: space names cannot contain 0x00.
type rowID string

func idOf(space string, key []byte) rowID { return rowID(space + "\x00" + string(key)) }

// read is what a transaction saw of one row.
type read struct {
	exists bool
	value  []byte
	ver    uint64
}

// write is a buffered Put or Delete.
type write struct {
	del   bool
	value []byte
}

// txn buffers one attempt of an Update. It is used by one goroutine (fn's).
type txn struct {
	s      *Store
	reads  map[rowID]read
	writes map[rowID]write
	keys   map[rowID]rowKey
}

type rowKey struct {
	space string
	key   []byte
}

func newTxn(s *Store) *txn {
	return &txn{s: s, reads: map[rowID]read{}, writes: map[rowID]write{}, keys: map[rowID]rowKey{}}
}

func (t *txn) remember(space string, key []byte) rowID {
	id := idOf(space, key)
	if _, ok := t.keys[id]; !ok {
		t.keys[id] = rowKey{space: space, key: append([]byte(nil), key...)}
	}
	return id
}

// Get reads through the buffer: own writes first, then the first read of the
// row (repeatable), then the store.
func (t *txn) Get(ctx context.Context, space string, key []byte) ([]byte, bool, error) {
	id := t.remember(space, key)
	if w, ok := t.writes[id]; ok {
		if w.del {
			return nil, false, nil
		}
		return w.value, true, nil
	}
	if r, ok := t.reads[id]; ok {
		return r.value, r.exists, nil
	}
	st, err := t.s.readRow(ctx, space, key)
	if err != nil {
		return nil, false, err
	}
	t.reads[id] = read{exists: st.exists, value: st.value, ver: st.ver}
	return st.value, st.exists, nil
}

func (t *txn) Put(space string, key, value []byte) {
	t.writes[t.remember(space, key)] = write{value: append([]byte(nil), value...)}
}

func (t *txn) Delete(space string, key []byte) {
	t.writes[t.remember(space, key)] = write{del: true}
}

// Update runs fn in an optimistic serializable transaction, retrying it with
// jittered exponential backoff while commits conflict.
func (s *Store) Update(ctx context.Context, fn func(ctx context.Context, tx store.Txn) error) error {
	for attempt := 1; ; attempt++ {
		tx := newTxn(s)
		err := fn(ctx, tx)
		switch {
		case err == nil:
			err = s.commit(ctx, tx)
		case !errors.Is(err, errConflict): // errConflict: a read met a row that kept changing
			return err
		}
		if !errors.Is(err, errConflict) {
			return err
		}
		if attempt >= s.cfg.maxAttempts {
			return fmt.Errorf("%w after %d attempts", store.ErrConflict, attempt)
		}
		d := min(s.cfg.backoffBase<<min(attempt-1, 20), s.cfg.backoffMax)
		d = d/2 + rand.N(d/2+1) // jitter so that colliding retries spread out
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w: %w", store.ErrConflict, ctx.Err())
		case <-time.After(d):
		}
	}
}
