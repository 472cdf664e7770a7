package drill

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	influxdb2 "github.com/influxdata/influxdb-client-go/v2"

	"github.com/dualread/dualread/internal/influxql"
)

// MeasurementDrill is the drill's InfluxDB measurement: one point per table
// per run, tagged table and verdict.
const MeasurementDrill = "dualread_drill"

// Influx is the InfluxDB 1.8 database the audit and the stream processor
// write to. Reads use InfluxQL on /query; the point goes through the v2
// write API as everywhere else in dualread.
type Influx struct {
	URL      string // e.g. http://127.0.0.1:8086
	Database string // e.g. dualread
	Token    string // "user:password" on 1.8 with auth; empty without
	// LagWait bounds how long drain waits for the stream processor's next
	// metrics flush to report the canary (default 30 s).
	LagWait time.Duration
}

func (i *Influx) ping(ctx context.Context, hc *http.Client) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(i.URL, "/")+"/ping", nil)
	if err != nil {
		return err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("InfluxDB /ping: HTTP %d", resp.StatusCode)
	}
	return nil
}

// query runs one InfluxQL statement and returns its series.
func (i *Influx) query(ctx context.Context, hc *http.Client, q string) ([]influxql.Series, error) {
	return influxql.Client{URL: i.URL, Database: i.Database, Token: i.Token, HTTP: hc}.Query(ctx, q)
}

func number(v any) float64 {
	if f, ok := v.(float64); ok {
		return f
	}
	return 0
}

// writeReport writes one dualread_drill point per table.
func (i *Influx) writeReport(ctx context.Context, r *Report) error {
	c := influxdb2.NewClient(i.URL, i.Token)
	defer c.Close()
	w := c.WriteAPIBlocking("", i.Database+"/autogen")
	for _, t := range r.Tables {
		f := map[string]any{
			"passed":        boolInt(r.Verdict == VerdictGo),
			"duration_ms":   r.DurationMS,
			"canary_ms":     t.CanaryMS,
			"lag_ms":        t.LagMS,
			"mismatch_rate": t.MismatchRate,
			"smoke_errors":  int64(t.SmokeErrors),
		}
		if t.Verify != nil {
			f["verify_missing"], f["verify_extra"], f["verify_different"] = t.Verify.Missing, t.Verify.Extra, t.Verify.Different
		}
		verdict := strings.ReplaceAll(r.Verdict, "-", "_")
		p := influxdb2.NewPoint(MeasurementDrill, map[string]string{"table": t.Name, "verdict": verdict}, f, r.Finished)
		if err := w.WritePoint(ctx, p); err != nil {
			return err
		}
	}
	return nil
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}
