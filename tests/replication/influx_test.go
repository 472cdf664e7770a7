package replication

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/dualread/dualread/internal/testenv"
	"github.com/dualread/dualread/streamproc/metrics"
)

// metricsInterval is how often the streamproc children write their points.
const metricsInterval = time.Second

// influxRows runs an InfluxQL query on the test database and returns its
// rows as column → value (numbers decode as float64, time as RFC 3339).
func influxRows(t *testing.T, ctx context.Context, e *env, q string) []map[string]any {
	t.Helper()
	res, err := testenv.InfluxQuery(ctx, e.influx, influxDB, q)
	if err != nil {
		t.Fatalf("InfluxDB: %v", err)
	}
	var rows []map[string]any
	for _, r := range res.Results {
		for _, s := range r.Series {
			for _, v := range s.Values {
				row := map[string]any{}
				for i, c := range s.Columns {
					row[c] = v[i]
				}
				for k, tv := range s.Tags {
					row[k] = tv
				}
				rows = append(rows, row)
			}
		}
	}
	return rows
}

func rowTime(t *testing.T, row map[string]any) time.Time {
	t.Helper()
	s, _ := row["time"].(string)
	ts, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatalf("point time %v: %v", row["time"], err)
	}
	return ts
}

// num is a numeric field; ok is false when the point does not have it.
func num(row map[string]any, f string) (float64, bool) {
	v, ok := row[f].(float64)
	return v, ok
}

// checkLagPoints reads back the dualread_replication points the streamproc
// processes wrote for table and checks that they are plausible for what was
// published: the table's changes carry ApproximateCreationDateTime values
// in [first, last], so a lag (apply time − change time) recorded in the
// interval ending at a point's time T lies between T − last − (interval +
// slack) and T − first. Counts: nothing dead-lettered, and at most one
// apply per change (a change is applied once; re-deliveries are stale or
// duplicates).
func checkLagPoints(t *testing.T, ctx context.Context, e *env, table string, changes int, first, last time.Time) {
	t.Helper()
	rows := influxRows(t, ctx, e, fmt.Sprintf(`SELECT * FROM %q WHERE "table" = '%s' AND "source" = 'kinesis'`, metrics.MeasurementReplication, table))
	if len(rows) == 0 {
		t.Fatalf("no %s points for table %s in InfluxDB", metrics.MeasurementReplication, table)
	}
	// Slack for a flush that runs late on a loaded machine (the interval
	// is then longer than metricsInterval) and for clock reads.
	const slack = 10 * time.Second
	var applied, letters float64
	withLag := 0
	for _, r := range rows {
		ts := rowTime(t, r)
		a, okA := num(r, metrics.OutcomeApplied)
		d, okD := num(r, metrics.OutcomeDeadLettered)
		_, okS := num(r, metrics.OutcomeStale)
		_, okU := num(r, metrics.OutcomeDuplicate)
		if !okA || !okD || !okS || !okU {
			t.Fatalf("point without outcome counts: %v", r)
		}
		applied += a
		letters += d
		p50, ok50 := num(r, "lag_p50_ms")
		p99, ok99 := num(r, "lag_p99_ms")
		mx, okMax := num(r, "lag_max_ms")
		if !ok50 && !ok99 && !okMax {
			continue // an interval with only stale and duplicate records
		}
		if !ok50 || !ok99 || !okMax || a == 0 {
			t.Fatalf("lag fields on a point with %v applied: %v", a, r)
		}
		withLag++
		lo := float64(ts.Sub(last)-metricsInterval-slack) / float64(time.Millisecond)
		// +1 ms: a MILLISECOND-precision record's version is truncated.
		hi := float64(ts.Sub(first)+time.Millisecond) / float64(time.Millisecond)
		if !(lo <= p50 && p50 <= p99 && p99 <= mx && mx <= hi) {
			t.Errorf("%s point at %v: lag p50 %.0f p99 %.0f max %.0f ms, want %.0f ≤ p50 ≤ p99 ≤ max ≤ %.0f", table, ts, p50, p99, mx, lo, hi)
		}
	}
	if withLag == 0 || applied == 0 || applied > float64(changes) || letters != 0 {
		t.Errorf("%s: %d points, %d with lag, %.0f applied (of %d changes), %.0f dead-lettered", table, len(rows), withLag, applied, changes, letters)
	}
	t.Logf("InfluxDB: %d %s points for %s (%d with lag), %.0f applied", len(rows), metrics.MeasurementReplication, table, withLag, applied)
}

// waitShardPoints waits until InfluxDB holds, for every shard in open, a
// dualread_shard point written after since that says the shard is caught
// up (millis_behind_latest 0), and checks that every point of the stream
// names one of its shards with a value ≥ 0.
func waitShardPoints(t *testing.T, ctx context.Context, e *env, stream string, shards, open []string, since time.Time) {
	t.Helper()
	q := fmt.Sprintf(`SELECT "millis_behind_latest", "shard" FROM %q WHERE "stream" = '%s'`, metrics.MeasurementShard, stream)
	var rows []map[string]any
	waitFor(t, ctx, 30*time.Second, "InfluxDB shows every open shard caught up", func() bool {
		rows = influxRows(t, ctx, e, q)
		caught := map[string]bool{}
		for _, r := range rows {
			if v, ok := num(r, "millis_behind_latest"); ok && v == 0 && rowTime(t, r).After(since) {
				caught[fmt.Sprint(r["shard"])] = true
			}
		}
		for _, s := range open {
			if !caught[s] {
				return false
			}
		}
		return true
	})
	for _, r := range rows {
		v, ok := num(r, "millis_behind_latest")
		if sh := fmt.Sprint(r["shard"]); !ok || v < 0 || !slices.Contains(shards, sh) {
			t.Errorf("%s point for stream %s: shard %q, millis_behind_latest %v", metrics.MeasurementShard, stream, sh, r["millis_behind_latest"])
		}
	}
	t.Logf("InfluxDB: %d %s points for stream %s", len(rows), metrics.MeasurementShard, stream)
}
