package verify

import (
	"fmt"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/dualread/dualread/adapter/attr"
)

// toItem converts a scanned SDK item straight to attr.Item, numbers in
// canonical form. sdkitem.ToItem does the same through DynamoDB JSON;
// going direct is ~5× cheaper, and every item of both tables passes here
// twice when buckets differ. TestToItemMatchesSDKItem keeps the two equal.
func toItem(in map[string]types.AttributeValue) (attr.Item, error) {
	it := make(attr.Item, len(in))
	for k, av := range in {
		v, err := toValue(av)
		if err != nil {
			return nil, fmt.Errorf("attribute %q: %w", k, err)
		}
		it[k] = v
	}
	return it, nil
}

func toValue(av types.AttributeValue) (attr.Value, error) {
	switch v := av.(type) {
	case *types.AttributeValueMemberS:
		return attr.Str(v.Value), nil
	case *types.AttributeValueMemberN:
		return attr.Num(v.Value)
	case *types.AttributeValueMemberB:
		return attr.Bin(v.Value), nil
	case *types.AttributeValueMemberBOOL:
		return attr.Bool(v.Value), nil
	case *types.AttributeValueMemberNULL:
		return attr.Null(), nil
	case *types.AttributeValueMemberSS:
		return attr.StrSet(v.Value), nil
	case *types.AttributeValueMemberNS:
		ns := make([]string, len(v.Value))
		for i, s := range v.Value {
			c, err := attr.CanonicalNumber(s)
			if err != nil {
				return attr.Value{}, err
			}
			ns[i] = c
		}
		return attr.NumSet(ns), nil
	case *types.AttributeValueMemberBS:
		return attr.BinSet(v.Value), nil
	case *types.AttributeValueMemberL:
		l := make([]attr.Value, len(v.Value))
		for i, e := range v.Value {
			var err error
			if l[i], err = toValue(e); err != nil {
				return attr.Value{}, err
			}
		}
		return attr.List(l), nil
	case *types.AttributeValueMemberM:
		m := make(map[string]attr.Value, len(v.Value))
		for k, e := range v.Value {
			var err error
			if m[k], err = toValue(e); err != nil {
				return attr.Value{}, err
			}
		}
		return attr.Map(m), nil
	}
	return attr.Value{}, fmt.Errorf("unknown AttributeValue %T", av)
}
