package verify

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/dualread/dualread/internal/sdkitem"
)

// randomAV builds a random AttributeValue of any type, nested up to depth,
// with numbers in assorted spellings of the same few values.
func randomAV(r *rand.Rand, depth int) types.AttributeValue {
	nums := []string{"0", "-0.0", "1", "1.0", "1E0", "0.5", "5e-1", "-12.50", "123456789012345678901234567890123456.78", "1E+125", "-1e-130"}
	num := func() string { return nums[r.IntN(len(nums))] }
	kinds := 10
	if depth <= 0 {
		kinds = 8 // no more nesting
	}
	switch r.IntN(kinds) {
	case 0:
		return &types.AttributeValueMemberS{Value: fmt.Sprint("s", r.IntN(100), "\x00é\"\\")}
	case 1:
		return &types.AttributeValueMemberN{Value: num()}
	case 2:
		return &types.AttributeValueMemberB{Value: []byte{byte(r.IntN(256)), 0}}
	case 3:
		return &types.AttributeValueMemberBOOL{Value: r.IntN(2) == 0}
	case 4:
		return &types.AttributeValueMemberNULL{Value: true}
	case 5:
		return &types.AttributeValueMemberSS{Value: []string{"b", "a", fmt.Sprint("c", r.IntN(9))}}
	case 6:
		return &types.AttributeValueMemberNS{Value: []string{"2", "10", "-3.5", "7E1"}}
	case 7:
		return &types.AttributeValueMemberBS{Value: [][]byte{{2}, {1, 0}, {0xff}}}
	case 8:
		l := make([]types.AttributeValue, r.IntN(4))
		for i := range l {
			l[i] = randomAV(r, depth-1)
		}
		return &types.AttributeValueMemberL{Value: l}
	default:
		m := map[string]types.AttributeValue{}
		for i := range r.IntN(4) {
			m[fmt.Sprint("k", i)] = randomAV(r, depth-1)
		}
		return &types.AttributeValueMemberM{Value: m}
	}
}

// TestToItemMatchesSDKItem: the direct conversion and sdkitem's (through
// DynamoDB JSON and attr's decoder) give the same canonical item, so a
// digest does not depend on which one read it.
func TestToItemMatchesSDKItem(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 2000 {
		av := map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "p"}}
		for j := range r.IntN(6) {
			av[fmt.Sprint("a", j)] = randomAV(r, 3)
		}
		want, _, err := sdkitem.ToItem(av)
		if err != nil {
			t.Fatal(err)
		}
		got, err := toItem(av)
		if err != nil {
			t.Fatal(err)
		}
		if g, w := canonicalJSON(got), canonicalJSON(want); !bytes.Equal(g, w) || digest(got) != digest(want) {
			t.Fatalf("item %d:\n got %s\nwant %s", i, g, w)
		}
	}
	for _, bad := range []string{"", "abc", "1e999", "12345678901234567890123456789012345678901"} {
		if _, err := toItem(map[string]types.AttributeValue{"n": &types.AttributeValueMemberN{Value: bad}}); err == nil {
			t.Errorf("number %q accepted", bad)
		}
		if _, err := toItem(map[string]types.AttributeValue{"n": &types.AttributeValueMemberNS{Value: []string{"1", bad}}}); err == nil {
			t.Errorf("number set element %q accepted", bad)
		}
	}
}
