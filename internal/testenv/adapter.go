package testenv

import (
	"context"
	"net"
	"net/http"
	"os"
	"testing"

	dradapter "github.com/dualread/dualread/adapter"
)

func init() { adapterStarter = StartAdapter }

// EnvTestBackend selects the backend of the adapter the suites start:
// embedded (default: the in-process Bigtable emulator), bigtable (gcloud's
// Bigtable emulator in its own process) or spanner (the Cloud Spanner
// emulator). `make test` runs the suites under tests/ once per backend.
const EnvTestBackend = "DUALREAD_TEST_BACKEND"

// StartAdapter runs an adapter in-process on the backend EnvTestBackend
// names, listening on a free loopback port, and stops it when t ends. Call it
// from a test that is not parallel (it may set emulator variables).
func StartAdapter(t testing.TB) string {
	t.Helper()
	ctx := context.Background()
	cfg := dradapter.Config{Backend: dradapter.BackendEmbedded}
	switch b := os.Getenv(EnvTestBackend); b {
	case "", dradapter.BackendEmbedded:
	case dradapter.BackendBigtable:
		t.Setenv("BIGTABLE_EMULATOR_HOST", StartBigtableEmulator(t))
		cfg = dradapter.Config{Backend: b, BigtableProject: "test", BigtableInstance: "dualread"}
	case dradapter.BackendSpanner:
		t.Setenv("SPANNER_EMULATOR_HOST", StartSpannerEmulator(t))
		cfg = dradapter.Config{Backend: b, SpannerDatabase: "projects/test/instances/dualread/databases/dualread"}
	default:
		t.Fatalf("%s=%q: want embedded, bigtable or spanner", EnvTestBackend, b)
	}
	a, err := dradapter.Open(ctx, cfg)
	if err != nil {
		t.Fatalf("start adapter on %s: %v", cfg.Backend, err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	srv := &http.Server{Handler: a.Handler}
	go srv.Serve(ln)
	t.Cleanup(func() {
		srv.Close()
		a.Close()
	})
	t.Logf("adapter on %s backend at %s", cfg.Backend, ln.Addr())
	return "http://" + ln.Addr().String()
}
