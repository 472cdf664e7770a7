// Package expr parses and evaluates DynamoDB's five expression kinds (key
// condition, condition, filter, projection, update) and translates the legacy
// parameters (KeyConditions, QueryFilter, ScanFilter, Expected,
// AttributesToGet, AttributeUpdates, ConditionalOperator) into the same trees,
// so the executor has one evaluation path.
//
// Errors returned are *ddberr.Error (ValidationException) with DynamoDB's own
// messages ("Invalid ConditionExpression: Syntax error; token: ...", ...).
package expr

import "github.com/dualread/dualread/adapter/attr"

// Params carries ExpressionAttributeNames and ExpressionAttributeValues for one
// request and records which were used, so unused ones can be reported.
type Params struct {
	Names  map[string]string
	Values map[string]attr.Value

	usedNames  map[string]bool
	usedValues map[string]bool
}

// NewParams wraps a request's names and values (either may be nil).
func NewParams(names map[string]string, values map[string]attr.Value) *Params {
	return &Params{Names: names, Values: values, usedNames: map[string]bool{}, usedValues: map[string]bool{}}
}

// PathElem is one step of a document path: a map key or a list index.
type PathElem struct {
	Name    string
	Index   int
	IsIndex bool
}

// Path is a document path such as a.b[2].c (names already substituted).
type Path []PathElem

// SortOp is the operator of a key condition on one key attribute.
type SortOp int

const (
	OpEQ SortOp = iota
	OpLT
	OpLE
	OpGT
	OpGE
	OpBetween
	OpBeginsWith
)

// KeyCond is one conjunct of a key condition: Name Op Values.
// Values has one element, or two for OpBetween.
type KeyCond struct {
	Name   string
	Op     SortOp
	Values []attr.Value
}

// KeyCondition is a parsed KeyConditionExpression (or legacy KeyConditions):
// one or two conjuncts, matched against the key schema by the executor.
type KeyCondition struct {
	Conds []KeyCond
}

// ExpectedAttributeValue is one entry of the legacy Expected parameter.
type ExpectedAttributeValue struct {
	Value              *attr.Value  `json:"Value,omitempty"`
	Exists             *bool        `json:"Exists,omitempty"`
	ComparisonOperator string       `json:"ComparisonOperator,omitempty"`
	AttributeValueList []attr.Value `json:"AttributeValueList,omitempty"`
}

// LegacyCondition is one entry of KeyConditions, QueryFilter or ScanFilter.
type LegacyCondition struct {
	ComparisonOperator string       `json:"ComparisonOperator"`
	AttributeValueList []attr.Value `json:"AttributeValueList,omitempty"`
}

// AttributeValueUpdate is one entry of the legacy AttributeUpdates parameter.
type AttributeValueUpdate struct {
	Action string      `json:"Action,omitempty"`
	Value  *attr.Value `json:"Value,omitempty"`
}
