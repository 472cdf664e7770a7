package shadow

import (
	"encoding/json"
	"sort"
	"strings"
)

// TableOf names the table a read request addresses; several tables (a
// BatchGetItem or TransactGetItems across tables) are joined with ",".
func TableOf(op string, body []byte) string {
	switch op {
	case "BatchGetItem":
		var r struct{ RequestItems map[string]json.RawMessage }
		if json.Unmarshal(body, &r) != nil {
			return ""
		}
		names := make([]string, 0, len(r.RequestItems))
		for n := range r.RequestItems {
			names = append(names, n)
		}
		sort.Strings(names)
		return strings.Join(names, ",")
	case "TransactGetItems":
		var r struct {
			TransactItems []struct{ Get struct{ TableName string } }
		}
		if json.Unmarshal(body, &r) != nil {
			return ""
		}
		seen := map[string]bool{}
		var names []string
		for _, it := range r.TransactItems {
			if n := it.Get.TableName; n != "" && !seen[n] {
				seen[n] = true
				names = append(names, n)
			}
		}
		sort.Strings(names)
		return strings.Join(names, ",")
	}
	var r struct{ TableName string }
	_ = json.Unmarshal(body, &r)
	return r.TableName
}
