package testenv

import (
	"context"
	"testing"

	"github.com/dualread/dualread/internal/standin"
)

// EnvSpannerEmulatorBinary names the emulator_main binary to use instead of
// looking for the one gcloud installs.
const EnvSpannerEmulatorBinary = standin.EnvSpannerEmulatorBinary

// SpannerEmulatorBinary finds the official Cloud Spanner emulator: the path in
// $DUALREAD_SPANNER_EMULATOR, the file the Debian package installed (asked of
// dpkg, so a relocated SDK is found too), or the usual SDK locations. It
// returns "" when there is none.
func SpannerEmulatorBinary() string { return standin.SpannerEmulatorBinary() }

// StartSpannerEmulator starts a fresh Cloud Spanner emulator on a free
// loopback port, waits until it accepts TCP connections and returns its
// host:port (the value for SPANNER_EMULATOR_HOST). The process is killed, by
// PID, when t ends. The test is skipped when the emulator is not installed.
//
// Use one emulator per test package or suite, not one for a whole CI run:
// emulator 1.5.28's clock drifts ahead under sustained load and strong reads
// then wait longer and longer (cloud-spanner-emulator#277).
func StartSpannerEmulator(t testing.TB) (hostPort string) {
	t.Helper()
	spec, err := standin.OnFreePort(standin.SpannerEmulator)
	if err == standin.ErrNoSpannerEmulator {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	p, err := standin.Start(context.Background(), spec)
	if err != nil {
		t.Fatalf("start Spanner emulator: %v", err)
	}
	t.Cleanup(p.Stop)
	return p.Addr
}
