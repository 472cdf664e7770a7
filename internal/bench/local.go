package bench

import (
	"context"
	"log/slog"

	"github.com/dualread/dualread/internal/standin"
)

// LocalProcess is a DynamoDB Local started by LaunchDynamoDBLocal.
type LocalProcess struct {
	Endpoint string
	proc     *standin.Process
}

// LaunchDynamoDBLocal starts AWS's DynamoDB Local (the reference target of
// a comparison) with deploy/local/standins.sh on a free loopback port, in
// its own process group, and waits until it answers. The repository is
// found by walking up from the working directory. Stop it when done.
// internal/standin launches it, as it does for the tests and the local
// stack (internal/testenv imports package testing, which does not belong in
// the dualread binary).
func LaunchDynamoDBLocal(ctx context.Context, log *slog.Logger) (*LocalProcess, error) {
	if log == nil {
		log = slog.Default()
	}
	spec, err := standin.OnFreePort(standin.DynamoDBLocal)
	if err != nil {
		return nil, err
	}
	log.Info("bench: starting DynamoDB Local", "endpoint", spec.Addr)
	p, err := standin.Start(ctx, spec)
	if err != nil {
		return nil, err
	}
	return &LocalProcess{Endpoint: p.Addr, proc: p}, nil
}

// Stop kills the process group this LocalProcess started and waits for it.
// Safe on nil.
func (p *LocalProcess) Stop() {
	if p == nil {
		return
	}
	p.proc.Stop()
}
