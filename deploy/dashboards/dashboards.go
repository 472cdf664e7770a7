// Package dashboards reads the Grafana dashboards in deploy/grafana and
// gives every InfluxQL query in them — panel targets and template-variable
// queries — with Grafana's macros expanded the way Grafana's InfluxDB
// datasource expands them, so that tests can run each query against a real
// InfluxDB and assert that it returns data. No Grafana server can be had in
// the test environment; this is how the dashboards are proven instead.
package dashboards

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Dashboard is the part of a Grafana dashboard model this package reads.
type Dashboard struct {
	File       string `json:"-"` // base name of the JSON file
	UID        string `json:"uid"`
	Title      string `json:"title"`
	Templating struct {
		List []Variable `json:"list"`
	} `json:"templating"`
	Panels []Panel `json:"panels"`
}

// Variable is a template variable.
type Variable struct {
	Name       string         `json:"name"`
	Type       string         `json:"type"`
	Datasource *DatasourceRef `json:"datasource"`
	Query      string         `json:"query"`
	Multi      bool           `json:"multi"`
	IncludeAll bool           `json:"includeAll"`
	AllValue   string         `json:"allValue"`
}

// DatasourceRef names a datasource by type and uid.
type DatasourceRef struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

// Panel is one panel; rows carry their collapsed panels in Panels.
type Panel struct {
	ID         int            `json:"id"`
	Type       string         `json:"type"`
	Title      string         `json:"title"`
	Datasource *DatasourceRef `json:"datasource"`
	Targets    []Target       `json:"targets"`
	Panels     []Panel        `json:"panels"`
	GridPos    struct {
		H int `json:"h"`
		W int `json:"w"`
		X int `json:"x"`
		Y int `json:"y"`
	} `json:"gridPos"`
}

// Target is one query of a panel.
type Target struct {
	RefID        string         `json:"refId"`
	Datasource   *DatasourceRef `json:"datasource"`
	RawQuery     bool           `json:"rawQuery"`
	Query        string         `json:"query"`
	ResultFormat string         `json:"resultFormat"`
	Alias        string         `json:"alias"`
	Hide         bool           `json:"hide"`
}

// Query is one InfluxQL statement of a dashboard, macros unexpanded.
type Query struct {
	File       string // dashboard file, e.g. dualread-audit.json
	Dashboard  string // dashboard uid
	Panel      string // panel title; empty for a variable's query
	Variable   string // the template variable this query lists; empty for a panel's
	RefID      string
	Datasource DatasourceRef
	Text       string
}

// Name identifies the query in messages: "dualread-audit.json: panel "X" A".
func (q Query) Name() string {
	if q.Variable != "" {
		return fmt.Sprintf("%s: variable $%s", q.File, q.Variable)
	}
	return fmt.Sprintf("%s: panel %q %s", q.File, q.Panel, q.RefID)
}

// Load parses every *.json file in dir as a dashboard, in file-name order.
func Load(dir string) ([]Dashboard, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("dashboards: no *.json in %s", dir)
	}
	sort.Strings(files)
	out := make([]Dashboard, 0, len(files))
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		var d Dashboard
		dec := json.NewDecoder(strings.NewReader(string(raw)))
		if err := dec.Decode(&d); err != nil {
			return nil, fmt.Errorf("%s: %w", filepath.Base(f), err)
		}
		d.File = filepath.Base(f)
		out = append(out, d)
	}
	return out, nil
}

// AllPanels returns the dashboard's panels with the panels of collapsed rows
// flattened in.
func (d Dashboard) AllPanels() []Panel {
	var out []Panel
	var walk func([]Panel)
	walk = func(ps []Panel) {
		for _, p := range ps {
			out = append(out, p)
			walk(p.Panels)
		}
	}
	walk(d.Panels)
	return out
}

// Queries returns every query of d: its template variables' queries first
// (in order: a variable may be used by later ones), then every panel
// target's. A target's datasource defaults to its panel's. Only raw
// InfluxQL is supported: a target built with Grafana's query editor (not
// rawQuery) is an error, because its InfluxQL exists only inside Grafana.
func (d Dashboard) Queries() ([]Query, error) {
	var out []Query
	for _, v := range d.Templating.List {
		if v.Type != "query" {
			continue
		}
		if v.Datasource == nil {
			return nil, fmt.Errorf("%s: variable $%s has no datasource", d.File, v.Name)
		}
		out = append(out, Query{File: d.File, Dashboard: d.UID, Variable: v.Name, Datasource: *v.Datasource, Text: v.Query})
	}
	for _, p := range d.AllPanels() {
		if p.Type == "row" {
			continue
		}
		for _, t := range p.Targets {
			ds := t.Datasource
			if ds == nil {
				ds = p.Datasource
			}
			q := Query{File: d.File, Dashboard: d.UID, Panel: p.Title, RefID: t.RefID, Text: t.Query}
			if ds == nil {
				return nil, fmt.Errorf("%s: no datasource", q.Name())
			}
			q.Datasource = *ds
			if !t.RawQuery {
				return nil, fmt.Errorf("%s: not a raw InfluxQL query", q.Name())
			}
			out = append(out, q)
		}
	}
	return out, nil
}

// Queries returns every query of every dashboard in dir.
func Queries(dir string) ([]Query, error) {
	ds, err := Load(dir)
	if err != nil {
		return nil, err
	}
	var out []Query
	for _, d := range ds {
		qs, err := d.Queries()
		if err != nil {
			return nil, err
		}
		out = append(out, qs...)
	}
	return out, nil
}
