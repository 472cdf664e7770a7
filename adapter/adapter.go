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
	"github.com/dualread/dualread/adapter/server"
	"github.com/dualread/dualread/adapter/store"
	"github.com/dualread/dualread/adapter/store/btstore"
)

// Backend names where the adapter keeps its data.
const (
	BackendEmbedded = "embedded" // in-process Bigtable emulator; data lives as long as the process
	BackendBigtable = "bigtable" // Cloud Bigtable, or its emulator via BIGTABLE_EMULATOR_HOST
)

// Config selects the backend and the protocol options.
type Config struct {
	Backend          string
	BigtableProject  string
	BigtableInstance string
	Region           string
	Server           server.Options
	Logger           *slog.Logger
}

// Adapter is a running adapter's parts.
type Adapter struct {
	Store    store.Store
	Executor *dynamo.Executor
	Handler  http.Handler

	stopSweep context.CancelFunc
	swept     chan struct{}
}

// sweeper is a store with housekeeping to run periodically (btstore: finish
// or clear transaction records whose owner died and no reader will meet).
type sweeper interface {
	Sweep(ctx context.Context) (int, error)
}

// sweepEvery is how often the adapter sweeps its store.
const sweepEvery = time.Minute

// Open connects the backend and builds the handler.
func Open(ctx context.Context, cfg Config) (*Adapter, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	var (
		st  store.Store
		err error
	)
	switch cfg.Backend {
	case "", BackendEmbedded:
		st, err = btstore.NewEmbedded(ctx)
	case BackendBigtable:
		if cfg.BigtableProject == "" || cfg.BigtableInstance == "" {
			return nil, fmt.Errorf("backend bigtable needs --bigtable-project and --bigtable-instance")
		}
		st, err = btstore.Open(ctx, cfg.BigtableProject, cfg.BigtableInstance)
	default:
		return nil, fmt.Errorf("unknown backend %q (want %s or %s)", cfg.Backend, BackendEmbedded, BackendBigtable)
	}
	if err != nil {
		return nil, fmt.Errorf("open %s backend: %w", cfg.Backend, err)
	}
	exec, err := dynamo.New(ctx, st, dynamo.Options{Region: cfg.Region, Logger: cfg.Logger})
	if err != nil {
		st.Close()
		return nil, err
	}
	so := cfg.Server
	if so.Logger == nil {
		so.Logger = cfg.Logger
	}
	if so.Region == "" {
		so.Region = cfg.Region
	}
	a := &Adapter{Store: st, Executor: exec, Handler: server.New(exec, so), swept: make(chan struct{})}
	sctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	a.stopSweep = cancel
	go a.sweep(sctx, cfg.Logger)
	return a, nil
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

// Close stops housekeeping and releases the backend.
func (a *Adapter) Close() error {
	a.stopSweep()
	<-a.swept
	return a.Store.Close()
}
