package bench

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// tableActiveTimeout bounds the wait for a new table to become ACTIVE.
const tableActiveTimeout = time.Minute

// ensureTable creates cfg.Table (pk S hash, sk S range, on demand) unless it
// exists, and reports whether this call created it: only such a table may
// be deleted after the run.
func ensureTable(ctx context.Context, c *dynamodb.Client, cfg Config, log *slog.Logger) (created bool, err error) {
	desc, err := c.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(cfg.Table)})
	var notFound *types.ResourceNotFoundException
	switch {
	case err == nil:
		if err := checkKeySchema(desc.Table); err != nil {
			return false, fmt.Errorf("bench: table %s: %w", cfg.Table, err)
		}
		log.Info("bench: using existing table", "table", cfg.Table)
		return false, waitActive(ctx, c, cfg.Table)
	case !errors.As(err, &notFound):
		return false, fmt.Errorf("bench: describe table %s: %w", cfg.Table, err)
	}
	_, err = c.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName: aws.String(cfg.Table),
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String(attrPK), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String(attrSK), AttributeType: types.ScalarAttributeTypeS},
		},
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String(attrPK), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String(attrSK), KeyType: types.KeyTypeRange},
		},
		BillingMode: types.BillingModePayPerRequest,
	})
	if err != nil {
		return false, fmt.Errorf("bench: create table %s: %w", cfg.Table, err)
	}
	log.Info("bench: created table", "table", cfg.Table)
	return true, waitActive(ctx, c, cfg.Table)
}

func checkKeySchema(t *types.TableDescription) error {
	want := map[string]types.KeyType{attrPK: types.KeyTypeHash, attrSK: types.KeyTypeRange}
	if t == nil || len(t.KeySchema) != len(want) {
		return fmt.Errorf("exists with a key schema other than pk (HASH) + sk (RANGE)")
	}
	for _, k := range t.KeySchema {
		if want[aws.ToString(k.AttributeName)] != k.KeyType {
			return fmt.Errorf("exists with a key schema other than pk (HASH) + sk (RANGE)")
		}
	}
	return nil
}

func waitActive(ctx context.Context, c *dynamodb.Client, table string) error {
	ctx, cancel := context.WithTimeout(ctx, tableActiveTimeout)
	defer cancel()
	for {
		out, err := c.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)})
		if err != nil {
			return fmt.Errorf("bench: wait for table %s: %w", table, err)
		}
		if out.Table != nil && out.Table.TableStatus == types.TableStatusActive {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("bench: table %s not ACTIVE: %w", table, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// deleteTable removes a table this run created. It runs even when the run's
// context is cancelled, so it gets its own bounded one.
func deleteTable(ctx context.Context, c *dynamodb.Client, table string) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	_, err := c.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String(table)})
	if err != nil {
		return fmt.Errorf("bench: delete table %s: %w", table, err)
	}
	return nil
}

// preload writes every key of the key space once, 25 items per
// BatchWriteItem (DynamoDB's limit), from a few parallel writers.
func preload(ctx context.Context, c *dynamodb.Client, cfg Config) error {
	const batch = 25
	item := func(k int) types.WriteRequest {
		it := itemKey(k, cfg.ItemsPerPartition)
		it[attrPayload] = &types.AttributeValueMemberS{Value: string(payload(cfg.ItemSize))}
		return types.WriteRequest{PutRequest: &types.PutRequest{Item: it}}
	}
	starts := make(chan int)
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var wg sync.WaitGroup
	for range min(cfg.Concurrency, 8) {
		wg.Go(func() {
			for start := range starts {
				reqs := make([]types.WriteRequest, 0, batch)
				for k := start; k < min(start+batch, cfg.Keys); k++ {
					reqs = append(reqs, item(k))
				}
				if err := batchWrite(ctx, c, cfg.Table, reqs); err != nil {
					cancel(err)
					return
				}
			}
		})
	}
feed:
	for start := 0; start < cfg.Keys; start += batch {
		select {
		case starts <- start:
		case <-ctx.Done():
			break feed
		}
	}
	close(starts)
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return fmt.Errorf("bench: preload: %w", err)
	}
	return nil
}

// batchWrite sends reqs, resending unprocessed items a bounded number of
// times (the retryer is off, and a throttled preload must not spin forever).
func batchWrite(ctx context.Context, c *dynamodb.Client, table string, reqs []types.WriteRequest) error {
	for attempt := 0; len(reqs) > 0; attempt++ {
		if attempt == 20 {
			return fmt.Errorf("%d items still unprocessed after %d attempts", len(reqs), attempt)
		}
		out, err := c.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{
			RequestItems: map[string][]types.WriteRequest{table: reqs},
		})
		if err != nil {
			return err
		}
		reqs = out.UnprocessedItems[table]
		if len(reqs) > 0 {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(time.Duration(attempt+1) * 10 * time.Millisecond):
			}
		}
	}
	return nil
}
