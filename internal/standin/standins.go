package standin

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"time"
)

// Start-up bounds. Each covers a first run's install too, since standins.sh
// installs what is missing before exec'ing the server.
const (
	// DynamoDB Local: npm install on a first run, then ~2 s of JVM start.
	DynamoDBLocalTimeout = 60 * time.Second
	// kinesalite: npm install on a first run; cached it answers in < 1 s.
	KinesaliteTimeout = 90 * time.Second
	// InfluxDB: a machine's first start builds influxd from source (about
	// 3 minutes on 2 cores); a cached start takes ~3 s.
	InfluxDBTimeout = 6 * time.Minute
	// Bigtable emulator: the go-install fallback when the machine image has
	// no cbtemulator; otherwise it is up in about 0.1 s.
	BigtableTimeout = 3 * time.Minute
	// Spanner emulator: listens within ~0.3 s idle, much later when loaded.
	SpannerTimeout = 30 * time.Second
)

func loopback(port int) string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(port)) }

// DynamoDBLocal is AWS's DynamoDB Local (in memory, shared database) on
// 127.0.0.1:port. Any HTTP answer means ready: it refuses an unsigned GET /
// with 400 MissingAuthenticationToken rather than AWS's "healthy" text.
func DynamoDBLocal(port int) (Spec, error) {
	s, err := ScriptSpec("dynamodb", strconv.Itoa(port))
	s.Name, s.Addr = "DynamoDB Local", "http://"+loopback(port)
	s.Ready, s.Timeout, s.Poll = HTTPStatus(s.Addr+"/"), DynamoDBLocalTimeout, 200*time.Millisecond
	return s, err
}

// Kinesalite is the Kinesis stand-in on 127.0.0.1:port. Any answer means
// ready: it refuses an unsigned GET / with 403.
func Kinesalite(port int) (Spec, error) {
	s, err := ScriptSpec("kinesalite", strconv.Itoa(port))
	s.Name, s.Addr = "kinesalite", "http://"+loopback(port)
	s.Ready, s.Timeout = HTTPStatus(s.Addr+"/"), KinesaliteTimeout
	return s, err
}

// InfluxDB is InfluxDB 1.8 on 127.0.0.1:port with its files under dataDir;
// rpcPort holds its backup service, which cannot be turned off (0 lets the
// kernel choose). Ready when GET /ping answers 204. Create the databases
// with CreateInfluxDatabases: 1.8 refuses writes to a missing one.
func InfluxDB(port, rpcPort int, dataDir string) (Spec, error) {
	s, err := ScriptSpec("influxdb", strconv.Itoa(port), dataDir, strconv.Itoa(rpcPort))
	s.Name, s.Addr = "InfluxDB", "http://"+loopback(port)
	s.Ready, s.Timeout = HTTPStatus(s.Addr+"/ping", http.StatusNoContent), InfluxDBTimeout
	return s, err
}

// BigtableEmulator is the Cloud SDK's cbtemulator (or the same emulator
// built from cloud.google.com/go/bigtable) on 127.0.0.1:port; Addr is the
// value for BIGTABLE_EMULATOR_HOST. Unlike the embedded bttest server it is
// a process of its own, so several processes share its data and it
// survives a restart of any of them.
func BigtableEmulator(port int) (Spec, error) {
	s, err := ScriptSpec("bigtable", strconv.Itoa(port))
	s.Name, s.Addr = "Bigtable emulator", loopback(port)
	s.Ready, s.Timeout = TCPOpen(s.Addr), BigtableTimeout
	return s, err
}

// ErrNoSpannerEmulator says the Cloud Spanner emulator is not installed.
var ErrNoSpannerEmulator = errors.New("Cloud Spanner emulator not found: install the Debian package " +
	SpannerEmulatorPackage + " or set " + EnvSpannerEmulatorBinary + " to emulator_main")

// SpannerEmulator is the official Cloud Spanner emulator on
// 127.0.0.1:port; Addr is the value for SPANNER_EMULATOR_HOST. Use a fresh
// one per suite or measurement: emulator 1.5.28's clock drifts ahead under
// sustained load and strong reads then wait longer and longer
// (cloud-spanner-emulator#277).
func SpannerEmulator(port int) (Spec, error) {
	bin := SpannerEmulatorBinary()
	if bin == "" {
		return Spec{}, ErrNoSpannerEmulator
	}
	addr := loopback(port)
	return Spec{Name: "Spanner emulator", Addr: addr, Path: bin, Args: []string{"--host_port", addr},
		Ready: TCPOpen(addr), Timeout: SpannerTimeout, Poll: 50 * time.Millisecond}, nil
}

// OnFreePort builds a stand-in's Spec on a free loopback port.
func OnFreePort(spec func(port int) (Spec, error)) (Spec, error) {
	port, err := FreePort()
	if err != nil {
		return Spec{}, fmt.Errorf("standin: free port: %w", err)
	}
	return spec(port)
}
