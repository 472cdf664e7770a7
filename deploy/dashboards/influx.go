package dashboards

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/dualread/dualread/internal/influxql"
)

// Influx is the InfluxDB 1.8 the dashboards' datasource points at.
type Influx struct {
	URL      string       // e.g. http://127.0.0.1:8086
	Database string       // the datasource's dbName, e.g. dualread
	HTTP     *http.Client // nil: a client with a 30 s timeout
}

// Series is one series of an InfluxQL answer.
type Series = influxql.Series

// Query runs one InfluxQL statement (GET /query, as Grafana does for
// reads) and returns its series.
func (c Influx) Query(ctx context.Context, q string) ([]Series, error) {
	return influxql.Client{URL: c.URL, Database: c.Database, HTTP: c.HTTP}.Query(ctx, q)
}

// Result is what one dashboard query returned.
type Result struct {
	Query    Query
	Expanded string // the InfluxQL sent
	Series   int
	Rows     int
	Values   int // non-null values in the non-time columns
	Err      error
}

// HasData reports whether the query ran and returned at least one non-null
// value: what a panel needs to draw something.
func (r Result) HasData() bool { return r.Err == nil && r.Values > 0 }

func (r Result) String() string {
	if r.Err != nil {
		return fmt.Sprintf("%s: %v\n\t%s", r.Query.Name(), r.Err, r.Expanded)
	}
	return fmt.Sprintf("%s: %d series, %d rows, %d values\n\t%s", r.Query.Name(), r.Series, r.Rows, r.Values, r.Expanded)
}

// Run runs every query of the dashboards in dir against c for the time
// range [from, to], as Grafana would on opening each dashboard: each
// dashboard's variable queries first, each variable then set to "All" (every
// value its query returned), then every panel query expanded with them.
// override replaces variables' values by name (e.g. {"table": {"orders"}}).
// Run fails only if the dashboards cannot be read; each query's own error
// is in its Result.
func Run(ctx context.Context, c Influx, dir string, from, to time.Time, override map[string][]string) ([]Result, error) {
	ds, err := Load(dir)
	if err != nil {
		return nil, err
	}
	var out []Result
	for _, d := range ds {
		qs, err := d.Queries()
		if err != nil {
			return nil, err
		}
		vars := map[string][]string{}
		for _, q := range qs {
			r := run(ctx, c, q, from, to, vars)
			out = append(out, r)
			if q.Variable == "" {
				continue
			}
			if o, ok := override[q.Variable]; ok {
				vars[q.Variable] = o
				continue
			}
			vals, err := c.tagValues(ctx, r.Expanded)
			if err == nil {
				vars[q.Variable] = vals
			}
		}
	}
	return out, nil
}

func run(ctx context.Context, c Influx, q Query, from, to time.Time, vars map[string][]string) Result {
	r := Result{Query: q}
	r.Expanded, r.Err = Expand(q.Text, from, to, vars)
	if r.Err != nil {
		return r
	}
	series, err := c.Query(ctx, r.Expanded)
	if err != nil {
		r.Err = err
		return r
	}
	r.Series = len(series)
	for _, s := range series {
		r.Rows += len(s.Values)
		for _, row := range s.Values {
			for i, v := range row {
				if v != nil && (i >= len(s.Columns) || s.Columns[i] != "time") {
					r.Values++
				}
			}
		}
	}
	return r
}

// tagValues runs a SHOW TAG VALUES query and returns the distinct values,
// sorted: what Grafana offers for the variable, and "All".
func (c Influx) tagValues(ctx context.Context, q string) ([]string, error) {
	series, err := c.Query(ctx, q)
	if err != nil {
		return nil, err
	}
	var vals []string
	for _, s := range series {
		col := slices.Index(s.Columns, "value")
		if col < 0 {
			return nil, fmt.Errorf("variable query %q: no value column", q)
		}
		for _, row := range s.Values {
			if v, ok := row[col].(string); ok && !slices.Contains(vals, v) {
				vals = append(vals, v)
			}
		}
	}
	slices.Sort(vals)
	return vals, nil
}
