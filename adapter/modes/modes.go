// Package modes decides, table by table, where each request goes during a
// migration: reads served from the new store or from DynamoDB, shadowed or
// not and how often, writes applied, forwarded to DynamoDB or refused.
// Modes change at run time (config reload, admin API) without a restart.
package modes

import (
	"fmt"
	"path"
	"sort"
	"sync"
)

// Mode is one table's setting.
type Mode struct {
	// Serve answers reads: "store" (the table's backend) or "dynamodb".
	Serve string `json:"serve" yaml:"serve"`
	// Shadow re-reads for the audit: "dynamodb" (when Serve is store) or
	// "off". ("store", shadowing DynamoDB-served reads, is not built yet.)
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

// Validate names the first bad field.
func (m Mode) Validate() error {
	switch m.Serve {
	case "store", "dynamodb":
	default:
		return fmt.Errorf("serve: %q is not store or dynamodb", m.Serve)
	}
	switch m.Shadow {
	case "off", "dynamodb":
	case "store":
		return fmt.Errorf("shadow: store (shadowing DynamoDB-served reads with the new store) is not supported yet")
	default:
		return fmt.Errorf("shadow: %q is not dynamodb or off", m.Shadow)
	}
	if m.Shadow == "dynamodb" && m.Serve == "dynamodb" || m.Shadow == "store" && m.Serve == "store" {
		return fmt.Errorf("shadow: %q is the side that serves", m.Shadow)
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
	s.overrides[table] = m
	s.mu.Unlock()
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
