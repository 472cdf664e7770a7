package spstore_test

import (
	"context"
	"fmt"
	"testing"

	"cloud.google.com/go/spanner"

	"github.com/dualread/dualread/adapter/store"
	"github.com/dualread/dualread/adapter/store/spstore"
	"github.com/dualread/dualread/internal/testenv"
)

const benchKeys = 200

func benchKey(i int) []byte { return []byte(fmt.Sprintf("key%06d", i%benchKeys)) }

// benchStore starts a fresh emulator for one measurement (a long-lived one
// drifts and gets slower, see STANDINS.md), opens spstore on it and fills
// space "bench" with benchKeys 1 KB values.
func benchStore(b *testing.B) (*spstore.Store, *spanner.Client, []byte) {
	b.Helper()
	b.Setenv("SPANNER_EMULATOR_HOST", testenv.StartSpannerEmulator(b))
	ctx := b.Context()
	s, err := spstore.OpenConfig(ctx, spstore.Config{Database: "projects/bench/instances/bench/databases/bench", MinSessions: 4})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	if err := s.CreateSpace(ctx, "bench"); err != nil {
		b.Fatal(err)
	}
	value := make([]byte, 1024)
	if err := s.Update(ctx, func(ctx context.Context, tx store.Txn) error {
		for i := range benchKeys {
			tx.Put("bench", benchKey(i), value)
		}
		return nil
	}); err != nil {
		b.Fatal(err)
	}
	return s, spstore.RawClient(s), value
}

// BenchmarkStore compares spstore with the raw Spanner client on the same
// emulator, each measurement on a fresh emulator, so the ratio is spstore's
// own cost. Run:
//
//	go test ./adapter/store/spstore -run '^$' -bench Store -benchmem
func BenchmarkStore(b *testing.B) {
	table := spstore.TableFor("bench")
	cols := []string{"k", "v"}

	b.Run("Get/raw", func(b *testing.B) {
		_, c, _ := benchStore(b)
		for i := 0; b.Loop(); i++ {
			if _, err := c.Single().ReadRow(b.Context(), table, spanner.Key{benchKey(i)}, []string{"v"}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Get/spstore", func(b *testing.B) {
		s, _, _ := benchStore(b)
		for i := 0; b.Loop(); i++ {
			if _, _, err := s.Get(b.Context(), "bench", benchKey(i)); err != nil {
				b.Fatal(err)
			}
		}
	})
	// Apply is a read-write transaction around the mutation: what a blind
	// Update does too.
	b.Run("Put/raw", func(b *testing.B) {
		_, c, value := benchStore(b)
		for i := 0; b.Loop(); i++ {
			m := spanner.InsertOrUpdate(table, cols, []any{benchKey(i), value})
			if _, err := c.Apply(b.Context(), []*spanner.Mutation{m}); err != nil {
				b.Fatal(err)
			}
		}
	})
	// ApplyAtLeastOnce is one Commit RPC without a transaction; spstore does
	// not use it (a replayed commit could overwrite a later write), it is here
	// to show what that would gain.
	b.Run("Put/rawAtLeastOnce", func(b *testing.B) {
		_, c, value := benchStore(b)
		for i := 0; b.Loop(); i++ {
			m := spanner.InsertOrUpdate(table, cols, []any{benchKey(i), value})
			if _, err := c.Apply(b.Context(), []*spanner.Mutation{m}, spanner.ApplyAtLeastOnce()); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Put/spstore", func(b *testing.B) {
		s, _, value := benchStore(b)
		for i := 0; b.Loop(); i++ {
			if err := s.Update(b.Context(), func(ctx context.Context, tx store.Txn) error {
				tx.Put("bench", benchKey(i), value)
				return nil
			}); err != nil {
				b.Fatal(err)
			}
		}
	})
	// Read-modify-write of one row: the executor's conditional write path.
	b.Run("ReadModifyWrite/raw", func(b *testing.B) {
		_, c, value := benchStore(b)
		for i := 0; b.Loop(); i++ {
			if _, err := c.ReadWriteTransaction(b.Context(), func(ctx context.Context, tx *spanner.ReadWriteTransaction) error {
				if _, err := tx.ReadRow(ctx, table, spanner.Key{benchKey(i)}, []string{"v"}); err != nil {
					return err
				}
				return tx.BufferWrite([]*spanner.Mutation{spanner.InsertOrUpdate(table, cols, []any{benchKey(i), value})})
			}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("ReadModifyWrite/spstore", func(b *testing.B) {
		s, _, value := benchStore(b)
		for i := 0; b.Loop(); i++ {
			if err := s.Update(b.Context(), func(ctx context.Context, tx store.Txn) error {
				if _, _, err := tx.Get(ctx, "bench", benchKey(i)); err != nil {
					return err
				}
				tx.Put("bench", benchKey(i), value)
				return nil
			}); err != nil {
				b.Fatal(err)
			}
		}
	})
	// Two rows in one transaction: no extra protocol on Spanner, unlike btstore.
	b.Run("TwoRowTxn/spstore", func(b *testing.B) {
		s, _, value := benchStore(b)
		for i := 0; b.Loop(); i++ {
			if err := s.Update(b.Context(), func(ctx context.Context, tx store.Txn) error {
				tx.Put("bench", benchKey(i), value)
				tx.Put("bench", benchKey(i+1), value)
				return nil
			}); err != nil {
				b.Fatal(err)
			}
		}
	})
	// 16 concurrent clients: strong reads are serialized in the emulator.
	b.Run("GetParallel16/raw", func(b *testing.B) {
		_, c, _ := benchStore(b)
		b.SetParallelism(16)
		b.RunParallel(func(pb *testing.PB) {
			for i := 0; pb.Next(); i++ {
				if _, err := c.Single().ReadRow(context.Background(), table, spanner.Key{benchKey(i)}, []string{"v"}); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
	b.Run("GetParallel16/spstore", func(b *testing.B) {
		s, _, _ := benchStore(b)
		b.SetParallelism(16)
		b.RunParallel(func(pb *testing.PB) {
			for i := 0; pb.Next(); i++ {
				if _, _, err := s.Get(context.Background(), "bench", benchKey(i)); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}
