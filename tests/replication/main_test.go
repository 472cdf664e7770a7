package replication

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
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
	flag.Parse()
	if testing.Short() {
		os.Exit(m.Run())
	}
	e, stop, err := setup()
	if err != nil {
		fmt.Fprintln(os.Stderr, "replication: setup:", err)
		stop()
		os.Exit(1)
	}
	shared = e
	code := m.Run()
	stop()
	os.Exit(code)
}

// setup builds the binary and starts the stand-ins (or uses the ones the
// DUALREAD_* variables name), all at once: they are independent and each
// takes seconds. stop undoes whatever was started.
func setup() (*env, func(), error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var mu sync.Mutex
	var stops []func()
	stop := func() {
		mu.Lock()
		defer mu.Unlock()
		for i := len(stops) - 1; i >= 0; i-- {
			stops[i]()
		}
	}
	onStop := func(f func()) {
		mu.Lock()
		stops = append(stops, f)
		mu.Unlock()
	}
	dir, err := os.MkdirTemp("", "replication-bin-*")
	if err != nil {
		return nil, stop, err
	}
	onStop(func() { os.RemoveAll(dir) })
	e := &env{bin: filepath.Join(dir, "dualread"), ddb: os.Getenv(testenv.EnvDynamoDBEndpoint),
		kinesis: os.Getenv(testenv.EnvKinesisEndpoint), bigtable: os.Getenv(testenv.EnvBigtableEmulatorHost),
		influx: strings.TrimRight(os.Getenv(testenv.EnvInfluxDBURL), "/")}
	var g group
	g.Go(func() error {
		_, err := testenv.BuildDualread(ctx, filepath.Dir(e.bin))
		return err
	})
	if e.ddb == "" {
		g.Go(func() error {
			p, err := testenv.LaunchDynamoDBLocal(ctx)
			if err != nil {
				return err
			}
			onStop(p.Stop)
			e.ddb = p.Endpoint
			return nil
		})
	}
	if e.kinesis == "" {
		g.Go(func() error {
			s, err := testenv.LaunchKinesalite(ctx)
			if err != nil {
				return err
			}
			onStop(s.Stop)
			e.kinesis = s.Addr
			return nil
		})
	}
	if e.bigtable == "" {
		g.Go(func() error {
			s, err := testenv.LaunchBigtableEmulator(ctx)
			if err != nil {
				return err
			}
			onStop(s.Stop)
			e.bigtable = s.Addr
			return nil
		})
	}
	if e.influx == "" {
		g.Go(func() error {
			s, err := testenv.LaunchInfluxDB(ctx, influxDB)
			if err != nil {
				return err
			}
			onStop(s.Stop)
			e.influx = s.Addr
			return nil
		})
	} else {
		g.Go(func() error { return testenv.CreateInfluxDatabases(ctx, e.influx, influxDB) })
	}
	if err := g.Wait(); err != nil {
		return nil, stop, err
	}
	// The in-process adapter that reads the target back finds the emulator
	// the same way the children do.
	os.Setenv("BIGTABLE_EMULATOR_HOST", e.bigtable)
	return e, stop, nil
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
type group struct {
	wg   sync.WaitGroup
	once sync.Once
	err  error
}

func (g *group) Go(f func() error) {
	g.wg.Add(1)
	go func() {
		defer g.wg.Done()
		if err := f(); err != nil {
			g.once.Do(func() { g.err = err })
		}
	}()
}

func (g *group) Wait() error {
	g.wg.Wait()
	return g.err
}
