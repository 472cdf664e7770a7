package standin

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"os"
	"slices"
	"time"
)

// Probe is one readiness check; it reports whether the server answers yet.
type Probe func(ctx context.Context) bool

// HTTPStatus is ready when GET url answers with one of statuses, or with any
// status when none are given: several stand-ins refuse an unsigned GET / (a
// 400 from DynamoDB Local, a 403 from kinesalite), which still proves they
// listen and speak HTTP.
func HTTPStatus(url string, statuses ...int) Probe {
	hc := &http.Client{Timeout: time.Second}
	return func(ctx context.Context) bool {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return false
		}
		resp, err := hc.Do(req)
		if err != nil {
			return false
		}
		resp.Body.Close()
		return len(statuses) == 0 || slices.Contains(statuses, resp.StatusCode)
	}
}

// TCPOpen is ready when hostPort accepts a connection: the gRPC emulators
// have no HTTP health endpoint.
func TCPOpen(hostPort string) Probe {
	return func(ctx context.Context) bool {
		d := net.Dialer{Timeout: time.Second}
		c, err := d.DialContext(ctx, "tcp", hostPort)
		if err != nil {
			return false
		}
		c.Close()
		return true
	}
}

// LogContains is ready once the file at path contains marker: for a
// program whose only sign of readiness is a line it prints.
func LogContains(path, marker string) Probe {
	m := []byte(marker)
	return func(context.Context) bool {
		b, err := os.ReadFile(path)
		return err == nil && bytes.Contains(b, m)
	}
}

// All is ready when every probe is, checked in order.
func All(probes ...Probe) Probe {
	return func(ctx context.Context) bool {
		for _, p := range probes {
			if !p(ctx) {
				return false
			}
		}
		return true
	}
}
