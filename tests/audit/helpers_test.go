package audit_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"cloud.google.com/go/bigtable"
	"cloud.google.com/go/pubsub/v2"
	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"
	"cloud.google.com/go/pubsub/v2/pstest"
	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go/middleware"

	"github.com/dualread/dualread/audit"
	"github.com/dualread/dualread/audit/sink"
	"github.com/dualread/dualread/internal/testenv"
)

// headerTransport adds the service header to every request, as a calling
// service's HTTP client would.
type headerTransport struct {
	name, value string
	next        http.RoundTripper
}

func (h headerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set(h.name, h.value)
	return h.next.RoundTrip(r)
}

// sdkClient is an aws-sdk-go-v2 client for endpoint signing with key and,
// if service is set, naming it in header.
func sdkClient(endpoint, key, header, service string) *dynamodb.Client {
	var hc *http.Client
	if service != "" {
		hc = &http.Client{Transport: headerTransport{name: header, value: service, next: http.DefaultTransport}}
	}
	o := dynamodb.Options{
		Region: testenv.Region, BaseEndpoint: aws.String(endpoint),
		Credentials: credentials.NewStaticCredentialsProvider(key, "secret", ""),
		Retryer:     retry.NewStandard(func(o *retry.StandardOptions) { o.MaxAttempts = 1 }),
	}
	if hc != nil {
		o.HTTPClient = hc
	}
	return dynamodb.New(o)
}

// requestID is the x-amzn-RequestId of an SDK call: the id of its shadow
// record and so of its Pub/Sub message.
func requestID(t *testing.T, md middleware.Metadata) string {
	t.Helper()
	id, ok := awsmiddleware.GetRequestIDMetadata(md)
	if !ok || id == "" {
		t.Fatal("response without x-amzn-RequestId")
	}
	return id
}

func createTable(t *testing.T, c *dynamodb.Client, name string, withSort bool) {
	t.Helper()
	in := &dynamodb.CreateTableInput{TableName: aws.String(name), BillingMode: types.BillingModePayPerRequest,
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
	}
	if withSort {
		in.KeySchema = append(in.KeySchema, types.KeySchemaElement{AttributeName: aws.String("sk"), KeyType: types.KeyTypeRange})
		in.AttributeDefinitions = append(in.AttributeDefinitions, types.AttributeDefinition{AttributeName: aws.String("sk"), AttributeType: types.ScalarAttributeTypeS})
	}
	if _, err := c.CreateTable(context.Background(), in); err != nil {
		t.Fatalf("create %s: %v", name, err)
	}
}

// av builds attribute values tersely: "S:x", "N:1", "SS:a,b", or a value.
func av(v any) types.AttributeValue {
	switch v := v.(type) {
	case types.AttributeValue:
		return v
	case string:
		kind, val, _ := strings.Cut(v, ":")
		switch kind {
		case "S":
			return &types.AttributeValueMemberS{Value: val}
		case "N":
			return &types.AttributeValueMemberN{Value: val}
		case "SS":
			return &types.AttributeValueMemberSS{Value: strings.Split(val, ",")}
		case "NS":
			return &types.AttributeValueMemberNS{Value: strings.Split(val, ",")}
		}
	}
	panic("av: bad value")
}

func item(kv ...any) map[string]types.AttributeValue {
	out := map[string]types.AttributeValue{}
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i].(string)] = av(kv[i+1])
	}
	return out
}

func put(t *testing.T, c *dynamodb.Client, table string, it map[string]types.AttributeValue) {
	t.Helper()
	if _, err := c.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: aws.String(table), Item: it}); err != nil {
		t.Fatalf("put into %s: %v", table, err)
	}
}

// newTopic creates a topic and a subscription on the pstest server.
func newTopic(t *testing.T, ctx context.Context, psrv *pstest.Server) (*pubsub.Client, string, string) {
	t.Helper()
	const project = "dualread-test"
	psc, err := pubsub.NewClient(ctx, project, testenv.EmulatorClientOptions(psrv.Addr)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { psc.Close() })
	topic := "projects/" + project + "/topics/audit-mismatches"
	sub := "projects/" + project + "/subscriptions/audit-test"
	if _, err := psc.TopicAdminClient.CreateTopic(ctx, &pubsubpb.Topic{Name: topic}); err != nil {
		t.Fatal(err)
	}
	if _, err := psc.SubscriptionAdminClient.CreateSubscription(ctx, &pubsubpb.Subscription{Name: sub, Topic: topic}); err != nil {
		t.Fatal(err)
	}
	return psc, topic, sub
}

// published is one Pub/Sub message read back through a subscription.
type published struct {
	attrs map[string]string
	pair  audit.PairJSON
	rec   struct {
		Service string `json:"service"`
		Primary struct {
			Backend string `json:"backend"`
		} `json:"primary"`
		Shadow struct {
			Backend string `json:"backend"`
		} `json:"shadow"`
	}
}

// receive reads n messages from the subscription (the publisher has
// finished: the audit service was closed), acknowledging each.
func receive(t *testing.T, psc *pubsub.Client, sub string, n int) map[string]published {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var mu sync.Mutex
	out := map[string]published{}
	err := psc.Subscriber(sub).Receive(ctx, func(_ context.Context, m *pubsub.Message) {
		m.Ack()
		var p published
		p.attrs = m.Attributes
		if err := json.Unmarshal(m.Data, &p.pair); err != nil {
			t.Errorf("message body: %v", err)
		}
		if err := json.Unmarshal(p.pair.Record, &p.rec); err != nil {
			t.Errorf("message record: %v", err)
		}
		mu.Lock()
		defer mu.Unlock()
		out[p.pair.ID] = p
		if len(out) >= n {
			cancel()
		}
	})
	if err != nil && ctx.Err() == nil {
		t.Fatal(err)
	}
	if len(out) < n {
		t.Fatalf("received %d of %d published messages", len(out), n)
	}
	return out
}

// influxCounts sums a measurement's field grouped by tags, as "tag1 tag2 …".
func influxCounts(t *testing.T, url, db, q string, tags ...string) map[string]int {
	t.Helper()
	res, err := testenv.InfluxQuery(context.Background(), url, db, q)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, r := range res.Results {
		for _, s := range r.Series {
			if len(s.Values) == 0 || len(s.Values[0]) < 2 {
				continue
			}
			var k []string
			for _, tg := range tags {
				k = append(k, s.Tags[tg])
			}
			if f, ok := s.Values[0][1].(float64); ok {
				out[strings.Join(k, " ")] = int(f)
			}
		}
	}
	return out
}

// pairStore creates the pair table on the Bigtable emulator at addr and
// returns the sink behind `dualread audit show`.
func pairStore(t *testing.T, addr string) *sink.PairStore {
	t.Helper()
	ctx := context.Background()
	opts := testenv.EmulatorClientOptions(addr)
	ac, err := bigtable.NewAdminClient(ctx, "p", "i", opts...)
	if err != nil {
		t.Fatal(err)
	}
	defer ac.Close()
	if err := sink.EnsurePairTable(ctx, ac, "audit_pairs", 24*time.Hour); err != nil {
		t.Fatal(err)
	}
	bc, err := bigtable.NewClientWithConfig(ctx, "p", "i", bigtable.ClientConfig{MetricsProvider: bigtable.NoopMetricsProvider{}}, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { bc.Close() })
	return sink.NewPairStore(bc, "audit_pairs")
}
