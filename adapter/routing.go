package adapter

import (
	"fmt"
	"path"
	"sort"
)

// Route places the tables whose names match Pattern (an exact name, or a
// glob as in path.Match: "orders*", "*_archive") on Backend.
type Route struct {
	Pattern string
	Backend string
}

// routing decides each table's backend: an exact name wins over any glob, a
// longer glob over a shorter one (ties: alphabetical), and tables no route
// matches stay on the home backend.
type routing struct {
	home  string
	exact map[string]string
	globs []Route
}

func newRouting(home string, routes []Route) (*routing, error) {
	r := &routing{home: home, exact: map[string]string{}}
	for _, rt := range routes {
		if _, err := path.Match(rt.Pattern, ""); err != nil {
			return nil, fmt.Errorf("table pattern %q: %w", rt.Pattern, err)
		}
		if !isGlob(rt.Pattern) {
			r.exact[rt.Pattern] = rt.Backend
			continue
		}
		r.globs = append(r.globs, rt)
	}
	sort.Slice(r.globs, func(i, j int) bool {
		a, b := r.globs[i].Pattern, r.globs[j].Pattern
		if len(a) != len(b) {
			return len(a) > len(b)
		}
		return a < b
	})
	return r, nil
}

func isGlob(p string) bool {
	for _, c := range p {
		if c == '*' || c == '?' || c == '[' || c == '\\' {
			return true
		}
	}
	return false
}

// backendFor returns the backend of table.
func (r *routing) backendFor(table string) string {
	if b, ok := r.exact[table]; ok {
		return b
	}
	for _, g := range r.globs {
		if ok, _ := path.Match(g.Pattern, table); ok {
			return g.Backend
		}
	}
	return r.home
}

// backends lists every backend the routing uses, home first.
func (r *routing) backends() []string {
	seen := map[string]bool{r.home: true}
	out := []string{r.home}
	add := func(b string) {
		if !seen[b] {
			seen[b] = true
			out = append(out, b)
		}
	}
	for _, b := range r.exact {
		add(b)
	}
	for _, g := range r.globs {
		add(g.Backend)
	}
	sort.Strings(out[1:])
	return out
}
