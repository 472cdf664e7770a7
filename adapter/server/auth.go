package server

import (
	"crypto/hmac"
	"encoding/hex"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/dualread/dualread/adapter/ddberr"
)

// AuthMode is how the handler authenticates requests.
type AuthMode string

const (
	// AuthNone accepts every request; the caller is the access key id of a
	// well-formed Authorization header if there is one, else anonymous.
	AuthNone AuthMode = "none"
	// AuthIdentify (the default) demands a well-formed SigV4 Authorization
	// header, with DynamoDB's errors when it is missing or malformed, and
	// takes its access key id as the caller without checking the signature.
	AuthIdentify AuthMode = "identify"
	// AuthVerify checks the SigV4 signature against Options.Credentials.
	AuthVerify AuthMode = "verify"
)

// ParseAuthMode parses a --auth flag value.
func ParseAuthMode(s string) (AuthMode, error) {
	switch m := AuthMode(strings.ToLower(strings.TrimSpace(s))); m {
	case AuthNone, AuthIdentify, AuthVerify:
		return m, nil
	default:
		return "", fmt.Errorf("unknown auth mode %q (want none, identify or verify)", s)
	}
}

// authenticate applies the configured mode. raw is the body as received.
func (h *handler) authenticate(r *http.Request, raw []byte) (Caller, *ddberr.Error) {
	v := r.Header.Get("Authorization")
	hasDate := r.Header.Get("X-Amz-Date") != "" || r.Header.Get("Date") != ""
	if h.opts.Auth == AuthNone {
		// Best effort: name the caller if the header allows it.
		a, err := parseAuthHeader(v, hasDate)
		if err != nil || a.checkFormat() != nil {
			return Caller{}, nil
		}
		return h.caller(a, false), nil
	}

	a, err := parseAuthHeader(v, hasDate)
	if err != nil && h.opts.Auth == AuthIdentify && !hasDate {
		// identify names the caller without checking the request, as
		// DynamoDB Local does: a header that is complete but for the date
		// AWS demands is accepted; a malformed one keeps AWS's answer.
		if b, err2 := parseAuthHeader(v, true); err2 == nil {
			a, err = b, nil
		}
	}
	if err != nil {
		return Caller{}, err
	}
	if h.opts.Auth == AuthIdentify {
		if err := a.checkFormat(); err != nil {
			return Caller{}, err
		}
		return h.caller(a, false), nil
	}
	return h.verify(r, a, raw)
}

// verify runs DynamoDB's signature checks in DynamoDB's order: date format,
// clock skew, Host signed, algorithm, credential shape, credential scope,
// access key, signature.
func (h *handler) verify(r *http.Request, a *authHeader, raw []byte) (Caller, *ddberr.Error) {
	t, err := requestTime(r)
	if err != nil {
		return Caller{}, err
	}
	if err := checkSkew(t, h.opts.Now()); err != nil {
		return Caller{}, err
	}
	names := a.signedHeaderList()
	if !slices.Contains(names, "host") {
		return Caller{}, invalidSig("'Host' must be a 'SignedHeader' in the AWS Authorization.")
	}
	if err := a.checkFormat(); err != nil {
		return Caller{}, err
	}
	if err := a.checkScope(t, h.opts.Region); err != nil {
		return Caller{}, err
	}
	cred, ok := h.opts.Credentials.Lookup(a.accessKeyID)
	if !ok {
		return Caller{}, unrecognizedClient()
	}
	canonical := canonicalRequest(r, a.signedHeaders, names, raw)
	scope := strings.Join([]string{a.date, a.region, a.service, a.terminator}, "/")
	sts := stringToSign(t, scope, canonical)
	want := hex.EncodeToString(hmacSHA256(signingKey(cred.Secret, a.date, a.region, a.service), sts))
	if !hmac.Equal([]byte(want), []byte(strings.ToLower(a.signature))) {
		// AWS puts the canonical request and string to sign in the message;
		// we keep them for the operator's log, not the client.
		h.log.Debug("signature mismatch", "access_key_id", a.accessKeyID,
			"canonical_request", canonical, "string_to_sign", sts)
		return Caller{}, invalidSig(msgBadSig)
	}
	c := h.caller(a, true)
	return c, nil
}

// caller names the caller of a parsed header, with the service name from the
// credentials file when the key is in it.
func (h *handler) caller(a *authHeader, verified bool) Caller {
	c := Caller{AccessKeyID: a.accessKeyID, Region: a.region, Verified: verified}
	if cred, ok := h.opts.Credentials.Lookup(a.accessKeyID); ok {
		c.Service = cred.Service
	}
	return c
}
