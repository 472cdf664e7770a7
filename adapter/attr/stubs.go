package attr

// Temporary stubs: the signatures are the contract other packages compile
// against. The attr implementation replaces this file.

// MarshalJSON renders the wire form {"S":"..."} etc.
func (v Value) MarshalJSON() ([]byte, error) { panic("attr: not implemented") }

// UnmarshalJSON parses and validates the wire form; semantic problems are *ValidationError.
func (v *Value) UnmarshalJSON(b []byte) error { panic("attr: not implemented") }

// Equal is DynamoDB equality (sets compare as sets).
func Equal(a, b Value) bool { panic("attr: not implemented") }

// Compare orders two scalar values of the same type (S, N, B); ok is false otherwise.
func Compare(a, b Value) (c int, ok bool) { panic("attr: not implemented") }

// Size is the item's size as DynamoDB counts it toward the 400 KB limit.
func (it Item) Size() int { panic("attr: not implemented") }

// Clone deep-copies the item.
func (it Item) Clone() Item { panic("attr: not implemented") }

// EncodeKey appends v's order-preserving, self-delimiting encoding (S, N or B) to dst.
func EncodeKey(dst []byte, v Value) []byte { panic("attr: not implemented") }

// DecodeKey decodes one value encoded by EncodeKey of type t and returns the rest.
func DecodeKey(b []byte, t Type) (v Value, rest []byte, err error) { panic("attr: not implemented") }
