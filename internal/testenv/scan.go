package testenv

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/dualread/dualread/adapter/attr"
)

// Scanner sends one Scan request body and returns the answer: a
// RawClient's (ScanVia) or an executor's Do, so the replication tests
// read DynamoDB Local and the target the same way.
type Scanner func(body string) ([]byte, error)

// ScanVia is c's Scan as a Scanner; an answer other than 200 is an error.
func (c *RawClient) ScanVia(ctx context.Context) Scanner {
	return func(body string) ([]byte, error) {
		r, err := c.Do(ctx, "Scan", []byte(body))
		if err == nil && r.Status != 200 {
			err = fmt.Errorf("%d %s", r.Status, r.Body)
		}
		return r.Body, err
	}
}

// ScanByPK reads a whole table (strongly consistent, every page) as
// canonical item JSON by its string partition key pk.
func ScanByPK(t testing.TB, scan Scanner, table string) map[string]string {
	t.Helper()
	out := map[string]string{}
	esk := ""
	for {
		raw, err := scan(fmt.Sprintf(`{"TableName":%q,"ConsistentRead":true%s}`, table, esk))
		if err != nil {
			t.Fatal(err)
		}
		var page struct {
			Items            []attr.Item
			LastEvaluatedKey attr.Item
		}
		if err := json.Unmarshal(raw, &page); err != nil {
			t.Fatal(err)
		}
		for _, it := range page.Items {
			out[it["pk"].S] = string(it.AppendJSON(nil))
		}
		if page.LastEvaluatedKey == nil {
			return out
		}
		esk = `,"ExclusiveStartKey":` + string(page.LastEvaluatedKey.AppendJSON(nil))
	}
}

// DiffByPK compares two ScanByPK reads: "" when equal, else how many items
// differ (changed, missing, or present only in got: resurrected or
// invented) with the first few, sorted.
func DiffByPK(want, got map[string]string) string {
	var bad []string
	for k, w := range want {
		if got[k] != w {
			bad = append(bad, fmt.Sprintf("%s: target %q, DynamoDB Local %q", k, got[k], w))
		}
	}
	for k, g := range got {
		if _, ok := want[k]; !ok {
			bad = append(bad, fmt.Sprintf("%s resurrected or invented: %s", k, g))
		}
	}
	if len(bad) == 0 {
		return ""
	}
	sort.Strings(bad)
	return fmt.Sprintf("%d of %d differ: %s", len(bad), len(want), strings.Join(bad[:min(3, len(bad))], "; "))
}
