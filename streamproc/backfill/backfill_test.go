package backfill

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dualread/dualread/adapter/attr"
	"github.com/dualread/dualread/adapter/dynamo"
	"github.com/dualread/dualread/adapter/store/btstore"
	"github.com/dualread/dualread/internal/testenv"
	"github.com/dualread/dualread/streamproc"
)

var flagItems = flag.Int("backfill.items", 3000, "items the backfill test copies")

func TestParseSegments(t *testing.T) {
	cases := []struct {
		in   string
		want Segments
		err  bool
	}{
		{"0-15/64", Segments{0, 15, 64}, false},
		{"3/8", Segments{3, 3, 8}, false},
		{"0-0/1", Segments{0, 0, 1}, false},
		{"8/8", Segments{}, true},
		{"5-2/8", Segments{}, true},
		{"0-15", Segments{}, true},
		{"a-b/c", Segments{}, true},
		{"0/0", Segments{}, true},
	}
	for _, c := range cases {
		got, err := ParseSegments(c.in)
		if (err != nil) != c.err || got != c.want {
			t.Errorf("%q: %+v %v", c.in, got, err)
		}
	}
}

// countingTarget cancels the run after n replicated items (a hard kill
// mid-way: no graceful shutdown, pages in flight are lost).
type countingTarget struct {
	streamproc.Replicator
	n      atomic.Int64
	after  int64
	cancel context.CancelFunc
}

func (c *countingTarget) Replicate(ctx context.Context, table string, key, image attr.Item, version uint64) (dynamo.Outcome, error) {
	if c.n.Add(1) == c.after {
		c.cancel()
	}
	return c.Replicator.Replicate(ctx, table, key, image, version)
}

// TestBackfillResume: a backfill killed mid-way and resumed by two
// "processes" taking disjoint segment ranges copies the table exactly, and
// an item the stream already brought in a newer version keeps it.
func TestBackfillResume(t *testing.T) {
	if testing.Short() {
		t.Skip("needs DynamoDB Local")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	ep := testenv.StartDynamoDBLocal(t)
	raw := testenv.NewRawClient(ep)
	table := fmt.Sprintf("sp_bf_%d", time.Now().UnixNano())
	schema := `"KeySchema":[{"AttributeName":"pk","KeyType":"HASH"},{"AttributeName":"sk","KeyType":"RANGE"}],"AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"},{"AttributeName":"sk","AttributeType":"N"}],"BillingMode":"PAY_PER_REQUEST"`
	do := func(op, body string) []byte {
		r, err := raw.Do(ctx, op, []byte(body))
		if err != nil || r.Status != 200 {
			t.Fatalf("%s: %v %s", op, err, r.Body)
		}
		return r.Body
	}
	do("CreateTable", fmt.Sprintf(`{"TableName":%q,%s}`, table, schema))
	defer raw.Do(context.Background(), "DeleteTable", []byte(fmt.Sprintf(`{"TableName":%q}`, table)))
	n := *flagItems
	for i := 0; i < n; i += 25 {
		var reqs []string
		for j := i; j < min(n, i+25); j++ {
			reqs = append(reqs, fmt.Sprintf(`{"PutRequest":{"Item":{"pk":{"S":"p%d"},"sk":{"N":"%d"},"v":{"S":"%s"},"n":{"N":"%d.25"},"l":{"L":[{"B":"AAE="},{"NS":["1","2"]}]}}}}`, j%97, j, strings.Repeat("x", j%50), j))
		}
		do("BatchWriteItem", fmt.Sprintf(`{"RequestItems":{%q:[%s]}}`, table, strings.Join(reqs, ",")))
	}

	st, err := btstore.NewEmbedded(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ex, err := dynamo.New(ctx, st, dynamo.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ex.Do(ctx, "CreateTable", []byte(fmt.Sprintf(`{"TableName":%q,%s}`, table, schema))); err != nil {
		t.Fatal(err)
	}
	// The stream already applied a newer version of one item.
	newer := attr.Item{"pk": attr.Str("p5"), "sk": numItem(t, "5"), "v": attr.Str("from the stream")}
	if _, err := ex.Replicate(ctx, table, nil, newer, uint64(time.Now().Add(time.Hour).UnixMicro())); err != nil {
		t.Fatal(err)
	}
	dl, err := streamproc.NewDeadLetters(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	ddb := testenv.Client(ep)
	segs := Segments{0, 7, 8}

	// Run 1: killed after about a third of the items.
	kctx, kill := context.WithCancel(ctx)
	ct := &countingTarget{Replicator: ex, after: int64(n / 3), cancel: kill}
	a1, _ := streamproc.NewApplier(streamproc.Config{Target: ct, DeadLetter: dl, Source: "backfill"})
	p1, err := Run(kctx, Config{DynamoDB: ddb, Table: table, Store: st, Applier: a1, Segments: segs, Parallel: 3, PageLimit: 100})
	a1.Close()
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("killed run returned %v", err)
	}
	if p1.Items >= int64(n) || p1.SegmentsDone == segs.Total {
		t.Fatalf("kill came too late: %+v", p1)
	}
	// Run 2: two processes split the segments and resume from the checkpoints.
	a2, _ := streamproc.NewApplier(streamproc.Config{Target: ex, DeadLetter: dl, Source: "backfill"})
	defer a2.Close()
	var reports atomic.Int32
	var total int64
	for _, r := range []string{"0-3/8", "4-7/8"} {
		s, _ := ParseSegments(r)
		p, err := Run(ctx, Config{DynamoDB: ddb, Table: table, Store: st, Applier: a2, Segments: s, Parallel: 2, PageLimit: 100,
			ReadRate: 20000, EstimatedItems: int64(n) / 2, ProgressEvery: 50 * time.Millisecond,
			Progress: func(Progress) { reports.Add(1) }})
		if err != nil {
			t.Fatal(err)
		}
		total += p.Items
	}
	if p1.Items+total < int64(n) || total >= int64(n) {
		t.Errorf("resume read %d items after %d: it did not resume from checkpoints", total, p1.Items)
	}
	if reports.Load() == 0 {
		t.Error("no progress reports")
	}
	t.Logf("run 1 read %d items before the kill, resumed runs %d (of %d)", p1.Items, total, n)

	// Full comparison.
	want := map[string]string{}
	var esk json.RawMessage
	for {
		body := fmt.Sprintf(`{"TableName":%q,"ConsistentRead":true}`, table)
		if esk != nil {
			body = fmt.Sprintf(`{"TableName":%q,"ConsistentRead":true,"ExclusiveStartKey":%s}`, table, esk)
		}
		var page struct {
			Items            []attr.Item
			LastEvaluatedKey json.RawMessage
		}
		if err := json.Unmarshal(do("Scan", body), &page); err != nil {
			t.Fatal(err)
		}
		for _, it := range page.Items {
			want[string(attr.Item{"pk": it["pk"], "sk": it["sk"]}.AppendJSON(nil))] = string(it.AppendJSON(nil))
		}
		if page.LastEvaluatedKey == nil {
			break
		}
		esk = page.LastEvaluatedKey
	}
	got := map[string]string{}
	var tesk json.RawMessage
	for {
		body := fmt.Sprintf(`{"TableName":%q}`, table)
		if tesk != nil {
			body = fmt.Sprintf(`{"TableName":%q,"ExclusiveStartKey":%s}`, table, tesk)
		}
		out, err := ex.Do(ctx, "Scan", []byte(body))
		if err != nil {
			t.Fatal(err)
		}
		var page struct {
			Items            []attr.Item
			LastEvaluatedKey json.RawMessage
		}
		if err := json.Unmarshal(out, &page); err != nil {
			t.Fatal(err)
		}
		for _, it := range page.Items {
			got[string(attr.Item{"pk": it["pk"], "sk": it["sk"]}.AppendJSON(nil))] = string(it.AppendJSON(nil))
		}
		if page.LastEvaluatedKey == nil {
			break
		}
		tesk = page.LastEvaluatedKey
	}
	newerKey := string(attr.Item{"pk": newer["pk"], "sk": newer["sk"]}.AppendJSON(nil))
	if got[newerKey] != string(newer.AppendJSON(nil)) {
		t.Errorf("backfill overwrote the newer stream version: %s", got[newerKey])
	}
	want[newerKey] = string(newer.AppendJSON(nil))
	if len(got) != len(want) || len(want) != n {
		t.Errorf("target %d items, DynamoDB Local %d, wrote %d", len(got), len(want), n)
	}
	bad := 0
	for k, w := range want {
		if got[k] != w {
			if bad++; bad < 5 {
				t.Errorf("%s: target %s, want %s", k, got[k], w)
			}
		}
	}
	if l, _ := dl.List(ctx, 0); len(l) != 0 {
		t.Errorf("dead letters: %+v", l[0])
	}
}

func numItem(t *testing.T, s string) attr.Value {
	var it attr.Item
	if err := it.UnmarshalJSON([]byte(`{"n":{"N":"` + s + `"}}`)); err != nil {
		t.Fatal(err)
	}
	return it["n"]
}
