package audit

import (
	"context"
	"errors"
	"net"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/dualread/dualread/audit/diff"
	"github.com/dualread/dualread/proto/auditpb"
)

type memSink struct {
	name  string
	mu    sync.Mutex
	pairs []Pair
	block chan struct{} // when set, Write waits on it
}

func (m *memSink) Name() string {
	if m.name == "" {
		return "mem"
	}
	return m.name
}
func (m *memSink) Write(ctx context.Context, ps []Pair) error {
	if m.block != nil {
		select {
		case <-m.block:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.pairs = append(m.pairs, ps...)
	return nil
}
func (m *memSink) Close(context.Context) error { return nil }
func (m *memSink) byID() map[string]Pair {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[string]Pair{}
	for _, p := range m.pairs {
		out[p.Record.GetId()] = p
	}
	return out
}

func body(s string) *auditpb.Response {
	return &auditpb.Response{Status: 200, Outcome: &auditpb.Response_BodyJson{BodyJson: []byte(s)}}
}

func getRec(id, primary, shadow string) *auditpb.Record {
	return &auditpb.Record{Id: id, Table: "t", Operation: "GetItem", KeyAttributes: []string{"pk"},
		Primary: body(primary), Shadow: body(shadow)}
}

// healingRereader answers re-reads of ids in healed with equal sides, as if
// replication had caught up, and everything else with the original pair.
type healingRereader struct {
	healed map[string]bool
	mu     sync.Mutex
	calls  map[string]time.Time
}

func (h *healingRereader) Reread(_ context.Context, rec *auditpb.Record) (*auditpb.Response, *auditpb.Response, error) {
	h.mu.Lock()
	h.calls[rec.GetId()] = time.Now()
	h.mu.Unlock()
	if h.healed[rec.GetId()] {
		return rec.GetShadow(), rec.GetShadow(), nil
	}
	if rec.GetId() == "broken" {
		return nil, nil, errors.New("shadow unreachable")
	}
	return rec.GetPrimary(), rec.GetShadow(), nil
}

func TestServiceClassifiesAndRereads(t *testing.T) {
	sink := &memSink{}
	rr := &healingRereader{healed: map[string]bool{"lagging": true}, calls: map[string]time.Time{}}
	const delay = 300 * time.Millisecond
	svc, err := NewService(Config{Workers: 2, Rereader: rr, LagDelay: delay, SinkFlush: 20 * time.Millisecond}, sink)
	if err != nil {
		t.Fatal(err)
	}
	item := `{"Item":{"pk":{"S":"a"},"v":{"N":"1"}}}`
	recs := []*auditpb.Record{
		getRec("same", item, `{"Item":{"pk":{"S":"a"},"v":{"N":"1.0"}}}`),
		getRec("lagging", `{}`, item),
		getRec("diverged", item, `{"Item":{"pk":{"S":"a"},"v":{"N":"2"}}}`),
		getRec("broken", item, `{}`),
		{Id: "errored", Table: "t", Operation: "GetItem", Primary: body(item),
			Shadow: &auditpb.Response{Outcome: &auditpb.Response_Error{Error: &auditpb.Error{Type: "dualread#Timeout"}}}},
	}
	submitted := time.Now()
	for _, r := range recs {
		if err := svc.Submit(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := svc.Submit(&auditpb.Record{Id: "x"}); !errors.Is(err, ErrInvalid) {
		t.Errorf("record without table: %v, want ErrInvalid", err)
	}
	// Close drains, including re-reads still waiting out their delay.
	if err := svc.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := svc.Submit(recs[0]); !errors.Is(err, ErrClosed) {
		t.Errorf("Submit after Close: %v, want ErrClosed", err)
	}

	want := map[string]struct{ class, initial diff.Class }{
		"same":     {diff.Match, diff.Match},
		"lagging":  {diff.Lag, diff.MissingOnPrimary},
		"diverged": {diff.Mismatch, diff.Mismatch},
		"broken":   {diff.MissingOnShadow, diff.MissingOnShadow},
		"errored":  {diff.ErrorMismatch, diff.ErrorMismatch},
	}
	got := sink.byID()
	for id, w := range want {
		p, ok := got[id]
		if !ok {
			t.Errorf("%s: never reached the sink", id)
			continue
		}
		if p.Class != w.class || p.Initial != w.initial {
			t.Errorf("%s: class %s (initial %s), want %s (initial %s)", id, p.Class, p.Initial, w.class, w.initial)
		}
	}
	for _, id := range []string{"same", "errored"} {
		if _, ok := rr.calls[id]; ok {
			t.Errorf("%s was re-read; only item or value divergences are", id)
		}
	}
	if at, ok := rr.calls["lagging"]; !ok || at.Sub(submitted) < delay {
		t.Errorf("lagging re-read at %v after submit, want >= %v", at.Sub(submitted), delay)
	}
	st := svc.Stats()
	if st.Accepted != 5 || st.Invalid != 1 || st.Dropped != 1 || st.Classes[diff.Lag] != 1 || st.Classes[diff.Mismatch] != 1 {
		t.Errorf("stats %+v", st)
	}
}

// A sink that never finishes a write costs only its own queue: the other
// sink gets everything and the dead one's losses are counted.
func TestServiceSlowSinkIsolated(t *testing.T) {
	stuck := &memSink{name: "stuck", block: make(chan struct{})}
	fast := &memSink{name: "fast"}
	svc, err := NewService(Config{Workers: 1, SinkQueue: 5, SinkBatch: 1, SinkFlush: 10 * time.Millisecond}, stuck, fast)
	if err != nil {
		t.Fatal(err)
	}
	const n = 50
	for i := range n {
		if err := svc.Submit(getRec(string(rune('a'+i)), `{}`, `{}`)); err != nil {
			t.Fatal(err)
		}
		// One at a time, so the fast sink's small queue never overflows.
		deadline := time.Now().Add(5 * time.Second)
		for len(fast.byID()) < i+1 && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
	}
	if got := len(fast.byID()); got != n {
		t.Fatalf("fast sink got %d of %d", got, n)
	}
	close(stuck.block)
	if err := svc.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	st := svc.Stats().Sinks
	if st["fast"].Written != n || st["fast"].Dropped != 0 {
		t.Errorf("fast sink %+v", st["fast"])
	}
	// The stuck sink holds one batch in Write and 5 queued; the rest drop.
	if s := st["stuck"]; s.Dropped == 0 || s.Dropped+s.Written != n {
		t.Errorf("stuck sink %+v, want drops and a total of %d", s, n)
	}
}

// The gRPC ingest stream feeds Submit and reports its totals.
func TestGRPCIngest(t *testing.T) {
	sink := &memSink{}
	svc, err := NewService(Config{SinkFlush: 10 * time.Millisecond}, sink)
	if err != nil {
		t.Fatal(err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gs := grpc.NewServer()
	svc.RegisterGRPC(gs)
	go gs.Serve(lis)
	defer gs.Stop()
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	recs := []*auditpb.Record{
		getRec("1", `{}`, `{}`), getRec("2", `{}`, `{"Item":{"pk":{"S":"a"}}}`), {Id: "bad"}, getRec("3", `{}`, `{}`),
	}
	sum, err := SendBatches(context.Background(), auditpb.NewAuditClient(conn), recs, 2)
	if err != nil {
		t.Fatal(err)
	}
	if sum.GetAccepted() != 3 || sum.GetInvalid() != 1 || sum.GetDropped() != 0 {
		t.Errorf("summary %v", sum)
	}
	if err := svc.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := sink.byID()
	if len(got) != 3 || got["2"].Class != diff.MissingOnPrimary {
		t.Errorf("sink got %v", got)
	}
}
