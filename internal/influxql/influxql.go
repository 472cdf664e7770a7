// Package influxql reads InfluxDB 1.8 with InfluxQL over GET /query, the
// way Grafana's InfluxQL datasource does: the drill reads lag and audit
// counts with it, and the dashboard checks run every panel query with it.
// (Writes go through influxdb-client-go's v2 write API everywhere.)
package influxql

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Client is one InfluxDB database.
type Client struct {
	URL      string       // e.g. http://127.0.0.1:8086
	Database string       // e.g. dualread
	Token    string       // "user:password" on 1.8 with auth; empty without
	HTTP     *http.Client // nil: a client with a 30 s timeout
}

// Series is one series of an answer; times are epoch milliseconds.
type Series struct {
	Name    string            `json:"name"`
	Tags    map[string]string `json:"tags"`
	Columns []string          `json:"columns"`
	Values  [][]any           `json:"values"`
}

// maxAnswer bounds how much of an answer is read.
const maxAnswer = 32 << 20

// Query runs one statement and returns the series of every result; an
// error in any result is the error.
func (c Client) Query(ctx context.Context, q string) ([]Series, error) {
	hc := c.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	u := strings.TrimRight(c.URL, "/") + "/query?" + url.Values{"db": {c.Database}, "q": {q}, "epoch": {"ms"}}.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	if user, pass, ok := strings.Cut(c.Token, ":"); ok {
		req.SetBasicAuth(user, pass)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return nil, err
	}
	var out struct {
		Results []struct {
			Series []Series `json:"series"`
			Error  string   `json:"error"`
		} `json:"results"`
		Error string `json:"error"`
	}
	if err := json.Unmarshal(body, &out); err != nil || resp.StatusCode != http.StatusOK || out.Error != "" {
		return nil, fmt.Errorf("InfluxDB /query: HTTP %d: %.300s", resp.StatusCode, body)
	}
	var all []Series
	for _, r := range out.Results {
		if r.Error != "" {
			return nil, fmt.Errorf("InfluxDB: %s", r.Error)
		}
		all = append(all, r.Series...)
	}
	return all, nil
}

// String quotes s as an InfluxQL string literal (a tag value).
func String(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}
