// Package contention hammers the adapter with conflicting writes through the
// AWS SDK and checks that no update is lost and every failure is a proper
// DynamoDB error. `make test` runs it on every backend.
package contention

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/dualread/dualread/internal/testenv"
)

const (
	clients   = 16
	perClient = 200
	txItems   = 4
)

func TestContention(t *testing.T) {
	endpoint := testenv.StartAdapter(t)
	c := testenv.Client(endpoint)
	ctx := context.Background()
	_, err := c.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String("counters"),
		BillingMode:          types.BillingModePayPerRequest,
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Run("ConditionalIncrements", func(t *testing.T) { conditionalIncrements(t, c) })
	t.Run("OverlappingTransactions", func(t *testing.T) { overlappingTransactions(t, c) })
}

// conditionalIncrements: 16 clients × 200 `SET n = n + :one` guarded by a
// condition on n; each client retries until its increment lands, so the
// final value must be exactly 3200.
func conditionalIncrements(t *testing.T, c *dynamodb.Client) {
	ctx := context.Background()
	key := map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "hot"}}
	if _, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("counters"),
		Item: map[string]types.AttributeValue{"pk": key["pk"], "n": &types.AttributeValueMemberN{Value: "0"}}}); err != nil {
		t.Fatal(err)
	}
	var retried atomic.Int64
	errs := run(clients, func(int) error {
		for range perClient {
			for {
				_, err := c.UpdateItem(ctx, &dynamodb.UpdateItemInput{
					TableName:                 aws.String("counters"),
					Key:                       key,
					UpdateExpression:          aws.String("SET n = n + :one"),
					ConditionExpression:       aws.String("attribute_exists(n) AND n >= :zero"),
					ExpressionAttributeValues: map[string]types.AttributeValue{":one": num(1), ":zero": num(0)},
				})
				if err == nil {
					break
				}
				if !retryable(err) {
					return err
				}
				retried.Add(1)
			}
		}
		return nil
	})
	for _, err := range errs {
		t.Error(err)
	}
	got := read(t, c, "hot")
	if got != clients*perClient {
		t.Fatalf("n = %d after %d increments: updates were lost", got, clients*perClient)
	}
	t.Logf("%d increments exact; %d attempts retried on a DynamoDB conflict error", got, retried.Load())
}

// overlappingTransactions: 16 clients each run TransactWriteItems that add 1
// to four of eight counters, chosen so transactions overlap. Each committed
// transaction adds exactly 4 in total, and each counter's value must equal
// the number of committed transactions that touched it.
func overlappingTransactions(t *testing.T, c *dynamodb.Client) {
	ctx := context.Background()
	const counters, rounds = 8, 25
	var mu sync.Mutex
	touched := make([]int, counters)
	var cancelled atomic.Int64
	errs := run(clients, func(client int) error {
		for r := range rounds {
			var items []types.TransactWriteItem
			var ids []int
			for k := range txItems {
				id := (client + r + k*2) % counters
				ids = append(ids, id)
				items = append(items, types.TransactWriteItem{Update: &types.Update{
					TableName:                 aws.String("counters"),
					Key:                       map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "c" + strconv.Itoa(id)}},
					UpdateExpression:          aws.String("ADD n :one"),
					ExpressionAttributeValues: map[string]types.AttributeValue{":one": num(1)},
				}})
			}
			for {
				_, err := c.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
				if err == nil {
					mu.Lock()
					for _, id := range ids {
						touched[id]++
					}
					mu.Unlock()
					break
				}
				if !retryable(err) {
					return err
				}
				cancelled.Add(1)
			}
		}
		return nil
	})
	for _, err := range errs {
		t.Error(err)
	}
	total := 0
	for id := range counters {
		got := read(t, c, "c"+strconv.Itoa(id))
		if got != touched[id] {
			t.Errorf("counter c%d = %d, want %d", id, got, touched[id])
		}
		total += got
	}
	if want := clients * rounds * txItems; total != want {
		t.Errorf("sum of counters %d, want %d", total, want)
	}
	t.Logf("%d transactions committed exactly; %d attempts refused with a DynamoDB conflict error and retried", clients*rounds, cancelled.Load())
}

// retryable reports whether err is one of the errors DynamoDB answers under
// contention; anything else (a 500, a validation error) fails the test.
func retryable(err error) bool {
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return false
	}
	switch ae.ErrorCode() {
	case "TransactionConflictException", "TransactionCanceledException", "ConditionalCheckFailedException":
		return true
	}
	return false
}

func run(n int, f func(i int) error) []error {
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := f(i); err != nil {
				errs[i] = fmt.Errorf("client %d: %w", i, err)
			}
		}()
	}
	wg.Wait()
	var out []error
	for _, e := range errs {
		if e != nil {
			out = append(out, e)
		}
	}
	return out
}

func num(n int) types.AttributeValue { return &types.AttributeValueMemberN{Value: strconv.Itoa(n)} }

func read(t *testing.T, c *dynamodb.Client, pk string) int {
	t.Helper()
	out, err := c.GetItem(context.Background(), &dynamodb.GetItemInput{TableName: aws.String("counters"), ConsistentRead: aws.Bool(true),
		Key: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: pk}}})
	if err != nil {
		t.Fatal(err)
	}
	n, ok := out.Item["n"].(*types.AttributeValueMemberN)
	if !ok {
		return 0
	}
	v, _ := strconv.Atoi(n.Value)
	return v
}
