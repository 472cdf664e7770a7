// Package jsonstr reads a JSON string the way encoding/json unquotes it:
// escapes decoded, surrogate pairs joined, and invalid UTF-8 or a lone
// surrogate turned into U+FFFD. The attribute-value decoder (adapter/attr)
// and the audit's tree decoder (audit/diff) both read strings with it.
package jsonstr

import (
	"unicode/utf16"
	"unicode/utf8"
)

// Read decodes the string whose body starts at data[pos], just after the
// opening quote. It returns the decoded bytes, the position just after the
// closing quote (or where reading stopped), and ok=false for malformed
// input. The result aliases data when the string is plain ASCII without
// escapes, so callers copy it before keeping it.
func Read(data []byte, pos int) (s []byte, next int, ok bool) {
	start := pos
	for pos < len(data) {
		c := data[pos]
		if c == '"' {
			return data[start:pos], pos + 1, true
		}
		if c == '\\' || c < 0x20 || c >= utf8.RuneSelf {
			return slow(data, start, pos)
		}
		pos++
	}
	return nil, pos, false
}

// slow continues Read from pos once an escape, a control character or a
// non-ASCII byte appears.
func slow(data []byte, start, pos int) ([]byte, int, bool) {
	out := make([]byte, 0, pos-start+16)
	out = append(out, data[start:pos]...)
	for pos < len(data) {
		c := data[pos]
		switch {
		case c == '"':
			return out, pos + 1, true
		case c < 0x20:
			return nil, pos, false
		case c == '\\':
			if pos+1 >= len(data) {
				return nil, pos, false
			}
			e := data[pos+1]
			pos += 2
			switch e {
			case '"', '\\', '/':
				out = append(out, e)
			case 'b':
				out = append(out, '\b')
			case 'f':
				out = append(out, '\f')
			case 'n':
				out = append(out, '\n')
			case 'r':
				out = append(out, '\r')
			case 't':
				out = append(out, '\t')
			case 'u':
				r, ok := hex4(data, pos)
				if !ok {
					return nil, pos, false
				}
				pos += 4
				if utf16.IsSurrogate(r) {
					// A pair only if a \u low surrogate follows; otherwise
					// U+FFFD, and a following escape is read on its own.
					if pos+6 <= len(data) && data[pos] == '\\' && data[pos+1] == 'u' {
						if lo, ok := hex4(data, pos+2); ok {
							if dec := utf16.DecodeRune(r, lo); dec != utf8.RuneError {
								out = utf8.AppendRune(out, dec)
								pos += 6
								continue
							}
						}
					}
					r = utf8.RuneError
				}
				out = utf8.AppendRune(out, r)
			default:
				return nil, pos, false
			}
		case c < utf8.RuneSelf:
			out = append(out, c)
			pos++
		default:
			r, size := utf8.DecodeRune(data[pos:])
			out = utf8.AppendRune(out, r) // RuneError for invalid UTF-8
			pos += size
		}
	}
	return nil, pos, false
}

// hex4 reads the four hex digits of a \u escape at data[pos].
func hex4(data []byte, pos int) (rune, bool) {
	if pos+4 > len(data) {
		return 0, false
	}
	var r rune
	for _, c := range data[pos : pos+4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}
