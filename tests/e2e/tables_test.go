package e2e

import (
	"context"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

func indexedTable() *dynamodb.CreateTableInput {
	in := rangeTable()
	in.AttributeDefinitions = append(in.AttributeDefinitions,
		types.AttributeDefinition{AttributeName: aws.String("gpk"), AttributeType: types.ScalarAttributeTypeS},
		types.AttributeDefinition{AttributeName: aws.String("lsk"), AttributeType: types.ScalarAttributeTypeS})
	in.GlobalSecondaryIndexes = []types.GlobalSecondaryIndex{{
		IndexName:  aws.String("gsi"),
		KeySchema:  []types.KeySchemaElement{{AttributeName: aws.String("gpk"), KeyType: types.KeyTypeHash}},
		Projection: &types.Projection{ProjectionType: types.ProjectionTypeKeysOnly},
	}}
	in.LocalSecondaryIndexes = []types.LocalSecondaryIndex{{
		IndexName: aws.String("lsi"),
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String("lsk"), KeyType: types.KeyTypeRange},
		},
		Projection: &types.Projection{ProjectionType: types.ProjectionTypeInclude, NonKeyAttributes: []string{"a"}},
	}}
	return in
}

func testTableLifecycle(t *testing.T, c *dynamodb.Client) {
	ctx := context.Background()
	name := createTable(t, c, indexedTable())
	d, err := c.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	tab := d.Table
	if *tab.TableName != name || tab.TableStatus != types.TableStatusActive {
		t.Fatalf("DescribeTable: name %s status %s", *tab.TableName, tab.TableStatus)
	}
	if len(tab.KeySchema) != 2 || *tab.KeySchema[0].AttributeName != "pk" || tab.KeySchema[0].KeyType != types.KeyTypeHash ||
		*tab.KeySchema[1].AttributeName != "sk" || tab.KeySchema[1].KeyType != types.KeyTypeRange {
		t.Fatalf("KeySchema: %+v", tab.KeySchema)
	}
	if tab.BillingModeSummary == nil || tab.BillingModeSummary.BillingMode != types.BillingModePayPerRequest {
		t.Errorf("BillingModeSummary: %+v", tab.BillingModeSummary)
	}
	if tab.TableArn == nil || !strings.HasSuffix(*tab.TableArn, ":table/"+name) {
		t.Errorf("TableArn: %v", aws.ToString(tab.TableArn))
	}
	if len(tab.GlobalSecondaryIndexes) != 1 || *tab.GlobalSecondaryIndexes[0].IndexName != "gsi" ||
		tab.GlobalSecondaryIndexes[0].IndexStatus != types.IndexStatusActive ||
		tab.GlobalSecondaryIndexes[0].Projection.ProjectionType != types.ProjectionTypeKeysOnly {
		t.Errorf("GSIs: %+v", tab.GlobalSecondaryIndexes)
	}
	if len(tab.LocalSecondaryIndexes) != 1 || *tab.LocalSecondaryIndexes[0].IndexName != "lsi" ||
		!slices.Equal(tab.LocalSecondaryIndexes[0].Projection.NonKeyAttributes, []string{"a"}) {
		t.Errorf("LSIs: %+v", tab.LocalSecondaryIndexes)
	}
	if got := len(tab.AttributeDefinitions); got != 4 {
		t.Errorf("AttributeDefinitions: %d, want 4", got)
	}

	// Creating it again is ResourceInUseException.
	in := indexedTable()
	in.TableName, in.BillingMode = aws.String(name), types.BillingModePayPerRequest
	_, err = c.CreateTable(ctx, in)
	wantAPIError(t, err, "ResourceInUseException", "")

	// An index on an attribute that is not defined is a validation error.
	bad := hashTable()
	bad.TableName, bad.BillingMode = aws.String(uniqueName(t, "bad")), types.BillingModePayPerRequest
	bad.GlobalSecondaryIndexes = []types.GlobalSecondaryIndex{{IndexName: aws.String("g"),
		KeySchema:  []types.KeySchemaElement{{AttributeName: aws.String("nope"), KeyType: types.KeyTypeHash}},
		Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll}}}
	_, err = c.CreateTable(ctx, bad)
	wantAPIError(t, err, "ValidationException", "")

	if _, err := c.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String(name)}); err != nil {
		t.Fatal(err)
	}
	w := dynamodb.NewTableNotExistsWaiter(c, func(o *dynamodb.TableNotExistsWaiterOptions) {
		o.MinDelay, o.MaxDelay = 100*time.Millisecond, time.Second
	})
	if err := w.Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)}, 60*time.Second); err != nil {
		t.Fatal(err)
	}
	_, err = c.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)})
	wantAPIError(t, err, "ResourceNotFoundException", "")
	_, err = c.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(name), Key: map[string]types.AttributeValue{"pk": s("x"), "sk": n("1")}})
	wantAPIError(t, err, "ResourceNotFoundException", "")
}

func testListTables(t *testing.T, c *dynamodb.Client) {
	ctx := context.Background()
	prefix := uniqueName(t, "list")
	var mine []string
	for _, suffix := range []string{"_c", "_a", "_b"} {
		in := hashTable()
		in.TableName = aws.String(prefix + suffix)
		mine = append(mine, createTable(t, c, in))
	}
	sort.Strings(mine)

	// Page through everything with a small Limit: names come back sorted,
	// each page has at most Limit names, and our three tables all appear.
	var all []string
	var start *string
	for pages := 0; ; pages++ {
		if pages > 1000 {
			t.Fatal("ListTables did not finish")
		}
		out, err := c.ListTables(ctx, &dynamodb.ListTablesInput{Limit: aws.Int32(2), ExclusiveStartTableName: start})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.TableNames) > 2 {
			t.Fatalf("page of %d names with Limit 2", len(out.TableNames))
		}
		all = append(all, out.TableNames...)
		if out.LastEvaluatedTableName == nil {
			break
		}
		if len(out.TableNames) == 0 || *out.LastEvaluatedTableName != out.TableNames[len(out.TableNames)-1] {
			t.Fatalf("LastEvaluatedTableName %s is not the page's last name %v", *out.LastEvaluatedTableName, out.TableNames)
		}
		start = out.LastEvaluatedTableName
	}
	if !sort.StringsAreSorted(all) {
		t.Errorf("ListTables names not sorted: %v", all)
	}
	var got []string
	for _, n := range all {
		if strings.HasPrefix(n, prefix) {
			got = append(got, n)
		}
	}
	if !slices.Equal(got, mine) {
		t.Errorf("our tables in ListTables: %v, want %v", got, mine)
	}

	// Starting after our first table skips it.
	out, err := c.ListTables(ctx, &dynamodb.ListTablesInput{ExclusiveStartTableName: aws.String(mine[0]), Limit: aws.Int32(2)})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.TableNames) == 0 || out.TableNames[0] != mine[1] {
		t.Errorf("after %s: %v, want %s first", mine[0], out.TableNames, mine[1])
	}
	// The paginator follows LastEvaluatedTableName too.
	p := dynamodb.NewListTablesPaginator(c, &dynamodb.ListTablesInput{Limit: aws.Int32(1), ExclusiveStartTableName: aws.String(prefix)})
	out2, err := p.NextPage(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(out2.TableNames) != 1 || out2.TableNames[0] != mine[0] {
		t.Errorf("paginator first page %v, want [%s]", out2.TableNames, mine[0])
	}
	_, err = c.ListTables(ctx, &dynamodb.ListTablesInput{Limit: aws.Int32(0)})
	wantAPIError(t, err, "ValidationException", "")
}

func testUpdateTable(t *testing.T, c *dynamodb.Client) {
	ctx := context.Background()
	in := rangeTable()
	name := createTable(t, c, in)

	// Same billing mode again: accepted, nothing changes.
	out, err := c.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: aws.String(name), BillingMode: types.BillingModePayPerRequest})
	if err != nil {
		t.Fatalf("UpdateTable billing no-op: %v", err)
	}
	if *out.TableDescription.TableName != name {
		t.Errorf("UpdateTable answered for %s", *out.TableDescription.TableName)
	}

	for i := 0; i < 3; i++ {
		if _, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(name), Item: map[string]types.AttributeValue{
			"pk": s("p"), "sk": n(string(rune('1' + i))), "g": s("gv"),
		}}); err != nil {
			t.Fatal(err)
		}
	}

	// Create a GSI on existing data; it backfills and becomes ACTIVE.
	_, err = c.UpdateTable(ctx, &dynamodb.UpdateTableInput{
		TableName:            aws.String(name),
		AttributeDefinitions: append(in.AttributeDefinitions, types.AttributeDefinition{AttributeName: aws.String("g"), AttributeType: types.ScalarAttributeTypeS}),
		GlobalSecondaryIndexUpdates: []types.GlobalSecondaryIndexUpdate{{Create: &types.CreateGlobalSecondaryIndexAction{
			IndexName:  aws.String("byg"),
			KeySchema:  []types.KeySchemaElement{{AttributeName: aws.String("g"), KeyType: types.KeyTypeHash}},
			Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll},
		}}},
	})
	if err != nil {
		t.Fatalf("UpdateTable create GSI: %v", err)
	}
	waitIndex(t, c, name, "byg", true)
	q, err := c.Query(ctx, &dynamodb.QueryInput{TableName: aws.String(name), IndexName: aws.String("byg"),
		KeyConditionExpression:    aws.String("g = :g"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":g": s("gv")}})
	if err != nil {
		t.Fatal(err)
	}
	if q.Count != 3 {
		t.Errorf("new GSI has %d items, want 3", q.Count)
	}

	_, err = c.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: aws.String(name),
		GlobalSecondaryIndexUpdates: []types.GlobalSecondaryIndexUpdate{{Delete: &types.DeleteGlobalSecondaryIndexAction{IndexName: aws.String("byg")}}}})
	if err != nil {
		t.Fatalf("UpdateTable delete GSI: %v", err)
	}
	waitIndex(t, c, name, "byg", false)
	_, err = c.Query(ctx, &dynamodb.QueryInput{TableName: aws.String(name), IndexName: aws.String("byg"),
		KeyConditionExpression:    aws.String("g = :g"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":g": s("gv")}})
	wantAPIError(t, err, "ValidationException", "")

	_, err = c.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: aws.String(uniqueName(t, "missing")), BillingMode: types.BillingModePayPerRequest})
	wantAPIError(t, err, "ResourceNotFoundException", "")
}

// waitIndex waits until index is ACTIVE (present) or gone (!present).
func waitIndex(t *testing.T, c *dynamodb.Client, table, index string, present bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		d, err := c.DescribeTable(context.Background(), &dynamodb.DescribeTableInput{TableName: aws.String(table)})
		if err != nil {
			t.Fatal(err)
		}
		found, active := false, false
		for _, g := range d.Table.GlobalSecondaryIndexes {
			if *g.IndexName == index {
				found, active = true, g.IndexStatus == types.IndexStatusActive
			}
		}
		if present && active || !present && !found {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("index %s on %s: found=%v active=%v, want present=%v", index, table, found, active, present)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
