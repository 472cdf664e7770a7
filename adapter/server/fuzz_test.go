package server

import (
	"bytes"
	"net/http/httptest"
	"testing"
	"time"
)

// FuzzHandler feeds arbitrary requests through the decoding and auth paths in
// every auth mode. The executor never fails, so any 500 means the protocol
// layer itself broke (a recovered panic shows up as a 500 too).
func FuzzHandler(f *testing.F) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	seeds := []struct {
		method, target, ctype, encoding, auth, date string
		body                                        []byte
	}{
		{"POST", "DynamoDB_20120810.GetItem", contentTypeJSON10, "", testAuth, "20260101T000000Z", []byte(`{"TableName":"t"}`)},
		{"POST", "DynamoDB_20120810.PutItem", contentTypeJSON11, "gzip", testAuth, "20260101T000000Z", gzipped(f, []byte(`{"a":1}`))},
		{"POST", "DynamoDB_20120810.Query", "application/json", "gzip, identity", testAuth, "", []byte(`[1,2]`)},
		{"POST", "", "", "", "", "", nil},
		{"POST", "DynamoDB_20120810.Scan", contentTypeJSON10, "", "AWS4-", "x", []byte(`null`)},
		{"POST", "DynamoDB_20120810.Scan", contentTypeJSON10, "deflate", "AWS4-HMAC-SHA256 Credential=/////, Signature=,", "201", []byte(`{"`)},
		{"GET", "", "", "", "", "", nil},
		{"PATCH", "x.y.z", "text/plain", "", "AWS3 x", "", []byte("hi")},
		{"POST", "DynamoDB_20120810.GetItem", contentTypeJSON10, "gzip", testAuth, "20260101T000000Z", []byte{0x1f, 0x8b, 8, 0, 0, 0}},
	}
	for _, s := range seeds {
		f.Add(s.method, s.target, s.ctype, s.encoding, s.auth, s.date, s.body)
	}
	creds, err := NewCredentials(Credential{AccessKeyID: "AKIDTEST", Secret: "s"})
	if err != nil {
		f.Fatal(err)
	}
	var handlers []*handler
	for _, mode := range []AuthMode{AuthNone, AuthIdentify, AuthVerify} {
		h := New(echoExecutor{}, Options{Auth: mode, Credentials: creds, Logger: quietLogger(), MaxBodyBytes: 1 << 16,
			Now: func() time.Time { return now }})
		handlers = append(handlers, h.(*handler))
	}
	f.Fuzz(func(t *testing.T, method, target, ctype, encoding, auth, date string, body []byte) {
		if bytes.Contains(body, []byte(`"Fail"`)) {
			t.Skip("the echo executor fails on purpose for these bodies")
		}
		for _, h := range handlers {
			r := httptest.NewRequest("POST", "/", bytes.NewReader(body))
			r.Method = method
			for k, v := range map[string]string{"X-Amz-Target": target, "Content-Type": ctype,
				"Content-Encoding": encoding, "Authorization": auth, "X-Amz-Date": date} {
				if v != "" {
					r.Header.Set(k, v)
				}
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code >= 500 {
				t.Fatalf("auth %s: status %d: %s", h.opts.Auth, w.Code, w.Body)
			}
			checkEnvelope(t, w)
		}
	})
}
