package drill

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/connectivity"
	"google.golang.org/grpc/credentials/insecure"
)

// preflight checks that every component answers before anything changes:
// the admin API, each Health entry, and InfluxDB when configured. One
// step per component, so the report names the one that is down.
func (d *run) preflight(ctx context.Context) bool {
	ok := d.step("", "preflight adapter", func() (string, error) {
		for _, base := range d.admins {
			if err := d.httpOK(ctx, base+"/healthz"); err != nil {
				return "", err
			}
		}
		return fmt.Sprintf("%d admin API(s) healthy", len(d.admins)), nil
	})
	names := make([]string, 0, len(d.cfg.Health))
	for n := range d.cfg.Health {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		target := d.cfg.Health[n]
		ok = d.step("", "preflight "+n, func() (string, error) {
			if strings.HasPrefix(target, "http://") || strings.HasPrefix(target, "https://") {
				return target + " healthy", d.httpOK(ctx, target)
			}
			return target + " accepts gRPC connections", grpcReady(ctx, target)
		}) && ok
	}
	if d.cfg.Influx != nil {
		ok = d.step("", "preflight influxdb", func() (string, error) {
			return d.cfg.Influx.URL + " answers", d.cfg.Influx.ping(ctx, d.cfg.HTTP)
		}) && ok
	}
	return ok
}

func (d *run) httpOK(ctx context.Context, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := d.cfg.HTTP.Do(req)
	if err != nil {
		return fmt.Errorf("%s: %w", url, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s: HTTP %d %s", url, resp.StatusCode, strings.TrimSpace(string(body)))
	}
	return nil
}

// grpcReady waits (up to 5 s) for a gRPC connection to reach READY: the
// audit service has no HTTP port, and a connection that completes the HTTP/2
// handshake is a gRPC server listening, not just an open port.
func grpcReady(ctx context.Context, addr string) error {
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return err
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	conn.Connect()
	for {
		s := conn.GetState()
		if s == connectivity.Ready {
			return nil
		}
		if !conn.WaitForStateChange(ctx, s) {
			return fmt.Errorf("%s: no gRPC connection (state %s)", addr, s)
		}
	}
}
