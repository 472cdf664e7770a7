package ddbstreams

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"

	"github.com/dualread/dualread/streamproc/record"
)

// TestConvert: an SDK record with every attribute type becomes the change
// DecodeStreams makes of the API's JSON, with the time's fraction kept.
func TestConvert(t *testing.T) {
	at := time.UnixMicro(1_700_000_000_123_456)
	img := map[string]types.AttributeValue{
		"pk": &types.AttributeValueMemberS{Value: "a"},
		"n":  &types.AttributeValueMemberN{Value: "1.50"},
		"b":  &types.AttributeValueMemberB{Value: []byte{0, 1, 255}},
		"t":  &types.AttributeValueMemberBOOL{Value: true},
		"z":  &types.AttributeValueMemberNULL{Value: true},
		"ss": &types.AttributeValueMemberSS{Value: []string{"x", "y"}},
		"ns": &types.AttributeValueMemberNS{Value: []string{"1", "2"}},
		"bs": &types.AttributeValueMemberBS{Value: [][]byte{{1}, {2}}},
		"l":  &types.AttributeValueMemberL{Value: []types.AttributeValue{&types.AttributeValueMemberS{Value: "e"}}},
		"m":  &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"k": &types.AttributeValueMemberN{Value: "7"}}},
	}
	r := types.Record{EventID: aws.String("e1"), EventName: types.OperationTypeModify, EventSource: aws.String("aws:dynamodb"),
		Dynamodb: &types.StreamRecord{ApproximateCreationDateTime: &at, Keys: map[string]types.AttributeValue{"pk": img["pk"]},
			NewImage: img, OldImage: map[string]types.AttributeValue{"pk": img["pk"]}, SequenceNumber: aws.String("000042"), SizeBytes: aws.Int64(99)}}
	got := Convert(r, "tbl")
	if got.Err != nil {
		t.Fatal(got.Err)
	}
	c := got.Change
	if c.Table != "tbl" || c.Event != record.Modify || c.Version != 1_700_000_000_123_456 || c.SequenceNumber != "000042" || got.Seq != "000042" || c.SizeBytes != 99 {
		t.Fatalf("change %+v", c)
	}
	want := `{"b":{"B":"AAH/"},"bs":{"BS":["AQ==","Ag=="]},"l":{"L":[{"S":"e"}]},"m":{"M":{"k":{"N":"7"}}},"n":{"N":"1.5"},"ns":{"NS":["1","2"]},"pk":{"S":"a"},"ss":{"SS":["x","y"]},"t":{"BOOL":true},"z":{"NULL":true}}`
	if s := string(c.NewImage.AppendJSON(nil)); s != want {
		t.Errorf("NewImage %s\nwant      %s", s, want)
	}
	// A TTL delete keeps its identity.
	ttl := types.Record{EventName: types.OperationTypeRemove, UserIdentity: &types.Identity{PrincipalId: aws.String("dynamodb.amazonaws.com"), Type: aws.String("Service")},
		Dynamodb: &types.StreamRecord{ApproximateCreationDateTime: &at, Keys: map[string]types.AttributeValue{"pk": img["pk"]}, SequenceNumber: aws.String("43")}}
	if g := Convert(ttl, "tbl"); g.Err != nil || !g.Change.TTLDelete || g.Change.Image() != nil {
		t.Errorf("TTL delete: %+v %v", g.Change, g.Err)
	}
	// A record without the new image cannot be replayed.
	bad := types.Record{EventName: types.OperationTypeInsert, Dynamodb: &types.StreamRecord{ApproximateCreationDateTime: &at,
		Keys: map[string]types.AttributeValue{"pk": img["pk"]}, SequenceNumber: aws.String("44")}}
	if g := Convert(bad, "tbl"); g.Err == nil || !record.IsDecodeError(g.Err) || len(g.Raw) == 0 {
		t.Errorf("INSERT without NewImage: %+v", g)
	}
}

// lineageAPI serves a stream whose shards split, as DynamoDB's do every few
// hours (DynamoDB Local never splits, so this in-memory stream stands in
// for the lineage cases only): P → C1, C2; C1 → G. Each shard holds records
// of items; one item moves P → C1 → G, all in the same second.
type lineageAPI struct {
	API
	mu      sync.Mutex
	shards  []Shard
	records map[string][]types.Record
	failAt  string // shard whose first GetRecords fails once
}

func newLineageAPI() *lineageAPI {
	at := time.Unix(1_700_000_000, 0)
	seq := 0
	recs := func(keys ...string) []types.Record {
		var out []types.Record
		for _, k := range keys {
			seq++
			pk := &types.AttributeValueMemberS{Value: k}
			out = append(out, types.Record{EventName: types.OperationTypeModify, Dynamodb: &types.StreamRecord{
				ApproximateCreationDateTime: &at, Keys: map[string]types.AttributeValue{"pk": pk},
				NewImage:       map[string]types.AttributeValue{"pk": pk, "seq": &types.AttributeValueMemberN{Value: strconv.Itoa(seq)}},
				SequenceNumber: aws.String(fmt.Sprintf("%06d", seq))}})
		}
		return out
	}
	return &lineageAPI{
		shards: []Shard{{ID: "G", Parent: "C1"}, {ID: "C2", Parent: "P", Closed: true}, {ID: "C1", Parent: "P", Closed: true}, {ID: "P", Closed: true}},
		records: map[string][]types.Record{
			"P":  recs("x", "y", "x", "z", "x"),
			"C1": recs("x", "x"),
			"C2": recs("y", "z", "y"),
			"G":  recs("x"),
		},
	}
}

func (a *lineageAPI) DescribeStream(ctx context.Context, in *dynamodbstreams.DescribeStreamInput, _ ...func(*dynamodbstreams.Options)) (*dynamodbstreams.DescribeStreamOutput, error) {
	var out []types.Shard
	for _, s := range a.shards {
		sh := types.Shard{ShardId: aws.String(s.ID), SequenceNumberRange: &types.SequenceNumberRange{}}
		if s.Parent != "" {
			sh.ParentShardId = aws.String(s.Parent)
		}
		if s.Closed {
			sh.SequenceNumberRange.EndingSequenceNumber = aws.String("999999")
		}
		out = append(out, sh)
	}
	return &dynamodbstreams.DescribeStreamOutput{StreamDescription: &types.StreamDescription{Shards: out,
		StreamStatus: types.StreamStatusDisabled, StreamViewType: types.StreamViewTypeNewAndOldImages}}, nil
}

// Iterators are "shard|position"; GetRecords returns two records at a time.
func (a *lineageAPI) GetShardIterator(ctx context.Context, in *dynamodbstreams.GetShardIteratorInput, _ ...func(*dynamodbstreams.Options)) (*dynamodbstreams.GetShardIteratorOutput, error) {
	pos := 0
	if in.ShardIteratorType == types.ShardIteratorTypeAfterSequenceNumber {
		for i, r := range a.records[*in.ShardId] {
			if *r.Dynamodb.SequenceNumber == *in.SequenceNumber {
				pos = i + 1
			}
		}
	}
	return &dynamodbstreams.GetShardIteratorOutput{ShardIterator: aws.String(fmt.Sprintf("%s|%d", *in.ShardId, pos))}, nil
}

func (a *lineageAPI) GetRecords(ctx context.Context, in *dynamodbstreams.GetRecordsInput, _ ...func(*dynamodbstreams.Options)) (*dynamodbstreams.GetRecordsOutput, error) {
	shard, p, _ := strings.Cut(*in.ShardIterator, "|")
	pos, _ := strconv.Atoi(p)
	a.mu.Lock()
	if a.failAt == shard && pos > 0 {
		a.failAt = ""
		a.mu.Unlock()
		return nil, errors.New("injected GetRecords failure")
	}
	a.mu.Unlock()
	recs := a.records[shard]
	end := min(pos+2, len(recs))
	out := &dynamodbstreams.GetRecordsOutput{Records: recs[pos:end]}
	if end < len(recs) || shard == "G" { // G is open: it never ends
		out.NextShardIterator = aws.String(fmt.Sprintf("%s|%d", shard, end))
	}
	return out, nil
}

// TestWalkerLineage: shards are walked parents first, each record once and
// in shard order, a failing read resumes where it stopped, and every
// item's versions grow across the lineage, although all records carry the
// same second.
func TestWalkerLineage(t *testing.T) {
	api := newLineageAPI()
	api.failAt = "P"
	w := &Walker{Reader: &Reader{Client: api, Idle: 10 * time.Millisecond}, Poll: 10 * time.Millisecond}
	var (
		mu    sync.Mutex
		order []string // shard of each batch, in emission order
		seen  = map[string]bool{}
		last  = map[string]uint64{} // item → last version
		fail  = true
	)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := w.Walk(ctx, Stream{ARN: "arn", Table: "tbl", Resolution: time.Second}, func(ctx context.Context, shard string, b Batch) error {
		mu.Lock()
		defer mu.Unlock()
		if shard == "C2" && fail {
			fail = false
			return errors.New("publish failed") // the walker must resume at this batch
		}
		order = append(order, shard)
		for _, r := range b.Records {
			if r.Err != nil {
				t.Errorf("record %s: %v", r.Seq, r.Err)
				continue
			}
			if seen[r.Seq] {
				t.Errorf("record %s emitted twice", r.Seq)
			}
			seen[r.Seq] = true
			k := r.Change.Keys["pk"].S
			if r.Change.Version <= last[k] {
				t.Errorf("item %s: version %d after %d (record %s)", k, r.Change.Version, last[k], r.Seq)
			}
			last[k] = r.Change.Version
		}
		if len(seen) == 11 {
			cancel() // G stays open: stop once everything came
		}
		return nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Walk: %v", err)
	}
	if len(seen) != 11 {
		t.Fatalf("%d records emitted, want 11", len(seen))
	}
	first := func(s string) int {
		for i, o := range order {
			if o == s {
				return i
			}
		}
		return -1
	}
	lastOf := func(s string) int {
		n := -1
		for i, o := range order {
			if o == s {
				n = i
			}
		}
		return n
	}
	for child, parent := range map[string]string{"C1": "P", "C2": "P", "G": "C1"} {
		if first(child) < lastOf(parent) {
			t.Errorf("%s emitted before its parent %s ended: %v", child, parent, order)
		}
	}
	if last["x"] != uint64(1_700_000_001_000_000)+7 {
		// x: 3 records in P, 2 in C1, 1 in G; P had 5 records, so x's
		// ranks are 0,2,4 in P, 5,6 in C1 (continuing P), 7 in G.
		t.Errorf("x's last version %d", last["x"])
	}
}
