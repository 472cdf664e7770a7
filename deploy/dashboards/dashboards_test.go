package dashboards

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

const (
	dashboardDir   = "../grafana/dashboards"
	datasourceFile = "../grafana/provisioning/datasources/influxdb.yaml"
)

// provisioned is deploy/grafana's datasource provisioning file.
type provisioned struct {
	APIVersion  int `yaml:"apiVersion"`
	Datasources []struct {
		Name      string `yaml:"name"`
		UID       string `yaml:"uid"`
		Type      string `yaml:"type"`
		URL       string `yaml:"url"`
		Access    string `yaml:"access"`
		IsDefault bool   `yaml:"isDefault"`
		Editable  bool   `yaml:"editable"`
		JSONData  struct {
			DBName       string `yaml:"dbName"`
			HTTPMode     string `yaml:"httpMode"`
			TimeInterval string `yaml:"timeInterval"`
		} `yaml:"jsonData"`
	} `yaml:"datasources"`
}

func loadDatasources(t *testing.T) provisioned {
	t.Helper()
	raw, err := os.ReadFile(datasourceFile)
	if err != nil {
		t.Fatal(err)
	}
	var p provisioned
	dec := yaml.NewDecoder(strings.NewReader(string(raw)))
	dec.KnownFields(true) // a misspelt key would be ignored by Grafana too: refuse it here
	if err := dec.Decode(&p); err != nil {
		t.Fatalf("%s: %v", datasourceFile, err)
	}
	return p
}

// TestDatasource: the provisioned datasource is InfluxQL on InfluxDB 1.x
// with the minimum interval Expand assumes.
func TestDatasource(t *testing.T) {
	p := loadDatasources(t)
	if p.APIVersion != 1 || len(p.Datasources) != 1 {
		t.Fatalf("want apiVersion 1 and one datasource: %+v", p)
	}
	ds := p.Datasources[0]
	if ds.Type != "influxdb" || ds.Access != "proxy" || ds.UID == "" || ds.URL == "" || ds.JSONData.DBName == "" {
		t.Fatalf("datasource %+v: want type influxdb with uid, url and dbName", ds)
	}
	iv, err := time.ParseDuration(ds.JSONData.TimeInterval)
	if err != nil || iv != MinInterval {
		t.Fatalf("timeInterval %q: want %s (MinInterval)", ds.JSONData.TimeInterval, MinInterval)
	}
}

// varRef finds template-variable references ($name, ${name}, [[name]]) that
// are not Grafana's built-in macros.
var varRef = regexp.MustCompile(`\$(\w+)|\$\{(\w+)(?::\w+)?\}|\[\[(\w+)\]\]`)

var macros = []string{"timeFilter", "__interval", "__interval_ms", "interval", "__from", "__to"}

// TestDashboardsWellFormed: every dashboard parses, has a unique uid, every
// panel has at least one raw InfluxQL query on the provisioned datasource,
// every variable a query uses is defined (and every defined one used),
// panels fit Grafana's 24-column grid, and every dashboard is shipped by
// deploy/grafana/kustomization.yaml.
func TestDashboardsWellFormed(t *testing.T) {
	p := loadDatasources(t)
	uids := map[string]bool{}
	for _, d := range p.Datasources {
		uids[d.UID] = true
	}
	ds, err := Load(dashboardDir)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]string{}
	for _, d := range ds {
		t.Run(d.File, func(t *testing.T) {
			if d.UID == "" || d.Title == "" {
				t.Fatalf("uid %q title %q: both required", d.UID, d.Title)
			}
			if other, dup := seen[d.UID]; dup {
				t.Fatalf("uid %q also in %s", d.UID, other)
			}
			seen[d.UID] = d.File
			defined := map[string]bool{}
			for _, v := range d.Templating.List {
				if v.Type != "query" || v.Query == "" || !v.Multi || !v.IncludeAll {
					t.Errorf("variable $%s: want a multi-value query variable with All (the queries match it with =~)", v.Name)
				}
				defined[v.Name] = true
			}
			ids := map[int]bool{}
			for _, pn := range d.AllPanels() {
				if pn.Type == "row" {
					continue
				}
				if ids[pn.ID] {
					t.Errorf("panel %q: id %d repeated", pn.Title, pn.ID)
				}
				ids[pn.ID] = true
				if pn.Title == "" || len(pn.Targets) == 0 {
					t.Errorf("panel %d %q: needs a title and at least one query", pn.ID, pn.Title)
				}
				g := pn.GridPos
				if g.W < 1 || g.H < 1 || g.X < 0 || g.X+g.W > 24 || g.Y < 0 {
					t.Errorf("panel %q: gridPos %+v outside the 24-column grid", pn.Title, g)
				}
			}
			qs, err := d.Queries()
			if err != nil {
				t.Fatal(err)
			}
			used := map[string]bool{}
			for _, q := range qs {
				if strings.TrimSpace(q.Text) == "" {
					t.Errorf("%s: empty query", q.Name())
				}
				if q.Datasource.Type != "influxdb" || !uids[q.Datasource.UID] {
					t.Errorf("%s: datasource %+v is not a provisioned InfluxDB datasource", q.Name(), q.Datasource)
				}
				for _, m := range varRef.FindAllStringSubmatch(q.Text, -1) {
					name := m[1] + m[2] + m[3]
					if slices.Contains(macros, name) {
						continue
					}
					used[name] = true
					if !defined[name] {
						t.Errorf("%s: $%s is not a variable of this dashboard", q.Name(), name)
					}
				}
				if q.Panel != "" && !strings.Contains(q.Text, "$timeFilter") {
					t.Errorf("%s: no $timeFilter: the panel would ignore the time picker", q.Name())
				}
			}
			for name := range defined {
				if !used[name] {
					t.Errorf("variable $%s is used by no query", name)
				}
			}
		})
	}

	// deploy/grafana/kustomization.yaml turns the dashboards into ConfigMaps
	// for Grafana's sidecar: a dashboard missing there would not be deployed.
	raw, err := os.ReadFile("../grafana/kustomization.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var k struct {
		ConfigMapGenerator []struct {
			Files []string `yaml:"files"`
		} `yaml:"configMapGenerator"`
	}
	if err := yaml.Unmarshal(raw, &k); err != nil {
		t.Fatal(err)
	}
	var shipped []string
	for _, g := range k.ConfigMapGenerator {
		shipped = append(shipped, g.Files...)
	}
	for _, d := range ds {
		if !slices.Contains(shipped, filepath.ToSlash(filepath.Join("dashboards", d.File))) {
			t.Errorf("%s is not in deploy/grafana/kustomization.yaml's configMapGenerator", d.File)
		}
	}
}

// TestQueriesRefuseBuilderQueries: a target made with Grafana's query
// builder has no InfluxQL to check, so Queries refuses it.
func TestQueriesRefuseBuilderQueries(t *testing.T) {
	dir := t.TempDir()
	js := `{"uid":"x","title":"x","panels":[{"id":1,"type":"timeseries","title":"p",
		"datasource":{"type":"influxdb","uid":"u"},"targets":[{"refId":"A","measurement":"m"}]}]}`
	if err := os.WriteFile(filepath.Join(dir, "x.json"), []byte(js), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Queries(dir); err == nil || !strings.Contains(err.Error(), "not a raw InfluxQL") {
		t.Fatalf("err = %v, want a refusal", err)
	}
}

func TestExpand(t *testing.T) {
	from := time.UnixMilli(1_700_000_000_000).UTC()
	vars := map[string][]string{
		"table": {"orders"},
		"multi": {"orders", "customers"},
		"odd":   {"a.b", "c/d", "e|f"},
	}
	tests := []struct {
		name    string
		to      time.Time
		q, want string
		wantErr string
	}{
		{name: "time filter", to: from.Add(time.Hour), q: "WHERE $timeFilter",
			want: "WHERE time >= 1700000000000ms and time <= 1700003600000ms"},
		{name: "1h range: floor of 10s", to: from.Add(time.Hour), q: "time($__interval) $__interval_ms $interval",
			want: "time(10s) 10000 10s"},
		{name: "24h range", to: from.Add(24 * time.Hour), q: "time($__interval) $__interval_ms", want: "time(1m) 60000"},
		{name: "30d range", to: from.Add(30 * 24 * time.Hour), q: "time($__interval)", want: "time(30m)"},
		{name: "from and to", to: from.Add(time.Hour), q: "$__from-$__to", want: "1700000000000-1700003600000"},
		{name: "one value", to: from.Add(time.Hour), q: `"table" =~ /^$table$/`, want: `"table" =~ /^orders$/`},
		{name: "braces and brackets", to: from.Add(time.Hour), q: `${table} ${table:regex} [[table]]`, want: `orders orders orders`},
		{name: "several values", to: from.Add(time.Hour), q: `/^$multi$/`, want: `/^(orders|customers)$/`},
		{name: "escaped", to: from.Add(time.Hour), q: `/^$odd$/`, want: `/^(a\.b|c\/d|e\|f)$/`},
		{name: "unknown variable", to: from.Add(time.Hour), q: `/^$nope$/`, wantErr: "$nope"},
		{name: "variable without values", to: from.Add(time.Hour), q: `$empty`, wantErr: "$empty"},
	}
	vars["empty"] = nil
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Expand(tc.q, from, tc.to, vars)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want one naming %s", err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("Expand(%q) = %q, %v; want %q", tc.q, got, err, tc.want)
			}
		})
	}
}

func TestRoundInterval(t *testing.T) {
	for _, tc := range []struct {
		in, want time.Duration
	}{
		{5 * time.Millisecond, time.Millisecond},
		{3600 * time.Millisecond, 5 * time.Second},
		{86400 * time.Millisecond, time.Minute},
		{7 * 24 * time.Hour / 1000, 10 * time.Minute},
		{400 * 24 * time.Hour, 30 * 24 * time.Hour},
	} {
		if got := roundInterval(tc.in); got != tc.want {
			t.Errorf("roundInterval(%s) = %s, want %s", tc.in, got, tc.want)
		}
	}
	for d, want := range map[time.Duration]string{10 * time.Second: "10s", 90 * time.Second: "90s", 2 * time.Hour: "2h",
		24 * time.Hour: "1d", 500 * time.Millisecond: "500ms"} {
		if got := influxDuration(d); got != want {
			t.Errorf("influxDuration(%s) = %s, want %s", d, got, want)
		}
	}
}
