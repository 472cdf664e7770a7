package dynamo

import (
	"sort"
	"strings"

	"github.com/dualread/dualread/adapter/attr"
	"github.com/dualread/dualread/adapter/ddberr"
	"github.com/dualread/dualread/adapter/expr"
)

// exprAttrs is embedded in every request that accepts expressions.
type exprAttrs struct {
	ExpressionAttributeNames  map[string]string     `json:"ExpressionAttributeNames"`
	ExpressionAttributeValues map[string]attr.Value `json:"ExpressionAttributeValues"`
}

func (a *exprAttrs) params() *expr.Params {
	return expr.NewParams(a.ExpressionAttributeNames, a.ExpressionAttributeValues)
}

// checkExprMix enforces DynamoDB's rule that a request uses either expression
// parameters or legacy ones, and that names/values come only with expressions.
// legacy and modern list the parameter names present in the request.
func checkExprMix(a *exprAttrs, legacy, modern []string) error {
	if len(legacy) > 0 && len(modern) > 0 {
		return ddberr.Validation("Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {%s} Expression parameters: {%s}",
			strings.Join(legacy, ", "), strings.Join(modern, ", "))
	}
	if len(modern) == 0 {
		if a.ExpressionAttributeNames != nil {
			return ddberr.Validation("ExpressionAttributeNames can only be specified when using expressions")
		}
		if a.ExpressionAttributeValues != nil {
			return ddberr.Validation("ExpressionAttributeValues can only be specified when using expressions")
		}
	}
	if a.ExpressionAttributeValues != nil && len(a.ExpressionAttributeValues) == 0 {
		return ddberr.Validation("ExpressionAttributeValues must not be empty")
	}
	if a.ExpressionAttributeNames != nil && len(a.ExpressionAttributeNames) == 0 {
		return ddberr.Validation("ExpressionAttributeNames must not be empty")
	}
	return nil
}

// param is a request parameter's name and whether the request set it.
type param struct {
	name string
	set  bool
}

// present returns the names of the parameters that are set, in order.
func present(ps ...param) []string {
	var out []string
	for _, p := range ps {
		if p.set {
			out = append(out, p.name)
		}
	}
	return out
}

func sortedNames(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
