package expr

import (
	"testing"

	"github.com/dualread/dualread/adapter/attr"
)

// The fuzz targets check the parsers never panic or hang, and that anything
// they accept can be evaluated or applied without panicking.

func fuzzParams() *Params {
	return NewParams(map[string]string{"#a": "a", "#b": "b"},
		vals(":v", attr.MustNum("1"), ":s", attr.Str("x"), ":l", attr.List(nil), ":ss", attr.StrSet([]string{"x"})))
}

var fuzzItem = attr.Item{
	"a": attr.MustNum("1"),
	"b": attr.Map(map[string]attr.Value{"c": attr.List([]attr.Value{attr.Str("x"), attr.MustNum("2")})}),
	"s": attr.StrSet([]string{"x", "y"}),
}

func FuzzParseCondition(f *testing.F) {
	for _, s := range []string{"a = :v", "#a <> :s AND NOT (b.c[1] < :v OR size(s) > :v)", "a BETWEEN :v AND :v",
		"a IN (:v, :s)", "attribute_exists(b.c[0]) AND begins_with(#b, :s)", "contains(s, :s)", "((a = :v))", "(a) = :v",
		"NOT NOT NOT a = :v", "a[01] = :v", "é = :v", "a = :v)", ")", "attribute_type(a, :s)"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, parse := range []func(string, *Params) (*Condition, error){ParseCondition, ParseFilter} {
			c, err := parse(s, fuzzParams())
			if err == nil {
				c.Eval(fuzzItem)
				c.Eval(nil)
			}
		}
		ParseKeyCondition(s, fuzzParams())
	})
}

func FuzzParseUpdate(f *testing.F) {
	for _, s := range []string{"SET a = :v", "SET #a = a + :v, b.c[5] = list_append(b.c, :l) REMOVE s",
		"ADD a :v DELETE s :ss", "SET a = if_not_exists(a, :v) - :v", "REMOVE b.c[0], b.c[1]", "SET a = (:v)", "SET a = :v SET"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		u, err := ParseUpdate(s, fuzzParams())
		if err == nil {
			u.Apply(fuzzItem)
			u.Apply(nil)
			u.Paths()
		}
	})
}

func FuzzParseProjection(f *testing.F) {
	for _, s := range []string{"a", "a, b.c[1]", "#a, #b.c", "a, a.b", "a[1], a.b", "a,"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParseProjection(s, fuzzParams())
		if err == nil {
			p.Apply(fuzzItem)
		}
	})
}
