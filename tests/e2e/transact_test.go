package e2e

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/dualread/dualread/internal/testenv"
)

func testTransactWrite(t *testing.T, c *dynamodb.Client, kind testenv.Kind) {
	ctx := context.Background()
	name := createTable(t, c, hashTable())
	tn := aws.String(name)
	if _, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: tn, Item: item{"pk": s("acct"), "bal": n("10")}}); err != nil {
		t.Fatal(err)
	}
	in := func(token string, amount string) *dynamodb.TransactWriteItemsInput {
		return &dynamodb.TransactWriteItemsInput{
			ClientRequestToken: aws.String(token),
			TransactItems: []types.TransactWriteItem{
				{Update: &types.Update{TableName: tn, Key: item{"pk": s("acct")},
					UpdateExpression:          aws.String("ADD bal :a"),
					ExpressionAttributeValues: item{":a": n(amount)}}},
				{Put: &types.Put{TableName: tn, Item: item{"pk": s("log-" + token), "amount": n(amount)}}},
			},
		}
	}
	balance := func() string {
		t.Helper()
		out, err := c.GetItem(ctx, &dynamodb.GetItemInput{TableName: tn, Key: item{"pk": s("acct")}, ConsistentRead: aws.Bool(true)})
		if err != nil {
			t.Fatal(err)
		}
		return out.Item["bal"].(*types.AttributeValueMemberN).Value
	}
	// Tokens are per account, not per table: make this run's unique.
	tok := uniqueName(t, "tok")
	if _, err := c.TransactWriteItems(ctx, in(tok, "5")); err != nil {
		t.Fatal(err)
	}
	// The same token and request again is idempotent: accepted, not applied twice.
	if _, err := c.TransactWriteItems(ctx, in(tok, "5")); err != nil {
		t.Fatalf("idempotent retry: %v", err)
	}
	if b := balance(); b != "15" {
		t.Errorf("balance %s after idempotent retry, want 15", b)
	}
	// The same token with a different request is a mismatch.
	_, err := c.TransactWriteItems(ctx, in(tok, "6"))
	wantAPIError(t, err, "IdempotentParameterMismatchException", "")

	// A failing condition cancels everything, with one reason per item.
	_, err = c.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Put: &types.Put{TableName: tn, Item: item{"pk": s("new"), "x": n("1")}}},
		{ConditionCheck: &types.ConditionCheck{TableName: tn, Key: item{"pk": s("acct")},
			ConditionExpression:                 aws.String("bal > :min"),
			ExpressionAttributeValues:           item{":min": n("100")},
			ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld}},
	}})
	ae := wantAPIError(t, err, "TransactionCanceledException",
		"Transaction cancelled, please refer cancellation reasons for specific reasons [None, ConditionalCheckFailed]")
	var tce *types.TransactionCanceledException
	if !asErr(error(ae), &tce) {
		t.Fatalf("not a TransactionCanceledException: %T", ae)
	}
	if len(tce.CancellationReasons) != 2 || aws.ToString(tce.CancellationReasons[0].Code) != "None" ||
		aws.ToString(tce.CancellationReasons[1].Code) != "ConditionalCheckFailed" ||
		// Note the full stop, which ConditionalCheckFailedException's message lacks.
		aws.ToString(tce.CancellationReasons[1].Message) != "The conditional request failed." {
		for i, r := range tce.CancellationReasons {
			t.Logf("reason %d: code %q message %q", i, aws.ToString(r.Code), aws.ToString(r.Message))
		}
		t.Fatalf("CancellationReasons differ from [None, ConditionalCheckFailed]")
	}
	wantItem(t, "cancellation Item", tce.CancellationReasons[1].Item, item{"pk": s("acct"), "bal": n("15")})
	got, err := c.GetItem(ctx, &dynamodb.GetItemInput{TableName: tn, Key: item{"pk": s("new")}})
	if err != nil {
		t.Fatal(err)
	}
	if got.Item != nil {
		t.Errorf("cancelled transaction wrote an item")
	}

	// Two actions on one item are rejected before anything runs (AWS
	// documents this: "You can't target the same item with multiple
	// operations within the same transaction"). DynamoDB Local instead runs
	// them in order, so the ConditionCheck sees the Delete; follow AWS.
	_, err = c.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Delete: &types.Delete{TableName: tn, Key: item{"pk": s("acct")}}},
		{ConditionCheck: &types.ConditionCheck{TableName: tn, Key: item{"pk": s("acct")}, ConditionExpression: aws.String("attribute_exists(pk)")}},
	}})
	if kind == testenv.KindDynamoDBLocal {
		t.Logf("DynamoDB Local on two actions on one item: %v", err)
		return
	}
	wantAPIError(t, err, "ValidationException", "Transaction request cannot include multiple operations on one item")
}

func testTransactGet(t *testing.T, c *dynamodb.Client) {
	ctx := context.Background()
	name := createTable(t, c, hashTable())
	tn := aws.String(name)
	if _, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: tn, Item: item{"pk": s("g1"), "a": n("1"), "b": s("x")}}); err != nil {
		t.Fatal(err)
	}
	out, err := c.TransactGetItems(ctx, &dynamodb.TransactGetItemsInput{TransactItems: []types.TransactGetItem{
		{Get: &types.Get{TableName: tn, Key: item{"pk": s("missing")}}},
		{Get: &types.Get{TableName: tn, Key: item{"pk": s("g1")}, ProjectionExpression: aws.String("#b"), ExpressionAttributeNames: map[string]string{"#b": "b"}}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Responses) != 2 || out.Responses[0].Item != nil {
		t.Fatalf("responses: %+v", out.Responses)
	}
	wantItem(t, "TransactGet projection", out.Responses[1].Item, item{"b": s("x")})
}
