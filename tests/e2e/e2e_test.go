package e2e

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/dualread/dualread/internal/testenv"
)

// TestE2E runs every operation through the typed SDK client against the
// system under test: the adapter when available, else DynamoDB Local. One
// top-level test so that a started adapter serves all subtests.
func TestE2E(t *testing.T) {
	target := env.Target(t)
	t.Logf("endpoint under test: %s (%s)", target.Endpoint, target.Kind)
	c := testenv.Client(target.Endpoint)
	cases := []struct {
		name string
		run  func(*testing.T, *dynamodb.Client)
	}{
		{"TableLifecycle", testTableLifecycle},
		{"ListTablesPagination", testListTables},
		{"UpdateTable", testUpdateTable},
		{"PutGetDeleteReturnValues", testPutGetDelete},
		{"UpdateReturnValues", testUpdateReturnValues},
		{"ConditionalFailure", testConditionalFailure},
		{"QuerySelectAndOrder", testQuerySelect},
		{"QueryScanOneMegabytePages", testMegabytePages},
		{"BatchLimits", testBatchLimits},
		{"TransactWrite", func(t *testing.T, c *dynamodb.Client) { testTransactWrite(t, c, target.Kind) }},
		{"TransactGet", testTransactGet},
		{"TimeToLive", testTTL},
		{"DescribeEndpoints", func(t *testing.T, c *dynamodb.Client) { testDescribeEndpoints(t, c, target.Kind) }},
		{"ItemSizeLimit", testItemSizeLimit},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.run(t, c)
		})
	}
}
