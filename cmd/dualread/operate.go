package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	influxdb2 "github.com/influxdata/influxdb-client-go/v2"

	"github.com/dualread/dualread/adapter"
	"github.com/dualread/dualread/adapter/admin"
	"github.com/dualread/dualread/audit/access"
)

// startAccessAudit starts the access-pattern audit when --access-influx is
// set (nil counter otherwise); stop flushes the last interval.
func startAccessAudit(ctx context.Context, c serveConfig, log *slog.Logger) (*access.Counter, func(), error) {
	if c.accessInflux == "" {
		return nil, func() {}, nil
	}
	if err := access.EnsureRetention(ctx, c.accessInflux, c.accessDB); err != nil {
		return nil, nil, fmt.Errorf("--access-influx: %w", err)
	}
	counter := access.NewCounter()
	ic := influxdb2.NewClient(c.accessInflux, "")
	actx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() {
		access.Run(actx, counter, ic.WriteAPIBlocking("", c.accessDB+"/"+access.RetentionPolicy), 10*time.Second, log)
		close(done)
	}()
	return counter, func() { cancel(); <-done; ic.Close() }, nil
}

// startAdmin serves the admin API on addr; metrics add to its /metrics.
func startAdmin(addr string, ad *adapter.Adapter, log *slog.Logger, metrics ...func(io.Writer)) (func(), error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("--admin-listen: %w", err)
	}
	srv := &http.Server{Handler: admin.Handler(ad.Modes, ad.Shadower, metrics...), ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	log.Info("admin API", "address", "http://"+ln.Addr().String())
	return func() { srv.Close() }, nil
}
