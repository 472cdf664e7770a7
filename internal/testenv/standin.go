package testenv

import (
	"context"
	"errors"
	"os"

	"github.com/dualread/dualread/internal/standin"
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

// launchStandin starts spec (one of internal/standin's stand-ins) on its
// port and waits until it is ready; dir is a scratch folder handed over to
// the StandIn. On failure the server's output is part of the error, since
// that is where the reason is.
func launchStandin(ctx context.Context, spec standin.Spec, err error, dir string) (*StandIn, error) {
	if err != nil {
		return nil, err
	}
	p, err := standin.Start(ctx, spec)
	if err != nil {
		return nil, err
	}
	return &StandIn{Addr: p.Addr, proc: &Process{Endpoint: p.Addr, proc: p}, dir: dir}, nil
}

// errNoName is returned for an empty resource name where a server would
// otherwise answer with a less helpful message.
var errNoName = errors.New("testenv: empty name")
