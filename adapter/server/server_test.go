package server

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// The crc32 values marked "AWS" are the x-amz-crc32 headers AWS sent for these
// exact bodies, as recorded in dynalite's test suite: matching them proves the
// bodies are byte-identical to DynamoDB's.
func TestProtocolAnswers(t *testing.T) {
	h := New(echoExecutor{}, Options{Logger: quietLogger()})
	ok := dynamoHeaders("ListTables")
	tests := []struct {
		name     string
		method   string
		headers  map[string]string
		body     string
		status   int
		wantBody string // exact, when set
		wantType string // __type, when set
		wantMsg  string // message, when wantType is set
		crc      string // exact x-amz-crc32, when set
		ctype    string // exact Content-Type, when set
	}{
		{name: "GET health", method: "GET", status: 200,
			wantBody: "healthy: dynamodb.us-east-1.amazonaws.com ", crc: "3128867991" /* AWS */},
		{name: "PUT", method: "PUT", headers: ok, body: "{}", status: 404,
			wantBody: "<UnknownOperationException/>\n", crc: "3552371480" /* AWS */},
		{name: "DELETE", method: "DELETE", status: 404, wantBody: "<UnknownOperationException/>\n"},
		{name: "body in wrong content type", method: "POST", headers: with(ok, "Content-Type", "text/plain"),
			body: "hi", status: 404, wantBody: "<UnknownOperationException/>\n"},
		{name: "body without content type", method: "POST", headers: with(ok, "Content-Type", ""),
			body: "{}", status: 404, wantBody: "<UnknownOperationException/>\n"},
		{name: "malformed JSON", method: "POST", headers: ok, body: `{"a":`, status: 400,
			wantBody: `{"__type":"com.amazon.coral.service#SerializationException"}`, crc: "3948637019" /* AWS */},
		{name: "malformed JSON before target", method: "POST", headers: with(ok, "X-Amz-Target", ""), body: "hi",
			status: 400, wantType: "com.amazon.coral.service#SerializationException"},
		{name: "JSON array", method: "POST", headers: ok, body: `[1]`, status: 400,
			wantType: "com.amazon.coral.service#SerializationException", wantMsg: "Start of list found where not expected"},
		{name: "JSON string", method: "POST", headers: ok, body: `"x"`, status: 400,
			wantType: "com.amazon.coral.service#SerializationException", wantMsg: "Unexpected value type in payload"},
		{name: "trailing garbage", method: "POST", headers: ok, body: `{} {}`, status: 400,
			wantType: "com.amazon.coral.service#SerializationException"},
		{name: "no target", method: "POST", headers: with(ok, "X-Amz-Target", "", "Content-Type", "application/json"),
			body: "{}", status: 400,
			wantBody: `{"__type":"com.amazon.coral.service#UnknownOperationException"}`, crc: "1368724161" /* AWS */},
		{name: "unknown operation", method: "POST", headers: with(ok, "X-Amz-Target", "DynamoDB_20120810.ListTable"),
			body: "{}", status: 400, wantType: "com.amazon.coral.service#UnknownOperationException"},
		{name: "other API", method: "POST", headers: with(ok, "X-Amz-Target", "Kinesis_20131202.ListStreams"),
			body: "{}", status: 400, wantType: "com.amazon.coral.service#UnknownOperationException"},
		{name: "old API version", method: "POST", headers: with(ok, "X-Amz-Target", "DynamoDB_20111205.ListTables"),
			body: "{}", status: 400, wantType: "com.amazon.coral.service#UnknownOperationException"},
		{name: "case matters", method: "POST", headers: with(ok, "X-Amz-Target", "DynamoDB_20120810.listTables"),
			body: "{}", status: 400, wantType: "com.amazon.coral.service#UnknownOperationException"},
		{name: "no authorization", method: "POST", headers: with(ok, "Authorization", "", "Content-Type", "application/json"),
			body: "{}", status: 400,
			wantBody: `{"__type":"com.amazon.coral.service#MissingAuthenticationTokenException","message":"Request is missing Authentication Token"}`,
			crc:      "2088342776" /* AWS */},
		{name: "AWS4 without dash", method: "POST", headers: with(ok, "Authorization", "AWS4"), body: "{}", status: 400,
			wantType: "com.amazon.coral.service#MissingAuthenticationTokenException", wantMsg: "Request is missing Authentication Token"},
		{name: "bare AWS4-", method: "POST", headers: with(ok, "Authorization", "AWS4-", "X-Amz-Date", "", "Content-Type", "application/json"),
			body: "{}", status: 400,
			wantBody: `{"__type":"com.amazon.coral.service#IncompleteSignatureException","message":"Authorization header requires 'Credential' parameter. Authorization header requires 'Signature' parameter. Authorization header requires 'SignedHeaders' parameter. Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. Authorization=AWS4-"}`,
			crc:      "1828866742" /* AWS */},
		{name: "bad algorithm", method: "POST",
			headers: with(ok, "Authorization", strings.Replace(testAuth, "SHA256", "SHA25", 1)), body: "{}", status: 400,
			wantType: "com.amazon.coral.service#IncompleteSignatureException",
			wantMsg:  "Unsupported AWS 'algorithm': 'AWS4-HMAC-SHA25' (only AWS4-HMAC-SHA256 for now). "},
		{name: "short credential", method: "POST",
			headers: with(ok, "Authorization", "AWS4-HMAC-SHA256 Credential=a/b/c/d/, SignedHeaders=host, Signature=0"),
			body:    "{}", status: 400, wantType: "com.amazon.coral.service#IncompleteSignatureException",
			wantMsg: "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got 'a/b/c/d/'"},
		{name: "empty body after auth", method: "POST", headers: ok, status: 400,
			wantBody: `{"__type":"com.amazon.coral.service#SerializationException"}`},
		{name: "ok 1.0", method: "POST", headers: ok, body: `{"Limit":1}`, status: 200, ctype: contentTypeJSON10},
		{name: "ok 1.1", method: "POST", headers: with(ok, "Content-Type", contentTypeJSON11), body: `{}`, status: 200, ctype: contentTypeJSON11},
		{name: "ok application/json", method: "POST", headers: with(ok, "Content-Type", "application/json; charset=utf-8"),
			body: `{}`, status: 200, ctype: contentTypeJSON},
		{name: "any path", method: "POST", headers: ok, body: `{}`, status: 200},
		{name: "executor ddberr", method: "POST", headers: ok, body: `{"Fail":"ddb"}`, status: 400,
			wantBody: `{"__type":"com.amazonaws.dynamodb.v20120810#ResourceNotFoundException","message":"Requested resource not found"}`},
		{name: "executor wrapped ddberr", method: "POST", headers: ok, body: `{"Fail":"wrapped"}`, status: 400,
			wantType: "com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException", wantMsg: "The conditional request failed"},
		{name: "executor plain error", method: "POST", headers: ok, body: `{"Fail":"plain"}`, status: 500,
			wantBody: `{"__type":"com.amazonaws.dynamodb.v20120810#InternalServerError","message":"Internal server error"}`},
		{name: "executor panic", method: "POST", headers: ok, body: `{"Fail":"panic"}`, status: 500,
			wantType: "com.amazonaws.dynamodb.v20120810#InternalServerError"},
		{name: "executor empty answer", method: "POST", headers: ok, body: `{"Fail":"empty"}`, status: 200, wantBody: `{}`},
		{name: "unsupported encoding", method: "POST", headers: with(ok, "Content-Encoding", "br"), body: `{}`, status: 400,
			wantType: "com.amazon.coral.service#SerializationException", wantMsg: "Unsupported Content-Encoding: br"},
		{name: "gzip header on plain body", method: "POST", headers: with(ok, "Content-Encoding", "gzip"), body: `{}`, status: 400,
			wantBody: `{"__type":"com.amazon.coral.service#SerializationException"}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := serve(t, h, tc.method, tc.headers, []byte(tc.body))
			checkEnvelope(t, w)
			if w.Code != tc.status {
				t.Fatalf("status = %d, want %d; body %s", w.Code, tc.status, w.Body)
			}
			if tc.wantBody != "" && w.Body.String() != tc.wantBody {
				t.Errorf("body = %q, want %q", w.Body, tc.wantBody)
			}
			if tc.wantType != "" {
				var e struct {
					Type    string `json:"__type"`
					Message string `json:"message"`
				}
				if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil {
					t.Fatalf("error body %q: %v", w.Body, err)
				}
				if e.Type != tc.wantType || (tc.wantMsg != "" && e.Message != tc.wantMsg) {
					t.Errorf("error = %s %q, want %s %q", e.Type, e.Message, tc.wantType, tc.wantMsg)
				}
			}
			if tc.crc != "" && w.Header()["x-amz-crc32"][0] != tc.crc {
				t.Errorf("x-amz-crc32 = %s, want AWS's %s", w.Header()["x-amz-crc32"][0], tc.crc)
			}
			if tc.ctype != "" && w.Header().Get("Content-Type") != tc.ctype {
				t.Errorf("Content-Type = %q, want %q", w.Header().Get("Content-Type"), tc.ctype)
			}
		})
	}
}

func TestExecutorSeesOperationBodyAndCaller(t *testing.T) {
	creds, err := NewCredentials(Credential{AccessKeyID: "AKIDTEST", Secret: "s", Service: "orders"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		opts     Options
		headers  map[string]string
		body     []byte
		wantBody string
		wantCall Caller
	}{
		{name: "identify", opts: Options{}, headers: dynamoHeaders("GetItem"), body: []byte(`{"TableName":"t"}`),
			wantBody: `{"TableName":"t"}`, wantCall: Caller{AccessKeyID: "AKIDTEST", Region: "us-east-1"}},
		{name: "identify names the service", opts: Options{Credentials: creds}, headers: dynamoHeaders("GetItem"),
			body: []byte(`{}`), wantBody: `{}`, wantCall: Caller{AccessKeyID: "AKIDTEST", Service: "orders", Region: "us-east-1"}},
		{name: "none without header", opts: Options{Auth: AuthNone}, headers: with(dynamoHeaders("GetItem"), "Authorization", ""),
			body: []byte(`{}`), wantBody: `{}`, wantCall: Caller{}},
		{name: "none with header", opts: Options{Auth: AuthNone}, headers: dynamoHeaders("GetItem"),
			body: []byte(`{}`), wantBody: `{}`, wantCall: Caller{AccessKeyID: "AKIDTEST", Region: "us-east-1"}},
		{name: "gzip", opts: Options{}, headers: with(dynamoHeaders("GetItem"), "Content-Encoding", "gzip"),
			body: gzipped(t, []byte(`{"TableName":"zipped"}`)), wantBody: `{"TableName":"zipped"}`,
			wantCall: Caller{AccessKeyID: "AKIDTEST", Region: "us-east-1"}},
		{name: "null is an empty object", opts: Options{}, headers: dynamoHeaders("GetItem"), body: []byte(` null `),
			wantBody: `{}`, wantCall: Caller{AccessKeyID: "AKIDTEST", Region: "us-east-1"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.opts.Logger = quietLogger()
			w := serve(t, New(echoExecutor{}, tc.opts), "POST", tc.headers, tc.body)
			checkEnvelope(t, w)
			if w.Code != 200 {
				t.Fatalf("status %d: %s", w.Code, w.Body)
			}
			var got echoed
			if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
				t.Fatal(err)
			}
			if got.Op != "GetItem" || string(got.Body) != tc.wantBody || got.Caller != tc.wantCall {
				t.Errorf("executor got op %s body %s caller %+v; want GetItem %s %+v", got.Op, got.Body, got.Caller, tc.wantBody, tc.wantCall)
			}
			if got.RequestID != w.Header()["x-amzn-RequestId"][0] {
				t.Errorf("executor saw request id %q, response has %q", got.RequestID, w.Header()["x-amzn-RequestId"])
			}
		})
	}
}

func TestRequestIDsAreUnique(t *testing.T) {
	h := New(echoExecutor{}, Options{Logger: quietLogger()})
	seen := map[string]bool{}
	for range 200 {
		w := serve(t, h, "GET", nil, nil)
		id := w.Header()["x-amzn-RequestId"][0]
		if seen[id] {
			t.Fatalf("request id %s repeated", id)
		}
		seen[id] = true
	}
}

func TestBodySizeLimit(t *testing.T) {
	h := New(echoExecutor{}, Options{Logger: quietLogger()})
	// A valid JSON object of exactly n bytes.
	object := func(n int) []byte {
		b := bytes.Repeat([]byte("a"), n)
		copy(b, `{"x":"`)
		copy(b[n-2:], `"}`)
		return b
	}
	tests := []struct {
		name    string
		body    []byte
		chunked bool
		gzip    bool
		status  int
	}{
		{name: "exactly 16 MiB", body: object(DefaultMaxBodyBytes), status: 200},
		{name: "16 MiB + 1", body: object(DefaultMaxBodyBytes + 1), status: 413},
		{name: "16 MiB + 1 chunked", body: object(DefaultMaxBodyBytes + 1), chunked: true, status: 413},
		{name: "gzip inflating past 16 MiB", body: object(DefaultMaxBodyBytes + 1), gzip: true, status: 413},
		{name: "gzip inflating to 16 MiB", body: object(DefaultMaxBodyBytes), gzip: true, status: 200},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			hdr := dynamoHeaders("PutItem")
			body := tc.body
			if tc.gzip {
				body = gzipped(t, body)
				hdr = with(hdr, "Content-Encoding", "gzip")
			}
			r := httptest.NewRequest("POST", "/", bytes.NewReader(body))
			for k, v := range hdr {
				r.Header.Set(k, v)
			}
			if tc.chunked {
				r.ContentLength = -1
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			checkEnvelope(t, w)
			if w.Code != tc.status {
				t.Fatalf("status = %d, want %d", w.Code, tc.status)
			}
			if tc.status == 413 && w.Body.String() != tooLargeBody {
				t.Errorf("body = %q, want DynamoDB Local's %q", w.Body, tooLargeBody)
			}
		})
	}
}

func TestHeadHealth(t *testing.T) {
	h := New(echoExecutor{}, Options{Logger: quietLogger(), Region: "eu-west-1"})
	w := serve(t, h, "HEAD", nil, nil)
	if w.Code != http.StatusOK || w.Body.Len() != 0 {
		t.Fatalf("HEAD: %d %q", w.Code, w.Body)
	}
	w = serve(t, h, "GET", nil, nil)
	if got := w.Body.String(); got != "healthy: dynamodb.eu-west-1.amazonaws.com " {
		t.Fatalf("GET: %q", got)
	}
}

func TestNewRejectsBadOptions(t *testing.T) {
	for _, o := range []Options{{Auth: AuthVerify}, {Auth: "sometimes"}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("New(%+v) did not panic", o)
				}
			}()
			New(echoExecutor{}, o)
		}()
	}
}

// TestIdentifyWithoutDate: identify mode, like DynamoDB Local, names the
// caller of a complete Authorization header that lacks the date header AWS
// demands; verify mode still refuses it.
func TestIdentifyWithoutDate(t *testing.T) {
	for _, c := range []struct {
		mode   AuthMode
		status int
	}{{AuthIdentify, http.StatusOK}, {AuthVerify, http.StatusBadRequest}} {
		creds, _ := NewCredentials(Credential{AccessKeyID: "AKIDTEST", Secret: "s", Service: "svc"})
		h := New(echoExecutor{}, Options{Auth: c.mode, Credentials: creds, Logger: quietLogger()})
		req := httptest.NewRequest(http.MethodPost, "/", bytes.NewBufferString(`{}`))
		req.Header.Set("X-Amz-Target", "DynamoDB_20120810.ListTables")
		req.Header.Set("Content-Type", "application/x-amz-json-1.0")
		req.Header.Set("Authorization", testAuth)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != c.status {
			t.Fatalf("%s: status %d, want %d: %s", c.mode, rec.Code, c.status, rec.Body)
		}
		if c.mode == AuthIdentify && !bytes.Contains(rec.Body.Bytes(), []byte(`"AKIDTEST"`)) {
			t.Errorf("identify: caller not named: %s", rec.Body)
		}
	}
}
