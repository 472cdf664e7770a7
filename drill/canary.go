package drill

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// markerAttr marks the drill's own items: the canary and nothing else.
const markerAttr = "dualread_drill"

// keySchema is a table's primary key with attribute types.
type keySchema struct {
	hash, rng         string
	hashType, rngType types.ScalarAttributeType
}

func (k *keySchema) String() string {
	if k.rng == "" {
		return fmt.Sprintf("key %s (%s)", k.hash, k.hashType)
	}
	return fmt.Sprintf("key %s (%s), %s (%s)", k.hash, k.hashType, k.rng, k.rngType)
}

// describeBoth reads the key schema from DynamoDB and checks the adapter
// has the table with the same key: a drill on a table the adapter lacks
// would only ever fail later and less clearly.
func describeBoth(ctx context.Context, source, target *dynamodb.Client, table string) (*keySchema, error) {
	src, err := describe(ctx, source, table)
	if err != nil {
		return nil, fmt.Errorf("DynamoDB: %w", err)
	}
	dst, err := describe(ctx, target, table)
	if err != nil {
		return nil, fmt.Errorf("adapter: %w", err)
	}
	if *src != *dst {
		return nil, fmt.Errorf("key schemas differ: DynamoDB %s, adapter %s", src, dst)
	}
	return src, nil
}

func describe(ctx context.Context, c *dynamodb.Client, table string) (*keySchema, error) {
	out, err := c.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)})
	if err != nil {
		return nil, err
	}
	types := map[string]types.ScalarAttributeType{}
	for _, a := range out.Table.AttributeDefinitions {
		types[aws.ToString(a.AttributeName)] = a.AttributeType
	}
	k := &keySchema{}
	for _, e := range out.Table.KeySchema {
		name := aws.ToString(e.AttributeName)
		if e.KeyType == "HASH" {
			k.hash, k.hashType = name, types[name]
		} else {
			k.rng, k.rngType = name, types[name]
		}
	}
	return k, nil
}

// markerKey is a primary key no application writes: "dualread-drill#RUN"
// for strings and binaries, and for numbers a negative value with 30
// significant digits built from the run's start time.
func (k *keySchema) markerKey(run string, at time.Time) map[string]types.AttributeValue {
	val := func(t types.ScalarAttributeType, suffix string) types.AttributeValue {
		switch t {
		case types.ScalarAttributeTypeN:
			return &types.AttributeValueMemberN{Value: "-9" + strconv.FormatInt(at.UnixNano(), 10) + "0000000000" + suffix}
		case types.ScalarAttributeTypeB:
			return &types.AttributeValueMemberB{Value: []byte("dualread-drill#" + run + suffix)}
		}
		return &types.AttributeValueMemberS{Value: "dualread-drill#" + run + suffix}
	}
	key := map[string]types.AttributeValue{k.hash: val(k.hashType, "1")}
	if k.rng != "" {
		key[k.rng] = val(k.rngType, "2")
	}
	return key
}

// canary writes the marker to DynamoDB and polls the adapter with strong
// reads until it serves it: the delay a real write takes end to end through
// the change stream and the stream processor. Then it deletes the marker
// from DynamoDB and waits until the adapter no longer serves it either, so
// the steps after it (verify above all) see the table without it.
func (d *run) canary(ctx context.Context, tr *TableReport, k *keySchema) (string, error) {
	at := time.Now()
	key := k.markerKey(d.cfg.RunID, at)
	item := map[string]types.AttributeValue{markerAttr: &types.AttributeValueMemberS{Value: d.cfg.RunID}}
	for n, v := range key {
		item[n] = v
	}
	if _, err := d.cfg.DynamoDB.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(tr.Name), Item: item}); err != nil {
		return "", fmt.Errorf("marker not written to DynamoDB: %w", err)
	}
	served := func(out *dynamodb.GetItemOutput) bool {
		m, ok := out.Item[markerAttr].(*types.AttributeValueMemberS)
		return ok && m.Value == d.cfg.RunID
	}
	err := d.await(ctx, tr.Name, key, served)
	if err == nil {
		tr.CanaryMS = time.Since(at).Milliseconds()
	}
	// Delete it in any case (detached from ctx: a cancelled drill still
	// cleans up); a marker left behind is recognisable by its attribute.
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if _, derr := d.cfg.DynamoDB.DeleteItem(dctx, &dynamodb.DeleteItemInput{TableName: aws.String(tr.Name), Key: key}); derr != nil {
		return "", errors.Join(err, fmt.Errorf("marker not deleted from DynamoDB: %w", derr))
	}
	if err != nil {
		return "", err
	}
	del := time.Now()
	if err := d.await(ctx, tr.Name, key, func(out *dynamodb.GetItemOutput) bool { return out.Item == nil }); err != nil {
		return "", fmt.Errorf("marker deleted from DynamoDB is still served by the adapter: %w", err)
	}
	return fmt.Sprintf("marker served by the adapter after %d ms, its delete after %d ms", tr.CanaryMS, time.Since(del).Milliseconds()), nil
}

// await polls the adapter's item at key with strong reads until done holds
// or CanaryTimeout passes.
func (d *run) await(ctx context.Context, table string, key map[string]types.AttributeValue, done func(*dynamodb.GetItemOutput) bool) error {
	deadline := time.Now().Add(d.cfg.CanaryTimeout)
	var lastErr error
	for time.Now().Before(deadline) {
		out, err := d.cfg.Adapter.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table), Key: key, ConsistentRead: aws.Bool(true)})
		if err == nil && done(out) {
			return nil
		}
		lastErr = err
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	err := fmt.Errorf("the change written to DynamoDB did not reach the adapter within %s: replication is stalled (is the stream processor running?)", d.cfg.CanaryTimeout)
	return errors.Join(err, lastErr)
}
