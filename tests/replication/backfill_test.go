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

	"github.com/dualread/dualread/adapter"
	"github.com/dualread/dualread/adapter/store"
	"github.com/dualread/dualread/internal/testenv"
	"github.com/dualread/dualread/streamproc/backfill"
)

const compositeSchema = `"KeySchema":[{"AttributeName":"pk","KeyType":"HASH"},{"AttributeName":"sk","KeyType":"RANGE"}],` +
	`"AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"},{"AttributeName":"sk","AttributeType":"N"}],"BillingMode":"PAY_PER_REQUEST"`

// loaders is how many BatchWriteItem calls load keeps in flight: DynamoDB
// Local writes about twice as many items per second with 8 as with 4.
const loaders = 8

// load writes n items (~300 bytes each: strings, numbers, binary, a set, a
// list) with BatchWriteItem from loaders goroutines.
func load(t *testing.T, ctx context.Context, ddb *testenv.RawClient, table string, n int, seed uint64) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, loaders)
	for w := range loaders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rnd := rand.New(rand.NewPCG(seed, uint64(w)))
			for lo := w * 25; lo < n; lo += loaders * 25 {
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

// TestBackfillKillResume: `dualread backfill` of the large table is
// SIGKILLed after about a third of it was checkpointed and run again; the
// second run reads only the remainder and the target equals DynamoDB Local
// item for item. The small table is backfilled in full too: the peak RSS of
// the large table's runs must not exceed the small one's by more than
// sampling noise (memory does not grow with the table) and must stay under
// the documented bound. The comparisons read DynamoDB Local with the
// backfill's own Scan shape, which gives its Scan rate for BENCHMARKS.md.
func TestBackfillKillResume(t *testing.T) {
	e := sharedEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	seed := uint64(time.Now().UnixNano())
	ddb := testenv.NewRawClient(e.ddb)
	stamp := time.Now().UnixNano()
	small, large := fmt.Sprintf("rep_bf_small_%d", stamp), fmt.Sprintf("rep_bf_large_%d", stamp)
	nSmall, nLarge := *flagSmall, *flagLarge
	e.createSource(t, ctx, compositeSchema, small, large)
	a := openTarget(t, ctx)
	t0 := time.Now()
	load(t, ctx, ddb, small, nSmall, seed)
	load(t, ctx, ddb, large, nLarge, seed+1)
	t.Logf("loaded %d + %d items in %v", nSmall, nLarge, time.Since(t0).Round(time.Millisecond))

	// Kill mid-way and resume.
	const segs, total = "0-15/16", 16
	c1 := e.backfill(t, large, segs)
	waitFor(t, ctx, 5*time.Minute, "a third of the table checkpointed", func() bool {
		n, _ := checkpointed(t, ctx, a, large, total)
		return n >= int64(nLarge/3) || c1.exited()
	})
	c1.kill(t)
	atKill, doneAtKill := checkpointed(t, ctx, a, large, total)
	t.Logf("first run SIGKILLed with %d items checkpointed, %d of %d segments done; peak RSS %s", atKill, doneAtKill, total, mib(c1.maxRSS()))
	if atKill >= int64(nLarge) || doneAtKill == total {
		t.Fatalf("the first run finished before the kill (%d items): nothing was resumed", atKill)
	}
	// The resumed run races with live writes replicated by streamproc
	// (started first, as a migration does).
	c2 := e.backfill(t, large, segs)
	raced := e.race(t, ctx, a, large, total, seed, c2)
	if err := c2.wait(t, 10*time.Minute); err != nil {
		t.Fatalf("resumed run: %v\n%s", err, tail(c2.out.String(), 2000))
	}
	r2 := parseSummary(t, c2.out.String())
	t.Logf("resumed run read %d items (%d applied, %d stale, %d duplicate) in %v, %.0f items/s; peak RSS %s, CPU %v; %d racing writes",
		r2.items, r2.applied, r2.stale, r2.dup, r2.elapsed, float64(r2.items)/r2.elapsed.Seconds(), mib(c2.maxRSS()), c2.cpu().Round(time.Millisecond), raced)
	// Stale items are the backfill's copies that lost to a newer version the
	// stream had already applied: the race this run was meant to provoke.
	// The comparison below proves the newer values stayed.
	if raced == 0 || r2.stale == 0 {
		t.Errorf("%d racing writes, %d stale backfill items: the race with the stream was not exercised", raced, r2.stale)
	}
	if r2.items > int64(nLarge)-atKill || r2.items == 0 || r2.letters != 0 {
		t.Errorf("resumed run read %d items (%d dead-lettered), want at most the %d not checkpointed", r2.items, r2.letters, int64(nLarge)-atKill)
	}
	if n, done := checkpointed(t, ctx, a, large, total); n != int64(nLarge) || done != total {
		t.Errorf("after resume: %d items checkpointed, %d of %d segments done; want %d and %d", n, done, total, nLarge, total)
	}

	// A complete run of the small table, for the memory comparison.
	cs := e.backfill(t, small, segs)
	if err := cs.wait(t, 10*time.Minute); err != nil {
		t.Fatalf("run of %s: %v\n%s", small, err, tail(cs.out.String(), 2000))
	}
	rs := parseSummary(t, cs.out.String())
	if rs.items != int64(nSmall) || rs.letters != 0 {
		t.Errorf("%s: backfill read %d items (%d dead-lettered), want %d", small, rs.items, rs.letters, nSmall)
	}

	cmpL := compareWithSource(t, ctx, e, a, large, "pk", "sk")
	cmpS := compareWithSource(t, ctx, e, a, small, "pk", "sk")
	if cmpL.items != nLarge || cmpS.items != nSmall {
		t.Fatalf("DynamoDB Local holds %d and %d items, want %d and %d", cmpL.items, cmpS.items, nLarge, nSmall)
	}
	t.Logf("backfill of %d items: %v, %.0f items/s, peak RSS %s, CPU %v; DynamoDB Local Scan alone: %v, %.0f items/s",
		nSmall, rs.elapsed, float64(rs.items)/rs.elapsed.Seconds(), mib(cs.maxRSS()), cs.cpu().Round(time.Millisecond),
		cmpS.ddbScan.Round(time.Millisecond), float64(nSmall)/cmpS.ddbScan.Seconds())
	t.Logf("backfill of %d items (resumed run, %d items): %v, %.0f items/s, peak RSS %s / %s (killed / resumed); DynamoDB Local Scan alone: %v, %.0f items/s",
		nLarge, r2.items, r2.elapsed, float64(r2.items)/r2.elapsed.Seconds(), mib(c1.maxRSS()), mib(c2.maxRSS()),
		cmpL.ddbScan.Round(time.Millisecond), float64(nLarge)/cmpL.ddbScan.Seconds())

	// Memory is bounded by the pages in flight (4 × 200 items here), not by
	// the table: the large table's runs (together 40× the small table's
	// items by default) may not cost more than 25% + 16 MiB more.
	sRSS, lRSS := cs.maxRSS(), max(c1.maxRSS(), c2.maxRSS())
	if lRSS > sRSS*5/4+16<<20 {
		t.Errorf("peak RSS grew with the table: %s for %d items, %s for %d", mib(sRSS), nSmall, mib(lRSS), nLarge)
	}
	if lRSS > rssBound {
		t.Errorf("peak RSS %s above the documented bound %s", mib(lRSS), mib(rssBound))
	}
}

// rssBound is the documented peak RSS of `dualread backfill --parallel 4
// --page-limit 200` (BENCHMARKS.md): the binary's baseline (gRPC, SDKs) plus
// 4 pages in flight.
const rssBound = 128 << 20
