package replication

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
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

// createSource creates a table on DynamoDB Local (deleted at cleanup) and
// the same table in the target with `dualread schema import`, the way an
// operator would.
func (e *env) createSource(t *testing.T, ctx context.Context, table, schema string) {
	t.Helper()
	ddb := testenv.NewRawClient(e.ddb)
	call(t, ctx, ddb, "CreateTable", fmt.Sprintf(`{"TableName":%q,%s}`, table, schema))
	t.Cleanup(func() {
		ddb.Do(context.Background(), "DeleteTable", []byte(fmt.Sprintf(`{"TableName":%q}`, table)))
	})
	c := e.start(t, "schema import", "schema", "import", "--from", e.ddb, "--tables", table,
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

// scanAll returns every item of a table keyed by its key attributes, as
// canonical JSON, paging with do (DynamoDB Local or the target).
func scanAll(t *testing.T, do func(op, body string) ddbResp, table string, keyAttrs ...string) map[string]string {
	t.Helper()
	out := map[string]string{}
	var esk attr.Item
	for {
		body := fmt.Sprintf(`{"TableName":%q}`, table)
		if esk != nil {
			body = fmt.Sprintf(`{"TableName":%q,"ExclusiveStartKey":%s}`, table, esk.AppendJSON(nil))
		}
		r := do("Scan", body)
		for _, it := range r.Items {
			k := attr.Item{}
			for _, a := range keyAttrs {
				k[a] = it[a]
			}
			out[string(k.AppendJSON(nil))] = string(it.AppendJSON(nil))
		}
		if r.LastEvaluatedKey == nil {
			return out
		}
		esk = r.LastEvaluatedKey
	}
}

// compareWithSource scans the table on DynamoDB Local and in the target and
// fails on any difference: missing, different or extra (resurrected) items.
func compareWithSource(t *testing.T, ctx context.Context, e *env, a *adapter.Adapter, table string, keyAttrs ...string) int {
	t.Helper()
	ddb := testenv.NewRawClient(e.ddb)
	want := scanAll(t, func(op, body string) ddbResp { return call(t, ctx, ddb, op, body) }, table, keyAttrs...)
	got := scanAll(t, func(op, body string) ddbResp {
		out, err := a.Executor.Do(ctx, op, []byte(body))
		if err != nil {
			t.Fatalf("target %s: %v", op, err)
		}
		var r ddbResp
		if err := json.Unmarshal(out, &r); err != nil {
			t.Fatal(err)
		}
		return r
	}, table, keyAttrs...)
	var bad []string
	for k, w := range want {
		if g, ok := got[k]; !ok || g != w {
			bad = append(bad, fmt.Sprintf("item %s: target %q, DynamoDB Local %q", k, g, w))
		}
	}
	for k, g := range got {
		if _, ok := want[k]; !ok {
			bad = append(bad, fmt.Sprintf("item %s resurrected or invented in target: %s", k, g))
		}
	}
	if len(bad) > 0 {
		t.Fatalf("%d of %d items differ:\n%s", len(bad), len(want), strings.Join(bad[:min(len(bad), 5)], "\n"))
	}
	return len(want)
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
