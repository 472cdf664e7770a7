package bench

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"

	"github.com/dualread/dualread/adapter"
)

// Backends the in-process adapter of a comparison can run on (--backend).
const (
	BackendEmbedded = adapter.BackendEmbedded // in-process Bigtable emulator (bttest)
	BackendBigtable = adapter.BackendBigtable // a fresh Bigtable emulator process
	BackendSpanner  = adapter.BackendSpanner  // a fresh Cloud Spanner emulator process
)

// Names on the private emulator: any valid ids do, the emulator is ours.
const (
	benchBTProject  = "bench"
	benchBTInstance = "bench"
	benchSPDatabase = "projects/bench/instances/bench/databases/bench"
)

// BackendSetup is what OpenBackend started: the emulator, the adapter on it
// and, if asked for, the raw client on the same emulator.
type BackendSetup struct {
	Emulator *Emulator
	Adapter  *adapter.Adapter
	Raw      RawClient // nil unless asked for
	restore  func()
}

// OpenBackend starts a fresh emulator for backend (bigtable or spanner),
// points the process at it (BIGTABLE_EMULATOR_HOST / SPANNER_EMULATOR_HOST:
// adapter.Open reaches an emulator only through them), opens the adapter on
// it and, with raw, the raw client on the same emulator with the same
// client configuration. Close releases everything and restores the
// variable. On error nothing is left running.
func OpenBackend(ctx context.Context, backend string, raw bool, log *slog.Logger) (_ *BackendSetup, err error) {
	if log == nil {
		log = slog.Default()
	}
	var env string
	var launch func(context.Context, *slog.Logger) (*Emulator, error)
	switch backend {
	case BackendBigtable:
		env, launch = "BIGTABLE_EMULATOR_HOST", LaunchBigtableEmulator
	case BackendSpanner:
		env, launch = "SPANNER_EMULATOR_HOST", LaunchSpannerEmulator
	default:
		return nil, fmt.Errorf("bench: backend %q: want %s or %s", backend, BackendBigtable, BackendSpanner)
	}
	emu, err := launch(ctx, log)
	if err != nil {
		return nil, err
	}
	prev, had := os.LookupEnv(env)
	_ = os.Setenv(env, emu.Addr)
	s := &BackendSetup{Emulator: emu, restore: func() {
		if had {
			_ = os.Setenv(env, prev)
		} else {
			_ = os.Unsetenv(env)
		}
	}}
	defer func() {
		if err != nil {
			s.Close()
		}
	}()
	// The adapter's own per-request logs would dominate the run: warn only.
	quiet := slog.New(levelFilter{log.Handler(), slog.LevelWarn}).With("component", "adapter")
	s.Adapter, err = adapter.Open(ctx, adapter.Config{
		Backend: backend, BigtableProject: benchBTProject, BigtableInstance: benchBTInstance,
		SpannerDatabase: benchSPDatabase, Logger: quiet,
	})
	if err != nil {
		return nil, fmt.Errorf("bench: open adapter on the %s emulator: %w", backend, err)
	}
	log.Info("bench: in-process adapter", "backend", backend, "emulator", emu.Addr)
	if raw {
		switch backend {
		case BackendBigtable:
			s.Raw, err = NewRawBigtable(ctx, benchBTProject, benchBTInstance)
		case BackendSpanner:
			s.Raw, err = NewRawSpanner(ctx, benchSPDatabase)
		}
		if err != nil {
			s.Raw = nil
			return nil, err
		}
	}
	return s, nil
}

// Close releases the raw client, the adapter and the emulator, in that order.
func (s *BackendSetup) Close() {
	if s == nil {
		return
	}
	var errs []error
	if s.Raw != nil {
		errs = append(errs, s.Raw.Close())
	}
	if s.Adapter != nil {
		errs = append(errs, s.Adapter.Close())
	}
	s.Emulator.Stop()
	if s.restore != nil {
		s.restore()
	}
	_ = errors.Join(errs...) // closing clients of a killed emulator may fail; nothing to do about it
}

// levelFilter passes records at or above min to h.
type levelFilter struct {
	slog.Handler
	min slog.Level
}

func (f levelFilter) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= f.min && f.Handler.Enabled(ctx, l)
}

func (f levelFilter) WithAttrs(a []slog.Attr) slog.Handler {
	return levelFilter{f.Handler.WithAttrs(a), f.min}
}

func (f levelFilter) WithGroup(g string) slog.Handler {
	return levelFilter{f.Handler.WithGroup(g), f.min}
}
