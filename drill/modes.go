package drill

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"reflect"
	"sort"
	"strings"
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

// resolveAdmins sets d.admins: the configured URLs, or with
// AdminEveryAddress one URL per address each host resolves to.
func (d *run) resolveAdmins(ctx context.Context) bool {
	if !d.cfg.AdminEveryAddress {
		d.admins = d.cfg.AdminURLs
		return true
	}
	return d.step("", "resolve adapters", func() (string, error) {
		for _, raw := range d.cfg.AdminURLs {
			u, err := url.Parse(raw)
			if err != nil {
				return "", err
			}
			addrs, err := net.DefaultResolver.LookupHost(ctx, u.Hostname())
			if err != nil {
				return "", fmt.Errorf("admin API %s: %w", raw, err)
			}
			sort.Strings(addrs)
			for _, a := range addrs {
				v := *u
				v.Host = net.JoinHostPort(a, u.Port())
				d.admins = append(d.admins, v.String())
			}
		}
		return fmt.Sprintf("%d adapter replica(s): %s", len(d.admins), strings.Join(d.admins, ", ")), nil
	})
}

// getMode reads GET /modes?table=T from every replica. Replicas that
// disagree are an error: a drill must start from one known mode.
func (d *run) getMode(ctx context.Context, table string) ([]*modeState, error) {
	var states []*modeState
	for _, base := range d.admins {
		var out struct {
			Overrides map[string]map[string]any `json:"overrides"`
			Table     struct {
				Mode map[string]any `json:"mode"`
			} `json:"table"`
		}
		if err := d.admin(ctx, base, http.MethodGet, "/modes?table="+url.QueryEscape(table), nil, &out); err != nil {
			return nil, err
		}
		eff := out.Table.Mode
		delete(eff, "from") // which rule decided it: not part of the mode
		st := &modeState{Effective: eff, Override: out.Overrides[table]}
		if len(states) > 0 && !reflect.DeepEqual(st.Effective, states[0].Effective) {
			return nil, fmt.Errorf("adapters disagree on %s's mode: %s at %s, %s at %s", table, st, base, states[0], d.admins[0])
		}
		states = append(states, st)
	}
	return states, nil
}

// switchMode records the table's mode on every replica and applies
// cfg.Switch to each. The returned states are for rollback, even when a
// later replica failed.
func (d *run) switchMode(ctx context.Context, table string) ([]*modeState, error) {
	prev, err := d.getMode(ctx, table)
	if err != nil {
		return nil, err
	}
	for _, base := range d.admins {
		if err := d.admin(ctx, base, http.MethodPut, "/modes/"+url.PathEscape(table), d.cfg.Switch, nil); err != nil {
			return prev, err
		}
	}
	return prev, nil
}

// rollback restores each replica's override as it was (or removes the
// drill's) and checks every effective mode is the one before the switch.
func (d *run) rollback(ctx context.Context, table string, prev []*modeState) (string, error) {
	var errs []error
	for i, base := range d.admins {
		var err error
		if prev[i].Override != nil {
			err = d.admin(ctx, base, http.MethodPut, "/modes/"+url.PathEscape(table), prev[i].Override, nil)
		} else {
			err = d.admin(ctx, base, http.MethodDelete, "/modes/"+url.PathEscape(table), nil, nil)
		}
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return "", err
	}
	now, err := d.getMode(ctx, table)
	if err != nil {
		return "", err
	}
	if !reflect.DeepEqual(now[0].Effective, prev[0].Effective) {
		return "", fmt.Errorf("mode after rollback %s is not the mode before the drill %s", jsonString(now[0].Effective), jsonString(prev[0].Effective))
	}
	return fmt.Sprintf("mode restored on %d adapter(s): %s", len(d.admins), prev[0]), nil
}

// admin sends one admin API request; in (if any) is the JSON body, out (if
// any) receives the JSON answer.
func (d *run) admin(ctx context.Context, base, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, base+path, body)
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
