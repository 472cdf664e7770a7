package diff

import (
	"fmt"
	"path"
	"strings"
)

// IgnoreRule removes a path from both sides before diffing, for fields that
// legitimately differ between backends. Path is a JSON pointer into the
// normalised Doc (see README) where a segment may be "*" (any one member or
// element) or "**" (any number of segments, including none), e.g.
// "/Items/*/updatedAt" or "/**/etag". Attribute values keep their type
// wrapper, so a nested attribute is "/Item/addr/M/zip". Removing whole list
// elements is not supported: "*" under a list descends into each element.
type IgnoreRule struct {
	// Table and Operation restrict the rule; "" matches all. Table is a
	// path.Match pattern ("orders*").
	Table     string
	Operation string
	Path      string

	segs []string
}

// Options configure normalisation and classification.
type Options struct {
	Ignore []IgnoreRule
}

// Validate compiles the rules; call it once before use.
func (o *Options) Validate() error {
	for i := range o.Ignore {
		r := &o.Ignore[i]
		if !strings.HasPrefix(r.Path, "/") {
			return fmt.Errorf("audit ignore rule %q: path must be a JSON pointer starting with /", r.Path)
		}
		if _, err := path.Match(r.Table, ""); err != nil {
			return fmt.Errorf("audit ignore rule table %q: %w", r.Table, err)
		}
		r.segs = nil
		for _, s := range strings.Split(r.Path[1:], "/") {
			// JSON pointer unescaping: ~1 is '/', ~0 is '~'.
			r.segs = append(r.segs, strings.ReplaceAll(strings.ReplaceAll(s, "~1", "/"), "~0", "~"))
		}
	}
	return nil
}

func (o *Options) rulesFor(table, op string) []*IgnoreRule {
	var out []*IgnoreRule
	for i := range o.Ignore {
		r := &o.Ignore[i]
		if r.Operation != "" && r.Operation != op {
			continue
		}
		if r.Table != "" {
			if ok, _ := path.Match(r.Table, table); !ok {
				continue
			}
		}
		if r.segs == nil {
			continue // not validated: never silently match everything
		}
		out = append(out, r)
	}
	return out
}

func (r *IgnoreRule) apply(doc Doc) { removeMatching(doc, r.segs) }

// removeMatching deletes every member of node reached by segs.
func removeMatching(node any, segs []string) {
	if len(segs) == 0 {
		return
	}
	seg, rest := segs[0], segs[1:]
	if seg == "**" {
		removeMatching(node, rest) // zero segments
		forChildren(node, func(c any) { removeMatching(c, segs) })
		return
	}
	switch n := node.(type) {
	case map[string]any:
		for k, c := range n {
			if seg != "*" && seg != k {
				continue
			}
			if len(rest) == 0 {
				delete(n, k)
			} else {
				removeMatching(c, rest)
			}
		}
	case []any:
		for i, c := range n {
			if seg == "*" || seg == fmt.Sprint(i) {
				removeMatching(c, rest)
			}
		}
	}
}

func forChildren(node any, f func(any)) {
	switch n := node.(type) {
	case map[string]any:
		for _, c := range n {
			f(c)
		}
	case []any:
		for _, c := range n {
			f(c)
		}
	}
}
