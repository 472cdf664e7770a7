package btstore

import (
	"context"
	"fmt"
	"testing"

	"cloud.google.com/go/bigtable"

	"github.com/dualread/dualread/adapter/store"
)

// BenchmarkStore compares btstore with the raw Bigtable client on the same
// in-process emulator, so the difference is btstore's own cost (extra RPCs,
// filters, encoding), not the network. Run:
//
//	go test ./adapter/store/btstore -run '^$' -bench Store -benchmem
func BenchmarkStore(b *testing.B) {
	ctx := context.Background()
	s, err := NewEmbedded(ctx)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	if err := s.CreateSpace(ctx, "bench"); err != nil {
		b.Fatal(err)
	}
	tbl, _ := s.table("bench")
	value := make([]byte, 1024)
	const keys = 1000
	key := func(i int) []byte { return []byte(fmt.Sprintf("key%06d", i%keys)) }
	for i := range keys {
		if err := s.Update(ctx, func(ctx context.Context, tx store.Txn) error {
			tx.Put("bench", key(i), value)
			return nil
		}); err != nil {
			b.Fatal(err)
		}
	}

	b.Run("Get/raw", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			if _, err := tbl.ReadRow(ctx, string(key(i)), bigtable.RowFilter(bigtable.LatestNFilter(1))); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Get/btstore", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			if _, _, err := s.Get(ctx, "bench", key(i)); err != nil {
				b.Fatal(err)
			}
		}
	})
	// Raw puts go to keys of their own: their cells are not in btstore's format.
	b.Run("Put/raw", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			m := bigtable.NewMutation()
			m.Set(famData, colVal, cellTS, value)
			if err := tbl.Apply(ctx, "raw"+string(key(i)), m); err != nil {
				b.Fatal(err)
			}
		}
	})
	// A blind Put costs a read (for the version) plus one CheckAndMutateRow.
	b.Run("Put/btstore", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			if err := s.Update(ctx, func(ctx context.Context, tx store.Txn) error {
				tx.Put("bench", key(i), value)
				return nil
			}); err != nil {
				b.Fatal(err)
			}
		}
	})
	// Read-modify-write of one row: the executor's conditional write path.
	b.Run("ReadModifyWrite/btstore", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			if err := s.Update(ctx, func(ctx context.Context, tx store.Txn) error {
				if _, _, err := tx.Get(ctx, "bench", key(i)); err != nil {
					return err
				}
				tx.Put("bench", key(i), value)
				return nil
			}); err != nil {
				b.Fatal(err)
			}
		}
	})
	// Two rows: the Percolator path (record, 2 locks, commit, 2 applies, delete).
	b.Run("TwoRowTxn/btstore", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			if err := s.Update(ctx, func(ctx context.Context, tx store.Txn) error {
				tx.Put("bench", key(i), value)
				tx.Put("bench", key(i+1), value)
				return nil
			}); err != nil {
				b.Fatal(err)
			}
		}
	})
}
