package expr

import (
	"strings"
	"testing"

	"github.com/dualread/dualread/adapter/attr"
)

// Expected outputs are DynamoDB Local's GetItem results for the same item.
func TestProjectionApply(t *testing.T) {
	item := attr.Item{
		"pk": attr.Str("p1"),
		"a":  Mp("c", N("1"), "d", N("2")),
		"l":  L(N("0"), N("1"), Mp("x", N("1"), "y", N("2")), N("3")),
	}
	cases := map[string]string{
		"a.b":            `{}`,
		"a.c, a.b":       `{"a":{"c":"N:1"}}`,
		"l[3], l[1]":     `{"l":["N:1","N:3"]}`,
		"l[2].x":         `{"l":[{"x":"N:1"}]}`,
		"l[2].z":         `{}`,
		"l[9]":           `{}`,
		"a[0]":           `{}`,
		"l.x":            `{}`,
		"pk, l[5], l[3]": `{"l":["N:3"],"pk":"p1"}`,
	}
	before := show(item)
	for expr, want := range cases {
		pr, err := ParseProjection(expr, nil)
		if err != nil {
			t.Fatalf("%q: %v", expr, err)
		}
		if got := show(pr.Apply(item)); got != want {
			t.Errorf("%q: got %s want %s", expr, got, want)
		}
	}
	if show(item) != before {
		t.Fatal("Apply modified its input")
	}
}

func TestProjectPathsOverlapping(t *testing.T) {
	item := attr.Item{"a": Mp("b", N("1"), "c", N("2")), "z": N("9")}
	got := show(ProjectPaths(item, []Path{{{Name: "a"}, {Name: "b"}}, {{Name: "a"}}}))
	if got != `{"a":{"b":"N:1","c":"N:2"}}` {
		t.Fatalf("got %s", got)
	}
}

// TestProjectionOverlapPairOrder pins which pair DynamoDB Local names when
// several paths overlap (checked against DynamoDB Local 3.3.1).
func TestProjectionOverlapPairOrder(t *testing.T) {
	for expr, want := range map[string]string{
		"l[0], l":       "path one: [l, [0]], path two: [l]",
		"l[0], l, l[1]": "path one: [l], path two: [l, [1]]",
		"a.b, a, a.c":   "path one: [a], path two: [a, c]",
		"a.b, a.c, a":   "path one: [a, c], path two: [a]",
		"a, a":          "path one: [a], path two: [a]",
	} {
		_, err := ParseProjection(expr, NewParams(nil, nil))
		if err == nil || !strings.HasSuffix(err.Error(), want) {
			t.Errorf("%q: err = %v, want it to end %q", expr, err, want)
		}
	}
}
