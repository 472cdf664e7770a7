package demo

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/dualread/dualread/adapter/server"
	"github.com/dualread/dualread/internal/testenv"
)

// TestRun sends a short burst of demo traffic to a real DynamoDB Local and
// an in-process adapter (no replication between them here) and checks the
// demo did what it promises: tables on both sides, DynamoDB Local's with a
// stream, the injected divergences in place, traffic of every kind, and a
// bounded run.
func TestRun(t *testing.T) {
	if testing.Short() {
		t.Skip("starts DynamoDB Local")
	}
	ddb := testenv.StartDynamoDBLocal(t)
	adapter := testenv.StartAdapter(t)
	ctx := context.Background()
	var out bytes.Buffer
	began := time.Now()
	stats, err := Run(ctx, Config{Adapter: adapter, DynamoDB: ddb, Rate: 200, Duration: 3 * time.Second,
		ProgressEvery: time.Second, Out: &out})
	if err != nil {
		t.Fatal(err)
	}
	if elapsed := time.Since(began); elapsed > 2*time.Minute {
		t.Fatalf("a 3 s run took %v: --duration does not bound it", elapsed)
	}
	if !strings.Contains(out.String(), ReadyLine) || !strings.Contains(out.String(), "demo: done:") {
		t.Fatalf("output lacks the ready or the done line:\n%s", out.String())
	}
	if stats.Errors != 0 {
		t.Fatalf("errors: %s", stats)
	}
	// 31 catalog items and 36 orders are seeded; the loop adds more.
	if stats.SourceWrites <= skus+1+customers*3 || stats.AdapterReads == 0 || stats.AdapterWrites < 2 {
		t.Fatalf("too little traffic: %s", stats)
	}

	src := client(ddb, "us-east-1", Writer)
	dst := client(adapter, "us-east-1", Writer)
	for _, name := range Tables() {
		d, err := src.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)})
		if err != nil {
			t.Fatal(err)
		}
		if s := d.Table.StreamSpecification; s == nil || !aws.ToBool(s.StreamEnabled) || s.StreamViewType != types.StreamViewTypeNewAndOldImages {
			t.Errorf("%s in DynamoDB Local has stream %+v, want NEW_AND_OLD_IMAGES (the bridge tails it)", name, s)
		}
		if _, err := dst.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)}); err != nil {
			t.Errorf("%s missing in the adapter: %v", name, err)
		}
	}

	get := func(c *dynamodb.Client, sku string) map[string]types.AttributeValue {
		out, err := c.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(CatalogTable), Key: skuKey(sku), ConsistentRead: aws.Bool(true)})
		if err != nil {
			t.Fatal(err)
		}
		return out.Item
	}
	if get(src, GhostSKU) != nil || get(dst, GhostSKU) == nil {
		t.Errorf("%s must exist only in the adapter", GhostSKU)
	}
	srcDrift, dstDrift := get(src, DriftSKU), get(dst, DriftSKU)
	if srcDrift == nil || dstDrift["note"] == nil || srcDrift["note"] != nil {
		t.Errorf("%s: DynamoDB %v, adapter %v: want the adapter's copy changed by legacy-writer", DriftSKU, srcDrift, dstDrift)
	}

	// A second run against the same endpoints carries on with the tables.
	if _, err := Run(ctx, Config{Adapter: adapter, DynamoDB: ddb, Rate: 50, Duration: 500 * time.Millisecond}); err != nil {
		t.Fatalf("second run: %v", err)
	}
}

func TestRunNeedsEndpoints(t *testing.T) {
	if _, err := Run(context.Background(), Config{Adapter: "http://127.0.0.1:1"}); err == nil {
		t.Fatal("Run without a DynamoDB endpoint succeeded")
	}
}

// TestCredentialsYAML: the file the stack writes parses as the adapter's
// credentials file and maps every demo key to its service.
func TestCredentialsYAML(t *testing.T) {
	y := CredentialsYAML(map[string]Service{"AKIDEXTRA": {Secret: "s", Name: "extra-svc"}})
	creds, err := server.ParseCredentials([]byte(y))
	if err != nil {
		t.Fatalf("%v\n%s", err, y)
	}
	want := map[string]string{"AKIDEXTRA": "extra-svc"}
	for _, s := range Services() {
		want[s.AccessKeyID] = s.Name
	}
	for key, svc := range want {
		c, ok := creds.Lookup(key)
		if !ok || c.Service != svc {
			t.Errorf("%s -> %+v (found %v), want service %s", key, c, ok, svc)
		}
	}
}
