package drill

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"reflect"
)

// modeState is a table's mode before the switch: the effective mode, and
// the admin override if there was one (rollback restores exactly that).
type modeState struct {
	Effective map[string]any
	Override  map[string]any // nil: none, the table followed its rule
}

func (m *modeState) String() string {
	if m == nil {
		return "unknown"
	}
	if m.Override != nil {
		return jsonString(m.Effective) + " by override"
	}
	return jsonString(m.Effective) + " by rule"
}

// getMode reads GET /modes?table=T.
func (d *run) getMode(ctx context.Context, table string) (*modeState, error) {
	var out struct {
		Overrides map[string]map[string]any `json:"overrides"`
		Table     struct {
			Mode map[string]any `json:"mode"`
		} `json:"table"`
	}
	if err := d.admin(ctx, http.MethodGet, "/modes?table="+url.QueryEscape(table), nil, &out); err != nil {
		return nil, err
	}
	eff := out.Table.Mode
	delete(eff, "from") // which rule decided it: not part of the mode
	return &modeState{Effective: eff, Override: out.Overrides[table]}, nil
}

// switchMode records the table's mode and applies cfg.Switch.
func (d *run) switchMode(ctx context.Context, table string) (*modeState, error) {
	prev, err := d.getMode(ctx, table)
	if err != nil {
		return nil, err
	}
	if err := d.admin(ctx, http.MethodPut, "/modes/"+url.PathEscape(table), d.cfg.Switch, nil); err != nil {
		return prev, err
	}
	return prev, nil
}

// rollback restores the override that was there (or removes the drill's)
// and checks the effective mode is the one before the switch.
func (d *run) rollback(ctx context.Context, table string, prev *modeState) (string, error) {
	var err error
	if prev.Override != nil {
		err = d.admin(ctx, http.MethodPut, "/modes/"+url.PathEscape(table), prev.Override, nil)
	} else {
		err = d.admin(ctx, http.MethodDelete, "/modes/"+url.PathEscape(table), nil, nil)
	}
	if err != nil {
		return "", err
	}
	now, err := d.getMode(ctx, table)
	if err != nil {
		return "", err
	}
	if !reflect.DeepEqual(now.Effective, prev.Effective) {
		return "", fmt.Errorf("mode after rollback %s is not the mode before the drill %s", jsonString(now.Effective), jsonString(prev.Effective))
	}
	return "mode restored: " + prev.String(), nil
}

// admin sends one admin API request; in (if any) is the JSON body, out (if
// any) receives the JSON answer.
func (d *run) admin(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, d.cfg.AdminURL+path, body)
	if err != nil {
		return err
	}
	resp, err := d.cfg.HTTP.Do(req)
	if err != nil {
		return fmt.Errorf("admin API: %w", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("admin API %s %s: HTTP %d: %s", method, path, resp.StatusCode, bytes.TrimSpace(b))
	}
	if out != nil {
		return json.Unmarshal(b, out)
	}
	return nil
}
