package attr

import (
	"strings"

	"github.com/cockroachdb/apd/v3"
)

// DynamoDB numbers: at most 38 significant digits, magnitude in [1E-130, 1E+126).
// We keep them as canonical decimal strings (plain notation, no exponent, no
// trailing fractional zeros, no leading zeros, "-0" folded to "0") so equal numbers
// compare equal as strings and JSON round-trips are exact. apd does the math with
// enough precision that no intermediate result is ever rounded.
const (
	maxSignificantDigits = 38
	minExponent          = -130 // smallest magnitude 1E-130
	maxExponent          = 126  // magnitude must stay below 1E+126
)

// exact has more precision than any sum or difference of two valid numbers needs
// (126 + 130 + 38 digits), so results are exact and validated afterwards.
var exact = apd.BaseContext.WithPrecision(300)

// DynamoDB Local's messages for bad numbers (checked by PutItem against it).
// Precision is checked before magnitude: a 39-digit 1E+200 reports precision.
const (
	MsgNotANumber = "A value provided cannot be converted into a number"
	MsgPrecision  = "DynamoDB only supports precision up to 38 digits"
	MsgOverflow   = "Number overflow. Attempting to store a number with magnitude larger than supported range"
	MsgUnderflow  = "Number underflow. Attempting to store a number with magnitude smaller than supported range"
)

// NumberError is a DynamoDB validation message for a bad number.
type NumberError struct{ Msg string }

func (e *NumberError) Error() string { return e.Msg }

// maxWireExponent bounds the exponent: DynamoDB (Java BigDecimal) rejects an
// exponent that does not fit a 32-bit int as "cannot be converted", not as overflow.
const maxWireExponent = 1<<31 - 1

// CanonicalNumber validates a wire number and returns its canonical form.
// It parses by hand rather than through apd: it is on every decode path, and
// apd's own exponent limits would turn 1E+200000 into a parse error where
// DynamoDB reports overflow.
//
// DynamoDB Local also accepts non-ASCII Unicode digits ("１"), as Java's
// BigDecimal does; we accept ASCII digits only.
func CanonicalNumber(s string) (string, error) {
	if !looksNumeric(s) {
		return "", &NumberError{MsgNotANumber}
	}
	i, n := 0, len(s)
	neg := false
	if s[0] == '+' || s[0] == '-' {
		neg = s[0] == '-'
		i++
	}
	// Digits form one sequence D (integer digits then fraction digits); point
	// is how many of them precede the decimal point. first/last index D's
	// outermost non-zero digits.
	nd, point, first, last := 0, -1, -1, -1
	for ; i < n; i++ {
		c := s[i]
		if c == '.' {
			point = nd
			continue
		}
		if c == 'e' || c == 'E' {
			break
		}
		if c != '0' {
			if first < 0 {
				first = nd
			}
			last = nd
		}
		nd++
	}
	if point < 0 {
		point = nd
	}
	exp := int64(0)
	if i < n { // exponent
		i++
		eneg := false
		if s[i] == '+' || s[i] == '-' {
			eneg = s[i] == '-'
			i++
		}
		for ; i < n; i++ {
			exp = exp*10 + int64(s[i]-'0')
			if exp > maxWireExponent {
				return "", &NumberError{MsgNotANumber}
			}
		}
		if eneg {
			exp = -exp
		}
	}
	if first < 0 {
		return "0", nil
	}
	if last-first+1 > maxSignificantDigits {
		return "", &NumberError{MsgPrecision}
	}
	adj := int64(point-1-first) + exp // power of ten of the leading digit
	if adj >= maxExponent {
		return "", &NumberError{MsgOverflow}
	}
	if adj < minExponent {
		return "", &NumberError{MsgUnderflow}
	}
	var sig [maxSignificantDigits]byte
	k, d := 0, 0
	for j := 0; d <= last; j++ {
		c := s[j]
		if c < '0' || c > '9' {
			continue
		}
		if d >= first {
			sig[k] = c
			k++
		}
		d++
	}
	return formatPlain(neg, int(adj), sig[:k]), nil
}

// formatPlain renders digits (no leading or trailing zeros) whose leading digit
// has power of ten adj, in plain notation.
func formatPlain(neg bool, adj int, sig []byte) string {
	var out []byte
	if adj >= 0 {
		intDigits := adj + 1
		size := intDigits
		if len(sig) > intDigits {
			size = len(sig) + 1
		}
		out = make([]byte, 0, size+1)
		if neg {
			out = append(out, '-')
		}
		if len(sig) <= intDigits {
			out = append(out, sig...)
			for range intDigits - len(sig) {
				out = append(out, '0')
			}
		} else {
			out = append(out, sig[:intDigits]...)
			out = append(out, '.')
			out = append(out, sig[intDigits:]...)
		}
	} else {
		zeros := -adj - 1
		out = make([]byte, 0, 3+zeros+len(sig))
		if neg {
			out = append(out, '-')
		}
		out = append(out, '0', '.')
		for range zeros {
			out = append(out, '0')
		}
		out = append(out, sig...)
	}
	return string(out)
}

// looksNumeric accepts [+-]digits[.digits][(e|E)[+-]digits] with at least one digit
// in the mantissa.
func looksNumeric(s string) bool {
	i, n := 0, len(s)
	if i < n && (s[i] == '+' || s[i] == '-') {
		i++
	}
	digits := 0
	for i < n && s[i] >= '0' && s[i] <= '9' {
		i++
		digits++
	}
	if i < n && s[i] == '.' {
		i++
		for i < n && s[i] >= '0' && s[i] <= '9' {
			i++
			digits++
		}
	}
	if digits == 0 {
		return false
	}
	if i < n && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < n && (s[i] == '+' || s[i] == '-') {
			i++
		}
		exp := 0
		for i < n && s[i] >= '0' && s[i] <= '9' {
			i++
			exp++
		}
		if exp == 0 {
			return false
		}
	}
	return i == n
}

// canonical validates an arithmetic result against DynamoDB's limits and formats
// it; it goes through CanonicalNumber so both paths apply identical rules.
func canonical(d *apd.Decimal) (string, error) {
	return CanonicalNumber(d.Text('E'))
}

// Num returns an N value from a wire number, validated and canonical.
func Num(s string) (Value, error) {
	c, err := CanonicalNumber(s)
	if err != nil {
		return Value{}, err
	}
	return numOf(c), nil
}

// MustNum is Num for literals in code and tests; it panics on a bad number.
func MustNum(s string) Value {
	v, err := Num(s)
	if err != nil {
		panic(err)
	}
	return v
}

// NumSet builds an NS from canonical numbers (as held in Value.S of N values).
func NumSet(canon []string) Value { return numSetOf(canon) }

// decimalOf parses a canonical number already validated; it cannot fail.
func decimalOf(canon string) *apd.Decimal {
	d, _, err := apd.NewFromString(canon)
	if err != nil {
		panic("attr: non-canonical number " + canon)
	}
	return d
}

// CompareNumbers orders two canonical numbers numerically. It works on the
// canonical strings directly (sign, then magnitude of the leading digit, then
// digits), so it never allocates: it runs for every sort-key comparison.
func CompareNumbers(a, b string) int {
	if a == b {
		return 0
	}
	sa, sb := numSign(a), numSign(b)
	if sa != sb {
		if sa < sb {
			return -1
		}
		return 1
	}
	if sa == 0 {
		return 0
	}
	m := compareMagnitude(a[boolInt(sa < 0):], b[boolInt(sb < 0):])
	return m * sa
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func numSign(c string) int {
	switch {
	case c == "0":
		return 0
	case c[0] == '-':
		return -1
	}
	return 1
}

// compareMagnitude compares two canonical, non-zero, unsigned numbers.
func compareMagnitude(a, b string) int {
	ea, da := leadExp(a)
	eb, db := leadExp(b)
	if ea != eb {
		if ea < eb {
			return -1
		}
		return 1
	}
	// Same leading power of ten: digit strings (skipping the point) compare
	// lexicographically; a shorter one is a prefix padded with zeros, so smaller.
	i, j := da, db
	for {
		for i < len(a) && a[i] == '.' {
			i++
		}
		for j < len(b) && b[j] == '.' {
			j++
		}
		switch {
		case i == len(a) && j == len(b):
			return 0
		case i == len(a):
			return -1
		case j == len(b):
			return 1
		case a[i] != b[j]:
			if a[i] < b[j] {
				return -1
			}
			return 1
		}
		i++
		j++
	}
}

// leadExp returns the power of ten of the leading digit of a canonical unsigned
// non-zero number and the index of that digit.
func leadExp(c string) (exp, at int) {
	if c[0] != '0' { // >= 1
		dot := strings.IndexByte(c, '.')
		if dot < 0 {
			dot = len(c)
		}
		return dot - 1, 0
	}
	i := 2 // skip "0."
	for i < len(c) && c[i] == '0' {
		i++
	}
	return -(i - 1), i
}

// AddNumbers returns a+b, validated against DynamoDB's limits.
func AddNumbers(a, b string) (string, error) {
	var r apd.Decimal
	if _, err := exact.Add(&r, decimalOf(a), decimalOf(b)); err != nil {
		return "", &NumberError{MsgOverflow}
	}
	return canonical(&r)
}

// SubNumbers returns a-b, validated against DynamoDB's limits.
func SubNumbers(a, b string) (string, error) {
	var r apd.Decimal
	if _, err := exact.Sub(&r, decimalOf(a), decimalOf(b)); err != nil {
		return "", &NumberError{MsgOverflow}
	}
	return canonical(&r)
}

// numberDigits splits a canonical number into sign, decimal exponent of its most
// significant digit, and its significant digits (no leading or trailing zeros).
// Used by the key encoding; zero yields sign 0.
func numberDigits(canon string) (sign int, exp int, digits string) {
	if canon == "0" {
		return 0, 0, ""
	}
	sign = 1
	if strings.HasPrefix(canon, "-") {
		sign = -1
		canon = canon[1:]
	}
	intPart, frac, _ := strings.Cut(canon, ".")
	all := intPart + frac
	lead := len(all) - len(strings.TrimLeft(all, "0"))
	exp = len(intPart) - 1 - lead
	digits = strings.TrimRight(all[lead:], "0")
	return sign, exp, digits
}
