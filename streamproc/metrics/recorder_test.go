package metrics

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/dualread/dualread/internal/testenv"
)

func TestFlushQuantiles(t *testing.T) {
	now := time.UnixMilli(1_700_000_000_000)
	r := New(func() time.Time { return now })
	// 100 applied records with lags 1..100 ms, plus stale/duplicate ones
	// that must not count as lag samples.
	for i := 1; i <= 100; i++ {
		r.Record("t", "kinesis", OutcomeApplied, uint64(now.Add(-time.Duration(i)*time.Millisecond).UnixMicro()))
	}
	r.Record("t", "kinesis", OutcomeStale, uint64(now.Add(-time.Hour).UnixMicro()))
	r.Record("t", "kinesis", OutcomeDuplicate, uint64(now.Add(-time.Hour).UnixMicro()))
	r.Record("t", "kinesis", OutcomeDeadLettered, 0)
	r.Record("u", "backfill", OutcomeApplied, uint64(now.Add(time.Second).UnixMicro())) // future: skew, lag 0
	r.ShardBehind("s", "shardId-0", 1234)
	pts := r.Flush()
	want := []string{
		`dualread_replication map[source:kinesis table:t] map[applied:100 dead_lettered:1 duplicate:1 lag_max_ms:100 lag_p50_ms:50 lag_p99_ms:99 stale:1]`,
		`dualread_replication map[source:backfill table:u] map[applied:1 dead_lettered:0 duplicate:0 lag_max_ms:0 lag_p50_ms:0 lag_p99_ms:0 stale:0]`,
		`dualread_shard map[shard:shardId-0 stream:s] map[millis_behind_latest:1234]`,
	}
	var got []string
	for _, p := range pts {
		if !p.Time.Equal(now) {
			t.Errorf("point time %v", p.Time)
		}
		got = append(got, fmt.Sprintf("%s %v %v", p.Measurement, p.Tags, p.Fields))
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("points:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// A new interval starts empty: only the shard gauge remains.
	if pts := r.Flush(); len(pts) != 1 || pts[0].Measurement != MeasurementShard {
		t.Fatalf("second flush: %v", pts)
	}
	rec := httptest.NewRecorder()
	r.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body := rec.Body.String()
	for _, line := range []string{
		`dualread_replication_records_total{table="t",source="kinesis",outcome="applied"} 100`,
		`dualread_replication_records_total{table="t",source="kinesis",outcome="dead_lettered"} 1`,
		`dualread_replication_lag_p99_ms{table="t",source="kinesis"} 99`,
		`dualread_shard_millis_behind_latest{stream="s",shard="shardId-0"} 1234`,
	} {
		if !strings.Contains(body, line+"\n") {
			t.Errorf("/metrics lacks %q:\n%s", line, body)
		}
	}
}

// TestSamplesBounded: the reservoir keeps memory fixed while max stays exact.
func TestSamplesBounded(t *testing.T) {
	now := time.UnixMilli(1_700_000_000_000)
	r := New(func() time.Time { return now })
	for i := range 3 * maxSamples {
		r.Record("t", "k", OutcomeApplied, uint64(now.Add(-time.Duration(i)*time.Millisecond).UnixMicro()))
	}
	if n := len(r.tables[tableKey{"t", "k"}].samples); n != maxSamples {
		t.Fatalf("%d samples kept", n)
	}
	p := r.Flush()[0]
	if p.Fields["lag_max_ms"] != float64(3*maxSamples-1) {
		t.Fatalf("max %v", p.Fields["lag_max_ms"])
	}
	if p50 := p.Fields["lag_p50_ms"].(float64); p50 < 0.4*3*maxSamples || p50 > 0.6*3*maxSamples {
		t.Fatalf("p50 %v far from the middle", p50)
	}
}

// TestInfluxRoundTrip writes points through InfluxSink and reads them back.
func TestInfluxRoundTrip(t *testing.T) {
	if testing.Short() {
		t.Skip("starts InfluxDB")
	}
	url := testenv.StartInfluxDB(t, "dualread")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	sink := NewInfluxSink(url, "", "dualread/autogen")
	defer sink.Close()
	r := New(nil)
	for i := range 10 {
		r.Record("orders", "kinesis", OutcomeApplied, uint64(time.Now().Add(-time.Duration(i+1)*time.Second).UnixMicro()))
	}
	if err := sink.Write(ctx, r.Flush()); err != nil {
		t.Fatal(err)
	}
	res, err := testenv.InfluxQuery(ctx, url, "dualread", `SELECT applied, lag_max_ms FROM dualread_replication WHERE "table" = 'orders'`)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Results) != 1 || len(res.Results[0].Series) != 1 || len(res.Results[0].Series[0].Values) != 1 {
		t.Fatalf("read back %+v", res)
	}
	v := res.Results[0].Series[0].Values[0]
	if fmt.Sprint(v[1]) != "10" || v[2].(float64) < 10000 || v[2].(float64) > 15000 {
		t.Fatalf("read back applied=%v lag_max_ms=%v", v[1], v[2])
	}
}
