package attr

import (
	"bytes"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// randNumber returns a random valid canonical number over DynamoDB's whole
// range, with a bias toward near-collisions (shared prefixes, close exponents).
func randNumber(r *rand.Rand) string {
	if r.IntN(20) == 0 {
		return "0"
	}
	nd := 1 + r.IntN(maxSignificantDigits)
	if r.IntN(3) == 0 {
		nd = 1 + r.IntN(3)
	}
	var sb strings.Builder
	if r.IntN(2) == 0 {
		sb.WriteByte('-')
	}
	for i := range nd {
		d := byte('0' + r.IntN(10))
		if r.IntN(2) == 0 {
			d = "1259"[r.IntN(4)]
		}
		if i == 0 && d == '0' {
			d = '1'
		}
		sb.WriteByte(d)
	}
	exp := minExponent + r.IntN(maxExponent-minExponent) - (nd - 1)
	if r.IntN(2) == 0 {
		exp = r.IntN(7) - 3 - (nd - 1)
	}
	sb.WriteString("e" + strconv.Itoa(exp))
	c, err := CanonicalNumber(sb.String())
	if err != nil { // leading digit pushed past the top: try again
		return randNumber(r)
	}
	return c
}

func randBytes(r *rand.Rand) []byte {
	b := make([]byte, r.IntN(6))
	for i := range b {
		b[i] = []byte{0x00, 0x01, 0xFF, 'a', 'b', 0x80}[r.IntN(6)]
	}
	return b
}

func randKey(r *rand.Rand, t Type) Value {
	switch t {
	case S:
		return Str(string(randBytes(r)))
	case B:
		return Bin(randBytes(r))
	}
	return numOf(randNumber(r))
}

func sign(c int) int { return min(max(c, -1), 1) }

// The encodings sort exactly as Compare orders the values, also when
// concatenated as partition key | sort key, and decode back.
func TestKeyEncodingOrder(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, t1 := range []Type{S, N, B} {
		for _, t2 := range []Type{S, N, B} {
			for range 3000 {
				a1, a2 := randKey(r, t1), randKey(r, t2)
				b1, b2 := randKey(r, t1), randKey(r, t2)
				if r.IntN(3) == 0 {
					b1 = a1
				}
				want, _ := Compare(a1, b1)
				if want == 0 {
					want, _ = Compare(a2, b2)
				}
				ea := EncodeKey(EncodeKey(nil, a1), a2)
				eb := EncodeKey(EncodeKey(nil, b1), b2)
				if got := bytes.Compare(ea, eb); sign(got) != sign(want) {
					t.Fatalf("%v|%v vs %v|%v: bytes %d, values %d", a1, a2, b1, b2, got, want)
				}
				v1, rest, err := DecodeKey(ea, t1)
				if err != nil {
					t.Fatalf("decode %x: %v", ea, err)
				}
				v2, rest, err := DecodeKey(rest, t2)
				if err != nil || len(rest) != 0 || !Equal(v1, a1) || !Equal(v2, a2) {
					t.Fatalf("round trip %v|%v: got %v|%v rest %x err %v", a1, a2, v1, v2, rest, err)
				}
			}
		}
	}
}

// CompareNumbers (and so the key order) agrees with exact decimal arithmetic.
func TestCompareNumbersAgainstApd(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for range 20000 {
		a, b := randNumber(r), randNumber(r)
		if r.IntN(4) == 0 {
			b = a
		}
		want := decimalOf(a).Cmp(decimalOf(b))
		if got := CompareNumbers(a, b); got != want {
			t.Fatalf("CompareNumbers(%s, %s) = %d, want %d", a, b, got, want)
		}
	}
}

func TestKeyEncodingExtremes(t *testing.T) {
	nums := []string{
		"-9.9999999999999999999999999999999999999E+125", "-1E+125", "-100", "-10", "-9.99", "-1.5", "-1.23", "-1.2", "-1",
		"-1E-130", "0", "1E-130", "1.1E-130", "0.5", "1", "1.2", "1.23", "1.5", "9.99", "10", "11", "100", "1E+125",
		"9.9999999999999999999999999999999999999E+125",
	}
	var encs [][]byte
	for _, n := range nums {
		encs = append(encs, EncodeKey(nil, MustNum(n)))
	}
	if !slices.IsSortedFunc(encs, bytes.Compare) {
		t.Errorf("number encodings out of order")
	}
	strs := []string{"", "\x00", "\x00\x00", "\x00\x01", "\x01", "a", "a\x00", "a\x00b", "ab", "b", "\xff", "\xff\xff"}
	encs = encs[:0]
	for _, s := range strs {
		encs = append(encs, EncodeKey(nil, Str(s)))
	}
	if !slices.IsSortedFunc(encs, bytes.Compare) {
		t.Errorf("string encodings out of order")
	}
	if got := EncodeKey(nil, MustNum("-12.5")); !bytes.Equal(got, []byte{numNeg, ^byte(1 + expBias), ^byte(0x23), ^byte(0x60)}) {
		t.Errorf("-12.5 encodes as %x", got)
	}
	if got := EncodeKey(nil, Bool(true)); len(got) != 0 {
		t.Errorf("BOOL encoded as %x", got)
	}
}

func TestDecodeKeyRejects(t *testing.T) {
	cases := []struct {
		b []byte
		t Type
	}{
		{nil, S}, {[]byte("abc"), S}, {[]byte{'a', 0}, B}, {[]byte{0, 2}, S},
		{nil, N}, {[]byte{0x07}, N}, {[]byte{numPos}, N}, {[]byte{numPos, 130}, N},
		{[]byte{numPos, 130, 0x20 | 0x0B}, N},                               // nibble 11
		{[]byte{numPos, 130, 0x00}, N},                                      // no digits
		{[]byte{numPos, 130, 0x10}, N},                                      // leading zero digit
		{[]byte{numPos, 130, 0x21, 0x00}, N},                                // trailing zero digit
		{[]byte{numPos, 130, 0x05}, N},                                      // terminator byte not 0x00
		{append([]byte{numPos, 130}, bytes.Repeat([]byte{0x22}, 20)...), N}, // 40 digits
		{[]byte{'a', 0, 1}, BOOL},
	}
	for _, c := range cases {
		if _, _, err := DecodeKey(c.b, c.t); err == nil {
			t.Errorf("DecodeKey(%x, %v) accepted", c.b, c.t)
		}
	}
}

// FuzzDecodeKey: never panics, and whatever decodes re-encodes to the same bytes.
func FuzzDecodeKey(f *testing.F) {
	f.Add([]byte{numPos, 130, 0x20}, uint8(N))
	f.Add([]byte{numNeg, ^byte(131), ^byte(0x23), 0xFF}, uint8(N))
	f.Add([]byte{numZero, 'x'}, uint8(N))
	f.Add([]byte("a\x00\xffb\x00\x01rest"), uint8(S))
	f.Add([]byte("\x00\x01"), uint8(B))
	f.Add([]byte{}, uint8(B))
	f.Fuzz(func(t *testing.T, b []byte, typ uint8) {
		tp := []Type{S, N, B}[int(typ)%3]
		v, rest, err := DecodeKey(b, tp)
		if err != nil {
			return
		}
		enc := EncodeKey(nil, v)
		if !bytes.Equal(append(enc, rest...), b) {
			t.Fatalf("%x decoded to %v, re-encodes to %x", b, v, enc)
		}
		if tp == N {
			if _, err := CanonicalNumber(v.S); err != nil {
				t.Fatalf("decoded invalid number %q", v.S)
			}
		}
	})
}
