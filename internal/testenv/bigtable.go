package testenv

import (
	"context"
	"os"
	"testing"

	"google.golang.org/api/option"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/dualread/dualread/internal/standin"
)

// EnvBigtableEmulatorHost names an already running Bigtable emulator
// (host:port, like BIGTABLE_EMULATOR_HOST) to use instead of starting one.
const EnvBigtableEmulatorHost = "DUALREAD_BIGTABLE_EMULATOR_HOST"

// LaunchBigtableEmulator runs `standins.sh bigtable PORT` (the Cloud SDK's
// cbtemulator, or the same emulator built from cloud.google.com/go/bigtable)
// on a free loopback port and waits until the port accepts connections.
// Unlike the embedded bttest server, it is a separate process, so data
// survives a restart of the adapter that uses it.
func LaunchBigtableEmulator(ctx context.Context) (*StandIn, error) {
	spec, err := standin.OnFreePort(standin.BigtableEmulator)
	return launchStandin(ctx, spec, err, "")
}

// StartBigtableEmulator returns the host:port of a Bigtable emulator for
// this test: the one named by DUALREAD_BIGTABLE_EMULATOR_HOST if set,
// otherwise a fresh process killed when the test ends. Connect with
// EmulatorClientOptions.
func StartBigtableEmulator(t testing.TB) string {
	t.Helper()
	if hp := os.Getenv(EnvBigtableEmulatorHost); hp != "" {
		return hp
	}
	s, err := LaunchBigtableEmulator(context.Background())
	if err != nil {
		t.Fatalf("start Bigtable emulator: %v", err)
	}
	t.Cleanup(s.Stop)
	return s.Addr
}

// EmulatorClientOptions are the Google client options that reach a local
// gRPC emulator at hostPort (Bigtable, Pub/Sub, Spanner): plain-text gRPC,
// no credentials and no telemetry export. Passing them is explicit where the *_EMULATOR_HOST
// environment variables would be process-wide state.
func EmulatorClientOptions(hostPort string) []option.ClientOption {
	return []option.ClientOption{
		option.WithEndpoint(hostPort),
		option.WithoutAuthentication(),
		option.WithTelemetryDisabled(),
		option.WithGRPCDialOption(grpc.WithTransportCredentials(insecure.NewCredentials())),
	}
}
