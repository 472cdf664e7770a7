package replication

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dualread/dualread/adapter"
	"github.com/dualread/dualread/adapter/attr"
	"github.com/dualread/dualread/adapter/store"
	"github.com/dualread/dualread/internal/kdsgen"
	"github.com/dualread/dualread/internal/testenv"
	"github.com/dualread/dualread/streamproc/backfill"
)

// racer writes, while a backfill runs, to the items the backfill is copying
// at that moment and publishes their KDS records for a streamproc process.
// The backfill works through a segment one page at a time (Scan Limit 200
// from its checkpoint, apply, checkpoint); the racer reads the segment's
// checkpoint, lists the keys of the page after it (the page being copied)
// and updates the last items of that page. When the backfill already read
// the page, it now holds an older copy of those items stamped with its
// read time, while the stream carries the newer value with a later
// ApproximateCreationDateTime: whichever reaches the target first, the
// newer value must stay (the backfill's copy is then counted stale).
type racer struct {
	a      *adapter.Adapter
	ddb    *testenv.RawClient
	st     *kdsgen.Stream
	table  string
	total  int // the backfill's TotalSegments
	rnd    *rand.Rand
	writes int
}

// Each round updates the last perPage items of the in-flight page of up to
// segsPerRound segments. Listing a page costs DynamoDB Local a 200-item
// Scan, so rounds are kept sparse: the racer must not slow the backfill it
// races with much (its items/s go into BENCHMARKS.md).
// The race stops after raceFor, so the rest of the run is undisturbed.
const (
	perPage      = 8
	segsPerRound = 2
	roundEvery   = 400 * time.Millisecond
	raceFor      = 30 * time.Second
)

// run makes rounds until stop closes or raceFor passed.
func (r *racer) run(ctx context.Context, stop <-chan struct{}) error {
	tick := time.NewTicker(roundEvery)
	defer tick.Stop()
	end := time.After(raceFor)
	for {
		select {
		case <-stop:
			return nil
		case <-end:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
		if err := r.round(ctx); err != nil {
			return err
		}
	}
}

func (r *racer) round(ctx context.Context) error {
	cps, err := r.inFlight(ctx)
	if err != nil {
		return err
	}
	segs := make([]int, 0, len(cps))
	for seg := range cps {
		segs = append(segs, seg)
	}
	slices.Sort(segs)
	r.rnd.Shuffle(len(segs), func(i, j int) { segs[i], segs[j] = segs[j], segs[i] })
	var pubs []kdsgen.Pub
	for _, seg := range segs[:min(len(segs), segsPerRound)] {
		last := cps[seg]
		body := fmt.Sprintf(`{"TableName":%q,"Segment":%d,"TotalSegments":%d,"Limit":%d,"ConsistentRead":true,"ProjectionExpression":"pk, sk"`,
			r.table, seg, r.total, backfillShape.limit)
		if last != nil {
			body += fmt.Sprintf(`,"ExclusiveStartKey":%s`, last)
		}
		page, err := r.call(ctx, "Scan", body+"}")
		if err != nil {
			return err
		}
		for _, key := range page.Items[max(0, len(page.Items)-perPage):] {
			r.writes++
			v := attr.MustNum(fmt.Sprint(r.writes))
			upd := fmt.Sprintf(`{"TableName":%q,"Key":%s,"UpdateExpression":"SET race = :r","ExpressionAttributeValues":{":r":%s},"ReturnValues":"ALL_OLD"}`,
				r.table, key.AppendJSON(nil), v.AppendJSON(nil))
			resp, err := r.call(ctx, "UpdateItem", upd)
			if err != nil {
				return err
			}
			// DynamoDB stamps the change when it applies it; taken after the
			// answer, this is no earlier than that.
			ts := time.Now().UnixMicro()
			newImg := resp.Attributes.Clone()
			newImg["race"] = v
			pk := key["pk"].S + "/" + key["sk"].S
			pubs = append(pubs, kdsgen.Pub{PartitionKey: pk, Data: kdsgen.Record(r.table, "MODIFY", key, newImg, resp.Attributes, ts, r.rnd.IntN(2) == 0)})
		}
	}
	if len(pubs) == 0 {
		return nil
	}
	return r.st.Publish(ctx, pubs)
}

func (r *racer) call(ctx context.Context, op, body string) (ddbResp, error) {
	resp, err := r.ddb.Do(ctx, op, []byte(body))
	if err != nil || resp.Status != 200 {
		return ddbResp{}, fmt.Errorf("racer %s: %v %d %s", op, err, resp.Status, resp.Body)
	}
	var a ddbResp
	return a, json.Unmarshal(resp.Body, &a)
}

// inFlight reads the backfill's checkpoints: for every segment it started
// and has not finished, the LastEvaluatedKey after which it is copying now.
func (r *racer) inFlight(ctx context.Context) (map[int]json.RawMessage, error) {
	prefix := fmt.Sprintf("%s/%d/", r.table, r.total)
	out := map[int]json.RawMessage{}
	for row, err := range r.a.Store.Scan(ctx, backfill.CheckpointSpace, store.Range{Start: []byte(prefix), End: []byte(prefix[:len(prefix)-1] + "0")}) {
		if errors.Is(err, store.ErrNoSpace) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		var cp struct {
			Last json.RawMessage
			Done bool
		}
		if err := json.Unmarshal(row.Value, &cp); err != nil {
			return nil, err
		}
		var seg int
		if _, err := fmt.Sscan(strings.TrimPrefix(string(row.Key), prefix), &seg); err != nil {
			return nil, fmt.Errorf("checkpoint key %q: %w", row.Key, err)
		}
		if !cp.Done {
			out[seg] = cp.Last
		}
	}
	return out, nil
}

// race runs a racer against table while c (a backfill) runs, for at most
// raceFor, with a streamproc process applying the racer's records; once the
// stream caught up it stops that process and returns the number of racing
// writes. The backfill may still be running then.
func (e *env) race(t *testing.T, ctx context.Context, a *adapter.Adapter, table string, total int, seed uint64, c *child) int {
	t.Helper()
	st := newStream(t, ctx, e.kinesis, table, 2)
	sp := e.streamproc(t, st.Name, "race")
	r := &racer{a: a, ddb: testenv.NewRawClient(e.ddb), st: st, table: table, total: total, rnd: rand.New(rand.NewPCG(seed, 3))}
	if err := r.run(ctx, c.done); err != nil {
		t.Fatal(err)
	}
	waitCaughtUp(t, ctx, a, st, 2*time.Minute)
	if err := sp.stop(t, 20*time.Second); err != nil {
		t.Fatalf("racing streamproc after SIGTERM: %v", err)
	}
	return r.writes
}
