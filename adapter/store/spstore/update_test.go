package spstore_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"cloud.google.com/go/spanner"
	"google.golang.org/api/iterator"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/dualread/dualread/adapter/store"
	"github.com/dualread/dualread/adapter/store/spstore"
)

func mustCreate(t *testing.T, s store.Store, space string) {
	t.Helper()
	if err := s.CreateSpace(t.Context(), space); err != nil {
		t.Fatal(err)
	}
}

func mustPut(t *testing.T, s store.Store, space, key, value string) {
	t.Helper()
	err := s.Update(t.Context(), func(ctx context.Context, tx store.Txn) error {
		tx.Put(space, []byte(key), []byte(value))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestFnErrorNotRetried checks that whatever fn returns, even an error
// carrying a gRPC status the Spanner client would retry (Aborted, Internal,
// ResourceExhausted), comes back as is after exactly one call, with nothing
// written.
func TestFnErrorNotRetried(t *testing.T) {
	s := open(t, emulatorDB(t))
	mustCreate(t, s, "sp")
	mustPut(t, s, "sp", "a", "1")
	tests := []struct {
		name string
		err  error
	}{
		{"plain", errors.New("plain")},
		{"wrapped plain", fmt.Errorf("ctx: %w", errors.New("inner"))},
		{"status aborted", status.Error(codes.Aborted, "fn says aborted")},
		{"status internal", status.Error(codes.Internal, "fn says internal")},
		{"status resource exhausted", status.Error(codes.ResourceExhausted, "fn says exhausted")},
		{"wrapped status aborted", fmt.Errorf("ctx: %w", status.Error(codes.Aborted, "x"))},
		{"ErrConflict", store.ErrConflict},
		{"ErrNoSpace", store.ErrNoSpace},
		{"context canceled", context.Canceled},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			calls := 0
			err := s.Update(t.Context(), func(ctx context.Context, tx store.Txn) error {
				calls++
				if _, _, err := tx.Get(ctx, "sp", []byte("a")); err != nil {
					return err
				}
				tx.Put("sp", []byte("a"), []byte("changed"))
				tx.Put("sp", []byte("b"), []byte("new"))
				return tc.err
			})
			if err != tc.err {
				t.Errorf("Update = %v (%T), want fn's error %v itself", err, err, tc.err)
			}
			if calls != 1 {
				t.Errorf("fn ran %d times, want 1", calls)
			}
			a, _, _ := s.Get(t.Context(), "sp", []byte("a"))
			_, bOK, _ := s.Get(t.Context(), "sp", []byte("b"))
			if string(a) != "1" || bOK {
				t.Errorf("after fn error: a=%q, b present=%v; want a=1, b absent", a, bOK)
			}
		})
	}
}

// TestConflictBudget makes every attempt conflict (fn lets another
// transaction change what it read) and checks that Update stops with
// store.ErrConflict when the attempt budget or the caller's context runs out.
func TestConflictBudget(t *testing.T) {
	db := emulatorDB(t)
	tests := []struct {
		name        string
		maxAttempts int
		timeout     time.Duration
		wantCtxErr  bool
	}{
		{"attempts", 3, time.Minute, false},
		{"context", 1000, 1500 * time.Millisecond, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, other := open(t, db), open(t, db)
			// Only s has the test's budget: the interfering writer may itself
			// be aborted a few times (by s's live transaction) before it gets
			// through.
			spstore.SetMaxAttempts(s, tc.maxAttempts)
			space := "sp_" + tc.name
			mustCreate(t, s, space)
			ctx, cancel := context.WithTimeout(t.Context(), tc.timeout)
			defer cancel()
			attempts := 0
			err := s.Update(ctx, func(ctx context.Context, tx store.Txn) error {
				attempts++
				if _, _, err := tx.Get(ctx, space, []byte("k")); err != nil {
					return err
				}
				// t.Context(), not ctx: the interferer must not run out first.
				if err := other.Update(t.Context(), func(ctx context.Context, tx2 store.Txn) error {
					tx2.Put(space, []byte("k"), []byte(fmt.Sprint("other", attempts)))
					return nil
				}); err != nil {
					return err
				}
				tx.Put(space, []byte("k"), []byte("mine"))
				return nil
			})
			if !errors.Is(err, store.ErrConflict) {
				t.Fatalf("Update = %v, want ErrConflict", err)
			}
			if got := errors.Is(err, context.DeadlineExceeded); got != tc.wantCtxErr {
				t.Errorf("Update = %v: is DeadlineExceeded = %v, want %v", err, got, tc.wantCtxErr)
			}
			if tc.maxAttempts < 1000 && attempts != tc.maxAttempts {
				t.Errorf("fn ran %d times, want %d (the budget)", attempts, tc.maxAttempts)
			}
			if attempts < 2 {
				t.Errorf("fn ran %d times, want retries", attempts)
			}
			v, _, _ := s.Get(t.Context(), space, []byte("k"))
			if want := fmt.Sprint("other", attempts); string(v) != want && tc.maxAttempts < 1000 {
				t.Errorf("k = %q, want the last interfering write %s", v, want)
			} else if string(v) == "mine" {
				t.Errorf("k = %q: a conflicting attempt committed", v)
			}
			t.Logf("%d attempts: %v", attempts, err)
		})
	}
}

// TestMissingSpaceAborts checks that a transaction writing an existing and a
// missing space fails with ErrNoSpace and writes nothing.
func TestMissingSpaceAborts(t *testing.T) {
	s := open(t, emulatorDB(t))
	mustCreate(t, s, "sp")
	err := s.Update(t.Context(), func(ctx context.Context, tx store.Txn) error {
		tx.Put("sp", []byte("k"), []byte("v"))
		tx.Put("missing", []byte("k"), []byte("v"))
		return nil
	})
	if !errors.Is(err, store.ErrNoSpace) {
		t.Fatalf("Update = %v, want ErrNoSpace", err)
	}
	if _, ok, err := s.Get(t.Context(), "sp", []byte("k")); ok || err != nil {
		t.Fatalf("half of a failed transaction is visible (present %v, err %v)", ok, err)
	}
	// A read of a missing space inside a transaction, too.
	err = s.Update(t.Context(), func(ctx context.Context, tx store.Txn) error {
		_, _, err := tx.Get(ctx, "missing", []byte("k"))
		return err
	})
	if !errors.Is(err, store.ErrNoSpace) {
		t.Fatalf("tx.Get on a missing space: %v, want ErrNoSpace", err)
	}
	// Scans in both directions (the read API and SQL report it differently).
	for _, r := range []store.Range{{}, {Reverse: true}, {Start: []byte("a"), End: []byte("b"), Limit: 1, Reverse: true}} {
		n := 0
		for _, err := range s.Scan(t.Context(), "missing", r) {
			n++
			if !errors.Is(err, store.ErrNoSpace) {
				t.Errorf("Scan(%+v) on a missing space: %v, want ErrNoSpace", r, err)
			}
		}
		if n != 1 {
			t.Errorf("Scan(%+v) on a missing space yielded %d times, want one error", r, n)
		}
	}
}

// TestKeyLimits checks the key sizes Spanner accepts (1..8192 bytes) and
// that others fail with an error instead of a panic or a silent no-op.
func TestKeyLimits(t *testing.T) {
	s := open(t, emulatorDB(t))
	mustCreate(t, s, "sp")
	ctx := t.Context()
	longest := []byte(strings.Repeat("\xff", 8192))
	mustPut(t, s, "sp", string(longest), "v")
	if v, ok, err := s.Get(ctx, "sp", longest); err != nil || !ok || string(v) != "v" {
		t.Fatalf("Get(8192-byte key) = %q, %v, %v", v, ok, err)
	}
	for _, key := range [][]byte{nil, {}, make([]byte, 8193)} {
		if _, _, err := s.Get(ctx, "sp", key); err == nil {
			t.Errorf("Get with a %d-byte key: no error", len(key))
		}
		err := s.Update(ctx, func(ctx context.Context, tx store.Txn) error {
			tx.Put("sp", key, []byte("v"))
			return nil
		})
		if err == nil {
			t.Errorf("Put with a %d-byte key: no error", len(key))
		}
	}
	if err := s.CreateSpace(ctx, "Bad-Name"); err == nil {
		t.Error("CreateSpace(Bad-Name): no error")
	}
}

// TestDropSpaceRacingWrites drops a space while writers keep writing to it,
// then re-creates it: no row written before or during the drop may show up
// in the new space, and writers must see ErrNoSpace once it is gone.
func TestDropSpaceRacingWrites(t *testing.T) {
	s := open(t, emulatorDB(t))
	mustCreate(t, s, "sp")
	ctx := t.Context()
	var wg sync.WaitGroup
	stop := make(chan struct{})
	var noSpace, written [2]int
	for w := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				err := s.Update(ctx, func(ctx context.Context, tx store.Txn) error {
					tx.Put("sp", []byte(fmt.Sprintf("w%d-%d", w, i)), []byte("x"))
					return nil
				})
				switch {
				case err == nil:
					written[w]++
				case errors.Is(err, store.ErrNoSpace):
					noSpace[w]++
				default:
					t.Errorf("writer %d: %v", w, err)
					return
				}
			}
		}()
	}
	time.Sleep(200 * time.Millisecond)
	if err := s.DropSpace(ctx, "sp"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond) // writers now hit the missing space
	close(stop)
	wg.Wait()
	for w := range 2 {
		if written[w] == 0 || noSpace[w] == 0 {
			t.Errorf("writer %d: %d writes, %d ErrNoSpace; want both > 0 (the race did not happen)", w, written[w], noSpace[w])
		}
	}
	mustCreate(t, s, "sp")
	for row, err := range s.Scan(ctx, "sp", store.Range{}) {
		if err != nil {
			t.Fatal(err)
		}
		t.Errorf("re-created space holds %q", row.Key)
	}
}

// TestJSONView checks the per-space SQL view that shows an executor value
// (kind byte, 8-byte version, DynamoDB JSON) as JSON text.
func TestJSONView(t *testing.T) {
	s := open(t, emulatorDB(t))
	mustCreate(t, s, "items")
	item := `{"pk":{"S":"a"},"n":{"N":"1"}}`
	value := append([]byte("I\x00\x00\x00\x00\x00\x00\x01\x02"), item...)
	mustPut(t, s, "items", "key1", string(value))
	mustPut(t, s, "items", "raw", "\xff\xfe") // not the executor's format
	it := spstore.RawClient(s).Single().Query(t.Context(), spanner.NewStatement(
		"SELECT k, kind, version_hex, item FROM "+spstore.ViewFor("items")+" ORDER BY k"))
	defer it.Stop()
	type viewRow struct {
		K       []byte
		Kind    *string
		Version *string
		Item    *string
	}
	var got []viewRow
	for {
		row, err := it.Next()
		if err != nil {
			if err == iterator.Done {
				break
			}
			t.Fatal(err)
		}
		var r viewRow
		if err := row.Columns(&r.K, &r.Kind, &r.Version, &r.Item); err != nil {
			t.Fatal(err)
		}
		got = append(got, r)
	}
	if len(got) != 2 {
		t.Fatalf("view has %d rows, want 2", len(got))
	}
	r := got[0]
	if string(r.K) != "key1" || r.Kind == nil || *r.Kind != "I" || r.Version == nil || *r.Version != "0000000000000102" || r.Item == nil || *r.Item != item {
		t.Errorf("view row = %q kind=%v version=%v item=%v", r.K, deref(r.Kind), deref(r.Version), deref(r.Item))
	}
	// Invalid UTF-8 becomes U+FFFD (SAFE_CONVERT_BYTES_TO_STRING's documented
	// behaviour); the executor's JSON is always valid UTF-8.
	if r := got[1]; string(r.K) != "raw" || r.Kind == nil || *r.Kind != "\uFFFD" || r.Item == nil || *r.Item != "" {
		t.Errorf("raw row = %q kind=%q item=%v; want kind U+FFFD, item empty", r.K, deref(r.Kind), deref(r.Item))
	}
	// Dropping the space drops the view with it.
	if err := s.DropSpace(t.Context(), "items"); err != nil {
		t.Fatal(err)
	}
	it2 := spstore.RawClient(s).Single().Query(t.Context(), spanner.NewStatement("SELECT item FROM "+spstore.ViewFor("items")))
	defer it2.Stop()
	if _, err := it2.Next(); err == nil {
		t.Error("view still readable after DropSpace")
	}
}

func deref(p *string) any {
	if p == nil {
		return nil
	}
	return *p
}

// TestSchemaChangeDuringTransaction checks that CreateSpace and DropSpace
// succeed while a read-write transaction is open: the emulator refuses schema
// changes then (FailedPrecondition), and spstore retries until it is over.
func TestSchemaChangeDuringTransaction(t *testing.T) {
	db := emulatorDB(t)
	s, other := open(t, db), open(t, db)
	mustCreate(t, s, "sp")
	mustCreate(t, s, "to_drop")
	started, ddlDone := make(chan struct{}), make(chan error, 1)
	var once sync.Once
	err := s.Update(t.Context(), func(ctx context.Context, tx store.Txn) error {
		if _, _, err := tx.Get(ctx, "sp", []byte("k")); err != nil {
			return err
		}
		once.Do(func() {
			close(started)
			go func() {
				ddlDone <- errors.Join(other.CreateSpace(t.Context(), "created"), other.DropSpace(t.Context(), "to_drop"))
			}()
		})
		time.Sleep(300 * time.Millisecond) // hold the transaction open while the DDL is tried
		tx.Put("sp", []byte("k"), []byte("v"))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	<-started
	if err := <-ddlDone; err != nil {
		t.Fatalf("schema change next to a transaction: %v", err)
	}
	mustPut(t, s, "created", "k", "v")
	if _, _, err := s.Get(t.Context(), "to_drop", []byte("k")); !errors.Is(err, store.ErrNoSpace) {
		t.Fatalf("Get on dropped space: %v, want ErrNoSpace", err)
	}
}
