// Package attr is DynamoDB's data model: the AttributeValue union, items,
// numbers with DynamoDB's precision and canonical form, item size, and the
// order-preserving key encoding used by every store backend.
package attr

// Type is an AttributeValue's data type, spelled as on the wire.
type Type uint8

const (
	TypeInvalid Type = iota
	S
	N
	B
	BOOL
	NULL
	M
	L
	SS
	NS
	BS
)

var typeNames = [...]string{"", "S", "N", "B", "BOOL", "NULL", "M", "L", "SS", "NS", "BS"}

func (t Type) String() string {
	if int(t) < len(typeNames) {
		return typeNames[t]
	}
	return "?"
}

// ParseType maps a wire name ("S", "NS", ...) to its Type; TypeInvalid when unknown.
func ParseType(s string) Type {
	for i, n := range typeNames {
		if i > 0 && n == s {
			return Type(i)
		}
	}
	return TypeInvalid
}

// IsSet reports whether t is one of the three set types.
func (t Type) IsSet() bool { return t == SS || t == NS || t == BS }

// Value is one AttributeValue. Exactly the field selected by Type is meaningful.
// Numbers (N and NS elements) are held in canonical string form (see Number),
// so equal numbers are equal strings; arithmetic and ordering parse them.
type Value struct {
	Type Type
	S    string // S, and N in canonical form
	B    []byte
	BOOL bool
	M    map[string]Value
	L    []Value
	SS   []string // SS, and NS elements in canonical form
	BS   [][]byte
}

// Item is a whole item: attribute name to value.
type Item map[string]Value

// Constructors keep call sites short and make the Type/field pairing impossible to get wrong.

func Str(s string) Value            { return Value{Type: S, S: s} }
func Bin(b []byte) Value            { return Value{Type: B, B: b} }
func Bool(b bool) Value             { return Value{Type: BOOL, BOOL: b} }
func Null() Value                   { return Value{Type: NULL, BOOL: true} }
func Map(m map[string]Value) Value  { return Value{Type: M, M: m} }
func List(l []Value) Value          { return Value{Type: L, L: l} }
func StrSet(ss []string) Value      { return Value{Type: SS, SS: ss} }
func BinSet(bs [][]byte) Value      { return Value{Type: BS, BS: bs} }
func numSetOf(canon []string) Value { return Value{Type: NS, SS: canon} }
func numOf(canon string) Value      { return Value{Type: N, S: canon} }
