package verify_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dualread/dualread/internal/testenv"
	"github.com/dualread/dualread/verify"
)

// TestVerify100k is the proof, on -verify.items (100,000) items per
// side: DynamoDB Local as the source, the adapter (testenv.StartAdapter,
// DUALREAD_TEST_BACKEND) as the target, both loaded from one generator
// (the target with other number spellings and set orders). In order:
//
//  1. equal tables: `dualread verify` reports zero differences in one pass,
//     logs progress lines, and its InfluxDB point says equal;
//  2. known differences injected on the target (missing, extra, a changed
//     value, N→S, a set element, a nested map change, and number spelling
//     only, which must not count): verify.Run, uninterrupted, lists exactly
//     those;
//  3. `dualread verify --state` SIGKILLed in pass 1, resumed and SIGKILLed
//     in pass 2, resumed to the end: exit status 1, the same report as the
//     uninterrupted run, the last run read exactly what the saved state had
//     not, and its InfluxDB point carries the exact counts.
func TestVerify100k(t *testing.T) {
	e := sharedEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	n := *flagItems
	target := testenv.StartAdapter(t)
	src, dst := testenv.Client(e.ddb), testenv.Client(target)
	table := fmt.Sprintf("verify_%d", time.Now().UnixNano())
	createTable(t, ctx, src, table)
	createTable(t, ctx, dst, table)
	t0 := time.Now()
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); load(t, ctx, src, table, n, *flagWrite, plain) }()
	go func() { defer wg.Done(); load(t, ctx, dst, table, n, *flagWrite, respelt) }()
	wg.Wait()
	if t.Failed() {
		return
	}
	t.Logf("loaded %d items on each side in %v", n, time.Since(t0).Round(time.Millisecond))
	cfg := verify.Config{Source: src, Target: dst, Table: table}

	// 1. Equal tables, through the CLI.
	influxArgs := []string{"--influx", e.influx, "--influx-bucket", influxDB + "/autogen"}
	t0 = time.Now()
	c := e.verifyCmd(t, target, append([]string{"--table", table, "--json", "-", "--progress", "log", "--progress-every", "300ms"}, influxArgs...)...)
	if code := c.wait(t, 5*time.Minute); code != 0 {
		t.Fatalf("dualread verify of equal tables exited %d", code)
	}
	rep := parseReport(t, c.stdout.String())
	t.Logf("equal tables: %v (%d items read)", time.Since(t0).Round(time.Millisecond), rep.ItemsRead)
	if !rep.Equal() || rep.Result != verify.ResultEqual || rep.SourceItems != int64(n) || rep.TargetItems != int64(n) ||
		rep.DifferingBuckets != 0 || len(rep.Samples) != 0 || rep.ItemsRead != int64(2*n) {
		t.Fatalf("equal tables: %+v; want zero differences, %d items a side, one pass", rep, n)
	}
	if !strings.Contains(c.stderr.String(), "msg=progress") || !strings.Contains(c.stderr.String(), `stage="pass 1 (digests)"`) {
		t.Fatalf("no progress log lines on stderr:\n%s", tail(c.stderr.String(), 2000))
	}

	// 2. Known differences.
	inj := newInjection(n)
	inj.apply(t, ctx, dst, table)
	t0 = time.Now()
	want, err := verify.Run(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("with differences, in-process: %v (%d items read, %d differing buckets)", time.Since(t0).Round(time.Millisecond), want.ItemsRead, want.DifferingBuckets)
	checkInjected(t, want, n, inj)

	// 3. Killed in pass 1, killed in pass 2, resumed to the end.
	dir := t.TempDir()
	state, out := filepath.Join(dir, "state.json"), filepath.Join(dir, "report.json")
	args := append([]string{"--table", table, "--state", state, "--state-every", "100ms", "--page-limit", "250", "--json", out, "--progress", "none"}, influxArgs...)
	// A read rate keeps each pass a few seconds long, so the kills land
	// inside the pass they are meant for.
	slow := append(slices.Clone(args), "--read-rate", fmt.Sprint(max(n/5, 1000)))
	killAt := func(name string, pass int) verify.StateInfo {
		c := e.verifyCmd(t, target, slow...)
		waitFor(t, 5*time.Minute, name+" progress in the state file", func() bool {
			if c.exited() {
				t.Fatalf("%s exited (%v) before it could be killed", name, c.err)
			}
			info, err := verify.ReadState(state)
			return err == nil && info.Pass == pass && info.Read[0] >= int64(n/4) && info.Read[1] >= int64(n/4)
		})
		c.kill()
		info, err := verify.ReadState(state)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s SIGKILLed in pass %d with %d + %d items saved, %d + %d of %d segments done", name, info.Pass,
			info.Read[0], info.Read[1], info.SegmentsDone[0], info.SegmentsDone[1], info.Segments)
		if info.Pass != pass || info.SegmentsDone[0] == info.Segments && info.SegmentsDone[1] == info.Segments {
			t.Fatalf("%s: pass %d already finished at the kill: nothing left to resume", name, info.Pass)
		}
		return info
	}
	killAt("first run", 1)
	saved := killAt("second run", 2)
	c = e.verifyCmd(t, target, args...)
	if code := c.wait(t, 5*time.Minute); code != 1 {
		t.Fatalf("resumed dualread verify exited %d, want 1", code)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	resumed := parseReport(t, string(b))
	sameReport(t, "killed twice and resumed", resumed, want)
	// The last run read exactly the rest of pass 2: no page twice, none skipped.
	if rest := resumed.SourceItems - saved.Read[0] + resumed.TargetItems - saved.Read[1]; !resumed.Resumed || resumed.ItemsRead != rest {
		t.Errorf("resumed run: resumed=%v, read %d items; want the %d not in the state", resumed.Resumed, resumed.ItemsRead, rest)
	}
	if _, err := os.Stat(state); !os.IsNotExist(err) {
		t.Errorf("state file still there after a complete run: %v", err)
	}

	checkInflux(t, ctx, e.influx, table, want)
}

func parseReport(t *testing.T, s string) *verify.Report {
	t.Helper()
	var r verify.Report
	if err := json.Unmarshal([]byte(s), &r); err != nil {
		t.Fatalf("report JSON: %v\n%s", err, s)
	}
	return &r
}

// checkInjected asserts the report holds exactly the injected differences.
func checkInjected(t *testing.T, r *verify.Report, n int, inj injection) {
	t.Helper()
	if r.Missing != int64(len(inj.missing)) || r.Extra != int64(len(inj.extra)) || r.Different != int64(len(inj.different)) ||
		r.Result != verify.ResultDiffer || r.SourceItems != int64(n) || r.TargetItems != int64(n-len(inj.missing)+len(inj.extra)) {
		t.Fatalf("report %d missing, %d extra, %d different, %d/%d items, result %s; want %d, %d, %d, %d/%d, differ",
			r.Missing, r.Extra, r.Different, r.SourceItems, r.TargetItems, r.Result,
			len(inj.missing), len(inj.extra), len(inj.different), n, n-len(inj.missing)+len(inj.extra))
	}
	got := map[string][]string{}
	attrs := map[string][]string{}
	for _, s := range r.Samples {
		got[s.Kind] = append(got[s.Kind], string(s.Key))
		switch {
		case s.Kind == "missing" && (s.Source == nil || s.Target != nil),
			s.Kind == "extra" && (s.Source != nil || s.Target == nil),
			s.Kind == "different" && (s.Source == nil || s.Target == nil):
			t.Errorf("sample %s %s: source %s, target %s", s.Kind, s.Key, s.Source, s.Target)
		}
		attrs[string(s.Key)] = s.Attributes
	}
	want := inj.expected()
	for _, kind := range []string{"missing", "extra", "different"} {
		if !slices.Equal(got[kind], want[kind]) { // the report sorts by key, as expected() does
			t.Errorf("%s samples %v, want %v", kind, got[kind], want[kind])
		}
	}
	if r.DifferingBuckets < 1 || r.DifferingBuckets > len(inj.missing)+len(inj.extra)+len(inj.different) {
		t.Errorf("%d differing buckets for %d differences", r.DifferingBuckets, r.Missing+r.Extra+r.Different)
	}
	for i, a := range inj.different {
		if got := attrs[keyJSON(i)]; !slices.Equal(got, []string{a}) {
			t.Errorf("item %d: differing attributes %v, want [%s]", i, got, a)
		}
	}
	for _, i := range inj.spelling {
		if _, ok := attrs[keyJSON(i)]; ok {
			t.Errorf("item %d differs only in number spelling but is reported", i)
		}
	}
}

// sameReport compares two reports on everything but timing and how the
// work was split between runs.
func sameReport(t *testing.T, what string, got, want *verify.Report) {
	t.Helper()
	norm := func(r *verify.Report) string {
		c := *r
		c.Duration, c.StartedAt, c.Resumed, c.ItemsRead = 0, time.Time{}, false, 0
		b, _ := json.Marshal(&c) // compacts the samples' raw JSON too
		return string(b)
	}
	if g, w := norm(got), norm(want); g != w {
		t.Fatalf("%s: report differs from the uninterrupted one\n got %s\nwant %s", what, g, w)
	}
}

// checkInflux reads the CLI's points back: two runs wrote one each (the
// equal one, then the resumed one; killed runs write none), with integer fields of exactly the names the
// dashboard and the drill use.
func checkInflux(t *testing.T, ctx context.Context, url, table string, want *verify.Report) {
	t.Helper()
	res, err := testenv.InfluxQuery(ctx, url, influxDB, fmt.Sprintf(`SELECT * FROM %s WHERE "table" = '%s'`, verify.Measurement, table))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Results) != 1 || len(res.Results[0].Series) != 1 {
		t.Fatalf("InfluxDB: %+v", res)
	}
	s := res.Results[0].Series[0]
	if len(s.Values) != 2 {
		t.Fatalf("InfluxDB holds %d %s points for %s, want 2: %v", len(s.Values), verify.Measurement, table, s.Values)
	}
	rows := make([]map[string]any, len(s.Values))
	for i, v := range s.Values {
		rows[i] = map[string]any{}
		for j, col := range s.Columns {
			rows[i][col] = v[j]
		}
	}
	n := float64(want.SourceItems)
	eq, last := rows[0], rows[1]
	if eq["result"] != "equal" || eq["source_items"] != n || eq["target_items"] != n || eq["missing"] != 0.0 ||
		eq["extra"] != 0.0 || eq["different"] != 0.0 || eq["differing_buckets"] != 0.0 {
		t.Errorf("point of the equal run: %v", eq)
	}
	for _, row := range rows[1:] {
		if row["result"] != "differ" || row["table"] != table || row["source_items"] != n || row["target_items"] != float64(want.TargetItems) ||
			row["missing"] != float64(want.Missing) || row["extra"] != float64(want.Extra) || row["different"] != float64(want.Different) ||
			row["buckets"] != float64(want.Buckets) || row["differing_buckets"] != float64(want.DifferingBuckets) {
			t.Errorf("point of a differing run: %v; want the counts of %+v", row, want)
		}
	}
	if d, ok := last["duration_ms"].(float64); !ok || d <= 0 {
		t.Errorf("duration_ms %v", last["duration_ms"])
	}
	fk, err := testenv.InfluxQuery(ctx, url, influxDB, "SHOW FIELD KEYS FROM "+verify.Measurement)
	if err != nil {
		t.Fatal(err)
	}
	types := map[string]any{}
	for _, v := range fk.Results[0].Series[0].Values {
		types[v[0].(string)] = v[1]
	}
	for _, f := range []string{"source_items", "target_items", "missing", "extra", "different", "buckets", "differing_buckets", "duration_ms"} {
		if types[f] != "integer" {
			t.Errorf("field %s has type %v, want integer (fields: %v)", f, types[f], types)
		}
	}
	if len(types) != 8 {
		t.Errorf("fields %v, want exactly the 8 documented", types)
	}
}
