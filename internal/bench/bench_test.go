package bench

import (
	"context"
	"testing"
	"time"
)

// BenchmarkBareGetItem is the per-request cost of the SDK client and the
// HTTP stack (both ends in this process) with one worker: the ceiling's
// price, e.g. for a CPU profile:
//
//	go test -run '^$' -bench BareGetItem -cpuprofile cpu.out ./internal/bench/
func BenchmarkBareGetItem(b *testing.B) {
	srv, err := StartBareHandler(BareOptions{})
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Close()
	b.ReportAllocs()
	b.ResetTimer()
	res, err := Run(context.Background(), Config{
		Endpoint: srv.URL, Concurrency: 1, Duration: 10 * time.Minute, Mix: map[string]int{OpGetItem: 1},
		Keys: 1, MaxOps: int64(b.N), Table: "bench_bench",
	}, quietLog())
	if err != nil {
		b.Fatal(err)
	}
	if res.Total.Errors != 0 {
		b.Fatalf("%d errors: %v", res.Total.Errors, res.Total.ErrorsByType)
	}
}
