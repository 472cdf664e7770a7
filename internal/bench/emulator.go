package bench

import (
	"context"
	"log/slog"

	"github.com/dualread/dualread/internal/standin"
)

// Emulator is a Bigtable or Spanner emulator process started for one
// comparison. A fresh one per measurement: the Spanner emulator's clock
// drifts ahead under sustained load and its strong reads get slower and
// slower on a long-lived instance (STANDINS.md).
type Emulator struct {
	Addr string // host:port on 127.0.0.1, the value for *_EMULATOR_HOST
	proc *standin.Process
}

// EnvSpannerEmulatorBinary names the emulator_main to use instead of the one
// the Debian package installed (as in internal/testenv).
const EnvSpannerEmulatorBinary = standin.EnvSpannerEmulatorBinary

// LaunchBigtableEmulator runs `deploy/local/standins.sh bigtable PORT` (the
// Cloud SDK's cbtemulator, or the same emulator built from
// cloud.google.com/go/bigtable) on a free loopback port.
func LaunchBigtableEmulator(ctx context.Context, log *slog.Logger) (*Emulator, error) {
	return launchEmulator(ctx, log, standin.BigtableEmulator)
}

// LaunchSpannerEmulator runs the official Cloud Spanner emulator
// (emulator_main) on a free loopback port.
func LaunchSpannerEmulator(ctx context.Context, log *slog.Logger) (*Emulator, error) {
	return launchEmulator(ctx, log, standin.SpannerEmulator)
}

// spannerEmulatorBinary finds emulator_main ("" when not installed).
func spannerEmulatorBinary() string { return standin.SpannerEmulatorBinary() }

// launchEmulator starts the emulator mk describes on a free port, in its
// own process group, and waits until it accepts TCP connections.
func launchEmulator(ctx context.Context, log *slog.Logger, mk func(int) (standin.Spec, error)) (*Emulator, error) {
	if log == nil {
		log = slog.Default()
	}
	spec, err := standin.OnFreePort(mk)
	if err != nil {
		return nil, err
	}
	log.Info("bench: starting "+spec.Name, "addr", spec.Addr)
	p, err := standin.Start(ctx, spec)
	if err != nil {
		return nil, err
	}
	return &Emulator{Addr: p.Addr, proc: p}, nil
}

// Stop kills the emulator's process group and waits for it. Safe on nil.
func (e *Emulator) Stop() {
	if e == nil {
		return
	}
	e.proc.Stop()
}
