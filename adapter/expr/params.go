package expr

import (
	"sort"
	"strings"

	"github.com/dualread/dualread/adapter/ddberr"
)

// CheckUnused reports names or values given but not used by any expression of
// the request. Call it after parsing every expression of the request.
func (p *Params) CheckUnused() error {
	if p == nil {
		return nil
	}
	if u := unused(keysOf(p.Names), p.usedNames); len(u) > 0 {
		return ddberr.Validation("Value provided in ExpressionAttributeNames unused in expressions: keys: {%s}", strings.Join(u, ", "))
	}
	vals := make([]string, 0, len(p.Values))
	for k := range p.Values {
		vals = append(vals, k)
	}
	if u := unused(vals, p.usedValues); len(u) > 0 {
		return ddberr.Validation("Value provided in ExpressionAttributeValues unused in expressions: keys: {%s}", strings.Join(u, ", "))
	}
	return nil
}

func keysOf(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// unused lists keys not in used, sorted so messages are deterministic.
func unused(keys []string, used map[string]bool) []string {
	var out []string
	for _, k := range keys {
		if !used[k] {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// Validate checks the placeholder maps themselves, as DynamoDB does before
// reading any expression: keys must be #word / :word and names non-empty.
func (p *Params) Validate() error {
	if p == nil {
		return nil
	}
	names := keysOf(p.Names)
	sort.Strings(names)
	for _, k := range names {
		if !validKey(k, '#') {
			return ddberr.Validation("ExpressionAttributeNames contains invalid key: Syntax error; key: \"%s\"", k)
		}
		if p.Names[k] == "" {
			return ddberr.Validation("ExpressionAttributeNames contains invalid value: Empty attribute name for key %s", k)
		}
	}
	vals := make([]string, 0, len(p.Values))
	for k := range p.Values {
		vals = append(vals, k)
	}
	sort.Strings(vals)
	for _, k := range vals {
		if !validKey(k, ':') {
			return ddberr.Validation("ExpressionAttributeValues contains invalid key: Syntax error; key: \"%s\"", k)
		}
	}
	return nil
}

func validKey(k string, prefix byte) bool {
	if len(k) < 2 || k[0] != prefix {
		return false
	}
	for i := 1; i < len(k); i++ {
		if !isWordChar(k[i]) {
			return false
		}
	}
	return true
}
