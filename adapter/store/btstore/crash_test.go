package btstore

import (
	"context"
	"errors"
	"testing"
	"time"

	"cloud.google.com/go/bigtable"
	"google.golang.org/api/option"

	"github.com/dualread/dualread/adapter/store"
)

func embedded(t *testing.T) *Store {
	t.Helper()
	s, err := NewEmbedded(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// peer is a second client of a's emulator: another adapter process.
func peer(t *testing.T, a *Store) *Store {
	t.Helper()
	conn, err := dialEmbedded(a.srv.Addr)
	if err != nil {
		t.Fatal(err)
	}
	b, err := open(t.Context(), Config{Project: "embedded", Instance: "embedded"},
		bigtable.ClientConfig{MetricsProvider: bigtable.NoopMetricsProvider{}}, option.WithGRPCConn(conn))
	if err != nil {
		t.Fatal(err)
	}
	b.conn = conn
	t.Cleanup(func() { b.Close() })
	return b
}

func mustUpdate(t *testing.T, s *Store, fn func(ctx context.Context, tx store.Txn) error) {
	t.Helper()
	if err := s.Update(t.Context(), fn); err != nil {
		t.Fatal(err)
	}
}

func putAll(space string, kv ...string) func(ctx context.Context, tx store.Txn) error {
	return func(ctx context.Context, tx store.Txn) error {
		for i := 0; i+1 < len(kv); i += 2 {
			tx.Put(space, []byte(kv[i]), []byte(kv[i+1]))
		}
		return nil
	}
}

func value(t *testing.T, s *Store, space, key string) string {
	t.Helper()
	v, ok, err := s.Get(t.Context(), space, []byte(key))
	if err != nil {
		t.Fatal(err)
	}
	if !ok {
		return "<absent>"
	}
	return string(v)
}

// raw reads a row without resolving anything.
func raw(t *testing.T, s *Store, space, key string) rowState {
	t.Helper()
	tbl, _ := s.table(space)
	r, err := tbl.ReadRow(t.Context(), key, bigtable.RowFilter(bigtable.LatestNFilter(1)))
	if err != nil {
		t.Fatal(err)
	}
	st, err := decodeRow(r)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func records(t *testing.T, s *Store) int {
	t.Helper()
	n := 0
	err := s.txns.ReadRows(t.Context(), bigtable.InfiniteRange(""), func(bigtable.Row) bool { n++; return true })
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestCrashRecovery stops a multi-row commit after each step, as if the
// process died there, and checks that another process (a) reads a state in
// which the transaction is all or nothing, at once and without waiting,
// (b) can write the same rows, after the record's expiry at worst, and
// (c) leaves no lock and, after Sweep, no record behind.
func TestCrashRecovery(t *testing.T) {
	const ttl = 150 * time.Millisecond
	tests := []struct {
		step    commitStep
		applied bool // whether the transaction must end up applied
	}{
		{stepRecord, false},
		{stepFirstLock, false},
		{stepLocked, false},
		{stepCommitted, true},
		{stepFirstApply, true},
		{stepApplied, true},
	}
	for _, tc := range tests {
		t.Run(stepName(tc.step), func(t *testing.T) {
			a := embedded(t)
			b := peer(t, a)
			a.cfg.txnTTL, b.cfg.txnTTL = ttl, ttl
			for _, s := range []string{"sp1", "sp2"} {
				if err := a.CreateSpace(t.Context(), s); err != nil {
					t.Fatal(err)
				}
			}
			mustUpdate(t, b, putAll("sp1", "x", "old", "y", "old", "gone", "old"))
			mustUpdate(t, b, putAll("sp2", "r", "readonly"))

			a.cfg.crashAfter = func(s commitStep) bool { return s == tc.step }
			err := a.Update(t.Context(), func(ctx context.Context, tx store.Txn) error {
				if _, _, err := tx.Get(ctx, "sp2", []byte("r")); err != nil {
					return err
				}
				tx.Put("sp1", []byte("x"), []byte("new"))
				tx.Put("sp1", []byte("y"), []byte("new"))
				tx.Put("sp1", []byte("z"), []byte("new"))
				tx.Delete("sp1", []byte("gone"))
				return nil
			})
			if !errors.Is(err, errCrashed) {
				t.Fatalf("Update err = %v, want the simulated crash", err)
			}

			want := map[string]string{"x": "old", "y": "old", "z": "<absent>", "gone": "old"}
			if tc.applied {
				want = map[string]string{"x": "new", "y": "new", "z": "new", "gone": "<absent>"}
			}
			// Scan first (Get would roll forward and hide the Scan path).
			got := map[string]string{"x": "<absent>", "y": "<absent>", "z": "<absent>", "gone": "<absent>"}
			start := time.Now()
			for row, err := range b.Scan(t.Context(), "sp1", store.Range{}) {
				if err != nil {
					t.Fatal(err)
				}
				got[string(row.Key)] = string(row.Value)
			}
			for k, w := range want {
				if got[k] != w {
					t.Errorf("Scan: %s = %q, want %q", k, got[k], w)
				}
				if v := value(t, b, "sp1", k); v != w {
					t.Errorf("Get: %s = %q, want %q", k, v, w)
				}
			}
			if d := time.Since(start); d > ttl {
				t.Errorf("reads took %v: they waited for the lock's expiry", d)
			}

			// Another process writes the same rows (a multi-row txn).
			mustUpdate(t, b, func(ctx context.Context, tx store.Txn) error {
				for _, k := range []string{"x", "y", "z"} {
					v, _, err := tx.Get(ctx, "sp1", []byte(k))
					if err != nil {
						return err
					}
					tx.Put("sp1", []byte(k), append(v, '!'))
				}
				return nil
			})
			for _, k := range []string{"x", "y", "z"} {
				w := want[k] + "!"
				if want[k] == "<absent>" {
					w = "!"
				}
				if v := value(t, b, "sp1", k); v != w {
					t.Errorf("after follow-up txn %s = %q, want %q", k, v, w)
				}
			}

			time.Sleep(ttl)
			if _, err := b.Sweep(t.Context()); err != nil {
				t.Fatal(err)
			}
			for _, k := range []string{"x", "y", "z", "gone"} {
				if st := raw(t, b, "sp1", k); st.lock != "" {
					t.Errorf("row %s still locked by %s", k, st.lock)
				}
			}
			if st := raw(t, b, "sp2", "r"); st.lock != "" || st.ver != 1 {
				t.Errorf("read-only row: lock %q version %d, want unlocked at version 1", st.lock, st.ver)
			}
			if n := records(t, b); n != 0 {
				t.Errorf("%d transaction records left after Sweep", n)
			}
		})
	}
}

func stepName(s commitStep) string {
	return map[commitStep]string{
		stepRecord: "AfterRecord", stepFirstLock: "AfterFirstLock", stepLocked: "AfterLocks",
		stepCommitted: "AfterCommitPoint", stepFirstApply: "AfterFirstApply", stepApplied: "AfterApply",
	}[s]
}

// TestLiveLockDoesNotBlockReaders: a pending transaction that is alive holds
// its locks; readers get the committed value at once, writers give up with
// ErrConflict after their retry budget, and Sweep leaves it alone.
func TestLiveLockDoesNotBlockReaders(t *testing.T) {
	a := embedded(t)
	b := peer(t, a)
	if err := a.CreateSpace(t.Context(), "sp"); err != nil {
		t.Fatal(err)
	}
	mustUpdate(t, a, putAll("sp", "x", "old", "y", "old"))
	a.cfg.txnTTL = time.Hour
	a.cfg.crashAfter = func(s commitStep) bool { return s == stepLocked }
	if err := a.Update(t.Context(), putAll("sp", "x", "new", "y", "new")); !errors.Is(err, errCrashed) {
		t.Fatalf("Update err = %v, want the simulated crash", err)
	}
	if v := value(t, b, "sp", "x"); v != "old" {
		t.Fatalf("reader saw %q under a pending lock, want old", v)
	}
	b.cfg.maxAttempts = 3
	err := b.Update(t.Context(), putAll("sp", "x", "other"))
	if !errors.Is(err, store.ErrConflict) {
		t.Fatalf("writer against a live lock: err = %v, want ErrConflict", err)
	}
	if n, err := b.Sweep(t.Context()); err != nil || n != 0 {
		t.Fatalf("Sweep finished %d (err %v), want 0: the record is not expired", n, err)
	}
	if st := raw(t, b, "sp", "x"); st.lock == "" {
		t.Fatal("live lock was cleared")
	}
}

// TestOwnerAbortedWhileCommitting: another process finds the owner's record
// expired between two lock acquisitions and aborts it; the owner must notice
// at its commit point, clean up, and succeed on a retry.
func TestOwnerAbortedWhileCommitting(t *testing.T) {
	a := embedded(t)
	b := peer(t, a)
	if err := a.CreateSpace(t.Context(), "sp"); err != nil {
		t.Fatal(err)
	}
	mustUpdate(t, a, putAll("sp", "x", "0", "y", "0"))
	a.cfg.txnTTL = time.Millisecond
	interfered := false
	a.cfg.crashAfter = func(s commitStep) bool {
		if s == stepFirstLock && !interfered {
			interfered = true
			time.Sleep(5 * time.Millisecond) // let the record expire
			if v := value(t, b, "sp", "x"); v != "0" {
				t.Errorf("reader saw %q", v)
			}
			if st := raw(t, b, "sp", "x"); st.lock != "" {
				t.Errorf("expired lock not cleared by the reader")
			}
		}
		return false
	}
	attempts := 0
	err := a.Update(t.Context(), func(ctx context.Context, tx store.Txn) error {
		attempts++
		tx.Put("sp", []byte("x"), []byte("1"))
		tx.Put("sp", []byte("y"), []byte("1"))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if attempts != 2 {
		t.Errorf("fn ran %d times, want 2 (first attempt aborted by the reader)", attempts)
	}
	for _, k := range []string{"x", "y"} {
		if v := value(t, b, "sp", k); v != "1" {
			t.Errorf("%s = %q, want 1", k, v)
		}
		if st := raw(t, b, "sp", k); st.lock != "" || st.ver != 2 {
			t.Errorf("%s: lock %q version %d, want unlocked at version 2", k, st.lock, st.ver)
		}
	}
	if n := records(t, b); n != 0 {
		t.Errorf("%d transaction records left", n)
	}
}

// TestKeyLimits: Bigtable row keys are 1..4096 bytes; btstore says so
// instead of sending a request Bigtable rejects.
func TestKeyLimits(t *testing.T) {
	s := embedded(t)
	if err := s.CreateSpace(t.Context(), "sp"); err != nil {
		t.Fatal(err)
	}
	max := make([]byte, maxKeyLen)
	for i := range max {
		max[i] = 0xff
	}
	mustUpdate(t, s, func(ctx context.Context, tx store.Txn) error {
		tx.Put("sp", max, []byte("v"))
		return nil
	})
	if v := value(t, s, "sp", string(max)); v != "v" {
		t.Fatalf("4096-byte key: %q", v)
	}
	for _, key := range [][]byte{nil, append(max, 0)} {
		if _, _, err := s.Get(t.Context(), "sp", key); err == nil {
			t.Errorf("Get with a %d-byte key: no error", len(key))
		}
		err := s.Update(t.Context(), func(ctx context.Context, tx store.Txn) error {
			tx.Put("sp", key, []byte("v"))
			return nil
		})
		if err == nil {
			t.Errorf("Put with a %d-byte key: no error", len(key))
		}
	}
	if _, _, err := s.Get(t.Context(), "Bad-Name", []byte("k")); err == nil {
		t.Error("invalid space name accepted")
	}
}
