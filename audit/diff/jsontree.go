package diff

import (
	"encoding/json"

	"github.com/dualread/dualread/internal/jsonstr"
)

// treeDecoder reads a JSON document once into the generic tree that
// encoding/json with UseNumber would give (map[string]any, []any, string,
// bool, nil, json.Number). It exists because the normaliser used to read
// every body three times (a validity scan, a RawMessage split, attr's item
// decoder) and then copy the result into a tree: the audit's throughput is
// bounded by that. Anything it is not sure to read exactly as encoding/json
// does (a syntax error, a duplicate object key, extreme nesting) makes it
// give up, and the caller takes the old, slower path, so the result never
// depends on which path was taken.
type treeDecoder struct {
	data []byte
	pos  int
	bad  bool // syntax error or something the fast path does not reproduce
}

// maxTreeDepth is below encoding/json's own limit (10000), so a document the
// fast path accepts is one encoding/json accepts too.
const maxTreeDepth = 1000

// decodeTree returns the tree of data, or ok=false when the caller must use
// encoding/json (invalid JSON, duplicate keys, very deep nesting).
func decodeTree(data []byte) (v any, ok bool) {
	d := treeDecoder{data: data}
	d.ws()
	v = d.value(0)
	d.ws()
	if d.bad || d.pos != len(d.data) {
		return nil, false
	}
	return v, true
}

func (d *treeDecoder) ws() {
	for d.pos < len(d.data) {
		switch d.data[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return
		}
	}
}

func (d *treeDecoder) value(depth int) any {
	if d.bad || d.pos >= len(d.data) {
		d.bad = true
		return nil
	}
	switch c := d.data[d.pos]; {
	case c == '{':
		return d.object(depth + 1)
	case c == '[':
		return d.array(depth + 1)
	case c == '"':
		return d.str()
	case c == 't':
		return d.lit("true", true)
	case c == 'f':
		return d.lit("false", false)
	case c == 'n':
		return d.lit("null", nil)
	case c == '-' || (c >= '0' && c <= '9'):
		return d.number()
	}
	d.bad = true
	return nil
}

func (d *treeDecoder) lit(s string, v any) any {
	if len(d.data)-d.pos < len(s) || string(d.data[d.pos:d.pos+len(s)]) != s {
		d.bad = true
		return nil
	}
	d.pos += len(s)
	return v
}

func (d *treeDecoder) object(depth int) any {
	if depth > maxTreeDepth {
		d.bad = true
		return nil
	}
	d.pos++ // '{'
	m := map[string]any{}
	d.ws()
	if d.pos < len(d.data) && d.data[d.pos] == '}' {
		d.pos++
		return m
	}
	for !d.bad {
		d.ws()
		if d.pos >= len(d.data) || d.data[d.pos] != '"' {
			d.bad = true
			return nil
		}
		k := d.str()
		d.ws()
		if d.bad || d.pos >= len(d.data) || d.data[d.pos] != ':' {
			d.bad = true
			return nil
		}
		d.pos++
		d.ws()
		n := len(m)
		m[k] = d.value(depth)
		if len(m) == n {
			// A duplicate key: encoding/json keeps the last, attr's decoder
			// judges each. Leave such bodies to the old path.
			d.bad = true
			return nil
		}
		d.ws()
		if d.pos >= len(d.data) {
			d.bad = true
			return nil
		}
		switch d.data[d.pos] {
		case ',':
			d.pos++
		case '}':
			d.pos++
			return m
		default:
			d.bad = true
			return nil
		}
	}
	return nil
}

func (d *treeDecoder) array(depth int) any {
	if depth > maxTreeDepth {
		d.bad = true
		return nil
	}
	d.pos++ // '['
	l := []any{}
	d.ws()
	if d.pos < len(d.data) && d.data[d.pos] == ']' {
		d.pos++
		return l
	}
	for !d.bad {
		d.ws()
		l = append(l, d.value(depth))
		d.ws()
		if d.pos >= len(d.data) {
			d.bad = true
			return nil
		}
		switch d.data[d.pos] {
		case ',':
			d.pos++
		case ']':
			d.pos++
			return l
		default:
			d.bad = true
			return nil
		}
	}
	return nil
}

// number validates the JSON number grammar and keeps the spelling.
func (d *treeDecoder) number() any {
	start := d.pos
	digits := func() int {
		n := 0
		for d.pos < len(d.data) && d.data[d.pos] >= '0' && d.data[d.pos] <= '9' {
			d.pos++
			n++
		}
		return n
	}
	if d.data[d.pos] == '-' {
		d.pos++
	}
	if d.pos < len(d.data) && d.data[d.pos] == '0' {
		d.pos++
	} else if digits() == 0 {
		d.bad = true
		return nil
	}
	if d.pos < len(d.data) && d.data[d.pos] == '.' {
		d.pos++
		if digits() == 0 {
			d.bad = true
			return nil
		}
	}
	if d.pos < len(d.data) && (d.data[d.pos] == 'e' || d.data[d.pos] == 'E') {
		d.pos++
		if d.pos < len(d.data) && (d.data[d.pos] == '+' || d.data[d.pos] == '-') {
			d.pos++
		}
		if digits() == 0 {
			d.bad = true
			return nil
		}
	}
	return json.Number(d.data[start:d.pos])
}

// str reads a string the way encoding/json unquotes it: invalid UTF-8 and
// lone surrogates become U+FFFD.
func (d *treeDecoder) str() string {
	out, next, ok := jsonstr.Read(d.data, d.pos+1) // d.pos is at the opening quote
	d.pos = next
	if !ok {
		d.bad = true
		return ""
	}
	return string(out)
}
