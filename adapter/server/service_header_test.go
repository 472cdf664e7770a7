package server

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestServiceHeaderPrecedence: the credentials file's mapping of the SigV4
// key wins; otherwise a well-formed service header names the caller; a
// malformed one is ignored (the access key id names it); without
// Options.ServiceHeader the header means nothing.
func TestServiceHeaderPrecedence(t *testing.T) {
	creds, err := NewCredentials(Credential{AccessKeyID: "AKIDMAPPED", Secret: "s", Service: "orders"})
	if err != nil {
		t.Fatal(err)
	}
	auth := func(key string) string { return strings.Replace(testAuth, "AKIDTEST", key, 1) }
	tests := []struct {
		name, header, key, value, want string
	}{
		{"mapped key wins over the header", "X-Dualread-Service", "AKIDMAPPED", "billing", "orders"},
		{"header names an unmapped key's service", "X-Dualread-Service", "AKIDTEST", "billing", "billing"},
		{"header absent: the key id", "X-Dualread-Service", "AKIDTEST", "", "AKIDTEST"},
		{"malformed header ignored", "X-Dualread-Service", "AKIDTEST", "bad name;drop", "AKIDTEST"},
		{"overlong header ignored", "X-Dualread-Service", "AKIDTEST", strings.Repeat("a", maxServiceName+1), "AKIDTEST"},
		{"header not configured", "", "AKIDTEST", "billing", "AKIDTEST"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := New(echoExecutor{}, Options{Credentials: creds, ServiceHeader: tc.header, Logger: quietLogger()})
			req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader([]byte(`{"TableName":"t"}`)))
			for k, v := range dynamoHeaders("GetItem") {
				req.Header.Set(k, v)
			}
			req.Header.Set("Authorization", auth(tc.key))
			if tc.value != "" {
				req.Header.Set("X-Dualread-Service", tc.value)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			var got echoed
			if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
				t.Fatalf("status %d body %s: %v", w.Code, w.Body, err)
			}
			if got.Caller.Name() != tc.want {
				t.Errorf("caller %+v named %q, want %q", got.Caller, got.Caller.Name(), tc.want)
			}
		})
	}
}
