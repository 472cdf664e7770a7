package e2e

import (
	"context"
	"reflect"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

type item = map[string]types.AttributeValue

func wantItem(t *testing.T, what string, got, want item) {
	t.Helper()
	if len(got) == 0 && len(want) == 0 {
		return
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s:\n got  %s\n want %s", what, show(got), show(want))
	}
}

func show(it item) string {
	out := "{"
	for k, v := range it {
		out += k + ":"
		switch x := v.(type) {
		case *types.AttributeValueMemberS:
			out += "S=" + x.Value
		case *types.AttributeValueMemberN:
			out += "N=" + x.Value
		default:
			out += reflect.TypeOf(v).Elem().Name()
		}
		out += " "
	}
	return out + "}"
}

func testPutGetDelete(t *testing.T, c *dynamodb.Client) {
	ctx := context.Background()
	name := createTable(t, c, hashTable())
	tn := aws.String(name)
	key := item{"pk": s("k1")}
	v1 := item{"pk": s("k1"), "a": n("1.50"), "e": s(""), "b": &types.AttributeValueMemberB{Value: []byte{0, 1, 2}},
		"t": &types.AttributeValueMemberBOOL{Value: true}, "z": &types.AttributeValueMemberNULL{Value: true},
		"m": &types.AttributeValueMemberM{Value: item{"x": &types.AttributeValueMemberL{Value: []types.AttributeValue{n("1"), s("two")}}}}}
	// What DynamoDB stores and returns: numbers in canonical form.
	v1Stored := item{"pk": s("k1"), "a": n("1.5"), "e": s(""), "b": &types.AttributeValueMemberB{Value: []byte{0, 1, 2}},
		"t": &types.AttributeValueMemberBOOL{Value: true}, "z": &types.AttributeValueMemberNULL{Value: true},
		"m": &types.AttributeValueMemberM{Value: item{"x": &types.AttributeValueMemberL{Value: []types.AttributeValue{n("1"), s("two")}}}}}

	put, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: tn, Item: v1, ReturnValues: types.ReturnValueAllOld})
	if err != nil {
		t.Fatal(err)
	}
	wantItem(t, "ALL_OLD of a new item", put.Attributes, nil)

	get, err := c.GetItem(ctx, &dynamodb.GetItemInput{TableName: tn, Key: key, ConsistentRead: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	wantItem(t, "GetItem", get.Item, v1Stored)

	get, err = c.GetItem(ctx, &dynamodb.GetItemInput{TableName: tn, Key: key, ProjectionExpression: aws.String("a, m.x[1], #z"),
		ExpressionAttributeNames: map[string]string{"#z": "z"}})
	if err != nil {
		t.Fatal(err)
	}
	wantItem(t, "GetItem projection", get.Item, item{"a": n("1.5"), "z": &types.AttributeValueMemberNULL{Value: true},
		"m": &types.AttributeValueMemberM{Value: item{"x": &types.AttributeValueMemberL{Value: []types.AttributeValue{s("two")}}}}})

	put, err = c.PutItem(ctx, &dynamodb.PutItemInput{TableName: tn, Item: item{"pk": s("k1"), "a": n("2")}, ReturnValues: types.ReturnValueAllOld})
	if err != nil {
		t.Fatal(err)
	}
	wantItem(t, "PutItem ALL_OLD", put.Attributes, v1Stored)

	put, err = c.PutItem(ctx, &dynamodb.PutItemInput{TableName: tn, Item: item{"pk": s("k1"), "a": n("3")}, ReturnValues: types.ReturnValueNone})
	if err != nil {
		t.Fatal(err)
	}
	wantItem(t, "PutItem NONE", put.Attributes, nil)

	_, err = c.PutItem(ctx, &dynamodb.PutItemInput{TableName: tn, Item: item{"pk": s("k1")}, ReturnValues: types.ReturnValueAllNew})
	wantAPIError(t, err, "ValidationException", "Return values set to invalid value")

	del, err := c.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: tn, Key: key, ReturnValues: types.ReturnValueAllOld})
	if err != nil {
		t.Fatal(err)
	}
	wantItem(t, "DeleteItem ALL_OLD", del.Attributes, item{"pk": s("k1"), "a": n("3")})

	del, err = c.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: tn, Key: key, ReturnValues: types.ReturnValueAllOld})
	if err != nil {
		t.Fatal(err)
	}
	wantItem(t, "DeleteItem ALL_OLD of a missing item", del.Attributes, nil)

	get, err = c.GetItem(ctx, &dynamodb.GetItemInput{TableName: tn, Key: key})
	if err != nil {
		t.Fatal(err)
	}
	if get.Item != nil {
		t.Errorf("deleted item still there: %s", show(get.Item))
	}

	_, err = c.GetItem(ctx, &dynamodb.GetItemInput{TableName: tn, Key: item{"pk": n("1")}})
	// DynamoDB Local's text; AWS is reported to say "The provided key element
	// does not match the schema" here. Local is the oracle until shown wrong.
	wantAPIError(t, err, "ValidationException", "One or more parameter values were invalid: Type mismatch for key")
	_, err = c.PutItem(ctx, &dynamodb.PutItemInput{TableName: tn, Item: item{"a": s("x")}})
	wantAPIError(t, err, "ValidationException", "One of the required keys was not given a value")
}

func testUpdateReturnValues(t *testing.T, c *dynamodb.Client) {
	ctx := context.Background()
	name := createTable(t, c, hashTable())
	tn := aws.String(name)
	key := item{"pk": s("u")}
	reset := func() {
		t.Helper()
		if _, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: tn, Item: item{"pk": s("u"), "a": n("1"), "b": s("keep"), "c": s("gone")}}); err != nil {
			t.Fatal(err)
		}
	}
	update := func(rv types.ReturnValue) item {
		t.Helper()
		out, err := c.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: tn, Key: key,
			UpdateExpression:          aws.String("SET a = a + :one, d = :d REMOVE c"),
			ExpressionAttributeValues: item{":one": n("1"), ":d": s("new")},
			ReturnValues:              rv})
		if err != nil {
			t.Fatalf("UpdateItem %s: %v", rv, err)
		}
		return out.Attributes
	}
	cases := []struct {
		rv   types.ReturnValue
		want item
	}{
		{types.ReturnValueNone, nil},
		{types.ReturnValueAllOld, item{"pk": s("u"), "a": n("1"), "b": s("keep"), "c": s("gone")}},
		// UPDATED_OLD: the old values of the attributes the update touched
		// and that existed (d did not).
		{types.ReturnValueUpdatedOld, item{"a": n("1"), "c": s("gone")}},
		{types.ReturnValueAllNew, item{"pk": s("u"), "a": n("2"), "b": s("keep"), "d": s("new")}},
		{types.ReturnValueUpdatedNew, item{"a": n("2"), "d": s("new")}},
	}
	for _, tc := range cases {
		reset()
		wantItem(t, "UpdateItem "+string(tc.rv), update(tc.rv), tc.want)
	}

	// UpdateItem on a missing key creates the item (upsert); ALL_OLD is empty.
	out, err := c.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: tn, Key: item{"pk": s("fresh")},
		UpdateExpression:          aws.String("ADD cnt :one, tags :t"),
		ExpressionAttributeValues: item{":one": n("1"), ":t": ss("x")},
		ReturnValues:              types.ReturnValueAllNew})
	if err != nil {
		t.Fatal(err)
	}
	wantItem(t, "upsert ALL_NEW", out.Attributes, item{"pk": s("fresh"), "cnt": n("1"), "tags": ss("x")})

	_, err = c.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: tn, Key: key,
		UpdateExpression:          aws.String("SET a = :v"),
		ExpressionAttributeValues: item{":v": n("1"), ":unused": n("2")}})
	wantAPIError(t, err, "ValidationException", "Value provided in ExpressionAttributeValues unused in expressions: keys: {:unused}")
	_, err = c.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: tn, Key: key,
		UpdateExpression:          aws.String("SET pk = :v"),
		ExpressionAttributeValues: item{":v": s("x")}})
	wantAPIError(t, err, "ValidationException", "One or more parameter values were invalid: Cannot update attribute pk. This attribute is part of the key")
}

func testConditionalFailure(t *testing.T, c *dynamodb.Client) {
	ctx := context.Background()
	name := createTable(t, c, hashTable())
	tn := aws.String(name)
	cur := item{"pk": s("c"), "v": n("5")}
	if _, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: tn, Item: cur}); err != nil {
		t.Fatal(err)
	}
	_, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: tn, Item: item{"pk": s("c")},
		ConditionExpression:                 aws.String("attribute_not_exists(pk)"),
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld})
	wantAPIError(t, err, "ConditionalCheckFailedException", "The conditional request failed")
	var ccf *types.ConditionalCheckFailedException
	if !asErr(err, &ccf) {
		t.Fatalf("not a ConditionalCheckFailedException: %v", err)
	}
	wantItem(t, "ConditionalCheckFailedException.Item", ccf.Item, cur)

	_, err = c.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: tn, Key: item{"pk": s("c")},
		UpdateExpression: aws.String("SET v = :n"), ConditionExpression: aws.String("v > :n"),
		ExpressionAttributeValues: item{":n": n("10")}})
	if !asErr(err, &ccf) || ccf.Item != nil {
		t.Fatalf("want ConditionalCheckFailedException without Item, got %v", err)
	}
	_, err = c.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: tn, Key: item{"pk": s("c")},
		ConditionExpression: aws.String("v BETWEEN :a AND :b"), ExpressionAttributeValues: item{":a": n("1"), ":b": n("9")}})
	if err != nil {
		t.Fatalf("condition true, delete should succeed: %v", err)
	}
}
