package bench

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func startBare(t *testing.T, opts BareOptions) *BareServer {
	t.Helper()
	s, err := StartBareHandler(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// A bounded run against the bare handler: the runner's per-operation counts
// must equal what the server received, and errors must be attributed to
// the right operation and __type.
func TestRunCountsOpsAndErrors(t *testing.T) {
	srv := startBare(t, BareOptions{Fail: map[string]string{OpPutItem: "ConditionalCheckFailedException"}})
	cfg := Config{
		Endpoint:    srv.URL,
		Concurrency: 4,
		Duration:    time.Minute, // MaxOps, not time, ends this run
		Mix:         map[string]int{OpGetItem: 2, OpPutItem: 1, OpQuery: 1, OpUpdateItem: 1},
		Keys:        60,
		MaxOps:      200,
		Table:       "bench_test",
	}
	res, err := Run(context.Background(), cfg, quietLog())
	if err != nil {
		t.Fatal(err)
	}
	if res.StoppedBy != StoppedMaxOps {
		t.Errorf("StoppedBy = %q, want %q", res.StoppedBy, StoppedMaxOps)
	}
	if res.Total.Requests != 200 || res.WarmupOps != 0 {
		t.Fatalf("Total.Requests = %d, WarmupOps = %d; want 200, 0", res.Total.Requests, res.WarmupOps)
	}
	var sum int64
	for _, op := range []string{OpGetItem, OpPutItem, OpQuery, OpUpdateItem} {
		s := res.PerOp[op]
		sum += s.Requests
		if got := srv.Handler.Requests(op); got != s.Requests {
			t.Errorf("%s: runner counted %d requests, server received %d", op, s.Requests, got)
		}
		if s.Requests == 0 {
			t.Errorf("%s: no requests in 200 draws with weight >= 1/5", op)
		}
		wantErr := int64(0)
		if op == OpPutItem {
			wantErr = s.Requests
		}
		if s.Errors != wantErr || s.ErrorsByType["ConditionalCheckFailedException"] != wantErr {
			t.Errorf("%s: errors %d by type %v; want %d ConditionalCheckFailedException", op, s.Errors, s.ErrorsByType, wantErr)
		}
		if op != OpPutItem && (s.P50 <= 0 || s.Max < s.P99 || s.P99 < s.P50) {
			t.Errorf("%s: latencies p50 %v p99 %v max %v are not ordered and positive", op, s.P50, s.P99, s.Max)
		}
	}
	if sum != 200 {
		t.Errorf("per-operation requests add up to %d, want 200", sum)
	}
	if res.Total.Errors != res.PerOp[OpPutItem].Requests {
		t.Errorf("Total.Errors = %d, want the PutItem count %d", res.Total.Errors, res.PerOp[OpPutItem].Requests)
	}
	if _, ok := res.PerOp[OpScan]; ok {
		t.Errorf("Scan has weight 0 but appears in PerOp")
	}
	// Preload: 60 keys in batches of 25 is 3 BatchWriteItem requests.
	if got := srv.Handler.Requests("BatchWriteItem"); got != 3 {
		t.Errorf("preload sent %d BatchWriteItem, want 3", got)
	}
	if got := srv.Handler.Requests(""); got != 0 {
		t.Errorf("%d requests had an unknown X-Amz-Target", got)
	}
	md := res.Markdown()
	for _, want := range []string{"| GetItem | ", "| PutItem | ", "ConditionalCheckFailedException ×", "stopped by max-ops"} {
		if !strings.Contains(md, want) {
			t.Errorf("Markdown lacks %q:\n%s", want, md)
		}
	}
	if _, err := res.JSON(); err != nil {
		t.Error(err)
	}
}

// Requests issued during warmup are counted apart and never reach PerOp,
// and MaxOps bounds warmup and measured phase together.
func TestRunWarmupNotMeasured(t *testing.T) {
	srv := startBare(t, BareOptions{})
	res, err := Run(context.Background(), Config{
		Endpoint: srv.URL, Concurrency: 3, Warmup: 20 * time.Minute, Duration: time.Second,
		Mix: map[string]int{OpGetItem: 1}, Keys: 10, MaxOps: 50, Table: "bench_test", SkipPreload: true,
	}, quietLog())
	if err != nil {
		t.Fatal(err)
	}
	if res.WarmupOps != 50 || res.Total.Requests != 0 || srv.Handler.Requests(OpGetItem) != 50 {
		t.Fatalf("warmup %d, measured %d, server %d; want 50, 0, 50", res.WarmupOps, res.Total.Requests, srv.Handler.Requests(OpGetItem))
	}
}

// A response the SDK cannot decode (truncated JSON) has no __type: it must
// be counted as a transport error, and a request outliving RequestTimeout
// as a timeout. (A wrong x-amz-crc32 would not do: aws-sdk-go-v2 checks it
// when closing the body and drops that error.)
func TestRunClassifiesNonAPIErrors(t *testing.T) {
	bare := NewBareHandler(BareOptions{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch strings.TrimPrefix(r.Header.Get("X-Amz-Target"), targetPrefix) {
		case OpGetItem:
			io.Copy(io.Discard, r.Body)
			w.Header().Set("Content-Type", "application/x-amz-json-1.0")
			w.Write([]byte(`{"Item":{"pk":`))
		case OpQuery:
			time.Sleep(300 * time.Millisecond)
			bare.ServeHTTP(w, r)
		default:
			bare.ServeHTTP(w, r)
		}
	}))
	defer srv.Close()
	res, err := Run(context.Background(), Config{
		Endpoint: srv.URL, Concurrency: 2, Mix: map[string]int{OpGetItem: 1, OpQuery: 1},
		Keys: 10, MaxOps: 20, Table: "bench_test", RequestTimeout: 50 * time.Millisecond,
	}, quietLog())
	if err != nil {
		t.Fatal(err)
	}
	g, q := res.PerOp[OpGetItem], res.PerOp[OpQuery]
	if g.Requests == 0 || g.ErrorsByType[ErrTypeTransport] != g.Requests {
		t.Errorf("GetItem: %d requests, errors %v; want all %s", g.Requests, g.ErrorsByType, ErrTypeTransport)
	}
	if q.Requests == 0 || q.ErrorsByType[ErrTypeTimeout] != q.Requests {
		t.Errorf("Query: %d requests, errors %v; want all %s", q.Requests, q.ErrorsByType, ErrTypeTimeout)
	}
	if g.Requests+q.Requests != 20 {
		t.Errorf("requests %d, want 20", g.Requests+q.Requests)
	}
}

// A cancelled context stops the load phase and still yields a Result.
func TestRunStopsOnContext(t *testing.T) {
	srv := startBare(t, BareOptions{})
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	res, err := Run(ctx, Config{
		Endpoint: srv.URL, Concurrency: 2, Duration: 10 * time.Minute, Mix: map[string]int{OpGetItem: 1},
		Keys: 10, MaxOps: 1 << 40, Table: "bench_test",
	}, quietLog())
	if err != nil {
		t.Fatal(err)
	}
	if res.StoppedBy != StoppedContext || res.Total.Errors != 0 {
		t.Fatalf("StoppedBy %q with %d errors; want %q and no error (cancelled requests are not failures)",
			res.StoppedBy, res.Total.Errors, StoppedContext)
	}
	if got := srv.Handler.Requests(OpGetItem); got < res.Total.Requests {
		t.Fatalf("runner counted %d requests, server saw only %d", res.Total.Requests, got)
	}
}

func TestCompare(t *testing.T) {
	a := startBare(t, BareOptions{})
	cfg := Config{Concurrency: 2, Duration: time.Minute, Mix: map[string]int{OpGetItem: 1, OpScan: 1},
		Keys: 10, MaxOps: 40, Table: "bench_test"}
	cmp, err := Compare(context.Background(), []Target{
		{Name: "bare-endpoint", Endpoint: a.URL},
		{Name: "broken"},
		{Name: "bare-inprocess", Handler: NewBareHandler(BareOptions{}), Reference: true},
	}, cfg, quietLog())
	if err != nil {
		t.Fatal(err)
	}
	if len(cmp.Results) != 2 || len(cmp.Failures) != 1 || cmp.Failures[0].Target != "broken" {
		t.Fatalf("results %d, failures %v; want 2 results and target broken failed", len(cmp.Results), cmp.Failures)
	}
	if cmp.Reference != "bare-inprocess" {
		t.Errorf("Reference = %q", cmp.Reference)
	}
	for _, r := range cmp.Results {
		if r.Total.Requests != 40 || r.Total.Errors != 0 {
			t.Errorf("%s: %d requests %d errors, want 40, 0", r.Target, r.Total.Requests, r.Total.Errors)
		}
	}
	md := cmp.Markdown()
	for _, want := range []string{"| GetItem | bare-endpoint |", "| Scan | bare-inprocess |", "| **total** | bare-inprocess |", "1.00×", "**broken failed**"} {
		if !strings.Contains(md, want) {
			t.Errorf("Markdown lacks %q:\n%s", want, md)
		}
	}
	if _, err := cmp.JSON(); err != nil {
		t.Error(err)
	}
	if _, err := Compare(context.Background(), []Target{{Name: "broken"}}, cfg, quietLog()); err == nil {
		t.Error("Compare with only failing targets returned no error")
	}
}

// With rounds, each target runs Rounds times in turn and its rounds merge:
// counts add up, preload happens once.
func TestCompareRounds(t *testing.T) {
	a, b := startBare(t, BareOptions{}), startBare(t, BareOptions{})
	cfg := Config{Concurrency: 2, Duration: time.Minute, Mix: map[string]int{OpGetItem: 1, OpPutItem: 1},
		Keys: 30, MaxOps: 25, Table: "bench_test", Rounds: 3}
	cmp, err := Compare(context.Background(), []Target{{Name: "a", Endpoint: a.URL}, {Name: "b", Endpoint: b.URL}}, cfg, quietLog())
	if err != nil {
		t.Fatal(err)
	}
	for i, srv := range []*BareServer{a, b} {
		r := cmp.Results[i]
		got := srv.Handler.Requests(OpGetItem) + srv.Handler.Requests(OpPutItem)
		if r.Rounds != 3 || r.Total.Requests != 75 || got != 75 {
			t.Errorf("%s: rounds %d, counted %d, server saw %d; want 3, 75, 75", r.Target, r.Rounds, r.Total.Requests, got)
		}
		if n := srv.Handler.Requests("BatchWriteItem"); n != 2 { // 30 keys = 2 batches, first round only
			t.Errorf("%s: %d BatchWriteItem, want 2 (preload once)", r.Target, n)
		}
	}
	if md := cmp.Markdown(); !strings.Contains(md, "3 rounds × 1m0s measured") {
		t.Errorf("Markdown does not say it merged 3 rounds:\n%s", md)
	}
}
