package replication

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/dualread/dualread/adapter"
	"github.com/dualread/dualread/adapter/store"
	"github.com/dualread/dualread/internal/testenv"
	"github.com/dualread/dualread/streamproc/backfill"
)

const compositeSchema = `"KeySchema":[{"AttributeName":"pk","KeyType":"HASH"},{"AttributeName":"sk","KeyType":"RANGE"}],` +
	`"AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"},{"AttributeName":"sk","AttributeType":"N"}],"BillingMode":"PAY_PER_REQUEST"`

// load writes n items (~300 bytes each: strings, numbers, binary, a set, a
// list) with BatchWriteItem from 4 goroutines.
func load(t *testing.T, ctx context.Context, ddb *testenv.RawClient, table string, n int, seed uint64) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rnd := rand.New(rand.NewPCG(seed, uint64(w)))
			for lo := w * 25; lo < n; lo += 4 * 25 {
				var reqs []string
				for i := lo; i < min(lo+25, n); i++ {
					reqs = append(reqs, fmt.Sprintf(`{"PutRequest":{"Item":{"pk":{"S":"p%05d"},"sk":{"N":"%d"},"n":{"N":"%d.%d"},`+
						`"s":{"S":%q},"b":{"B":"AAEC/w=="},"ss":{"SS":["a","b%d"]},"l":{"L":[{"BOOL":true},{"NULL":true},{"N":"-1e-3"}]}}}}`,
						i/4, i%4, rnd.IntN(1_000_000), i, strings.Repeat("x", 150+rnd.IntN(100)), i%7))
				}
				body := fmt.Sprintf(`{"RequestItems":{%q:[%s]}}`, table, strings.Join(reqs, ","))
				for {
					resp, err := ddb.Do(ctx, "BatchWriteItem", []byte(body))
					if err != nil || resp.Status != 200 {
						errs <- fmt.Errorf("BatchWriteItem: %v %d %s", err, resp.Status, resp.Body)
						return
					}
					var r struct{ UnprocessedItems map[string]json.RawMessage }
					json.Unmarshal(resp.Body, &r)
					if len(r.UnprocessedItems) == 0 {
						break
					}
					body = fmt.Sprintf(`{"RequestItems":%s}`, mustJSON(r.UnprocessedItems))
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

func mustJSON(v any) []byte { b, _ := json.Marshal(v); return b }

// checkpointed sums the items the backfill checkpointed for table over
// total segments, and counts finished segments (backfill.CheckpointSpace,
// key "table/total/segment", value {last, done, items}).
func checkpointed(t *testing.T, ctx context.Context, a *adapter.Adapter, table string, total int) (items int64, done int) {
	t.Helper()
	prefix := fmt.Sprintf("%s/%d/", table, total)
	for row, err := range a.Store.Scan(ctx, backfill.CheckpointSpace, store.Range{Start: []byte(prefix), End: []byte(prefix[:len(prefix)-1] + "0")}) {
		if err != nil {
			if strings.Contains(err.Error(), store.ErrNoSpace.Error()) {
				return 0, 0
			}
			t.Fatal(err)
		}
		var cp struct {
			Done  bool
			Items int64
		}
		if err := json.Unmarshal(row.Value, &cp); err != nil {
			t.Fatal(err)
		}
		items += cp.Items
		if cp.Done {
			done++
		}
	}
	return items, done
}

// backfillResult is the summary line `dualread backfill` prints.
type backfillResult struct {
	items, applied, stale, dup, letters int64
	elapsed                             time.Duration
}

var summaryRE = regexp.MustCompile(`backfill \S+: (\d+) items \((\d+) applied, (\d+) stale, (\d+) duplicate, (\d+) dead-lettered\) in (\S+)`)

func parseSummary(t *testing.T, out string) backfillResult {
	t.Helper()
	m := summaryRE.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no summary line in backfill output:\n%s", tail(out, 2000))
	}
	n := func(i int) int64 { v, _ := strconv.ParseInt(m[i], 10, 64); return v }
	d, err := time.ParseDuration(m[6])
	if err != nil {
		t.Fatal(err)
	}
	return backfillResult{n(1), n(2), n(3), n(4), n(5), d}
}

func (e *env) backfill(t *testing.T, table, segments string) *child {
	return e.start(t, "backfill "+table+" "+segments, "backfill", "--table", table, "--segments", segments,
		"--parallel", "4", "--page-limit", "200",
		"--backend", "bigtable", "--bigtable-project", btProject, "--bigtable-instance", btInstance,
		"--source-endpoint", e.ddb, "--log-level", "warn")
}

// scanRate is DynamoDB Local's own Scan rate for the same shape of work
// as the backfill: 4 workers over total segments, page limit 200,
// strongly consistent, items only counted.
func scanRate(t *testing.T, ctx context.Context, endpoint, table string, total int) (int64, time.Duration) {
	t.Helper()
	c := testenv.Client(endpoint)
	segs := make(chan int32, total)
	for s := range total {
		segs <- int32(s)
	}
	close(segs)
	var n int64
	var mu sync.Mutex
	var wg sync.WaitGroup
	t0 := time.Now()
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for s := range segs {
				in := &dynamodb.ScanInput{TableName: aws.String(table), Segment: aws.Int32(s), TotalSegments: aws.Int32(int32(total)),
					Limit: aws.Int32(200), ConsistentRead: aws.Bool(true)}
				for {
					out, err := c.Scan(ctx, in)
					if err != nil {
						t.Error(err)
						return
					}
					mu.Lock()
					n += int64(len(out.Items))
					mu.Unlock()
					if out.LastEvaluatedKey == nil {
						break
					}
					in.ExclusiveStartKey = out.LastEvaluatedKey
				}
			}
		}()
	}
	wg.Wait()
	return n, time.Since(t0)
}

// TestBackfillKillResume: `dualread backfill` of the larger table is
// SIGKILLed after about a third of it was checkpointed and run again; the
// second run reads only the remainder and the target equals DynamoDB Local.
// Then both tables are backfilled in full (fresh checkpoints: another
// TotalSegments) to measure peak RSS, which must not grow with the table,
// and the items/s against DynamoDB Local's own Scan rate.
func TestBackfillKillResume(t *testing.T) {
	e := sharedEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	seed := uint64(time.Now().UnixNano())
	ddb := testenv.NewRawClient(e.ddb)
	stamp := time.Now().UnixNano()
	small, large := fmt.Sprintf("rep_bf_small_%d", stamp), fmt.Sprintf("rep_bf_large_%d", stamp)
	nSmall, nLarge := *flagSmall, *flagLarge
	e.createSource(t, ctx, small, compositeSchema)
	e.createSource(t, ctx, large, compositeSchema)
	a := openTarget(t, ctx)
	t0 := time.Now()
	load(t, ctx, ddb, small, nSmall, seed)
	load(t, ctx, ddb, large, nLarge, seed+1)
	t.Logf("loaded %d + %d items in %v", nSmall, nLarge, time.Since(t0).Round(time.Millisecond))

	// Kill mid-way and resume.
	c1 := e.backfill(t, large, "0-7/8")
	waitFor(t, ctx, 5*time.Minute, "a third of the table checkpointed", func() bool {
		n, _ := checkpointed(t, ctx, a, large, 8)
		return n >= int64(nLarge/3) || c1.exited()
	})
	c1.kill(t)
	atKill, doneAtKill := checkpointed(t, ctx, a, large, 8)
	t.Logf("first run SIGKILLed with %d items checkpointed, %d of 8 segments done; peak RSS %s", atKill, doneAtKill, mib(c1.maxRSS()))
	if atKill >= int64(nLarge) || doneAtKill == 8 {
		t.Fatalf("the first run finished before the kill (%d items): nothing was resumed", atKill)
	}
	c2 := e.backfill(t, large, "0-7/8")
	if err := c2.wait(t, 10*time.Minute); err != nil {
		t.Fatalf("resumed run: %v\n%s", err, tail(c2.out.String(), 2000))
	}
	r2 := parseSummary(t, c2.out.String())
	t.Logf("resumed run read %d items (%d applied, %d stale, %d duplicate) in %v; peak RSS %s",
		r2.items, r2.applied, r2.stale, r2.dup, r2.elapsed, mib(c2.maxRSS()))
	if r2.items > int64(nLarge)-atKill || r2.items == 0 {
		t.Errorf("resumed run read %d items, want at most the %d not checkpointed", r2.items, int64(nLarge)-atKill)
	}
	if n, done := checkpointed(t, ctx, a, large, 8); n != int64(nLarge) || done != 8 {
		t.Errorf("after resume: %d items checkpointed, %d of 8 segments done; want %d and 8", n, done, nLarge)
	}
	if got := compareWithSource(t, ctx, e, a, large, "pk", "sk"); got != nLarge {
		t.Fatalf("DynamoDB Local holds %d items, want %d", got, nLarge)
	}

	// Peak memory and rate of complete runs, small then large.
	type run struct {
		n      int
		rss    int64
		res    backfillResult
		scanN  int64
		scanEl time.Duration
	}
	var runs []run
	for _, tc := range []struct {
		table string
		n     int
	}{{small, nSmall}, {large, nLarge}} {
		sn, sel := scanRate(t, ctx, e.ddb, tc.table, 16)
		c := e.backfill(t, tc.table, "0-15/16")
		if err := c.wait(t, 10*time.Minute); err != nil {
			t.Fatalf("full run of %s: %v\n%s", tc.table, err, tail(c.out.String(), 2000))
		}
		r := run{n: tc.n, rss: c.maxRSS(), res: parseSummary(t, c.out.String()), scanN: sn, scanEl: sel}
		if r.res.items != int64(tc.n) || r.scanN != int64(tc.n) || r.res.letters != 0 {
			t.Errorf("%s: backfill read %d items (%d dead-lettered), Scan %d; want %d", tc.table, r.res.items, r.res.letters, r.scanN, tc.n)
		}
		t.Logf("backfill of %d items: %v, %.0f items/s, peak RSS %s, CPU %v; DynamoDB Local Scan alone: %v, %.0f items/s",
			tc.n, r.res.elapsed, float64(r.res.items)/r.res.elapsed.Seconds(), mib(r.rss), c.cpu().Round(time.Millisecond),
			sel.Round(time.Millisecond), float64(sn)/sel.Seconds())
		runs = append(runs, r)
	}
	compareWithSource(t, ctx, e, a, small, "pk", "sk")
	// Memory is bounded by the pages in flight (4 × 200 items here), not by
	// the table: 4× the items may not cost more than 25% + 16 MiB more.
	s, l := runs[0], runs[1]
	if l.rss > s.rss*5/4+16<<20 {
		t.Errorf("peak RSS grew with the table: %s for %d items, %s for %d", mib(s.rss), s.n, mib(l.rss), l.n)
	}
	if l.rss > rssBound {
		t.Errorf("peak RSS %s above the documented bound %s", mib(l.rss), mib(rssBound))
	}
}

// rssBound is the documented peak RSS of `dualread backfill --parallel 4
// --page-limit 200` (BENCHMARKS.md): the binary's baseline (gRPC, SDKs) plus
// 4 pages in flight.
const rssBound = 128 << 20
