package e2e

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/dualread/dualread/internal/testenv"
)

func testTTL(t *testing.T, c *dynamodb.Client) {
	ctx := context.Background()
	name := createTable(t, c, hashTable())
	d, err := c.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	if d.TimeToLiveDescription.TimeToLiveStatus != types.TimeToLiveStatusDisabled {
		t.Errorf("new table TTL status %s", d.TimeToLiveDescription.TimeToLiveStatus)
	}
	u, err := c.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{TableName: aws.String(name),
		TimeToLiveSpecification: &types.TimeToLiveSpecification{AttributeName: aws.String("exp"), Enabled: aws.Bool(true)}})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(u.TimeToLiveSpecification.AttributeName) != "exp" || !aws.ToBool(u.TimeToLiveSpecification.Enabled) {
		t.Errorf("UpdateTimeToLive answer: %+v", u.TimeToLiveSpecification)
	}
	d, err = c.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	st := d.TimeToLiveDescription.TimeToLiveStatus
	if st != types.TimeToLiveStatusEnabled && st != types.TimeToLiveStatusEnabling || aws.ToString(d.TimeToLiveDescription.AttributeName) != "exp" {
		t.Errorf("TTL after enabling: %s %v", st, aws.ToString(d.TimeToLiveDescription.AttributeName))
	}
	// Enabling it again is rejected.
	_, err = c.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{TableName: aws.String(name),
		TimeToLiveSpecification: &types.TimeToLiveSpecification{AttributeName: aws.String("exp"), Enabled: aws.Bool(true)}})
	wantAPIError(t, err, "ValidationException", "TimeToLive is already enabled")
	_, err = c.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(uniqueName(t, "nope"))})
	wantAPIError(t, err, "ResourceNotFoundException", "")
}

// testDescribeEndpoints: AWS answers DescribeEndpoints (SDKs with endpoint
// discovery call it); DynamoDB Local does not implement it and answers
// UnknownOperationException. The adapter must follow AWS, so only a
// DynamoDB Local target may answer that way.
func testDescribeEndpoints(t *testing.T, c *dynamodb.Client, kind testenv.Kind) {
	out, err := c.DescribeEndpoints(context.Background(), &dynamodb.DescribeEndpointsInput{})
	if kind == testenv.KindDynamoDBLocal {
		wantAPIError(t, err, "UnknownOperationException", "")
		t.Skip("DynamoDB Local does not implement DescribeEndpoints (checked that it says so)")
	}
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Endpoints) == 0 || aws.ToString(out.Endpoints[0].Address) == "" || out.Endpoints[0].CachePeriodInMinutes <= 0 {
		t.Fatalf("DescribeEndpoints: %+v", out.Endpoints)
	}
}

// testItemSizeLimit pins the 400 KB limit at its exact boundary: the size is
// the UTF-8 length of attribute names plus values.
func testItemSizeLimit(t *testing.T, c *dynamodb.Client) {
	ctx := context.Background()
	name := createTable(t, c, hashTable())
	tn := aws.String(name)
	const limit = 400 * 1024
	// "pk"+"k" = 3 bytes, "d" = 1 byte: the value may take the rest.
	fits := strings.Repeat("x", limit-3-1)
	if _, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: tn, Item: item{"pk": s("k"), "d": s(fits)}}); err != nil {
		t.Fatalf("item of exactly 400 KB rejected: %v", err)
	}
	_, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: tn, Item: item{"pk": s("k"), "d": s(fits + "x")}})
	wantAPIError(t, err, "ValidationException", "Item size has exceeded the maximum allowed size")
	// Growing an item past the limit through UpdateItem fails too.
	_, err = c.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: tn, Key: item{"pk": s("k")},
		UpdateExpression: aws.String("SET e = :v"), ExpressionAttributeValues: item{":v": s("yy")}})
	wantAPIError(t, err, "ValidationException", "Item size to update has exceeded the maximum allowed size")
}
