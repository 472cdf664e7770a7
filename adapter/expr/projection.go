package expr

import (
	"sort"

	"github.com/dualread/dualread/adapter/attr"
)

// Projection is a parsed ProjectionExpression (or AttributesToGet).
type Projection struct{ Paths []Path }

// ParseProjection parses a ProjectionExpression: path (',' path)*.
func ParseProjection(s string, params *Params) (*Projection, error) {
	p, err := newParser(s, KindProjection, params)
	if err != nil {
		return nil, err
	}
	pr := &Projection{}
	for {
		path, err := p.parsePath()
		if err != nil {
			return nil, err
		}
		pr.Paths = append(pr.Paths, path)
		if !p.isPunct(",") {
			break
		}
		p.next()
	}
	if err := p.finish(); err != nil {
		return nil, err
	}
	if err := checkOverlap(KindProjection, pr.Paths); err != nil {
		return nil, err
	}
	return pr, nil
}

// Apply returns the projection of item (a new item; item is not changed).
func (pr *Projection) Apply(item attr.Item) attr.Item {
	if pr == nil {
		return item
	}
	return ProjectPaths(item, pr.Paths)
}

// projNode is a trie of requested paths; leaf means "the whole value here".
type projNode struct {
	leaf    bool
	names   map[string]*projNode
	indexes map[int]*projNode
}

func (n *projNode) child(e PathElem) *projNode {
	if e.IsIndex {
		if n.indexes == nil {
			n.indexes = map[int]*projNode{}
		}
		c := n.indexes[e.Index]
		if c == nil {
			c = &projNode{}
			n.indexes[e.Index] = c
		}
		return c
	}
	if n.names == nil {
		n.names = map[string]*projNode{}
	}
	c := n.names[e.Name]
	if c == nil {
		c = &projNode{}
		n.names[e.Name] = c
	}
	return c
}

// ProjectPaths keeps only the given document paths of item, as DynamoDB
// projects: maps keep the requested keys, lists keep the requested indexes
// compacted in index order, and paths that do not resolve are dropped. The
// paths may overlap (ReturnValues UPDATED_* passes the update's paths).
// The result shares no memory with item.
func ProjectPaths(item attr.Item, paths []Path) attr.Item {
	if item == nil {
		return nil
	}
	root := &projNode{}
	for _, p := range paths {
		n := root
		for _, e := range p {
			if n.leaf {
				break
			}
			n = n.child(e)
		}
		n.leaf = true
		n.names, n.indexes = nil, nil
	}
	out := attr.Item{}
	for name, n := range root.names {
		v, ok := item[name]
		if !ok {
			continue
		}
		if pv, ok := project(v, n); ok {
			out[name] = pv
		}
	}
	return out
}

func project(v attr.Value, n *projNode) (attr.Value, bool) {
	if n.leaf {
		return attr.Item{"v": v}.Clone()["v"], true
	}
	switch {
	case v.Type == attr.M && n.names != nil:
		m := map[string]attr.Value{}
		for name, c := range n.names {
			if w, ok := v.M[name]; ok {
				if pw, ok := project(w, c); ok {
					m[name] = pw
				}
			}
		}
		if len(m) == 0 {
			return attr.Value{}, false
		}
		return attr.Map(m), true
	case v.Type == attr.L && n.indexes != nil:
		idx := make([]int, 0, len(n.indexes))
		for i := range n.indexes {
			idx = append(idx, i)
		}
		sort.Ints(idx)
		var l []attr.Value
		for _, i := range idx {
			if i < len(v.L) {
				if pw, ok := project(v.L[i], n.indexes[i]); ok {
					l = append(l, pw)
				}
			}
		}
		if len(l) == 0 {
			return attr.Value{}, false
		}
		return attr.List(l), true
	}
	return attr.Value{}, false
}

// FromAttributesToGet builds the projection of a legacy AttributesToGet list:
// top-level names, taken literally (no path syntax, no reserved words).
func FromAttributesToGet(names []string) *Projection {
	pr := &Projection{}
	for _, n := range names {
		pr.Paths = append(pr.Paths, Path{{Name: n}})
	}
	return pr
}
