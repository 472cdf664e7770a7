package dynamo_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/dualread/dualread/adapter/attr"
	"github.com/dualread/dualread/adapter/dynamo"
	"github.com/dualread/dualread/adapter/store"
	"github.com/dualread/dualread/adapter/store/btstore"
	"github.com/dualread/dualread/internal/testenv"
)

// TestCollectTombstones runs on the embedded Bigtable emulator and on
// gcloud's emulator in its own process: an old tombstone is collected, a
// recent one and a live item are untouched, index rows stay, and, the
// documented hazard, a stale record older than the retention window that
// arrives after collection resurrects the item it would have been refused
// for before.
func TestCollectTombstones(t *testing.T) {
	stores := []struct {
		name string
		open func(t *testing.T) store.Store
	}{
		{"embedded", func(t *testing.T) store.Store {
			st, err := btstore.NewEmbedded(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			return st
		}},
		{"emulator", func(t *testing.T) store.Store {
			if testing.Short() {
				t.Skip("needs the Bigtable emulator")
			}
			hp := testenv.StartBigtableEmulator(t)
			st, err := btstore.Open(context.Background(), "p", fmt.Sprintf("tomb%d", time.Now().UnixNano()%1e6), testenv.EmulatorClientOptions(hp)...)
			if err != nil {
				t.Fatal(err)
			}
			return st
		}},
	}
	for _, sc := range stores {
		t.Run(sc.name, func(t *testing.T) {
			st := sc.open(t)
			defer st.Close()
			testCollect(t, st)
		})
	}
}

func testCollect(t *testing.T, st store.Store) {
	ctx := context.Background()
	e, err := dynamo.New(ctx, st, dynamo.Options{})
	if err != nil {
		t.Fatal(err)
	}
	must := func(op, body string) map[string]any {
		t.Helper()
		out, err := e.Do(ctx, op, []byte(body))
		if err != nil {
			t.Fatalf("%s: %v", op, err)
		}
		var m map[string]any
		if err := json.Unmarshal(out, &m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	must("CreateTable", `{"TableName":"tomb","BillingMode":"PAY_PER_REQUEST",
		"KeySchema":[{"AttributeName":"pk","KeyType":"HASH"}],
		"AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"},{"AttributeName":"g","AttributeType":"S"}],
		"GlobalSecondaryIndexes":[{"IndexName":"by_g","KeySchema":[{"AttributeName":"g","KeyType":"HASH"}],"Projection":{"ProjectionType":"ALL"}}]}`)
	now := time.Now()
	at := func(ago time.Duration) uint64 { return uint64(now.Add(-ago).UnixMicro()) }
	key := func(k string) attr.Item { return attr.Item{"pk": attr.Str(k)} }
	img := func(k, g string) attr.Item { return attr.Item{"pk": attr.Str(k), "g": attr.Str(g)} }
	replicate := func(k string, image attr.Item, version uint64, want dynamo.Outcome) {
		t.Helper()
		got, err := e.Replicate(ctx, "tomb", key(k), image, version)
		if err != nil {
			t.Fatalf("replicate %s: %v", k, err)
		}
		if got != want {
			t.Fatalf("replicate %s at %d: %s, want %s", k, version, got, want)
		}
	}
	get := func(k string) map[string]any {
		t.Helper()
		return must("GetItem", `{"TableName":"tomb","Key":{"pk":{"S":"`+k+`"}},"ConsistentRead":true}`)
	}
	const retention = 24 * time.Hour
	replicate("old", img("old", "x"), at(60*time.Hour), dynamo.Applied)
	replicate("old", nil, at(48*time.Hour), dynamo.Applied) // tombstone older than the window
	replicate("recent", img("recent", "x"), at(3*time.Hour), dynamo.Applied)
	replicate("recent", nil, at(time.Hour), dynamo.Applied) // tombstone inside the window
	replicate("live", img("live", "keep"), at(72*time.Hour), dynamo.Applied)

	// Before collection the tombstone refuses an older change.
	replicate("old", img("old", "late"), at(50*time.Hour), dynamo.Stale)

	pages := 0
	sw, err := e.CollectTombstones(ctx, "tomb", now.Add(-retention), dynamo.CollectOptions{Page: 2,
		Pace: func(ctx context.Context, n int) error { pages++; return nil }})
	if err != nil {
		t.Fatal(err)
	}
	if sw != (dynamo.TombstoneSweep{Scanned: 3, Tombstones: 2, Collected: 1}) || pages != 2 {
		t.Fatalf("sweep %+v in %d pages, want 3 scanned, 2 tombstones, 1 collected in 2 pages", sw, pages)
	}
	// A second pass finds nothing more to collect.
	if sw, err := e.CollectTombstones(ctx, "tomb", now.Add(-retention), dynamo.CollectOptions{}); err != nil || sw.Collected != 0 || sw.Tombstones != 1 {
		t.Fatalf("second sweep %+v, %v", sw, err)
	}
	// The recent tombstone still protects its item; the live item and its
	// index row are untouched, and its version too (an older change is stale).
	replicate("recent", img("recent", "late"), at(2*time.Hour), dynamo.Stale)
	if it := get("recent"); it["Item"] != nil {
		t.Fatalf("recent item resurrected: %v", it)
	}
	if it := get("live"); it["Item"] == nil {
		t.Fatal("live item gone")
	}
	q := must("Query", `{"TableName":"tomb","IndexName":"by_g","KeyConditionExpression":"g = :g","ExpressionAttributeValues":{":g":{"S":"keep"}}}`)
	if q["Count"].(float64) != 1 {
		t.Fatalf("index lost the live item: %v", q)
	}
	replicate("live", img("live", "older"), at(73*time.Hour), dynamo.Stale)

	// The hazard: the same late change, arriving after its tombstone was
	// collected, finds nothing newer and resurrects the item. This is why
	// the retention must exceed how late any change can be delivered.
	if it := get("old"); it["Item"] != nil {
		t.Fatalf("old item visible before the late change: %v", it)
	}
	replicate("old", img("old", "late"), at(50*time.Hour), dynamo.Applied)
	if it := get("old"); it["Item"] == nil {
		t.Fatal("expected the documented resurrection of a change older than the retention window")
	}

	if _, err := e.CollectTombstones(ctx, "missing", now, dynamo.CollectOptions{}); err == nil {
		t.Fatal("sweep of a missing table succeeded")
	}
}
