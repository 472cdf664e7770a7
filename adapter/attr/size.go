package attr

// MaxItemSize is DynamoDB's item size limit: an item of exactly 409600 bytes
// (as Size counts) is accepted by DynamoDB Local, one byte more is rejected
// with MsgItemTooLarge.
const MaxItemSize = 400 * 1024

// ItemTooLarge returns the ValidationError DynamoDB answers for an item over
// MaxItemSize, or nil when the item fits.
func (it Item) ItemTooLarge() *ValidationError {
	if it.Size() > MaxItemSize {
		return &ValidationError{MsgItemTooLarge}
	}
	return nil
}

// Size is the item's size as DynamoDB counts it toward the 400 KB limit and
// capacity units: the sum over attributes of name bytes plus value size.
// The per-type rules follow AWS's "DynamoDB item sizes and formats" page and
// were measured exactly against DynamoDB Local's consumed capacity.
func (it Item) Size() int {
	n := 0
	for k, v := range it {
		n += len(k) + v.Size()
	}
	return n
}

// Size is one value's size, without any attribute name:
//   - S: UTF-8 bytes; B: raw bytes; BOOL, NULL: 1.
//   - N: 1 + one byte per base-100 digit pair, pairs aligned on the decimal
//     point ("1.1" is 01.10, 2 pairs), + 1 if negative; zero is 1.
//   - M, L: 3 + for each element 1 + (name bytes for M) + element size.
//   - SS, NS, BS: the sum of the element sizes.
func (v Value) Size() int {
	switch v.Type {
	case S:
		return len(v.S)
	case N:
		return numberSize(v.S)
	case B:
		return len(v.B)
	case BOOL, NULL:
		return 1
	case M:
		n := 3
		for k, e := range v.M {
			n += 1 + len(k) + e.Size()
		}
		return n
	case L:
		n := 3
		for _, e := range v.L {
			n += 1 + e.Size()
		}
		return n
	case SS:
		n := 0
		for _, s := range v.SS {
			n += len(s)
		}
		return n
	case NS:
		n := 0
		for _, s := range v.SS {
			n += numberSize(s)
		}
		return n
	case BS:
		n := 0
		for _, b := range v.BS {
			n += len(b)
		}
		return n
	}
	return 0
}

// numberSize measures a canonical number. DynamoDB stores the significant
// digits in base 100 with pairs aligned to the decimal point, so the pair
// count runs from the pair holding the leading digit (power of ten exp) to the
// pair holding the last one (exp-len(digits)+1).
func numberSize(canon string) int {
	sign, exp, digits := numberDigits(canon)
	if sign == 0 {
		return 1
	}
	last := exp - len(digits) + 1
	n := floorDiv2(exp) - floorDiv2(last) + 1 + 1
	if sign < 0 {
		n++
	}
	return n
}

func floorDiv2(x int) int {
	if x >= 0 {
		return x / 2
	}
	return -((-x + 1) / 2)
}
