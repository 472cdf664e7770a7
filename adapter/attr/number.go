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

// NumberError is a DynamoDB validation message for a bad number.
type NumberError struct{ Msg string }

func (e *NumberError) Error() string { return e.Msg }

func parseDecimal(s string) (*apd.Decimal, error) {
	// apd also accepts "Inf", "NaN" and surrounding forms DynamoDB rejects; only
	// plain decimal and exponent notation are numbers on the wire.
	if !looksNumeric(s) {
		return nil, &NumberError{"The parameter cannot be converted to a numeric value: " + s}
	}
	d, _, err := apd.NewFromString(s)
	if err != nil {
		return nil, &NumberError{"The parameter cannot be converted to a numeric value: " + s}
	}
	return d, nil
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

// canonical validates d against DynamoDB's limits and formats it.
func canonical(d *apd.Decimal) (string, error) {
	if d.IsZero() {
		return "0", nil
	}
	var r apd.Decimal
	r.Reduce(d)
	if r.NumDigits() > maxSignificantDigits {
		return "", &NumberError{"Attempting to store more than 38 significant digits in a Number"}
	}
	// adjusted exponent: the power of ten of the most significant digit.
	adj := int64(r.Exponent) + r.NumDigits() - 1
	if adj >= maxExponent {
		return "", &NumberError{"Number overflow. Attempting to store a number with magnitude larger than supported range"}
	}
	if adj < minExponent {
		return "", &NumberError{"Number underflow. Attempting to store a number with magnitude smaller than supported range"}
	}
	return r.Text('f'), nil
}

// CanonicalNumber validates a wire number and returns its canonical form.
func CanonicalNumber(s string) (string, error) {
	d, err := parseDecimal(s)
	if err != nil {
		return "", err
	}
	return canonical(d)
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

// CompareNumbers orders two canonical numbers numerically.
func CompareNumbers(a, b string) int {
	if a == b {
		return 0
	}
	return decimalOf(a).Cmp(decimalOf(b))
}

// AddNumbers returns a+b, validated against DynamoDB's limits.
func AddNumbers(a, b string) (string, error) {
	var r apd.Decimal
	if _, err := exact.Add(&r, decimalOf(a), decimalOf(b)); err != nil {
		return "", &NumberError{"Number overflow. Attempting to store a number with magnitude larger than supported range"}
	}
	return canonical(&r)
}

// SubNumbers returns a-b, validated against DynamoDB's limits.
func SubNumbers(a, b string) (string, error) {
	var r apd.Decimal
	if _, err := exact.Sub(&r, decimalOf(a), decimalOf(b)); err != nil {
		return "", &NumberError{"Number overflow. Attempting to store a number with magnitude larger than supported range"}
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
