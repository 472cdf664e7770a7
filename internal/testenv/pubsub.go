package testenv

import (
	"testing"

	"cloud.google.com/go/pubsub/v2/pstest"
)

// NewPubSub starts an in-process Pub/Sub fake (pstest) on a loopback port
// and closes it when the test ends. Connect with
// EmulatorClientOptions(srv.Addr); srv.Messages() shows what was published,
// which lets a test check what a component sent without subscribing.
// No env var override: the fake costs nothing to start and every test gets
// clean topics.
func NewPubSub(t testing.TB) *pstest.Server {
	t.Helper()
	// pstest.NewServer listens on "localhost:0", which may resolve beyond
	// IPv4 loopback; name the address so it is 127.0.0.1 only.
	srv := pstest.NewServerWithAddress("127.0.0.1:0")
	t.Cleanup(func() { srv.Close() })
	return srv
}
