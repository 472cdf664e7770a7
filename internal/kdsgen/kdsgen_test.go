package kdsgen

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sort"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/dualread/dualread/adapter/attr"
	"github.com/dualread/dualread/internal/testenv"
	"github.com/dualread/dualread/streamproc/record"
)

// TestRecord: what Record writes is what the stream processor's decoder
// reads as a KDS for DynamoDB record, in both precisions.
func TestRecord(t *testing.T) {
	keys := attr.Item{"pk": attr.Str("k1")}
	img := attr.Item{"pk": attr.Str("k1"), "n": attr.MustNum("2"), "tags": attr.StrSet([]string{"a", "t1"})}
	old := attr.Item{"pk": attr.Str("k1"), "n": attr.MustNum("1")}
	const micros = 1_700_000_000_123_456
	for _, tc := range []struct {
		event          string
		newImg, oldImg attr.Item
		milli          bool
		want           record.Event
		version        uint64
	}{
		{"INSERT", img, nil, false, record.Insert, micros},
		{"MODIFY", img, old, true, record.Modify, micros / 1000 * 1000},
		{"REMOVE", nil, old, false, record.Remove, micros},
		{"REMOVE", nil, old, true, record.Remove, micros / 1000 * 1000},
	} {
		c, err := record.DecodeKinesis(Record("t", tc.event, keys, tc.newImg, tc.oldImg, micros, tc.milli))
		if err != nil {
			t.Fatalf("%s milli=%v: %v", tc.event, tc.milli, err)
		}
		if c.Table != "t" || c.Event != tc.want || c.Version != tc.version || !attr.Equal(attr.Map(c.Keys), attr.Map(keys)) ||
			!attr.Equal(attr.Map(c.NewImage), attr.Map(tc.newImg)) || !attr.Equal(attr.Map(c.OldImage), attr.Map(tc.oldImg)) {
			t.Errorf("%s milli=%v: decoded %+v", tc.event, tc.milli, c)
		}
		if want := keys.Size() + tc.newImg.Size() + tc.oldImg.Size(); c.SizeBytes != int64(want) {
			t.Errorf("%s: SizeBytes %d, want %d", tc.event, c.SizeBytes, want)
		}
	}
}

// TestDisorder: every record is delivered at least once, at most twice,
// with about 10% duplicates, not in the original order, and never far from
// its place.
func TestDisorder(t *testing.T) {
	var in []Pub
	for i := range 10000 {
		in = append(in, Pub{fmt.Sprint(i), []byte(fmt.Sprint(i))})
	}
	out := Disorder(in, rand.New(rand.NewPCG(1, 2)))
	seen := map[string][]int{}
	for i, p := range out {
		seen[string(p.Data)] = append(seen[string(p.Data)], i)
	}
	dups, moved := 0, 0
	for i, p := range in {
		pos := seen[string(p.Data)]
		if len(pos) == 0 || len(pos) > 2 {
			t.Fatalf("record %d delivered %d times", i, len(pos))
		}
		if len(pos) == 2 {
			dups++
		}
		if pos[0] != i {
			moved++
		}
		if d := pos[0] - i; d > 2000 || d < -2000 {
			t.Errorf("record %d moved %d places", i, d)
		}
	}
	if len(out) != len(in)+dups || dups < 800 || dups > 1200 || moved < len(in)/2 {
		t.Errorf("%d out, %d duplicates, %d moved", len(out), dups, moved)
	}
}

// TestGenerate: in both modes, the records tell each item's history
// faithfully: per item, versions increase, INSERT only when the item was
// absent, each OldImage is the previous NewImage, REMOVE only of an
// existing item; folding them gives exactly what DynamoDB Local holds.
func TestGenerate(t *testing.T) {
	if testing.Short() {
		t.Skip("needs DynamoDB Local")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	ddb := testenv.NewRawClient(testenv.StartDynamoDBLocal(t))
	for _, batch := range []int{1, 25} {
		t.Run(fmt.Sprintf("batch%d", batch), func(t *testing.T) {
			stamp := time.Now().UnixNano()
			tables := []string{fmt.Sprintf("kdsgen_a_%d", stamp), fmt.Sprintf("kdsgen_b_%d", stamp)}
			for _, tb := range tables {
				body := fmt.Sprintf(`{"TableName":%q,"KeySchema":[{"AttributeName":"pk","KeyType":"HASH"}],`+
					`"AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"}],"BillingMode":"PAY_PER_REQUEST"}`, tb)
				if r, err := ddb.Do(ctx, "CreateTable", []byte(body)); err != nil || r.Status != 200 {
					t.Fatalf("CreateTable: %v %s", err, r.Body)
				}
			}
			res, err := Generate(ctx, Config{DynamoDB: ddb, Tables: tables, Changes: 1500, Keys: 24, Batch: batch, Seed: uint64(stamp)})
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Records) != 1500 || res.PerTable[tables[0]]+res.PerTable[tables[1]] != 1500 || res.PerTable[tables[1]] == 0 {
				t.Fatalf("%d records, per table %v", len(res.Records), res.PerTable)
			}
			if got := res.Last.Sub(res.First); got != 1499*time.Millisecond {
				t.Errorf("clock spans %v, want 1499 ms", got)
			}
			state := map[string]attr.Item{}
			last := map[string]uint64{}
			events := map[record.Event]int{}
			for _, p := range res.Records {
				c, err := record.DecodeKinesis(p.Data)
				if err != nil {
					t.Fatal(err)
				}
				k := c.Table + "/" + c.Keys["pk"].S
				if p.PartitionKey != c.Keys["pk"].S {
					t.Fatalf("partition key %q for item %s", p.PartitionKey, k)
				}
				if c.Version <= last[k] {
					t.Fatalf("%s: version %d after %d", k, c.Version, last[k])
				}
				prev := state[k]
				if (c.Event == record.Insert) != (prev == nil) || !attr.Equal(attr.Map(c.OldImage), attr.Map(prev)) {
					t.Fatalf("%s: %v with OldImage %s after %s", k, c.Event, c.OldImage.AppendJSON(nil), prev.AppendJSON(nil))
				}
				events[c.Event]++
				last[k], state[k] = c.Version, c.Image()
			}
			if events[record.Insert] == 0 || events[record.Modify] == 0 || events[record.Remove] == 0 {
				t.Errorf("events %v", events)
			}
			n := 0
			for _, tb := range tables {
				var esk attr.Item
				for {
					body := fmt.Sprintf(`{"TableName":%q}`, tb)
					if esk != nil {
						body = fmt.Sprintf(`{"TableName":%q,"ExclusiveStartKey":%s}`, tb, esk.AppendJSON(nil))
					}
					a, err := (&gen{cfg: Config{DynamoDB: ddb}}).call(ctx, "Scan", body)
					if err != nil {
						t.Fatal(err)
					}
					for _, it := range a.Items {
						k := tb + "/" + it["pk"].S
						if !attr.Equal(attr.Map(state[k]), attr.Map(it)) {
							t.Errorf("%s: records end at %s, DynamoDB Local holds %s", k, state[k].AppendJSON(nil), it.AppendJSON(nil))
						}
						n++
					}
					if esk = a.LastEvaluatedKey; esk == nil {
						break
					}
				}
			}
			live := 0
			for _, it := range state {
				if it != nil {
					live++
				}
			}
			if n != live {
				t.Errorf("DynamoDB Local holds %d items, the records leave %d", n, live)
			}
			t.Logf("batch %d: %d records %v, %d items live", batch, len(res.Records), events, live)
		})
	}
}

// TestStream: records published concurrently all arrive, Last names each
// shard's highest sequence number, and Split closes one shard into two.
func TestStream(t *testing.T) {
	if testing.Short() {
		t.Skip("needs kinesalite")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, err := NewStream(ctx, testenv.StartKinesalite(t), "kdsgen", 2)
	if err != nil {
		t.Fatal(err)
	}
	var ps []Pub
	for i := range 2300 {
		ps = append(ps, Pub{fmt.Sprint("k", i%97), []byte(fmt.Sprint(i))})
	}
	if err := s.Publish(ctx, ps); err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for shard, lastSeq := range s.Last() {
		it, err := s.Client.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{StreamName: aws.String(s.Name), ShardId: aws.String(shard),
			ShardIteratorType: types.ShardIteratorTypeTrimHorizon})
		if err != nil {
			t.Fatal(err)
		}
		iter, maxSeq := it.ShardIterator, ""
		for iter != nil {
			out, err := s.Client.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: iter})
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range out.Records {
				got[string(r.Data)]++
				maxSeq = aws.ToString(r.SequenceNumber)
			}
			if len(out.Records) == 0 {
				break
			}
			iter = out.NextShardIterator
		}
		if maxSeq != lastSeq.String() {
			t.Errorf("shard %s: last record %s, Last says %s", shard, maxSeq, lastSeq)
		}
	}
	if len(got) != len(ps) {
		t.Errorf("read %d distinct records of %d", len(got), len(ps))
	}
	parent, err := s.Split(ctx)
	if err != nil {
		t.Fatal(err)
	}
	shards, err := s.Shards(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var children []string
	for _, sh := range shards {
		if aws.ToString(sh.ParentShardId) == parent {
			children = append(children, aws.ToString(sh.ShardId))
		}
	}
	sort.Strings(children)
	if len(shards) != 4 || len(children) != 2 {
		t.Errorf("after splitting %s: %d shards, children %v", parent, len(shards), children)
	}
}
