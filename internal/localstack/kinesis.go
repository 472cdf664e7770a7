package localstack

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

// createStream creates the stream the bridge writes and streamproc reads,
// before either starts, and waits until it is ACTIVE. One shard: the demo's
// rate is far below a shard's 1,000 records/s.
func createStream(ctx context.Context, endpoint, name string) error {
	kc := kinesis.New(kinesis.Options{
		Region:       Region,
		BaseEndpoint: aws.String(endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider(AccessKeyID, SecretAccessKey, ""),
	})
	_, err := kc.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String(name), ShardCount: aws.Int32(1)})
	var inUse *types.ResourceInUseException
	if err != nil && !errors.As(err, &inUse) {
		return fmt.Errorf("create Kinesis stream %s: %w", name, err)
	}
	// kinesalite makes the stream ACTIVE just after CreateStream returns;
	// address it by name (kinesalite does not resolve ARNs).
	w := kinesis.NewStreamExistsWaiter(kc, func(o *kinesis.StreamExistsWaiterOptions) {
		o.MinDelay, o.MaxDelay = 50*time.Millisecond, time.Second
	})
	if err := w.Wait(ctx, &kinesis.DescribeStreamInput{StreamName: aws.String(name)}, time.Minute); err != nil {
		return fmt.Errorf("Kinesis stream %s: %w", name, err)
	}
	return nil
}
