package attr

import (
	"bytes"
	"strings"
)

// Equal is DynamoDB equality: same type and value; sets compare as sets, maps
// by key, lists element-wise; numbers by value (canonical forms are unique).
func Equal(a, b Value) bool {
	if a.Type != b.Type {
		return false
	}
	switch a.Type {
	case S, N:
		return a.S == b.S
	case B:
		return bytes.Equal(a.B, b.B)
	case BOOL:
		return a.BOOL == b.BOOL
	case NULL, TypeInvalid:
		return true
	case M:
		if len(a.M) != len(b.M) {
			return false
		}
		for k, av := range a.M {
			bv, ok := b.M[k]
			if !ok || !Equal(av, bv) {
				return false
			}
		}
		return true
	case L:
		if len(a.L) != len(b.L) {
			return false
		}
		for i := range a.L {
			if !Equal(a.L[i], b.L[i]) {
				return false
			}
		}
		return true
	case SS, NS:
		return sameStringSet(a.SS, b.SS)
	case BS:
		return sameBinarySet(a.BS, b.BS)
	}
	return false
}

// sameStringSet compares sets without duplicates (as DynamoDB guarantees).
func sameStringSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	if len(a) <= 16 {
		for _, x := range a {
			if !contains(b, x) {
				return false
			}
		}
		return true
	}
	in := make(map[string]struct{}, len(b))
	for _, x := range b {
		in[x] = struct{}{}
	}
	for _, x := range a {
		if _, ok := in[x]; !ok {
			return false
		}
	}
	return true
}

func sameBinarySet(a, b [][]byte) bool {
	if len(a) != len(b) {
		return false
	}
	in := make(map[string]struct{}, len(b))
	for _, x := range b {
		in[string(x)] = struct{}{}
	}
	for _, x := range a {
		if _, ok := in[string(x)]; !ok {
			return false
		}
	}
	return true
}

// Compare orders two scalar values of the same type (S, N, B) as DynamoDB
// does: S by UTF-8 bytes, B by unsigned bytes, N numerically. ok is false for
// other or mismatched types.
func Compare(a, b Value) (c int, ok bool) {
	if a.Type != b.Type {
		return 0, false
	}
	switch a.Type {
	case S:
		return strings.Compare(a.S, b.S), true
	case N:
		return CompareNumbers(a.S, b.S), true
	case B:
		return bytes.Compare(a.B, b.B), true
	}
	return 0, false
}
