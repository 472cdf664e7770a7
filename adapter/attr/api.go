package attr

// This file declares the attr functions other packages rely on. Bodies that say
// "not implemented" are being written; signatures are the contract.

// ValidationError is a DynamoDB ValidationException message produced while
// decoding or checking attribute values (empty AttributeValue, bad number,
// empty or duplicate set, ...). The protocol layer maps it to
// com.amazon.coral.validate#ValidationException with Msg as the message.
type ValidationError struct{ Msg string }

func (e *ValidationError) Error() string { return e.Msg }
