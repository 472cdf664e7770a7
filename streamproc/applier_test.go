package streamproc

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dualread/dualread/adapter/attr"
	"github.com/dualread/dualread/adapter/ddberr"
	"github.com/dualread/dualread/adapter/dynamo"
	"github.com/dualread/dualread/adapter/store/btstore"
	"github.com/dualread/dualread/streamproc/metrics"
	"github.com/dualread/dualread/streamproc/record"
)

// fakeTarget records the order in which each item's changes arrive and can
// fail with a given error a number of times per item.
type fakeTarget struct {
	mu       sync.Mutex
	seen     map[string][]uint64
	failures map[string]int
	failWith error
	inFlight map[string]bool
	overlap  bool
}

func newFake() *fakeTarget {
	return &fakeTarget{seen: map[string][]uint64{}, failures: map[string]int{}, inFlight: map[string]bool{}}
}

func (f *fakeTarget) Replicate(ctx context.Context, table string, key, image attr.Item, version uint64) (dynamo.Outcome, error) {
	k := table + string(key.AppendJSON(nil))
	f.mu.Lock()
	if f.inFlight[k] {
		f.overlap = true
	}
	f.inFlight[k] = true
	fail := f.failures[k] > 0
	if fail {
		f.failures[k]--
	}
	f.mu.Unlock()
	time.Sleep(50 * time.Microsecond) // widen the window for overlap detection
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.inFlight, k)
	if fail {
		return 0, f.failWith
	}
	f.seen[k] = append(f.seen[k], version)
	return dynamo.Applied, nil
}

func change(table, pk string, v uint64) *record.Change {
	k := attr.Item{"pk": attr.Str(pk)}
	return &record.Change{Table: table, Event: record.Modify, Keys: k, NewImage: attr.Item{"pk": attr.Str(pk), "v": attr.Str(fmt.Sprint(v))}, Version: v}
}

func newDeadLetters(t *testing.T) *DeadLetters {
	t.Helper()
	st, err := btstore.NewEmbedded(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	dl, err := NewDeadLetters(context.Background(), st)
	if err != nil {
		t.Fatal(err)
	}
	return dl
}

// TestPerItemOrder: each item's changes reach the target in batch order and
// never concurrently, across many items and concurrent batches.
func TestPerItemOrder(t *testing.T) {
	f := newFake()
	a, err := NewApplier(Config{Target: f, DeadLetter: newDeadLetters(t), Workers: 8})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	var wg sync.WaitGroup
	for b := range 4 { // four "shards", disjoint items, at once
		wg.Add(1)
		go func() {
			defer wg.Done()
			var ins []Input
			for v := uint64(1); v <= 50; v++ {
				for i := range 10 {
					ins = append(ins, Input{Change: change("t", fmt.Sprintf("s%d-i%d", b, i), v)})
				}
			}
			res, err := a.Apply(context.Background(), ins)
			if err != nil || res.Applied != 500 {
				t.Errorf("batch %d: %+v %v", b, res, err)
			}
		}()
	}
	wg.Wait()
	if f.overlap {
		t.Error("one item was applied by two lanes at once")
	}
	if len(f.seen) != 40 {
		t.Fatalf("%d items seen", len(f.seen))
	}
	for k, vs := range f.seen {
		for i, v := range vs {
			if v != uint64(i+1) {
				t.Fatalf("%s: order %v", k, vs)
			}
		}
	}
}

// TestRetriesAndDeadLetters: transient errors are retried; permanent ones
// and undecodable records are dead-lettered and counted; transient errors
// beyond the budget fail the batch (so it is not checkpointed).
func TestRetriesAndDeadLetters(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name     string
		failWith error
		failures int
		wantRes  Result
		wantErr  bool
		wantDL   int
	}{
		{"transient then ok", ddberr.Dynamo("TransactionConflictException", "x"), 3, Result{Applied: 1}, false, 0},
		{"backend error then ok", errors.New("rpc unavailable"), 2, Result{Applied: 1}, false, 0},
		{"transient forever", errors.New("rpc unavailable"), 100, Result{}, true, 0},
		{"validation", ddberr.Validation("One of the required keys was not given a value"), 1, Result{DeadLettered: 1}, false, 1},
		{"no table", ddberr.ResourceNotFound("Cannot do operations on a non-existent table"), 1, Result{DeadLettered: 1}, false, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFake()
			f.failWith = c.failWith
			ch := change("t", "a", 7)
			f.failures["t"+string(ch.Keys.AppendJSON(nil))] = c.failures
			dl := newDeadLetters(t)
			m := metrics.New(nil)
			a, err := NewApplier(Config{Target: f, DeadLetter: dl, Metrics: m, Source: "test", MaxAttempts: 5, BaseBackoff: time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			defer a.Close()
			res, err := a.Apply(ctx, []Input{{Change: ch, Raw: []byte("raw"), Origin: "o1"}})
			if (err != nil) != c.wantErr || res != c.wantRes {
				t.Fatalf("got %+v, %v", res, err)
			}
			letters, err := dl.List(ctx, 0)
			if err != nil {
				t.Fatal(err)
			}
			if len(letters) != c.wantDL {
				t.Fatalf("%d letters", len(letters))
			}
			if c.wantDL > 0 && (letters[0].Origin != "o1" || string(letters[0].Record) != "raw" || letters[0].Table != "t" || letters[0].Reason == "") {
				t.Fatalf("letter %+v", letters[0])
			}
		})
	}
	t.Run("undecodable", func(t *testing.T) {
		dl := newDeadLetters(t)
		a, _ := NewApplier(Config{Target: newFake(), DeadLetter: dl})
		defer a.Close()
		raw := []byte(`{"eventName":`)
		_, derr := record.DecodeKinesis(raw)
		res, err := a.Apply(ctx, []Input{{Err: derr, Raw: raw, Origin: "s/shard-0/42"}})
		if err != nil || res.DeadLettered != 1 {
			t.Fatalf("%+v %v", res, err)
		}
		l, _ := dl.List(ctx, 0)
		if len(l) != 1 || !strings.Contains(l[0].Reason, "bad JSON") {
			t.Fatalf("%+v", l)
		}
	})
}

// TestApplyThroughExecutor: against the real executor, out-of-order and
// duplicated changes end in the newest state, a deletes' tombstone holds,
// and changes that cannot apply (unknown table, key of the wrong type) are
// dead-lettered while the rest of the batch applies.
func TestApplyThroughExecutor(t *testing.T) {
	ctx := context.Background()
	st, err := btstore.NewEmbedded(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ex, err := dynamo.New(ctx, st, dynamo.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ex.Do(ctx, "CreateTable", []byte(`{"TableName":"tbl","BillingMode":"PAY_PER_REQUEST","KeySchema":[{"AttributeName":"pk","KeyType":"HASH"}],"AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"}]}`)); err != nil {
		t.Fatal(err)
	}
	dl, err := NewDeadLetters(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	a, err := NewApplier(Config{Target: ex, DeadLetter: dl, Source: "test"})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	del := &record.Change{Table: "tbl", Event: record.Remove, Keys: attr.Item{"pk": attr.Str("b")}, Version: 30}
	badKey := &record.Change{Table: "tbl", Event: record.Remove, Keys: attr.Item{"pk": attr.Bin([]byte{1})}, Version: 30}
	ins := []Input{
		{Change: change("tbl", "a", 20)}, {Change: change("tbl", "a", 10)}, {Change: change("tbl", "a", 20)},
		{Change: change("tbl", "b", 10)}, {Change: del}, {Change: change("tbl", "b", 25)},
		{Change: change("nope_table", "a", 1)}, {Change: badKey},
	}
	res, err := a.Apply(ctx, ins)
	if err != nil {
		t.Fatal(err)
	}
	if want := (Result{Applied: 3, Stale: 2, Duplicate: 1, DeadLettered: 2}); res != want {
		t.Fatalf("result %+v, want %+v", res, want)
	}
	out, err := ex.Do(ctx, "Scan", []byte(`{"TableName":"tbl"}`))
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"Count":1,"Items":[{"pk":{"S":"a"},"v":{"S":"20"}}],"ScannedCount":1}`; string(out) != want {
		t.Fatalf("scan %s, want %s", out, want)
	}
}
