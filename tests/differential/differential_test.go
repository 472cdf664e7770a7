package differential

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dualread/dualread/internal/testenv"
)

var (
	seedFlag = flag.Uint64("seed", 0, "random seed (default: $DUALREAD_DIFF_SEED or 20260101)")
	opsFlag  = flag.Int("ops", 0, "operations to run (default: $DUALREAD_DIFF_OPS or 2000; 50000 with -long)")
	longFlag = flag.Bool("long", false, "long run: 50000 operations unless -ops says otherwise ($DUALREAD_DIFF_LONG=1)")
	msgsFlag = flag.Bool("messages", false, "log every distinct error message the oracle returned, with counts")
)

const (
	defaultSeed = 20260101
	defaultOps  = 2000
	longOps     = 50000
	// maxReported bounds how many differing operations are printed in full.
	maxReported = 8
)

func settings() (seed uint64, ops int) {
	seed, ops = defaultSeed, defaultOps
	if v, err := strconv.ParseUint(os.Getenv("DUALREAD_DIFF_SEED"), 10, 64); err == nil {
		seed = v
	}
	if *longFlag || os.Getenv("DUALREAD_DIFF_LONG") == "1" {
		ops = longOps
	}
	if v, err := strconv.Atoi(os.Getenv("DUALREAD_DIFF_OPS")); err == nil && v > 0 {
		ops = v
	}
	if *seedFlag != 0 {
		seed = *seedFlag
	}
	if *opsFlag > 0 {
		ops = *opsFlag
	}
	return seed, ops
}

func TestDifferential(t *testing.T) {
	seed, ops := settings()
	oracle := env.Oracle()
	other := env.Counterpart(t)
	t.Logf("seed=%d ops=%d oracle=%s under test=%s (%s)", seed, ops, oracle, other.Endpoint, other.Kind)
	r := &Runner{A: testenv.NewRawClient(oracle), B: testenv.NewRawClient(other.Endpoint)}
	tables := Tables(uniquePrefix(t))
	for _, side := range []*testenv.RawClient{r.A, r.B} {
		createTables(t, side, tables)
	}
	start := time.Now()
	s := runSequence(t, r, NewGen(seed, tables), ops, func(i int, op Op, res Result) {
		t.Errorf("%s", report(seed, i, op, res))
	})
	t.Logf("%d operations in %v", ops, time.Since(start).Round(time.Millisecond))
	logStats(t, s.outcomes)
	for _, m := range sortedKeys(s.messages) {
		t.Logf("%4d  %s", s.messages[m], clip(m))
	}
	if s.differing > 0 {
		t.Errorf("seed=%d: %d of %d operations differed (first %d shown; rerun with -seed=%d -ops=N to reproduce)", seed, s.differing, ops, min(s.differing, maxReported), seed)
	}
}

// TestDifferentialDetectsDivergence proves the whole harness, not just the
// comparer, can fail: two DynamoDB Locals whose data differ by one item must
// be reported as different. Only meaningful without an adapter.
func TestDifferentialDetectsDivergence(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a second DynamoDB Local")
	}
	other := env.Counterpart(t)
	if other.Kind != testenv.KindDynamoDBLocal {
		t.Skip("checks the harness on two DynamoDB Locals; an adapter is configured")
	}
	r := &Runner{A: testenv.NewRawClient(env.Oracle()), B: testenv.NewRawClient(other.Endpoint)}
	tables := Tables(uniquePrefix(t))
	for _, side := range []*testenv.RawClient{r.A, r.B} {
		createTables(t, side, tables)
	}
	// One extra item on the side under test only.
	body, _ := json.Marshal(map[string]any{"TableName": tables[0].Name, "Item": map[string]any{"pk": avS("p1"), "n": avN("7")}})
	if resp, err := r.B.Do(context.Background(), "PutItem", body); err != nil || resp.Status != 200 {
		t.Fatalf("seed item: %v %s", err, resp.Body)
	}
	var first string
	s := runSequence(t, r, NewGen(defaultSeed, tables), 150, func(i int, op Op, res Result) {
		if first == "" {
			first = report(defaultSeed, i, op, res)
		}
	})
	if s.differing == 0 {
		t.Fatal("the harness reported no difference between diverged systems")
	}
	t.Logf("%d differing operations detected; first:\n%s", s.differing, first)
}

type runStats struct {
	differing int
	outcomes  map[string]map[string]int
	messages  map[string]int
}

// runSequence runs ops generated operations on both sides, calling onDiff
// for the first maxReported differing ones.
func runSequence(t *testing.T, r *Runner, gen *Gen, ops int, onDiff func(int, Op, Result)) runStats {
	t.Helper()
	s := runStats{outcomes: map[string]map[string]int{}, messages: map[string]int{}}
	for i := 0; i < ops; i++ {
		op := gen.Next()
		res, err := r.Run(context.Background(), op)
		if err != nil {
			t.Fatalf("op #%d %s: transport error: %v", i, op.Target, err)
		}
		if s.outcomes[op.Target] == nil {
			s.outcomes[op.Target] = map[string]int{}
		}
		s.outcomes[op.Target][res.Outcome]++
		if *msgsFlag && res.Outcome != "ok" {
			s.messages[op.Target+" "+errorMessage(res.A.Body)]++
		}
		if len(res.Diffs) == 0 {
			continue
		}
		s.differing++
		if s.differing <= maxReported {
			onDiff(i, op, res)
		}
	}
	return s
}

// uniquePrefix names this run's tables so runs never share state, even on a
// shared DynamoDB Local.
func uniquePrefix(t *testing.T) string {
	b := make([]byte, 4)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return "e2e_diff_" + hex.EncodeToString(b) + "_"
}

func createTables(t *testing.T, c *testenv.RawClient, tables []Table) {
	t.Helper()
	ctx := context.Background()
	for _, tb := range tables {
		body, _ := json.Marshal(tb.CreateTableRequest())
		resp, err := c.Do(ctx, "CreateTable", body)
		if err != nil || resp.Status != 200 {
			t.Fatalf("CreateTable %s on %s: %v %d %s", tb.Name, c.Endpoint, err, resp.Status, resp.Body)
		}
		name := tb.Name
		t.Cleanup(func() {
			body, _ := json.Marshal(map[string]any{"TableName": name})
			_, _ = c.Do(context.Background(), "DeleteTable", body)
		})
	}
	for _, tb := range tables {
		waitActive(t, ctx, c, tb.Name)
	}
}

func waitActive(t *testing.T, ctx context.Context, c *testenv.RawClient, name string) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"TableName": name})
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := c.Do(ctx, "DescribeTable", body)
		if err != nil {
			t.Fatal(err)
		}
		var d struct{ Table struct{ TableStatus string } }
		_ = json.Unmarshal(resp.Body, &d)
		if d.Table.TableStatus == "ACTIVE" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("table %s on %s not ACTIVE: %s", name, c.Endpoint, resp.Body)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func report(seed uint64, i int, op Op, res Result) string {
	var b strings.Builder
	req, _ := json.Marshal(op.Body)
	fmt.Fprintf(&b, "seed=%d op #%d %s differs:\n", seed, i, op.Target)
	if op.Segments > 0 {
		fmt.Fprintf(&b, "  (parallel scan, %d segments)\n", op.Segments)
	}
	fmt.Fprintf(&b, "  request: %s\n", clip(string(req)))
	fmt.Fprintf(&b, "  oracle:     %d %s\n", res.A.Status, clip(string(res.A.Body)))
	fmt.Fprintf(&b, "  under test: %d %s\n", res.B.Status, clip(string(res.B.Body)))
	for j, d := range res.Diffs {
		if j == 20 {
			fmt.Fprintf(&b, "  ... %d more\n", len(res.Diffs)-j)
			break
		}
		fmt.Fprintf(&b, "  - %s\n", clip(d.String()))
	}
	return b.String()
}

func clip(s string) string {
	const n = 1500
	if len(s) > n {
		return s[:n] + fmt.Sprintf("...(%d bytes)", len(s))
	}
	return s
}

func logStats(t *testing.T, stats map[string]map[string]int) {
	var lines []string
	for _, op := range sortedKeys(stats) {
		var parts []string
		outs := stats[op]
		keys := sortedKeys(outs)
		sort.SliceStable(keys, func(i, j int) bool { return outs[keys[i]] > outs[keys[j]] })
		for _, k := range keys {
			parts = append(parts, fmt.Sprintf("%s=%d", k, outs[k]))
		}
		lines = append(lines, fmt.Sprintf("  %-18s %s", op, strings.Join(parts, " ")))
	}
	t.Logf("oracle outcomes:\n%s", strings.Join(lines, "\n"))
}

func errorMessage(body []byte) string {
	var e struct {
		Type    string `json:"__type"`
		Message string `json:"message"`
	}
	_ = json.Unmarshal(body, &e)
	return e.Type[strings.LastIndexByte(e.Type, '#')+1:] + ": " + e.Message
}
