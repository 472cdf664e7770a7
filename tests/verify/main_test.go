package verify_test

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sync"
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
	flag.Parse()
	if testing.Short() {
		os.Exit(m.Run())
	}
	e, stop, err := setup()
	if err != nil {
		fmt.Fprintln(os.Stderr, "tests/verify: setup:", err)
		stop()
		os.Exit(1)
	}
	shared = e
	code := m.Run()
	stop()
	os.Exit(code)
}

// setup builds the binary and starts DynamoDB Local and InfluxDB at once
// (or uses the ones DUALREAD_DYNAMODB_ENDPOINT / DUALREAD_INFLUXDB_URL
// name); stop undoes whatever was started.
func setup() (*env, func(), error) {
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
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
	dir, err := os.MkdirTemp("", "verify-bin-*")
	if err != nil {
		return nil, stop, err
	}
	onStop(func() { os.RemoveAll(dir) })
	e := &env{bin: filepath.Join(dir, "dualread"), ddb: os.Getenv(testenv.EnvDynamoDBEndpoint)}
	errs := make(chan error, 3)
	var wg sync.WaitGroup
	run := func(f func() error) {
		wg.Add(1)
		go func() { defer wg.Done(); errs <- f() }()
	}
	run(func() error {
		_, err := testenv.BuildDualread(ctx, filepath.Dir(e.bin))
		return err
	})
	if e.ddb == "" {
		run(func() error {
			p, err := testenv.LaunchDynamoDBLocal(ctx)
			if err != nil {
				return err
			}
			onStop(p.Stop)
			e.ddb = p.Endpoint
			return nil
		})
	}
	run(func() error {
		if u := os.Getenv(testenv.EnvInfluxDBURL); u != "" {
			e.influx = u
			return testenv.CreateInfluxDatabases(ctx, u, influxDB)
		}
		s, err := testenv.LaunchInfluxDB(ctx, influxDB)
		if err != nil {
			return err
		}
		onStop(s.Stop)
		e.influx = s.Addr
		return nil
	})
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			return nil, stop, err
		}
	}
	return e, stop, nil
}

func sharedEnv(t *testing.T) *env {
	t.Helper()
	if testing.Short() || shared == nil {
		t.Skip("needs the dualread binary, DynamoDB Local and InfluxDB")
	}
	return shared
}
