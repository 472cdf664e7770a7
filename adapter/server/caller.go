package server

import "context"

// Caller is the identity of the service calling the adapter, as far as the
// configured auth mode can tell. The audit records it per request.
type Caller struct {
	// AccessKeyID is the key id from the SigV4 Credential; empty when the
	// request carried no parsable Authorization header (AuthNone only).
	AccessKeyID string
	// Service is the service name the credentials file gives the key; empty
	// when no credentials file is loaded or the key is not in it.
	Service string
	// Region is the region of the credential scope the client signed for.
	Region string
	// Verified is true when the SigV4 signature was checked (AuthVerify).
	Verified bool
}

// Name is the best human name for the caller: the service name when known,
// else the access key id, else "anonymous".
func (c Caller) Name() string {
	switch {
	case c.Service != "":
		return c.Service
	case c.AccessKeyID != "":
		return c.AccessKeyID
	default:
		return "anonymous"
	}
}

type callerKey struct{}

type requestIDKey struct{}

// CallerFrom returns the caller of the request that ctx belongs to, or the
// zero Caller outside a request.
func CallerFrom(ctx context.Context) Caller {
	c, _ := ctx.Value(callerKey{}).(Caller)
	return c
}

// RequestIDFrom returns the x-amzn-RequestId sent with the response of the
// request that ctx belongs to, so executor logs can be joined with client logs.
func RequestIDFrom(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}
