package verify

import (
	"context"
	"time"

	influxdb2 "github.com/influxdata/influxdb-client-go/v2"
	"github.com/influxdata/influxdb-client-go/v2/api/write"
)

// Measurement is the InfluxDB measurement of a finished comparison. The
// Grafana dashboard and the drill read exactly these names: tags table and
// result (equal | differ); integer fields source_items, target_items,
// missing, extra, different, buckets, differing_buckets, duration_ms.
const Measurement = "dualread_verify"

// Point is the report as one InfluxDB point at time at.
func (r *Report) Point(at time.Time) *write.Point {
	result := r.Result
	if result == "" {
		result = ResultEqual
		if !r.Equal() {
			result = ResultDiffer
		}
	}
	return influxdb2.NewPoint(Measurement,
		map[string]string{"table": r.Table, "result": result},
		map[string]any{
			"source_items":      r.SourceItems,
			"target_items":      r.TargetItems,
			"missing":           r.Missing,
			"extra":             r.Extra,
			"different":         r.Different,
			"buckets":           int64(r.Buckets),
			"differing_buckets": int64(r.DifferingBuckets),
			"duration_ms":       r.Duration.Milliseconds(),
		}, at)
}

// WriteInflux writes the report's point to InfluxDB at url (1.8 through its
// /api/v2/write, bucket "db/retention-policy", token "" or "user:password";
// or 2.x), in one blocking request.
func WriteInflux(ctx context.Context, url, token, bucket string, r *Report) error {
	c := influxdb2.NewClient(url, token)
	defer c.Close()
	return c.WriteAPIBlocking("", bucket).WritePoint(ctx, r.Point(time.Now()))
}
