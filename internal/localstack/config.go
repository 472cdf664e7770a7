// Package localstack runs the whole of dualread on one machine, which is
// what `make run` (`dualread local up`) starts: the stand-ins (DynamoDB
// Local, kinesalite, InfluxDB 1.8, the Bigtable emulator), the adapter with
// shadow reads to DynamoDB Local, the audit service, the KDS bridge and
// streamproc replicating DynamoDB Local into the adapter's store, and the
// demo traffic generator. Every child runs in its own process group with
// its log under the run folder; Down stops them in order and checks that
// none is left.
//
//	demo ──writes──▶ DynamoDB Local ──streams──▶ kds-bridge ──▶ kinesalite ──▶ streamproc ──▶ Bigtable emulator
//	demo ──reads───▶ adapter ──────────────────────────────────────────────────────────────────────▲
//	                   ├─shadow reads──▶ DynamoDB Local
//	                   └─pairs──▶ audit ──▶ InfluxDB (+ pair store on the Bigtable emulator)
package localstack

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/dualread/dualread/internal/standin"
)

// Ports are the loopback ports the stack's servers listen on.
type Ports struct {
	Adapter    int // the DynamoDB API
	Admin      int // the adapter's admin API
	DynamoDB   int // DynamoDB Local
	Kinesis    int // kinesalite
	InfluxDB   int // InfluxDB's HTTP API
	InfluxRPC  int // InfluxDB's backup service (cannot be turned off)
	Bigtable   int // the Bigtable emulator
	Audit      int // the audit service's gRPC Ingest
	Streamproc int // streamproc's /metrics and /healthz
}

// DefaultPorts are fixed so that bookmarks, the AWS CLI examples and the
// docs work run after run: 8000 is the adapter, as for `dualread serve`;
// the stand-ins keep their own defaults where those do not clash (kinesalite
// 4567, InfluxDB 8086/8088); DynamoDB Local moves off its 8000 to 8010.
func DefaultPorts() Ports {
	return Ports{Adapter: 8000, Admin: 8001, DynamoDB: 8010, Kinesis: 4567, InfluxDB: 8086, InfluxRPC: 8088,
		Bigtable: 9010, Audit: 9180, Streamproc: 9181}
}

// named lists each port with its role and the flag that moves it, for
// checks and messages.
func (p Ports) named() []namedPort {
	return []namedPort{
		{p.Adapter, "the adapter", "--adapter-port"},
		{p.Admin, "the admin API", "--admin-port"},
		{p.DynamoDB, "DynamoDB Local", "--dynamodb-port"},
		{p.Kinesis, "kinesalite", "--kinesis-port"},
		{p.InfluxDB, "InfluxDB", "--influxdb-port"},
		{p.InfluxRPC, "InfluxDB's backup service", "--influxdb-rpc-port"},
		{p.Bigtable, "the Bigtable emulator", "--bigtable-port"},
		{p.Audit, "the audit service", "--audit-port"},
		{p.Streamproc, "streamproc's metrics", "--streamproc-port"},
	}
}

type namedPort struct {
	port       int
	role, flag string
}

// check fails, naming every problem, unless all ports are distinct and
// free now. Checking all of them before starting anything means a second
// `make run` fails at once with a clear message instead of half-starting.
func (p Ports) check() error {
	var errs []error
	seen := map[int]string{}
	for _, n := range p.named() {
		if n.port <= 0 || n.port > 65535 {
			errs = append(errs, fmt.Errorf("port %d for %s (%s) is not a TCP port", n.port, n.role, n.flag))
			continue
		}
		if other, dup := seen[n.port]; dup {
			errs = append(errs, fmt.Errorf("port %d is given to both %s and %s (%s)", n.port, other, n.role, n.flag))
			continue
		}
		seen[n.port] = n.role
		if err := standin.CheckPort(n.port); err != nil {
			if errors.Is(err, standin.ErrPortInUse) {
				err = fmt.Errorf("port %d for %s is already in use (another `make run`?): stop that process or pick another port with %s", n.port, n.role, n.flag)
			} else {
				err = fmt.Errorf("port %d for %s (%s): %w", n.port, n.role, n.flag, err)
			}
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Names the stack gives things on the stand-ins.
const (
	// BigtableProject and BigtableInstance hold the adapter's tables on the
	// emulator; any ids do, the emulator is ours.
	BigtableProject  = "local"
	BigtableInstance = "dualread"
	// PairsInstance holds the audit's pair store, apart from the tables.
	PairsInstance = "audit"
	// InfluxDatabase receives every metric (audit, access, replication).
	InfluxDatabase = "dualread"
	// Stream is the Kinesis stream the bridge feeds and streamproc reads.
	Stream = "dualread-local"
	// Region every client signs for.
	Region = "us-east-1"
	// AccessKeyID and SecretAccessKey are the stack's own credentials, given
	// to every child (shadow reads, the audit's re-reads, streamproc);
	// nothing here checks them, but the AWS SDK wants some.
	AccessKeyID     = "AKIDDUALREADLOCAL"
	SecretAccessKey = "dualread-local-secret"
)

// Config is what `dualread local up` is told.
type Config struct {
	Ports Ports
	// RunDir holds the logs, InfluxDB's files and the generated credentials
	// file (default .cache/run under the repository).
	RunDir string
	// Binary is the dualread binary the children run (default: this one).
	Binary string
	// Bridge runs `dualread kds-bridge`; false when the binary lacks it,
	// and then nothing replicates DynamoDB Local into the store.
	Bridge bool
	// Demo runs `dualread demo` at DemoRate for DemoDuration.
	Demo         bool
	DemoRate     float64
	DemoDuration time.Duration
	// Out receives the progress lines and the banner (the children log to
	// their files).
	Out io.Writer
}

func (c *Config) defaults() {
	if c.Out == nil {
		c.Out = io.Discard
	}
	if c.DemoRate <= 0 {
		c.DemoRate = 10
	}
}
