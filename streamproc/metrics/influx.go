package metrics

import (
	"context"
	"log/slog"
	"time"

	influxdb2 "github.com/influxdata/influxdb-client-go/v2"
	"github.com/influxdata/influxdb-client-go/v2/api"
	"github.com/influxdata/influxdb-client-go/v2/api/write"
)

// InfluxSink writes points to InfluxDB (1.8 through its 2.x-compatible
// API: bucket "db/retention", empty org, token "user:password" or "").
type InfluxSink struct {
	client influxdb2.Client
	write  api.WriteAPIBlocking
}

// NewInfluxSink connects to url and writes into bucket.
func NewInfluxSink(url, token, bucket string) *InfluxSink {
	c := influxdb2.NewClient(url, token)
	return &InfluxSink{client: c, write: c.WriteAPIBlocking("", bucket)}
}

// Write sends points in one request.
func (s *InfluxSink) Write(ctx context.Context, pts []Point) error {
	if len(pts) == 0 {
		return nil
	}
	ps := make([]*write.Point, 0, len(pts))
	for _, p := range pts {
		ps = append(ps, influxdb2.NewPoint(p.Measurement, p.Tags, p.Fields, p.Time))
	}
	return s.write.WritePoint(ctx, ps...)
}

// Close releases the client.
func (s *InfluxSink) Close() { s.client.Close() }

// Run flushes r every interval into sink until ctx ends, then flushes once
// more (with a short grace context) so the last interval is not lost. Write
// failures are logged and the points dropped: metrics must never stall
// replication.
func Run(ctx context.Context, r *Recorder, sink interface {
	Write(context.Context, []Point) error
}, interval time.Duration, log *slog.Logger) {
	if log == nil {
		log = slog.Default()
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	flush := func(ctx context.Context) {
		if err := sink.Write(ctx, r.Flush()); err != nil {
			log.Warn("metrics write failed", "err", err)
		}
	}
	for {
		select {
		case <-ctx.Done():
			gctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			flush(gctx)
			cancel()
			return
		case <-t.C:
			flush(ctx)
		}
	}
}
