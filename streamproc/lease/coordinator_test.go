package lease

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/dualread/dualread/adapter/store/btstore"
)

// TestCoordinator, on the embedded Bigtable emulator: a child shard is
// started only after its parent's worker finished, and sees the parent's
// end state; a shard the listing no longer names is not worked even
// though its row exists; Release after Run frees every lease, including
// those of workers that Run's cancellation stopped first.
func TestCoordinator(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	st, err := btstore.NewEmbedded(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()

	var (
		mu      sync.Mutex
		listed  = []Shard{{ID: "p"}, {ID: "c", Parents: []string{"p"}}, {ID: "x"}, {ID: "gone"}}
		events  []string
		childOf = map[string]string{}
	)
	list := func(context.Context) ([]Shard, error) {
		mu.Lock()
		defer mu.Unlock()
		return append([]Shard(nil), listed...), nil
	}
	work := func(ctx context.Context, w *Worker) error {
		mu.Lock()
		events = append(events, "start "+w.Shard())
		for _, p := range w.Parents() {
			childOf[w.Shard()] = p.Shard + ":" + string(p.State)
		}
		mu.Unlock()
		if err := w.Save(ctx, "seq1", json.RawMessage(`{"n":1}`)); err != nil {
			return err
		}
		if w.Shard() == "p" {
			w.EndState(json.RawMessage(`{"n":2}`))
			mu.Lock()
			events = append(events, "end p")
			mu.Unlock()
			return nil // read to its end
		}
		<-ctx.Done() // open shard: reads until stopped
		return ctx.Err()
	}
	// "gone" gets a row, then disappears from the listing before anyone
	// takes it: only rows of listed shards are work.
	if err := st.CreateSpace(ctx, Space); err != nil {
		t.Fatal(err)
	}
	if err := NewTable(st, "s").Ensure(ctx, "gone", nil); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	listed = listed[:3]
	mu.Unlock()

	c, err := New(ctx, Config{Store: st, Stream: "s", Owner: "me", LeaseDuration: 2 * time.Second, Tick: 100 * time.Millisecond, List: list, Work: work})
	if err != nil {
		t.Fatal(err)
	}
	rctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); c.Run(rctx) }()
	deadline := time.Now().Add(30 * time.Second)
	for len(c.Held()) != 2 || func() bool { mu.Lock(); defer mu.Unlock(); return childOf["c"] == "" }() {
		if time.Now().After(deadline) {
			t.Fatalf("held %v, events %v", c.Held(), events)
		}
		time.Sleep(20 * time.Millisecond)
	}
	stop()
	<-done
	c.Release(ctx)

	mu.Lock()
	defer mu.Unlock()
	pos := func(e string) int {
		for i, x := range events {
			if x == e {
				return i
			}
		}
		return -1
	}
	if pos("start c") < pos("end p") || pos("end p") < 0 {
		t.Errorf("child started before its parent ended: %v", events)
	}
	if childOf["c"] != `p:{"n":2}` {
		t.Errorf("child saw parent %q, want its end state", childOf["c"])
	}
	if pos("start gone") >= 0 {
		t.Errorf("unlisted shard worked: %v", events)
	}
	rows, err := NewTable(st, "s").List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for id, l := range rows {
		switch {
		case l.Owner != "" && l.Checkpoint != ShardEnd: // a finished shard's row keeps its last owner
			t.Errorf("lease %s still owned by %q after Release", id, l.Owner)
		case id == "p" && (l.Checkpoint != ShardEnd || string(l.State) != `{"n":2}`):
			t.Errorf("parent lease %+v", l)
		case (id == "c" || id == "x") && (l.Checkpoint != "seq1" || string(l.State) != `{"n":1}`):
			t.Errorf("lease %s: %+v", id, l)
		}
	}
}
