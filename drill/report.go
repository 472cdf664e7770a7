package drill

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// Step statuses.
const (
	StatusOK      = "ok"
	StatusFailed  = "failed"
	StatusSkipped = "skipped"
)

// Verdicts.
const (
	VerdictGo     = "go"
	VerdictNoGo   = "no-go"
	VerdictDryRun = "dry-run"
)

// Report is a drill's outcome.
type Report struct {
	RunID      string         `json:"run_id"`
	Started    time.Time      `json:"started"`
	Finished   time.Time      `json:"finished"`
	DurationMS int64          `json:"duration_ms"`
	DryRun     bool           `json:"dry_run"`
	Verdict    string         `json:"verdict"`
	Reasons    []string       `json:"reasons,omitempty"` // why not go
	Warnings   []string       `json:"warnings,omitempty"`
	Steps      []Step         `json:"steps"`
	Tables     []*TableReport `json:"tables"`
}

// Step is one timed step.
type Step struct {
	Name       string `json:"name"`
	Table      string `json:"table,omitempty"` // empty: the whole drill (preflight)
	Status     string `json:"status"`
	DurationMS int64  `json:"duration_ms"`
	Detail     string `json:"detail,omitempty"`
}

// TableReport is what the drill measured on one table.
type TableReport struct {
	Name string `json:"name"`
	// CanaryMS is the end-to-end replication delay: the marker's write to
	// DynamoDB until the adapter served it (-1: not measured).
	CanaryMS int64 `json:"canary_ms"`
	// LagMS is the largest replication lag the stream processor reported
	// since the canary (-1: none reported).
	LagMS        int64            `json:"lag_ms"`
	Verify       *VerifyResult    `json:"verify,omitempty"`
	AuditPairs   int64            `json:"audit_pairs"`
	AuditByClass map[string]int64 `json:"audit_by_class,omitempty"`
	MismatchRate float64          `json:"mismatch_rate"`
	SmokeReads   int              `json:"smoke_reads"`
	SmokeErrors  int              `json:"smoke_errors"`
	Switched     bool             `json:"switched"`
	RolledBack   bool             `json:"rolled_back"`
}

// VerifyResult summarises the comparison of the two sides.
type VerifyResult struct {
	Mode      string   `json:"mode"` // sample or full
	Compared  int64    `json:"compared"`
	Missing   int64    `json:"missing"`   // on the target
	Extra     int64    `json:"extra"`     // on the target only (full verify)
	Different int64    `json:"different"` // present on both, unequal
	Samples   []string `json:"samples,omitempty"`
}

func (v *VerifyResult) equal() bool { return v.Missing == 0 && v.Extra == 0 && v.Different == 0 }

// decide sets the verdict: go only if every step passed and every table is
// within the thresholds. Each reason names the table and the step.
func (r *Report) decide(cfg Config) {
	r.Reasons = nil
	for _, s := range r.Steps {
		if s.Status == StatusFailed {
			where := s.Name
			if s.Table != "" {
				where = s.Table + ": " + s.Name
			}
			r.Reasons = append(r.Reasons, where+": "+s.Detail)
		}
	}
	for _, t := range r.Tables {
		if t.MismatchRate > cfg.MaxMismatchRate {
			r.Reasons = append(r.Reasons, fmt.Sprintf("%s: audit: mismatch rate %.4g over the last %s exceeds %.4g (%s)",
				t.Name, t.MismatchRate, cfg.MismatchWindow, cfg.MaxMismatchRate, classSummary(t.AuditByClass)))
		}
		if cfg.MinAuditPairs > 0 && t.AuditPairs < cfg.MinAuditPairs {
			r.Reasons = append(r.Reasons, fmt.Sprintf("%s: audit: only %d pairs audited over the last %s (at least %d wanted)",
				t.Name, t.AuditPairs, cfg.MismatchWindow, cfg.MinAuditPairs))
		}
		if t.Switched && !t.RolledBack {
			r.Reasons = append(r.Reasons, t.Name+": rollback did not complete: check the table's mode by hand")
		}
	}
	switch {
	case len(r.Reasons) > 0:
		r.Verdict = VerdictNoGo
	case r.DryRun:
		r.Verdict = VerdictDryRun
	default:
		r.Verdict = VerdictGo
	}
}

func classSummary(m map[string]int64) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
	}
	return strings.Join(parts, ", ")
}

// WriteFiles writes drill-<run>.md and drill-<run>.json into dir.
func (r *Report) WriteFiles(dir string) (md, js string, err error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", "", err
	}
	base := filepath.Join(dir, "drill-"+strings.NewReplacer(":", "", ".", "").Replace(r.RunID))
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return "", "", err
	}
	if err := os.WriteFile(base+".json", append(b, '\n'), 0o644); err != nil {
		return "", "", err
	}
	var sb strings.Builder
	r.Markdown(&sb)
	if err := os.WriteFile(base+".md", []byte(sb.String()), 0o644); err != nil {
		return "", "", err
	}
	return base + ".md", base + ".json", nil
}

// Markdown writes the human report.
func (r *Report) Markdown(w io.Writer) {
	fmt.Fprintf(w, "# Cutover drill %s: **%s**\n\n", r.RunID, strings.ToUpper(r.Verdict))
	fmt.Fprintf(w, "Started %s, took %s.", r.Started.UTC().Format(time.RFC3339), (time.Duration(r.DurationMS) * time.Millisecond).String())
	if r.DryRun {
		fmt.Fprint(w, " Dry run: nothing was changed.")
	}
	fmt.Fprint(w, "\n\n")
	if len(r.Reasons) > 0 {
		fmt.Fprint(w, "## Why not go\n\n")
		for _, x := range r.Reasons {
			fmt.Fprintf(w, "- %s\n", x)
		}
		fmt.Fprintln(w)
	}
	fmt.Fprint(w, "## Tables\n\n| table | canary | lag | verify | audit pairs | mismatch rate | smoke errors | rolled back |\n|---|---|---|---|---|---|---|---|\n")
	for _, t := range r.Tables {
		fmt.Fprintf(w, "| %s | %s | %s | %s | %d | %.4g | %d/%d | %s |\n", t.Name, msOrDash(t.CanaryMS), msOrDash(t.LagMS),
			t.Verify.summary(), t.AuditPairs, t.MismatchRate, t.SmokeErrors, t.SmokeReads, yesNo(t.Switched, t.RolledBack))
	}
	fmt.Fprint(w, "\n## Steps\n\n| table | step | status | time | detail |\n|---|---|---|---|---|\n")
	for _, s := range r.Steps {
		fmt.Fprintf(w, "| %s | %s | %s | %d ms | %s |\n", s.Table, s.Name, s.Status, s.DurationMS, strings.ReplaceAll(s.Detail, "|", "\\|"))
	}
	if len(r.Warnings) > 0 {
		fmt.Fprint(w, "\n## Warnings\n\n")
		for _, x := range r.Warnings {
			fmt.Fprintf(w, "- %s\n", x)
		}
	}
}

func (v *VerifyResult) summary() string {
	if v == nil {
		return "-"
	}
	if v.equal() {
		return fmt.Sprintf("%s: %d equal", v.Mode, v.Compared)
	}
	return fmt.Sprintf("%s: %d missing, %d extra, %d different of %d", v.Mode, v.Missing, v.Extra, v.Different, v.Compared)
}

func msOrDash(ms int64) string {
	if ms < 0 {
		return "-"
	}
	return fmt.Sprintf("%d ms", ms)
}

func yesNo(switched, back bool) string {
	switch {
	case !switched:
		return "not switched"
	case back:
		return "yes"
	}
	return "**NO**"
}

func jsonString(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
