package verify

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/dualread/dualread/internal/testenv"
)

var items = flag.Int("verify.items", 3000, "items per side (tests/verify runs the issue's 100000)")

// fixture is a table loaded on DynamoDB Local (source) and the adapter
// (target): equal copies, with the target's numbers spelled differently
// and its sets in another order.
type fixture struct {
	src, dst *dynamodb.Client
	table    string
}

func item(i int, spelling, v string, set []string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		"pk": &types.AttributeValueMemberS{Value: fmt.Sprintf("p%d", i%97)},
		"sk": &types.AttributeValueMemberN{Value: fmt.Sprintf(spelling, i)},
		"v":  &types.AttributeValueMemberS{Value: v},
		"s":  &types.AttributeValueMemberSS{Value: set},
	}
}

func keyOfItem(i int) map[string]types.AttributeValue {
	it := item(i, "%d", "", nil)
	return map[string]types.AttributeValue{"pk": it["pk"], "sk": it["sk"]}
}

func newFixture(t *testing.T) *fixture {
	ctx := context.Background()
	f := &fixture{src: testenv.Client(testenv.StartDynamoDBLocal(t)), dst: testenv.Client(testenv.StartAdapter(t)),
		table: fmt.Sprintf("big_%d", time.Now().UnixNano())}
	for _, c := range []*dynamodb.Client{f.src, f.dst} {
		if _, err := c.CreateTable(ctx, &dynamodb.CreateTableInput{TableName: aws.String(f.table), BillingMode: types.BillingModePayPerRequest,
			KeySchema: []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash},
				{AttributeName: aws.String("sk"), KeyType: types.KeyTypeRange}},
			AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS},
				{AttributeName: aws.String("sk"), AttributeType: types.ScalarAttributeTypeN}},
		}); err != nil {
			t.Fatal(err)
		}
	}
	load := func(c *dynamodb.Client, spelling string, set []string) {
		for i := 0; i < *items; i += 25 {
			var reqs []types.WriteRequest
			for j := i; j < min(i+25, *items); j++ {
				reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: item(j, spelling, "x", set)}})
			}
			if _, err := c.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{f.table: reqs}}); err != nil {
				t.Fatal(err)
			}
		}
	}
	load(f.src, "%d", []string{"a", "b", "c"})
	load(f.dst, "%d.0", []string{"c", "a", "b"})
	return f
}

// TestVerify: equal copies (sets in another order, numbers spelled
// differently) compare equal; then exactly the injected missing, extra and
// different items are reported, the same in every run; a run cancelled in
// pass 1 and again in pass 2 and resumed from its state file gives the
// same report, reading only what the state had not; a state file of
// another comparison is refused.
func TestVerify(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	cfg := Config{Source: f.src, Target: f.dst, Table: f.table, Buckets: 256}
	rep, err := Run(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Equal() || rep.Result != ResultEqual || rep.SourceItems != int64(*items) || rep.TargetItems != int64(*items) ||
		rep.DifferingBuckets != 0 || rep.ItemsRead != int64(2**items) {
		t.Fatalf("equal copies: %+v", rep)
	}

	if _, err := f.dst.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(f.table), Key: keyOfItem(10)}); err != nil {
		t.Fatal(err)
	}
	for _, it := range []map[string]types.AttributeValue{item(*items+5, "%d", "x", []string{"a"}), item(20, "%d", "changed", []string{"a", "b", "c"})} {
		if _, err := f.dst.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(f.table), Item: it}); err != nil {
			t.Fatal(err)
		}
	}
	var want *Report
	for run := range 2 {
		rep, err = Run(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Missing != 1 || rep.Extra != 1 || rep.Different != 1 || len(rep.Samples) != 3 || rep.DifferingBuckets > 3 || rep.Result != ResultDiffer {
			t.Fatalf("run %d: %+v, want exactly one missing, one extra, one different", run, rep)
		}
		if s := rep.Samples[2]; s.Kind != KindDifferent || string(s.Key) != `{"pk":{"S":"p20"},"sk":{"N":"20"}}` ||
			len(s.Attributes) != 1 || s.Attributes[0] != "v" {
			t.Fatalf("different sample %+v", s)
		}
		if want != nil {
			sameReport(t, "second run", rep, want)
		}
		want = rep
	}

	t.Run("resume after cancel", func(t *testing.T) {
		cfg := cfg
		cfg.StateFile = filepath.Join(t.TempDir(), "state.json")
		cfg.StateEvery = 20 * time.Millisecond
		cfg.PageLimit = 100
		cfg.ReadRate = float64(max(*items/3, 300)) // ~3 s a pass (a third in the first burst): room to stop it inside
		var saved StateInfo
		for _, pass := range []int{1, 2} {
			saved = cancelIn(t, ctx, cfg, pass)
		}
		cfg.ReadRate = 0
		rep, err := Run(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		sameReport(t, "resumed", rep, want)
		if rest := rep.SourceItems - saved.Read[0] + rep.TargetItems - saved.Read[1]; !rep.Resumed || rep.ItemsRead != rest {
			t.Fatalf("resumed=%v, read %d items, want the %d not in the state", rep.Resumed, rep.ItemsRead, rest)
		}
		if _, err := os.Stat(cfg.StateFile); !os.IsNotExist(err) {
			t.Fatalf("state file left after a complete run: %v", err)
		}
	})

	t.Run("state of another comparison", func(t *testing.T) {
		cfg := cfg
		cfg.StateFile = filepath.Join(t.TempDir(), "state.json")
		cfg.PageLimit = 100
		cfg.ReadRate = float64(max(*items/3, 300))
		cancelIn(t, ctx, cfg, 1)
		cfg.ReadRate = 0
		for _, tc := range []struct {
			name string
			edit func(*Config)
			want string
		}{
			{"buckets", func(c *Config) { c.Buckets = 128 }, "--buckets 256 --segments 4"},
			{"segments", func(c *Config) { c.Segments = 8 }, "--buckets 256 --segments 4"},
			{"table", func(c *Config) { c.TargetTable = "other" }, "is for table"},
		} {
			c := cfg
			tc.edit(&c)
			if _, err := Run(context.Background(), c); err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "--fresh") {
				t.Errorf("%s: %v, want a refusal mentioning %q and --fresh", tc.name, err, tc.want)
			}
		}
		if err := os.WriteFile(cfg.StateFile, []byte(`{"version":1,`), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := Run(context.Background(), cfg); err == nil || !strings.Contains(err.Error(), "not readable") {
			t.Errorf("truncated state: %v", err)
		}
		cfg.Fresh = true
		rep, err := Run(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		sameReport(t, "fresh", rep, want)
	})
}

// cancelIn runs cfg (which must have a StateFile and a ReadRate slow
// enough to stop it inside a pass), cancels it once a third of each side
// was read in the given pass, and returns the state it saved on the way out.
func cancelIn(t *testing.T, ctx context.Context, cfg Config, pass int) StateInfo {
	t.Helper()
	cfg.Progress = &Progress{}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		for ctx.Err() == nil {
			if cfg.Progress.Pass() == pass && cfg.Progress.Read(0) >= int64(*items/3) && cfg.Progress.Read(1) >= int64(*items/3) {
				cancel()
				return
			}
			time.Sleep(2 * time.Millisecond)
		}
	}()
	if _, err := Run(ctx, cfg); err == nil {
		t.Fatalf("pass %d: Run finished before it was cancelled", pass)
	}
	saved, err := ReadState(cfg.StateFile)
	if err != nil {
		t.Fatal(err)
	}
	if saved.Pass != pass || saved.Read[0] == 0 || saved.SegmentsDone[0] == saved.Segments && saved.SegmentsDone[1] == saved.Segments {
		t.Fatalf("cancelled in pass %d: state %+v, want that pass begun and unfinished", pass, saved)
	}
	return saved
}

func sameReport(t *testing.T, what string, got, want *Report) {
	t.Helper()
	norm := func(r *Report) string {
		c := *r
		c.Duration, c.StartedAt, c.Resumed, c.ItemsRead = 0, time.Time{}, false, 0
		b, _ := json.Marshal(&c)
		return string(b)
	}
	if g, w := norm(got), norm(want); g != w {
		t.Fatalf("%s: report\n got %s\nwant %s", what, g, w)
	}
}
