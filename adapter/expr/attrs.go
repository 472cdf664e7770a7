package expr

import "sort"

// Attributes lists the top-level attribute names the condition reads, sorted
// and unique. The executor uses it to refuse filters on attributes an index
// does not project, as DynamoDB does.
func (c *Condition) Attributes() []string {
	if c == nil || c.root == nil {
		return nil
	}
	seen := map[string]bool{}
	var walkOp func(o *operand)
	walkOp = func(o *operand) {
		if o == nil {
			return
		}
		if o.kind == oPath && len(o.path) > 0 && !o.path[0].IsIndex {
			seen[o.path[0].Name] = true
		}
		for _, a := range o.args {
			walkOp(a)
		}
	}
	var walk func(c *cond)
	walk = func(c *cond) {
		for _, s := range c.sub {
			walk(s)
		}
		for _, a := range c.args {
			walkOp(a)
		}
	}
	walk(c.root)
	out := make([]string, 0, len(seen))
	for n := range seen {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}
