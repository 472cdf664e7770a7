package shadow

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

type blockingCaller struct{ release chan struct{} }

func (b blockingCaller) Call(ctx context.Context, op string, body []byte) (int, []byte, error) {
	select {
	case <-b.release:
	case <-ctx.Done():
	}
	return 200, []byte("{}"), nil
}

type countSink struct{ n atomic.Int64 }

func (c *countSink) Submit(Record) { c.n.Add(1) }

// TestOfferNeverBlocks: with DynamoDB stuck, the queue stays bounded and
// every excess read is dropped and counted, immediately.
func TestOfferNeverBlocks(t *testing.T) {
	release := make(chan struct{})
	s := New(Config{QueueSize: 4, Workers: 2, RatePerSec: -1, Timeout: time.Minute}, blockingCaller{release}, &countSink{}, nil)
	defer s.Close()
	defer close(release)
	start := time.Now()
	for range 1000 {
		s.Offer(Record{Op: "GetItem", Table: "t"})
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("1000 offers took %v", d)
	}
	st := s.Stats()
	if st.Offered != 1000 || st.Dropped < 1000-4-2 {
		t.Errorf("stats %+v: want ~994 dropped", st)
	}
}

// TestSampleAndOps: writes are never shadowed; sampling applies per table.
func TestSampleAndOps(t *testing.T) {
	sink := &countSink{}
	release := make(chan struct{})
	close(release)
	s := New(Config{RatePerSec: -1, Sample: func(table string) float64 {
		if table == "off" {
			return 0
		}
		return 1
	}}, blockingCaller{release}, sink, nil)
	s.Offer(Record{Op: "PutItem", Table: "on"})
	s.Offer(Record{Op: "GetItem", Table: "off"})
	s.Offer(Record{Op: "Query", Table: "on"})
	deadline := time.Now().Add(5 * time.Second)
	for sink.n.Load() < 1 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	s.Close()
	if st := s.Stats(); st.Offered != 2 || st.Sampled != 1 || sink.n.Load() != 1 {
		t.Errorf("stats %+v, sink %d: want the Query only", st, sink.n.Load())
	}
}

func TestTableOf(t *testing.T) {
	for _, c := range []struct{ op, body, want string }{
		{"GetItem", `{"TableName":"t1"}`, "t1"},
		{"BatchGetItem", `{"RequestItems":{"b":{},"a":{}}}`, "a,b"},
		{"TransactGetItems", `{"TransactItems":[{"Get":{"TableName":"x"}},{"Get":{"TableName":"x"}}]}`, "x"},
		{"Scan", `not json`, ""},
	} {
		if got := TableOf(c.op, []byte(c.body)); got != c.want {
			t.Errorf("TableOf(%s) = %q, want %q", c.op, got, c.want)
		}
	}
}

// failingCaller fails every call, as a dead DynamoDB does.
type failingCaller struct{ n atomic.Int64 }

func (f *failingCaller) Call(context.Context, string, []byte) (int, []byte, error) {
	f.n.Add(1)
	return 0, nil, context.DeadlineExceeded
}

type answerCaller struct{ n atomic.Int64 }

func (a *answerCaller) Call(context.Context, string, []byte) (int, []byte, error) {
	a.n.Add(1)
	return 200, []byte(`{"Item":{}}`), nil
}

// TestStoreTarget: reads of DynamoDB-served tables are shadowed by the
// store caller, with the shadow backend the record names; DynamoDB's open
// breaker does not shed them.
func TestStoreTarget(t *testing.T) {
	dynamo, store := &failingCaller{}, &answerCaller{}
	sink := &recordSink{}
	s := New(Config{RatePerSec: -1, Workers: 1, BreakerOpen: 2, Cooldown: time.Minute, Store: store}, dynamo, sink, nil)
	defer s.Close()
	for range 3 {
		s.Offer(Record{Op: "GetItem", Table: "served-here"})
	}
	waitUntil(t, func() bool { return s.Stats().BreakerOpen })
	for range 3 {
		s.Offer(Record{Op: "GetItem", Table: "forwarded", Target: TargetStore, Primary: Side{Backend: "dynamodb"}, Shadow: Side{Backend: "spanner"}})
	}
	waitUntil(t, func() bool { return store.n.Load() == 3 })
	st := s.Stats()
	if dynamo.n.Load() != 2 || st.ShedByBreaker != 1 || st.StoreBreakerOpen || st.Sent != 3 {
		t.Errorf("stats %+v, DynamoDB calls %d: want 2 failures then shedding, and the store's 3 reads sent", st, dynamo.n.Load())
	}
	for _, r := range sink.all() {
		if r.Table == "forwarded" && (r.Shadow.Backend != "spanner" || r.Shadow.Status != 200 || r.Primary.Backend != "dynamodb") {
			t.Errorf("store-shadowed record %+v", r)
		}
	}
}

type recordSink struct {
	mu   sync.Mutex
	recs []Record
}

func (r *recordSink) Submit(rec Record) { r.mu.Lock(); r.recs = append(r.recs, rec); r.mu.Unlock() }

func (r *recordSink) all() []Record {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Record(nil), r.recs...)
}

func waitUntil(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("timed out")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
