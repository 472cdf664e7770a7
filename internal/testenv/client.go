package testenv

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// Region and the static credentials every test client signs with. Neither
// DynamoDB Local nor the adapter in test mode checks them.
const (
	Region          = "us-east-1"
	AccessKeyID     = "AKIDDUALREADTEST"
	SecretAccessKey = "dualread-test-secret"
)

// Client is a typed SDK client for endpoint. Retries are capped at 3 attempts
// so that an intermittent server bug shows up as a failure instead of being
// silently retried away.
func Client(endpoint string) *dynamodb.Client {
	return dynamodb.New(dynamodb.Options{
		Region:       Region,
		BaseEndpoint: aws.String(endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider(AccessKeyID, SecretAccessKey, ""),
		Retryer: retry.NewStandard(func(o *retry.StandardOptions) {
			o.MaxAttempts = 3
		}),
	})
}
