package testenv

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/dualread/dualread/internal/standin"
)

// EnvInfluxDBURL names an already running InfluxDB 1.8 (e.g.
// http://127.0.0.1:8086) to use instead of starting one.
const EnvInfluxDBURL = "DUALREAD_INFLUXDB_URL"

// LaunchInfluxDB runs `standins.sh influxdb PORT DATADIR` on free loopback
// ports with a fresh data folder, waits until GET /ping answers 204, and
// creates the given databases. TestMain has no testing.TB, hence this form;
// tests use StartInfluxDB. A machine's first start builds influxd from
// source (minutes); a cached start takes ~3 s.
func LaunchInfluxDB(ctx context.Context, databases ...string) (*StandIn, error) {
	// The RPC (backup) service cannot be turned off; a second free port keeps
	// it off anything another process might want.
	rpcPort, err := standin.FreePort()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "influxdb-*")
	if err != nil {
		return nil, err
	}
	spec, err := standin.OnFreePort(func(port int) (standin.Spec, error) { return standin.InfluxDB(port, rpcPort, dir) })
	s, err := launchStandin(ctx, spec, err, dir)
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	if err := CreateInfluxDatabases(ctx, s.Addr, databases...); err != nil {
		s.Stop()
		return nil, err
	}
	return s, nil
}

// StartInfluxDB returns the URL of an InfluxDB 1.8 for this test, holding
// the given databases: the instance named by DUALREAD_INFLUXDB_URL if set,
// otherwise a fresh process killed when the test ends. InfluxDB 1.8 rejects
// writes to a database that does not exist, hence the databases argument.
func StartInfluxDB(t testing.TB, databases ...string) string {
	t.Helper()
	ctx := context.Background()
	if u := os.Getenv(EnvInfluxDBURL); u != "" {
		u = strings.TrimRight(u, "/")
		if err := CreateInfluxDatabases(ctx, u, databases...); err != nil {
			t.Fatalf("InfluxDB from %s: %v", EnvInfluxDBURL, err)
		}
		return u
	}
	s, err := LaunchInfluxDB(ctx, databases...)
	if err != nil {
		t.Fatalf("start InfluxDB: %v", err)
	}
	t.Cleanup(s.Stop)
	return s.Addr
}

// CreateInfluxDatabases creates each database on the InfluxDB 1.x at
// baseURL through POST /query. CREATE DATABASE is idempotent there, so
// databases that already exist are fine.
func CreateInfluxDatabases(ctx context.Context, baseURL string, databases ...string) error {
	for _, db := range databases {
		if db == "" {
			return fmt.Errorf("create InfluxDB database: %w", errNoName)
		}
		if err := InfluxQL(ctx, baseURL, "", "CREATE DATABASE "+QuoteInfluxIdent(db)); err != nil {
			return fmt.Errorf("create InfluxDB database %q: %w", db, err)
		}
	}
	return nil
}

// InfluxQL runs one InfluxQL statement through POST /query (POST because
// CREATE/DROP are refused over GET) against database db ("" for none), and
// returns an error if the HTTP status or any statement result reports one.
func InfluxQL(ctx context.Context, baseURL, db, q string) error {
	_, err := InfluxQuery(ctx, baseURL, db, q)
	return err
}

// InfluxResult is the JSON body of an InfluxDB 1.x /query answer.
type InfluxResult struct {
	Results []struct {
		StatementID int    `json:"statement_id"`
		Error       string `json:"error"`
		Series      []struct {
			Name    string            `json:"name"`
			Tags    map[string]string `json:"tags"`
			Columns []string          `json:"columns"`
			Values  [][]any           `json:"values"`
		} `json:"series"`
	} `json:"results"`
	Error string `json:"error"`
}

// InfluxQuery is InfluxQL returning the decoded answer, for tests that check
// what a query returns rather than only that it succeeded.
func InfluxQuery(ctx context.Context, baseURL, db, q string) (*InfluxResult, error) {
	form := url.Values{"q": {q}}
	if db != "" {
		form.Set("db", db)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, baseURL+"/query", strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	hc := &http.Client{Timeout: 30 * time.Second}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	var res InfluxResult
	if err := json.Unmarshal(body, &res); err != nil {
		return nil, fmt.Errorf("InfluxDB /query answered %d: %s", resp.StatusCode, body)
	}
	if resp.StatusCode != http.StatusOK || res.Error != "" {
		return nil, fmt.Errorf("InfluxDB /query answered %d: %s", resp.StatusCode, body)
	}
	for _, r := range res.Results {
		if r.Error != "" {
			return nil, fmt.Errorf("InfluxQL %q: %s", q, r.Error)
		}
	}
	return &res, nil
}

// QuoteInfluxIdent quotes an InfluxQL identifier (database, measurement,
// tag key) so that any name, including keywords and names with spaces or
// quotes, is taken literally.
func QuoteInfluxIdent(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`)
	return `"` + r.Replace(s) + `"`
}
