package differential

import (
	"strings"
	"testing"
)

func TestCompareReportsDifferences(t *testing.T) {
	const nested = `{"Item":{"pk":{"S":"a"},"m":{"M":{"l":{"L":[{"S":"x"},{"N":"1"}]}}}}}`
	cases := []struct {
		name     string
		a, b     Response
		wantPath string // a difference at exactly this path must be reported
		wantNote string
	}{
		{"nested value", Response{200, []byte(nested)},
			Response{200, []byte(`{"Item":{"pk":{"S":"a"},"m":{"M":{"l":{"L":[{"S":"y"},{"N":"1"}]}}}}}`)},
			"$.Item.m.M.l.L[0].S", ""},
		{"nested number value", Response{200, []byte(nested)},
			Response{200, []byte(`{"Item":{"pk":{"S":"a"},"m":{"M":{"l":{"L":[{"S":"x"},{"N":"2"}]}}}}}`)},
			"$.Item.m.M.l.L[1].N", ""},
		{"set element", Response{200, []byte(`{"Item":{"s":{"SS":["a","b","c"]}}}`)},
			Response{200, []byte(`{"Item":{"s":{"SS":["a","b","d"]}}}`)},
			"$.Item.s.SS[2]", ""},
		{"number set element", Response{200, []byte(`{"Item":{"s":{"NS":["1","2"]}}}`)},
			Response{200, []byte(`{"Item":{"s":{"NS":["1","3"]}}}`)},
			"$.Item.s.NS[1]", ""},
		{"number spelling", Response{200, []byte(`{"Attributes":{"n":{"N":"15E-1"}}}`)},
			Response{200, []byte(`{"Attributes":{"n":{"N":"1.50"}}}`)},
			"$.Attributes.n.N", "number spelling"},
		{"error type", Response{400, []byte(`{"__type":"com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException","message":"The conditional request failed"}`)},
			Response{400, []byte(`{"__type":"com.amazon.coral.validate#ValidationException","message":"The conditional request failed"}`)},
			"$.__type", ""},
		{"error message", Response{400, []byte(`{"__type":"x#ValidationException","message":"a"}`)},
			Response{400, []byte(`{"__type":"x#ValidationException","message":"b"}`)},
			"$.message", ""},
		{"status", Response{200, []byte(`{}`)}, Response{500, []byte(`{}`)}, "status", ""},
		{"missing attribute", Response{200, []byte(`{"Item":{"a":{"S":"x"},"b":{"NULL":true}}}`)},
			Response{200, []byte(`{"Item":{"a":{"S":"x"}}}`)},
			"$.Item.b", ""},
		{"type of value", Response{200, []byte(`{"Item":{"a":{"S":"1"}}}`)},
			Response{200, []byte(`{"Item":{"a":{"N":"1"}}}`)},
			"$.Item.a.N", ""},
		{"query order", Response{200, []byte(`{"Items":[{"k":{"N":"1"}},{"k":{"N":"2"}}],"Count":2}`)},
			Response{200, []byte(`{"Items":[{"k":{"N":"2"}},{"k":{"N":"1"}}],"Count":2}`)},
			"$.Items[0].k.N", ""},
		{"cancellation reason", Response{400, []byte(`{"__type":"a#TransactionCanceledException","message":"m","CancellationReasons":[{"Code":"None"},{"Code":"ConditionalCheckFailed","Message":"The conditional request failed"}]}`)},
			Response{400, []byte(`{"__type":"a#TransactionCanceledException","message":"m","CancellationReasons":[{"Code":"ConditionalCheckFailed","Message":"The conditional request failed"},{"Code":"None"}]}`)},
			"$.CancellationReasons[0].Code", ""},
		{"not JSON", Response{200, []byte(`{}`)}, Response{200, []byte(`oops`)}, "body", "not both JSON"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			diffs := Compare(c.a, c.b)
			found := false
			for _, d := range diffs {
				if d.Path == c.wantPath && (c.wantNote == "" || d.Note == c.wantNote) {
					found = true
				}
			}
			if !found {
				t.Fatalf("want a difference at %s (note %q), got %v", c.wantPath, c.wantNote, diffs)
			}
			// Symmetry: swapping sides must report it too.
			if len(Compare(c.b, c.a)) == 0 {
				t.Fatalf("swapped sides compared equal")
			}
		})
	}
}

func TestCompareEqualAfterNormalisation(t *testing.T) {
	cases := []struct {
		name string
		a, b string
	}{
		{"reordered string set", `{"Item":{"s":{"SS":["a","b","c"]}}}`, `{"Item":{"s":{"SS":["c","a","b"]}}}`},
		{"reordered number set", `{"Item":{"s":{"NS":["10","-1","2.5"]}}}`, `{"Item":{"s":{"NS":["2.5","10","-1"]}}}`},
		{"reordered binary set", `{"Item":{"s":{"BS":["AQ==","Ag=="]}}}`, `{"Item":{"s":{"BS":["Ag==","AQ=="]}}}`},
		{"consumed capacity ignored", `{"Item":{},"ConsumedCapacity":{"TableName":"t","CapacityUnits":1}}`, `{"Item":{}}`},
		{"error namespace and message key", `{"__type":"com.amazonaws.dynamodb.v20120810#ResourceNotFoundException","Message":"Requested resource not found"}`,
			`{"__type":"com.amazon.coral.whatever#ResourceNotFoundException","message":"Requested resource not found"}`},
		{"attribute order", `{"Item":{"a":{"S":"x"},"b":{"BOOL":true}}}`, `{"Item":{"b":{"BOOL":true},"a":{"S":"x"}}}`},
		{"batch get responses reordered", `{"Responses":{"t":[{"k":{"S":"1"}},{"k":{"S":"2"}}]},"UnprocessedKeys":{}}`,
			`{"Responses":{"t":[{"k":{"S":"2"}},{"k":{"S":"1"}}]},"UnprocessedKeys":{}}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if d := Compare(Response{200, []byte(c.a)}, Response{200, []byte(c.b)}); len(d) != 0 {
				t.Fatalf("want equal, got %v", d)
			}
		})
	}
}

func TestScanMultiset(t *testing.T) {
	pagesA := []Response{{200, []byte(`{"Items":[{"k":{"S":"1"}},{"k":{"S":"2"}}],"Count":2,"ScannedCount":2,"LastEvaluatedKey":{"k":{"S":"2"}}}`)},
		{200, []byte(`{"Items":[{"k":{"S":"3"}}],"Count":1,"ScannedCount":1}`)}}
	pagesB := []Response{{200, []byte(`{"Items":[{"k":{"S":"3"}},{"k":{"S":"1"}}],"Count":2,"ScannedCount":2,"LastEvaluatedKey":{"k":{"S":"1"}}}`)},
		{200, []byte(`{"Items":[{"k":{"S":"2"}}],"Count":1,"ScannedCount":1}`)}}
	a := mergeScanPages(pagesA)
	b := mergeScanPages(pagesB)
	if d := compareMerged(a, b); len(d) != 0 {
		t.Fatalf("reordered scans must compare equal, got %v", d)
	}
	pagesB[1] = Response{200, []byte(`{"Items":[{"k":{"S":"4"}}],"Count":1,"ScannedCount":1}`)}
	b = mergeScanPages(pagesB)
	if d := compareMerged(a, b); len(d) == 0 || !strings.Contains(d[0].Path, "Items") {
		t.Fatalf("different scans must differ in Items, got %v", d)
	}
}

func TestCanonicalNumber(t *testing.T) {
	cases := []struct{ in, want string }{
		{"1.50", "15e-1"}, {"15E-1", "15e-1"}, {"+1.5", "15e-1"}, {"0", "0"}, {"-0.000", "0"},
		{"100", "1e2"}, {"-0.00100", "-1e-3"}, {"1e3", "1e3"}, {"abc", "!abc"}, {"1e", "!1e"}, {".", "!."},
	}
	for _, c := range cases {
		if got := canonicalNumber(c.in); got != c.want {
			t.Errorf("canonicalNumber(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func FuzzCanonicalNumber(f *testing.F) {
	for _, s := range []string{"1", "-1.5e3", "0.000", "1e-130", "9.9999999999999999999999999999999999999E+125", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c := canonicalNumber(s)
		if c == "" {
			t.Fatalf("empty canonical form for %q", s)
		}
		// A valid canonical form is its own canonical form after re-parsing.
		if c[0] != '!' && canonicalNumber(c) != c {
			t.Fatalf("not idempotent: %q -> %q -> %q", s, c, canonicalNumber(c))
		}
	})
}

func FuzzCompareSelf(f *testing.F) {
	f.Add([]byte(`{"Item":{"a":{"NS":["1","2"]},"m":{"M":{"x":{"L":[{"N":"1.0"}]}}}}}`))
	f.Add([]byte(`{"__type":"a#B","Message":"m"}`))
	f.Add([]byte(`[1,2]`))
	f.Fuzz(func(t *testing.T, body []byte) {
		if d := Compare(Response{200, body}, Response{200, body}); len(d) != 0 {
			t.Fatalf("a body must equal itself: %v", d)
		}
	})
}

// TestCompareNumberSpellingException pins the one tolerated spelling
// difference: the oracle echoing a request's spelling where the other side
// answers AWS's canonical form. Anything else stays a difference.
func TestCompareNumberSpellingException(t *testing.T) {
	for _, c := range []struct {
		oracle, other string
		wantDiff      bool
	}{
		{"2.50E+3", "2500", false},
		{"1E-130", "0." + strings.Repeat("0", 129) + "1", false},
		{"-0.50", "-0.5", false},
		{"2500", "2.50E+3", true},
		{"1.5", "1.50", true},
		{"2.50E+3", "2.5E+3", true},
		{"2.50E+3", "2501", true},
	} {
		a := Response{200, []byte(`{"Item":{"m":{"M":{"n":{"N":"` + c.oracle + `"}}}}}`)}
		b := Response{200, []byte(`{"Item":{"m":{"M":{"n":{"N":"` + c.other + `"}}}}}`)}
		if got := len(Compare(a, b)) > 0; got != c.wantDiff {
			t.Errorf("oracle %s vs %s: difference reported = %v, want %v", c.oracle, c.other, got, c.wantDiff)
		}
	}
}
