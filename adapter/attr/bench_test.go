package attr

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
)

// benchItem is about 1 KB on the wire: scalars, a set, a map and a list.
func benchItem() Item {
	it := Item{
		"pk":    Str("user#0001234"),
		"sk":    Str("order#2026-01-01T00:00:00Z"),
		"total": MustNum("1234.56"),
		"paid":  Bool(true),
		"note":  Str(strings.Repeat("lorem ipsum ", 20)),
		"tags":  StrSet([]string{"a", "bb", "ccc", "dddd"}),
		"blob":  Bin([]byte(strings.Repeat("\x01\x02\x03", 40))),
	}
	lines := make([]Value, 0, 8)
	for i := range 8 {
		lines = append(lines, Map(map[string]Value{
			"sku": Str("SKU-" + strconv.Itoa(i)),
			"qty": MustNum(strconv.Itoa(i + 1)),
		}))
	}
	it["lines"] = List(lines)
	return it
}

func BenchmarkMarshalItem(b *testing.B) {
	it := benchItem()
	buf := it.AppendJSON(nil)
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	for b.Loop() {
		buf = it.AppendJSON(buf[:0])
	}
}

func BenchmarkUnmarshalItem(b *testing.B) {
	data, _ := json.Marshal(benchItem())
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		var it Item
		if err := it.UnmarshalJSON(data); err != nil {
			b.Fatal(err)
		}
	}
}
