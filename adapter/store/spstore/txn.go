package spstore

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"cloud.google.com/go/spanner"
	"google.golang.org/grpc/codes"

	"github.com/dualread/dualread/adapter/store"
)

// errTooManyAttempts stops the client's retry loop: it is not a Spanner
// error, so the client returns it instead of retrying.
var errTooManyAttempts = errors.New("spstore: too many attempts")

// fnError carries fn's error out of the client's retry loop. It has no
// Unwrap on purpose: the client retries any error that unwraps to a Spanner
// Aborted, Internal or ResourceExhausted status, and fn's own errors must
// never be retried (store.Store's contract). Update returns fn's error itself.
type fnError struct{ err error }

func (e *fnError) Error() string { return e.err.Error() }

// Update runs fn in one Spanner read-write transaction. Reads inside fn are
// locking reads of that transaction (so write skew is impossible); writes are
// buffered here and sent as mutations with the commit. Spanner aborts a
// transaction that lost a conflict, and the client re-runs the closure; the
// number of attempts and the total time are bounded, and running out of
// either is store.ErrConflict.
func (s *Store) Update(ctx context.Context, fn func(ctx context.Context, tx store.Txn) error) error {
	// The client refuses to start a transaction from inside another one's
	// closure (it marks that context); fn gets the caller's context instead,
	// so an fn that runs an unrelated Update (the conformance suite does, to
	// force a conflict) works as it does on other backends.
	fnCtx := ctx
	bctx, cancel := context.WithTimeout(ctx, s.cfg.budget)
	defer cancel()
	attempts, aborts := 0, 0
	var fnErr error
	_, err := s.client.ReadWriteTransaction(bctx, func(tctx context.Context, rw *spanner.ReadWriteTransaction) error {
		fnErr = nil
		if attempts > 0 {
			aborts++
		}
		if attempts >= s.cfg.maxAttempts {
			return errTooManyAttempts
		}
		attempts++
		t := &txn{rw: rw, writes: map[string]*write{}}
		if err := fn(fnCtx, t); err != nil {
			if t.abortErr != nil {
				// A read inside fn was aborted by Spanner: the whole attempt
				// is void, whatever fn made of the error. Retry.
				return t.abortErr
			}
			fnErr = err
			return &fnError{err}
		}
		if t.err != nil {
			fnErr = t.err
			return &fnError{t.err}
		}
		return rw.BufferWrite(t.mutations())
	})
	switch {
	case err == nil:
		return nil
	case fnErr != nil:
		return fnErr
	case errors.Is(err, errTooManyAttempts):
		return fmt.Errorf("spstore: gave up after %d attempts: %w", attempts, store.ErrConflict)
	case aborts > 0 && bctx.Err() != nil:
		// The budget or the caller's context ran out while conflicting.
		return fmt.Errorf("spstore: gave up after %d attempts: %w", attempts, errors.Join(store.ErrConflict, bctx.Err()))
	case isNoTable(err):
		return fmt.Errorf("spstore: commit: %w", store.ErrNoSpace)
	case spanner.ErrCode(err) == codes.Aborted:
		return fmt.Errorf("spstore: %w: %v", store.ErrConflict, err)
	}
	return fmt.Errorf("spstore: commit: %w", err)
}

// write is a buffered Put (del false) or Delete of one row.
type write struct {
	space string
	key   []byte
	del   bool
	value []byte
	seq   int // order of first write, so mutations go out in fn's order
}

// txn is one attempt of an Update. It is used by fn's goroutine only.
type txn struct {
	rw     *spanner.ReadWriteTransaction
	writes map[string]*write // by rowID
	seq    int
	// abortErr is the first Aborted error a read returned: the attempt is
	// dead and must be retried even if fn swallows or rewraps the error.
	abortErr error
	// err is the first invalid Put or Delete (bad space or key), returned
	// instead of committing since Put and Delete cannot return errors.
	err error
}

// rowID names a row across spaces: space names cannot contain 0x00.
func rowID(space string, key []byte) string { return space + "\x00" + string(key) }

// Get reads the transaction's own buffered write of the row if there is one
// (Spanner does not show a transaction its buffered mutations), else the row
// through the transaction.
func (t *txn) Get(ctx context.Context, space string, key []byte) ([]byte, bool, error) {
	if err := checkSpace(space); err != nil {
		return nil, false, err
	}
	if err := checkKey(key); err != nil {
		return nil, false, err
	}
	if w, ok := t.writes[rowID(space, key)]; ok {
		if w.del {
			return nil, false, nil
		}
		return slices.Clone(w.value), true, nil
	}
	v, ok, err := readValue(ctx, t.rw, space, key)
	if err != nil && spanner.ErrCode(err) == codes.Aborted && t.abortErr == nil {
		t.abortErr = err // wraps the client's own error, which it knows to retry
	}
	return v, ok, err
}

// Put buffers key=value; key and value are copied.
func (t *txn) Put(space string, key, value []byte) {
	t.buffer(space, key, false, value)
}

// Delete buffers the removal of key.
func (t *txn) Delete(space string, key []byte) {
	t.buffer(space, key, true, nil)
}

func (t *txn) buffer(space string, key []byte, del bool, value []byte) {
	if err := errors.Join(checkSpace(space), checkKey(key)); err != nil {
		if t.err == nil {
			t.err = err
		}
		return
	}
	id := rowID(space, key)
	w, ok := t.writes[id]
	if !ok {
		w = &write{space: space, key: slices.Clone(key), seq: t.seq}
		t.seq++
		t.writes[id] = w
	}
	w.del = del
	w.value = nil
	if !del {
		w.value = append([]byte{}, value...) // never nil: an empty value is a value
	}
}

var rowCols = []string{colKey, colValue}

// mutations is the last write of every row, one mutation each.
func (t *txn) mutations() []*spanner.Mutation {
	ws := make([]*write, 0, len(t.writes))
	for _, w := range t.writes {
		ws = append(ws, w)
	}
	slices.SortFunc(ws, func(a, b *write) int { return a.seq - b.seq })
	ms := make([]*spanner.Mutation, len(ws))
	for i, w := range ws {
		if w.del {
			ms[i] = spanner.Delete(tableFor(w.space), spanner.Key{w.key})
		} else {
			ms[i] = spanner.InsertOrUpdate(tableFor(w.space), rowCols, []any{w.key, w.value})
		}
	}
	return ms
}
