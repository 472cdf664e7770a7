// Package access records which calling service touches which table, and
// how: per interval, counts per (service, table, operation, kind) and how
// many writes were refused (writes: reject), written to InfluxDB as
// dualread_access in a 24-hour retention policy. Teams use it to find the
// jobs that still write before a table goes read-only, and who reads what.
package access

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	influxdb2 "github.com/influxdata/influxdb-client-go/v2"
	"github.com/influxdata/influxdb-client-go/v2/api"
	"github.com/influxdata/influxdb-client-go/v2/api/write"
)

// RetentionPolicy is where access points are kept on InfluxDB 1.8.
const RetentionPolicy = "access_24h"

type key struct{ service, table, op, kind string }

type counts struct{ count, rejected int64 }

// Counter accumulates one interval's counts; safe for concurrent use.
type Counter struct {
	mu sync.Mutex
	m  map[key]*counts
}

// NewCounter returns an empty counter.
func NewCounter() *Counter { return &Counter{m: map[key]*counts{}} }

func kindOf(op string) string {
	switch op {
	case "PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems":
		return "write"
	case "GetItem", "BatchGetItem", "Query", "Scan", "TransactGetItems":
		return "read"
	}
	return "table"
}

func (c *Counter) add(service, table, op string, rejected bool) {
	if service == "" {
		service = "unknown"
	}
	k := key{service, table, op, kindOf(op)}
	c.mu.Lock()
	n := c.m[k]
	if n == nil {
		n = &counts{}
		c.m[k] = n
	}
	if rejected {
		n.rejected++ // the request itself is counted by Served
	} else {
		n.count++
	}
	c.mu.Unlock()
}

// Served counts one request of service to each of tables.
func (c *Counter) Served(service, op string, tables []string) {
	for _, t := range tables {
		c.add(service, t, op, false)
	}
}

// Rejected marks one refused write of service to each of tables; Served
// counts the request itself.
func (c *Counter) Rejected(service, op string, tables []string) {
	for _, t := range tables {
		c.add(service, t, op, true)
	}
}

// points drains the counter into points stamped at.
func (c *Counter) points(at time.Time) []*write.Point {
	c.mu.Lock()
	m := c.m
	c.m = map[key]*counts{}
	c.mu.Unlock()
	out := make([]*write.Point, 0, len(m))
	for k, n := range m {
		out = append(out, influxdb2.NewPoint("dualread_access",
			map[string]string{"service": k.service, "table": k.table, "op": k.op, "kind": k.kind},
			map[string]any{"count": n.count, "rejected": n.rejected}, at))
	}
	return out
}

// Run writes the counter's points every interval until ctx ends, then
// flushes once more. Failed writes drop that interval and are logged: the
// access audit never holds up the adapter.
func Run(ctx context.Context, c *Counter, w api.WriteAPIBlocking, every time.Duration, log *slog.Logger) {
	t := time.NewTicker(every)
	defer t.Stop()
	flush := func(wctx context.Context) {
		if pts := c.points(time.Now()); len(pts) > 0 {
			if err := w.WritePoint(wctx, pts...); err != nil {
				log.Warn("access audit: points dropped", "points", len(pts), "err", err)
			}
		}
	}
	for {
		select {
		case <-t.C:
			flush(ctx)
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			flush(fctx)
			cancel()
			return
		}
	}
}

// EnsureRetention creates the 24-hour retention policy on an InfluxDB 1.8
// database (a no-op if it exists). InfluxDB 2 buckets carry their retention
// themselves: create the bucket with 24 h instead.
func EnsureRetention(ctx context.Context, influxURL, db string) error {
	q := fmt.Sprintf(`CREATE RETENTION POLICY %q ON %q DURATION 24h REPLICATION 1`, RetentionPolicy, db)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(influxURL, "/")+"/query",
		strings.NewReader(url.Values{"q": {q}}.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("create retention policy: HTTP %d", resp.StatusCode)
	}
	return nil
}
