// Package adapter assembles the DynamoDB-compatible server: a store backend,
// the executor (package dynamo) and the protocol handler (package server).
// cmd/dualread and the tests build the adapter the same way, through Open.
package adapter

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/dualread/dualread/adapter/dynamo"
	"github.com/dualread/dualread/adapter/modes"
	"github.com/dualread/dualread/adapter/server"
	"github.com/dualread/dualread/adapter/shadow"
	"github.com/dualread/dualread/adapter/store"
	"github.com/dualread/dualread/adapter/store/btstore"
	"github.com/dualread/dualread/adapter/store/route"
	"github.com/dualread/dualread/adapter/store/spstore"
	"github.com/dualread/dualread/audit/access"
)

// Backend names where the adapter keeps its data.
const (
	BackendEmbedded = "embedded" // in-process Bigtable emulator; data lives as long as the process
	BackendBigtable = "bigtable" // Cloud Bigtable, or its emulator via BIGTABLE_EMULATOR_HOST
	BackendSpanner  = "spanner"  // Cloud Spanner, or its emulator via SPANNER_EMULATOR_HOST
)

// Config selects the backends and the protocol options.
type Config struct {
	// Backend is the home backend: tables no route matches live there, and so
	// does the catalog of all tables. Default: embedded.
	Backend          string
	BigtableProject  string
	BigtableInstance string
	// SpannerDatabase is projects/P/instances/I/databases/D.
	SpannerDatabase string
	// Routes place tables on other backends ("bigtable" or "spanner"; with an
	// embedded home, "bigtable" is the embedded emulator).
	Routes []Route
	Region string
	Server server.Options
	Logger *slog.Logger
	// Shadow, if set, re-sends sampled reads to DynamoDB and hands both
	// answers to Shadow.Sink.
	Shadow *ShadowConfig
	// Modes, if set, applies per-table migration modes (reads served or
	// forwarded, shadow sampling, writes applied, forwarded or refused);
	// DynamoDB is where forwarded requests go.
	Modes    *modes.Set
	DynamoDB modes.Forwarder
	// Access, if set, counts requests per calling service, table and
	// operation, and refused writes (the access-pattern audit).
	Access *access.Counter
}

// ShadowConfig configures shadow reads.
type ShadowConfig struct {
	Caller shadow.Caller
	Sink   shadow.Sink
	Limits shadow.Config
}

// Adapter is a running adapter's parts.
type Adapter struct {
	Store    store.Store
	Executor *dynamo.Executor
	Handler  http.Handler

	routing   *routing
	Shadower  *shadow.Shadower // nil without shadow reads
	Modes     *modes.Set       // nil without migration modes
	stopSweep context.CancelFunc
	swept     chan struct{}
}

// BackendFor names the backend a table created now would be placed on.
func (a *Adapter) BackendFor(table string) string {
	if a.routing == nil {
		return BackendEmbedded
	}
	return a.routing.backendFor(table)
}

// sweeper is a store with housekeeping to run periodically (btstore: finish
// or clear transaction records whose owner died and no reader will meet).
type sweeper interface {
	Sweep(ctx context.Context) (int, error)
}

// sweepEvery is how often the adapter sweeps its store.
const sweepEvery = time.Minute

// Open connects the backends and builds the handler.
func Open(ctx context.Context, cfg Config) (*Adapter, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	st, rt, placement, err := openStores(ctx, cfg)
	if err != nil {
		return nil, err
	}
	exec, err := dynamo.New(ctx, st, dynamo.Options{Region: cfg.Region, Logger: cfg.Logger, Placement: placement})
	if err != nil {
		st.Close()
		return nil, err
	}
	a := &Adapter{Store: st, Executor: exec, routing: rt, Modes: cfg.Modes, swept: make(chan struct{})}
	a.Handler = a.handler(cfg)
	sctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	a.stopSweep = cancel
	go a.sweep(sctx, cfg.Logger)
	return a, nil
}

// openStores connects every backend the routing uses. With more than one,
// the store is a route.Router and placement names a new table's backend.
func openStores(ctx context.Context, cfg Config) (store.Store, *routing, func(string) string, error) {
	home := cfg.Backend
	switch home {
	case "", BackendEmbedded:
		home = BackendBigtable
	case BackendBigtable, BackendSpanner:
	default:
		return nil, nil, nil, fmt.Errorf("unknown backend %q (want %s, %s or %s)", cfg.Backend, BackendEmbedded, BackendBigtable, BackendSpanner)
	}
	for _, r := range cfg.Routes {
		if r.Backend != BackendBigtable && r.Backend != BackendSpanner {
			return nil, nil, nil, fmt.Errorf("table pattern %q: unknown backend %q (want %s or %s)", r.Pattern, r.Backend, BackendBigtable, BackendSpanner)
		}
	}
	rt, err := newRouting(home, cfg.Routes)
	if err != nil {
		return nil, nil, nil, err
	}
	stores := map[string]store.Store{}
	closeAll := func() {
		for _, st := range stores {
			st.Close()
		}
	}
	for _, name := range rt.backends() {
		st, err := openStore(ctx, name, cfg)
		if err != nil {
			closeAll()
			return nil, nil, nil, fmt.Errorf("open %s backend: %w", name, err)
		}
		stores[name] = st
	}
	if len(stores) == 1 {
		return stores[home], rt, nil, nil
	}
	r, err := route.New(home, stores)
	if err != nil {
		closeAll()
		return nil, nil, nil, err
	}
	placement := func(table string) string {
		if b := rt.backendFor(table); b != home {
			return route.Prefix(b)
		}
		return ""
	}
	return r, rt, placement, nil
}

// handler builds the request path: protocol handler → migration modes →
// executor, with the access audit and shadow reads observing answers.
func (a *Adapter) handler(cfg Config) http.Handler {
	so := cfg.Server
	if so.Logger == nil {
		so.Logger = cfg.Logger
	}
	if so.Region == "" {
		so.Region = cfg.Region
	}
	var front server.Executor = a.Executor
	if cfg.Modes != nil {
		me := &modes.Executor{Local: a.Executor, DynamoDB: cfg.DynamoDB, Modes: cfg.Modes}
		if cfg.Access != nil {
			me.Rejected = func(ctx context.Context, op string, tables []string) {
				cfg.Access.Rejected(server.CallerFrom(ctx).Name(), op, tables)
			}
		}
		front = me
	}
	if cfg.Access != nil {
		next := so.Served
		so.Served = func(ctx context.Context, s server.Served) {
			if next != nil {
				next(ctx, s)
			}
			cfg.Access.Served(s.Caller.Name(), s.Op, modes.TablesOf(s.Op, s.Request))
		}
	}
	if sc := cfg.Shadow; sc != nil {
		limits := sc.Limits
		if limits.Sample == nil && cfg.Modes != nil {
			limits.Sample = func(table string) float64 { return cfg.Modes.ShadowPlan(table).Sample }
		}
		if limits.Store == nil {
			// serve: dynamodb with shadow: spanner|bigtable reads the store
			// directly, past the modes that forward this table's reads.
			limits.Store = shadow.ExecutorCaller{Exec: a.Executor}
		}
		a.Shadower = shadow.New(limits, sc.Caller, sc.Sink, cfg.Logger)
		so.Served = a.offerShadow(so.Served)
	}
	return server.New(front, so)
}

// openStore connects one backend.
func openStore(ctx context.Context, name string, cfg Config) (store.Store, error) {
	switch {
	case name == BackendBigtable && (cfg.Backend == "" || cfg.Backend == BackendEmbedded):
		return btstore.NewEmbedded(ctx)
	case name == BackendBigtable:
		if cfg.BigtableProject == "" || cfg.BigtableInstance == "" {
			return nil, fmt.Errorf("bigtable needs --bigtable-project and --bigtable-instance")
		}
		return btstore.Open(ctx, cfg.BigtableProject, cfg.BigtableInstance)
	default:
		if cfg.SpannerDatabase == "" {
			return nil, fmt.Errorf("spanner needs --spanner-database projects/P/instances/I/databases/D")
		}
		return spstore.Open(ctx, cfg.SpannerDatabase)
	}
}

func (a *Adapter) sweep(ctx context.Context, log *slog.Logger) {
	defer close(a.swept)
	sw, ok := a.Store.(sweeper)
	if !ok {
		return
	}
	t := time.NewTicker(sweepEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if n, err := sw.Sweep(ctx); err != nil && ctx.Err() == nil {
				log.Warn("store sweep", "err", err)
			} else if n > 0 {
				log.Info("store sweep finished abandoned transactions", "count", n)
			}
		}
	}
}

// offerShadow chains the shadow reader onto the protocol handler's Served hook.
func (a *Adapter) offerShadow(next func(context.Context, server.Served)) func(context.Context, server.Served) {
	return func(ctx context.Context, s server.Served) {
		if next != nil {
			next(ctx, s)
		}
		if !shadow.Ops[s.Op] {
			return
		}
		table := shadow.TableOf(s.Op, s.Request)
		rec := shadow.Record{
			ID: s.RequestID, Time: time.Now(), Caller: s.Caller.Name(), Table: table, Op: s.Op, Request: s.Request,
			Primary: shadow.Side{Backend: a.BackendFor(table), Status: s.Status, Body: s.Response, Latency: s.Elapsed},
		}
		if a.Modes != nil && a.Modes.ShadowPlan(table).Primary == modes.SideDynamoDB {
			// DynamoDB served (forwarded); the store is the shadow.
			rec.Target, rec.Shadow.Backend = shadow.TargetStore, rec.Primary.Backend
			rec.Primary.Backend = "dynamodb"
		}
		a.Shadower.Offer(rec)
	}
}

// Close stops housekeeping and shadow reads and releases the backend.
func (a *Adapter) Close() error {
	if a.Shadower != nil {
		a.Shadower.Close()
	}
	if a.stopSweep != nil { // nil for an Adapter not made by Open
		a.stopSweep()
		<-a.swept
	}
	return a.Store.Close()
}
