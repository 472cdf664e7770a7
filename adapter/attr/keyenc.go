package attr

import "errors"

// Key encoding: an order-preserving, self-delimiting byte form of S, N and B
// key values, so that bytes.Compare of encodings (and of concatenations such
// as enc(pk)|enc(sk)) is DynamoDB's key order.
//
//   - S, B: the bytes with 0x00 escaped as 0x00 0xFF, then the terminator
//     0x00 0x01. The terminator sorts below any continuation, so a prefix
//     sorts first, and no encoding is a prefix of another.
//   - N: a class byte (negative 0x01 < zero 0x02 < positive 0x03); zero ends
//     there. Otherwise the power of ten of the leading digit biased by 130
//     (DynamoDB's range -130..125 fits one byte exactly), then the significant
//     digits as nibbles digit+1 (1..10), two per byte, closed by a zero
//     nibble (the low half of the last byte when the count is odd, else a
//     0x00 byte). Nibble 0 sorts below every digit, so 1.2 < 1.23. For
//     negatives every byte after the class byte is inverted, which reverses
//     the order of magnitudes.
const (
	numNeg  = 0x01
	numZero = 0x02
	numPos  = 0x03
	expBias = -minExponent // 130
)

// ErrBadKey reports bytes that are not a valid key encoding.
var ErrBadKey = errors.New("attr: malformed key encoding")

// EncodeKey appends v's order-preserving, self-delimiting encoding (S, N or B)
// to dst. Other types have no key order; they append nothing.
func EncodeKey(dst []byte, v Value) []byte {
	switch v.Type {
	case S:
		return appendEscaped(dst, v.S)
	case B:
		return appendEscaped(dst, v.B)
	case N:
		return appendNumberKey(dst, v.S)
	}
	return dst
}

func appendEscaped[T string | []byte](dst []byte, s T) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		dst = append(dst, c)
		if c == 0 {
			dst = append(dst, 0xFF)
		}
	}
	return append(dst, 0x00, 0x01)
}

func appendNumberKey(dst []byte, canon string) []byte {
	sign, exp, digits := numberDigits(canon)
	if sign == 0 {
		return append(dst, numZero)
	}
	var inv byte
	class := byte(numPos)
	if sign < 0 {
		inv, class = 0xFF, numNeg
	}
	dst = append(dst, class, byte(exp+expBias)^inv)
	for i := 0; i < len(digits); i += 2 {
		b := (digits[i] - '0' + 1) << 4
		if i+1 < len(digits) {
			b |= digits[i+1] - '0' + 1
		}
		dst = append(dst, b^inv)
	}
	if len(digits)%2 == 0 {
		dst = append(dst, inv) // 0x00 terminator, inverted for negatives
	}
	return dst
}

// DecodeKey decodes one value encoded by EncodeKey of type t and returns the
// rest. It never panics; malformed input yields ErrBadKey.
func DecodeKey(b []byte, t Type) (v Value, rest []byte, err error) {
	switch t {
	case S, B:
		raw, rest, err := unescape(b)
		if err != nil {
			return Value{}, nil, err
		}
		if t == S {
			return Str(string(raw)), rest, nil
		}
		return Bin(raw), rest, nil
	case N:
		return decodeNumberKey(b)
	}
	return Value{}, nil, ErrBadKey
}

func unescape(b []byte) (raw, rest []byte, err error) {
	raw = make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c != 0 {
			raw = append(raw, c)
			continue
		}
		if i+1 >= len(b) {
			return nil, nil, ErrBadKey
		}
		switch b[i+1] {
		case 0x01:
			return raw, b[i+2:], nil
		case 0xFF:
			raw = append(raw, 0)
			i++
		default:
			return nil, nil, ErrBadKey
		}
	}
	return nil, nil, ErrBadKey
}

func decodeNumberKey(b []byte) (Value, []byte, error) {
	if len(b) == 0 {
		return Value{}, nil, ErrBadKey
	}
	var inv byte
	switch b[0] {
	case numZero:
		return numOf("0"), b[1:], nil
	case numNeg:
		inv = 0xFF
	case numPos:
	default:
		return Value{}, nil, ErrBadKey
	}
	if len(b) < 2 {
		return Value{}, nil, ErrBadKey
	}
	exp := int(b[1]^inv) - expBias
	var digits [maxSignificantDigits]byte
	n := 0
	i := 2
	done := false
	for ; i < len(b) && !done; i++ {
		c := b[i] ^ inv
		if c>>4 == 0 && c != 0 { // a terminator byte is exactly 0x00
			return Value{}, nil, ErrBadKey
		}
		for _, nib := range [2]byte{c >> 4, c & 0x0F} {
			if nib == 0 {
				done = true
				break
			}
			if nib > 10 || n == maxSignificantDigits {
				return Value{}, nil, ErrBadKey
			}
			digits[n] = nib - 1 + '0'
			n++
		}
	}
	// A valid encoding ends at a zero nibble, has at least one digit, and its
	// digits start and end non-zero (so each number has one encoding).
	if !done || n == 0 || digits[0] == '0' || digits[n-1] == '0' {
		return Value{}, nil, ErrBadKey
	}
	// Every exponent byte maps into DynamoDB's range -130..125, so the
	// number is valid as it stands.
	return numOf(formatPlain(inv != 0, exp, digits[:n])), b[i:], nil
}
