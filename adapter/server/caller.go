package server

import (
	"context"
	"strings"
)

// Caller is the identity of the service calling the adapter, as far as the
// configured auth mode can tell. The audit records it per request.
type Caller struct {
	// AccessKeyID is the key id from the SigV4 Credential; empty when the
	// request carried no parsable Authorization header (AuthNone only).
	AccessKeyID string
	// Service is the service name the credentials file gives the key; empty
	// when no credentials file is loaded or the key is not in it.
	Service string
	// HeaderService is the service the request names in
	// Options.ServiceHeader, if configured and well-formed. It is the
	// caller's word, not checked: the credentials mapping wins over it.
	HeaderService string
	// Region is the region of the credential scope the client signed for.
	Region string
	// Verified is true when the SigV4 signature was checked (AuthVerify).
	Verified bool
}

// Name is the best human name for the caller: the service the credentials
// file maps the SigV4 access key to, else the service the request's
// service header names, else the access key id, else "anonymous".
func (c Caller) Name() string {
	switch {
	case c.Service != "":
		return c.Service
	case c.HeaderService != "":
		return c.HeaderService
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

// maxServiceName bounds a service named by header: it becomes an InfluxDB
// tag, and a client must not be able to make series without end.
const maxServiceName = 64

// headerService returns v if it is a plausible service name (1 to 64 of
// letters, digits and ._-:/@), else "" (ignored: the caller falls back to
// its access key id).
func headerService(v string) string {
	if v == "" || len(v) > maxServiceName {
		return ""
	}
	for _, c := range v {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("._-:/@", c)
		if !ok {
			return ""
		}
	}
	return v
}
