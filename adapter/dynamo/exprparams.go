package dynamo

import (
	"encoding/json"
	"errors"
	"sort"
	"strings"

	"github.com/dualread/dualread/adapter/attr"
	"github.com/dualread/dualread/adapter/ddberr"
	"github.com/dualread/dualread/adapter/expr"
)

// exprAttrs is embedded in every request that accepts expressions.
type exprAttrs struct {
	ExpressionAttributeNames  map[string]string `json:"ExpressionAttributeNames"`
	ExpressionAttributeValues exprValues        `json:"ExpressionAttributeValues"`
}

// exprValues decodes ExpressionAttributeValues, wrapping each value's
// validation problem the way DynamoDB reports it for this parameter.
type exprValues map[string]attr.Value

func (ev *exprValues) UnmarshalJSON(b []byte) error {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return &attr.SerializationError{Msg: "Unexpected value type in payload"}
	}
	if raw == nil {
		*ev = nil
		return nil
	}
	out := make(exprValues, len(raw))
	var firstErr error
	for _, k := range sortedKeysOf(raw) {
		r := raw[k]
		if string(r) == "null" {
			if firstErr == nil {
				firstErr = &attr.ValidationError{Msg: "ExpressionAttributeValues contains invalid value: The supplied Item contains a null AttributeValue for key " + k}
			}
			continue
		}
		var v attr.Value
		if err := v.UnmarshalJSON(r); err != nil {
			var ve *attr.ValidationError
			if errors.As(err, &ve) {
				if firstErr == nil {
					firstErr = &attr.ValidationError{Msg: "ExpressionAttributeValues contains invalid value: " + ve.Msg + " for key " + k}
				}
				continue
			}
			return err // serialization problems win over validation ones
		}
		out[k] = v
	}
	if firstErr != nil {
		return firstErr
	}
	*ev = out
	return nil
}

func sortedKeysOf[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// dropValues forgets ExpressionAttributeValues for operations whose API has
// no such member (GetItem, BatchGetItem, TransactGetItems' Get): DynamoDB
// ignores members an operation does not define.
func (a *exprAttrs) dropValues() { a.ExpressionAttributeValues = nil }

// params wraps the request's names and values after validating their keys.
func (a *exprAttrs) params() (*expr.Params, error) {
	p := expr.NewParams(a.ExpressionAttributeNames, a.ExpressionAttributeValues)
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return p, nil
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

// readProjection validates the parameters of a read that projects but has
// no other expression (GetItem, BatchGetItem's per-table entries,
// TransactGetItems' Get) and parses ProjectionExpression or AttributesToGet.
func readProjection(a *exprAttrs, pe *string, atg []string) (*expr.Projection, error) {
	a.dropValues()
	if err := checkExprMix(a, present(param{"AttributesToGet", atg != nil}),
		present(param{"ProjectionExpression", pe != nil})); err != nil {
		return nil, err
	}
	p, err := a.params()
	if err != nil {
		return nil, err
	}
	proj, err := projectionFor(pe, atg, p)
	if err != nil {
		return nil, err
	}
	return proj, p.CheckUnused()
}
