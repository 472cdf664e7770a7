package btstore

import (
	"context"
	"fmt"
	"iter"

	"cloud.google.com/go/bigtable"

	"github.com/dualread/dualread/adapter/store"
)

// maxResolveRounds bounds how often one read re-reads a row after resolving
// a lock on it; each round means another transaction committed to the row
// while we looked, so running out is a conflict.
const maxResolveRounds = 16

// Get is a strong single-row read.
func (s *Store) Get(ctx context.Context, space string, key []byte) ([]byte, bool, error) {
	st, err := s.readRow(ctx, space, key)
	if err != nil {
		return nil, false, err
	}
	return st.value, st.exists, nil
}

// readRow reads one row and resolves a lock found on it, returning the row's
// logical state: what a reader linearized at the moment of the read sees. A
// lock of a pending transaction is returned in st.lock; its value is the
// committed one, because a pending transaction has not changed any value.
func (s *Store) readRow(ctx context.Context, space string, key []byte) (rowState, error) {
	if err := checkKey(key); err != nil {
		return rowState{}, err
	}
	tbl, err := s.table(space)
	if err != nil {
		return rowState{}, err
	}
	for range maxResolveRounds {
		r, err := tbl.ReadRow(ctx, string(key), bigtable.RowFilter(bigtable.LatestNFilter(1)))
		if err != nil {
			return rowState{}, dataErr(space, err)
		}
		st, err := decodeRow(r)
		if err != nil {
			return rowState{}, err
		}
		if st.lock == "" {
			return st, nil
		}
		changed, err := s.resolve(ctx, space, key, st.lock)
		if err != nil {
			return rowState{}, err
		}
		if !changed {
			return st, nil
		}
	}
	return rowState{}, fmt.Errorf("%w: row kept changing while read", errConflict)
}

// Scan reads [r.Start, r.End) in key order (or reversed), resolving locks
// row by row. Rows are fetched in pages of r.Limit when a limit is set, so a
// small Limit does not stream a large range; tombstones are skipped here,
// and when they made a page short of live rows the next page continues
// after the last key seen.
func (s *Store) Scan(ctx context.Context, space string, r store.Range) iter.Seq2[store.Row, error] {
	return func(yield func(store.Row, error) bool) {
		tbl, err := s.table(space)
		if err != nil {
			yield(store.Row{}, err)
			return
		}
		start, end := string(r.Start), string(r.End)
		sent := 0
		for {
			opts := []bigtable.ReadOption{bigtable.RowFilter(bigtable.LatestNFilter(1))}
			if r.Reverse {
				opts = append(opts, bigtable.ReverseScan())
			}
			page := 0
			if r.Limit > 0 {
				page = r.Limit - sent
				opts = append(opts, bigtable.LimitRows(int64(page)))
			}
			if start != "" && end != "" && start >= end {
				return
			}
			var (
				got, stop bool
				last      string
				n         int
				cbErr     error
			)
			err := tbl.ReadRows(ctx, bigtable.NewRange(start, end), func(row bigtable.Row) bool {
				got, last = true, row.Key()
				n++
				st, err := decodeRow(row)
				if err == nil && st.lock != "" {
					st, err = s.readRow(ctx, space, []byte(row.Key()))
				}
				if err != nil {
					cbErr = err
					return false
				}
				if !st.exists {
					return true
				}
				sent++
				if !yield(store.Row{Key: []byte(row.Key()), Value: st.value}, nil) {
					stop = true
					return false
				}
				return r.Limit <= 0 || sent < r.Limit
			}, opts...)
			switch {
			case stop:
				return
			case cbErr != nil:
				yield(store.Row{}, cbErr)
				return
			case err != nil:
				yield(store.Row{}, dataErr(space, err))
				return
			}
			// Another page is needed only when rows were skipped (tombstones:
			// version-only rows of deleted keys) and the server filled the page.
			if r.Limit <= 0 || sent >= r.Limit || !got || n < page {
				return
			}
			if r.Reverse {
				end = last
			} else {
				start = last + "\x00"
			}
		}
	}
}
