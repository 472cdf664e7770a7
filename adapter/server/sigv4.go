package server

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/dualread/dualread/adapter/ddberr"
)

// The messages below are AWS's own, as recorded against DynamoDB by dynalite's
// test suite. DynamoDB sends all of these with HTTP 400.
const (
	sigAlgorithm   = "AWS4-HMAC-SHA256"
	amzDateLayout  = "20060102T150405Z"
	scopeDate      = "20060102"
	maxClockSkew   = 15 * time.Minute
	msgMissingAuth = "Request is missing Authentication Token"
	msgUnknownKey  = "The security token included in the request is invalid."
	msgBadSig      = "The request signature we calculated does not match the signature you provided. " +
		"Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
)

func missingAuth() *ddberr.Error {
	return ddberr.Service("MissingAuthenticationTokenException", http.StatusBadRequest, msgMissingAuth)
}

func incompleteSig(format string, args ...any) *ddberr.Error {
	return ddberr.Service("IncompleteSignatureException", http.StatusBadRequest, format, args...)
}

func invalidSig(format string, args ...any) *ddberr.Error {
	return ddberr.Service("InvalidSignatureException", http.StatusBadRequest, format, args...)
}

func unrecognizedClient() *ddberr.Error {
	return ddberr.Service("UnrecognizedClientException", http.StatusBadRequest, msgUnknownKey)
}

// authHeader is a parsed SigV4 Authorization header.
type authHeader struct {
	raw           string
	algorithm     string
	credential    string
	signedHeaders string
	signature     string
	// The five parts of the credential scope.
	accessKeyID, date, region, service, terminator string
}

// parseAuthHeader parses an Authorization header the way DynamoDB does, with
// its error for each way it can be malformed. hasDate tells whether the
// request has an X-Amz-Date or Date header, which DynamoDB demands here.
func parseAuthHeader(v string, hasDate bool) (*authHeader, *ddberr.Error) {
	if !strings.HasPrefix(strings.TrimSpace(v), "AWS4-") {
		// Also for "AWS4" alone and the old AWS3 scheme: AWS treats both as
		// no token at all.
		return nil, missingAuth()
	}
	a := &authHeader{raw: v}
	fields := strings.FieldsFunc(strings.TrimSpace(v), func(r rune) bool { return r == ' ' || r == ',' })
	a.algorithm = fields[0]
	for _, f := range fields[1:] {
		k, val, _ := strings.Cut(f, "=")
		switch k {
		case "Credential":
			a.credential = val
		case "SignedHeaders":
			a.signedHeaders = val
		case "Signature":
			a.signature = val
		}
	}
	var msg strings.Builder
	for _, p := range [...]struct{ name, val string }{
		{"Credential", a.credential}, {"Signature", a.signature}, {"SignedHeaders", a.signedHeaders},
	} {
		if p.val == "" {
			msg.WriteString("Authorization header requires '" + p.name + "' parameter. ")
		}
	}
	if !hasDate {
		msg.WriteString("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. ")
	}
	if msg.Len() > 0 {
		return nil, incompleteSig("%sAuthorization=%s", msg.String(), v)
	}
	return a, nil
}

// checkFormat holds the checks DynamoDB makes after the date and host checks:
// the algorithm and the shape of the credential.
func (a *authHeader) checkFormat() *ddberr.Error {
	if a.algorithm != sigAlgorithm {
		return incompleteSig("Unsupported AWS 'algorithm': '%s' (only AWS4-HMAC-SHA256 for now). ", a.algorithm)
	}
	parts := strings.Split(strings.TrimRight(a.credential, "/"), "/")
	if len(parts) != 5 {
		return incompleteSig("Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '%s'", a.credential)
	}
	a.accessKeyID, a.date, a.region, a.service, a.terminator = parts[0], parts[1], parts[2], parts[3], parts[4]
	return nil
}

// requestTime returns the signing time from X-Amz-Date (ISO-8601 basic
// format) or, failing that, the HTTP Date header.
func requestTime(r *http.Request) (time.Time, *ddberr.Error) {
	if v := r.Header.Get("X-Amz-Date"); v != "" {
		t, err := time.Parse(amzDateLayout, v)
		if err != nil {
			return time.Time{}, incompleteSig("Date must be in ISO-8601 'basic format'. Got '%s'. See http://en.wikipedia.org/wiki/ISO_8601", v)
		}
		return t, nil
	}
	v := r.Header.Get("Date")
	t, err := http.ParseTime(v)
	if err != nil {
		return time.Time{}, incompleteSig("Date must be in ISO-8601 'basic format'. Got '%s'. See http://en.wikipedia.org/wiki/ISO_8601", v)
	}
	return t.UTC(), nil
}

// checkSkew refuses a request signed more than 15 minutes from now.
func checkSkew(t, now time.Time) *ddberr.Error {
	now = now.UTC()
	f := func(t time.Time) string { return t.Format(amzDateLayout) }
	if t.Before(now.Add(-maxClockSkew)) {
		return invalidSig("Signature expired: %s is now earlier than %s (%s - 15 min.)", f(t), f(now.Add(-maxClockSkew)), f(now))
	}
	if t.After(now.Add(maxClockSkew)) {
		return invalidSig("Signature not yet current: %s is still later than %s (%s + 15 min.)", f(t), f(now.Add(maxClockSkew)), f(now))
	}
	return nil
}

// signedHeaderList splits SignedHeaders; names are compared lower-cased.
func (a *authHeader) signedHeaderList() []string {
	names := strings.Split(a.signedHeaders, ";")
	for i, n := range names {
		names[i] = strings.ToLower(strings.TrimSpace(n))
	}
	return names
}

// checkScope checks the credential scope against the request: the service,
// the terminator, the date and (when the endpoint has one) the region.
func (a *authHeader) checkScope(t time.Time, region string) *ddberr.Error {
	var msg []string
	if region != "" && a.region != region {
		msg = append(msg, "Credential should be scoped to a valid region, not '"+a.region+"'.")
	}
	if a.service != "dynamodb" {
		msg = append(msg, "Credential should be scoped to correct service: 'dynamodb'.")
	}
	if a.terminator != "aws4_request" {
		msg = append(msg, "Credential should be scoped with a valid terminator: 'aws4_request', not '"+a.terminator+"'.")
	}
	if want := t.Format(scopeDate); a.date != want {
		msg = append(msg, "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '"+
			a.date+"' != '"+want+"', from '"+t.Format(amzDateLayout)+"'.")
	}
	if len(msg) > 0 {
		return invalidSig("%s", strings.Join(msg, " "))
	}
	return nil
}

// canonicalRequest builds SigV4's canonical request. The payload hash is
// always computed from the bytes received: DynamoDB does not accept
// UNSIGNED-PAYLOAD, and a client that claims it (or any other hash in
// X-Amz-Content-Sha256) fails the signature check like any other mismatch.
func canonicalRequest(r *http.Request, signedHeaders string, names []string, payload []byte) string {
	var b strings.Builder
	b.WriteString(r.Method)
	b.WriteByte('\n')
	b.WriteString(canonicalURI(r.URL))
	b.WriteByte('\n')
	b.WriteString(canonicalQuery(r.URL.RawQuery))
	b.WriteByte('\n')
	for _, n := range names {
		b.WriteString(n)
		b.WriteByte(':')
		b.WriteString(canonicalHeaderValue(r, n))
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	b.WriteString(signedHeaders)
	b.WriteByte('\n')
	sum := sha256.Sum256(payload)
	b.WriteString(hex.EncodeToString(sum[:]))
	return b.String()
}

// canonicalURI is the escaped path escaped once more, as the SDKs do for
// every service but S3.
func canonicalURI(u *url.URL) string {
	p := u.EscapedPath()
	if p == "" {
		return "/"
	}
	return uriEscape(p, false)
}

// canonicalQuery sorts the query by name, then value, each re-encoded with
// SigV4's escaping.
func canonicalQuery(raw string) string {
	if raw == "" {
		return ""
	}
	type kv struct{ k, v string }
	var pairs []kv
	for _, part := range strings.Split(raw, "&") {
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		if uk, err := url.QueryUnescape(k); err == nil {
			k = uk
		}
		if uv, err := url.QueryUnescape(v); err == nil {
			v = uv
		}
		pairs = append(pairs, kv{uriEscape(k, true), uriEscape(v, true)})
	}
	sort.Slice(pairs, func(i, j int) bool {
		if pairs[i].k != pairs[j].k {
			return pairs[i].k < pairs[j].k
		}
		return pairs[i].v < pairs[j].v
	})
	out := make([]string, len(pairs))
	for i, p := range pairs {
		out[i] = p.k + "=" + p.v
	}
	return strings.Join(out, "&")
}

// uriEscape percent-encodes everything but RFC 3986's unreserved characters
// (and '/', unless encodeSlash).
func uriEscape(s string, encodeSlash bool) string {
	const hexdig = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
			c == '-' || c == '_' || c == '.' || c == '~' || (c == '/' && !encodeSlash) {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexdig[c>>4])
		b.WriteByte(hexdig[c&15])
	}
	return b.String()
}

// canonicalHeaderValue is a header's values, trimmed, inner runs of spaces
// collapsed, joined by commas. net/http keeps Host and (sometimes)
// Content-Length outside r.Header, so those come from the request itself.
func canonicalHeaderValue(r *http.Request, name string) string {
	var vals []string
	switch name {
	case "host":
		vals = []string{r.Host}
	case "content-length":
		vals = r.Header.Values("Content-Length")
		if len(vals) == 0 && r.ContentLength >= 0 {
			vals = []string{strconv.FormatInt(r.ContentLength, 10)}
		}
	case "transfer-encoding":
		vals = r.TransferEncoding
	default:
		vals = r.Header.Values(name)
	}
	out := make([]string, len(vals)) // never edit the request's own slices
	for i, v := range vals {
		out[i] = strings.Join(strings.Fields(v), " ")
	}
	return strings.Join(out, ",")
}

// stringToSign is SigV4's string to sign for a canonical request.
func stringToSign(t time.Time, scope, canonical string) string {
	sum := sha256.Sum256([]byte(canonical))
	return sigAlgorithm + "\n" + t.Format(amzDateLayout) + "\n" + scope + "\n" + hex.EncodeToString(sum[:])
}

// signingKey derives the SigV4 key: HMAC chain over date, region, service.
func signingKey(secret, date, region, service string) []byte {
	k := hmacSHA256([]byte("AWS4"+secret), date)
	k = hmacSHA256(k, region)
	k = hmacSHA256(k, service)
	return hmacSHA256(k, "aws4_request")
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}
