package attr

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// Valid wire values and how they render back (numbers canonical, escapes
// normalised). Number forms are DynamoDB Local's GetItem answers.
func TestUnmarshalValid(t *testing.T) {
	cases := []struct{ in, out string }{
		{`{"S":"a"}`, `{"S":"a"}`},
		{`{"S":""}`, `{"S":""}`},
		{`{"S":"a\u0001\t<>&\u00e9\"\\\/\ud83d\ude00"}`, `{"S":"a\u0001\t<>&é\"\\/😀"}`},
		{`{"N":"1.0"}`, `{"N":"1"}`},
		{`{"N":"-0"}`, `{"N":"0"}`},
		{`{"N":"1e2"}`, `{"N":"100"}`},
		{`{"N":"0.10"}`, `{"N":"0.1"}`},
		{`{"N":"1E-130"}`, `{"N":"0.` + strings.Repeat("0", 129) + `1"}`},
		{`{"N":"9.9999999999999999999999999999999999999E+125"}`, `{"N":"` + strings.Repeat("9", 38) + strings.Repeat("0", 88) + `"}`},
		{`{"N":"00012"}`, `{"N":"12"}`},
		{`{"N":"+5"}`, `{"N":"5"}`},
		{`{"N":".5"}`, `{"N":"0.5"}`},
		{`{"N":"5."}`, `{"N":"5"}`},
		{`{"N":"-.5"}`, `{"N":"-0.5"}`},
		{`{"N":"0.0e-500"}`, `{"N":"0"}`},
		{`{"N":"10e-131"}`, `{"N":"0.` + strings.Repeat("0", 129) + `1"}`},
		{`{"N":"1e0000000000000000000000002"}`, `{"N":"100"}`},
		{`{"N":"1234567890123456789012345678901234567800000"}`, `{"N":"1234567890123456789012345678901234567800000"}`},
		{`{"N":"1.00000000000000000000000000000000000000000"}`, `{"N":"1"}`},
		{`{"B":"AQI="}`, `{"B":"AQI="}`},
		{`{"B":""}`, `{"B":""}`},
		{`{"BOOL":true}`, `{"BOOL":true}`},
		{`{"BOOL":false}`, `{"BOOL":false}`},
		{`{"BOOL":"TRUE"}`, `{"BOOL":true}`},
		{`{"NULL":true}`, `{"NULL":true}`},
		{`{"NULL":true,"S":null}`, `{"NULL":true}`},
		{`{"M":{}}`, `{"M":{}}`},
		{`{"M":{"b":{"N":"2"},"a":{"S":"x"}}}`, `{"M":{"a":{"S":"x"},"b":{"N":"2"}}}`},
		{`{"L":[]}`, `{"L":[]}`},
		{`{"L":[{"S":"a"},{"L":[{"NULL":true}]}]}`, `{"L":[{"S":"a"},{"L":[{"NULL":true}]}]}`},
		{`{"SS":["b","a",""]}`, `{"SS":["b","a",""]}`},
		{`{"NS":["3","1.50","-2"]}`, `{"NS":["3","1.5","-2"]}`},
		{`{"BS":["AQ==","AA==",""]}`, `{"BS":["AQ==","AA==",""]}`},
		{` { "X" : [1,{"a":null}], "S" : "a" } `, `{"S":"a"}`}, // unknown members ignored
		{`{"S":"a","S":"b"}`, `{"S":"b"}`},                     // last duplicate wins
	}
	for _, c := range cases {
		var v Value
		if err := json.Unmarshal([]byte(c.in), &v); err != nil {
			t.Errorf("%s: %v", c.in, err)
			continue
		}
		got, err := v.MarshalJSON() // json.Marshal would add HTML escapes
		if err != nil {
			t.Errorf("%s: marshal: %v", c.in, err)
			continue
		}
		if string(got) != c.out {
			t.Errorf("%s: got %s want %s", c.in, got, c.out)
		}
	}
}

func nest(n int, kind, inner string) string {
	v := inner
	for range n {
		if kind == "M" {
			v = `{"M":{"a":` + v + `}}`
		} else {
			v = `{"L":[` + v + `]}`
		}
	}
	return v
}

// Invalid values: messages are DynamoDB Local's (validation) or AWS's
// (serialization; DynamoDB Local coerces or fails internally there).
func TestUnmarshalErrors(t *testing.T) {
	const V, Z = "validation", "serialization"
	cases := []struct{ in, kind, msg string }{
		{`{"S":"a","N":"1"}`, V, MsgMultipleTypes},
		{`{"BOOL":true,"NULL":true}`, V, MsgMultipleTypes},
		{`{}`, V, MsgEmptyValue},
		{`{"X":"a"}`, V, MsgEmptyValue},
		{`{"s":"a"}`, V, MsgEmptyValue},
		{`{"S":null}`, V, MsgEmptyValue},
		{`{"L":null}`, V, MsgEmptyValue},
		{`null`, V, MsgNullValue},
		{`{"NULL":false}`, V, MsgNullNotTrue},
		{`{"NULL":false,"S":"a"}`, V, MsgNullNotTrue},
		{`{"SS":[]}`, V, MsgEmptySS},
		{`{"NS":[]}`, V, MsgEmptyNS},
		{`{"BS":[]}`, V, MsgEmptyBS},
		{`{"SS":["a","a"]}`, V, "One or more parameter values were invalid: Input collection [a, a] contains duplicates"},
		{`{"SS":["b","a","b"]}`, V, "One or more parameter values were invalid: Input collection [b, a, b] contains duplicates"},
		{`{"SS":["a",null]}`, V, MsgNullInSS},
		{`{"NS":["1","1.0"]}`, V, MsgDuplicateNS},
		{`{"NS":["1","2","1.00"]}`, V, MsgDuplicateNS},
		{`{"NS":["1","1","abc"]}`, V, MsgDuplicateNS},
		{`{"NS":["abc","1","1"]}`, V, MsgNotANumber},
		{`{"NS":["1",null]}`, V, MsgNotANumber},
		{`{"NS":[""]}`, V, MsgNotANumber},
		{`{"BS":["AA==","AA=="]}`, V, MsgDuplicateBS},
		{`{"BS":["",""]}`, V, MsgDuplicateBS},
		{`{"N":"abc"}`, V, MsgNotANumber},
		{`{"N":""}`, V, MsgNotANumber},
		{`{"N":"Infinity"}`, V, MsgNotANumber},
		{`{"N":"NaN"}`, V, MsgNotANumber},
		{`{"N":" 1"}`, V, MsgNotANumber},
		{`{"N":"0x10"}`, V, MsgNotANumber},
		{`{"N":"1e"}`, V, MsgNotANumber},
		{`{"N":"."}`, V, MsgNotANumber},
		{`{"N":"1e2147483648"}`, V, MsgNotANumber},
		{`{"N":"0e99999999999999999999"}`, V, MsgNotANumber},
		{`{"N":"1e200"}`, V, MsgOverflow},
		{`{"N":"1E126"}`, V, MsgOverflow},
		{`{"N":"1e2147483647"}`, V, MsgOverflow},
		{`{"N":"1e-200"}`, V, MsgUnderflow},
		{`{"N":"1.5e-131"}`, V, MsgUnderflow},
		{`{"N":"123456789012345678901234567890123456789"}`, V, MsgPrecision},
		{`{"N":"1.23456789012345678901234567890123456789e200"}`, V, MsgPrecision},
		{`{"N":"abc","S":"a"}`, V, MsgNotANumber},
		{`{"SS":["a","a"],"NS":[]}`, V, "One or more parameter values were invalid: Input collection [a, a] contains duplicates"},
		{`{"L":[{}],"S":"a"}`, V, MsgEmptyValue},
		{`{"L":[{}, {"N":"x"}]}`, V, MsgEmptyValue},
		{`{"L":[{"N":"x"},{}]}`, V, MsgNotANumber},
		{`{"L":[null]}`, V, MsgNullValue},
		{`{"M":{"a":null}}`, V, "The supplied Item contains a null AttributeValue: a is null"},
		{`{"M":{"":{"S":"a"}}}`, V, MsgEmptyName},
		{`{"M":{"x":{"SS":[]}}}`, V, MsgEmptySS},
		{nest(33, "M", `{"S":"x"}`), V, MsgNesting},
		{nest(33, "L", `{"S":"x"}`), V, MsgNesting},
		{nest(32, "L", `{"M":{}}`), V, MsgNesting},
		// Serialization problems, AWS's wording.
		{`{"S":5}`, Z, "NUMBER_VALUE cannot be converted to String"},
		{`{"N":5}`, Z, "NUMBER_VALUE cannot be converted to String"},
		{`{"N":1.5}`, Z, "DECIMAL_VALUE cannot be converted to String"},
		{`{"S":true}`, Z, "TRUE_VALUE cannot be converted to String"},
		{`{"S":false}`, Z, "FALSE_VALUE cannot be converted to String"},
		{`{"S":[]}`, Z, msgCollectionString},
		{`{"S":{}}`, Z, msgStructNotExpected},
		{`{"BOOL":"yes"}`, Z, msgBadBoolToken},
		{`{"BOOL":1}`, Z, "NUMBER_VALUE cannot be converted to Boolean"},
		{`{"NULL":1.5}`, Z, "DECIMAL_VALUE cannot be converted to Boolean"},
		{`{"BOOL":[]}`, Z, msgCollectionBool},
		{`{"B":5}`, Z, msgNotBase64},
		{`{"B":[]}`, Z, msgCollectionBytes},
		{`{"B":"not base64!!"}`, Z, "Invalid Base64 character: ' '"},
		{`{"B":"AAA!"}`, Z, "Invalid Base64 character: '!'"},
		{`{"B":"23456"}`, Z, "Base64 encoded length is expected a multiple of 4 bytes but found: 5"},
		{`{"B":"AQI"}`, Z, "Base64 encoded length is expected a multiple of 4 bytes but found: 3"},
		{`{"B":"+/+="}`, Z, msgBase64LastChar},
		{`{"B":"AQJ="}`, Z, msgBase64LastChar},
		{`{"B":"AQ\nI"}`, Z, "Invalid Base64 character: '\\n'"},
		{`{"BS":[true]}`, Z, msgNotBase64},
		{`{"SS":"a"}`, Z, msgUnexpectedField},
		{`{"L":{}}`, Z, msgStructNotExpected},
		{`{"M":[]}`, Z, msgCollectionMap},
		{`{"M":"a"}`, Z, msgUnexpectedField},
		{`"a"`, Z, msgUnexpectedValue},
		{`5`, Z, msgUnexpectedValue},
		{`[]`, Z, msgCollectionValue},
		{`{"L":["a"]}`, Z, msgUnexpectedValue},
		{`{"M":{"a":[]}}`, Z, msgCollectionValue},
		// A serialization problem wins over an earlier validation problem.
		{`{"L":[{}, {"S":5}]}`, Z, "NUMBER_VALUE cannot be converted to String"},
		{`{"SS":[],"B":1}`, Z, msgNotBase64},
		// Broken JSON (only reachable by calling UnmarshalJSON directly).
		{`{"S":"a"`, Z, msgMalformedJSON},
		{`{"S":"a"} x`, Z, msgMalformedJSON},
		{``, Z, msgMalformedJSON},
	}
	for _, c := range cases {
		var v Value
		err := v.UnmarshalJSON([]byte(c.in))
		var ve *ValidationError
		var se *SerializationError
		switch {
		case err == nil:
			t.Errorf("%s: no error", c.in)
		case c.kind == V && errors.As(err, &ve):
			if ve.Msg != c.msg {
				t.Errorf("%s: got %q want %q", c.in, ve.Msg, c.msg)
			}
		case c.kind == Z && errors.As(err, &se):
			if se.Msg != c.msg {
				t.Errorf("%s: got %q want %q", c.in, se.Msg, c.msg)
			}
		default:
			t.Errorf("%s: got %T %v, want %s error", c.in, err, err, c.kind)
		}
	}
}

func TestNestingLimits(t *testing.T) {
	var v Value
	for _, kind := range []string{"M", "L"} {
		if err := v.UnmarshalJSON([]byte(nest(32, kind, `{"S":"x"}`))); err != nil {
			t.Errorf("standalone value with 32 %s levels: %v", kind, err)
		}
		var it Item
		if err := it.UnmarshalJSON([]byte(`{"a":` + nest(31, kind, `{"S":"x"}`) + `}`)); err != nil {
			t.Errorf("item attribute with 31 %s levels: %v", kind, err)
		}
		err := it.UnmarshalJSON([]byte(`{"a":` + nest(32, kind, `{"S":"x"}`) + `}`))
		var ve *ValidationError
		if !errors.As(err, &ve) || ve.Msg != MsgNesting {
			t.Errorf("item attribute with 32 %s levels: %v", kind, err)
		}
	}
}

func TestItemUnmarshal(t *testing.T) {
	var req struct {
		Item                      Item
		Key                       Item
		ExpressionAttributeValues map[string]Value
	}
	body := `{"Item":{"pk":{"S":"k"},"n":{"N":"1.50"}},"ExpressionAttributeValues":{":v":{"BOOL":true}}}`
	if err := json.Unmarshal([]byte(body), &req); err != nil {
		t.Fatal(err)
	}
	if req.Key != nil || len(req.Item) != 2 || req.Item["n"].S != "1.5" || !req.ExpressionAttributeValues[":v"].BOOL {
		t.Fatalf("decoded %+v", req)
	}
	out, _ := json.Marshal(req.Item)
	if string(out) != `{"n":{"N":"1.5"},"pk":{"S":"k"}}` {
		t.Errorf("item marshal: %s", out)
	}
	for in, want := range map[string]string{
		`{"pk":null}`:                MsgNullValue + ": pk is null",
		`{"":{"S":"a"}}`:             MsgEmptyName,
		`{"pk":{"S":"k"},"v":{}}`:    MsgEmptyValue,
		`{"v":{"M":{"a":{"S":5}}}}`:  "NUMBER_VALUE cannot be converted to String",
		`[]`:                         msgCollectionMap,
		`"x"`:                        msgUnexpectedField,
		`{"a":{},"b":{"N":"1e999"}}`: MsgEmptyValue,
	} {
		var it Item
		err := json.Unmarshal([]byte(in), &it)
		if err == nil || err.Error() != want {
			t.Errorf("%s: got %v want %q", in, err, want)
		}
	}
	// A null inside ExpressionAttributeValues reaches Value.UnmarshalJSON.
	err := json.Unmarshal([]byte(`{"ExpressionAttributeValues":{":v":null}}`), &req)
	var ve *ValidationError
	if !errors.As(err, &ve) || ve.Msg != MsgNullValue {
		t.Errorf("null EAV: %v", err)
	}
}

func TestMarshalEscapes(t *testing.T) {
	v := Str("\x00\x1f\"\\\n\r\t\b\f/\u2028é\xff")
	got, _ := v.MarshalJSON()
	want := `{"S":"\u0000\u001F\"\\\n\r\t\b\f/` + "\u2028é" + `\uFFFD"}`
	if string(got) != want {
		t.Errorf("got %s want %s", got, want)
	}
	if !json.Valid(got) {
		t.Error("invalid JSON")
	}
	if _, err := (Value{}).MarshalJSON(); err == nil {
		t.Error("Value with no type marshalled")
	}
}

// FuzzUnmarshalValue: decoding never panics, and whatever decodes re-encodes
// to JSON that decodes to an equal value and the same bytes.
func FuzzUnmarshalValue(f *testing.F) {
	for _, s := range []string{
		`{"S":"a"}`, `{"N":"-1.5e-3"}`, `{"B":"AQI="}`, `{"BOOL":true}`, `{"NULL":true}`,
		`{"M":{"a":{"L":[{"N":"1"},{"SS":["x","y"]}]}}}`, `{"NS":["1","2.5"]}`, `{"BS":["AA=="]}`,
		`{"S":"\ud83d\ude00\u0000"}`, `{"SS":["a","a"]}`, `{"S":5}`, `null`, `{}`, `{"L":[null]}`,
		nest(33, "M", `{"S":"x"}`), `{"B":"+/+="}`, `{"N":"1e2147483647"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var v Value
		if err := v.UnmarshalJSON(data); err != nil {
			var ve *ValidationError
			var se *SerializationError
			if !errors.As(err, &ve) && !errors.As(err, &se) {
				t.Fatalf("unexpected error type %T", err)
			}
			return
		}
		enc, err := v.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		var w Value
		if err := w.UnmarshalJSON(enc); err != nil {
			t.Fatalf("re-decode %s: %v", enc, err)
		}
		if !Equal(v, w) {
			t.Fatalf("round trip changed value: %s", enc)
		}
		if enc2, _ := w.MarshalJSON(); string(enc2) != string(enc) {
			t.Fatalf("encoding not stable: %s vs %s", enc, enc2)
		}
	})
}
