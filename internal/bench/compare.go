package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime"
	"strings"
	"time"
)

// Target is one system a comparison loads.
type Target struct {
	Name string // column label, e.g. "bare", "dynamodb-local", "adapter"
	// Endpoint is an already running server; or, when Handler is set, the
	// handler is served on a loopback port for the duration of its run.
	Endpoint string
	Handler  http.Handler
	// Raw, instead of Endpoint or Handler, performs the operations directly
	// on a backend (RunRaw).
	Raw RawClient
	// Baseline names another target this one's overhead is reported
	// against (the adapter's raw client on the same emulator).
	Baseline string
	// Reference marks the target ratios are computed against (DynamoDB
	// Local, normally). Without one, the first target is the reference.
	Reference bool
	// Notes, if set, is called after the last round; its text goes under
	// the report (what a target did besides answering, e.g. shadow reads).
	Notes func() string
}

// Comparison is the same workload run against several targets in turn.
type Comparison struct {
	Reference string    // name of the reference target
	Results   []*Result // in target order; a failed target has no entry
	Failures  []TargetFailure
	// Baselines maps a target to the target its overhead is reported
	// against (Target.Baseline).
	Baselines map[string]string
	// Notes holds each target's Notes text, by target name.
	Notes map[string]string
}

// TargetFailure is a target whose run could not complete (setup failed).
type TargetFailure struct {
	Target string
	Err    error
}

// Compare runs cfg against each target one after another in this process,
// cfg.Rounds times over (default once), each target with its own fresh
// table (cfg.Table, deleted after the last round unless cfg.Keep).
// cfg.Endpoint is ignored: each target supplies its own. A target that fails
// is reported in Failures and the others still run; the error is non-nil
// only when ctx ends or every target failed. Odd rounds run the targets in
// reverse order (A B, B A, …), so that what drifts during a run (a Spanner
// emulator's clock, a warming JIT, a growing heap) does not always fall on
// the same target.
func Compare(ctx context.Context, targets []Target, cfg Config, log *slog.Logger) (*Comparison, error) {
	if log == nil {
		log = slog.Default()
	}
	if len(targets) == 0 {
		return nil, errors.New("bench: compare needs at least one target")
	}
	rounds := max(cfg.Rounds, 1)
	cmp := &Comparison{Reference: targets[0].Name}
	for _, t := range targets {
		if t.Reference {
			cmp.Reference = t.Name
			break
		}
	}
	for _, t := range targets {
		if t.Baseline != "" {
			if cmp.Baselines == nil {
				cmp.Baselines = map[string]string{}
			}
			cmp.Baselines[t.Name] = t.Baseline
		}
	}

	// In-process handlers are served once for all rounds.
	endpoints := make([]string, len(targets))
	failed := make([]error, len(targets))
	for i, t := range targets {
		switch {
		case t.Raw != nil:
		case t.Handler != nil:
			srv, err := Serve(t.Handler)
			if err != nil {
				failed[i] = err
				continue
			}
			defer srv.Close()
			endpoints[i] = srv.URL
		case t.Endpoint != "":
			endpoints[i] = t.Endpoint
		default:
			failed[i] = fmt.Errorf("bench: target %q has neither Endpoint, Handler nor Raw", t.Name)
		}
	}

	results := make([]*Result, len(targets))
rounds:
	for round := range rounds {
		for j := range targets {
			i := j
			if round%2 == 1 {
				i = len(targets) - 1 - j
			}
			t := targets[i]
			if ctx.Err() != nil {
				break rounds
			}
			if failed[i] != nil {
				continue
			}
			c := cfg
			c.Endpoint = endpoints[i]
			c.adapterBackend = "" // the caller opened the targets
			if rounds > 1 {
				c.keepForRounds = true
				c.SkipPreload = cfg.SkipPreload || round > 0
				c.Seed = cfg.Seed + uint64(round)*1_000_003 // same keys for every target within a round
			}
			tlog := log.With("target", t.Name)
			if rounds > 1 {
				tlog = tlog.With("round", round+1)
			}
			var res *Result
			var err error
			if t.Raw != nil {
				res, err = RunRaw(ctx, c, t.Raw, tlog)
			} else {
				res, err = Run(ctx, c, tlog)
			}
			if err != nil {
				tlog.Error("bench: target failed", "err", err)
				failed[i] = err
				continue
			}
			res.Target = t.Name
			if results[i] == nil {
				results[i] = res
			} else {
				results[i].mergeRound(res)
			}
			// Start the next target from a collected heap so that one
			// target's garbage is not charged to the next.
			runtime.GC()
		}
	}

	for _, t := range targets {
		if t.Notes != nil {
			if n := t.Notes(); n != "" {
				if cmp.Notes == nil {
					cmp.Notes = map[string]string{}
				}
				cmp.Notes[t.Name] = n
			}
		}
	}
	for i, t := range targets {
		if r := results[i]; r != nil {
			cmp.Results = append(cmp.Results, r)
			if rounds > 1 && r.createdTable && !cfg.Keep {
				c := cfg
				c.Endpoint = endpoints[i]
				var err error
				if t.Raw != nil {
					dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
					err = t.Raw.DropTable(dctx, c)
					cancel()
				} else {
					err = dropTable(ctx, c)
				}
				if err != nil {
					log.Warn("bench: table left behind", "target", t.Name, "table", cfg.Table, "err", err)
				}
			}
		}
		if failed[i] != nil {
			cmp.Failures = append(cmp.Failures, TargetFailure{Target: t.Name, Err: failed[i]})
		}
	}
	if len(cmp.Results) == 0 {
		if err := ctx.Err(); err != nil {
			return cmp, err
		}
		return cmp, fmt.Errorf("bench: every target failed: %w", cmp.Failures[0].Err)
	}
	return cmp, ctx.Err()
}

// dropTable deletes cfg.Table at cfg.Endpoint with a client of its own.
func dropTable(ctx context.Context, cfg Config) error {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return err
	}
	client, tr := newClient(cfg)
	defer tr.CloseIdleConnections()
	return deleteTable(ctx, client, cfg.Table)
}

// reference returns the reference target's result, if it ran.
func (c *Comparison) reference() *Result {
	for _, r := range c.Results {
		if r.Target == c.Reference {
			return r
		}
	}
	return nil
}

// Markdown renders one summary table (req/s, p50, p99 and errors per
// operation per target, with ratios against the reference) followed by
// each target's detailed table.
func (c *Comparison) Markdown() string {
	var b strings.Builder
	if len(c.Results) > 0 {
		r := c.Results[0]
		fmt.Fprintf(&b, "Workload: concurrency %d, %s, mix %s, item %d B, %d keys; GOMAXPROCS %d, %d CPUs, %s.\n\n",
			r.Concurrency, r.phases(), r.Mix, r.ItemSize, r.Keys, r.GOMAXPROCS, r.NumCPU, r.GoVersion)
	}
	ref := c.reference()
	if ref != nil {
		fmt.Fprintf(&b, "Ratios are against **%s**: req/s ratio > 1 is faster, latency ratio < 1 is faster.\n\n", c.Reference)
	} else {
		fmt.Fprintf(&b, "Reference target %q did not run: no ratios.\n\n", c.Reference)
	}
	b.WriteString("| operation | target | req/s | p50 | p99 | errors | req/s vs ref | p50 vs ref | p99 vs ref |\n")
	b.WriteString("|---|---|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, op := range c.ops() {
		label := op
		if op == "" {
			label = "**total**"
		}
		for _, r := range c.Results {
			s, ok := r.stats(op)
			if !ok {
				continue
			}
			var rs, rp50, rp99 string = "–", "–", "–"
			if ref != nil {
				if rf, ok := ref.stats(op); ok {
					rs = ratio(s.ReqPerSec, rf.ReqPerSec)
					rp50 = ratio(float64(s.P50), float64(rf.P50))
					rp99 = ratio(float64(s.P99), float64(rf.P99))
				}
			}
			fmt.Fprintf(&b, "| %s | %s | %.0f | %s | %s | %d | %s | %s | %s |\n",
				label, r.Target, s.ReqPerSec, fmtDur(s.P50), fmtDur(s.P99), s.Errors, rs, rp50, rp99)
		}
	}
	b.WriteString(c.overheadMarkdown())
	for _, name := range sortedKeys(c.Notes) {
		fmt.Fprintf(&b, "\n**%s**: %s\n", name, c.Notes[name])
	}
	for _, f := range c.Failures {
		fmt.Fprintf(&b, "\n**%s failed**: %s\n", f.Target, oneLine(f.Err.Error()))
	}
	for _, r := range c.Results {
		b.WriteString("\n")
		b.WriteString(r.Markdown())
	}
	return b.String()
}

// ops lists every operation any result has, in report order, then "" for
// the total.
func (c *Comparison) ops() []string {
	seen := map[string]bool{}
	for _, r := range c.Results {
		for op := range r.PerOp {
			seen[op] = true
		}
	}
	var ops []string
	for _, op := range Operations {
		if seen[op] {
			ops = append(ops, op)
		}
	}
	return append(ops, "")
}

// stats returns the stats of op, or the total for "".
func (r *Result) stats(op string) (OpStats, bool) {
	if op == "" {
		return r.Total, true
	}
	s, ok := r.PerOp[op]
	return s, ok
}

func ratio(a, b float64) string {
	if b == 0 || a == 0 {
		return "–"
	}
	return fmt.Sprintf("%.2f×", a/b)
}

// JSON renders the comparison for machines.
func (c *Comparison) JSON() ([]byte, error) {
	type failure struct {
		Target string `json:"target"`
		Error  string `json:"error"`
	}
	v := struct {
		Reference string            `json:"reference"`
		Results   []resultJSON      `json:"results"`
		Failures  []failure         `json:"failures,omitempty"`
		Baselines map[string]string `json:"baselines,omitempty"`
		Notes     map[string]string `json:"notes,omitempty"`
		Generated time.Time         `json:"generated"`
	}{Reference: c.Reference, Baselines: c.Baselines, Notes: c.Notes, Generated: time.Now().UTC()}
	for _, r := range c.Results {
		v.Results = append(v.Results, r.jsonView())
	}
	for _, f := range c.Failures {
		v.Failures = append(v.Failures, failure{f.Target, f.Err.Error()})
	}
	return json.MarshalIndent(v, "", "  ")
}

// result returns the named target's result, if it ran.
func (c *Comparison) result(name string) *Result {
	for _, r := range c.Results {
		if r.Target == name {
			return r
		}
	}
	return nil
}

// overheadMarkdown renders, for each target with a baseline, its figures
// next to the baseline's with the ratios target ÷ baseline: the adapter's
// overhead over the raw client on the same backend.
func (c *Comparison) overheadMarkdown() string {
	var b strings.Builder
	for _, r := range c.Results {
		base := c.result(c.Baselines[r.Target])
		if base == nil {
			continue
		}
		fmt.Fprintf(&b, "\nOverhead of **%s** over **%s** (same backend; req/s ratio < 1 and latency ratio > 1 are the overhead):\n\n", r.Target, base.Target)
		b.WriteString("| operation | req/s | baseline req/s | req/s ratio | p50 | baseline p50 | p50 ratio | p99 | baseline p99 | p99 ratio |\n")
		b.WriteString("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
		for _, op := range c.ops() {
			s, ok1 := r.stats(op)
			bs, ok2 := base.stats(op)
			if !ok1 || !ok2 {
				continue
			}
			label := op
			if op == "" {
				label = "**total**"
			}
			fmt.Fprintf(&b, "| %s | %.0f | %.0f | %s | %s | %s | %s | %s | %s | %s |\n", label,
				s.ReqPerSec, bs.ReqPerSec, ratio(s.ReqPerSec, bs.ReqPerSec),
				fmtDur(s.P50), fmtDur(bs.P50), ratio(float64(s.P50), float64(bs.P50)),
				fmtDur(s.P99), fmtDur(bs.P99), ratio(float64(s.P99), float64(bs.P99)))
		}
	}
	return b.String()
}
