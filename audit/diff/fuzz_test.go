package diff

import (
	"testing"
)

// FuzzCompare feeds arbitrary bodies through the normaliser. Properties: no
// panic; an answer compared with itself is a match (normalisation is
// deterministic); and swapping the sides swaps missing-on-primary with
// missing-on-shadow and keeps every other class.
func FuzzCompare(f *testing.F) {
	seeds := []struct{ op, a, b string }{
		{"GetItem", `{"Item":{"pk":{"S":"a"},"n":{"N":"1.50"}}}`, `{"Item":{"pk":{"S":"a"},"n":{"N":"1.5"}}}`},
		{"GetItem", `{}`, `{"Item":{"pk":{"S":"a"},"s":{"SS":["b","a"]}}}`},
		{"Query", `{"Items":[{"pk":{"S":"a"},"sk":{"N":"1"}},{"pk":{"S":"a"},"sk":{"N":"2"}}],"Count":2}`, `{"Items":[{"pk":{"S":"a"},"sk":{"N":"2"}}],"Count":1}`},
		{"Scan", `{"Items":[{"pk":{"S":"a"}},{"pk":{"S":"a"}}]}`, `{"Items":[{"v":{"L":[{"NULL":true}]}}]}`},
		{"BatchGetItem", `{"Responses":{"t":[{"pk":{"S":"a"}}]},"UnprocessedKeys":{"t":{"Keys":[{"pk":{"S":"b"}}]}}}`, `{"Responses":{"t":[]}}`},
		{"TransactGetItems", `{"Responses":[{"Item":{"pk":{"B":"AQ=="}}},{}]}`, `{"Responses":[{}]}`},
		{"Scan", `not json`, `{"Items":"x","ConsumedCapacity":1}`},
	}
	for _, s := range seeds {
		f.Add(s.op, []byte(s.a), []byte(s.b))
	}
	const batchReq = `{"RequestItems":{"t":{"Keys":[{"pk":{"S":"a"}}]}}}`
	f.Fuzz(func(t *testing.T, op string, a, b []byte) {
		mk := func(x, y []byte) Result {
			rec := record(op, batchReq, pksk, okb(x), okb(y))
			res, err := Compare(rec, nil)
			if err != nil {
				t.Fatalf("Compare: %v", err)
			}
			return res
		}
		if self := mk(a, a); self.Class != Match && self.Class != Incomparable {
			t.Fatalf("body compared with itself: %s %v", self.Class, self.Patch)
		}
		ab, ba := mk(a, b), mk(b, a)
		want := map[Class]Class{MissingOnPrimary: MissingOnShadow, MissingOnShadow: MissingOnPrimary}[ab.Class]
		if want == "" {
			want = ab.Class
		}
		if ba.Class != want {
			t.Fatalf("(a,b) is %s but (b,a) is %s", ab.Class, ba.Class)
		}
	})
}
