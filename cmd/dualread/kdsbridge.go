package main

import (
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	awskinesis "github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/spf13/cobra"

	"github.com/dualread/dualread/streamproc/kdsbridge"
)

// newKDSBridgeCmd is `dualread kds-bridge`: DynamoDB Local's streams
// republished to kinesalite as Kinesis Data Streams for DynamoDB would.
// Its flags are a contract with the local stack that launches it.
func newKDSBridgeCmd() *cobra.Command {
	var (
		ddbURL, kinesisURL, stream, region string
		logLevel, logFormat                string
		tables                             []string
		enable                             bool
		poll                               time.Duration
	)
	cmd := &cobra.Command{
		Use:   "kds-bridge",
		Short: "Local development: publish DynamoDB Local's stream records to a Kinesis stream (kinesalite) as Kinesis Data Streams for DynamoDB does",
		Long: "kds-bridge stands in for AWS's Kinesis Data Streams for DynamoDB, which DynamoDB Local lacks: it tails the DynamoDB\n" +
			"Streams of DynamoDB Local (tables created later included; --enable-streams turns on NEW_AND_OLD_IMAGES streams on\n" +
			"tables without one) and puts each change to --stream, created if missing, as the KDS-for-DynamoDB JSON record, with\n" +
			"a partition key per item. Each start republishes what the streams retain (duplicates, harmless downstream).\n" +
			"For local use only: credentials are AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY if set, else dummies.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			if ddbURL == "" || kinesisURL == "" || stream == "" {
				return errors.New("--dynamodb-endpoint, --kinesis-endpoint and --stream are required")
			}
			log, err := newLogger(cmd.ErrOrStderr(), logLevel, logFormat)
			if err != nil {
				return err
			}
			// Local stand-ins take any credentials, but DynamoDB Local
			// without -sharedDb keeps one database per access key, so the
			// application's key is used when the environment has one.
			akid, secret := os.Getenv("AWS_ACCESS_KEY_ID"), os.Getenv("AWS_SECRET_ACCESS_KEY")
			if akid == "" || secret == "" {
				akid, secret = "dualread-local", "dualread-local"
			}
			awsCfg := aws.Config{Region: region, Credentials: credentials.NewStaticCredentialsProvider(akid, secret, os.Getenv("AWS_SESSION_TOKEN"))}
			stats := &kdsbridge.Stats{}
			err = kdsbridge.Run(ctx, kdsbridge.Config{
				DynamoDB: dynamodb.NewFromConfig(awsCfg, func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(ddbURL) }),
				Streams:  dynamodbstreams.NewFromConfig(awsCfg, func(o *dynamodbstreams.Options) { o.BaseEndpoint = aws.String(ddbURL) }),
				Kinesis:  awskinesis.NewFromConfig(awsCfg, func(o *awskinesis.Options) { o.BaseEndpoint = aws.String(kinesisURL) }),
				Stream:   stream, Tables: tables, EnableStreams: enable, Poll: poll, Region: region, Logger: log,
			}, stats)
			fmt.Fprintf(cmd.OutOrStdout(), "kds-bridge stopped: %d records published, %d skipped\n", stats.Published.Load(), stats.Skipped.Load())
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&ddbURL, "dynamodb-endpoint", "", "DynamoDB Local URL (its streams are read there too)")
	f.StringVar(&kinesisURL, "kinesis-endpoint", "", "Kinesis (kinesalite) URL")
	f.StringVar(&stream, "stream", "", "Kinesis stream to publish to (created with 2 shards if missing)")
	f.StringSliceVar(&tables, "tables", nil, "tables to bridge (default: every table)")
	f.StringVar(&region, "region", "us-east-1", "region of the clients and of the records' awsRegion")
	f.BoolVar(&enable, "enable-streams", false, "turn on a NEW_AND_OLD_IMAGES stream on tables that have none")
	f.DurationVar(&poll, "poll", 250*time.Millisecond, "how often tables, streams and idle shards are polled")
	f.StringVar(&logLevel, "log-level", "info", "log level")
	f.StringVar(&logFormat, "log-format", "json", "log format: json or text")
	return cmd
}
