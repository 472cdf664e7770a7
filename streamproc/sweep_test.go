package streamproc

import (
	"context"
	"testing"
	"time"

	"github.com/dualread/dualread/adapter/attr"
	"github.com/dualread/dualread/adapter/dynamo"
	"github.com/dualread/dualread/adapter/store/btstore"
)

// TestSweeper: of two instances, one sweeps a due table and the other
// finds it claimed or not due; tombstones older than the retention go,
// newer ones stay; the next sweep is due after Every; extra collectors run
// on the same schedule and get the same cutoff.
func TestSweeper(t *testing.T) {
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
	now := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	del := func(pk string, ago time.Duration) {
		t.Helper()
		if _, err := ex.Replicate(ctx, "tbl", attr.Item{"pk": attr.Str(pk)}, nil, uint64(now.Add(-ago).UnixMicro())); err != nil {
			t.Fatal(err)
		}
	}
	del("a", 30*time.Hour)
	del("b", 2*time.Hour)
	var extraBefore []time.Time
	newSweeper := func(owner string) *Sweeper {
		s, err := NewSweeper(ctx, SweepConfig{Target: ex, Store: st, Owner: owner, Now: clock, Every: time.Hour,
			Tables: func(context.Context) ([]string, error) { return []string{"tbl"}, nil },
			Extra: map[string]func(context.Context, time.Time) (int, error){"stamps": func(_ context.Context, before time.Time) (int, error) {
				extraBefore = append(extraBefore, before)
				return 7, nil
			}}})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	a, b := newSweeper("A"), newSweeper("B")
	got, err := a.Round(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got["table/tbl"].Collected != 1 || got["table/tbl"].Tombstones != 2 || got["extra/stamps"].Collected != 7 {
		t.Fatalf("first round: %+v", got)
	}
	if len(extraBefore) != 1 || !extraBefore[0].Equal(now.Add(-24*time.Hour)) {
		t.Fatalf("extra collector cutoffs %v, want %v", extraBefore, now.Add(-24*time.Hour))
	}
	// Not due again for an hour, whoever asks.
	for _, s := range []*Sweeper{b, a} {
		if got, err := s.Round(ctx); err != nil || len(got) != 0 {
			t.Fatalf("round before due: %+v, %v", got, err)
		}
	}
	// An hour later, b sweeps: "b"'s tombstone is now 3 h old, still kept.
	now = now.Add(time.Hour + time.Second)
	if got, err := b.Round(ctx); err != nil || got["table/tbl"] != (dynamo.TombstoneSweep{Scanned: 1, Tombstones: 1}) {
		t.Fatalf("second round: %+v, %v", got, err)
	}
	// A claim held by a live instance keeps others out; an expired one
	// does not.
	now = now.Add(time.Hour + time.Second)
	if ok, err := a.claim(ctx, "table/tbl"); !ok || err != nil {
		t.Fatalf("claim: %v %v", ok, err)
	}
	if got, err := b.Round(ctx); err != nil || len(got) != 1 || got["extra/stamps"].Collected != 7 { // only the extra collector
		t.Fatalf("round during a's claim: %+v, %v", got, err)
	}
	now = now.Add(claimTTL + time.Second)
	if got, err := b.Round(ctx); err != nil || len(got) != 1 || got["table/tbl"].Scanned != 1 {
		t.Fatalf("round after a's claim expired: %+v, %v", got, err)
	}
	// A day on, "b"'s tombstone is past the retention.
	now = now.Add(24 * time.Hour)
	if got, err := a.Round(ctx); err != nil || got["table/tbl"].Collected != 1 {
		t.Fatalf("day-later round: %+v, %v", got, err)
	}
}
