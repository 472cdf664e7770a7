package standin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// CreateInfluxDatabases creates each database on the InfluxDB 1.x at
// baseURL through POST /query (CREATE is refused over GET). CREATE DATABASE
// is idempotent there, so databases that already exist are fine.
func CreateInfluxDatabases(ctx context.Context, baseURL string, databases ...string) error {
	for _, db := range databases {
		if db == "" {
			return errors.New("create InfluxDB database: empty name")
		}
		if err := influxStatement(ctx, baseURL, "CREATE DATABASE "+QuoteInfluxIdent(db)); err != nil {
			return fmt.Errorf("create InfluxDB database %q: %w", db, err)
		}
	}
	return nil
}

// QuoteInfluxIdent quotes an InfluxQL identifier (database, measurement,
// tag key) so that any name, including keywords and names with spaces or
// quotes, is taken literally.
func QuoteInfluxIdent(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`)
	return `"` + r.Replace(s) + `"`
}

// influxStatement runs one statement and fails on an HTTP error or an
// error in the statement's result.
func influxStatement(ctx context.Context, baseURL, q string) error {
	form := url.Values{"q": {q}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(baseURL, "/")+"/query", strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	var res struct {
		Results []struct {
			Error string `json:"error"`
		} `json:"results"`
		Error string `json:"error"`
	}
	if json.Unmarshal(body, &res) != nil || resp.StatusCode != http.StatusOK || res.Error != "" {
		return fmt.Errorf("InfluxDB /query answered %d: %s", resp.StatusCode, body)
	}
	for _, r := range res.Results {
		if r.Error != "" {
			return fmt.Errorf("InfluxQL %q: %s", q, r.Error)
		}
	}
	return nil
}
