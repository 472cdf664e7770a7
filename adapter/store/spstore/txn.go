package spstore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

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
	bctx, cancel := context.WithTimeout(ctx, s.cfg.budget)
	defer cancel()
	// The client refuses to start a transaction from inside another one's
	// closure (it marks the context it passes to it); fn gets bctx instead,
	// so an fn that runs an unrelated Update (the conformance suite does, to
	// force a conflict) works as it does on other backends.
	fnCtx := bctx
	attempts, retries := 0, 0
	var fnErr error
	_, err := s.client.ReadWriteTransaction(bctx, func(tctx context.Context, rw *spanner.ReadWriteTransaction) error {
		fnErr = nil
		if attempts > 0 {
			retries++
		}
		if attempts >= s.cfg.maxAttempts {
			return errTooManyAttempts
		}
		attempts++
		t := &txn{rw: rw, writes: map[string]*write{}}
		if err := fn(fnCtx, t); err != nil {
			if t.retryErr != nil {
				// A read inside fn voided the attempt: whatever fn made of
				// the error, let the client retry.
				return t.retryErr
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
	if attempts > 1 {
		s.log.DebugContext(ctx, "spstore: update retried", "attempts", attempts, "err", err)
	}
	// ranOut: the budget ended, or the caller's context ended after at least
	// one conflict. fn then typically fails on the context's error in a read;
	// that is a conflict, not fn's own error.
	ranOut := bctx.Err() != nil && (retries > 0 || ctx.Err() == nil)
	switch {
	case err == nil:
		return nil
	case fnErr != nil && !(ranOut && errors.Is(fnErr, bctx.Err())):
		return fnErr
	case errors.Is(err, errTooManyAttempts):
		return fmt.Errorf("spstore: gave up after %d attempts: %w", attempts, store.ErrConflict)
	case ranOut:
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
	// retryErr is the first read error that voids the attempt (see
	// voidsAttempt): it is retried even if fn swallows or rewraps it.
	retryErr error
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
	if err != nil && t.retryErr == nil && voidsAttempt(err) {
		t.retryErr = err // wraps the client's own error, which it knows to retry
	}
	return v, ok, err
}

// voidsAttempt says whether a read error inside a read-write transaction
// ends that attempt in a way the client retries: Spanner aborted the
// transaction (it lost a conflict), or the read that was to begin the
// transaction inline failed, so no transaction exists (the client then
// retries with an explicit BeginTransaction; the client's own test for it
// is this message).
func voidsAttempt(err error) bool {
	switch spanner.ErrCode(err) {
	case codes.Aborted:
		return true
	case codes.Internal:
		return strings.Contains(err.Error(), "failed inline begin transaction")
	}
	return false
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
