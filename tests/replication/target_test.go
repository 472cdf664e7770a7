package replication

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dualread/dualread/adapter"
	"github.com/dualread/dualread/adapter/attr"
	"github.com/dualread/dualread/adapter/store"
	"github.com/dualread/dualread/internal/testenv"
	"github.com/dualread/dualread/streamproc/kinesis"
)

type ddbResp struct {
	Attributes       attr.Item   `json:"Attributes"`
	Items            []attr.Item `json:"Items"`
	LastEvaluatedKey attr.Item   `json:"LastEvaluatedKey"`
	UnprocessedItems json.RawMessage
}

// call sends one DynamoDB request to DynamoDB Local and fails the test on
// anything but 200.
func call(t *testing.T, ctx context.Context, ddb *testenv.RawClient, op, body string) ddbResp {
	t.Helper()
	resp, err := ddb.Do(ctx, op, []byte(body))
	if err != nil || resp.Status != 200 {
		t.Fatalf("%s: %v %d %s", op, err, resp.Status, resp.Body)
	}
	var r ddbResp
	if err := json.Unmarshal(resp.Body, &r); err != nil {
		t.Fatalf("%s answer: %v", op, err)
	}
	return r
}

// createSource creates the tables on DynamoDB Local (deleted at cleanup)
// and the same tables in the target with one `dualread schema import`, the
// way an operator would.
func (e *env) createSource(t *testing.T, ctx context.Context, schema string, tables ...string) {
	t.Helper()
	ddb := testenv.NewRawClient(e.ddb)
	for _, table := range tables {
		call(t, ctx, ddb, "CreateTable", fmt.Sprintf(`{"TableName":%q,%s}`, table, schema))
		t.Cleanup(func() {
			ddb.Do(context.Background(), "DeleteTable", []byte(fmt.Sprintf(`{"TableName":%q}`, table)))
		})
	}
	c := e.start(t, "schema import", "schema", "import", "--from", e.ddb, "--tables", strings.Join(tables, ","),
		"--backend", "bigtable", "--bigtable-project", btProject, "--bigtable-instance", btInstance)
	if err := c.wait(t, time.Minute); err != nil {
		t.Fatalf("schema import: %v\n%s", err, c.out.String())
	}
}

// openTarget opens an adapter on the emulator the children write to, to
// read the target back and to inspect leases and checkpoints.
func openTarget(t *testing.T, ctx context.Context) *adapter.Adapter {
	t.Helper()
	a, err := adapter.Open(ctx, adapter.Config{Backend: adapter.BackendBigtable, BigtableProject: btProject, BigtableInstance: btInstance})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return a
}

// scanShape is how a table is read: Segments of TotalSegments paged by
// Workers goroutines with Limit items per page (0: DynamoDB's 1 MB pages).
// The comparison reads DynamoDB Local with the backfill's own shape, so
// the time it takes is DynamoDB Local's Scan rate for the backfill's work.
type scanShape struct {
	segments, workers int
	limit             int
	consistent        bool
}

// backfillShape is what the backfill children run with: --parallel 4
// --page-limit 200 over 16 segments, strongly consistent (backfill.Run
// always reads with ConsistentRead).
var backfillShape = scanShape{segments: 16, workers: 4, limit: 200, consistent: true}

// scanSegments reads every item of table with do (DynamoDB Local or the
// target) in the given shape, calling each with every page's items, from
// up to sh.workers goroutines at once.
func scanSegments(ctx context.Context, do func(op, body string) (ddbResp, error), table string, sh scanShape, each func([]attr.Item)) error {
	segs := make(chan int, sh.segments)
	for s := range sh.segments {
		segs <- s
	}
	close(segs)
	errs := make([]error, sh.workers)
	var wg sync.WaitGroup
	for w := range sh.workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for seg := range segs {
				var esk attr.Item
				for ctx.Err() == nil {
					body := fmt.Sprintf(`{"TableName":%q,"Segment":%d,"TotalSegments":%d`, table, seg, sh.segments)
					if sh.limit > 0 {
						body += fmt.Sprintf(`,"Limit":%d`, sh.limit)
					}
					if sh.consistent {
						body += `,"ConsistentRead":true`
					}
					if esk != nil {
						body += fmt.Sprintf(`,"ExclusiveStartKey":%s`, esk.AppendJSON(nil))
					}
					r, err := do("Scan", body+"}")
					if err != nil {
						errs[w] = err
						return
					}
					each(r.Items)
					if esk = r.LastEvaluatedKey; esk == nil {
						break
					}
				}
			}
			if errs[w] == nil {
				errs[w] = ctx.Err()
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

func itemKey(it attr.Item, keyAttrs []string) string {
	k := attr.Item{}
	for _, a := range keyAttrs {
		k[a] = it[a]
	}
	return string(k.AppendJSON(nil))
}

// comparison is what compareWithSource found equal and how long reading
// DynamoDB Local took.
type comparison struct {
	items   int
	ddbScan time.Duration
}

// compareWithSource reads the table from DynamoDB Local (backfillShape,
// timed) and then from the target (a parallel Scan through the in-process
// executor), and fails on any difference: missing, different or extra
// (resurrected) items, compared as canonical JSON.
func compareWithSource(t *testing.T, ctx context.Context, e *env, a *adapter.Adapter, table string, keyAttrs ...string) comparison {
	t.Helper()
	ddb := testenv.NewRawClient(e.ddb)
	var mu sync.Mutex
	want := map[string]string{}
	t0 := time.Now()
	err := scanSegments(ctx, func(op, body string) (ddbResp, error) {
		resp, err := ddb.Do(ctx, op, []byte(body))
		if err != nil || resp.Status != 200 {
			return ddbResp{}, fmt.Errorf("DynamoDB Local %s: %v %d %s", op, err, resp.Status, resp.Body)
		}
		var r ddbResp
		return r, json.Unmarshal(resp.Body, &r)
	}, table, backfillShape, func(items []attr.Item) {
		mu.Lock()
		defer mu.Unlock()
		for _, it := range items {
			want[itemKey(it, keyAttrs)] = string(it.AppendJSON(nil))
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	cmp := comparison{items: len(want), ddbScan: time.Since(t0)}
	var bad []string
	t1 := time.Now()
	err = scanSegments(ctx, func(op, body string) (ddbResp, error) {
		out, err := a.Executor.Do(ctx, op, []byte(body))
		if err != nil {
			return ddbResp{}, fmt.Errorf("target %s: %w", op, err)
		}
		var r ddbResp
		return r, json.Unmarshal(out, &r)
	}, table, scanShape{segments: 16, workers: 8}, func(items []attr.Item) {
		mu.Lock()
		defer mu.Unlock()
		for _, it := range items {
			k, g := itemKey(it, keyAttrs), string(it.AppendJSON(nil))
			w, ok := want[k]
			switch {
			case !ok:
				bad = append(bad, fmt.Sprintf("item %s resurrected, invented or duplicated in target: %s", k, g))
			case g != w:
				bad = append(bad, fmt.Sprintf("item %s: target %q, DynamoDB Local %q", k, g, w))
			}
			delete(want, k)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	for k, w := range want {
		bad = append(bad, fmt.Sprintf("item %s missing from target; DynamoDB Local %q", k, w))
	}
	if len(bad) > 0 {
		sort.Strings(bad)
		t.Fatalf("%d of %d items differ:\n%s", len(bad), cmp.items, strings.Join(bad[:min(len(bad), 5)], "\n"))
	}
	if cmp.items > 10000 {
		t.Logf("compared %s: %d items equal; DynamoDB Local read in %v, target in %v", table, cmp.items,
			cmp.ddbScan.Round(time.Millisecond), time.Since(t1).Round(time.Millisecond))
	}
	return cmp
}

// leases reads the stream's lease rows (kinesis.LeaseSpace) by shard.
func leases(ctx context.Context, st store.Store, stream string) (map[string]kinesis.Lease, error) {
	out := map[string]kinesis.Lease{}
	for row, err := range st.Scan(ctx, kinesis.LeaseSpace, store.Range{Start: []byte(stream + "\x00"), End: []byte(stream + "\x01")}) {
		if errors.Is(err, store.ErrNoSpace) {
			return out, nil // no streamproc has started yet
		}
		if err != nil {
			return nil, err
		}
		var l kinesis.Lease
		if err := json.Unmarshal(row.Value, &l); err != nil {
			return nil, err
		}
		out[l.Shard] = l
	}
	return out, nil
}
