package diff

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// benchItem builds an item of about size bytes of wire JSON: strings, a
// number, a set, a list and a nested map, the shapes the normaliser walks.
func benchItem(pk string, size int, changed bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, `{"pk":{"S":%q},"n":{"N":"12.50"},"ss":{"SS":["c","a","b"]},"l":{"L":[{"N":"1"},{"S":"x"}]},"m":{"M":{"k":{"S":"v"}}}`, pk)
	for i := 0; b.Len() < size-40; i++ {
		v := strings.Repeat("v", 48)
		if changed && i == 3 {
			v = strings.Repeat("w", 48)
		}
		fmt.Fprintf(&b, `,"a%03d":{"S":%q}`, i, v)
	}
	b.WriteString("}")
	return b.String()
}

// BenchmarkCompare measures diff throughput per core for GetItem pairs of
// 1 KB and 16 KB items, equal (the common case) and with one changed value.
func BenchmarkCompare(b *testing.B) {
	for _, size := range []int{1 << 10, 16 << 10} {
		for _, changed := range []bool{false, true} {
			p := `{"Item":` + benchItem("a", size, false) + `}`
			s := `{"Item":` + benchItem("a", size, changed) + `}`
			if !json.Valid([]byte(p)) {
				b.Fatal("bad bench item")
			}
			rec := record("GetItem", "", pk, okb([]byte(p)), okb([]byte(s)))
			name := fmt.Sprintf("GetItem/%dKB/changed=%v", size>>10, changed)
			b.Run(name, func(b *testing.B) {
				b.SetBytes(int64(len(p) + len(s)))
				b.ReportAllocs()
				for b.Loop() {
					res, err := Compare(rec, nil)
					if err != nil {
						b.Fatal(err)
					}
					if (res.Class == Match) == changed {
						b.Fatalf("class %s", res.Class)
					}
				}
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "pairs/s")
			})
		}
	}
	// A 20-item Scan page in opposite orders: alignment by key.
	for _, size := range []int{1 << 10, 16 << 10} {
		var p, s []string
		for i := range 20 {
			p = append(p, benchItem(fmt.Sprint(i), size, false))
			s = append([]string{benchItem(fmt.Sprint(i), size, false)}, s...)
		}
		rec := record("Scan", "", pk, okb([]byte(`{"Items":[`+strings.Join(p, ",")+`],"Count":20}`)),
			okb([]byte(`{"Items":[`+strings.Join(s, ",")+`],"Count":20}`)))
		b.Run(fmt.Sprintf("Scan20/%dKB", size>>10), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if res, _ := Compare(rec, nil); res.Class != Match {
					b.Fatalf("class %s", res.Class)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "pairs/s")
		})
	}
}
