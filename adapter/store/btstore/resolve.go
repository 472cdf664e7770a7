package btstore

import (
	"context"
	"encoding/binary"
	"fmt"
	"time"

	"cloud.google.com/go/bigtable"
)

// record is a transaction record as read back from the txn table.
type record struct {
	id      string
	status  string
	expiry  time.Time
	entries []*entry
}

// readRecord fetches a transaction record; found is false when it is gone
// (finished and deleted, or never fully written).
func (s *Store) readRecord(ctx context.Context, id string) (rec record, found bool, err error) {
	r, err := s.txns.ReadRow(ctx, id, bigtable.RowFilter(bigtable.LatestNFilter(1)))
	if err != nil {
		return rec, false, fmt.Errorf("btstore: read txn record: %w", err)
	}
	return parseRecord(id, r)
}

func parseRecord(id string, r bigtable.Row) (rec record, found bool, err error) {
	rec.id = id
	var muts []byte
	for _, it := range r[famTxn] {
		switch it.Column {
		case famTxn + ":" + colStatus:
			rec.status = string(it.Value)
		case famTxn + ":" + colMuts:
			muts = it.Value
		case famTxn + ":" + colExpiry:
			if len(it.Value) == 8 {
				rec.expiry = time.UnixMilli(int64(binary.BigEndian.Uint64(it.Value)))
			}
		}
	}
	if rec.status == "" {
		return rec, false, nil
	}
	rec.entries, err = decodeEntries(muts)
	if err != nil {
		return rec, false, fmt.Errorf("btstore: txn record %s: %w", id, err)
	}
	return rec, true, nil
}

// Sweep finishes every transaction record past its expiry: pending ones are
// aborted, then each is rolled forward or back and deleted. Readers resolve
// the locks they meet, but a record whose owner crashed before locking
// anything, or after unlocking everything, is met by no reader; Sweep is
// what removes those. The server runs it periodically; it is safe to run
// from any number of processes at once.
func (s *Store) Sweep(ctx context.Context) (finished int, err error) {
	var expired []record
	now := time.Now()
	err = s.txns.ReadRows(ctx, bigtable.InfiniteRange(""), func(r bigtable.Row) bool {
		rec, found, perr := parseRecord(r.Key(), r)
		if perr != nil {
			err = perr
			return false
		}
		if found && now.After(rec.expiry) {
			expired = append(expired, rec)
		}
		return true
	}, bigtable.RowFilter(bigtable.LatestNFilter(1)))
	if err != nil {
		return 0, fmt.Errorf("btstore: sweep: %w", err)
	}
	for _, rec := range expired {
		if rec.status == statusPending {
			ok, err := s.casStatus(ctx, rec.id, statusPending, statusAborted)
			if err != nil {
				return finished, err
			}
			if !ok { // decided meanwhile; its owner or a reader finishes it
				continue
			}
			rec.status = statusAborted
		}
		if err := s.finish(ctx, rec); err != nil {
			return finished, err
		}
		finished++
	}
	return finished, nil
}

// resolve deals with a lock held by txn id on (space, key) and reports
// whether it changed the row (so the caller must re-read it):
//   - record gone: the owner finished or gave up; the lock is a leftover → clear it.
//   - committed: roll the whole transaction forward and delete its record.
//   - aborted, or pending past its expiry (CAS it to aborted first): clear
//     all of its locks and delete its record.
//   - pending and live: leave it; the row's value is still the committed one.
func (s *Store) resolve(ctx context.Context, space string, key []byte, id string) (changed bool, err error) {
	for range 2 {
		rec, found, err := s.readRecord(ctx, id)
		if err != nil {
			return false, err
		}
		if !found {
			return true, s.unlock(ctx, &entry{space: space, key: key}, id)
		}
		switch rec.status {
		case statusCommitted:
			return true, s.finish(ctx, rec)
		case statusAborted:
			return true, s.finish(ctx, rec)
		case statusPending:
			if time.Now().Before(rec.expiry) {
				return false, nil
			}
			ok, err := s.casStatus(ctx, id, statusPending, statusAborted)
			if err != nil {
				return false, err
			}
			if ok {
				s.log.Debug("btstore: aborted expired transaction", "txn", id)
				rec.status = statusAborted
				return true, s.finish(ctx, rec)
			}
			// Lost the race: the owner committed or someone aborted; look again.
		default:
			return false, fmt.Errorf("btstore: txn record %s: unknown status %q", id, rec.status)
		}
	}
	return false, fmt.Errorf("%w: txn record %s kept changing", errConflict, id)
}

// finish completes a decided transaction: rolls every row forward
// (committed) or releases every lock (aborted), then deletes the record.
// Every step is conditional on the lock still being held by rec.id, so any
// number of clients may finish the same transaction concurrently.
func (s *Store) finish(ctx context.Context, rec record) error {
	for _, e := range rec.entries {
		var err error
		if rec.status == statusCommitted {
			err = s.applyLocked(ctx, e, rec.id)
		} else {
			err = s.unlock(ctx, e, rec.id)
		}
		if err != nil {
			return err
		}
	}
	return s.deleteRecord(ctx, rec.id)
}

// applyLocked writes e's mutation and clears the lock iff txn id holds it.
func (s *Store) applyLocked(ctx context.Context, e *entry, id string) error {
	return s.condLocked(ctx, e, id, applyMutation(e))
}

// unlock clears the lock iff txn id holds it, leaving the row unchanged.
func (s *Store) unlock(ctx context.Context, e *entry, id string) error {
	return s.condLocked(ctx, e, id, unlockMutation())
}

func (s *Store) condLocked(ctx context.Context, e *entry, id string, m *bigtable.Mutation) error {
	tbl, err := s.table(e.space)
	if err != nil {
		return err
	}
	err = tbl.Apply(ctx, string(e.key), bigtable.NewCondMutation(lockedBy(id), m, nil))
	if err != nil {
		if isNotFound(err) { // the space was dropped: nothing left to apply
			return nil
		}
		return dataErr(e.space, err)
	}
	return nil
}

// casStatus moves a record from one status to another atomically; ok is
// false if the record was not in status from (or is gone).
func (s *Store) casStatus(ctx context.Context, id, from, to string) (ok bool, err error) {
	m := bigtable.NewMutation()
	m.Set(famTxn, colStatus, tsFinal, []byte(to))
	err = s.txns.Apply(ctx, id, bigtable.NewCondMutation(
		bigtable.ChainFilters(cell(famTxn, colStatus), exact([]byte(from))), m, nil),
		bigtable.GetCondMutationResult(&ok))
	if err != nil {
		return false, fmt.Errorf("btstore: txn record %s %s→%s: %w", id, from, to, err)
	}
	return ok, nil
}

func (s *Store) deleteRecord(ctx context.Context, id string) error {
	m := bigtable.NewMutation()
	m.DeleteRow()
	if err := s.txns.Apply(ctx, id, m); err != nil {
		return fmt.Errorf("btstore: delete txn record %s: %w", id, err)
	}
	return nil
}
