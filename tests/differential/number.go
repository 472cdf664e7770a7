package differential

import "strings"

// canonicalNumber renders a DynamoDB number string as sign, significant digits
// and exponent ("-123e-2" for "-1.23"), so numerically equal spellings
// ("1.50", "1.5", "15E-1") compare equal. Strings that are not numbers come
// back prefixed with "!" so they never equal a real number.
func canonicalNumber(s string) string {
	t := strings.TrimSpace(s)
	neg := false
	if t != "" && (t[0] == '+' || t[0] == '-') {
		neg = t[0] == '-'
		t = t[1:]
	}
	mant, exp := t, 0
	if i := strings.IndexAny(t, "eE"); i >= 0 {
		mant = t[:i]
		e, ok := parseExp(t[i+1:])
		if !ok {
			return "!" + s
		}
		exp = e
	}
	intPart, frac := mant, ""
	if i := strings.IndexByte(mant, '.'); i >= 0 {
		intPart, frac = mant[:i], mant[i+1:]
	}
	if intPart == "" && frac == "" || !allDigits(intPart) || !allDigits(frac) {
		return "!" + s
	}
	digits := strings.TrimLeft(intPart+frac, "0")
	exp -= len(frac)
	trimmed := strings.TrimRight(digits, "0")
	exp += len(digits) - len(trimmed)
	if trimmed == "" {
		return "0"
	}
	sign := ""
	if neg {
		sign = "-"
	}
	return sign + trimmed + "e" + itoa(exp)
}

func parseExp(s string) (int, bool) {
	neg := false
	if s != "" && (s[0] == '+' || s[0] == '-') {
		neg = s[0] == '-'
		s = s[1:]
	}
	if s == "" || !allDigits(s) || len(s) > 6 {
		return 0, false
	}
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	if neg {
		n = -n
	}
	return n, true
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func itoa(n int) string {
	if n < 0 {
		return "-" + itoa(-n)
	}
	if n < 10 {
		return string(rune('0' + n))
	}
	return itoa(n/10) + string(rune('0'+n%10))
}

// isCanonicalSpelling reports whether s is a number as AWS DynamoDB spells it:
// plain notation, no sign but a leading "-", no leading zeros, no trailing
// fractional zeros, and zero as "0".
func isCanonicalSpelling(s string) bool {
	t := strings.TrimPrefix(s, "-")
	if t == "" || t != s && t == "0" || strings.ContainsAny(t, "eE+") {
		return false
	}
	intPart, frac, hasDot := strings.Cut(t, ".")
	if !allDigits(intPart) || !allDigits(frac) || intPart == "" {
		return false
	}
	if len(intPart) > 1 && intPart[0] == '0' {
		return false
	}
	if hasDot && (frac == "" || strings.HasSuffix(frac, "0")) {
		return false
	}
	return true
}
