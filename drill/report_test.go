package drill

import (
	"strings"
	"testing"
)

// TestDecide checks every way to a no-go names its table and cause, and
// that only a clean run is go.
func TestDecide(t *testing.T) {
	cfg := Config{MaxMismatchRate: 0.01, MinAuditPairs: 10}
	ok := func(name string) Step { return Step{Name: name, Table: "t", Status: StatusOK} }
	for _, tc := range []struct {
		name    string
		rep     Report
		verdict string
		reason  string // substring of the only reason
	}{
		{"clean", Report{Steps: []Step{ok("canary"), ok("verify")}, Tables: []*TableReport{{Name: "t", AuditPairs: 100}}}, VerdictGo, ""},
		{"dry run", Report{DryRun: true, Steps: []Step{{Name: "switch", Table: "t", Status: StatusSkipped}}, Tables: []*TableReport{{Name: "t", AuditPairs: 100}}}, VerdictDryRun, ""},
		{"failed step", Report{Steps: []Step{ok("canary"), {Name: "drain", Table: "t", Status: StatusFailed, Detail: "lag 9000 ms"}}, Tables: []*TableReport{{Name: "t", AuditPairs: 100}}}, VerdictNoGo, "t: drain: lag 9000 ms"},
		{"preflight", Report{Steps: []Step{{Name: "preflight streamproc", Status: StatusFailed, Detail: "refused"}}, Tables: []*TableReport{{Name: "t", AuditPairs: 100}}}, VerdictNoGo, "preflight streamproc: refused"},
		{"mismatch rate", Report{Tables: []*TableReport{{Name: "t", AuditPairs: 100, MismatchRate: 0.02, AuditByClass: map[string]int64{"match": 98, "mismatch": 2}}}}, VerdictNoGo, "t: audit: mismatch rate 0.02"},
		{"too few pairs", Report{Tables: []*TableReport{{Name: "t", AuditPairs: 3}}}, VerdictNoGo, "only 3 pairs"},
		{"not rolled back", Report{Tables: []*TableReport{{Name: "t", AuditPairs: 100, Switched: true}}}, VerdictNoGo, "rollback did not complete"},
		{"dry run that fails", Report{DryRun: true, Steps: []Step{{Name: "verify", Table: "t", Status: StatusFailed, Detail: "2 missing"}}, Tables: []*TableReport{{Name: "t", AuditPairs: 100}}}, VerdictNoGo, "t: verify: 2 missing"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.rep.decide(cfg)
			if tc.rep.Verdict != tc.verdict {
				t.Fatalf("verdict %s, want %s (reasons %q)", tc.rep.Verdict, tc.verdict, tc.rep.Reasons)
			}
			if tc.reason == "" {
				if len(tc.rep.Reasons) != 0 {
					t.Fatalf("reasons %q, want none", tc.rep.Reasons)
				}
				return
			}
			if len(tc.rep.Reasons) != 1 || !strings.Contains(tc.rep.Reasons[0], tc.reason) {
				t.Fatalf("reasons %q, want one containing %q", tc.rep.Reasons, tc.reason)
			}
			var md strings.Builder
			tc.rep.Markdown(&md)
			if !strings.Contains(md.String(), "NO-GO") || !strings.Contains(md.String(), tc.reason) {
				t.Fatalf("markdown lacks the verdict or reason:\n%s", md.String())
			}
		})
	}
}
