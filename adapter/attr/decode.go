package attr

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"strconv"
	"strings"

	"github.com/dualread/dualread/internal/jsonstr"
)

// Nesting limits, measured against DynamoDB Local: a standalone AttributeValue
// (an ExpressionAttributeValues entry) may hold 32 nested M/L containers; an
// item attribute only 31, because the item itself is one of the 32 levels.
const (
	MaxNestingDepth     = 32
	maxItemNestingDepth = MaxNestingDepth - 1
)

// UnmarshalJSON parses and validates one AttributeValue. Problems DynamoDB
// reports as ValidationException are *ValidationError; wrong JSON types and
// bad base64 are *SerializationError (those win over validation problems, as
// in DynamoDB, which deserializes the whole request before validating it).
// A JSON null yields a *ValidationError with MsgNullValue; callers that know
// the attribute name should use NullValueMsg (Item.UnmarshalJSON does).
func (v *Value) UnmarshalJSON(b []byte) error {
	d := decoder{data: b}
	d.skipWS()
	if d.peek() == 'n' {
		if !d.literal("null") || !d.atEnd() {
			return d.err()
		}
		return &ValidationError{MsgNullValue}
	}
	val, verr := d.value(MaxNestingDepth)
	if d.serr == nil && !d.atEnd() {
		d.fail(msgMalformedJSON)
	}
	if d.serr != nil {
		return d.serr
	}
	if verr != nil {
		return verr
	}
	*v = val
	return nil
}

// UnmarshalJSON parses an item (or key): a JSON object of AttributeValues,
// validated as DynamoDB validates an Item, including the item nesting limit,
// "Empty attribute name" and "<name> is null". JSON null leaves the item nil
// (the member is absent). Use map[string]Value for ExpressionAttributeValues,
// whose values have the standalone limits and messages.
func (it *Item) UnmarshalJSON(b []byte) error {
	d := decoder{data: b}
	d.skipWS()
	switch d.peek() {
	case 'n':
		if !d.literal("null") || !d.atEnd() {
			return d.err()
		}
		*it = nil
		return nil
	case '{':
	case '[':
		return &SerializationError{msgCollectionMap}
	default:
		d.scalarShape(msgUnexpectedField)
		return d.err()
	}
	m, verr := d.valueMap(maxItemNestingDepth)
	if d.serr == nil && !d.atEnd() {
		d.fail(msgMalformedJSON)
	}
	if d.serr != nil {
		return d.serr
	}
	if verr != nil {
		return verr
	}
	*it = m
	return nil
}

// decoder is a hand-written JSON reader for AttributeValues: it gives the
// exact DynamoDB message for each shape problem and avoids reflection, since
// stored items are decoded on every read.
type decoder struct {
	data []byte
	pos  int
	serr *SerializationError // first serialization problem; decoding stops there
}

func (d *decoder) fail(msg string) {
	if d.serr == nil {
		d.serr = &SerializationError{msg}
	}
}

func (d *decoder) err() error {
	if d.serr == nil {
		d.fail(msgMalformedJSON)
	}
	return d.serr
}

func (d *decoder) skipWS() {
	for d.pos < len(d.data) {
		switch d.data[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return
		}
	}
}

func (d *decoder) peek() byte {
	if d.pos < len(d.data) {
		return d.data[d.pos]
	}
	return 0
}

func (d *decoder) atEnd() bool {
	d.skipWS()
	return d.pos == len(d.data)
}

func (d *decoder) literal(lit string) bool {
	if bytes.HasPrefix(d.data[d.pos:], []byte(lit)) {
		d.pos += len(lit)
		return true
	}
	d.fail(msgMalformedJSON)
	return false
}

// expect consumes c after optional whitespace.
func (d *decoder) expect(c byte) bool {
	d.skipWS()
	if d.peek() != c {
		d.fail(msgMalformedJSON)
		return false
	}
	d.pos++
	return true
}

// number consumes a JSON number and reports whether it has a fraction or
// exponent (AWS says DECIMAL_VALUE for those, NUMBER_VALUE for integers).
func (d *decoder) number() (decimal bool) {
	i := d.pos
	if i < len(d.data) && d.data[i] == '-' {
		i++
	}
	digits := 0
	for i < len(d.data) {
		c := d.data[i]
		switch {
		case c >= '0' && c <= '9':
			digits++
		case c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-':
			decimal = true
		default:
			goto done
		}
		i++
	}
done:
	if digits == 0 {
		d.fail(msgMalformedJSON)
	}
	d.pos = i
	return decimal
}

// scalarShape reports a JSON scalar found where a structure or list was due.
func (d *decoder) scalarShape(msg string) {
	switch c := d.peek(); {
	case c == '"' || c == 't' || c == 'f' || c == '-' || (c >= '0' && c <= '9'):
		d.fail(msg)
	default:
		d.fail(msgMalformedJSON)
	}
}

// str reads a JSON string. The result aliases d.data when the string has no
// escapes, so callers copy it (string(b)) before keeping it.
func (d *decoder) str() []byte {
	if d.peek() != '"' {
		d.fail(msgMalformedJSON)
		return nil
	}
	out, next, ok := jsonstr.Read(d.data, d.pos+1)
	d.pos = next
	if !ok {
		d.fail(msgMalformedJSON)
		return nil
	}
	return out
}

// skip consumes any JSON value (an unknown member, or a subtree already
// rejected for nesting). It is rare, so it leans on encoding/json, which also
// bounds nesting depth without recursion limits of ours.
func (d *decoder) skip() {
	dec := json.NewDecoder(bytes.NewReader(d.data[d.pos:]))
	var raw json.RawMessage
	if err := dec.Decode(&raw); err != nil {
		d.fail(msgMalformedJSON)
		return
	}
	d.pos += int(dec.InputOffset())
}

// fieldOrder is the order in which DynamoDB validates the members of one
// AttributeValue: {"SS":["a","a"],"NS":[]} reports the SS duplicate.
var fieldOrder = [...]Type{S, N, B, SS, NS, BS, M, L, NULL, BOOL}

// value reads one AttributeValue object. budget is how many more M/L levels
// may open here. A validation problem is returned, not raised, so decoding
// goes on and a later serialization problem still wins.
func (d *decoder) value(budget int) (Value, *ValidationError) {
	d.skipWS()
	switch d.peek() {
	case '{':
		d.pos++
	case '[':
		d.fail(msgCollectionValue)
		return Value{}, nil
	default:
		d.scalarShape(msgUnexpectedValue)
		return Value{}, nil
	}
	var (
		sV, nV       string
		bV           []byte
		boolV, nullV bool
		ssV, nsV     []string
		bsV          [][]byte
		mV           map[string]Value
		lV           []Value
		present      [BS + 1]bool
		errs         [BS + 1]*ValidationError
	)
	for first := true; ; first = false {
		d.skipWS()
		if first && d.peek() == '}' {
			d.pos++
			break
		}
		key := d.str()
		if d.serr != nil || !d.expect(':') {
			return Value{}, nil
		}
		d.skipWS()
		t := memberType(key)
		switch {
		case t == TypeInvalid:
			d.skip() // unknown members are ignored, as DynamoDB does
		case d.peek() == 'n':
			// null is an absent member; of duplicate members the last wins, as in DynamoDB.
			if !d.literal("null") {
				return Value{}, nil
			}
			present[t], errs[t] = false, nil
		default:
			present[t], errs[t] = true, nil
			switch t {
			case S:
				sV = string(d.stringMember())
			case N:
				raw := d.stringMember()
				if d.serr == nil {
					c, err := CanonicalNumber(string(raw))
					if err != nil {
						errs[t] = &ValidationError{err.(*NumberError).Msg}
					}
					nV = c
				}
			case B:
				bV = d.blobMember()
			case BOOL:
				boolV = d.boolMember()
			case NULL:
				nullV = d.boolMember()
				if !nullV {
					errs[t] = &ValidationError{MsgNullNotTrue}
				}
			case SS:
				ssV, errs[t] = d.stringSet()
			case NS:
				nsV, errs[t] = d.numberSet()
			case BS:
				bsV, errs[t] = d.binarySet()
			case M, L:
				if budget == 0 {
					d.skip()
					errs[t] = &ValidationError{MsgNesting}
				} else if t == M {
					mV, errs[t] = d.mapMember(budget - 1)
				} else {
					lV, errs[t] = d.listMember(budget - 1)
				}
			}
		}
		if d.serr != nil {
			return Value{}, nil
		}
		d.skipWS()
		if d.peek() == ',' {
			d.pos++
			continue
		}
		if !d.expect('}') {
			return Value{}, nil
		}
		break
	}
	count, which := 0, TypeInvalid
	for _, t := range fieldOrder {
		if errs[t] != nil {
			return Value{}, errs[t]
		}
		if present[t] {
			count++
			which = t
		}
	}
	switch {
	case count == 0:
		return Value{}, &ValidationError{MsgEmptyValue}
	case count > 1:
		return Value{}, &ValidationError{MsgMultipleTypes}
	}
	switch which {
	case S:
		return Str(sV), nil
	case N:
		return numOf(nV), nil
	case B:
		if bV == nil {
			bV = []byte{}
		}
		return Bin(bV), nil
	case BOOL:
		return Bool(boolV), nil
	case NULL:
		return Null(), nil
	case SS:
		return StrSet(ssV), nil
	case NS:
		return numSetOf(nsV), nil
	case BS:
		return BinSet(bsV), nil
	case M:
		return Map(mV), nil
	default:
		return List(lV), nil
	}
}

// memberType maps an AttributeValue member name to its type (case-sensitive,
// as DynamoDB: {"s":"a"} is an empty AttributeValue).
func memberType(key []byte) Type {
	switch string(key) { // no allocation: the compiler compares in place
	case "S":
		return S
	case "N":
		return N
	case "B":
		return B
	case "BOOL":
		return BOOL
	case "NULL":
		return NULL
	case "M":
		return M
	case "L":
		return L
	case "SS":
		return SS
	case "NS":
		return NS
	case "BS":
		return BS
	}
	return TypeInvalid
}

// stringMember reads a member of type String (S, N, SS/NS elements).
func (d *decoder) stringMember() []byte {
	switch c := d.peek(); {
	case c == '"':
		return d.str()
	case c == 't':
		d.fail("TRUE_VALUE cannot be converted to String")
	case c == 'f':
		d.fail("FALSE_VALUE cannot be converted to String")
	case c == '-' || (c >= '0' && c <= '9'):
		if d.number() {
			d.fail("DECIMAL_VALUE cannot be converted to String")
		} else {
			d.fail("NUMBER_VALUE cannot be converted to String")
		}
	case c == '[':
		d.fail(msgCollectionString)
	case c == '{':
		d.fail(msgStructNotExpected)
	default:
		d.fail(msgMalformedJSON)
	}
	return nil
}

// boolMember reads a Boolean member (BOOL, NULL). Like AWS it takes the
// strings "true"/"false" in any case.
func (d *decoder) boolMember() bool {
	switch c := d.peek(); {
	case c == 't':
		d.literal("true")
		return true
	case c == 'f':
		d.literal("false")
		return false
	case c == '"':
		s := d.str()
		switch {
		case d.serr != nil:
		case strings.EqualFold(string(s), "true"):
			return true
		case strings.EqualFold(string(s), "false"):
			return false
		default:
			d.fail(msgBadBoolToken)
		}
	case c == '-' || (c >= '0' && c <= '9'):
		if d.number() {
			d.fail("DECIMAL_VALUE cannot be converted to Boolean")
		} else {
			d.fail("NUMBER_VALUE cannot be converted to Boolean")
		}
	case c == '[':
		d.fail(msgCollectionBool)
	case c == '{':
		d.fail(msgStructNotExpected)
	default:
		d.fail(msgMalformedJSON)
	}
	return false
}

// blobMember reads a base64 Blob member (B, BS elements) and decodes it.
func (d *decoder) blobMember() []byte {
	switch c := d.peek(); {
	case c == '"':
		s := d.str()
		if d.serr != nil {
			return nil
		}
		return d.base64(s)
	case c == 't' || c == 'f' || c == '-' || (c >= '0' && c <= '9'):
		d.fail(msgNotBase64)
	case c == '[':
		d.fail(msgCollectionBytes)
	case c == '{':
		d.fail(msgStructNotExpected)
	default:
		d.fail(msgMalformedJSON)
	}
	return nil
}

// base64 decodes standard padded base64 strictly, as AWS does: the length
// must be a multiple of 4 and unused bits of the last character zero.
// (DynamoDB Local answers InternalFailure for any bad base64.)
func (d *decoder) base64(s []byte) []byte {
	if len(s)%4 != 0 {
		d.fail("Base64 encoded length is expected a multiple of 4 bytes but found: " + strconv.Itoa(len(s)))
		return nil
	}
	// Go's decoder skips \r and \n; AWS's does not.
	if i := bytes.IndexAny(s, "\r\n"); i >= 0 {
		d.fail("Invalid Base64 character: " + strconv.QuoteRune(rune(s[i])))
		return nil
	}
	out := make([]byte, base64.StdEncoding.DecodedLen(len(s)))
	n, err := base64.StdEncoding.Strict().Decode(out, s)
	if err == nil {
		return out[:n]
	}
	if _, lerr := base64.StdEncoding.Decode(out, s); lerr == nil {
		d.fail(msgBase64LastChar) // only the strict padding-bits check failed
		return nil
	}
	// AWS's wording for a bad character is not known; name the character.
	bad := s[0]
	if ce, ok := err.(base64.CorruptInputError); ok && int(ce) < len(s) {
		bad = s[ce]
	}
	d.fail("Invalid Base64 character: " + strconv.QuoteRune(rune(bad)))
	return nil
}

// listStart opens a List member (SS, NS, BS, L); false when it is not an array.
func (d *decoder) listStart() bool {
	switch c := d.peek(); {
	case c == '[':
		d.pos++
		return true
	case c == '{':
		d.fail(msgStructNotExpected)
	default:
		d.scalarShape(msgUnexpectedField)
	}
	return false
}

// elements calls each for every array element after listStart, with the
// decoder on the element (whitespace skipped); each reports false to stop.
func (d *decoder) elements(each func() bool) {
	d.skipWS()
	if d.peek() == ']' {
		d.pos++
		return
	}
	for {
		d.skipWS()
		if !each() || d.serr != nil {
			return
		}
		d.skipWS()
		switch d.peek() {
		case ',':
			d.pos++
		case ']':
			d.pos++
			return
		default:
			d.fail(msgMalformedJSON)
			return
		}
	}
}

// null consumes a JSON null element if one is next.
func (d *decoder) null() bool {
	if d.peek() == 'n' {
		return d.literal("null")
	}
	return false
}

func (d *decoder) stringSet() ([]string, *ValidationError) {
	if !d.listStart() {
		return nil, nil
	}
	var out []string
	hasNull := false
	d.elements(func() bool {
		if d.null() {
			hasNull = true
			return true
		}
		s := d.stringMember()
		out = append(out, string(s))
		return true
	})
	switch {
	case hasNull:
		return nil, &ValidationError{MsgNullInSS}
	case len(out) == 0:
		return nil, &ValidationError{MsgEmptySS}
	case hasDuplicate(out):
		return nil, &ValidationError{DuplicateSSMsg(out)}
	}
	return out, nil
}

// numberSet checks elements in order, like DynamoDB: ["1","1","x"] reports the
// duplicate, ["x","1","1"] the bad number. Duplicates compare numerically
// (canonical forms), so "1" and "1.0" collide.
func (d *decoder) numberSet() ([]string, *ValidationError) {
	if !d.listStart() {
		return nil, nil
	}
	var out []string
	var seen map[string]struct{} // only for large sets
	var verr *ValidationError
	d.elements(func() bool {
		if d.null() {
			if verr == nil {
				verr = &ValidationError{MsgNotANumber}
			}
			return true
		}
		raw := d.stringMember()
		if d.serr != nil || verr != nil {
			return true
		}
		c, err := CanonicalNumber(string(raw))
		if err != nil {
			verr = &ValidationError{err.(*NumberError).Msg}
			return true
		}
		dup := false
		if len(out) < 16 {
			dup = contains(out, c)
		} else {
			if seen == nil {
				seen = make(map[string]struct{}, 2*len(out))
				for _, x := range out {
					seen[x] = struct{}{}
				}
			}
			_, dup = seen[c]
			seen[c] = struct{}{}
		}
		if dup {
			verr = &ValidationError{MsgDuplicateNS}
			return true
		}
		out = append(out, c)
		return true
	})
	switch {
	case verr != nil:
		return nil, verr
	case len(out) == 0:
		return nil, &ValidationError{MsgEmptyNS}
	}
	return out, nil
}

func (d *decoder) binarySet() ([][]byte, *ValidationError) {
	if !d.listStart() {
		return nil, nil
	}
	var out [][]byte
	hasNull := false
	d.elements(func() bool {
		if d.null() {
			hasNull = true
			return true
		}
		b := d.blobMember()
		if b == nil {
			b = []byte{}
		}
		out = append(out, b)
		return true
	})
	switch {
	case hasNull:
		// DynamoDB Local answers InternalFailure; AWS's message is not known.
		return nil, &ValidationError{"One or more parameter values were invalid: Binary sets may not contain null or empty values"}
	case len(out) == 0:
		return nil, &ValidationError{MsgEmptyBS}
	case hasDuplicateBytes(out):
		return nil, &ValidationError{MsgDuplicateBS}
	}
	return out, nil
}

func (d *decoder) listMember(budget int) ([]Value, *ValidationError) {
	if !d.listStart() {
		return nil, nil
	}
	out := []Value{}
	var verr *ValidationError
	d.elements(func() bool {
		if d.null() {
			if verr == nil {
				verr = &ValidationError{MsgNullValue}
			}
			return true
		}
		v, err := d.value(budget)
		if verr == nil {
			verr = err
		}
		out = append(out, v)
		return true
	})
	if verr != nil {
		return nil, verr
	}
	return out, nil
}

func (d *decoder) mapMember(budget int) (map[string]Value, *ValidationError) {
	switch c := d.peek(); {
	case c == '{':
		return d.valueMap(budget)
	case c == '[':
		d.fail(msgCollectionMap)
	default:
		d.scalarShape(msgUnexpectedField)
	}
	return nil, nil
}

// valueMap reads {"name": AttributeValue, ...} (an M or a whole item).
func (d *decoder) valueMap(budget int) (map[string]Value, *ValidationError) {
	if !d.expect('{') {
		return nil, nil
	}
	out := map[string]Value{}
	var verr *ValidationError
	for first := true; ; first = false {
		d.skipWS()
		if first && d.peek() == '}' {
			d.pos++
			break
		}
		key := d.str()
		if d.serr != nil || !d.expect(':') {
			return nil, nil
		}
		d.skipWS()
		if len(key) == 0 && verr == nil {
			verr = &ValidationError{MsgEmptyName}
		}
		if d.null() {
			if verr == nil {
				verr = &ValidationError{NullValueMsg(string(key))}
			}
		} else {
			v, err := d.value(budget)
			if verr == nil {
				verr = err
			}
			if verr == nil {
				out[string(key)] = v
			}
		}
		if d.serr != nil {
			return nil, nil
		}
		d.skipWS()
		if d.peek() == ',' {
			d.pos++
			continue
		}
		if !d.expect('}') {
			return nil, nil
		}
		break
	}
	if verr != nil {
		return nil, verr
	}
	return out, nil
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// hasDuplicate: quadratic for small sets (no allocation), a map beyond.
func hasDuplicate(ss []string) bool {
	if len(ss) <= 16 {
		for i := range ss {
			if contains(ss[:i], ss[i]) {
				return true
			}
		}
		return false
	}
	seen := make(map[string]struct{}, len(ss))
	for _, s := range ss {
		if _, ok := seen[s]; ok {
			return true
		}
		seen[s] = struct{}{}
	}
	return false
}

func hasDuplicateBytes(bs [][]byte) bool {
	if len(bs) <= 16 {
		for i := range bs {
			for j := range i {
				if bytes.Equal(bs[i], bs[j]) {
					return true
				}
			}
		}
		return false
	}
	seen := make(map[string]struct{}, len(bs))
	for _, b := range bs {
		if _, ok := seen[string(b)]; ok {
			return true
		}
		seen[string(b)] = struct{}{}
	}
	return false
}
