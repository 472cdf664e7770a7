package expr

import (
	"fmt"

	"github.com/dualread/dualread/adapter/ddberr"
)

// Kind names the request parameter an expression came from. DynamoDB prefixes
// every parse-time message with "Invalid <parameter>: ", so the parser must
// know which parameter it is reading (a FilterExpression and a
// ConditionExpression share one grammar but not one message).
type Kind int

const (
	KindCondition Kind = iota
	KindFilter
	KindKeyCondition
	KindProjection
	KindUpdate
)

func (k Kind) String() string {
	switch k {
	case KindFilter:
		return "FilterExpression"
	case KindKeyCondition:
		return "KeyConditionExpression"
	case KindProjection:
		return "ProjectionExpression"
	case KindUpdate:
		return "UpdateExpression"
	default:
		return "ConditionExpression"
	}
}

// invalid builds "Invalid <Kind>: <message>", the shape of every parse-time error.
func invalid(k Kind, format string, args ...any) error {
	return ddberr.Validation("Invalid %s: %s", k, fmt.Sprintf(format, args...))
}

// Runtime messages of UpdateExpression evaluation; DynamoDB gives them without
// the "Invalid UpdateExpression" prefix because the expression itself was valid.
const (
	msgMissingOperand = "The provided expression refers to an attribute that does not exist in the item"
	msgBadOperandType = "An operand in the update expression has an incorrect data type"
	msgBadUpdatePath  = "The document path provided in the update expression is invalid for update"
)

func runtimeErr(msg string) error { return ddberr.Validation("%s", msg) }
