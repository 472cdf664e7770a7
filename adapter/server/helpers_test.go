package server

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"hash/crc32"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/dualread/dualread/adapter/ddberr"
)

// echoExecutor answers every operation with what it was given, so tests see
// exactly what the protocol layer hands over. A few request bodies make it
// fail in chosen ways.
type echoExecutor struct{}

type echoed struct {
	Op        string          `json:"Op"`
	Body      json.RawMessage `json:"Body"`
	Caller    Caller          `json:"Caller"`
	RequestID string          `json:"RequestID"`
	// TableNames lets an SDK ListTables call carry the caller back.
	TableNames []string `json:"TableNames"`
}

func (echoExecutor) Do(ctx context.Context, op string, body []byte) ([]byte, error) {
	var probe struct{ Fail string }
	_ = json.Unmarshal(body, &probe)
	switch probe.Fail {
	case "ddb":
		return nil, ddberr.ResourceNotFound("Requested resource not found")
	case "wrapped":
		return nil, errors.Join(errors.New("context"), ddberr.ConditionalCheckFailed())
	case "plain":
		return nil, errors.New("backend exploded")
	case "panic":
		panic("executor bug")
	case "empty":
		return nil, nil
	}
	c := CallerFrom(ctx)
	return json.Marshal(echoed{Op: op, Body: body, Caller: c, RequestID: RequestIDFrom(ctx),
		TableNames: []string{c.Service, c.AccessKeyID}})
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// testAuth is a well-formed header; identify mode does not check its signature.
const testAuth = "AWS4-HMAC-SHA256 Credential=AKIDTEST/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=host;x-amz-date, Signature=0"

// dynamoHeaders are the headers of a well-formed request for op.
func dynamoHeaders(op string) map[string]string {
	return map[string]string{
		"Content-Type":  contentTypeJSON10,
		"X-Amz-Target":  "DynamoDB_20120810." + op,
		"Authorization": testAuth,
		"X-Amz-Date":    "20260101T000000Z",
	}
}

func with(h map[string]string, kv ...string) map[string]string {
	out := map[string]string{}
	for k, v := range h {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "" {
			delete(out, kv[i])
		} else {
			out[kv[i]] = kv[i+1]
		}
	}
	return out
}

func serve(t testing.TB, h http.Handler, method string, headers map[string]string, body []byte) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(method, "/", bytes.NewReader(body))
	for k, v := range headers {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// checkEnvelope checks what every response must carry.
func checkEnvelope(t testing.TB, w *httptest.ResponseRecorder) {
	t.Helper()
	id := w.Header()["x-amzn-RequestId"]
	if len(id) != 1 || len(id[0]) != 52 {
		t.Errorf("x-amzn-RequestId = %q, want one 52-character id", id)
	}
	crc := w.Header()["x-amz-crc32"]
	want := strconv.FormatUint(uint64(crc32.ChecksumIEEE(w.Body.Bytes())), 10)
	if len(crc) != 1 || crc[0] != want {
		t.Errorf("x-amz-crc32 = %q, want %s for body %q", crc, want, w.Body.String())
	}
	if cl := w.Header().Get("Content-Length"); cl != strconv.Itoa(w.Body.Len()) {
		t.Errorf("Content-Length = %q, body has %d bytes", cl, w.Body.Len())
	}
}

func gzipped(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
