package storetest

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"

	"github.com/dualread/dualread/adapter/store"
)

func testReadYourWrites(t *testing.T, s store.Store) {
	sp := newSpace(t, s)
	put(t, s, sp, "old", "0", "gone", "x")
	err := s.Update(t.Context(), func(ctx context.Context, tx store.Txn) error {
		steps := []struct {
			do    func()
			key   string
			value string
		}{
			{func() {}, "old", "0"},
			{func() { tx.Put(sp, []byte("new"), []byte("1")) }, "new", "1"},
			{func() { tx.Put(sp, []byte("old"), []byte("2")) }, "old", "2"},
			{func() { tx.Delete(sp, []byte("gone")) }, "gone", absent},
			{func() { tx.Put(sp, []byte("gone"), []byte("back")) }, "gone", "back"},
			{func() { tx.Delete(sp, []byte("new")) }, "new", absent},
		}
		for i, st := range steps {
			st.do()
			v, ok, err := tx.Get(ctx, sp, []byte(st.key))
			if err != nil {
				return err
			}
			got := string(v)
			if !ok {
				got = absent
			}
			if got != st.value {
				return fmt.Errorf("step %d: tx.Get(%q) = %q, want %q", i, st.key, got, st.value)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]string{"old": "2", "new": absent, "gone": "back"} {
		if got := get(t, s, sp, k); got != want {
			t.Errorf("after commit Get(%q) = %q, want %q", k, got, want)
		}
	}
}

func testFnErrorAborts(t *testing.T, s store.Store) {
	sp := newSpace(t, s)
	put(t, s, sp, "a", "1")
	errStop := errors.New("stop")
	calls := 0
	err := s.Update(t.Context(), func(ctx context.Context, tx store.Txn) error {
		calls++
		if _, _, err := tx.Get(ctx, sp, []byte("a")); err != nil {
			return err
		}
		tx.Put(sp, []byte("a"), []byte("2"))
		tx.Put(sp, []byte("b"), []byte("2"))
		tx.Delete(sp, []byte("a"))
		return fmt.Errorf("wrapped: %w", errStop)
	})
	if !errors.Is(err, errStop) {
		t.Fatalf("Update err = %v, want fn's error", err)
	}
	if calls != 1 {
		t.Fatalf("fn called %d times after returning an error, want 1", calls)
	}
	if a, b := get(t, s, sp, "a"), get(t, s, sp, "b"); a != "1" || b != absent {
		t.Fatalf("after aborted txn a=%q b=%q, want 1 and absent", a, b)
	}
}

func readInt(ctx context.Context, tx store.Txn, space, key string) (int, error) {
	v, ok, err := tx.Get(ctx, space, []byte(key))
	if err != nil || !ok {
		return 0, err
	}
	return strconv.Atoi(string(v))
}

func putInt(tx store.Txn, space, key string, n int) {
	tx.Put(space, []byte(key), []byte(strconv.Itoa(n)))
}

// testConflictRetried forces a conflict deterministically: on its first
// attempt, fn lets another transaction change what it read before it
// commits. The commit must fail and fn must run again on fresh data.
func testConflictRetried(t *testing.T, s store.Store) {
	for _, multi := range []bool{false, true} {
		t.Run(fmt.Sprintf("multiRow=%v", multi), func(t *testing.T) {
			sp := newSpace(t, s)
			attempts := 0
			err := s.Update(t.Context(), func(ctx context.Context, tx store.Txn) error {
				attempts++
				n, err := readInt(ctx, tx, sp, "k")
				if err != nil {
					return err
				}
				if attempts == 1 {
					err := s.Update(ctx, func(ctx context.Context, tx2 store.Txn) error {
						m, err := readInt(ctx, tx2, sp, "k")
						putInt(tx2, sp, "k", m+10)
						return err
					})
					if err != nil {
						return err
					}
				}
				putInt(tx, sp, "k", n+1)
				if multi {
					putInt(tx, sp, "other", n+1)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if attempts != 2 {
				t.Errorf("fn ran %d times, want 2", attempts)
			}
			if got := get(t, s, sp, "k"); got != "11" {
				t.Errorf("k = %s, want 11 (lost update)", got)
			}
		})
	}
}

// testWriteSkew is the on-call doctors anomaly: two transactions each read
// both rows and clear their own if both are set. Snapshot isolation lets
// both commit; serializability must not.
func testWriteSkew(t *testing.T, s store.Store) {
	sp := newSpace(t, s)
	put(t, s, sp, "x", "1", "y", "1")
	goOff := func(me string) func(context.Context, store.Txn) error {
		return func(ctx context.Context, tx store.Txn) error {
			x, err := readInt(ctx, tx, sp, "x")
			if err != nil {
				return err
			}
			y, err := readInt(ctx, tx, sp, "y")
			if err != nil {
				return err
			}
			if x+y == 2 {
				putInt(tx, sp, me, 0)
			}
			return nil
		}
	}
	attempts := 0
	err := s.Update(t.Context(), func(ctx context.Context, tx store.Txn) error {
		attempts++
		if err := goOff("x")(ctx, tx); err != nil {
			return err
		}
		if attempts == 1 {
			return s.Update(ctx, goOff("y"))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if x, y := get(t, s, sp, "x"), get(t, s, sp, "y"); x == "0" && y == "0" {
		t.Fatalf("write skew: both x and y cleared (attempts %d)", attempts)
	}
}

// testMultiRowAtomic has a writer set three rows (two spaces) to the same
// number again and again while readers read all three in transactions:
// every committed read must see one number.
func testMultiRowAtomic(t *testing.T, s store.Store) {
	a, b := newSpace(t, s), newSpace(t, s)
	rows := [][2]string{{a, "r1"}, {a, "r2"}, {b, "r1"}}
	const rounds = 30
	ctx := t.Context()
	var wg sync.WaitGroup
	done := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(done)
		for i := 1; i <= rounds; i++ {
			err := s.Update(ctx, func(ctx context.Context, tx store.Txn) error {
				for _, r := range rows {
					putInt(tx, r[0], r[1], i)
				}
				return nil
			})
			if err != nil {
				t.Errorf("writer: %v", err)
				return
			}
		}
	}()
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-done:
					return
				default:
				}
				var seen []int
				err := s.Update(ctx, func(ctx context.Context, tx store.Txn) error {
					seen = seen[:0]
					for _, r := range rows {
						n, err := readInt(ctx, tx, r[0], r[1])
						if err != nil {
							return err
						}
						seen = append(seen, n)
					}
					return nil
				})
				if errors.Is(err, store.ErrConflict) {
					continue
				}
				if err != nil {
					t.Errorf("reader: %v", err)
					return
				}
				if seen[0] != seen[1] || seen[1] != seen[2] {
					t.Errorf("reader saw a partial transaction: %v", seen)
					return
				}
			}
		}()
	}
	wg.Wait()
	for _, r := range rows {
		if got := get(t, s, r[0], r[1]); got != strconv.Itoa(rounds) {
			t.Errorf("%s/%s = %s, want %d", r[0], r[1], got, rounds)
		}
	}
}

func testManyRowTxn(t *testing.T, s store.Store) {
	a, b := newSpace(t, s), newSpace(t, s)
	const n = 100 // DynamoDB's TransactWriteItems limit
	err := s.Update(t.Context(), func(ctx context.Context, tx store.Txn) error {
		for i := range n {
			tx.Put([]string{a, b}[i%2], []byte(fmt.Sprintf("k%03d", i)), []byte("v1"))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if ka, kb := scan(t, s, a, store.Range{}), scan(t, s, b, store.Range{}); len(ka)+len(kb) != n {
		t.Fatalf("after 100-row txn: %d + %d rows, want %d", len(ka), len(kb), n)
	}
	err = s.Update(t.Context(), func(ctx context.Context, tx store.Txn) error {
		for i := range n {
			sp, k := []string{a, b}[i%2], []byte(fmt.Sprintf("k%03d", i))
			if i%4 < 2 {
				tx.Delete(sp, k)
			} else {
				tx.Put(sp, k, []byte("v2"))
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		want := "v2"
		if i%4 < 2 {
			want = absent
		}
		if got := get(t, s, []string{a, b}[i%2], fmt.Sprintf("k%03d", i)); got != want {
			t.Fatalf("row %d = %q, want %q", i, got, want)
		}
	}
}
