// Package sdkitem converts items between aws-sdk-go-v2's AttributeValue
// types and attr.Item, through DynamoDB JSON, so numbers get attr's canonical
// form and validation exactly as on the wire. The backfill and verify read
// DynamoDB with the SDK and use it.
package sdkitem

import (
	"encoding/base64"
	"encoding/json"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/dualread/dualread/adapter/attr"
)

// ToItem converts an SDK item to attr.Item; raw is its DynamoDB JSON.
func ToItem(in map[string]types.AttributeValue) (attr.Item, []byte, error) {
	m := make(map[string]any, len(in))
	for k, v := range in {
		j, err := avJSON(v)
		if err != nil {
			return nil, nil, err
		}
		m[k] = j
	}
	raw, err := json.Marshal(m)
	if err != nil {
		return nil, nil, err
	}
	var it attr.Item
	if err := it.UnmarshalJSON(raw); err != nil {
		return nil, raw, err
	}
	return it, raw, nil
}

func avJSON(v types.AttributeValue) (any, error) {
	switch v := v.(type) {
	case *types.AttributeValueMemberS:
		return map[string]string{"S": v.Value}, nil
	case *types.AttributeValueMemberN:
		return map[string]json.RawMessage{"N": mustJSON(v.Value)}, nil
	case *types.AttributeValueMemberB:
		return map[string]string{"B": base64.StdEncoding.EncodeToString(v.Value)}, nil
	case *types.AttributeValueMemberBOOL:
		return map[string]bool{"BOOL": v.Value}, nil
	case *types.AttributeValueMemberNULL:
		return map[string]bool{"NULL": true}, nil
	case *types.AttributeValueMemberSS:
		return map[string][]string{"SS": v.Value}, nil
	case *types.AttributeValueMemberNS:
		return map[string][]string{"NS": v.Value}, nil
	case *types.AttributeValueMemberBS:
		out := make([]string, len(v.Value))
		for i, b := range v.Value {
			out[i] = base64.StdEncoding.EncodeToString(b)
		}
		return map[string][]string{"BS": out}, nil
	case *types.AttributeValueMemberL:
		out := make([]any, len(v.Value))
		for i, e := range v.Value {
			j, err := avJSON(e)
			if err != nil {
				return nil, err
			}
			out[i] = j
		}
		return map[string]any{"L": out}, nil
	case *types.AttributeValueMemberM:
		out := make(map[string]any, len(v.Value))
		for k, e := range v.Value {
			j, err := avJSON(e)
			if err != nil {
				return nil, err
			}
			out[k] = j
		}
		return map[string]any{"M": out}, nil
	}
	return nil, fmt.Errorf("sdkitem: unknown AttributeValue %T", v)
}

func mustJSON(s string) json.RawMessage { b, _ := json.Marshal(s); return b }

// KeyToAV converts a stored LastEvaluatedKey (DynamoDB JSON of S, N and B
// values only) back to the SDK's form for ExclusiveStartKey.
func KeyToAV(raw []byte) (map[string]types.AttributeValue, error) {
	var m map[string]map[string]string
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, err
	}
	out := make(map[string]types.AttributeValue, len(m))
	for k, v := range m {
		switch {
		case v["S"] != "" || len(v) == 1 && hasKey(v, "S"):
			out[k] = &types.AttributeValueMemberS{Value: v["S"]}
		case hasKey(v, "N"):
			out[k] = &types.AttributeValueMemberN{Value: v["N"]}
		case hasKey(v, "B"):
			b, err := base64.StdEncoding.DecodeString(v["B"])
			if err != nil {
				return nil, err
			}
			out[k] = &types.AttributeValueMemberB{Value: b}
		default:
			return nil, fmt.Errorf("sdkitem: key attribute %q is not S, N or B", k)
		}
	}
	return out, nil
}

func hasKey(m map[string]string, k string) bool { _, ok := m[k]; return ok }
