package btstore

import (
	"bytes"
	"errors"
	"testing"
)

func TestEntriesRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		es   []*entry
	}{
		{"none", nil},
		{"one put", []*entry{{space: "s", key: []byte("k"), op: opPut, ver: 7, value: []byte("v")}}},
		{"binary and empty", []*entry{
			{space: "a_1", key: []byte{0, 0xff, 0}, op: opRead, ver: 0},
			{space: "b", key: []byte{0xff}, op: opDelete, ver: 1 << 62},
			{space: "b", key: []byte("x"), op: opPut, ver: 1, value: []byte{}},
			{space: "c", key: bytes.Repeat([]byte{1}, 4096), op: opPut, ver: 300, value: bytes.Repeat([]byte{2}, 1<<16)},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := decodeEntries(encodeEntries(tc.es))
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tc.es) {
				t.Fatalf("%d entries, want %d", len(got), len(tc.es))
			}
			for i, e := range tc.es {
				g := got[i]
				if g.space != e.space || !bytes.Equal(g.key, e.key) || g.op != e.op || g.ver != e.ver || !bytes.Equal(g.value, e.value) {
					t.Errorf("entry %d = %+v, want %+v", i, g, e)
				}
			}
		})
	}
}

func TestDecodeEntriesRejects(t *testing.T) {
	good := encodeEntries([]*entry{{space: "s", key: []byte("k"), op: opPut, ver: 1, value: []byte("v")}})
	tests := map[string][]byte{
		"empty":          nil,
		"wrong format":   append([]byte{9}, good[1:]...),
		"truncated":      good[:len(good)-1],
		"trailing bytes": append(bytes.Clone(good), 0),
		"bad op":         encodeEntries([]*entry{{space: "s", key: []byte("k"), op: 7}}),
		"huge count":     {recordFormat, 0xff, 0xff, 0xff, 0xff, 0x0f},
	}
	for name, b := range tests {
		if _, err := decodeEntries(b); !errors.Is(err, errBadRecord) {
			t.Errorf("%s: err = %v, want errBadRecord", name, err)
		}
	}
}

func FuzzDecodeEntries(f *testing.F) {
	f.Add(encodeEntries(nil))
	f.Add(encodeEntries([]*entry{{space: "s", key: []byte{0, 0xff}, op: opPut, ver: 3, value: []byte("v")}}))
	f.Add(encodeEntries([]*entry{{space: "a", key: []byte("k"), op: opRead}, {space: "b", key: []byte("k"), op: opDelete, ver: 9}}))
	f.Add([]byte{recordFormat, 0x80})
	f.Fuzz(func(t *testing.T, b []byte) {
		es, err := decodeEntries(b)
		if err != nil {
			return
		}
		// Whatever decodes must re-encode to the same bytes (one encoding per record).
		if again := encodeEntries(es); !bytes.Equal(again, b) {
			t.Fatalf("re-encoding %x gave %x", b, again)
		}
	})
}
