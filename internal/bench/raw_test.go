package bench

import (
	"context"
	"strings"
	"testing"
	"time"
)

// openBackend starts a fresh emulator with the adapter and the raw client on
// it, or skips the test when the emulator is not installed.
func openBackend(t *testing.T, backend string) *BackendSetup {
	t.Helper()
	if backend == BackendSpanner && spannerEmulatorBinary() == "" {
		t.Skip("Cloud Spanner emulator not installed")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	s, err := OpenBackend(ctx, backend, true, quietLog())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// A bounded raw run on each backend's emulator: every request is counted
// once under its operation, none fails (a read that finds no row for a
// preloaded key would be a RawRowMissing error), and the table it created
// is gone afterwards.
func TestRunRawCountsOps(t *testing.T) {
	for _, backend := range []string{BackendBigtable, BackendSpanner} {
		t.Run(backend, func(t *testing.T) {
			s := openBackend(t, backend)
			ctx := context.Background()
			cfg := Config{
				Concurrency: 4, Duration: time.Minute, // MaxOps ends the run
				Mix: map[string]int{OpGetItem: 2, OpPutItem: 1, OpQuery: 1}, Keys: 50, MaxOps: 100, Table: "bench_rawtest",
			}
			res, err := RunRaw(ctx, cfg, s.Raw, quietLog())
			if err != nil {
				t.Fatal(err)
			}
			if res.StoppedBy != StoppedMaxOps || res.Total.Requests != 100 {
				t.Fatalf("StoppedBy %q, %d requests; want %q, 100", res.StoppedBy, res.Total.Requests, StoppedMaxOps)
			}
			if res.Total.Errors != 0 {
				t.Fatalf("%d errors: %v %v", res.Total.Errors, res.Total.ErrorsByType, res.Total.ErrorSamples)
			}
			var sum int64
			for _, op := range RawOperations {
				st := res.PerOp[op]
				if st.Requests == 0 || st.P50 <= 0 || st.Max < st.P50 {
					t.Errorf("%s: %d requests, p50 %v, max %v", op, st.Requests, st.P50, st.Max)
				}
				sum += st.Requests
			}
			if sum != 100 {
				t.Errorf("per-operation requests add up to %d, want 100", sum)
			}
			if !strings.HasPrefix(res.Endpoint, s.Raw.Name()+"@127.0.0.1:") {
				t.Errorf("Endpoint = %q", res.Endpoint)
			}
			// The run dropped its table: creating it again creates it.
			created, err := s.Raw.CreateTable(ctx, Config{Table: "bench_rawtest"})
			if err != nil || !created {
				t.Fatalf("CreateTable after the run = %v, %v; want a new table", created, err)
			}
			// A missing row is an error of its own type, not a silent success.
			if err := s.Raw.Get(ctx, rawKey(999, 10)); errorType(err) != ErrTypeRawMissing {
				t.Errorf("Get of a key never written: %v (type %s), want %s", err, errorType(err), ErrTypeRawMissing)
			}
			if err := s.Raw.Query(ctx, rawPrefix(99), 10); errorType(err) != ErrTypeRawMissing {
				t.Errorf("Query of an empty partition: %v (type %s), want %s", err, errorType(err), ErrTypeRawMissing)
			}
			if err := s.Raw.DropTable(ctx, Config{Table: "bench_rawtest"}); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// Raw targets refuse operations they do not implement instead of counting
// them as errors.
func TestRunRawRefusesOtherOps(t *testing.T) {
	_, err := RunRaw(context.Background(), Config{Mix: map[string]int{OpGetItem: 1, OpScan: 1}}, nil, quietLog())
	if err == nil || !strings.Contains(err.Error(), "Scan") {
		t.Fatalf("err = %v, want a refusal naming Scan", err)
	}
}

// The raw client and the adapter on the same Bigtable emulator, compared in
// two interleaved rounds: both are counted and the overhead table relates
// the adapter to its raw baseline.
func TestCompareAdapterWithRaw(t *testing.T) {
	s := openBackend(t, BackendBigtable)
	targets := []Target{
		{Name: s.Raw.Name(), Raw: s.Raw},
		{Name: "adapter-bigtable", Handler: s.Adapter.Handler, Baseline: s.Raw.Name()},
	}
	cfg := Config{Concurrency: 2, Duration: time.Minute, Mix: map[string]int{OpGetItem: 1, OpPutItem: 1, OpQuery: 1},
		Keys: 30, MaxOps: 40, Rounds: 2, Table: "bench_cmpraw"}
	cmp, err := Compare(context.Background(), targets, cfg, quietLog())
	if err != nil {
		t.Fatal(err)
	}
	if len(cmp.Failures) != 0 || len(cmp.Results) != 2 {
		t.Fatalf("results %d, failures %v", len(cmp.Results), cmp.Failures)
	}
	for _, r := range cmp.Results {
		if r.Total.Requests != 80 || r.Total.Errors != 0 || r.Rounds != 2 {
			t.Errorf("%s: %d requests, %d errors (%v), %d rounds; want 80, 0, 2", r.Target, r.Total.Requests, r.Total.Errors, r.Total.ErrorSamples, r.Rounds)
		}
	}
	md := cmp.Markdown()
	if !strings.Contains(md, "Overhead of **adapter-bigtable** over **raw-bigtable**") {
		t.Errorf("no overhead table in:\n%s", md)
	}
	// Both tables are gone after the last round.
	if created, err := s.Raw.CreateTable(context.Background(), Config{Table: "bench_cmpraw"}); err != nil || !created {
		t.Errorf("raw table left behind (created again: %v, %v)", created, err)
	}
}
