package expr

import (
	"encoding/json"
	"testing"

	"github.com/dualread/dualread/adapter/attr"
	"github.com/dualread/dualread/adapter/ddberr"
)

// show renders an item compactly for comparisons without depending on the
// attr JSON codec.
func show(v any) string {
	b, _ := json.Marshal(toPlain(v))
	return string(b)
}

func toPlain(v any) any {
	switch x := v.(type) {
	case attr.Item:
		m := map[string]any{}
		for k, e := range x {
			m[k] = toPlain(e)
		}
		return m
	case attr.Value:
		switch x.Type {
		case attr.S:
			return x.S
		case attr.N:
			return "N:" + x.S
		case attr.L:
			l := []any{}
			for _, e := range x.L {
				l = append(l, toPlain(e))
			}
			return l
		case attr.M:
			return toPlain(attr.Item(x.M))
		case attr.SS, attr.NS:
			return map[string]any{x.Type.String(): x.SS}
		}
		return x.Type.String()
	}
	return nil
}

func N(s string) attr.Value        { return attr.MustNum(s) }
func L(v ...attr.Value) attr.Value { return attr.List(v) }
func SS(v ...string) attr.Value    { return attr.StrSet(v) }
func Mp(kv ...any) attr.Value      { return attr.Map(map[string]attr.Value(attr.Item(vals(kv...)))) }

// Expected results are DynamoDB Local's ALL_NEW output for the same input.
func TestUpdateApply(t *testing.T) {
	const (
		badPath = "The document path provided in the update expression is invalid for update"
		missing = "The provided expression refers to an attribute that does not exist in the item"
		badType = "An operand in the update expression has an incorrect data type"
	)
	cases := []struct {
		expr   string
		item   attr.Item
		values map[string]attr.Value
		want   string // item rendered by show, or an error message
	}{
		{"SET a = :v", nil, vals(":v", attr.Str("x")), `{"a":"x"}`},
		{"SET a.b = :v", nil, vals(":v", attr.Str("x")), badPath},
		{"SET a.b = :v", attr.Item{"a": attr.Str("s")}, vals(":v", attr.Str("x")), badPath},
		{"SET a[5] = :v", attr.Item{"a": L(N("1"), N("2"))}, vals(":v", attr.Str("x")), `{"a":["N:1","N:2","x"]}`},
		{"SET a[7] = :v, a[5] = :w", attr.Item{"a": L(N("1"), N("2"))}, vals(":v", attr.Str("x"), ":w", attr.Str("w")), `{"a":["N:1","N:2","w","x"]}`},
		{"SET a[0] = :v", attr.Item{"a": Mp("x", N("1"))}, vals(":v", attr.Str("x")), badPath},
		{"SET a.b = :v", attr.Item{"a": L(N("1"))}, vals(":v", attr.Str("x")), badPath},
		{"SET a = b + :v", nil, vals(":v", N("1")), missing},
		{"SET a = b + :v", attr.Item{"b": attr.Str("x")}, vals(":v", N("1")), badType},
		{"SET a = b - :v", attr.Item{"b": N("5")}, vals(":v", N("1.5")), `{"a":"N:3.5","b":"N:5"}`},
		{"SET a = :v + :v", nil, vals(":v", N("9e125")), "Number overflow. Attempting to store a number with magnitude larger than supported range"},
		{"ADD a :v", nil, vals(":v", N("2")), `{"a":"N:2"}`},
		{"ADD a :v", attr.Item{"a": attr.Str("x")}, vals(":v", N("2")), badType},
		{"ADD a :v", attr.Item{"a": SS("x")}, vals(":v", SS("y", "x")), `{"a":{"SS":["x","y"]}}`},
		{"ADD a :v", attr.Item{"a": SS("x")}, vals(":v", attr.NumSet([]string{"1"})), badType},
		{"ADD a.b :v", nil, vals(":v", N("2")), badPath},
		{"ADD a.b :v", attr.Item{"a": Mp()}, vals(":v", N("2")), `{"a":{"b":"N:2"}}`},
		{"ADD a[1] :v", attr.Item{"a": L(N("1"))}, vals(":v", N("2")), `{"a":["N:1","N:2"]}`},
		{"ADD a[0] :v", attr.Item{"a": L(N("1"))}, vals(":v", N("2")), `{"a":["N:3"]}`},
		{"DELETE a :v", attr.Item{"a": SS("x", "y")}, vals(":v", SS("x")), `{"a":{"SS":["y"]}}`},
		{"DELETE a :v", attr.Item{"a": SS("x", "y")}, vals(":v", SS("x", "y", "z")), `{}`},
		{"DELETE a :v", nil, vals(":v", SS("x")), `{}`},
		{"DELETE a :v", attr.Item{"a": attr.Str("x")}, vals(":v", SS("x")), badType},
		{"REMOVE a[5]", attr.Item{"a": L(N("1"))}, nil, `{"a":["N:1"]}`},
		{"REMOVE a[0], a[2]", attr.Item{"a": L(N("1"), N("2"), N("3"), N("4"))}, nil, `{"a":["N:2","N:4"]}`},
		{"REMOVE a.b", nil, nil, badPath},
		{"REMOVE a.b", attr.Item{"a": attr.Str("x")}, nil, badPath},
		{"REMOVE a[0]", attr.Item{"a": Mp("x", N("1"))}, nil, badPath},
		{"REMOVE a.b.c", attr.Item{"a": Mp()}, nil, badPath},
		{"SET a = list_append(a, :v)", attr.Item{"a": L(N("1"))}, vals(":v", L(N("2"))), `{"a":["N:1","N:2"]}`},
		{"SET a = list_append(:v, a)", attr.Item{"a": L(N("1"))}, vals(":v", L(N("2"))), `{"a":["N:2","N:1"]}`},
		{"SET a = list_append(a, :v)", nil, vals(":v", L(N("2"))), missing},
		{"SET a = list_append(a, :v)", attr.Item{"a": attr.Str("x")}, vals(":v", L(N("2"))), badType},
		{"SET a = if_not_exists(a, :v)", nil, vals(":v", N("2")), `{"a":"N:2"}`},
		{"SET a = if_not_exists(a, :v)", attr.Item{"a": N("1")}, vals(":v", N("2")), `{"a":"N:1"}`},
		{"SET a = if_not_exists(b, :v) + :v", attr.Item{"a": N("1")}, vals(":v", N("2")), `{"a":"N:4"}`},
		{"REMOVE a ADD b :v DELETE c :w SET d = :v", attr.Item{"a": N("1"), "c": SS("x")}, vals(":v", N("2"), ":w", SS("x")), `{"b":"N:2","d":"N:2"}`},
		{"SET a = b", attr.Item{"b": N("1")}, nil, `{"a":"N:1","b":"N:1"}`},
		{"SET a = b", nil, nil, missing},
		{"SET a[1].b = :v", attr.Item{"a": L(N("1"))}, vals(":v", N("1")), badPath},
		{"SET a[1].b = :v", attr.Item{"a": L(N("1"), Mp())}, vals(":v", N("1")), `{"a":["N:1",{"b":"N:1"}]}`},
		{"SET b = a, a = :v", attr.Item{"a": N("1")}, vals(":v", N("7")), `{"a":"N:7","b":"N:1"}`},
	}
	for _, c := range cases {
		u, err := ParseUpdate(c.expr, NewParams(nil, c.values))
		if err != nil {
			t.Errorf("%q: parse: %v", c.expr, err)
			continue
		}
		before := show(c.item)
		out, err := u.Apply(c.item)
		got := ""
		if err != nil {
			de, ok := err.(*ddberr.Error)
			if !ok || de.Name() != "ValidationException" {
				t.Errorf("%q: error %v is not a ValidationException", c.expr, err)
				continue
			}
			got = de.Message
		} else {
			got = show(out)
		}
		if got != c.want {
			t.Errorf("%q on %s:\n got %s\nwant %s", c.expr, before, got, c.want)
		}
		if show(c.item) != before {
			t.Errorf("%q: Apply modified its input", c.expr)
		}
	}
}

func TestUpdatePaths(t *testing.T) {
	u, err := ParseUpdate("SET a.b = :v REMOVE c[1] ADD #d :v", NewParams(map[string]string{"#d": "d"}, vals(":v", N("1"))))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range u.Paths() {
		got = append(got, p.String())
	}
	if show := fmtList(got); show != "a.b c[1] d" {
		t.Fatalf("Paths = %s", show)
	}
}

func fmtList(s []string) string {
	out := ""
	for i, x := range s {
		if i > 0 {
			out += " "
		}
		out += x
	}
	return out
}
