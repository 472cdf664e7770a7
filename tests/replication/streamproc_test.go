package replication

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sort"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/dualread/dualread/adapter"
	"github.com/dualread/dualread/internal/kdsgen"
	"github.com/dualread/dualread/internal/testenv"
	"github.com/dualread/dualread/streamproc"
	"github.com/dualread/dualread/streamproc/kinesis"
)

// leaseDuration is what the children run with: a SIGKILLed instance's
// shards move after at most this plus one tick (a quarter of it).
const leaseDuration = 3 * time.Second

// streamproc starts `dualread streamproc` on stream, writing its lag and
// outcome points to the test's InfluxDB every metricsInterval.
func (e *env) streamproc(t *testing.T, stream, owner string) *child {
	return e.start(t, "streamproc "+owner, "streamproc", "--stream", stream,
		"--backend", "bigtable", "--bigtable-project", btProject, "--bigtable-instance", btInstance,
		"--source-endpoint", e.kinesis, "--lease", leaseDuration.String(), "--owner", owner, "--log-level", "info",
		"--influx", e.influx, "--influx-bucket", influxDB+"/autogen", "--metrics-interval", metricsInterval.String())
}

// waitFor polls cond every 50 ms for up to d.
func waitFor(t *testing.T, ctx context.Context, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) || ctx.Err() != nil {
			t.Fatalf("timed out after %v waiting: %s", d, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// held lists the shards owner holds by an unexpired lease.
func held(t *testing.T, ctx context.Context, a *adapter.Adapter, stream, owner string) []string {
	t.Helper()
	ls, err := leases(ctx, a.Store, stream)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for s, l := range ls {
		if l.Owner == owner && time.Now().Before(l.Expiry) && l.Checkpoint != kinesis.ShardEnd {
			out = append(out, s)
		}
	}
	sort.Strings(out)
	return out
}

func behind(t *testing.T, ctx context.Context, a *adapter.Adapter, st *kdsgen.Stream) int {
	t.Helper()
	ls, err := leases(ctx, a.Store, st.Name)
	if err != nil {
		t.Fatal(err)
	}
	return behindOf(st.Last(), ls)
}

// waitCaughtUp waits until every shard is checkpointed to its last
// published record or SHARD_END.
func waitCaughtUp(t *testing.T, ctx context.Context, a *adapter.Adapter, st *kdsgen.Stream, d time.Duration) {
	t.Helper()
	waitFor(t, ctx, d, "every shard checkpointed to its last record", func() bool { return behind(t, ctx, a, st) == 0 })
}

func noDeadLetters(t *testing.T, ctx context.Context, a *adapter.Adapter) {
	t.Helper()
	dl, err := streamproc.NewDeadLetters(ctx, a.Store)
	if err != nil {
		t.Fatal(err)
	}
	if letters, err := dl.List(ctx, 0); err != nil || len(letters) != 0 {
		t.Fatalf("dead letters: %v %+v", err, letters)
	}
}

// shardIDs lists the stream's shards, and those still open.
func shardIDs(t *testing.T, ctx context.Context, st *kdsgen.Stream) (all, open []string) {
	t.Helper()
	shards, err := st.Shards(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range shards {
		all = append(all, aws.ToString(s.ShardId))
		if s.SequenceNumberRange.EndingSequenceNumber == nil {
			open = append(open, aws.ToString(s.ShardId))
		}
	}
	return all, open
}

// generate makes n changes on DynamoDB Local over the tables (batched:
// BatchWriteItem and TransactWriteItems) and returns their records with
// duplicates and out-of-order delivery injected.
func generate(t *testing.T, ctx context.Context, e *env, tables []string, n int, seed uint64) (*kdsgen.Result, []kdsgen.Pub) {
	t.Helper()
	t0 := time.Now()
	res, err := kdsgen.Generate(ctx, kdsgen.Config{DynamoDB: testenv.NewRawClient(e.ddb), Tables: tables, Changes: n,
		Keys: *flagKeys, Batch: 25, Seed: seed})
	if err != nil {
		t.Fatal(err)
	}
	pubs := kdsgen.Disorder(res.Records, rand.New(rand.NewPCG(seed, 2)))
	t.Logf("generated %d writes %v in %v; %d records to publish with duplicates", len(res.Records), res.PerTable,
		time.Since(t0).Round(time.Millisecond), len(pubs))
	return res, pubs
}

// TestStreamprocSIGKILL: random writes on two DynamoDB Local tables, their
// KDS records (duplicates, out-of-order delivery, mixed precisions) published
// to one kinesalite stream in four parts with a shard split before the
// third; a fresh `dualread streamproc` process per part, the first three
// SIGKILLed at a random point of their work; the fourth finishes and stops
// with SIGTERM. The target must then equal DynamoDB Local item for item,
// and the lag points per table and per shard must be in InfluxDB.
func TestStreamprocSIGKILL(t *testing.T) {
	e := sharedEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rnd := rand.New(rand.NewPCG(seed, 1))
	stamp := time.Now().UnixNano()
	// Two tables feed one stream (KDS for DynamoDB allows that), so "lag
	// per table" is more than one series.
	tables := []string{fmt.Sprintf("rep_kill_a_%d", stamp), fmt.Sprintf("rep_kill_b_%d", stamp)}
	e.createSource(t, ctx, hashSchema, tables...)
	a := openTarget(t, ctx)
	st := newStream(t, ctx, e.kinesis, fmt.Sprintf("rep_kill_%d", stamp), 2)

	t0 := time.Now()
	res, pubs := generate(t, ctx, e, tables, *flagWrites, seed)

	// The first part is the largest so the first kill lands in a backlog.
	cuts := []int{0, len(pubs) * 4 / 10, len(pubs) * 6 / 10, len(pubs) * 8 / 10, len(pubs)}
	midway := 0
	for phase := range 4 {
		if phase == 2 {
			split(t, ctx, st)
		}
		part := pubs[cuts[phase]:cuts[phase+1]]
		if phase == 0 {
			tp := time.Now()
			publish(t, ctx, st, part)
			t.Logf("published %d records in %v", len(part), time.Since(tp).Round(time.Millisecond))
		}
		owner := fmt.Sprintf("proc%d", phase+1)
		started := time.Now()
		c := e.streamproc(t, st.Name, owner)
		if phase > 0 {
			// Published while the new process waits for its SIGKILLed
			// predecessor's leases to expire.
			publish(t, ctx, st, part)
			t.Logf("published %d records in %v", len(part), time.Since(started).Round(time.Millisecond))
		}
		if phase == 3 {
			waitCaughtUp(t, ctx, a, st, 5*time.Minute)
			caught := time.Now()
			t.Logf("%s caught up %v after start", owner, caught.Sub(started).Round(time.Millisecond))
			all, open := shardIDs(t, ctx, st)
			waitShardPoints(t, ctx, e, st.Name, all, open, caught)
			if err := c.stop(t, 20*time.Second); err != nil {
				t.Fatalf("%s after SIGTERM: %v", owner, err)
			}
			break
		}
		// Wait until this one reads, then kill it at a random point.
		waitFor(t, ctx, time.Minute, owner+" takes a lease", func() bool { return len(held(t, ctx, a, st.Name, owner)) > 0 || c.exited() })
		took := time.Since(started)
		// Short enough that the kill usually lands while the backlog is
		// being applied (a 1000-record batch takes a few hundred ms here).
		time.Sleep(100*time.Millisecond + time.Duration(rnd.Int64N(int64(800*time.Millisecond))))
		if c.exited() {
			t.Fatalf("%s exited by itself: %v", owner, c.err)
		}
		c.kill(t)
		n := behind(t, ctx, a, st)
		if n > 0 {
			midway++
		}
		t.Logf("%s: took a lease %v after start, SIGKILLed %v after start with %d shard(s) not yet checkpointed to their end",
			owner, took.Round(time.Millisecond), time.Since(started).Round(time.Millisecond), n)
	}
	items := 0
	for _, table := range tables {
		items += compareWithSource(t, ctx, e, a, table, "pk").items
	}
	noDeadLetters(t, ctx, a)
	ls, _ := leases(ctx, a.Store, st.Name)
	ended := 0
	for _, l := range ls {
		if l.Checkpoint == kinesis.ShardEnd {
			ended++
		}
	}
	if len(ls) != 4 || ended != 1 {
		t.Errorf("want 4 shards (2 + split children) with the split parent at SHARD_END, got %d leases, %d ended: %+v", len(ls), ended, ls)
	}
	for _, table := range tables {
		checkLagPoints(t, ctx, e, table, res.PerTable[table], res.First, res.Last)
	}
	t.Logf("%d records, %d items equal; %d of 3 kills landed with work outstanding; %v", len(pubs), items, midway, time.Since(t0).Round(time.Millisecond))
	if midway == 0 {
		t.Errorf("no kill landed while records were outstanding: the test proved nothing about kills")
	}
}

// TestStreamprocTwoProcesses: two streamproc processes share the shards;
// one is SIGKILLed while records are outstanding, the other takes its
// shards over (after the lease expires) and, after a split, finishes. The
// result must be exact.
func TestStreamprocTwoProcesses(t *testing.T) {
	e := sharedEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	table := fmt.Sprintf("rep_two_%d", time.Now().UnixNano())
	e.createSource(t, ctx, hashSchema, table)
	a := openTarget(t, ctx)
	st := newStream(t, ctx, e.kinesis, table, 2)
	res, pubs := generate(t, ctx, e, []string{table}, max(*flagWrites/5, 400), seed)
	third := len(pubs) / 3

	publish(t, ctx, st, pubs[:third])
	pa := e.streamproc(t, st.Name, "A")
	pb := e.streamproc(t, st.Name, "B")
	waitFor(t, ctx, time.Minute, "A and B hold one shard each", func() bool {
		return len(held(t, ctx, a, st.Name, "A")) == 1 && len(held(t, ctx, a, st.Name, "B")) == 1
	})
	shardA := held(t, ctx, a, st.Name, "A")[0]
	publish(t, ctx, st, pubs[third:2*third])
	pa.kill(t)
	killed := time.Now()
	t.Logf("A SIGKILLed holding %s; %d shard(s) not checkpointed to their end", shardA, behind(t, ctx, a, st))
	waitFor(t, ctx, time.Minute, "B takes A's shard over", func() bool { return len(held(t, ctx, a, st.Name, "B")) == 2 })
	took := time.Since(killed)
	t.Logf("B took %s over %v after the kill (lease %v)", shardA, took.Round(time.Millisecond), leaseDuration)
	if took > 3*leaseDuration {
		t.Errorf("takeover took %v, want within a few lease durations (%v)", took, leaseDuration)
	}
	split(t, ctx, st)
	publish(t, ctx, st, pubs[2*third:])
	waitCaughtUp(t, ctx, a, st, 3*time.Minute)
	caught := time.Now()
	if pb.exited() {
		t.Fatalf("B exited by itself: %v", pb.err)
	}
	all, open := shardIDs(t, ctx, st)
	waitShardPoints(t, ctx, e, st.Name, all, open, caught)
	if err := pb.stop(t, 20*time.Second); err != nil {
		t.Fatalf("B after SIGTERM: %v", err)
	}
	items := compareWithSource(t, ctx, e, a, table, "pk").items
	noDeadLetters(t, ctx, a)
	checkLagPoints(t, ctx, e, table, res.PerTable[table], res.First, res.Last)
	t.Logf("%d records, %d items equal", len(pubs), items)
}
