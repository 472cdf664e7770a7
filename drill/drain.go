package drill

import (
	"context"
	"fmt"
	"time"

	"github.com/dualread/dualread/audit/diff"
	"github.com/dualread/dualread/internal/influxql"
)

// drain checks replication has caught up: the canary's own delay and the
// largest lag the stream processor reported since the canary must both be
// under the threshold. The stream processor writes lag once per metrics
// interval, so drain waits (Influx.LagWait) for the interval that holds the
// canary's record; with no InfluxDB the canary alone decides.
func (d *run) drain(ctx context.Context, tr *TableReport, since time.Time) (string, error) {
	th := d.cfg.LagThreshold
	if tr.CanaryMS > th.Milliseconds() {
		return "", fmt.Errorf("end-to-end delay %d ms exceeds the %s threshold", tr.CanaryMS, th)
	}
	if d.cfg.Influx == nil {
		if tr.CanaryMS < 0 {
			return "no canary and no InfluxDB: lag not measured", nil
		}
		return fmt.Sprintf("canary %d ms under %s (no InfluxDB)", tr.CanaryMS, th), nil
	}
	window := since.Add(-time.Second)
	if tr.CanaryMS < 0 { // dry run or failed canary: the recent past
		window = time.Now().Add(-5 * time.Minute)
	}
	q := fmt.Sprintf(`SELECT max("lag_max_ms") FROM "dualread_replication" WHERE "table" = %s AND time >= %dms`,
		influxql.String(tr.Name), window.UnixMilli())
	wait := d.cfg.Influx.LagWait
	if wait <= 0 {
		wait = 30 * time.Second
	}
	deadline := time.Now().Add(wait)
	for {
		ss, err := d.cfg.Influx.query(ctx, d.cfg.HTTP, q)
		if err != nil {
			return "", err
		}
		if len(ss) > 0 && len(ss[0].Values) > 0 && len(ss[0].Values[0]) > 1 && ss[0].Values[0][1] != nil {
			tr.LagMS = int64(number(ss[0].Values[0][1]))
			break
		}
		if tr.CanaryMS < 0 || time.Now().After(deadline) {
			if tr.CanaryMS < 0 {
				return "", fmt.Errorf("the stream processor reported no lag for %s in the last 5 minutes", tr.Name)
			}
			return "", fmt.Errorf("the stream processor reported no lag for %s within %s of the canary (is it writing metrics to InfluxDB?)", tr.Name, wait)
		}
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
	if tr.LagMS > th.Milliseconds() {
		return "", fmt.Errorf("replication lag %d ms exceeds the %s threshold", tr.LagMS, th)
	}
	return fmt.Sprintf("lag %d ms, canary %s, under %s", tr.LagMS, msOrDash(tr.CanaryMS), th), nil
}

// auditRates reads the audit's pair counts per class over the window and
// sets each table's mismatch rate: pairs whose class is a divergence
// (mismatch, missing on either side, error mismatch) over all pairs. Lag
// and calibrated noise are not divergences.
func (d *run) auditRates(ctx context.Context) {
	if d.cfg.Influx == nil {
		d.rep.Warnings = append(d.rep.Warnings, "no InfluxDB: the audit's mismatch rates were not read")
		return
	}
	d.step("", "audit", func() (string, error) {
		q := fmt.Sprintf(`SELECT sum("count") FROM "dualread_audit" WHERE time > now() - %ds GROUP BY "table", "class"`,
			int64(d.cfg.MismatchWindow.Seconds()))
		ss, err := d.cfg.Influx.query(ctx, d.cfg.HTTP, q)
		if err != nil {
			return "", err
		}
		by := map[string]*TableReport{}
		for _, t := range d.rep.Tables {
			by[t.Name] = t
		}
		for _, s := range ss {
			t := by[s.Tags["table"]]
			if t == nil || len(s.Values) == 0 || len(s.Values[0]) < 2 {
				continue
			}
			n := int64(number(s.Values[0][1]))
			if t.AuditByClass == nil {
				t.AuditByClass = map[string]int64{}
			}
			t.AuditByClass[s.Tags["class"]] += n
			t.AuditPairs += n
		}
		var total, bad int64
		for _, t := range d.rep.Tables {
			var div int64
			for c, n := range t.AuditByClass {
				if diff.Class(c).Diverges() {
					div += n
				}
			}
			if t.AuditPairs > 0 {
				t.MismatchRate = float64(div) / float64(t.AuditPairs)
			}
			total, bad = total+t.AuditPairs, bad+div
		}
		return fmt.Sprintf("%d pairs over %s, %d diverging", total, d.cfg.MismatchWindow, bad), nil
	})
}
