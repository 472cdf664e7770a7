package dashboards

import (
	"bufio"
	"context"
	"log/slog"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	influxdb2 "github.com/influxdata/influxdb-client-go/v2"
	"github.com/influxdata/influxdb-client-go/v2/api/write"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/dualread/dualread/audit"
	"github.com/dualread/dualread/audit/access"
	"github.com/dualread/dualread/audit/diff"
	"github.com/dualread/dualread/audit/sink"
	"github.com/dualread/dualread/internal/testenv"
	"github.com/dualread/dualread/proto/auditpb"
	"github.com/dualread/dualread/streamproc/metrics"
)

const db = "dualread"

// initStatements are the InfluxQL lines of the setup Job's file.
func initStatements(t *testing.T) []string {
	t.Helper()
	f, err := os.Open("../k8s/base/influxdb-init.iql")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" && !strings.HasPrefix(l, "#") {
			out = append(out, l)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// writeDemoPoints writes a representative point set for every measurement
// the dashboards read, through the repository's own writers where they are
// libraries: the audit's InfluxDB sink, the stream processor's metrics sink
// and the access audit. dualread_verify and dualread_drill have no
// exported writer (the drill's is internal to drill.Run, verify has none
// yet), so their points are written by hand with the fields and types
// drill/influx.go writes and the verify schema the design names.
func writeDemoPoints(t *testing.T, ctx context.Context, url string) {
	t.Helper()
	log := slog.New(slog.DiscardHandler)

	// Audit: pairs of every class for two tables and two operations.
	in := sink.NewInflux(sink.InfluxConfig{URL: url, Bucket: db + "/autogen", Interval: time.Hour, Logger: log})
	var pairs []audit.Pair
	for i, c := range diff.Classes {
		for _, table := range []string{"orders", "customers"} {
			for _, op := range []string{"GetItem", "Query"} {
				rec := &auditpb.Record{Table: table, Operation: op,
					Primary: &auditpb.Response{Backend: "bigtable", Status: 200, Latency: durationpb.New(time.Duration(2+i) * time.Millisecond)},
					Shadow:  &auditpb.Response{Backend: "dynamodb", Status: 200, Latency: durationpb.New(time.Duration(5+i) * time.Millisecond)}}
				pairs = append(pairs, audit.Pair{Record: rec, Class: c, Initial: c})
			}
		}
	}
	if err := in.Write(ctx, pairs); err != nil {
		t.Fatal(err)
	}
	if err := in.Close(ctx); err != nil { // Close flushes the interval
		t.Fatalf("audit sink: %v", err)
	}

	// Replication: applied changes with lag, the other outcomes, two shards.
	rec := metrics.New(nil)
	now := time.Now()
	for _, table := range []string{"orders", "customers"} {
		for i := range 20 {
			rec.Record(table, "kinesis", metrics.OutcomeApplied, uint64(now.Add(-time.Duration(50+i)*time.Millisecond).UnixMicro()))
		}
		rec.Record(table, "backfill", metrics.OutcomeApplied, uint64(now.Add(-time.Minute).UnixMicro()))
		rec.Record(table, "kinesis", metrics.OutcomeStale, 0)
		rec.Record(table, "kinesis", metrics.OutcomeDuplicate, 0)
		rec.Record(table, "kinesis", metrics.OutcomeDeadLettered, 0)
	}
	rec.ShardBehind("dualread-changes", "shardId-000000000000", 1500)
	rec.ShardBehind("dualread-changes", "shardId-000000000001", 0)
	ms := metrics.NewInfluxSink(url, "", db+"/autogen")
	defer ms.Close()
	if err := ms.Write(ctx, rec.Flush()); err != nil {
		t.Fatalf("replication metrics: %v", err)
	}

	// Access: reads, writes and a refused write, into access_24h.
	if err := access.EnsureRetention(ctx, url, db); err != nil {
		t.Fatal(err)
	}
	counter := access.NewCounter()
	counter.Served("orders-api", "GetItem", []string{"orders"})
	counter.Served("orders-api", "PutItem", []string{"orders"})
	counter.Served("billing", "BatchGetItem", []string{"orders", "customers"})
	counter.Served("legacy-job", "PutItem", []string{"customers"})
	counter.Rejected("legacy-job", "PutItem", []string{"customers"})
	ic := influxdb2.NewClient(url, "")
	defer ic.Close()
	actx, cancel := context.WithCancel(ctx)
	cancel() // Run flushes once more when its context ends, then returns
	access.Run(actx, counter, ic.WriteAPIBlocking("", db+"/"+access.RetentionPolicy), time.Hour, log)

	// Verify and drill history, by hand (see above).
	w := ic.WriteAPIBlocking("", db+"/autogen")
	for i, table := range []string{"orders", "customers"} {
		at := now.Add(-time.Duration(10+i) * time.Minute)
		result, verdict, passed := "equal", "go", int64(1)
		if i == 1 {
			result, verdict, passed = "differ", "no_go", 0
		}
		pts := []*write.Point{
			influxdb2.NewPoint("dualread_verify", map[string]string{"table": table, "result": result}, map[string]any{
				"source_items": int64(1000), "target_items": int64(1000 - i), "missing": int64(i), "extra": int64(0),
				"different": int64(i), "buckets": int64(1024), "differing_buckets": int64(2 * i), "duration_ms": int64(1200)}, at),
			influxdb2.NewPoint("dualread_drill", map[string]string{"table": table, "verdict": verdict}, map[string]any{
				"passed": passed, "duration_ms": int64(95000), "canary_ms": int64(800 + i), "lag_ms": int64(120),
				"mismatch_rate": 0.001 * float64(i), "verify_missing": int64(i), "verify_extra": int64(0),
				"verify_different": int64(i), "smoke_errors": int64(i)}, at),
		}
		if err := w.WritePoint(ctx, pts...); err != nil {
			t.Fatalf("verify/drill points: %v", err)
		}
	}
}

// TestEveryQueryReturnsData starts a real InfluxDB 1.8, sets it up with
// the setup Job's statements, writes a representative point set with the
// repository's writers, and runs every dashboard query — variables first,
// then each panel query with the variables at "All" and again with one
// table — as Grafana would. Each must return data. The same queries
// against an empty database must return none, so the check can fail.
func TestEveryQueryReturnsData(t *testing.T) {
	ctx := context.Background()
	url := testenv.StartInfluxDB(t, db, "empty")
	for _, q := range initStatements(t) {
		if err := testenv.InfluxQL(ctx, url, "", q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	writeDemoPoints(t, ctx, url)

	from, to := time.Now().Add(-time.Hour), time.Now().Add(time.Minute)
	c := Influx{URL: url, Database: db}
	all, err := Run(ctx, c, dashboardDir, from, to, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) < 10 {
		t.Fatalf("only %d queries found", len(all))
	}
	for _, r := range all {
		if !r.HasData() {
			t.Errorf("no data: %s", r)
		} else {
			t.Logf("%s", r)
		}
	}

	// The diverging panel, run on points of every class, returns series of
	// diverging classes only, and of each of them.
	for _, r := range all {
		if !strings.HasPrefix(r.Query.Panel, "Diverging pairs") || r.Err != nil {
			continue
		}
		series, err := c.Query(ctx, r.Expanded)
		if err != nil {
			t.Fatal(err)
		}
		classes := map[string]bool{}
		for _, s := range series {
			if !diff.Class(s.Tags["class"]).Diverges() {
				t.Errorf("diverging panel shows class %q", s.Tags["class"])
			}
			classes[s.Tags["class"]] = true
		}
		for _, c := range diff.Classes {
			if c.Diverges() && !classes[string(c)] {
				t.Errorf("diverging panel lacks class %q", c)
			}
		}
	}

	one, err := Run(ctx, c, dashboardDir, from, to, map[string][]string{"table": {"customers"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range one {
		if !r.HasData() {
			t.Errorf("table=customers: no data: %s", r)
		}
	}

	empty, err := Run(ctx, Influx{URL: url, Database: "empty"}, dashboardDir, from, to, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range empty {
		if r.Query.Variable == "" && r.HasData() {
			t.Errorf("empty database returned data: %s", r)
		}
	}
}

// TestDivergingPanelMatchesAuditClasses: the audit dashboard's "diverging"
// panel lists exactly the classes audit/diff calls diverging
// (TestEveryQueryReturnsData checks what it returns).
func TestDivergingPanelMatchesAuditClasses(t *testing.T) {
	qs, err := Queries(dashboardDir)
	if err != nil {
		t.Fatal(err)
	}
	var q *Query
	for i := range qs {
		if strings.HasPrefix(qs[i].Panel, "Diverging pairs") {
			q = &qs[i]
		}
	}
	if q == nil {
		t.Fatal("no Diverging pairs panel")
	}
	m := regexp.MustCompile(`"class" =~ /\^\(([^)]*)\)\$/`).FindStringSubmatch(q.Text)
	if m == nil {
		t.Fatalf("%s: no class alternation", q.Name())
	}
	got := strings.Split(m[1], "|")
	var want []string
	for _, c := range diff.Classes {
		if c.Diverges() {
			want = append(want, string(c))
		}
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("panel classes %v, audit/diff's diverging classes %v", got, want)
	}
}
