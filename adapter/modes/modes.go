// Package modes decides, table by table, where each request goes during a
// migration: reads served from the new store or from DynamoDB, shadowed on
// the other side or not and how often, writes applied, forwarded to DynamoDB
// or refused.
// Modes change at run time (config reload, admin API) without a restart.
package modes

import (
	"fmt"
	"path"
	"sort"
	"strings"
	"sync"
)

// Mode is one table's setting.
type Mode struct {
	// Serve answers reads: the table's own backend ("spanner" or "bigtable",
	// which must be the backend the table lives on; "store" names it without
	// saying which) or "dynamodb" (forwarded).
	Serve string `json:"serve" yaml:"serve"`
	// Shadow re-reads a sample of the served reads on the other side for the
	// audit: "dynamodb" when the store serves; the table's backend ("spanner",
	// "bigtable" or "store") when DynamoDB serves, the configuration teams
	// run before they switch reads; or "off".
	Shadow string `json:"shadow" yaml:"shadow"`
	// Sample is the fraction of reads shadowed, 0..1.
	Sample float64 `json:"sample" yaml:"sample"`
	// Writes: "serve" (applied to the table's backend), "dynamodb"
	// (forwarded to DynamoDB) or "reject" (read-only: refused and recorded).
	Writes string `json:"writes" yaml:"writes"`
}

// Default is the mode of a table nothing configures: served and written
// here, not shadowed.
var Default = Mode{Serve: "store", Shadow: "off", Sample: 0, Writes: "serve"}

// Sides of a migration, as ShadowPlan names them.
const (
	SideStore    = "store"
	SideDynamoDB = "dynamodb"
)

// isStore reports whether v names the new store: generically or as the
// backend the table lives on.
func isStore(v string) bool { return v == "store" || v == "spanner" || v == "bigtable" }

// ServesDynamoDB reports whether DynamoDB answers the table's reads.
func (m Mode) ServesDynamoDB() bool { return m.Serve == SideDynamoDB }

// ShadowSide is the side shadow reads go to: SideDynamoDB, SideStore, or ""
// when shadowing is off.
func (m Mode) ShadowSide() string {
	switch {
	case m.Shadow == SideDynamoDB:
		return SideDynamoDB
	case isStore(m.Shadow):
		return SideStore
	}
	return ""
}

// Validate names the first bad field. It cannot know where a table lives:
// CheckBackend does that once the placement is known.
func (m Mode) Validate() error {
	switch {
	case isStore(m.Serve), m.Serve == SideDynamoDB:
	default:
		return fmt.Errorf("serve: %q is not spanner, bigtable or dynamodb (or store: the table's backend)", m.Serve)
	}
	switch {
	case m.Shadow == "off", m.Shadow == SideDynamoDB, isStore(m.Shadow):
	default:
		return fmt.Errorf("shadow: %q is not dynamodb, spanner, bigtable or off (or store: the table's backend)", m.Shadow)
	}
	switch {
	case m.Shadow == SideDynamoDB && m.ServesDynamoDB():
		return fmt.Errorf("shadow: dynamodb is the side that serves (serve: dynamodb); shadow the table's backend, or off")
	case isStore(m.Shadow) && isStore(m.Serve) && m.Shadow != m.Serve && m.Shadow != "store" && m.Serve != "store":
		// Both name a backend, and not the same one: a table lives on one.
		return fmt.Errorf("shadow: %s on a table served by %s: a table lives on one backend, so it is shadowed by dynamodb or not at all", m.Shadow, m.Serve)
	case isStore(m.Shadow) && isStore(m.Serve):
		return fmt.Errorf("shadow: %q is the side that serves (serve: %s); shadow dynamodb, or off", m.Shadow, m.Serve)
	}
	if m.Sample < 0 || m.Sample > 1 {
		return fmt.Errorf("sample: %v is not within 0..1", m.Sample)
	}
	switch m.Writes {
	case "serve", "dynamodb", "reject":
	default:
		return fmt.Errorf("writes: %q is not serve, dynamodb or reject", m.Writes)
	}
	return nil
}

// CheckBackend checks that the backends the mode names are the one the
// table lives on (backend: "bigtable" or "spanner"; "embedded" is the
// in-process Bigtable emulator, so "bigtable" names it too).
func (m Mode) CheckBackend(backend string) error {
	if backend == "embedded" {
		backend = "bigtable"
	}
	for _, f := range []struct{ key, v string }{{"serve", m.Serve}, {"shadow", m.Shadow}} {
		if (f.v == "spanner" || f.v == "bigtable") && f.v != backend {
			return fmt.Errorf("%s: %s, but the table lives on %s", f.key, f.v, backend)
		}
	}
	return nil
}

// Rule sets Mode for the tables matching Pattern (an exact name, a glob, or
// "default").
type Rule struct {
	Pattern string `json:"pattern"`
	Mode    Mode   `json:"mode"`
}

// Table is what applies to one table, and why.
type Table struct {
	Mode
	From string `json:"from"` // the rule or override that decided it
}

// Set holds the rules and the admin API's overrides; safe for concurrent use.
type Set struct {
	mu        sync.RWMutex
	rules     []Rule          // sorted: exact names, then longer globs first
	overrides map[string]Mode // exact table names, set at run time
	// placement names a table's backend, once the adapter knows it, so an
	// override naming another backend is refused.
	placement func(table string) string
}

// SetPlacement tells the set where tables live (adapter.BackendFor), so
// Override can refuse a mode naming another backend.
func (s *Set) SetPlacement(backendOf func(table string) string) {
	s.mu.Lock()
	s.placement = backendOf
	s.mu.Unlock()
}

// NewSet validates rules and returns a Set.
func NewSet(rules []Rule) (*Set, error) {
	s := &Set{overrides: map[string]Mode{}}
	return s, s.Replace(rules)
}

// Replace swaps the configured rules (a reload); overrides stay.
func (s *Set) Replace(rules []Rule) error {
	sorted := append([]Rule(nil), rules...)
	for _, r := range sorted {
		if err := r.Mode.Validate(); err != nil {
			return fmt.Errorf("tables.%q.%w", r.Pattern, err)
		}
		if _, err := path.Match(r.Pattern, ""); err != nil {
			return fmt.Errorf("tables.%q: bad pattern: %v", r.Pattern, err)
		}
	}
	rank := func(p string) (int, int) {
		switch {
		case p == "default":
			return 2, 0
		case isGlob(p):
			return 1, -len(p)
		}
		return 0, 0
	}
	sort.SliceStable(sorted, func(i, j int) bool {
		a1, a2 := rank(sorted[i].Pattern)
		b1, b2 := rank(sorted[j].Pattern)
		if a1 != b1 {
			return a1 < b1
		}
		if a2 != b2 {
			return a2 < b2
		}
		return sorted[i].Pattern < sorted[j].Pattern
	})
	s.mu.Lock()
	s.rules = sorted
	s.mu.Unlock()
	return nil
}

// Trivial reports whether every table is in Default mode (no rule or
// override says otherwise), so requests can skip the per-table lookup.
func (s *Set) Trivial() bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if len(s.overrides) > 0 {
		return false
	}
	for _, r := range s.rules {
		if r.Mode != Default {
			return false
		}
	}
	return true
}

// Override sets one table's mode at run time; Clear removes it.
func (s *Set) Override(table string, m Mode) error {
	if err := m.Validate(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.placement != nil {
		if err := m.CheckBackend(s.placement(table)); err != nil {
			return err
		}
	}
	s.overrides[table] = m
	return nil
}

// Clear removes an override.
func (s *Set) Clear(table string) {
	s.mu.Lock()
	delete(s.overrides, table)
	s.mu.Unlock()
}

// For returns the mode of table.
func (s *Set) For(table string) Table {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if m, ok := s.overrides[table]; ok {
		return Table{m, "override"}
	}
	for _, r := range s.rules {
		if r.Pattern == table || r.Pattern == "default" {
			return Table{r.Mode, r.Pattern}
		}
		if ok, _ := path.Match(r.Pattern, table); ok && isGlob(r.Pattern) {
			return Table{r.Mode, r.Pattern}
		}
	}
	return Table{Default, "built-in default"}
}

// Plan is what shadowing does for one read request.
type Plan struct {
	Sample float64 // fraction of the reads shadowed; 0: none
	// Primary is the side that served (SideStore or SideDynamoDB), Shadow
	// the side re-read.
	Primary, Shadow string
}

// ShadowPlan decides shadowing for a read of tables (one name, or several
// joined by "," as shadow.TableOf names a BatchGetItem's): shadowed only if
// every table is served and shadowed the same way, at the smallest sample.
func (s *Set) ShadowPlan(tables string) Plan {
	var p Plan
	for i, t := range strings.Split(tables, ",") {
		m := s.For(t)
		primary := SideStore
		if m.ServesDynamoDB() {
			primary = SideDynamoDB
		}
		q := Plan{Sample: m.Sample, Primary: primary, Shadow: m.ShadowSide()}
		if q.Shadow == "" {
			return Plan{}
		}
		if i > 0 && (q.Primary != p.Primary || q.Shadow != p.Shadow) {
			return Plan{}
		}
		if i == 0 || q.Sample < p.Sample {
			p = q
		}
	}
	return p
}

// Snapshot lists the rules and overrides, for the admin API.
func (s *Set) Snapshot() (rules []Rule, overrides map[string]Mode) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	o := make(map[string]Mode, len(s.overrides))
	for k, v := range s.overrides {
		o[k] = v
	}
	return append([]Rule(nil), s.rules...), o
}

func isGlob(p string) bool {
	for _, c := range p {
		if c == '*' || c == '?' || c == '[' || c == '\\' {
			return true
		}
	}
	return false
}
