package testenv

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

// TestKinesalite starts one kinesalite and drives it with aws-sdk-go-v2's
// Kinesis client the way the stream processor will: streams addressed by
// name, records put with a partition key and read back from the shard that
// PutRecord reported.
func TestKinesalite(t *testing.T) {
	if testing.Short() {
		t.Skip("starts kinesalite")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, err := LaunchKinesalite(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Stop()
	kc := kinesis.New(kinesis.Options{
		Region:       Region,
		BaseEndpoint: aws.String(s.Addr),
		Credentials:  credentials.NewStaticCredentialsProvider(AccessKeyID, SecretAccessKey, ""),
	})
	stream := aws.String("dualread-testenv")

	if _, err := kc.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: stream, ShardCount: aws.Int32(2)}); err != nil {
		t.Fatalf("CreateStream: %v", err)
	}
	// createStreamMs 0 makes the stream ACTIVE on kinesalite's next event
	// loop turn, not within CreateStream: a DescribeStream straight after
	// can still see CREATING (seen under load), so wait as on AWS.
	d, err := kinesis.NewStreamExistsWaiter(kc, func(o *kinesis.StreamExistsWaiterOptions) {
		o.MinDelay, o.MaxDelay = 50*time.Millisecond, 200*time.Millisecond
	}).WaitForOutput(ctx, &kinesis.DescribeStreamInput{StreamName: stream}, 10*time.Second)
	if err != nil {
		t.Fatalf("wait for ACTIVE: %v", err)
	}
	if d.StreamDescription.StreamStatus != types.StreamStatusActive || len(d.StreamDescription.Shards) != 2 {
		t.Fatalf("stream %s with %d shards, want ACTIVE with 2", d.StreamDescription.StreamStatus, len(d.StreamDescription.Shards))
	}

	records := []struct{ key, data string }{
		{"pk-1", `{"eventName":"INSERT"}`},
		{"pk-1", `{"eventName":"MODIFY"}`},
	}
	var shard string
	for _, r := range records {
		out, err := kc.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: stream, PartitionKey: aws.String(r.key), Data: []byte(r.data)})
		if err != nil {
			t.Fatalf("PutRecord: %v", err)
		}
		if shard != "" && aws.ToString(out.ShardId) != shard {
			t.Fatalf("same partition key went to shards %s and %s", shard, aws.ToString(out.ShardId))
		}
		shard = aws.ToString(out.ShardId)
	}

	it, err := kc.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{
		StreamName: stream, ShardId: aws.String(shard), ShardIteratorType: types.ShardIteratorTypeTrimHorizon,
	})
	if err != nil {
		t.Fatalf("GetShardIterator: %v", err)
	}
	got, err := kc.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: it.ShardIterator})
	if err != nil {
		t.Fatalf("GetRecords: %v", err)
	}
	if len(got.Records) != len(records) {
		t.Fatalf("got %d records, want %d", len(got.Records), len(records))
	}
	for i, r := range got.Records {
		if !bytes.Equal(r.Data, []byte(records[i].data)) || aws.ToString(r.PartitionKey) != records[i].key {
			t.Errorf("record %d = %q/%s, want %q/%s", i, r.Data, aws.ToString(r.PartitionKey), records[i].data, records[i].key)
		}
	}

	if _, err := kc.DeleteStream(ctx, &kinesis.DeleteStreamInput{StreamName: stream}); err != nil {
		t.Fatalf("DeleteStream: %v", err)
	}
	if err := kinesis.NewStreamNotExistsWaiter(kc, func(o *kinesis.StreamNotExistsWaiterOptions) {
		o.MinDelay, o.MaxDelay = 50*time.Millisecond, 200*time.Millisecond
	}).Wait(ctx, &kinesis.DescribeStreamInput{StreamName: stream}, 10*time.Second); err != nil {
		t.Fatalf("stream still there after DeleteStream with deleteStreamMs 0: %v", err)
	}

	t.Run("env var names a running instance", func(t *testing.T) {
		t.Setenv(EnvKinesisEndpoint, s.Addr)
		if got := StartKinesalite(t); got != s.Addr {
			t.Fatalf("StartKinesalite = %q, want %q", got, s.Addr)
		}
	})

	assertStopped(t, s)
}
