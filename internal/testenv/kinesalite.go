package testenv

import (
	"context"
	"os"
	"testing"

	"github.com/dualread/dualread/internal/standin"
)

// EnvKinesisEndpoint names an already running Kinesis stand-in (e.g.
// http://127.0.0.1:4567) to use instead of starting kinesalite.
const EnvKinesisEndpoint = "DUALREAD_KINESIS_ENDPOINT"

// LaunchKinesalite runs `standins.sh kinesalite PORT` on a free loopback
// port and waits until it answers HTTP. Streams become ACTIVE (or go) with
// no artificial delay, up to 100 shards, in memory; the change still lands
// just after CreateStream returns, so wait for ACTIVE as on AWS
// (kinesis.NewStreamExistsWaiter with a short MinDelay).
// kinesalite resolves streams by StreamName only: calls that pass just a
// StreamARN fail there, so tests must address streams by name.
func LaunchKinesalite(ctx context.Context) (*StandIn, error) {
	spec, err := standin.OnFreePort(standin.Kinesalite)
	return launchStandin(ctx, spec, err, "")
}

// StartKinesalite returns a Kinesis endpoint for this test: the one named by
// DUALREAD_KINESIS_ENDPOINT if set, otherwise a fresh kinesalite killed when
// the test ends. Sign requests with Region and the test credentials.
func StartKinesalite(t testing.TB) string {
	t.Helper()
	if ep := os.Getenv(EnvKinesisEndpoint); ep != "" {
		return ep
	}
	s, err := LaunchKinesalite(context.Background())
	if err != nil {
		t.Fatalf("start kinesalite: %v", err)
	}
	t.Cleanup(s.Stop)
	return s.Addr
}
