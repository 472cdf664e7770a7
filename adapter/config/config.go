// Package config reads dualread.yaml, the adapter's configuration file:
// listen address, auth, backends, and which backend each table lives on.
// Environment variables override the file (DUALREAD_*, listed in Env), and
// command-line flags override both. Anything invalid fails at start-up with a
// message naming the key.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/dualread/dualread/adapter"
	"github.com/dualread/dualread/adapter/modes"
)

// File is the content of dualread.yaml.
//
//	listen: 127.0.0.1:8000
//	region: us-east-1
//	auth: identify
//	credentials: creds.yaml
//	backends:
//	  bigtable: {project: p, instance: i}
//	  spanner: {database: projects/p/instances/i/databases/d}
//	tables:
//	  default: {store: bigtable}
//	  "orders*": {store: spanner}
//	  audit_log: {store: bigtable}
type File struct {
	Listen      string           `yaml:"listen"`
	Region      string           `yaml:"region"`
	Auth        string           `yaml:"auth"`
	Credentials string           `yaml:"credentials"`
	Backends    Backends         `yaml:"backends"`
	Tables      map[string]Table `yaml:"tables"`
}

// Backends configures the stores tables can live on.
type Backends struct {
	Bigtable struct {
		Project  string `yaml:"project"`
		Instance string `yaml:"instance"`
	} `yaml:"bigtable"`
	Spanner struct {
		Database string `yaml:"database"`
	} `yaml:"spanner"`
}

// Table is one entry of tables: (an exact table name, a glob, or "default").
type Table struct {
	// Store is embedded, bigtable or spanner ("embedded" only for default).
	Store string `yaml:"store"`
	// The migration mode (package modes): where reads are served, whether
	// and how often they are shadowed, what happens to writes. Unset fields
	// take modes.Default's value.
	Serve  string   `yaml:"serve"`
	Shadow string   `yaml:"shadow"`
	Sample *float64 `yaml:"sample"`
	Writes string   `yaml:"writes"`
}

// hasMode reports whether the entry sets any mode field.
func (t Table) hasMode() bool {
	return t.Serve != "" || t.Shadow != "" || t.Sample != nil || t.Writes != ""
}

// mode fills unset fields from base.
func (t Table) mode(base modes.Mode) modes.Mode {
	m := base
	if t.Serve != "" {
		m.Serve = t.Serve
	}
	if t.Shadow != "" {
		m.Shadow = t.Shadow
	}
	if t.Sample != nil {
		m.Sample = *t.Sample
	}
	if t.Writes != "" {
		m.Writes = t.Writes
	}
	if t.Shadow == "" && m.ServesDynamoDB() && m.ShadowSide() == modes.SideDynamoDB {
		// A table switched back to (or kept on) DynamoDB does not inherit
		// the default's shadow: dynamodb, which would shadow DynamoDB with
		// itself; it shadows only if it says shadow: spanner|bigtable.
		m.Shadow = "off"
	}
	return m
}

// ModeRules are the tables' migration modes, unset fields taken from base
// (the command line's defaults); a default rule with base itself is always
// present.
func (f *File) ModeRules(base modes.Mode) []modes.Rule {
	def := base
	if t, ok := f.Tables[DefaultTable]; ok {
		def = t.mode(base)
	}
	rules := []modes.Rule{{Pattern: DefaultTable, Mode: def}}
	for _, p := range f.patterns() {
		if t := f.Tables[p]; p != DefaultTable && t.hasMode() {
			rules = append(rules, modes.Rule{Pattern: p, Mode: t.mode(def)})
		}
	}
	return rules
}

// DefaultTable is the tables: key that sets the home backend.
const DefaultTable = "default"

// Env lists the environment variables that override the file.
var Env = []struct{ Name, Key string }{
	{"DUALREAD_LISTEN", "listen"},
	{"DUALREAD_REGION", "region"},
	{"DUALREAD_AUTH", "auth"},
	{"DUALREAD_CREDENTIALS", "credentials"},
	{"DUALREAD_BIGTABLE_PROJECT", "backends.bigtable.project"},
	{"DUALREAD_BIGTABLE_INSTANCE", "backends.bigtable.instance"},
	{"DUALREAD_SPANNER_DATABASE", "backends.spanner.database"},
	{"DUALREAD_DEFAULT_STORE", "tables.default.store"},
	// DUALREAD_TABLES adds or replaces routes: "orders*=spanner,logs=bigtable".
	{"DUALREAD_TABLES", "tables"},
}

// Load reads filename (empty: no file), applies the environment (getenv,
// usually os.Getenv), then override (command-line flags; may be nil), and
// validates the result.
func Load(filename string, getenv func(string) string, override func(*File)) (*File, error) {
	f := &File{}
	if filename != "" {
		raw, err := os.ReadFile(filename)
		if err != nil {
			return nil, err
		}
		if f, err = Parse(raw); err != nil {
			return nil, fmt.Errorf("%s: %w", filename, err)
		}
	}
	if err := f.applyEnv(getenv); err != nil {
		return nil, err
	}
	if override != nil {
		override(f)
	}
	if err := f.Validate(); err != nil {
		if filename != "" {
			return nil, fmt.Errorf("%s: %w", filename, err)
		}
		return nil, err
	}
	return f, nil
}

// Parse decodes a file, refusing unknown keys.
func Parse(raw []byte) (*File, error) {
	f := &File{}
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	if err := dec.Decode(f); err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	return f, nil
}

func (f *File) applyEnv(getenv func(string) string) error {
	set := map[string]*string{
		"listen": &f.Listen, "region": &f.Region, "auth": &f.Auth, "credentials": &f.Credentials,
		"backends.bigtable.project": &f.Backends.Bigtable.Project, "backends.bigtable.instance": &f.Backends.Bigtable.Instance,
		"backends.spanner.database": &f.Backends.Spanner.Database,
	}
	for _, e := range Env {
		v := getenv(e.Name)
		if v == "" {
			continue
		}
		switch e.Key {
		case "tables.default.store":
			f.SetStore(DefaultTable, v)
		case "tables":
			for _, pair := range strings.Split(v, ",") {
				pattern, store, ok := strings.Cut(strings.TrimSpace(pair), "=")
				if !ok || pattern == "" {
					return fmt.Errorf("%s: %q is not pattern=store", e.Name, pair)
				}
				f.SetStore(pattern, store)
			}
		default:
			*set[e.Key] = v
		}
	}
	return nil
}

// SetStore routes pattern (or DefaultTable) to store.
func (f *File) SetStore(pattern, store string) {
	if f.Tables == nil {
		f.Tables = map[string]Table{}
	}
	t := f.Tables[pattern]
	t.Store = store
	f.Tables[pattern] = t
}

// Validate checks every key and names the first bad one.
func (f *File) Validate() error {
	switch f.Auth {
	case "", "none", "identify", "verify":
	default:
		return fmt.Errorf("auth: %q is not none, identify or verify", f.Auth)
	}
	for _, pattern := range f.patterns() {
		t := f.Tables[pattern]
		if t.hasMode() {
			if err := t.mode(modes.Default).Validate(); err != nil {
				return fmt.Errorf("tables.%q.%w", pattern, err)
			}
		}
		if t.Store == "" && t.hasMode() {
			continue // a mode-only entry keeps the store routing of the others
		}
		key := fmt.Sprintf("tables.%q.store", pattern)
		switch t.Store {
		case adapter.BackendBigtable, adapter.BackendSpanner:
		case adapter.BackendEmbedded:
			if pattern != DefaultTable {
				return fmt.Errorf("%s: embedded can only be the default store", key)
			}
		case "":
			return fmt.Errorf("%s: missing", key)
		default:
			return fmt.Errorf("%s: %q is not bigtable, spanner or embedded", key, t.Store)
		}
		if _, err := path.Match(pattern, ""); err != nil {
			return fmt.Errorf("tables.%q: bad pattern: %v", pattern, err)
		}
	}
	if err := f.checkModeBackends(); err != nil {
		return err
	}
	uses := map[string]bool{}
	for _, t := range f.Tables {
		if t.Store != "" {
			uses[t.Store] = true
		}
	}
	home := f.Home()
	uses[home] = true
	embedded := home == adapter.BackendEmbedded
	if uses[adapter.BackendBigtable] && !embedded && (f.Backends.Bigtable.Project == "" || f.Backends.Bigtable.Instance == "") {
		return errors.New("backends.bigtable: project and instance are required when a table uses bigtable")
	}
	if uses[adapter.BackendSpanner] && f.Backends.Spanner.Database == "" {
		return errors.New("backends.spanner.database: required when a table uses spanner")
	}
	if db := f.Backends.Spanner.Database; db != "" && !validDatabase(db) {
		return fmt.Errorf("backends.spanner.database: %q is not projects/P/instances/I/databases/D", db)
	}
	return nil
}

// checkModeBackends checks, for every entry, that a serve or shadow naming
// a backend (spanner, bigtable) names the one the entry's tables live on,
// with the mode as ModeRules will apply it (inherited fields included).
func (f *File) checkModeBackends() error {
	def := modes.Default
	if t, ok := f.Tables[DefaultTable]; ok {
		def = t.mode(modes.Default)
	}
	for _, pattern := range f.patterns() {
		m := f.Tables[pattern].mode(def)
		if pattern == DefaultTable {
			m = def
		}
		backend := f.backendOf(pattern)
		if err := m.CheckBackend(backend); err != nil {
			return fmt.Errorf("tables.%q.%w (tables.%q.store)", pattern, err, f.routeKey(pattern))
		}
	}
	return nil
}

// routeKey is the tables: key whose store the tables of pattern take.
func (f *File) routeKey(pattern string) string {
	if t := f.Tables[pattern]; t.Store != "" {
		return pattern
	}
	var globs []string
	for p, t := range f.Tables {
		if p != DefaultTable && t.Store != "" && isGlob(p) {
			globs = append(globs, p)
		}
	}
	// As adapter routing: the longest glob first, ties alphabetical.
	sort.Slice(globs, func(i, j int) bool {
		if len(globs[i]) != len(globs[j]) {
			return len(globs[i]) > len(globs[j])
		}
		return globs[i] < globs[j]
	})
	for _, g := range globs {
		if ok, _ := path.Match(g, pattern); ok {
			return g
		}
	}
	return DefaultTable
}

// backendOf is the backend the tables of pattern live on (a glob pattern
// is matched as a name, which a glob covering it matches).
func (f *File) backendOf(pattern string) string {
	if k := f.routeKey(pattern); k != DefaultTable {
		return f.Tables[k].Store
	}
	return f.Home()
}

func isGlob(p string) bool { return strings.ContainsAny(p, "*?[\\") }

func validDatabase(db string) bool {
	p := strings.Split(db, "/")
	return len(p) == 6 && p[0] == "projects" && p[2] == "instances" && p[4] == "databases" && p[1] != "" && p[3] != "" && p[5] != ""
}

// patterns lists the tables: keys in a stable order.
func (f *File) patterns() []string {
	out := make([]string, 0, len(f.Tables))
	for p := range f.Tables {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

// Home is the home backend: tables.default.store, or embedded.
// (A default entry that sets only a mode leaves the home embedded.)
func (f *File) Home() string {
	if t, ok := f.Tables[DefaultTable]; ok && t.Store != "" {
		return t.Store
	}
	return adapter.BackendEmbedded
}

// Apply copies the file's backend settings and routes into cfg.
func (f *File) Apply(cfg *adapter.Config) {
	cfg.Backend = f.Home()
	cfg.BigtableProject = f.Backends.Bigtable.Project
	cfg.BigtableInstance = f.Backends.Bigtable.Instance
	cfg.SpannerDatabase = f.Backends.Spanner.Database
	cfg.Routes = nil
	for _, p := range f.patterns() {
		if p != DefaultTable && f.Tables[p].Store != "" {
			cfg.Routes = append(cfg.Routes, adapter.Route{Pattern: p, Backend: f.Tables[p].Store})
		}
	}
}
