package testenv

import (
	"context"
	"os"
	"testing"
)

// EnvAdapterEndpoint names an already running adapter to test.
const EnvAdapterEndpoint = "DUALREAD_ADAPTER_ENDPOINT"

// adapterStarter starts an in-process adapter for a test and returns its
// endpoint. It is nil until the lead's adapter.go (same package) registers
// StartAdapter with `func init() { adapterStarter = StartAdapter }`; it is
// written only during package initialisation, never while tests run.
var adapterStarter func(t testing.TB) string

// Kind says what system a Target is.
type Kind string

const (
	KindAdapter       Kind = "adapter"
	KindDynamoDBLocal Kind = "dynamodb-local"
)

// Target is the system a test exercises.
type Target struct {
	Endpoint string
	Kind     Kind
}

// Env is the per-test-binary environment, created once in TestMain and
// shared by the tests: one oracle DynamoDB Local, started here unless
// DUALREAD_DYNAMODB_ENDPOINT names one.
type Env struct {
	oracle string
	proc   *Process
}

// New sets up the Env; call Close when m.Run returns.
func New(ctx context.Context) (*Env, error) {
	if ep := os.Getenv(EnvDynamoDBEndpoint); ep != "" {
		return &Env{oracle: ep}, nil
	}
	p, err := LaunchDynamoDBLocal(ctx)
	if err != nil {
		return nil, err
	}
	return &Env{oracle: p.Endpoint, proc: p}, nil
}

// Close stops what New started.
func (e *Env) Close() { e.proc.Stop() }

// Oracle is DynamoDB Local's endpoint.
func (e *Env) Oracle() string { return e.oracle }

// adapter returns the adapter endpoint for t, if any adapter is available.
func adapter(t testing.TB) (string, bool) {
	if ep := os.Getenv(EnvAdapterEndpoint); ep != "" {
		return ep, true
	}
	if adapterStarter != nil {
		return adapterStarter(t), true
	}
	return "", false
}

// Target is the system under test: the adapter when one is available,
// otherwise the oracle itself (so the suite proves itself against DynamoDB
// Local). Call it from a top-level test: a started adapter lives until t ends.
func (e *Env) Target(t testing.TB) Target {
	t.Helper()
	if ep, ok := adapter(t); ok {
		return Target{Endpoint: ep, Kind: KindAdapter}
	}
	return Target{Endpoint: e.oracle, Kind: KindDynamoDBLocal}
}

// Counterpart is the system to compare against the oracle: the adapter when
// one is available, otherwise a second, independent DynamoDB Local, so a
// differential run without an adapter must report zero differences.
func (e *Env) Counterpart(t testing.TB) Target {
	t.Helper()
	if ep, ok := adapter(t); ok {
		return Target{Endpoint: ep, Kind: KindAdapter}
	}
	return Target{Endpoint: startOwnDynamoDBLocal(t), Kind: KindDynamoDBLocal}
}
