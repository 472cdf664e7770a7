package testenv

import (
	"context"
	"net"
	"net/http"
	"testing"

	dradapter "github.com/dualread/dualread/adapter"
)

func init() { adapterStarter = StartAdapter }

// StartAdapter runs an adapter in-process on the embedded Bigtable emulator,
// listening on a free loopback port, and stops it when t ends.
func StartAdapter(t testing.TB) string {
	t.Helper()
	ctx := context.Background()
	a, err := dradapter.Open(ctx, dradapter.Config{Backend: dradapter.BackendEmbedded})
	if err != nil {
		t.Fatalf("start adapter: %v", err)
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
	return "http://" + ln.Addr().String()
}
