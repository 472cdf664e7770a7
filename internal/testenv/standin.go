package testenv

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"
)

// StandIn is a stand-in server process (InfluxDB, kinesalite, the Bigtable
// emulator) started by this package through deploy/local/standins.sh.
type StandIn struct {
	// Addr is what clients connect to: a URL for the HTTP services, a bare
	// host:port for the gRPC ones.
	Addr string
	proc *Process
	// dir is a scratch folder the server owns, removed by Stop.
	dir string
}

// Stop kills the server's process group, waits for it to go, and removes its
// scratch files. Safe on nil and safe to call twice.
func (s *StandIn) Stop() {
	if s == nil {
		return
	}
	s.proc.Stop()
	if s.dir != "" {
		os.RemoveAll(s.dir)
	}
}

// standinSpec says how to start one stand-in and how to tell it is ready.
type standinSpec struct {
	name string   // for error messages, e.g. "InfluxDB"
	args []string // standins.sh arguments, e.g. {"kinesalite", "4567"}
	addr string   // what StandIn.Addr becomes
	// timeout bounds start-up. It covers a first run's install too (the
	// script installs what is missing before exec'ing the server).
	timeout time.Duration
	// ready is one probe; it reports whether the server answers yet.
	ready func(ctx context.Context) bool
	dir   string // scratch folder handed over to the StandIn
}

// launchStandin runs `deploy/local/standins.sh ARGS...` in its own process
// group, the same way LaunchDynamoDBLocal does, and polls spec.ready until it
// answers, the process exits or the timeout passes. On failure the server's
// output is part of the error, since that is where the reason is.
func launchStandin(ctx context.Context, spec standinSpec) (*StandIn, error) {
	wd, err := os.Getwd()
	if err != nil {
		return nil, err
	}
	root, err := RepoRoot(wd)
	if err != nil {
		return nil, err
	}
	logf, err := os.CreateTemp("", "standin-*.log")
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(filepath.Join(root, "deploy/local/standins.sh"), spec.args...)
	cmd.Dir = root
	cmd.Stdout, cmd.Stderr = logf, logf
	// Own process group so Stop kills the server and anything it spawned;
	// Pdeathsig so a test binary killed by -timeout leaves no server behind
	// (standins.sh execs the server, so it is the direct child).
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logf.Close()
		os.Remove(logf.Name())
		return nil, err
	}
	p := &Process{Endpoint: spec.addr, cmd: cmd, done: make(chan struct{}), log: logf}
	go func() { _ = cmd.Wait(); close(p.done) }()
	s := &StandIn{Addr: spec.addr, proc: p, dir: spec.dir}
	if err := waitStandin(ctx, spec, p.done); err != nil {
		out, _ := os.ReadFile(logf.Name())
		s.Stop()
		return nil, fmt.Errorf("%w\n--- %s output ---\n%s", err, spec.name, out)
	}
	return s, nil
}

func waitStandin(ctx context.Context, spec standinSpec, done <-chan struct{}) error {
	ctx, cancel := context.WithTimeout(ctx, spec.timeout)
	defer cancel()
	for {
		if spec.ready(ctx) {
			return nil
		}
		select {
		case <-done:
			return fmt.Errorf("testenv: %s exited before answering", spec.name)
		case <-ctx.Done():
			return fmt.Errorf("testenv: %s at %s did not answer: %w", spec.name, spec.addr, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// httpStatusIs returns a probe that is ready when GET url answers with one
// of the given statuses (any status when none are given).
func httpStatusIs(url string, statuses ...int) func(context.Context) bool {
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
		if len(statuses) == 0 {
			return true
		}
		for _, s := range statuses {
			if resp.StatusCode == s {
				return true
			}
		}
		return false
	}
}

// tcpOpen returns a probe that is ready when hostPort accepts a connection:
// the gRPC emulators have no HTTP health endpoint.
func tcpOpen(hostPort string) func(context.Context) bool {
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

// errNoName is returned for an empty resource name where a server would
// otherwise answer with a less helpful message.
var errNoName = errors.New("testenv: empty name")
