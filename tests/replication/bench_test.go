package replication

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/dualread/dualread/adapter/attr"
	"github.com/dualread/dualread/internal/kdsgen"
)

var (
	flagBench        = flag.Bool("replication.bench", false, "run TestStreamprocThroughput (numbers for BENCHMARKS.md)")
	flagBenchRecords = flag.Int("replication.bench-records", 20000, "records TestStreamprocThroughput publishes")
)

// TestStreamprocThroughput measures how fast one `dualread streamproc`
// process restricted to one core (GOMAXPROCS=1) applies a backlog, with
// per-item ordering on (the default applier: lanes by item key), from
// kinesalite into the Bigtable emulator. The records are synthetic (puts
// and updates over 1,000 items, ~10% duplicates, out of order) so the run
// does not wait for DynamoDB Local; the target is checked against the
// last write of each item.
func TestStreamprocThroughput(t *testing.T) {
	if !*flagBench {
		t.Skip("benchmark: run with -replication.bench")
	}
	e := sharedEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	table := fmt.Sprintf("rep_bench_%d", time.Now().UnixNano())
	e.createSource(t, ctx, hashSchema, table)
	a := openTarget(t, ctx)
	st := newStream(t, ctx, e.kinesis, table, 2)

	rnd := rand.New(rand.NewPCG(1, 2))
	clock := time.Now().Add(-time.Hour).UnixMicro()
	last := map[string]attr.Item{}
	var recs []kdsgen.Pub
	for i := range *flagBenchRecords {
		k := fmt.Sprintf("k%04d", rnd.IntN(1000))
		key := attr.Item{"pk": attr.Str(k)}
		num, _ := attr.Num(fmt.Sprint(i))
		item := attr.Item{"pk": attr.Str(k), "s": attr.Str(fmt.Sprintf("v%d", i)), "n": num}
		event := "MODIFY"
		if last[k] == nil {
			event = "INSERT"
		}
		clock += 1000
		recs = append(recs, kdsgen.Pub{PartitionKey: k, Data: kdsgen.Record(table, event, key, item, last[k], clock, i%2 == 0)})
		last[k] = item
	}
	pubs := kdsgen.Disorder(recs, rnd)
	publish(t, ctx, st, pubs)

	started := time.Now()
	c := e.startEnv(t, "streamproc bench", []string{"GOMAXPROCS=1"}, "streamproc", "--stream", st.Name,
		"--backend", "bigtable", "--bigtable-project", btProject, "--bigtable-instance", btInstance,
		"--source-endpoint", e.kinesis, "--lease", leaseDuration.String(), "--owner", "bench", "--log-level", "warn")
	waitFor(t, ctx, time.Minute, "bench takes a lease", func() bool { return len(held(t, ctx, a, st.Name, "bench")) > 0 })
	reading := time.Now()
	waitCaughtUp(t, ctx, a, st, 20*time.Minute)
	wall := time.Since(reading)
	if err := c.stop(t, 20*time.Second); err != nil {
		t.Fatal(err)
	}
	cpu := c.cpu()
	t.Logf("%d records (%d items) applied by one process at GOMAXPROCS=1: %v from first lease (%v from start), %.0f records/s; "+
		"process CPU %v (%.0f records per CPU-second); peak RSS %s",
		len(pubs), len(last), wall.Round(time.Millisecond), time.Since(started).Round(time.Millisecond),
		float64(len(pubs))/wall.Seconds(), cpu.Round(time.Millisecond), float64(len(pubs))/cpu.Seconds(), mib(c.maxRSS()))

	got := map[string]string{}
	var mu sync.Mutex
	if err := scanSegments(ctx, func(op, body string) (ddbResp, error) {
		out, err := a.Executor.Do(ctx, op, []byte(body))
		if err != nil {
			return ddbResp{}, err
		}
		var r ddbResp
		return r, json.Unmarshal(out, &r)
	}, table, scanShape{segments: 4, workers: 4}, func(items []attr.Item) {
		mu.Lock()
		defer mu.Unlock()
		for _, it := range items {
			got[itemKey(it, []string{"pk"})] = string(it.AppendJSON(nil))
		}
	}); err != nil {
		t.Fatal(err)
	}
	if len(got) != len(last) {
		t.Fatalf("target holds %d items, want %d", len(got), len(last))
	}
	for k, it := range last {
		kj := string(attr.Item{"pk": attr.Str(k)}.AppendJSON(nil))
		if w := string(it.AppendJSON(nil)); got[kj] != w {
			t.Fatalf("item %s: target %s, want %s", k, got[kj], w)
		}
	}
}
