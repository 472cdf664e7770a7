package attr

import (
	"encoding/base64"
	"errors"
	"slices"
	"unicode/utf8"
)

// MarshalJSON renders the wire form {"S":"..."} etc. It writes bytes directly
// (no reflection): every read path goes through it.
func (v Value) MarshalJSON() ([]byte, error) {
	if v.Type == TypeInvalid || v.Type > BS {
		return nil, errors.New("attr: cannot marshal a Value with no type")
	}
	return v.AppendJSON(make([]byte, 0, 64)), nil
}

// MarshalJSON renders the item as a JSON object of AttributeValues, keys sorted
// so that equal items always encode to equal bytes.
func (it Item) MarshalJSON() ([]byte, error) {
	return it.AppendJSON(make([]byte, 0, 256)), nil
}

// AppendJSON appends the item's wire form to dst. A nil item renders as {}.
func (it Item) AppendJSON(dst []byte) []byte { return appendMap(dst, it) }

// AppendJSON appends v's wire form to dst. Sets render in stored order; B and
// BS as standard padded base64. A Value with no type renders as {} (which
// DynamoDB would reject), so that a bug shows up instead of vanishing.
func (v Value) AppendJSON(dst []byte) []byte {
	switch v.Type {
	case S:
		dst = append(dst, `{"S":`...)
		dst = appendString(dst, v.S)
	case N:
		// Canonical numbers are plain ASCII; nothing to escape.
		dst = append(dst, `{"N":"`...)
		dst = append(dst, v.S...)
		dst = append(dst, '"')
	case B:
		dst = append(dst, `{"B":"`...)
		dst = base64.StdEncoding.AppendEncode(dst, v.B)
		dst = append(dst, '"')
	case BOOL:
		if v.BOOL {
			return append(dst, `{"BOOL":true}`...)
		}
		return append(dst, `{"BOOL":false}`...)
	case NULL:
		return append(dst, `{"NULL":true}`...)
	case M:
		dst = append(dst, `{"M":`...)
		dst = appendMap(dst, v.M)
	case L:
		dst = append(dst, `{"L":[`...)
		for i, e := range v.L {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = e.AppendJSON(dst)
		}
		dst = append(dst, ']')
	case SS:
		dst = append(dst, `{"SS":[`...)
		for i, s := range v.SS {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendString(dst, s)
		}
		dst = append(dst, ']')
	case NS:
		dst = append(dst, `{"NS":[`...)
		for i, s := range v.SS {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = append(dst, '"')
			dst = append(dst, s...)
			dst = append(dst, '"')
		}
		dst = append(dst, ']')
	case BS:
		dst = append(dst, `{"BS":[`...)
		for i, b := range v.BS {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = append(dst, '"')
			dst = base64.StdEncoding.AppendEncode(dst, b)
			dst = append(dst, '"')
		}
		dst = append(dst, ']')
	default:
		return append(dst, "{}"...)
	}
	return append(dst, '}')
}

// appendMap writes {"name":<value>,...} with names in byte order.
func appendMap(dst []byte, m map[string]Value) []byte {
	dst = append(dst, '{')
	var small [16]string
	keys := small[:0]
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for i, k := range keys {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendString(dst, k)
		dst = append(dst, ':')
		dst = m[k].AppendJSON(dst)
	}
	return append(dst, '}')
}

const hexDigits = "0123456789ABCDEF"

// appendString writes s as a JSON string. Like DynamoDB it leaves non-ASCII
// UTF-8 and '/' as they are and escapes only what JSON requires; invalid UTF-8
// becomes U+FFFD so the output is always valid JSON.
func appendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c < utf8.RuneSelf && c != '"' && c != '\\' {
			i++
			continue
		}
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				dst = append(dst, s[start:i]...)
				dst = append(dst, `\uFFFD`...)
				i++
				start = i
				continue
			}
			i += size
			continue
		}
		dst = append(dst, s[start:i]...)
		switch c {
		case '"', '\\':
			dst = append(dst, '\\', c)
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		case '\t':
			dst = append(dst, '\\', 't')
		case '\b':
			dst = append(dst, '\\', 'b')
		case '\f':
			dst = append(dst, '\\', 'f')
		default:
			dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
		}
		i++
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
