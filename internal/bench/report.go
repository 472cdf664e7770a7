package bench

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"
)

// ops returns the operations of r in report order.
func (r *Result) ops() []string {
	ops := make([]string, 0, len(r.PerOp))
	for op := range r.PerOp {
		ops = append(ops, op)
	}
	sort.Slice(ops, func(i, j int) bool { return opRank(ops[i]) < opRank(ops[j]) })
	return ops
}

// Markdown renders r as a heading line and a table, one row per operation
// plus a total.
func (r *Result) Markdown() string {
	var b strings.Builder
	name := r.Endpoint
	if r.Target != "" {
		name = fmt.Sprintf("%s** (%s)", r.Target, r.Endpoint)
	} else {
		name += "**"
	}
	fmt.Fprintf(&b, "**%s: concurrency %d, %s, mix %s, item %d B, %d keys; stopped by %s, %v measured in all; GOMAXPROCS %d, %d CPUs, %s\n\n",
		name, r.Concurrency, r.phases(), r.Mix, r.ItemSize, r.Keys,
		r.StoppedBy, r.Elapsed.Round(time.Millisecond), r.GOMAXPROCS, r.NumCPU, r.GoVersion)
	b.WriteString("| operation | requests | errors | req/s | mean | p50 | p90 | p99 | p99.9 | max |\n")
	b.WriteString("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	row := func(op string, s OpStats) {
		fmt.Fprintf(&b, "| %s | %d | %d | %.0f | %s | %s | %s | %s | %s | %s |\n", op, s.Requests, s.Errors, s.ReqPerSec,
			fmtDur(s.Mean), fmtDur(s.P50), fmtDur(s.P90), fmtDur(s.P99), fmtDur(s.P999), fmtDur(s.Max))
	}
	for _, op := range r.ops() {
		row(op, r.PerOp[op])
	}
	row("**total**", r.Total)
	if r.Total.Errors > 0 {
		b.WriteString("\nErrors by type:\n\n")
		for _, op := range r.ops() {
			s := r.PerOp[op]
			for _, t := range sortedKeys(s.ErrorsByType) {
				fmt.Fprintf(&b, "- %s %s ×%d: %s\n", op, t, s.ErrorsByType[t], oneLine(s.ErrorSamples[t]))
			}
		}
	}
	return b.String()
}

// phases describes the measured phases, e.g. "3 rounds × 20s measured after 5s warmup".
func (r *Result) phases() string {
	s := fmt.Sprintf("%v measured after %v warmup", r.Duration, r.Warmup)
	if r.Rounds > 1 {
		s = fmt.Sprintf("%d rounds × %s", r.Rounds, s)
	}
	return s
}

// JSON renders r for machines: durations in milliseconds.
func (r *Result) JSON() ([]byte, error) { return json.MarshalIndent(r.jsonView(), "", "  ") }

type opStatsJSON struct {
	Requests     int64             `json:"requests"`
	Errors       int64             `json:"errors"`
	ErrorsByType map[string]int64  `json:"errors_by_type,omitempty"`
	ErrorSamples map[string]string `json:"error_samples,omitempty"`
	ReqPerSec    float64           `json:"req_per_sec"`
	MeanMs       float64           `json:"mean_ms"`
	P50Ms        float64           `json:"p50_ms"`
	P90Ms        float64           `json:"p90_ms"`
	P99Ms        float64           `json:"p99_ms"`
	P999Ms       float64           `json:"p999_ms"`
	MaxMs        float64           `json:"max_ms"`
}

type resultJSON struct {
	Target      string                 `json:"target,omitempty"`
	Endpoint    string                 `json:"endpoint"`
	Concurrency int                    `json:"concurrency"`
	DurationS   float64                `json:"duration_s"`
	WarmupS     float64                `json:"warmup_s"`
	Mix         string                 `json:"mix"`
	ItemSize    int                    `json:"item_size"`
	Keys        int                    `json:"keys"`
	MaxOps      int64                  `json:"max_ops"`
	Started     time.Time              `json:"started"`
	ElapsedS    float64                `json:"elapsed_s"`
	WarmupOps   int64                  `json:"warmup_ops"`
	Rounds      int                    `json:"rounds"`
	StoppedBy   string                 `json:"stopped_by"`
	PerOp       map[string]opStatsJSON `json:"per_op"`
	Total       opStatsJSON            `json:"total"`
	GOMAXPROCS  int                    `json:"gomaxprocs"`
	NumCPU      int                    `json:"num_cpu"`
	GoVersion   string                 `json:"go_version"`
}

func (r *Result) jsonView() resultJSON {
	v := resultJSON{
		Target: r.Target, Endpoint: r.Endpoint, Concurrency: r.Concurrency,
		DurationS: r.Duration.Seconds(), WarmupS: r.Warmup.Seconds(), Mix: r.Mix, ItemSize: r.ItemSize,
		Keys: r.Keys, MaxOps: r.MaxOps, Started: r.Started, ElapsedS: r.Elapsed.Seconds(),
		WarmupOps: r.WarmupOps, Rounds: r.Rounds, StoppedBy: r.StoppedBy, PerOp: map[string]opStatsJSON{},
		Total: r.Total.jsonView(), GOMAXPROCS: r.GOMAXPROCS, NumCPU: r.NumCPU, GoVersion: r.GoVersion,
	}
	for op, s := range r.PerOp {
		v.PerOp[op] = s.jsonView()
	}
	return v
}

func (s OpStats) jsonView() opStatsJSON {
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	return opStatsJSON{
		Requests: s.Requests, Errors: s.Errors, ErrorsByType: s.ErrorsByType, ErrorSamples: s.ErrorSamples,
		ReqPerSec: s.ReqPerSec, MeanMs: ms(s.Mean), P50Ms: ms(s.P50), P90Ms: ms(s.P90),
		P99Ms: ms(s.P99), P999Ms: ms(s.P999), MaxMs: ms(s.Max),
	}
}

// fmtDur prints a latency with three significant digits in µs or ms.
func fmtDur(d time.Duration) string {
	switch {
	case d == 0:
		return "–"
	case d < time.Millisecond:
		return fmt.Sprintf("%.0fµs", float64(d)/float64(time.Microsecond))
	case d < 10*time.Millisecond:
		return fmt.Sprintf("%.2fms", float64(d)/float64(time.Millisecond))
	case d < 100*time.Millisecond:
		return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond))
	default:
		return fmt.Sprintf("%.0fms", float64(d)/float64(time.Millisecond))
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// oneLine keeps an error message from breaking a Markdown list.
func oneLine(s string) string {
	s = strings.ReplaceAll(s, "\n", " ")
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}
