package bench

import (
	"net"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// newClient builds the SDK client every worker shares, as an application
// would. Retries are off so that each error reaches the report instead of
// being hidden (and timed) inside a retry loop; the transport keeps one idle
// connection per worker so that steady state opens no new connections.
func newClient(cfg Config) (*dynamodb.Client, *http.Transport) {
	tr := &http.Transport{
		Proxy: nil, // loopback only: never route through an environment proxy
		DialContext: (&net.Dialer{
			Timeout:   5 * time.Second,
			KeepAlive: 30 * time.Second,
		}).DialContext,
		MaxIdleConns:        cfg.Concurrency * 2,
		MaxIdleConnsPerHost: cfg.Concurrency,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
		ForceAttemptHTTP2:   false,
	}
	client := dynamodb.New(dynamodb.Options{
		Region:       cfg.Region,
		BaseEndpoint: aws.String(cfg.Endpoint),
		// Neither DynamoDB Local nor the adapter's test mode checks the
		// secret, but the SDK still signs every request, as in production.
		Credentials: credentials.NewStaticCredentialsProvider("AKIDDUALREADBENCH", "dualread-bench-secret", ""),
		Retryer:     aws.NopRetryer{},
		HTTPClient:  &http.Client{Transport: tr},
	})
	return client, tr
}
