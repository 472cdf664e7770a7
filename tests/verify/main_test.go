package verify_test

import (
	"flag"
	"testing"
	"time"

	"github.com/dualread/dualread/internal/testenv"
)

var (
	flagItems = flag.Int("verify.items", 100_000, "items per side (the issue's proof: 100000)")
	flagWrite = flag.Int("verify.writers", 8, "concurrent BatchWriteItem loaders per side")
)

// influxDB is the database the CLI writes its points into.
const influxDB = "dualread"

// env is what the package's tests share: the dualread binary, DynamoDB
// Local (the source) and InfluxDB. The target, an adapter, is started by
// the test itself (testenv.StartAdapter, on DUALREAD_TEST_BACKEND).
type env struct {
	bin    string
	ddb    string
	influx string
}

// shared is set once by TestMain before any test runs and only read after.
var shared *env

func TestMain(m *testing.M) {
	testenv.RunShared(m, "tests/verify", testenv.Needs{Binary: true, DynamoDB: true, InfluxDB: []string{influxDB}}, 8*time.Minute, func(s *testenv.Shared) {
		shared = &env{bin: s.Bin, ddb: s.DynamoDB, influx: s.InfluxDB}
	})
}

func sharedEnv(t *testing.T) *env {
	t.Helper()
	if testing.Short() || shared == nil {
		t.Skip("needs the dualread binary, DynamoDB Local and InfluxDB")
	}
	return shared
}
