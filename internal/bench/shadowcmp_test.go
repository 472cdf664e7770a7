package bench

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/dualread/dualread/internal/testenv"
)

// --compare-shadow against DynamoDB Local: both adapters answer the same
// workload without errors, the shadowing one really sends every read to
// DynamoDB Local and the audit diffs them, and the report carries the
// overhead table and the shadow summary.
func TestCompareShadow(t *testing.T) {
	if testing.Short() {
		t.Skip("starts or uses DynamoDB Local")
	}
	endpoint := testenv.StartDynamoDBLocal(t)
	table := "bench_shadow_" + strings.ReplaceAll(time.Now().Format("150405.000000"), ".", "")
	f := parseFlags(t, "--compare-shadow="+endpoint, "--table="+table, "--concurrency=2", "--keys=40",
		"--mix=GetItem=2,Query=1,BatchGetItem=1", "--warmup=0s", "--duration=1m", "--max-ops=60", "--rounds=2", "--item-size=64")
	cfg, err := f.Config()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	targets, stop, err := f.CompareTargets(ctx, nil, quietLog())
	defer stop()
	if err != nil {
		t.Fatal(err)
	}
	if len(targets) != 2 || targets[0].Name != TargetShadowOff || targets[1].Name != TargetShadowOn {
		t.Fatalf("targets %+v", targets)
	}
	cmp, err := Compare(ctx, targets, cfg, quietLog())
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range cmp.Results {
		if r.Total.Requests != 120 || r.Total.Errors != 0 {
			t.Fatalf("%s: %d requests, %d errors %v; want 120, none", r.Target, r.Total.Requests, r.Total.Errors, r.Total.ErrorsByType)
		}
	}
	md := cmp.Markdown()
	note := cmp.Notes[TargetShadowOn]
	if !strings.Contains(md, "Overhead of **"+TargetShadowOn+"** over **"+TargetShadowOff+"**") || note == "" {
		t.Fatalf("report lacks the overhead table or the shadow note:\n%s", md)
	}
	// Every read of the shadowing adapter was offered; with no rate limit
	// and a queue far larger than 120 reads none is dropped, and DynamoDB
	// Local answered each (sent). The audit got them (accepted) - all reads
	// here match, since nothing wrote to either side after the preload.
	// Shadow reads finish after the served answers, so wait for them.
	deadline := time.Now().Add(20 * time.Second)
	for !(strings.Contains(note, "sent 120,") && strings.Contains(note, "accepted 120")) && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
		note = targets[1].Notes()
	}
	if !strings.Contains(note, "offered 120, sampled 120, sent 120, failed 0, dropped (queue full) 0") {
		t.Fatalf("shadow note: %s", note)
	}
	if !strings.Contains(note, "accepted 120, dropped 0, classes: match 120") {
		t.Fatalf("audit did not diff every pair as a match: %s", note)
	}
}
