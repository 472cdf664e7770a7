package schema_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/dualread/dualread/adapter"
	"github.com/dualread/dualread/adapter/schema"
	"github.com/dualread/dualread/internal/testenv"
)

func TestImportFromDynamoDBLocal(t *testing.T) {
	ctx := context.Background()
	src := testenv.Client(testenv.StartDynamoDBLocal(t))
	s := func(n string) *string { return aws.String(n) }
	_, err := src.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:   s("orders"),
		BillingMode: types.BillingModePayPerRequest,
		KeySchema:   []types.KeySchemaElement{{AttributeName: s("pk"), KeyType: types.KeyTypeHash}, {AttributeName: s("sk"), KeyType: types.KeyTypeRange}},
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: s("pk"), AttributeType: types.ScalarAttributeTypeS}, {AttributeName: s("sk"), AttributeType: types.ScalarAttributeTypeN},
			{AttributeName: s("status"), AttributeType: types.ScalarAttributeTypeS}, {AttributeName: s("placed"), AttributeType: types.ScalarAttributeTypeN},
		},
		GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{{IndexName: s("by_status"),
			KeySchema:  []types.KeySchemaElement{{AttributeName: s("status"), KeyType: types.KeyTypeHash}},
			Projection: &types.Projection{ProjectionType: types.ProjectionTypeKeysOnly}}},
		LocalSecondaryIndexes: []types.LocalSecondaryIndex{{IndexName: s("by_placed"),
			KeySchema:  []types.KeySchemaElement{{AttributeName: s("pk"), KeyType: types.KeyTypeHash}, {AttributeName: s("placed"), KeyType: types.KeyTypeRange}},
			Projection: &types.Projection{ProjectionType: types.ProjectionTypeInclude, NonKeyAttributes: []string{"total", "currency"}}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = src.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:             s("sessions"),
		KeySchema:             []types.KeySchemaElement{{AttributeName: s("id"), KeyType: types.KeyTypeHash}},
		AttributeDefinitions:  []types.AttributeDefinition{{AttributeName: s("id"), AttributeType: types.ScalarAttributeTypeB}},
		ProvisionedThroughput: &types.ProvisionedThroughput{ReadCapacityUnits: aws.Int64(5), WriteCapacityUnits: aws.Int64(7)},
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := src.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{TableName: s("sessions"),
		TimeToLiveSpecification: &types.TimeToLiveSpecification{AttributeName: s("expires"), Enabled: aws.Bool(true)}}); err != nil {
		t.Fatal(err)
	}

	a, err := adapter.Open(ctx, adapter.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	opts := schema.Options{BackendFor: a.BackendFor}

	// A dry run plans both tables and creates nothing.
	opts.DryRun = true
	steps, err := schema.Import(ctx, src, a.Executor, opts)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	schema.Report(&out, steps, true)
	if len(steps) != 2 || steps[0].Action != schema.Create || steps[1].Action != schema.Create ||
		!strings.Contains(out.String(), "would be created") || !strings.Contains(out.String(), `"IndexName":"by_status"`) {
		t.Fatalf("dry run plan:\n%s", out.String())
	}
	if _, err := a.Executor.Do(ctx, "DescribeTable", []byte(`{"TableName":"orders"}`)); err == nil {
		t.Fatal("dry run created a table")
	}

	// The import creates them with the same definition and TTL.
	opts.DryRun = false
	if _, err := schema.Import(ctx, src, a.Executor, opts); err != nil {
		t.Fatal(err)
	}
	again, err := schema.Import(ctx, src, a.Executor, opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range again {
		if st.Action != schema.Unchanged {
			t.Errorf("second import of %s: %s %s, want unchanged", st.Table, st.Action, st.Difference)
		}
	}
	ttl, err := a.Executor.Do(ctx, "DescribeTimeToLive", []byte(`{"TableName":"sessions"}`))
	if err != nil || !bytes.Contains(ttl, []byte(`"expires"`)) {
		t.Errorf("TTL not imported: %s %v", ttl, err)
	}
	desc, err := a.Executor.Do(ctx, "DescribeTable", []byte(`{"TableName":"sessions"}`))
	if err != nil || !bytes.Contains(desc, []byte(`"ReadCapacityUnits":5`)) || !bytes.Contains(desc, []byte(`"WriteCapacityUnits":7`)) {
		t.Errorf("provisioned throughput not imported: %s %v", desc, err)
	}

	// A table that exists with another definition is reported and left alone.
	if _, err := a.Executor.Do(ctx, "DeleteTable", []byte(`{"TableName":"sessions"}`)); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Executor.Do(ctx, "CreateTable", []byte(`{"TableName":"sessions","BillingMode":"PAY_PER_REQUEST",
		"KeySchema":[{"AttributeName":"id","KeyType":"HASH"}],"AttributeDefinitions":[{"AttributeName":"id","AttributeType":"S"}]}`)); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Executor.Do(ctx, "PutItem", []byte(`{"TableName":"sessions","Item":{"id":{"S":"keep-me"}}}`)); err != nil {
		t.Fatal(err)
	}
	steps, err = schema.Import(ctx, src, a.Executor, schema.Options{Tables: []string{"sessions"}})
	if err != nil {
		t.Fatal(err)
	}
	if steps[0].Action != schema.Differs || !strings.Contains(steps[0].Difference, "attribute definitions") {
		t.Errorf("changed table: %+v", steps[0])
	}
	if got, _ := a.Executor.Do(ctx, "GetItem", []byte(`{"TableName":"sessions","Key":{"id":{"S":"keep-me"}}}`)); !bytes.Contains(got, []byte("keep-me")) {
		t.Error("import touched the data of a differing table")
	}
}
