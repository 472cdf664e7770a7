package attr

import "testing"

func TestEqual(t *testing.T) {
	m1 := Map(map[string]Value{"a": Str("x"), "b": List([]Value{MustNum("1"), Null()})})
	m2 := Map(map[string]Value{"b": List([]Value{MustNum("1.0"), Null()}), "a": Str("x")})
	cases := []struct {
		a, b Value
		want bool
	}{
		{Str("a"), Str("a"), true},
		{Str("a"), Str("b"), false},
		{Str("1"), MustNum("1"), false},
		{MustNum("1.50"), MustNum("15e-1"), true},
		{Bin([]byte{1}), Bin([]byte{1}), true},
		{Bin([]byte{1}), Bin([]byte{2}), false},
		{Bool(true), Bool(true), true},
		{Bool(true), Bool(false), false},
		{Null(), Null(), true},
		{m1, m2, true},
		{m1, Map(map[string]Value{"a": Str("x")}), false},
		{List([]Value{Str("a"), Str("b")}), List([]Value{Str("b"), Str("a")}), false},
		{StrSet([]string{"a", "b"}), StrSet([]string{"b", "a"}), true},
		{StrSet([]string{"a", "b"}), StrSet([]string{"a", "c"}), false},
		{StrSet([]string{"a"}), StrSet([]string{"a", "b"}), false},
		{NumSet([]string{"1", "2"}), NumSet([]string{"2", "1"}), true},
		{NumSet([]string{"1"}), StrSet([]string{"1"}), false},
		{BinSet([][]byte{{1}, {2}}), BinSet([][]byte{{2}, {1}}), true},
		{BinSet([][]byte{{1}, {2}}), BinSet([][]byte{{2}, {3}}), false},
	}
	for i, c := range cases {
		if got := Equal(c.a, c.b); got != c.want {
			t.Errorf("%d: Equal(%v, %v) = %v", i, c.a, c.b, got)
		}
		if got := Equal(c.b, c.a); got != c.want {
			t.Errorf("%d: Equal not symmetric", i)
		}
	}
	// Large sets take the map path.
	var a, b []string
	for i := range 40 {
		a = append(a, string(rune('A'+i)))
		b = append([]string{string(rune('A' + i))}, b...)
	}
	if !Equal(StrSet(a), StrSet(b)) {
		t.Error("large equal sets differ")
	}
	b[0] = "zz"
	if Equal(StrSet(a), StrSet(b)) {
		t.Error("large different sets equal")
	}
}

func TestCompare(t *testing.T) {
	cases := []struct {
		a, b Value
		want int
		ok   bool
	}{
		{Str("a"), Str("b"), -1, true},
		{Str("é"), Str("z"), 1, true}, // UTF-8 bytes, not code points of UTF-16
		{Str("\uffff"), Str("😀"), -1, true},
		{Str("ab"), Str("a"), 1, true},
		{Bin([]byte{0x80}), Bin([]byte{0x7f}), 1, true}, // unsigned
		{Bin(nil), Bin([]byte{0}), -1, true},
		{MustNum("-10"), MustNum("-9"), -1, true},
		{MustNum("0.001"), MustNum("-1000"), 1, true},
		{MustNum("1E-130"), MustNum("0"), 1, true},
		{MustNum("10"), MustNum("9.99"), 1, true},
		{MustNum("1.5"), MustNum("1.50"), 0, true},
		{MustNum("1"), Str("1"), 0, false},
		{Bool(false), Bool(true), 0, false},
		{Null(), Null(), 0, false},
	}
	for i, c := range cases {
		got, ok := Compare(c.a, c.b)
		if ok != c.ok || sign(got) != c.want {
			t.Errorf("%d: Compare(%v, %v) = %d, %v", i, c.a, c.b, got, ok)
		}
	}
}

func TestClone(t *testing.T) {
	it := Item{
		"b":  Bin([]byte{1}),
		"m":  Map(map[string]Value{"l": List([]Value{Str("x")})}),
		"ss": StrSet([]string{"a"}),
		"bs": BinSet([][]byte{{1}}),
	}
	c := it.Clone()
	c["b"].B[0] = 9
	c["m"].M["l"].L[0] = Str("y")
	c["ss"].SS[0] = "z"
	c["bs"].BS[0][0] = 9
	c["new"] = Null()
	if it["b"].B[0] != 1 || it["m"].M["l"].L[0].S != "x" || it["ss"].SS[0] != "a" || it["bs"].BS[0][0] != 1 || len(it) != 4 {
		t.Errorf("clone shares memory with the original: %v", it)
	}
	if Item(nil).Clone() != nil {
		t.Error("nil clone")
	}
}

// Arithmetic results go through the same validation as wire numbers.
func TestNumberArithmetic(t *testing.T) {
	cases := []struct {
		a, b, sum, err string
	}{
		{"1", "2", "3", ""},
		{"0.1", "0.2", "0.3", ""},
		{"1", "-1", "0", ""},
		{"9E+125", "9E+125", "", MsgOverflow},
		{"9.9999999999999999999999999999999999999E+125", "9E+125", "", MsgPrecision},
		{"1", "1E-100", "", MsgPrecision},
	}
	for _, c := range cases {
		got, err := AddNumbers(MustNum(c.a).S, MustNum(c.b).S)
		if c.err != "" {
			if err == nil || err.Error() != c.err {
				t.Errorf("%s+%s: got %q, %v; want error %q", c.a, c.b, got, err, c.err)
			}
			continue
		}
		if err != nil || got != c.sum {
			t.Errorf("%s+%s = %q, %v; want %s", c.a, c.b, got, err, c.sum)
		}
	}
	if _, err := SubNumbers(MustNum("2E-130").S, MustNum("1.5E-130").S); err == nil || err.Error() != MsgUnderflow {
		t.Errorf("underflowing difference: %v", err)
	}
}
