package diff

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
)

// The fast path (decodeTree, itemFromTree, parseSide) must give exactly what
// the reference path (encoding/json, attr's decoder, parseSideSlow) gives,
// so that making the audit faster cannot change a verdict.

var treeSeeds = []string{
	`{}`, `null`, `[]`, `{"a":[1,-0.5e+3,true,false,null,"x\u00e9\ud83d\ude00\ud800z\n"]}`,
	`{"a":1,"a":2}`, `{"a" : { "b" : [ ] } }`, "\"\xff\xfe\"", `"\ud800\u0041"`, `01`, `1.`, `{"a":}`,
	`{"Item":{"pk":{"S":"a"},"n":{"N":"1.50"},"s":{"SS":["b","a"]},"ns":{"NS":["2","1.0"]},"b":{"B":"AQ=="}}}`,
}

func FuzzDecodeTree(f *testing.F) {
	for _, s := range treeSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got, ok := decodeTree(b)
		d := json.NewDecoder(bytes.NewReader(b))
		d.UseNumber()
		var want any
		err := d.Decode(&want)
		if err == nil && d.More() {
			err = errTrailing
		}
		if !ok {
			return // the caller takes encoding/json itself
		}
		if err != nil || d.InputOffset() != int64(len(bytes.TrimRight(b, " \t\r\n"))) {
			t.Fatalf("decodeTree accepted %q, encoding/json: %v", b, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("decodeTree(%q) = %#v, encoding/json %#v", b, got, want)
		}
	})
}

var errTrailing = jsonError("trailing data")

type jsonError string

func (e jsonError) Error() string { return string(e) }

var itemSeeds = []string{
	`{"pk":{"S":"a"},"n":{"N":"1.50"},"s":{"SS":["b","a"]},"ns":{"NS":["2","1.0"]},"b":{"B":"AQ=="},"bs":{"BS":["Ag==","AQ=="]}}`,
	`{"l":{"L":[{"N":"01"},{"BOOL":"TRUE"},{"NULL":true},{"M":{"x":{"S":"y","junk":1}}}]}}`,
	`{"ss":{"SS":["a","a"]}}`, `{"ns":{"NS":["1","1.0"]}}`, `{"n":{"N":"x"}}`, `{"":{"S":"a"}}`, `{"a":null}`,
	`{"a":{"S":"x","N":"1"}}`, `{"a":{"S":null,"N":"1"}}`, `{"a":{}}`, `{"b":{"B":"AR=="}}`, `{"b":{"B":"AQ"}}`,
	`{"n":{"NULL":false}}`, `{"m":{"M":{"a":{"M":{"b":{"L":[]}}}}}}`, `null`, `[]`, `"x"`, `{"s":{"S":1}}`,
}

func FuzzItemFromTree(f *testing.F) {
	for _, s := range itemSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		tree, ok := decodeTree(b)
		if !ok {
			return
		}
		if got, want := itemFromTree(tree), parseItem(b); !reflect.DeepEqual(got, want) {
			t.Fatalf("item %q: fast %#v, reference %#v", b, got, want)
		}
	})
}

func FuzzParseSide(f *testing.F) {
	ops := []string{"GetItem", "Query", "Scan", "BatchGetItem", "TransactGetItems"}
	bodies := []string{
		`{"Item":{"pk":{"S":"a"},"n":{"N":"1.50"}},"ConsumedCapacity":{"CapacityUnits":1}}`,
		`{"Items":[{"pk":{"S":"a"}},null,{"pk":{"S":"b"},"s":{"SS":["b","a"]}}],"Count":2,"LastEvaluatedKey":{"pk":{"S":"b"}}}`,
		`{"Items":"x","LastEvaluatedKey":null}`,
		`{"Responses":{"t":[{"pk":{"S":"a"}}],"u":null},"UnprocessedKeys":{"t":{"Keys":[{"pk":{"S":"b"}}]},"u":null}}`,
		`{"UnprocessedKeys":{"t":{"keys":[{"pk":{"S":"b"}}]}}}`, `{"UnprocessedKeys":{"t":[]}}`,
		`{"Responses":[{"Item":{"pk":{"B":"AQ=="}}},{},null,{"Item":null},{"item":{}}]}`, `{"Responses":[1]}`,
		`null`, `[]`, `not json`, `{"a":1,"a":2}`,
	}
	for _, op := range ops {
		for _, b := range bodies {
			f.Add(op, []byte(b))
		}
	}
	const batchReq = `{"RequestItems":{"t":{"Keys":[{"pk":{"S":"a"}}]}}}`
	f.Fuzz(func(t *testing.T, op string, b []byte) {
		rec := record(op, batchReq, pksk, okb(b), okb(b))
		colls := collectionsFor(rec)
		got, want := parseSide(op, rec.GetPrimary(), colls), parseSideSlow(op, rec.GetPrimary(), colls)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%s %q:\nfast      %#v\nreference %#v", op, b, got, want)
		}
	})
}
