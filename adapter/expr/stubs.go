package expr

// Temporary stubs: the signatures are the contract the executor compiles
// against. The expr implementation replaces this file.

import (
	"errors"

	"github.com/dualread/dualread/adapter/attr"
)

var errTODO = errors.New("expr: not implemented")

// Condition is a parsed ConditionExpression or FilterExpression.
type Condition struct{}

// Projection is a parsed ProjectionExpression (or AttributesToGet).
type Projection struct{ Paths []Path }

// Update is a parsed UpdateExpression (or legacy AttributeUpdates).
type Update struct{}

func ParseCondition(s string, p *Params) (*Condition, error)       { return nil, errTODO }
func ParseKeyCondition(s string, p *Params) (*KeyCondition, error) { return nil, errTODO }
func ParseProjection(s string, p *Params) (*Projection, error)     { return nil, errTODO }
func ParseUpdate(s string, p *Params) (*Update, error)             { return nil, errTODO }

// CheckUnused reports names or values given but not used by any expression of the request.
func (p *Params) CheckUnused() error { return errTODO }

// Eval reports whether item (nil for a missing item) satisfies the condition.
func (c *Condition) Eval(item attr.Item) (bool, error) { return false, errTODO }

// Apply returns the projection of item (a new item; item is not changed).
func (pr *Projection) Apply(item attr.Item) attr.Item { return nil }

// Apply returns the updated copy of item (nil item = new item); item is not changed.
func (u *Update) Apply(item attr.Item) (attr.Item, error) { return nil, errTODO }

// Paths lists the document paths the update sets, removes, adds to or deletes from.
func (u *Update) Paths() []Path { return nil }

func FromExpected(expected map[string]ExpectedAttributeValue, conditionalOperator string) (*Condition, error) {
	return nil, errTODO
}
func FromFilter(conds map[string]LegacyCondition, conditionalOperator string) (*Condition, error) {
	return nil, errTODO
}
func FromKeyConditions(conds map[string]LegacyCondition) (*KeyCondition, error) { return nil, errTODO }
func FromAttributesToGet(names []string) *Projection                          { return nil }
func FromAttributeUpdates(u map[string]AttributeValueUpdate) (*Update, error) { return nil, errTODO }
