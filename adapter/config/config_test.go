package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dualread/dualread/adapter"
	"github.com/dualread/dualread/adapter/modes"
)

func write(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "dualread.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func noEnv(string) string { return "" }

func TestLoadAndApply(t *testing.T) {
	p := write(t, `
listen: 127.0.0.1:9000
backends:
  bigtable: {project: p, instance: i}
  spanner: {database: projects/p/instances/i/databases/d}
tables:
  default: {store: bigtable}
  "orders*": {store: spanner}
`)
	env := map[string]string{"DUALREAD_LISTEN": "127.0.0.1:9100", "DUALREAD_TABLES": "ledger=spanner"}
	f, err := Load(p, func(k string) string { return env[k] }, nil)
	if err != nil {
		t.Fatal(err)
	}
	if f.Listen != "127.0.0.1:9100" {
		t.Errorf("env did not override listen: %q", f.Listen)
	}
	var cfg adapter.Config
	f.Apply(&cfg)
	if cfg.Backend != "bigtable" || cfg.SpannerDatabase != "projects/p/instances/i/databases/d" || len(cfg.Routes) != 2 {
		t.Errorf("Apply: %+v", cfg)
	}
}

func TestErrorsNameTheKey(t *testing.T) {
	for _, c := range []struct{ body, want string }{
		{"lisen: x", "lisen"},
		{"tables:\n  orders: {store: spaner}", `tables."orders".store`},
		{"tables:\n  orders: {}", `tables."orders".store: missing`},
		{"tables:\n  orders: {store: embedded}", "embedded can only be the default"},
		{"tables:\n  orders: {store: spanner}", "backends.spanner.database"},
		{"tables:\n  default: {store: bigtable}", "backends.bigtable"},
		{"backends:\n  spanner: {database: mydb}", "backends.spanner.database"},
		{"auth: maybe", "auth"},
		{"tables:\n  \"orders[\": {store: bigtable}\n  default: {store: embedded}", "bad pattern"},
	} {
		_, err := Load(write(t, c.body), noEnv, nil)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: err = %v, want one naming %q", c.body, err, c.want)
		}
	}
}

func TestNoFileIsEmbedded(t *testing.T) {
	f, err := Load("", noEnv, nil)
	if err != nil {
		t.Fatal(err)
	}
	var cfg adapter.Config
	f.Apply(&cfg)
	if cfg.Backend != adapter.BackendEmbedded || cfg.Routes != nil {
		t.Errorf("Apply: %+v", cfg)
	}
}

func TestOverrideBeforeValidation(t *testing.T) {
	p := write(t, "tables:\n  default: {store: spanner}\n")
	f, err := Load(p, noEnv, func(f *File) { f.Backends.Spanner.Database = "projects/p/instances/i/databases/d" })
	if err != nil {
		t.Fatalf("a flag supplying the missing database was not applied before validation: %v", err)
	}
	if f.Home() != adapter.BackendSpanner {
		t.Errorf("Home() = %q", f.Home())
	}
}

func TestModeRules(t *testing.T) {
	p := write(t, `
tables:
  default: {shadow: dynamodb, sample: 0.25}
  "orders*": {writes: reject}
  users: {store: bigtable}
`)
	f, err := Load(p, noEnv, nil)
	if err != nil {
		t.Fatal(err)
	}
	rules := f.ModeRules(modes.Default)
	if len(rules) != 2 || rules[0].Pattern != "default" || rules[0].Mode.Sample != 0.25 || rules[0].Mode.Shadow != "dynamodb" {
		t.Fatalf("rules %+v", rules)
	}
	if o := rules[1]; o.Pattern != "orders*" || o.Mode.Writes != "reject" || o.Mode.Sample != 0.25 {
		t.Errorf("orders* rule %+v: want writes reject, the rest from default", o)
	}
	if _, err := Load(write(t, "tables:\n  t1: {writes: maybe}\n"), noEnv, nil); err == nil || !strings.Contains(err.Error(), `tables."t1".writes`) {
		t.Errorf("bad mode: %v", err)
	}
}

// TestModeSpellingsAndBackends: serve and shadow name backends as the
// issue spells them; a backend that is not the table's own is refused
// naming the key; a DynamoDB-served table does not inherit shadow: dynamodb.
func TestModeSpellingsAndBackends(t *testing.T) {
	const backends = "backends:\n  spanner: {database: projects/p/instances/i/databases/d}\n"
	for _, c := range []struct{ body, want string }{
		{"tables:\n  default: {serve: bigtable, shadow: dynamodb}\n  \"orders*\": {store: spanner, serve: spanner, shadow: dynamodb}\n  legacy: {serve: dynamodb, shadow: bigtable}\n", ""},
		{"tables:\n  \"orders*\": {store: spanner, serve: dynamodb, shadow: bigtable}\n", `tables."orders*".shadow: bigtable, but the table lives on spanner (tables."orders*".store)`},
		{"tables:\n  \"orders*\": {store: spanner}\n  orders_eu: {serve: bigtable}\n", `tables."orders_eu".serve: bigtable, but the table lives on spanner (tables."orders*".store)`},
		{"tables:\n  default: {store: spanner, serve: spanner}\n  logs: {store: bigtable}\n", `tables."logs".serve: spanner, but the table lives on bigtable`},
		{"tables:\n  t: {serve: spanner, shadow: bigtable}\n", `tables."t".shadow: bigtable on a table served by spanner`},
		{"tables:\n  t: {serve: cassandra}\n", `tables."t".serve: "cassandra"`},
	} {
		body := c.body
		if strings.Contains(body, "spanner") {
			body = backends + body
		}
		_, err := Load(write(t, body), noEnv, nil)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%q refused: %v", c.body, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%q: err = %v, want one containing %q", c.body, err, c.want)
		}
	}
	f, err := Load(write(t, "tables:\n  default: {shadow: dynamodb, sample: 1}\n  sessions: {serve: dynamodb, writes: dynamodb}\n  legacy: {serve: dynamodb, shadow: bigtable}\n"), noEnv, nil)
	if err != nil {
		t.Fatal(err)
	}
	rules := f.ModeRules(modes.Default)
	if _, err := modes.NewSet(rules); err != nil {
		t.Fatalf("rules refused: %v", err)
	}
	for _, r := range rules {
		switch r.Pattern {
		case "sessions":
			if r.Mode.Shadow != "off" {
				t.Errorf("sessions (served by DynamoDB) inherits shadow %q, want off", r.Mode.Shadow)
			}
		case "legacy":
			if r.Mode.Shadow != "bigtable" || r.Mode.Sample != 1 {
				t.Errorf("legacy: %+v", r.Mode)
			}
		}
	}
}
