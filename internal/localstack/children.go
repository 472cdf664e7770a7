package localstack

import (
	"fmt"
	"net/http"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/dualread/dualread/internal/demo"
	"github.com/dualread/dualread/internal/standin"
)

// child is one process of the stack and how to stop it.
type child struct {
	role string // short name: also the log file's name
	spec standin.Spec
	proc *standin.Process
	// stage orders shutdown: lower stages stop first, so traffic stops
	// before the adapter, the adapter before the audit it feeds, and the
	// stand-ins last, once nobody writes to them.
	stage int
	grace time.Duration
	// thirdParty marks a stand-in: one killed by the TERM we sent (its
	// default action) stopped as asked. dualread's own children must
	// exit 0 after a TERM, since they handle it.
	thirdParty bool
	// optional marks the demo: its exit (at --duration) is not a failure
	// of the stack.
	optional bool
}

func loopback(port int) string { return "127.0.0.1:" + strconv.Itoa(port) }
func url(port int) string      { return "http://" + loopback(port) }

// Endpoints are where the stack's servers answer: URLs for the HTTP ones,
// host:port for the gRPC ones (Bigtable, Audit).
type Endpoints struct {
	Adapter    string `json:"adapter"`
	Admin      string `json:"admin"`
	DynamoDB   string `json:"dynamodb"`
	Kinesis    string `json:"kinesis"`
	InfluxDB   string `json:"influxdb"`
	Bigtable   string `json:"bigtable"`
	Audit      string `json:"audit"`
	Streamproc string `json:"streamproc"`
}

func (c *Config) endpoints() Endpoints {
	p := c.Ports
	return Endpoints{Adapter: url(p.Adapter), Admin: url(p.Admin), DynamoDB: url(p.DynamoDB), Kinesis: url(p.Kinesis),
		InfluxDB: url(p.InfluxDB), Bigtable: loopback(p.Bigtable), Audit: loopback(p.Audit), Streamproc: url(p.Streamproc)}
}

func (c *Config) logPath(role string) string { return filepath.Join(c.RunDir, role+".log") }

// standIns are the third-party servers, started together first.
func (c *Config) standIns() ([]*child, error) {
	p := c.Ports
	type mk struct {
		role string
		spec func() (standin.Spec, error)
	}
	var out []*child
	for _, m := range []mk{
		{"dynamodb-local", func() (standin.Spec, error) { return standin.DynamoDBLocal(p.DynamoDB) }},
		{"kinesalite", func() (standin.Spec, error) { return standin.Kinesalite(p.Kinesis) }},
		{"influxdb", func() (standin.Spec, error) {
			return standin.InfluxDB(p.InfluxDB, p.InfluxRPC, filepath.Join(c.RunDir, "influxdb"))
		}},
		{"bigtable-emulator", func() (standin.Spec, error) { return standin.BigtableEmulator(p.Bigtable) }},
	} {
		spec, err := m.spec()
		if err != nil {
			return nil, err
		}
		spec.LogPath = c.logPath(m.role)
		out = append(out, &child{role: m.role, spec: spec, stage: 9, grace: 15 * time.Second, thirdParty: true})
	}
	return out, nil
}

// env is what every dualread child gets: the emulator, the stack's AWS
// credentials, and no AWS profile of the user's (a configured region or
// SSO profile would otherwise leak into the local stack).
func (c *Config) env() []string {
	none := filepath.Join(c.RunDir, "aws-none")
	return []string{
		"BIGTABLE_EMULATOR_HOST=" + loopback(c.Ports.Bigtable),
		"AWS_ACCESS_KEY_ID=" + AccessKeyID,
		"AWS_SECRET_ACCESS_KEY=" + SecretAccessKey,
		"AWS_SESSION_TOKEN=",
		"AWS_REGION=" + Region,
		"AWS_PROFILE=",
		"AWS_EC2_METADATA_DISABLED=true",
		"AWS_CONFIG_FILE=" + none,
		"AWS_SHARED_CREDENTIALS_FILE=" + none,
	}
}

// dualread is a child running the dualread binary with args.
func (c *Config) dualread(role string, stage int, grace time.Duration, ready standin.Probe, args ...string) *child {
	return &child{role: role, stage: stage, grace: grace, spec: standin.Spec{
		Name: "dualread " + args[0], Path: c.Binary, Args: append(args, "--log-format", "text"),
		Env: c.env(), LogPath: c.logPath(role), Ready: ready, Timeout: time.Minute,
	}}
}

func (c *Config) auditChild() *child {
	e := c.endpoints()
	return c.dualread("audit", 4, 40*time.Second, standin.TCPOpen(e.Audit), "audit",
		"--listen", e.Audit,
		"--influx", e.InfluxDB, "--influx-bucket", InfluxDatabase+"/autogen", "--interval", "2s",
		"--pairs-project", BigtableProject, "--pairs-instance", PairsInstance,
		"--reread-adapter", e.Adapter, "--reread-dynamodb", e.DynamoDB, "--region", Region, "--lag-delay", "2s")
}

func (c *Config) adapterChild() *child {
	e := c.endpoints()
	return c.dualread("adapter", 1, 20*time.Second,
		standin.All(standin.HTTPStatus(e.Adapter+"/", http.StatusOK), standin.HTTPStatus(e.Admin+"/healthz", http.StatusOK)),
		"serve", "--listen", loopback(c.Ports.Adapter),
		"--backend", "bigtable", "--bigtable-project", BigtableProject, "--bigtable-instance", BigtableInstance,
		"--region", Region, "--auth", "identify", "--credentials", filepath.Join(c.RunDir, "credentials.yaml"),
		"--shadow-endpoint", e.DynamoDB, "--shadow-region", Region, "--shadow-sample", "1",
		"--audit", e.Audit,
		"--access-influx", e.InfluxDB, "--access-db", InfluxDatabase,
		"--admin-listen", loopback(c.Ports.Admin),
		"--shutdown-timeout", "5s")
}

func (c *Config) streamprocChild() *child {
	e := c.endpoints()
	return c.dualread("streamproc", 3, 20*time.Second, standin.HTTPStatus(e.Streamproc+"/healthz", http.StatusOK),
		"streamproc", "--stream", Stream, "--source-endpoint", e.Kinesis, "--source-region", Region,
		"--backend", "bigtable", "--bigtable-project", BigtableProject, "--bigtable-instance", BigtableInstance,
		"--influx", e.InfluxDB, "--influx-bucket", InfluxDatabase+"/autogen", "--metrics-interval", "1s",
		"--metrics-listen", loopback(c.Ports.Streamproc), "--lease", "5s")
}

func (c *Config) bridgeChild() *child {
	e := c.endpoints()
	// No port to probe: started is as ready as it gets; a bridge that
	// cannot reach its ends exits, and Wait reports that.
	return c.dualread("kds-bridge", 2, 15*time.Second, nil,
		"kds-bridge", "--dynamodb-endpoint", e.DynamoDB, "--kinesis-endpoint", e.Kinesis, "--stream", Stream,
		"--region", Region, "--enable-streams", "--poll", "250ms")
}

func (c *Config) demoChild() *child {
	e := c.endpoints()
	ch := c.dualread("demo", 0, 10*time.Second, standin.LogContains(c.logPath("demo"), demo.ReadyLine),
		"demo", "--adapter", e.Adapter, "--dynamodb", e.DynamoDB, "--region", Region,
		"--rate", strconv.FormatFloat(c.DemoRate, 'g', -1, 64), "--duration", c.DemoDuration.String())
	ch.optional = true
	return ch
}

// CommandLines are the dualread children's arguments (subcommand first)
// for cfg, by role: for checking them against the real commands' flags.
func CommandLines(cfg Config) map[string][]string {
	cfg.defaults()
	m := map[string][]string{}
	for _, ch := range []*child{cfg.auditChild(), cfg.adapterChild(), cfg.streamprocChild(), cfg.bridgeChild(), cfg.demoChild()} {
		m[ch.role] = ch.spec.Args
	}
	return m
}

// cleanStop reports whether err (from Shutdown) means the child stopped as
// asked.
func (ch *child) cleanStop(err error) bool {
	if err == nil {
		return true
	}
	if !ch.thirdParty || ch.proc == nil {
		return false
	}
	// Killed by our TERM, or a JVM's 128+15 after its shutdown hooks.
	ws, ok := ch.proc.WaitStatus()
	return ok && ((ws.Signaled() && ws.Signal() == syscall.SIGTERM) || (ws.Exited() && ws.ExitStatus() == 128+int(syscall.SIGTERM)))
}

func (ch *child) String() string { return fmt.Sprintf("%s (pid %d)", ch.role, ch.proc.PID()) }
