package testenv

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// Needs names what a package's tests share, started once in TestMain: the
// suites that drive bin/dualread as child processes start the binary and
// the stand-ins together, since each takes seconds and they are
// independent.
type Needs struct {
	Binary, DynamoDB, Kinesis, Bigtable bool
	InfluxDB                            []string // databases to create; nil: no InfluxDB
}

// Shared is what TestMain started, or found through the DUALREAD_*
// variables (EnvDynamoDBEndpoint, EnvKinesisEndpoint,
// EnvBigtableEmulatorHost, EnvInfluxDBURL).
type Shared struct {
	Bin      string // the dualread binary
	DynamoDB string // DynamoDB Local URL
	Kinesis  string // kinesalite URL
	Bigtable string // Bigtable emulator host:port
	InfluxDB string // InfluxDB 1.8 base URL

	mu    sync.Mutex
	stops []func()
}

// StartShared starts what needs names, all at once, within ctx. On error
// whatever did start is stopped again.
func StartShared(ctx context.Context, needs Needs) (*Shared, error) {
	s := &Shared{DynamoDB: os.Getenv(EnvDynamoDBEndpoint), Kinesis: os.Getenv(EnvKinesisEndpoint),
		Bigtable: os.Getenv(EnvBigtableEmulatorHost), InfluxDB: strings.TrimRight(os.Getenv(EnvInfluxDBURL), "/")}
	var wg sync.WaitGroup
	var errMu sync.Mutex
	var errs []error
	run := func(f func() error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := f(); err != nil {
				errMu.Lock()
				errs = append(errs, err)
				errMu.Unlock()
			}
		}()
	}
	if needs.Binary {
		dir, err := os.MkdirTemp("", "dualread-bin-*")
		if err != nil {
			return nil, err
		}
		s.onStop(func() { os.RemoveAll(dir) })
		run(func() (err error) { s.Bin, err = BuildDualread(ctx, dir); return err })
	}
	if needs.DynamoDB && s.DynamoDB == "" {
		run(func() error {
			p, err := LaunchDynamoDBLocal(ctx)
			if err != nil {
				return err
			}
			s.onStop(p.Stop)
			s.DynamoDB = p.Endpoint
			return nil
		})
	}
	if needs.Kinesis && s.Kinesis == "" {
		run(func() error {
			p, err := LaunchKinesalite(ctx)
			if err != nil {
				return err
			}
			s.onStop(p.Stop)
			s.Kinesis = p.Addr
			return nil
		})
	}
	if needs.Bigtable && s.Bigtable == "" {
		run(func() error {
			p, err := LaunchBigtableEmulator(ctx)
			if err != nil {
				return err
			}
			s.onStop(p.Stop)
			s.Bigtable = p.Addr
			return nil
		})
	}
	if needs.InfluxDB != nil {
		run(func() error {
			if s.InfluxDB != "" {
				return CreateInfluxDatabases(ctx, s.InfluxDB, needs.InfluxDB...)
			}
			p, err := LaunchInfluxDB(ctx, needs.InfluxDB...)
			if err != nil {
				return err
			}
			s.onStop(p.Stop)
			s.InfluxDB = p.Addr
			return nil
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		s.Stop()
		return nil, err
	}
	return s, nil
}

func (s *Shared) onStop(f func()) {
	s.mu.Lock()
	s.stops = append(s.stops, f)
	s.mu.Unlock()
}

// Stop stops what StartShared started, last first.
func (s *Shared) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := len(s.stops) - 1; i >= 0; i-- {
		s.stops[i]()
	}
	s.stops = nil
}

// RunShared is a TestMain body: with -short it runs the tests (which skip
// through SharedFor); otherwise it starts needs (bounded by timeout), hands
// them to set, runs the tests and stops everything.
func RunShared(m *testing.M, pkg string, needs Needs, timeout time.Duration, set func(*Shared)) {
	flag.Parse() // testing.Short needs the flags
	if testing.Short() {
		os.Exit(m.Run())
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	s, err := StartShared(ctx, needs)
	cancel()
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: setup: %v\n", pkg, err)
		os.Exit(1)
	}
	set(s)
	code := m.Run()
	s.Stop()
	os.Exit(code)
}
