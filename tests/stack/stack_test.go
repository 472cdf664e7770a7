// Package stack tests `make run`, the full local stack, the way a new user
// meets it: make builds the binary, installs the stand-ins and starts
// everything; requests go through the adapter; the audit, the access audit
// and replication must show up where the banner says; Ctrl-C must stop
// every process it started. helpers_test.go's startStack is the hook for
// other end-to-end tests over the whole stack.
package stack

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/dualread/dualread/internal/demo"
	"github.com/dualread/dualread/internal/localstack"
	"github.com/dualread/dualread/internal/testenv"
)

// testKey signs this test's own requests; the credentials file does not
// know it, so the access audit names the caller by the key itself.
const testKey = "AKIDSTACKTEST"

const table = "stack_items"

func str(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }

func createTable(ctx context.Context, c *dynamodb.Client, stream bool) error {
	in := &dynamodb.CreateTableInput{
		TableName:            aws.String(table),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}, {AttributeName: aws.String("sk"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}, {AttributeName: aws.String("sk"), KeyType: types.KeyTypeRange}},
		BillingMode:          types.BillingModePayPerRequest,
	}
	if stream {
		in.StreamSpecification = &types.StreamSpecification{StreamEnabled: aws.Bool(true), StreamViewType: types.StreamViewTypeNewAndOldImages}
	}
	if _, err := c.CreateTable(ctx, in); err != nil {
		return err
	}
	return dynamodb.NewTableExistsWaiter(c, func(o *dynamodb.TableExistsWaiterOptions) { o.MinDelay = 100 * time.Millisecond }).
		Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)}, time.Minute)
}

func TestMakeRun(t *testing.T) {
	s := startStack(t, Options{})
	ctx := context.Background()
	out := s.Output()
	bridge := !strings.Contains(out, "NOT RUNNING")

	t.Run("banner says what runs where", func(t *testing.T) {
		e := s.Endpoints
		for _, want := range []string{e.Adapter, e.Admin, e.DynamoDB, e.Kinesis, e.InfluxDB, e.Bigtable, e.Audit,
			"aws --endpoint-url " + e.Adapter, "BIGTABLE_EMULATOR_HOST=" + e.Bigtable, "no cloud is involved"} {
			if !strings.Contains(strings.ToLower(out), strings.ToLower(want)) {
				t.Errorf("banner lacks %q", want)
			}
		}
		for _, c := range s.State.Children {
			if !strings.Contains(out, strconv.Itoa(c.PID)) || !strings.Contains(out, c.Log) {
				t.Errorf("banner lacks %s's pid %d or log %s", c.Role, c.PID, c.Log)
			}
		}
		// Every example query must run on the stack's InfluxDB.
		for _, q := range localstack.ExampleQueries {
			if _, err := s.Influx(ctx, q); err != nil {
				t.Errorf("example query %q: %v", q, err)
			}
		}
	})

	adapter, source := Client(s.Endpoints.Adapter, testKey), Client(s.Endpoints.DynamoDB, testKey)
	if err := createTable(ctx, source, true); err != nil {
		t.Fatalf("CreateTable on DynamoDB Local: %v", err)
	}
	if err := createTable(ctx, adapter, false); err != nil {
		t.Fatalf("CreateTable through the adapter: %v", err)
	}

	t.Run("requests through the adapter", func(t *testing.T) {
		// Written through the adapter only: DynamoDB Local never sees it,
		// so the shadow read of it differs (missing-on-shadow).
		item := map[string]types.AttributeValue{"pk": str("p1"), "sk": str("only-in-store"), "v": str("x")}
		if _, err := adapter.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: item}); err != nil {
			t.Fatal(err)
		}
		got, err := adapter.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table),
			Key: map[string]types.AttributeValue{"pk": str("p1"), "sk": str("only-in-store")}, ConsistentRead: aws.Bool(true)})
		if err != nil || got.Item["v"] == nil || got.Item["v"].(*types.AttributeValueMemberS).Value != "x" {
			t.Fatalf("GetItem = %v, %v", got, err)
		}
		q, err := adapter.Query(ctx, &dynamodb.QueryInput{TableName: aws.String(table), KeyConditionExpression: aws.String("pk = :p"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":p": str("p1")}})
		if err != nil || q.Count != 1 {
			t.Fatalf("Query = %v, %v", q, err)
		}
	})

	t.Run("audit pairs reach InfluxDB", func(t *testing.T) {
		eventually(t, 90*time.Second, "audit pairs of "+table, func() error {
			got, err := s.sums(ctx, "dualread_audit", "count", `"table" = '`+table+`'`, "class")
			if err != nil {
				return err
			}
			if got["missing-on-shadow"] < 2 { // the GetItem and the Query
				return fmt.Errorf("classes %v, want missing-on-shadow >= 2", got)
			}
			return nil
		})
	})

	t.Run("access audit names the callers", func(t *testing.T) {
		want := []string{testKey}
		if !strings.Contains(out, "off (--demo=false)") {
			for _, svc := range []demo.Service{demo.Checkout, demo.Catalog, demo.Reports, demo.Legacy, demo.Writer} {
				want = append(want, svc.Name)
			}
		}
		// The adapter writes access counts every 10 s.
		eventually(t, 90*time.Second, "services in dualread_access", func() error {
			got, err := s.sums(ctx, `"access_24h"."dualread_access"`, "count", "time > now() - 1h", "service")
			if err != nil {
				return err
			}
			for _, w := range want {
				if got[w] == 0 {
					return fmt.Errorf("services %v, want all of %v", got, want)
				}
			}
			return nil
		})
	})

	t.Run("demo divergences are visible", func(t *testing.T) {
		eventually(t, 2*time.Minute, "demo_catalog classes", func() error {
			got, err := s.sums(ctx, "dualread_audit", "count", `"table" = '`+demo.CatalogTable+`'`, "class")
			if err != nil {
				return err
			}
			// sku-ghost only in the store; sku-drift changed there.
			if got["missing-on-shadow"] == 0 || got["mismatch"] == 0 {
				return fmt.Errorf("classes %v, want missing-on-shadow and mismatch", got)
			}
			return nil
		})
		// The banner's `audit show` command finds the diverging pairs in
		// the pair store, with the injected items in them.
		e := s.Endpoints
		show := exec.Command(filepath.Join(s.root, "bin/dualread"), "audit", "show", "--table", demo.CatalogTable,
			"--pairs-project", localstack.BigtableProject, "--pairs-instance", localstack.PairsInstance)
		show.Env = append(os.Environ(), "BIGTABLE_EMULATOR_HOST="+e.Bigtable)
		got, err := show.CombinedOutput()
		if err != nil || !strings.Contains(string(got), demo.DriftSKU) || !strings.Contains(string(got), demo.GhostSKU) {
			t.Fatalf("audit show: %v\n%s", err, got)
		}
	})

	t.Run("replication DynamoDB Local to the store", func(t *testing.T) {
		if !bridge {
			t.Skip("this dualread binary has no kds-bridge: the stack runs without replication (the banner says so)")
		}
		item := map[string]types.AttributeValue{"pk": str("p2"), "sk": str("from-dynamodb"), "v": str("replicated")}
		if _, err := source.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: item}); err != nil {
			t.Fatal(err)
		}
		eventually(t, time.Minute, "the item written to DynamoDB Local, read through the adapter", func() error {
			got, err := adapter.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table),
				Key: map[string]types.AttributeValue{"pk": str("p2"), "sk": str("from-dynamodb")}, ConsistentRead: aws.Bool(true)})
			if err != nil {
				return err
			}
			if v, ok := got.Item["v"].(*types.AttributeValueMemberS); !ok || v.Value != "replicated" {
				return fmt.Errorf("adapter has %v", got.Item)
			}
			return nil
		})
		eventually(t, time.Minute, "replication and lag points", func() error {
			applied, err := s.sums(ctx, "dualread_replication", "applied", "time > now() - 1h", "table")
			if err != nil {
				return err
			}
			if applied[table] == 0 || applied[demo.OrdersTable] == 0 {
				return fmt.Errorf("applied per table %v", applied)
			}
			lag, err := s.sums(ctx, "dualread_audit", "count", `"table" = '`+demo.OrdersTable+`'`, "class")
			if err != nil {
				return err
			}
			if lag["lag"] == 0 {
				return fmt.Errorf("demo_orders classes %v, want lag (the demo's lag probes)", lag)
			}
			return nil
		})
	})

	stopOut := s.Stop(t)
	for _, c := range s.State.Children {
		if !strings.Contains(stopOut, "stopped  "+c.Role) {
			t.Errorf("no stop line for %s", c.Role)
		}
	}
	for _, addr := range []string{s.Endpoints.Bigtable, s.Endpoints.Audit} {
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			t.Errorf("%s still accepts connections after the stop", addr)
		}
	}
}

// TestBusyPort: with a port taken, make run fails at once, names the port,
// its role and the flag that moves it, and starts nothing.
func TestBusyPort(t *testing.T) {
	if testing.Short() {
		t.Skip("runs make run")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	wd, _ := os.Getwd()
	root, err := testenv.RepoRoot(wd)
	if err != nil {
		t.Fatal(err)
	}
	runDir := t.TempDir()
	args := append([]string{"--run-dir", runDir, "--exit-with-parent"}, freePortArgs(t)...)
	i := slices.Index(args, "--admin-port")
	args[i+1] = strconv.Itoa(port)
	cmd := makeRun(root, args)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	done := make(chan struct{})
	var (
		out    []byte
		runErr error
	)
	go func() { out, runErr = cmd.CombinedOutput(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		_ = cmd.Process.Kill()
		<-done
		t.Fatalf("make run with a busy port did not exit: %s", out)
	}
	var exit *exec.ExitError
	if !errors.As(runErr, &exit) {
		t.Fatalf("make run with port %d taken: err %v, want a failure\n%s", port, runErr, out)
	}
	want := fmt.Sprintf("port %d for the admin API is already in use", port)
	if !strings.Contains(string(out), want) || !strings.Contains(string(out), "--admin-port") {
		t.Fatalf("output lacks %q and the flag:\n%s", want, out)
	}
	if strings.Contains(string(out), "starting ") {
		t.Fatalf("started something despite the busy port:\n%s", out)
	}
	if logs, _ := os.ReadDir(runDir); len(logs) != 0 {
		t.Fatalf("run folder not empty: %v", logs)
	}
}
