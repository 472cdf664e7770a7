package btstore

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"time"

	"cloud.google.com/go/bigtable"
)

// commitStep names the points of the multi-row protocol after which the
// crashAfter test hook can stop a commit dead.
type commitStep int

const (
	stepRecord     commitStep = iota + 1 // record written, status pending
	stepFirstLock                        // first row locked
	stepLocked                           // every row locked
	stepCommitted                        // record CAS'd to committed
	stepFirstApply                       // first row applied and unlocked
	stepApplied                          // every row applied, record not yet deleted
)

// errCrashed is returned when the crashAfter hook stopped a commit.
var errCrashed = errors.New("btstore: commit stopped by test hook")

func (s *Store) crash(step commitStep) bool {
	return s.cfg.crashAfter != nil && s.cfg.crashAfter(step)
}

// cleanupTimeout bounds work done after the caller's context may have ended:
// releasing locks and rolling forward must not be cut short by a client that
// went away, or its locks would wait for their expiry.
const cleanupTimeout = 30 * time.Second

// commit makes tx's writes visible atomically, or returns errConflict.
func (s *Store) commit(ctx context.Context, tx *txn) error {
	if len(tx.writes) == 0 {
		return s.validate(ctx, tx)
	}
	// A blind write still needs the row's version to bump it (and, for the
	// multi-row path, to lock it); reading it now is serializable because
	// the write does not depend on the value.
	for id := range tx.writes {
		if _, ok := tx.reads[id]; !ok {
			k := tx.keys[id]
			st, err := s.readRow(ctx, k.space, k.key)
			if err != nil {
				return err
			}
			tx.reads[id] = read{exists: st.exists, value: st.value, ver: st.ver}
		}
	}
	entries := make([]*entry, 0, len(tx.reads))
	for id, r := range tx.reads {
		k := tx.keys[id]
		e := &entry{space: k.space, key: k.key, op: opRead, ver: r.ver}
		if w, ok := tx.writes[id]; ok {
			e.op, e.value = opPut, w.value
			if w.del {
				e.op, e.value = opDelete, nil
			}
		}
		entries = append(entries, e)
	}
	if len(entries) == 1 {
		return s.commitOne(ctx, entries[0])
	}
	slices.SortFunc(entries, compareEntries)
	return s.commitMulti(ctx, entries)
}

// validate commits a read-only transaction. One read is linearizable by
// itself. For several, re-reading every row after the last read and finding
// the same versions proves that each row kept its value from its first read
// to its re-read; all those intervals contain the moment of the last first
// read, so the reads form a snapshot at that moment.
func (s *Store) validate(ctx context.Context, tx *txn) error {
	if len(tx.reads) < 2 {
		return nil
	}
	for id, r := range tx.reads {
		k := tx.keys[id]
		st, err := s.readRow(ctx, k.space, k.key)
		if err != nil {
			return err
		}
		if st.ver != r.ver {
			return errConflict
		}
	}
	return nil
}

// casRow applies m to e's row iff the row is unlocked and still at the
// version e read.
func (s *Store) casRow(ctx context.Context, e *entry, m *bigtable.Mutation) (bool, error) {
	tbl, err := s.table(e.space)
	if err != nil {
		return false, err
	}
	var conflict bool
	cm := bigtable.NewCondMutation(conflictAt(e.ver), nil, m)
	if err := tbl.Apply(ctx, string(e.key), cm, bigtable.GetCondMutationResult(&conflict)); err != nil {
		return false, dataErr(e.space, err)
	}
	return !conflict, nil
}

// commitOne is the fast path: one row, one CheckAndMutateRow.
func (s *Store) commitOne(ctx context.Context, e *entry) error {
	if e.op == opRead {
		return nil
	}
	ok, err := s.casRow(ctx, e, applyMutation(e))
	if err != nil {
		return err
	}
	if !ok {
		s.help(ctx, e)
		return errConflict
	}
	return nil
}

// help resolves whatever lock made a conditional write fail, so that a
// crashed transaction does not block the retry until some reader comes by.
func (s *Store) help(ctx context.Context, e *entry) {
	if _, err := s.readRow(ctx, e.space, e.key); err != nil && ctx.Err() == nil {
		s.log.Debug("btstore: resolving a conflicting lock failed", "space", e.space, "err", err)
	}
}

func newTxnID() string { return rand.Text() }

// commitMulti runs the Percolator-style protocol; see ../README.md.
func (s *Store) commitMulti(ctx context.Context, entries []*entry) error {
	id := newTxnID()
	// 1. Transaction record, pending, with everything needed to roll forward.
	m := bigtable.NewMutation()
	m.Set(famTxn, colStatus, tsPending, []byte(statusPending))
	m.Set(famTxn, colMuts, tsPending, encodeEntries(entries))
	expiry := time.Now().Add(s.cfg.txnTTL).UnixMilli()
	m.Set(famTxn, colExpiry, tsPending, binary.BigEndian.AppendUint64(nil, uint64(expiry)))
	if err := s.txns.Apply(ctx, id, m); err != nil {
		return fmt.Errorf("btstore: write txn record: %w", err)
	}
	if s.crash(stepRecord) {
		return errCrashed
	}
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()

	// 2. Lock every row in key order, each conditional on the version read.
	for i, e := range entries {
		ok, err := s.casRow(ctx, e, lockMutation(e, id))
		if err == nil && !ok {
			s.help(ctx, e)
			err = errConflict
		}
		if err != nil {
			// entries[i] too: a failed RPC may still have taken the lock.
			s.abort(cctx, id, entries[:i+1])
			return err
		}
		if i == 0 && s.crash(stepFirstLock) {
			return errCrashed
		}
	}
	if s.crash(stepLocked) {
		return errCrashed
	}

	// 3. The commit point.
	ok, err := s.casStatus(ctx, id, statusPending, statusCommitted)
	if err != nil {
		// Unknown outcome: look at the record to learn it.
		rec, found, rerr := s.readRecord(cctx, id)
		switch {
		case rerr != nil:
			return fmt.Errorf("btstore: commit outcome unknown: %w", err)
		case found && rec.status == statusCommitted:
			ok = true
		default:
			s.abort(cctx, id, entries)
			return err
		}
	}
	if !ok { // someone found us expired and aborted us
		s.abort(cctx, id, entries)
		return errConflict
	}
	if s.crash(stepCommitted) {
		return errCrashed
	}

	// 4. Apply and unlock. From here on the transaction is durable: a row
	// left locked is rolled forward by its next reader, so failures are
	// logged, not returned.
	applied := true
	for i, e := range entries {
		if err := s.applyLocked(cctx, e, id); err != nil {
			applied = false
			s.log.Warn("btstore: roll-forward left to readers", "txn", id, "space", e.space, "err", err)
		}
		if i == 0 && s.crash(stepFirstApply) {
			return errCrashed
		}
	}
	if s.crash(stepApplied) {
		return errCrashed
	}
	// 5. Forget the record.
	if applied {
		if err := s.deleteRecord(cctx, id); err != nil {
			s.log.Warn("btstore: txn record left behind", "txn", id, "err", err)
		}
	}
	return nil
}

// abort gives up an uncommitted transaction: mark it aborted so that anyone
// meeting a lock clears it at once, release our locks, delete the record.
// All best effort: whatever is left behind resolves at expiry.
func (s *Store) abort(ctx context.Context, id string, locked []*entry) {
	// Releasing locks is safe even if this CAS failed: only we could commit.
	if _, err := s.casStatus(ctx, id, statusPending, statusAborted); err != nil {
		s.log.Warn("btstore: abort txn", "txn", id, "err", err)
	}
	for _, e := range locked {
		if err := s.unlock(ctx, e, id); err != nil {
			s.log.Warn("btstore: release lock", "txn", id, "space", e.space, "err", err)
			return
		}
	}
	if err := s.deleteRecord(ctx, id); err != nil {
		s.log.Warn("btstore: delete aborted txn record", "txn", id, "err", err)
	}
}
