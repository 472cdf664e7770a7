package replication

import (
	"flag"
	"os"
	"testing"
	"time"

	"github.com/dualread/dualread/internal/testenv"
)

var (
	flagWrites = flag.Int("replication.writes", 50000, "random writes the streamproc SIGKILL test makes to DynamoDB Local (the issue asks for at least 50000)")
	flagKeys   = flag.Int("replication.keys", 100, "size of the key space the writes go to")
	flagSmall  = flag.Int("replication.small", 5000, "items of the smaller backfill table")
	flagLarge  = flag.Int("replication.large", 200000, "items of the larger backfill table, killed and resumed (the issue asks for at least 200000)")
)

// Bigtable coordinates every process uses on the shared emulator.
const (
	btProject  = "p"
	btInstance = "i"
)

// influxDB is the InfluxDB database the streamproc children write their
// metrics to (bucket influxDB/autogen).
const influxDB = "replication"

// env is what every test of the package shares: one binary, one DynamoDB
// Local, one kinesalite, one Bigtable emulator and one InfluxDB (tables and
// streams are named per test). Starting them once keeps the package within
// its time budget on two cores.
type env struct {
	bin      string // dualread binary
	ddb      string // DynamoDB Local endpoint
	kinesis  string // kinesalite endpoint
	bigtable string // host:port of the Bigtable emulator
	influx   string // InfluxDB 1.8 base URL, holding the database influxDB
}

// shared is set once by TestMain before any test runs and only read after.
var shared *env

func TestMain(m *testing.M) {
	testenv.RunShared(m, "tests/replication", testenv.Needs{Binary: true, DynamoDB: true, Kinesis: true, Bigtable: true, InfluxDB: []string{influxDB}}, 5*time.Minute, func(s *testenv.Shared) {
		shared = &env{bin: s.Bin, ddb: s.DynamoDB, kinesis: s.Kinesis, bigtable: s.Bigtable, influx: s.InfluxDB}
		// The in-process adapter that reads the target back finds the
		// emulator the same way the children do.
		os.Setenv("BIGTABLE_EMULATOR_HOST", s.Bigtable)
	})
}

func sharedEnv(t *testing.T) *env {
	t.Helper()
	if testing.Short() || shared == nil {
		t.Skip("needs the dualread binary, DynamoDB Local, kinesalite, the Bigtable emulator and InfluxDB")
	}
	return shared
}

// group runs functions concurrently and keeps the first error (errgroup's
// job, without making golang.org/x/sync a direct dependency for a test).
