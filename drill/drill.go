// Package drill is the daily mock cutover: it proves, on live tables, that
// the adapter could take over from DynamoDB now, and puts everything back.
//
// For each table, in order:
//
//	preflight  the adapter, its admin API, the stream processor and the audit answer
//	canary     a marker item written to DynamoDB; time until the adapter serves it
//	drain      replication lag (InfluxDB's dualread_replication, and the canary) under a threshold
//	verify     DynamoDB and the adapter compared (a sample, or everything with verify.Run)
//	switch     the table's mode changed through the admin API (default: reads served by the store)
//	smoke      reads through the switched adapter compared with DynamoDB
//	rollback   the table's previous mode restored, and checked
//
// then the audit's mismatch rate of the last 24 h per table, and a report
// (Markdown, JSON and a dualread_drill point per table) with a go/no-go
// verdict and the reasons for a no-go. A dry run performs only the read-only
// steps and prints what the others would do.
package drill

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// Config is one drill. Adapter, DynamoDB, AdminURLs and Tables are required.
type Config struct {
	Adapter  *dynamodb.Client // the adapter's DynamoDB endpoint
	DynamoDB *dynamodb.Client // the source of truth
	// AdminURLs are the adapter replicas' admin APIs, e.g.
	// http://127.0.0.1:8001. Modes are per process, so the switch goes to
	// every replica; with AdminEveryAddress each URL's host is resolved and
	// every address is one replica (a Kubernetes headless Service).
	AdminURLs         []string
	AdminEveryAddress bool
	Tables            []string

	// Health names further components to check in preflight: an http(s) URL
	// must answer 2xx (streamproc's /healthz), a bare host:port must accept
	// a gRPC connection (the audit service).
	Health map[string]string

	// Influx, when set, is read for replication lag and the audit's mismatch
	// counts, and receives one dualread_drill point per table.
	Influx *Influx

	LagThreshold    time.Duration // drain passes when lag stays under it (default 5 s)
	CanaryTimeout   time.Duration // how long the marker may take to appear (default 60 s)
	Verify          string        // "sample" (default), "full" or "off"
	VerifySample    int           // items compared by a sampled verify (default 200)
	MaxMismatchRate float64       // of the audit's pairs over MismatchWindow (default 0: none unexplained)
	MismatchWindow  time.Duration // default 24 h
	MinAuditPairs   int64         // fewer pairs than this in the window is a no-go (default 0: not required)
	Switch          map[string]any
	SmokeReads      int // GetItems compared during the smoke test (default 20)
	DryRun          bool

	HTTP   *http.Client
	Logger *slog.Logger
	RunID  string // default: derived from the start time
}

// DefaultSwitch is the mode a drill switches a table to: reads served by the
// store with no shadow, as after a cutover. Writes keep their mode, so no
// application write can land on one side only while the drill runs; a
// cutover rehearsal of writes is opt-in (Switch with "writes").
var DefaultSwitch = map[string]any{"serve": "store", "shadow": "off"}

func (c *Config) defaults() error {
	if c.Adapter == nil || c.DynamoDB == nil || len(c.AdminURLs) == 0 || len(c.Tables) == 0 {
		return fmt.Errorf("drill: the adapter, DynamoDB, the admin API and at least one table are required")
	}
	if c.LagThreshold <= 0 {
		c.LagThreshold = 5 * time.Second
	}
	if c.CanaryTimeout <= 0 {
		c.CanaryTimeout = time.Minute
	}
	switch c.Verify {
	case "":
		c.Verify = "sample"
	case "sample", "full", "off":
	default:
		return fmt.Errorf("drill: verify %q is not sample, full or off", c.Verify)
	}
	if c.VerifySample <= 0 {
		c.VerifySample = 200
	}
	if c.MismatchWindow <= 0 {
		c.MismatchWindow = 24 * time.Hour
	}
	if c.Switch == nil {
		c.Switch = DefaultSwitch
	}
	if c.SmokeReads <= 0 {
		c.SmokeReads = 20
	}
	if c.HTTP == nil {
		c.HTTP = &http.Client{Timeout: 10 * time.Second}
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	for i, u := range c.AdminURLs {
		c.AdminURLs[i] = strings.TrimRight(u, "/")
	}
	return nil
}

// Run performs the drill and returns its report. The error is for a drill
// that could not run at all (bad configuration); a failing step is a no-go
// in the report, not an error.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	start := time.Now()
	if cfg.RunID == "" {
		cfg.RunID = start.UTC().Format("20060102T150405.000Z")
	}
	d := &run{cfg: cfg, rep: &Report{RunID: cfg.RunID, Started: start, DryRun: cfg.DryRun}}
	healthy := d.resolveAdmins(ctx) && d.preflight(ctx)
	for _, t := range cfg.Tables {
		d.table(ctx, t, healthy)
	}
	d.auditRates(ctx)
	d.rep.Finished = time.Now()
	d.rep.DurationMS = d.rep.Finished.Sub(start).Milliseconds()
	d.rep.decide(cfg)
	if cfg.Influx != nil && !cfg.DryRun {
		if err := cfg.Influx.writeReport(ctx, d.rep); err != nil {
			d.rep.Warnings = append(d.rep.Warnings, "InfluxDB: report not written: "+err.Error())
		}
	}
	return d.rep, nil
}

// run is one drill in progress.
type run struct {
	cfg    Config
	rep    *Report
	admins []string // one admin API base URL per adapter replica
}

// step times f and records it. f returns a detail line and an error; a
// skipped step records why.
func (d *run) step(table, name string, f func() (string, error)) bool {
	s := Step{Name: name, Table: table, Status: StatusOK}
	t0 := time.Now()
	detail, err := f()
	s.DurationMS = time.Since(t0).Milliseconds()
	s.Detail = detail
	if err != nil {
		s.Status, s.Detail = StatusFailed, err.Error()
	}
	d.rep.Steps = append(d.rep.Steps, s)
	d.cfg.Logger.Info("drill step", "table", table, "step", name, "status", s.Status, "detail", s.Detail, "ms", s.DurationMS)
	return err == nil
}

func (d *run) skip(table, name, why string) {
	d.rep.Steps = append(d.rep.Steps, Step{Name: name, Table: table, Status: StatusSkipped, Detail: why})
	d.cfg.Logger.Info("drill step", "table", table, "step", name, "status", StatusSkipped, "detail", why)
}

// table runs the per-table steps. Mutating steps (canary, switch, smoke)
// run only while everything before them passed: a table whose replication
// is broken is never switched. Read-only steps always run, so the report
// says as much as it can.
func (d *run) table(ctx context.Context, name string, healthy bool) {
	tr := &TableReport{Name: name, CanaryMS: -1, LagMS: -1}
	d.rep.Tables = append(d.rep.Tables, tr)
	ok := healthy
	var keys *keySchema
	if !d.step(name, "describe", func() (string, error) {
		var err error
		keys, err = describeBoth(ctx, d.cfg.DynamoDB, d.cfg.Adapter, name)
		if err != nil {
			return "", err
		}
		return keys.String(), nil
	}) {
		return
	}

	mutate := func(step, plan string, f func() (string, error)) {
		switch {
		case d.cfg.DryRun:
			d.skip(name, step, "dry run: would "+plan)
		case !ok:
			d.skip(name, step, "an earlier step failed; would "+plan)
		default:
			ok = d.step(name, step, f) && ok
		}
	}
	canaryAt := time.Now()
	mutate("canary", "write a marker item to DynamoDB and time until the adapter serves it", func() (string, error) {
		return d.canary(ctx, tr, keys)
	})
	ok = d.step(name, "drain", func() (string, error) { return d.drain(ctx, tr, canaryAt) }) && ok
	if d.cfg.Verify == "off" {
		d.skip(name, "verify", "verify off")
	} else {
		ok = d.step(name, "verify", func() (string, error) { return d.verify(ctx, tr, keys) }) && ok
	}
	var prev []*modeState
	mutate("switch", fmt.Sprintf("PUT /modes/%s %s on %s", name, jsonString(d.cfg.Switch), strings.Join(d.admins, ", ")), func() (string, error) {
		var err error
		prev, err = d.switchMode(ctx, name)
		if prev == nil { // the modes could not be read: nothing was changed
			return "", err
		}
		tr.Switched = true
		return fmt.Sprintf("mode %s on %d adapter(s) (was %s)", jsonString(d.cfg.Switch), len(d.admins), prev[0]), err
	})
	mutate("smoke", fmt.Sprintf("send %d reads through the switched adapter and compare them with DynamoDB", d.cfg.SmokeReads), func() (string, error) {
		return d.smoke(ctx, tr, keys)
	})
	// Roll back whatever happened after a switch, even a failed smoke test.
	if prev != nil {
		d.step(name, "rollback", func() (string, error) {
			detail, err := d.rollback(ctx, name, prev)
			tr.RolledBack = err == nil
			return detail, err
		})
	} else if d.cfg.DryRun {
		d.skip(name, "rollback", "dry run: would restore the table's mode as it was and check it")
	}
}
