package bench

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/spf13/pflag"
)

// DynamoDBLocalAuto as the value of --compare-dynamodb-local starts a
// private DynamoDB Local for the comparison (LaunchDynamoDBLocal).
const DynamoDBLocalAuto = "auto"

// Flags are the command-line options of `dualread bench`, kept here so the
// flag names, defaults and BENCHMARKS.md cannot drift apart. cmd/dualread
// registers them on its cobra command and turns them into a Config and
// targets.
type Flags struct {
	Endpoint    string
	Concurrency int
	Duration    time.Duration
	Warmup      time.Duration
	Mix         string
	ItemSize    int
	Keys        int
	Table       string
	Keep        bool
	MaxOps      int64
	Seed        uint64
	Rounds      int
	// CompareBare adds the bare handler (the ceiling) to a comparison.
	CompareBare bool
	// CompareDynamoDBLocal adds DynamoDB Local, the reference: "" leaves it
	// out, DynamoDBLocalAuto starts one, anything else is its endpoint.
	CompareDynamoDBLocal string
	// JSON, if set, is a file the JSON report is written to as well.
	JSON string
	// Backend is the in-process adapter's backend in a comparison: "" or
	// BackendEmbedded for the caller's handler, BackendBigtable or
	// BackendSpanner for an adapter CompareTargets opens on a fresh emulator.
	Backend string
	// CompareRaw adds the raw backend client on the adapter's emulator
	// (needs Backend bigtable or spanner).
	CompareRaw bool
	// CompareShadow replaces the system under test with two in-process
	// adapters on the embedded backend, shadow reads off and at sample 1.0
	// into an in-process audit service (OpenShadow): "" leaves it out,
	// DynamoDBLocalAuto starts the shadow's DynamoDB Local, anything else is
	// its endpoint.
	CompareShadow string
}

// Register adds the flags to fs with their defaults.
func (f *Flags) Register(fs *pflag.FlagSet) {
	fs.StringVar(&f.Endpoint, "endpoint", "", "endpoint under test, http://127.0.0.1:PORT (loopback only); empty: an in-process adapter with the embedded backend")
	fs.IntVar(&f.Concurrency, "concurrency", 16, "workers, one request in flight each")
	fs.DurationVar(&f.Duration, "duration", 10*time.Second, "measured phase per target")
	fs.DurationVar(&f.Warmup, "warmup", 3*time.Second, "unmeasured phase before it")
	fs.StringVar(&f.Mix, "mix", DefaultMix, "operation weights; operations: GetItem, PutItem, UpdateItem, Query, Scan, BatchGetItem")
	fs.IntVar(&f.ItemSize, "item-size", 256, "bytes of payload per item")
	fs.IntVar(&f.Keys, "keys", 1000, "key space size, preloaded before the run")
	fs.StringVar(&f.Table, "table", "bench_load", "table, created if missing and then deleted unless --keep")
	fs.BoolVar(&f.Keep, "keep", false, "keep a table the run created")
	fs.Int64Var(&f.MaxOps, "max-ops", DefaultMaxOps, "hard bound on requests per target (warmup included)")
	fs.Uint64Var(&f.Seed, "seed", 1, "seed of the key and operation choice")
	fs.IntVar(&f.Rounds, "rounds", 1, "compare: run the targets in turn this many times (warmup+duration each) and merge, spreading background load evenly")
	fs.BoolVar(&f.CompareBare, "compare-bare", false, "also run against the bare handler: the client+HTTP ceiling")
	fs.StringVar(&f.CompareDynamoDBLocal, "compare-dynamodb-local", "", `also run against DynamoDB Local, the reference: "auto" (the default when the flag is given alone) starts one with deploy/local/standins.sh, or give its endpoint`)
	fs.Lookup("compare-dynamodb-local").NoOptDefVal = DynamoDBLocalAuto
	fs.StringVar(&f.JSON, "json", "", "also write the report as JSON to this file")
	fs.StringVar(&f.Backend, "backend", BackendEmbedded, "compare: backend of the in-process adapter: embedded, or bigtable / spanner on a fresh emulator started for the run")
	fs.StringVar(&f.CompareShadow, "compare-shadow", "", `compare: instead of one in-process adapter, run two on the embedded backend, shadow reads off and at 100 % (to DynamoDB Local, into an in-process audit), interleaved: "auto" (the default when the flag is given alone) starts the shadow's DynamoDB Local, or give its endpoint`)
	fs.Lookup("compare-shadow").NoOptDefVal = DynamoDBLocalAuto
	fs.BoolVar(&f.CompareRaw, "compare-raw", false, "compare: also run the same GetItem/PutItem/Query directly with the Bigtable or Spanner client on the adapter's emulator (needs --backend bigtable|spanner)")
}

// Config turns the flags into a run configuration; the endpoint is the
// flag's (Compare replaces it per target).
func (f *Flags) Config() (Config, error) {
	mix, err := ParseMix(f.Mix)
	if err != nil {
		return Config{}, err
	}
	return Config{
		Endpoint: f.Endpoint, Concurrency: f.Concurrency, Duration: f.Duration, Warmup: f.Warmup,
		Mix: mix, ItemSize: f.ItemSize, Keys: f.Keys, Table: f.Table, Keep: f.Keep,
		MaxOps: f.MaxOps, Seed: f.Seed, Rounds: f.Rounds, adapterBackend: f.Backend,
	}, nil
}

// CompareTargets lists the targets the flags ask for, in the order
// bare, dynamodb-local (the reference), then the system under test:
// --endpoint if given, else underTest (an in-process adapter's handler; nil
// leaves it out). With --backend bigtable|spanner the system under test is
// instead an adapter this call opens on a fresh emulator (underTest is then
// unused), preceded with --compare-raw by the raw client on the same
// emulator. With --compare-shadow the system under test is instead the
// pair of adapters OpenShadow opens (shadowing off, then at 100 %; underTest
// is unused). stop releases what it started (DynamoDB Local, the emulator and
// the adapter on it) and must be called even on error.
func (f *Flags) CompareTargets(ctx context.Context, underTest http.Handler, log *slog.Logger) (targets []Target, stop func(), err error) {
	var stops []func()
	stop = func() {
		for i := len(stops) - 1; i >= 0; i-- {
			stops[i]()
		}
	}
	backend := f.Backend
	if backend == "" {
		backend = BackendEmbedded
	}
	switch {
	case backend != BackendEmbedded && backend != BackendBigtable && backend != BackendSpanner:
		return nil, stop, fmt.Errorf("bench compare: --backend %q: want %s, %s or %s", f.Backend, BackendEmbedded, BackendBigtable, BackendSpanner)
	case backend != BackendEmbedded && f.Endpoint != "":
		return nil, stop, fmt.Errorf("bench compare: --backend %s and --endpoint exclude each other", backend)
	case f.CompareShadow != "" && (backend != BackendEmbedded || f.Endpoint != ""):
		return nil, stop, fmt.Errorf("bench compare: --compare-shadow runs its own in-process adapters on the embedded backend: it excludes --endpoint and --backend %s", backend)
	case f.CompareRaw && backend == BackendEmbedded:
		return nil, stop, fmt.Errorf("bench compare: --compare-raw needs --backend %s or %s (the raw client must reach the adapter's emulator)", BackendBigtable, BackendSpanner)
	}
	if f.CompareBare {
		targets = append(targets, Target{Name: "bare", Handler: NewBareHandler(BareOptions{ItemSize: f.ItemSize})})
	}
	switch f.CompareDynamoDBLocal {
	case "":
	case DynamoDBLocalAuto:
		p, err := LaunchDynamoDBLocal(ctx, log)
		if err != nil {
			return nil, stop, err
		}
		stops = append(stops, p.Stop)
		targets = append(targets, Target{Name: "dynamodb-local", Endpoint: p.Endpoint, Reference: true})
	default:
		if err := checkLoopback(f.CompareDynamoDBLocal); err != nil {
			return nil, stop, err
		}
		targets = append(targets, Target{Name: "dynamodb-local", Endpoint: f.CompareDynamoDBLocal, Reference: true})
	}
	switch {
	case f.CompareShadow != "":
		cfg, err := f.Config()
		if err != nil {
			return nil, stop, err
		}
		s, err := OpenShadow(ctx, f.CompareShadow, cfg, log)
		if err != nil {
			return nil, stop, err
		}
		stops = append(stops, s.Close)
		targets = append(targets, s.Targets()...)
	case backend != BackendEmbedded:
		s, err := OpenBackend(ctx, backend, f.CompareRaw, log)
		if err != nil {
			return nil, stop, err
		}
		stops = append(stops, s.Close)
		under := Target{Name: "adapter-" + backend, Handler: s.Adapter.Handler}
		if s.Raw != nil {
			targets = append(targets, Target{Name: s.Raw.Name(), Raw: s.Raw})
			under.Baseline = s.Raw.Name()
		}
		targets = append(targets, under)
	case f.Endpoint != "":
		targets = append(targets, Target{Name: "endpoint", Endpoint: f.Endpoint})
	case underTest != nil:
		targets = append(targets, Target{Name: "adapter", Handler: underTest})
	}
	if len(targets) == 0 {
		return nil, stop, fmt.Errorf("bench compare: no target (give --endpoint, --compare-bare or --compare-dynamodb-local)")
	}
	return targets, stop, nil
}
