package attr

import (
	"encoding/json"
	"strings"
	"testing"
)

// Value sizes measured against DynamoDB Local (consumed write capacity at the
// 1 KB boundary, see the package report): value JSON -> bytes, without name.
func TestValueSize(t *testing.T) {
	cases := []struct {
		in   string
		want int
	}{
		{`{"S":"abc"}`, 3}, {`{"B":"AAAA"}`, 3}, {`{"BOOL":true}`, 1}, {`{"NULL":true}`, 1},
		{`{"N":"0"}`, 1}, {`{"N":"1"}`, 2}, {`{"N":"12"}`, 2}, {`{"N":"123"}`, 3}, {`{"N":"1234"}`, 3},
		{`{"N":"-1"}`, 3}, {`{"N":"0.001"}`, 2}, {`{"N":"100"}`, 2}, {`{"N":"-12345"}`, 5},
		{`{"N":"1E-130"}`, 2}, {`{"N":"12345678901234567890123456789012345678"}`, 20},
		{`{"N":"1.1"}`, 3}, {`{"N":"11"}`, 2}, {`{"N":"0.11"}`, 2}, {`{"N":"1.01"}`, 3}, {`{"N":"10.1"}`, 3},
		{`{"N":"10001"}`, 4}, {`{"N":"1000001"}`, 5}, {`{"N":"0.1"}`, 2}, {`{"N":"0.01"}`, 2},
		{`{"N":"0.011"}`, 3}, {`{"N":"12.34"}`, 3}, {`{"N":"1.234"}`, 4}, {`{"N":"-0.5"}`, 3},
		{`{"N":"-100"}`, 3}, {`{"N":"-1.1"}`, 4}, {`{"N":"123.45"}`, 4},
		{`{"L":[]}`, 3}, {`{"M":{}}`, 3}, {`{"L":[{"S":"ab"}]}`, 6}, {`{"M":{"xy":{"S":"ab"}}}`, 8},
		{`{"SS":["a","bc"]}`, 3}, {`{"NS":["1","123"]}`, 5}, {`{"BS":["AAAA","AA=="]}`, 4},
		{`{"L":[{"L":[]}]}`, 7}, {`{"L":[{"N":"1"},{"N":"12"}]}`, 9},
	}
	for _, c := range cases {
		var v Value
		if err := json.Unmarshal([]byte(c.in), &v); err != nil {
			t.Fatalf("%s: %v", c.in, err)
		}
		if got := v.Size(); got != c.want {
			t.Errorf("%s: size %d, want %d", c.in, got, c.want)
		}
	}
}

// DynamoDB Local accepts an item of exactly 409600 bytes and rejects 409601.
func TestItemSizeLimit(t *testing.T) {
	at := func(n int) Item { // pk "k" is 3 bytes, attribute "f" 1 + its string
		return Item{"pk": Str("k"), "f": Str(strings.Repeat("x", n-4))}
	}
	if s := at(MaxItemSize).Size(); s != 409600 {
		t.Fatalf("size %d", s)
	}
	if err := at(MaxItemSize).ItemTooLarge(); err != nil {
		t.Errorf("item of exactly MaxItemSize rejected")
	}
	if err := at(MaxItemSize + 1).ItemTooLarge(); err == nil || err.Msg != MsgItemTooLarge {
		t.Errorf("item one byte over: %v", err)
	}
	// The same boundary through a list: 3 + 1 (name m) + 3 + 1 + string.
	nested := Item{"pk": Str("k"), "m": List([]Value{Str(strings.Repeat("x", 409593))})}
	if s := nested.Size(); s != 409601 {
		t.Errorf("nested size %d", s)
	}
}
