package storetest

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/dualread/dualread/adapter/store"
)

// contention sizes: 8 goroutines × 50 increments (fewer with -short).
func contention() (workers, each int) {
	if testing.Short() {
		return 4, 10
	}
	return 8, 50
}

// increment adds 1 to each key in one transaction, retrying the whole Update
// when the store gives up with ErrConflict (so the final sums are exact).
func increment(ctx context.Context, s store.Store, space string, keys []string, conflicts *atomic.Int64) error {
	for {
		err := s.Update(ctx, func(ctx context.Context, tx store.Txn) error {
			for _, k := range keys {
				n, err := readInt(ctx, tx, space, k)
				if err != nil {
					return err
				}
				putInt(tx, space, k, n+1)
			}
			return nil
		})
		if !errors.Is(err, store.ErrConflict) || ctx.Err() != nil {
			return err
		}
		conflicts.Add(1)
	}
}

func runWorkers(t *testing.T, s store.Store, space string, keysOf func(worker int) []string) {
	workers, each := contention()
	var wg sync.WaitGroup
	var conflicts atomic.Int64
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				if err := increment(t.Context(), s, space, keysOf(w), &conflicts); err != nil {
					t.Errorf("worker %d: %v", w, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	t.Logf("%d Updates gave up with ErrConflict and were re-run", conflicts.Load())
}

func testNoLostUpdatesOne(t *testing.T, s store.Store) {
	sp := newSpace(t, s)
	runWorkers(t, s, sp, func(int) []string { return []string{"counter"} })
	workers, each := contention()
	if got := get(t, s, sp, "counter"); got != strconv.Itoa(workers*each) {
		t.Fatalf("counter = %s, want %d", got, workers*each)
	}
}

// testNoLostUpdatesPairs has worker w increment counters w%4 and (w+1)%4
// together, so transactions overlap on one row and take locks in both orders
// of arrival.
func testNoLostUpdatesPairs(t *testing.T, s store.Store) {
	sp := newSpace(t, s)
	workers, each := contention()
	name := func(i int) string { return "c" + strconv.Itoa(i%4) }
	runWorkers(t, s, sp, func(w int) []string {
		if w%2 == 0 { // vary the order fn touches keys in
			return []string{name(w), name(w + 1)}
		}
		return []string{name(w + 1), name(w)}
	})
	want := make([]int, 4)
	for w := range workers {
		want[w%4] += each
		want[(w+1)%4] += each
	}
	for i := range 4 {
		if got := get(t, s, sp, name(i)); got != strconv.Itoa(want[i]) {
			t.Errorf("%s = %s, want %d", name(i), got, want[i])
		}
	}
}
