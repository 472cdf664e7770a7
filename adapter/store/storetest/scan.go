package storetest

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/dualread/dualread/adapter/store"
)

// binaryKeys are sorted bytewise and include 0x00 and 0xFF at every position
// that order-preserving key encodings produce.
var binaryKeys = []string{
	"\x00",
	"\x00\x00",
	"\x00\x01",
	"\x00\xff",
	"\x01",
	"a",
	"a\x00",
	"a\x00\x00",
	"a\x01",
	"ab",
	"a\xff",
	"b",
	"\x7f",
	"\x80",
	"\xfe\xff",
	"\xff",
	"\xff\x00",
	"\xff\xff",
	"\xff\xff\xff",
}

func fillBinary(t *testing.T, s store.Store) string {
	t.Helper()
	if !slices.IsSorted(binaryKeys) {
		t.Fatal("binaryKeys not sorted")
	}
	sp := newSpace(t, s)
	kv := make([]string, 0, 2*len(binaryKeys))
	for _, i := range rand.Perm(len(binaryKeys)) { // insertion order must not matter
		kv = append(kv, binaryKeys[i], "v"+binaryKeys[i])
	}
	put(t, s, sp, kv...)
	return sp
}

func reversed(keys []string) []string {
	r := slices.Clone(keys)
	slices.Reverse(r)
	return r
}

// between is the expected answer: keys in [start, end) (nil: unbounded).
func between(start, end *string) []string {
	var out []string
	for _, k := range binaryKeys {
		if (start == nil || k >= *start) && (end == nil || k < *end) {
			out = append(out, k)
		}
	}
	return out
}

func ptr(s string) *string { return &s }

func testScanOrder(t *testing.T, s store.Store) {
	sp := fillBinary(t, s)
	if got := scan(t, s, sp, store.Range{}); !slices.Equal(got, binaryKeys) {
		t.Fatalf("forward scan = %q\nwant %q", got, binaryKeys)
	}
	if got := scan(t, s, sp, store.Range{Reverse: true}); !slices.Equal(got, reversed(binaryKeys)) {
		t.Fatalf("reverse scan = %q\nwant %q", got, reversed(binaryKeys))
	}
	for row, err := range s.Scan(t.Context(), sp, store.Range{Start: []byte("a\x00"), Limit: 1}) {
		if err != nil || string(row.Value) != "va\x00" {
			t.Fatalf("scan row = %q=%q, %v; want value %q", row.Key, row.Value, err, "va\x00")
		}
	}
}

func testScanRanges(t *testing.T, s store.Store) {
	sp := fillBinary(t, s)
	tests := []struct {
		name       string
		start, end *string
		limit      int
	}{
		{"all limit 1", nil, nil, 1},
		{"all limit 5", nil, nil, 5},
		{"all limit beyond", nil, nil, 100},
		{"start only", ptr("a\x00"), nil, 0},
		{"end only", nil, ptr("a\x00"), 0},
		{"start and end", ptr("\x00\x01"), ptr("\xff\x00"), 0},
		{"start and end limit", ptr("\x00\x01"), ptr("\xff\x00"), 3},
		{"prefix a", ptr("a"), ptr("b"), 0},
		{"zero-byte bounds", ptr("\x00"), ptr("\x00\x00"), 0},
		{"0xff tail", ptr("\xff"), nil, 0},
		{"absent start key", ptr("a\x00\x00\x00"), ptr("b\x00"), 0},
		{"empty range", ptr("b"), ptr("b"), 0},
		{"inverted range", ptr("b"), ptr("a"), 0},
	}
	for _, tc := range tests {
		want := between(tc.start, tc.end)
		r := store.Range{Limit: tc.limit}
		if tc.start != nil {
			r.Start = []byte(*tc.start)
		}
		if tc.end != nil {
			r.End = []byte(*tc.end)
		}
		fwd, rev := want, reversed(want)
		if tc.limit > 0 {
			fwd, rev = fwd[:min(tc.limit, len(fwd))], rev[:min(tc.limit, len(rev))]
		}
		if got := scan(t, s, sp, r); !slices.Equal(got, fwd) {
			t.Errorf("%s forward: got %q\nwant %q", tc.name, got, fwd)
		}
		r.Reverse = true
		if got := scan(t, s, sp, r); !slices.Equal(got, rev) {
			t.Errorf("%s reverse: got %q\nwant %q", tc.name, got, rev)
		}
	}
}

// testScanSkipsDeleted checks that deleted keys are never returned and do
// not count against Limit, even when they outnumber live rows.
func testScanSkipsDeleted(t *testing.T, s store.Store) {
	sp := newSpace(t, s)
	var kv, dead []string
	for i := range 40 {
		k := string([]byte{'k', byte(i)})
		kv = append(kv, k, "v")
		if i%5 != 0 {
			dead = append(dead, k)
		}
	}
	put(t, s, sp, kv...)
	del(t, s, sp, dead...)
	live := []string{"k\x00", "k\x05", "k\x0a", "k\x0f", "k\x14", "k\x19", "k\x1e", "k\x23"}
	for _, limit := range []int{0, 1, 3, 8, 9} {
		want := live
		if limit > 0 {
			want = live[:min(limit, len(live))]
		}
		if got := scan(t, s, sp, store.Range{Limit: limit}); !slices.Equal(got, want) {
			t.Errorf("limit %d forward: got %q, want %q", limit, got, want)
		}
		want = reversed(live)
		if limit > 0 {
			want = want[:min(limit, len(want))]
		}
		if got := scan(t, s, sp, store.Range{Limit: limit, Reverse: true}); !slices.Equal(got, want) {
			t.Errorf("limit %d reverse: got %q, want %q", limit, got, want)
		}
	}
}

func testScanEarlyStop(t *testing.T, s store.Store) {
	sp := fillBinary(t, s)
	var got []string
	for row, err := range s.Scan(t.Context(), sp, store.Range{}) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, string(row.Key))
		if len(got) == 3 {
			break
		}
	}
	if !slices.Equal(got, binaryKeys[:3]) {
		t.Fatalf("got %q, want %q", got, binaryKeys[:3])
	}
	// The store stays usable after an abandoned scan.
	if v := get(t, s, sp, "a"); v != "va" {
		t.Fatalf("Get after early stop = %q", v)
	}
}
