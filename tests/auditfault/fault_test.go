// Package auditfault stops the parts around the adapter's shadow reads while
// it serves (InfluxDB behind the audit, the remote audit service, the
// shadow DynamoDB itself) and checks the promise of issue 4: the adapter
// keeps answering every request correctly and promptly, memory stays
// bounded, and what is lost is counted where metrics can see it.
//
// One DynamoDB Local and one InfluxDB are started privately (not the shared
// ones: the tests kill them) and the subtests run in order, the last one
// stopping DynamoDB Local.
package auditfault

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/dualread/dualread/adapter"
	"github.com/dualread/dualread/adapter/admin"
	"github.com/dualread/dualread/adapter/shadow"
	"github.com/dualread/dualread/audit"
	"github.com/dualread/dualread/audit/diff"
	"github.com/dualread/dualread/audit/sink"
	"github.com/dualread/dualread/internal/testenv"
	"github.com/dualread/dualread/proto/auditpb"
)

const (
	table = "auditfault"
	items = 40
	// A read that waited on a dead dependency would wait for a connect or
	// shadow timeout, and so would nearly every read: the median read must
	// stay under prompt. A 2-core machine shared with other test jobs stalls
	// the whole process for a second or two now and then, so single reads
	// are only held to stalled.
	prompt  = 250 * time.Millisecond
	stalled = 5 * time.Second
)

func TestFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("starts DynamoDB Local and InfluxDB")
	}
	ctx := context.Background()
	var (
		ddb    *testenv.Process
		influx *testenv.StandIn
		wg     sync.WaitGroup
		errs   [2]error
	)
	// Both stand-ins start at once: their start-up dominates this package.
	wg.Go(func() { ddb, errs[0] = testenv.LaunchDynamoDBLocal(ctx) })
	wg.Go(func() { influx, errs[1] = testenv.LaunchInfluxDB(ctx, "dualread") })
	wg.Wait()
	t.Cleanup(func() { ddb.Stop(); influx.Stop() })
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	caller := shadow.NewDynamoDB(ddb.Endpoint, "us-east-1", credentials.NewStaticCredentialsProvider("shadow", "secret", ""))
	createAndFill(t, testenv.Client(ddb.Endpoint), 64)

	t.Run("InfluxDB stopped", func(t *testing.T) { influxStopped(t, caller, influx) })
	t.Run("audit service stopped", func(t *testing.T) { auditServiceStopped(t, caller) })
	t.Run("shadow DynamoDB stopped, memory bounded", func(t *testing.T) { shadowStopped(t, caller, ddb) })
}

// influxStopped: the audit writes to InfluxDB; InfluxDB dies mid-run. Reads
// stay correct and prompt, the audit keeps diffing, and the Influx sink
// counts the intervals it could not write.
func influxStopped(t *testing.T, caller shadow.Caller, influx *testenv.StandIn) {
	ctx := context.Background()
	influxSink := sink.NewInflux(sink.InfluxConfig{URL: influx.Addr, Bucket: "dualread/autogen", Interval: 500 * time.Millisecond})
	svc, err := audit.NewService(audit.Config{}, influxSink)
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close(ctx)
	st := startAdapter(t, caller, svc, shadow.Config{RatePerSec: -1}, 64)

	matched := func() int64 { return svc.Stats().Classes[diff.Match] }
	st.load(t, 150)
	waitFor(t, "the audit to diff the first reads", func() bool { return matched() >= 150 })
	waitFor(t, "a first interval in InfluxDB", func() bool { return influxCount(t, influx.Addr) > 0 })
	// A write slower than the interval (the sink's write timeout) is lost
	// and counted even while InfluxDB is up, on a loaded machine: compare
	// with the count before the fault rather than with zero.
	errsBefore := influxSink.WriteErrors()
	sinkBefore := svc.Stats().Sinks["influxdb"]
	// The adapter's admin /metrics with the embedded audit's counters, as
	// `dualread serve --admin-listen` serves it.
	metrics := httptest.NewServer(admin.Handler(nil, st.a.Shadower, func(w io.Writer) { audit.WritePrometheus(w, svc.Stats()) }))
	defer metrics.Close()

	influx.Stop()
	before := matched()
	st.load(t, 150)
	waitFor(t, "the audit to keep diffing", func() bool { return matched() >= before+150 })
	waitFor(t, "lost intervals to be counted", func() bool { return influxSink.WriteErrors() > errsBefore })
	s := svc.Stats()
	if s.Dropped != 0 || s.Failed != 0 {
		t.Errorf("audit stats %+v: the dead InfluxDB must not cost records", s)
	}
	// The losses are the sink's, in its stats and in the metrics.
	is := s.Sinks["influxdb"]
	if is.Errors <= sinkBefore.Errors || is.Dropped <= sinkBefore.Dropped {
		t.Errorf("influxdb sink stats %+v (before the fault %+v): failed flushes and lost pairs must be counted", is, sinkBefore)
	}
	errs, dropped := scrape(t, metrics.URL, `dualread_audit_sink_errors_total{sink="influxdb"}`), scrape(t, metrics.URL, `dualread_audit_sink_dropped_total{sink="influxdb"}`)
	if errs < is.Errors || dropped < is.Dropped {
		t.Errorf("/metrics: influxdb sink errors %d dropped %d, want at least the stats' %d and %d", errs, dropped, is.Errors, is.Dropped)
	}
	t.Logf("after InfluxDB stopped: %d lost intervals, sink %+v, /metrics errors %d dropped %d, shadow %+v", influxSink.WriteErrors(), is, errs, dropped, st.a.Shadower.Stats())
}

// scrape reads one sample's value from a Prometheus text page.
func scrape(t *testing.T, url, sample string) int64 {
	t.Helper()
	resp, err := http.Get(url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(body), "\n") {
		if v, ok := strings.CutPrefix(line, sample+" "); ok {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				t.Fatalf("metrics line %q: %v", line, err)
			}
			return n
		}
	}
	t.Fatalf("/metrics has no %s:\n%s", sample, body)
	return 0
}

// auditServiceStopped: the adapter sends pairs to a remote audit over gRPC;
// the service dies. Submit never blocks, the client counts drops, reads stay
// correct and prompt.
func auditServiceStopped(t *testing.T, caller shadow.Caller) {
	ctx := context.Background()
	svc, err := audit.NewService(audit.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close(ctx)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gs := grpc.NewServer()
	svc.RegisterGRPC(gs)
	go gs.Serve(ln)
	defer gs.Stop()
	conn, err := grpc.NewClient(ln.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	client := audit.NewClient(auditpb.NewAuditClient(conn), audit.ClientConfig{Buffer: 64, Batch: 16, Every: 50 * time.Millisecond, Timeout: 500 * time.Millisecond})
	defer client.Close()
	st := startAdapter(t, caller, client, shadow.Config{RatePerSec: -1}, 64)

	st.load(t, 100)
	waitFor(t, "records to reach the service", func() bool { return svc.Stats().Classes[diff.Match] >= 100 })
	if s := client.Stats(); s.Sent < 100 || s.Failures != 0 {
		t.Fatalf("client before the fault: %+v", s)
	}

	gs.Stop() // the audit service is gone; the address refuses connections
	sentBefore := client.Stats().Sent
	st.load(t, 100)
	// Submit straight from here too: many records, far more than the
	// buffer holds, must go through without waiting on the dead service.
	rec := shadow.ToAudit(shadow.Record{ID: "x", Time: time.Now(), Table: table, Op: "GetItem",
		Primary: shadow.Side{Status: 200, Body: []byte(`{}`)}, Shadow: shadow.Side{Status: 200, Body: []byte(`{}`)}}, nil)
	start := time.Now()
	for range 20000 {
		if err := client.Submit(rec); err != nil {
			t.Fatalf("Submit: %v", err)
		}
	}
	if d := time.Since(start); d > 500*time.Millisecond {
		t.Fatalf("20000 Submits took %v: Submit blocks", d)
	}
	waitFor(t, "the client to count its drops", func() bool {
		s := client.Stats()
		return s.Failures > 0 && s.Dropped >= 20000
	})
	// The adapter's /metrics shows them (the remote audit client's counters).
	metrics := httptest.NewServer(admin.Handler(nil, st.a.Shadower, func(w io.Writer) { audit.WriteClientPrometheus(w, client.Stats()) }))
	defer metrics.Close()
	if n := scrape(t, metrics.URL, "dualread_audit_client_dropped_total"); n < 20000 {
		t.Errorf("/metrics: %d records dropped by the audit client, want at least 20000", n)
	}
	if s := client.Stats(); s.Sent != sentBefore {
		t.Errorf("client reports %d sent after the service stopped (before: %d)", s.Sent, sentBefore)
	}
	t.Logf("after the audit service stopped: client %+v, shadow %+v", client.Stats(), st.a.Shadower.Stats())
}

// shadowStopped: DynamoDB Local dies; the adapter has a tiny shadow queue
// and the audit a tiny queue. Many reads of large items later the adapter
// still answers each correctly and promptly, drops are counted, and the
// live heap has not grown with the number of reads.
func shadowStopped(t *testing.T, caller shadow.Caller, ddb *testenv.Process) {
	ctx := context.Background()
	svc, err := audit.NewService(audit.Config{QueueSize: 4, Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close(ctx)
	const size = 32 << 10
	st := startAdapter(t, caller, svc, shadow.Config{RatePerSec: -1, QueueSize: 4, Workers: 2, Timeout: 300 * time.Millisecond}, size)
	ddb.Stop()

	heap := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	st.load(t, 100) // connections, pools, breaker: warm before the baseline
	base := heap()
	const reads = 2000
	st.load(t, reads)
	grown := int64(heap()) - int64(base)
	// Each read's pair holds the request and a 32 KB answer: keeping them
	// all would be ~70 MB. The bound allows a few hundred in flight.
	const bound = 16 << 20
	sh, au := st.a.Shadower.Stats(), svc.Stats()
	t.Logf("heap grew %d KB over %d reads; shadow %+v; audit accepted %d dropped %d", grown>>10, reads, sh, au.Accepted, au.Dropped)
	if grown > bound {
		t.Errorf("live heap grew by %d MB over %d reads with the shadow down, bound %d MB", grown>>20, reads, bound>>20)
	}
	if sh.Offered < reads+100 || sh.Sent != 0 {
		t.Errorf("shadow stats %+v: want every read offered and none sent", sh)
	}
	lost := sh.Dropped + sh.ShedByBreaker + sh.Failed
	if lost < reads || sh.ShedByBreaker == 0 {
		t.Errorf("shadow stats %+v: reads not shadowed must be counted (dropped+shed+failed %d < %d), and the breaker must open", sh, lost, reads)
	}
	metrics := httptest.NewServer(admin.Handler(nil, st.a.Shadower))
	defer metrics.Close()
	if n := scrape(t, metrics.URL, "dualread_shadow_shed_total"); n < sh.ShedByBreaker {
		t.Errorf("/metrics: %d shadow reads shed, want at least %d", n, sh.ShedByBreaker)
	}
}

// served is an adapter with shadow reads, served over HTTP, and a client.
type served struct {
	a      *adapter.Adapter
	client *dynamodb.Client
	size   int
}

// startAdapter opens an adapter shadowing to caller into sub, creates the
// table and writes the same items as createAndFill wrote to DynamoDB Local
// (so shadow pairs match), each with a payload of size bytes.
func startAdapter(t *testing.T, caller shadow.Caller, sub audit.Submitter, limits shadow.Config, size int) *served {
	t.Helper()
	ctx := context.Background()
	sinkHolder := &lateSink{}
	a, err := adapter.Open(ctx, adapter.Config{Shadow: &adapter.ShadowConfig{Caller: caller, Sink: sinkHolder, Limits: limits}})
	if err != nil {
		t.Fatal(err)
	}
	sinkHolder.set(shadow.AuditSink{Submitter: sub, Keys: func(tb string) []string { return a.Executor.KeyNames(ctx, tb) }})
	srv := httptest.NewServer(a.Handler)
	t.Cleanup(func() { srv.Close(); a.Close() })
	client := testenv.Client(srv.URL)
	createAndFill(t, client, size)
	return &served{a: a, client: client, size: size}
}

func createAndFill(t *testing.T, c *dynamodb.Client, size int) {
	t.Helper()
	ctx := context.Background()
	_, err := c.CreateTable(ctx, &dynamodb.CreateTableInput{TableName: aws.String(table), BillingMode: types.BillingModePayPerRequest,
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
	})
	var inUse *types.ResourceInUseException
	if err != nil && !errors.As(err, &inUse) {
		t.Fatal(err)
	}
	for i := range items {
		if _, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: item(i, size)}); err != nil {
			t.Fatal(err)
		}
	}
}

func item(i, size int) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		"pk": &types.AttributeValueMemberS{Value: fmt.Sprintf("k%03d", i)},
		"v":  &types.AttributeValueMemberN{Value: fmt.Sprint(i * 7)},
		"p":  &types.AttributeValueMemberS{Value: strings.Repeat(string(rune('a'+i%26)), size)},
	}
}

// load issues n GetItems from 8 workers and checks every answer: the item
// asked for, its value, within prompt.
func (s *served) load(t *testing.T, n int) {
	t.Helper()
	var next atomic.Int64
	var wg sync.WaitGroup
	var mu sync.Mutex
	var failures []string
	lat := make([]time.Duration, 0, n)
	var slowest time.Duration
	for range 8 {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				k := i % items
				start := time.Now()
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				out, err := s.client.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table),
					Key: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: fmt.Sprintf("k%03d", k)}}})
				cancel()
				d := time.Since(start)
				mu.Lock()
				slowest = max(slowest, d)
				lat = append(lat, d)
				switch {
				case err != nil:
					failures = append(failures, fmt.Sprintf("read %d: %v", i, err))
				case !sameItem(out.Item, item(k, s.size)):
					failures = append(failures, fmt.Sprintf("read %d: wrong item %v", i, out.Item["pk"]))
				case d > stalled:
					failures = append(failures, fmt.Sprintf("read %d took %v", i, d))
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(failures) > 0 {
		t.Fatalf("%d of %d reads failed, e.g. %s", len(failures), n, strings.Join(failures[:min(3, len(failures))], "; "))
	}
	slices.Sort(lat)
	if p50 := lat[len(lat)/2]; p50 > prompt {
		t.Fatalf("median read took %v (want under %v): reads wait on something", p50, prompt)
	}
	t.Logf("%d reads correct, median %v, p99 %v, slowest %v", n, lat[len(lat)/2], lat[len(lat)*99/100], slowest)
}

func sameItem(got, want map[string]types.AttributeValue) bool {
	if len(got) != len(want) {
		return false
	}
	for k, w := range want {
		g := got[k]
		switch w := w.(type) {
		case *types.AttributeValueMemberS:
			if g, ok := g.(*types.AttributeValueMemberS); !ok || g.Value != w.Value {
				return false
			}
		case *types.AttributeValueMemberN:
			if g, ok := g.(*types.AttributeValueMemberN); !ok || g.Value != w.Value {
				return false
			}
		}
	}
	return true
}

// lateSink lets the audit sink, which needs the adapter's key names, be set
// after the adapter opens.
type lateSink struct {
	mu sync.Mutex
	to shadow.Sink
}

func (l *lateSink) set(s shadow.Sink) { l.mu.Lock(); l.to = s; l.mu.Unlock() }

func (l *lateSink) Submit(r shadow.Record) {
	l.mu.Lock()
	to := l.to
	l.mu.Unlock()
	if to != nil {
		to.Submit(r)
	}
}

func influxCount(t *testing.T, url string) int {
	t.Helper()
	res, err := testenv.InfluxQuery(context.Background(), url, "dualread",
		`SELECT sum("count") FROM "dualread_audit" WHERE "table" = '`+table+`'`)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res.Results {
		for _, s := range r.Series {
			if len(s.Values) > 0 && len(s.Values[0]) > 1 {
				if f, ok := s.Values[0][1].(float64); ok {
					return int(f)
				}
			}
		}
	}
	return 0
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
