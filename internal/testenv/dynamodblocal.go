package testenv

import (
	"context"
	"os"
	"testing"

	"github.com/dualread/dualread/internal/standin"
)

// EnvDynamoDBEndpoint names an already running DynamoDB Local to use as the
// oracle instead of starting one (e.g. the shared one at 127.0.0.1:18000).
const EnvDynamoDBEndpoint = "DUALREAD_DYNAMODB_ENDPOINT"

// Process is a DynamoDB Local started by this package.
type Process struct {
	Endpoint string
	proc     *standin.Process
}

// LaunchDynamoDBLocal runs `deploy/local/standins.sh dynamodb PORT` in its own
// process group on a free loopback port and waits until it answers HTTP
// (internal/standin does the launching, as for every stand-in).
// TestMain has no testing.TB, hence this form; tests use StartDynamoDBLocal.
func LaunchDynamoDBLocal(ctx context.Context) (*Process, error) {
	spec, err := standin.OnFreePort(standin.DynamoDBLocal)
	if err != nil {
		return nil, err
	}
	p, err := standin.Start(ctx, spec)
	if err != nil {
		return nil, err
	}
	return &Process{Endpoint: p.Addr, proc: p}, nil
}

// Stop kills the process group and waits for the process to go. Safe on nil.
func (p *Process) Stop() {
	if p == nil {
		return
	}
	p.proc.Stop()
}

// StartDynamoDBLocal returns the endpoint of a DynamoDB Local for this test:
// the one named by DUALREAD_DYNAMODB_ENDPOINT if set, otherwise a fresh
// process killed when the test ends.
func StartDynamoDBLocal(t testing.TB) string {
	t.Helper()
	if ep := os.Getenv(EnvDynamoDBEndpoint); ep != "" {
		return ep
	}
	return startOwnDynamoDBLocal(t)
}

// startOwnDynamoDBLocal always starts a process, ignoring the env var: a
// second, independent instance is what the differential test needs when no
// adapter is present.
func startOwnDynamoDBLocal(t testing.TB) string {
	t.Helper()
	p, err := LaunchDynamoDBLocal(context.Background())
	if err != nil {
		t.Fatalf("start DynamoDB Local: %v", err)
	}
	t.Cleanup(p.Stop)
	return p.Endpoint
}
