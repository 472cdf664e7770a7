// Package ddberr holds DynamoDB's error shapes: the __type namespace, the HTTP
// status and the message, plus the extra fields some errors carry. Every layer
// returns *Error for anything a client should see; anything else becomes an
// InternalServerError at the protocol boundary.
package ddberr

import (
	"encoding/json"
	"fmt"
	"net/http"
)

const (
	nsDynamo   = "com.amazonaws.dynamodb.v20120810#"
	nsValidate = "com.amazon.coral.validate#"
	nsService  = "com.amazon.coral.service#"
)

// Error is a DynamoDB error response.
type Error struct {
	Type    string // full __type, e.g. "com.amazon.coral.validate#ValidationException"
	Message string
	Status  int
	// CancellationReasons is set on TransactionCanceledException.
	CancellationReasons []CancellationReason
	// Item is the current item on ConditionalCheckFailedException when the
	// request asked for ReturnValuesOnConditionCheckFailure=ALL_OLD.
	Item json.RawMessage
}

// CancellationReason is one entry of TransactionCanceledException.CancellationReasons.
type CancellationReason struct {
	Code    string          `json:"Code"`
	Message string          `json:"Message,omitempty"`
	Item    json.RawMessage `json:"Item,omitempty"`
}

func (e *Error) Error() string { return e.Type + ": " + e.Message }

// Name is the short name after the '#'.
func (e *Error) Name() string {
	for i := len(e.Type) - 1; i >= 0; i-- {
		if e.Type[i] == '#' {
			return e.Type[i+1:]
		}
	}
	return e.Type
}

// MarshalJSON renders the wire body.
func (e *Error) MarshalJSON() ([]byte, error) {
	type body struct {
		Type                string               `json:"__type"`
		Message             string               `json:"message,omitempty"`
		CancellationReasons []CancellationReason `json:"CancellationReasons,omitempty"`
		Item                json.RawMessage      `json:"Item,omitempty"`
	}
	return json.Marshal(body{e.Type, e.Message, e.CancellationReasons, e.Item})
}

func newf(ns, name string, status int, format string, args ...any) *Error {
	msg := format
	if len(args) > 0 {
		msg = fmt.Sprintf(format, args...)
	}
	return &Error{Type: ns + name, Message: msg, Status: status}
}

// Validation is com.amazon.coral.validate#ValidationException.
func Validation(format string, args ...any) *Error {
	return newf(nsValidate, "ValidationException", http.StatusBadRequest, format, args...)
}

// Serialization is for bodies that are not the JSON the operation expects.
func Serialization(format string, args ...any) *Error {
	return newf(nsService, "SerializationException", http.StatusBadRequest, format, args...)
}

// UnknownOperation is for a missing or unknown X-Amz-Target.
func UnknownOperation() *Error {
	return newf(nsService, "UnknownOperationException", http.StatusBadRequest, "")
}

// Service builds a com.amazon.coral.service# error (auth and protocol failures).
func Service(name string, status int, format string, args ...any) *Error {
	return newf(nsService, name, status, format, args...)
}

// Dynamo builds a com.amazonaws.dynamodb.v20120810# error with HTTP 400.
func Dynamo(name string, format string, args ...any) *Error {
	return newf(nsDynamo, name, http.StatusBadRequest, format, args...)
}

// ResourceNotFound is the error for a missing table or index.
func ResourceNotFound(format string, args ...any) *Error {
	return Dynamo("ResourceNotFoundException", format, args...)
}

// ResourceInUse is the error for creating an existing table.
func ResourceInUse(format string, args ...any) *Error {
	return Dynamo("ResourceInUseException", format, args...)
}

// ConditionalCheckFailed is the error for a failed ConditionExpression.
func ConditionalCheckFailed() *Error {
	return Dynamo("ConditionalCheckFailedException", "The conditional request failed")
}

// Internal is a 500 the SDK will retry; its message never leaks internals.
func Internal() *Error {
	return newf(nsDynamo, "InternalServerError", http.StatusInternalServerError, "Internal server error")
}
