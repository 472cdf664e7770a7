package attr

// SerializationError is a problem DynamoDB reports as
// com.amazon.coral.service#SerializationException rather than a
// ValidationException: a JSON value of the wrong JSON type for its member
// ({"S":5}, {"BOOL":"x"}, {"L":{}}, an AttributeValue that is not an object)
// or a B/BS string that is not base64. AWS's deserializer rejects these before
// any validation runs, so a request holding both kinds reports this one.
// Messages are AWS's (DynamoDB Local is lenient here: it coerces {"S":5} to
// "5" and answers InternalFailure for bad base64; we follow AWS).
type SerializationError struct{ Msg string }

func (e *SerializationError) Error() string { return e.Msg }

// Validation messages, exactly as DynamoDB Local answers PutItem.
const (
	MsgEmptyValue    = "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes"
	MsgMultipleTypes = "Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes"
	MsgNullNotTrue   = "One or more parameter values were invalid: Null attribute value types must have the value of true"
	MsgEmptySS       = "One or more parameter values were invalid: An string set  may not be empty" // sic: two spaces
	MsgEmptyNS       = "One or more parameter values were invalid: An number set  may not be empty" // sic
	MsgEmptyBS       = "One or more parameter values were invalid: Binary sets should not be empty"
	MsgNullInSS      = "One or more parameter values were invalid: An string set may not have a null string as a member"
	MsgDuplicateNS   = "Input collection contains duplicates"
	MsgDuplicateBS   = "One or more parameter values were invalid: Input collection of type BS contains duplicates."
	MsgEmptyName     = "Empty attribute name"
	MsgNesting       = "Nesting Levels have exceeded supported limits: Attributes in the item have nested levels beyond supported limit"
	// MsgNullValue is a JSON null where an AttributeValue belongs. Inside a map
	// (an item, a key, an M) DynamoDB appends ": <name> is null"; see NullValueMsg.
	MsgNullValue = "The supplied Item contains a null AttributeValue"
	// MsgItemTooLarge is the PutItem/UpdateItem answer for Item.Size() > MaxItemSize.
	MsgItemTooLarge = "Item size has exceeded the maximum allowed size"
)

// DuplicateSSMsg is the SS duplicate message; DynamoDB lists the whole set as
// Java prints a list: "[a, b, a]".
func DuplicateSSMsg(ss []string) string {
	n := len("One or more parameter values were invalid: Input collection [] contains duplicates")
	for _, s := range ss {
		n += len(s) + 2
	}
	b := make([]byte, 0, n)
	b = append(b, "One or more parameter values were invalid: Input collection ["...)
	for i, s := range ss {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = append(b, s...)
	}
	b = append(b, "] contains duplicates"...)
	return string(b)
}

// NullValueMsg is the message for a null AttributeValue under map key name.
func NullValueMsg(name string) string { return MsgNullValue + ": " + name + " is null" }

// Serialization messages as AWS words them (see SerializationError).
const (
	msgStructNotExpected = "Start of structure or map found where not expected"
	msgUnexpectedValue   = "Unexpected value type in payload"
	msgUnexpectedField   = "Unexpected field type"
	msgNotBase64         = "only base-64-encoded strings are convertible to bytes"
	msgBadBoolToken      = "Unexpected token received from parser"
	msgBase64LastChar    = "Invalid last non-pad Base64 character dectected" // sic, AWS's spelling
	msgCollectionValue   = "Unrecognized collection type class com.amazonaws.dynamodb.v20120810.AttributeValue"
	msgCollectionMap     = "Unrecognized collection type java.util.Map<java.lang.String, com.amazonaws.dynamodb.v20120810.AttributeValue>"
	msgCollectionString  = "Unrecognized collection type class java.lang.String"
	msgCollectionBool    = "Unrecognized collection type class java.lang.Boolean"
	msgCollectionBytes   = "Unrecognized collection type class java.nio.ByteBuffer"
	msgMalformedJSON     = "Malformed JSON"
)
