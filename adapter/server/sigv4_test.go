package server

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

const (
	testKeyID  = "AKIDVERIFY"
	testSecret = "verysecret/with+chars"
)

func verifyServer(t *testing.T, now func() time.Time) *httptest.Server {
	t.Helper()
	creds, err := NewCredentials(Credential{AccessKeyID: testKeyID, Secret: testSecret, Service: "orders-api"})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(New(echoExecutor{}, Options{Auth: AuthVerify, Credentials: creds, Logger: quietLogger(), Now: now}))
	t.Cleanup(srv.Close)
	return srv
}

// sdkClient is the real AWS SDK client pointed at url.
func sdkClient(url, keyID, secret string, extra ...func(*dynamodb.Options)) *dynamodb.Client {
	return dynamodb.New(dynamodb.Options{
		Region:           "us-east-1",
		BaseEndpoint:     aws.String(url),
		Credentials:      credentials.NewStaticCredentialsProvider(keyID, secret, ""),
		RetryMaxAttempts: 1,
	}, extra...)
}

// gzipRequests compresses every request body before it is signed, the way a
// client with request compression sends it: the signature covers the
// compressed bytes.
func gzipRequests(o *dynamodb.Options) {
	o.APIOptions = append(o.APIOptions, func(stack *middleware.Stack) error {
		return stack.Build.Add(middleware.BuildMiddlewareFunc("gzipBody",
			func(ctx context.Context, in middleware.BuildInput, next middleware.BuildHandler) (middleware.BuildOutput, middleware.Metadata, error) {
				req := in.Request.(*smithyhttp.Request)
				plain, err := io.ReadAll(req.GetStream())
				if err != nil {
					return middleware.BuildOutput{}, middleware.Metadata{}, err
				}
				var buf bytes.Buffer
				zw := gzip.NewWriter(&buf)
				zw.Write(plain)
				zw.Close()
				if req, err = req.SetStream(bytes.NewReader(buf.Bytes())); err != nil {
					return middleware.BuildOutput{}, middleware.Metadata{}, err
				}
				req.ContentLength = int64(buf.Len())
				req.Header.Set("Content-Encoding", "gzip")
				in.Request = req
				return next.HandleBuild(ctx, in)
			}), middleware.After)
	})
}

func apiError(t *testing.T, err error) smithy.APIError {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("error %v is not an API error", err)
	}
	return ae
}

func TestVerifyWithAWSSDK(t *testing.T) {
	srv := verifyServer(t, nil)
	ctx := context.Background()

	t.Run("correct secret", func(t *testing.T) {
		out, err := sdkClient(srv.URL, testKeyID, testSecret).ListTables(ctx, &dynamodb.ListTablesInput{})
		if err != nil {
			t.Fatal(err)
		}
		// The echo executor lists the caller's service and key id.
		if got := strings.Join(out.TableNames, ","); got != "orders-api,"+testKeyID {
			t.Fatalf("caller seen by the executor = %q", got)
		}
	})
	t.Run("larger body", func(t *testing.T) {
		item := map[string]types.AttributeValue{
			"pk": &types.AttributeValueMemberS{Value: strings.Repeat("ü", 50000)},
			"n":  &types.AttributeValueMemberN{Value: "12.5"},
		}
		if _, err := sdkClient(srv.URL, testKeyID, testSecret).PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("t"), Item: item}); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("gzip body", func(t *testing.T) {
		// Check on the wire that the body really went compressed.
		var sawGzip bool
		zsrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			sawGzip = r.Header.Get("Content-Encoding") == "gzip"
			srv.Config.Handler.ServeHTTP(w, r)
		}))
		defer zsrv.Close()
		out, err := sdkClient(zsrv.URL, testKeyID, testSecret, gzipRequests).ListTables(ctx,
			&dynamodb.ListTablesInput{ExclusiveStartTableName: aws.String("zipped")})
		if err != nil {
			t.Fatal(err)
		}
		if !sawGzip || len(out.TableNames) != 2 {
			t.Fatalf("gzip sent: %v, TableNames = %v", sawGzip, out.TableNames)
		}
	})
	t.Run("wrong secret", func(t *testing.T) {
		_, err := sdkClient(srv.URL, testKeyID, "not-the-secret").ListTables(ctx, &dynamodb.ListTablesInput{})
		ae := apiError(t, err)
		if ae.ErrorCode() != "InvalidSignatureException" || ae.ErrorMessage() != msgBadSig {
			t.Fatalf("got %s %q", ae.ErrorCode(), ae.ErrorMessage())
		}
	})
	t.Run("wrong secret gzip", func(t *testing.T) {
		_, err := sdkClient(srv.URL, testKeyID, "nope", gzipRequests).ListTables(ctx, &dynamodb.ListTablesInput{})
		if ae := apiError(t, err); ae.ErrorCode() != "InvalidSignatureException" {
			t.Fatalf("got %s", ae.ErrorCode())
		}
	})
	t.Run("unknown key", func(t *testing.T) {
		_, err := sdkClient(srv.URL, "AKIDUNKNOWN", testSecret).ListTables(ctx, &dynamodb.ListTablesInput{})
		ae := apiError(t, err)
		if ae.ErrorCode() != "UnrecognizedClientException" || ae.ErrorMessage() != "The security token included in the request is invalid." {
			t.Fatalf("got %s %q", ae.ErrorCode(), ae.ErrorMessage())
		}
	})
	t.Run("wrong region", func(t *testing.T) {
		creds, _ := NewCredentials(Credential{AccessKeyID: testKeyID, Secret: testSecret})
		srv := httptest.NewServer(New(echoExecutor{}, Options{Auth: AuthVerify, Credentials: creds, Region: "eu-west-1", Logger: quietLogger()}))
		defer srv.Close()
		_, err := sdkClient(srv.URL, testKeyID, testSecret).ListTables(ctx, &dynamodb.ListTablesInput{})
		ae := apiError(t, err)
		if ae.ErrorCode() != "InvalidSignatureException" || ae.ErrorMessage() != "Credential should be scoped to a valid region, not 'us-east-1'." {
			t.Fatalf("got %s %q", ae.ErrorCode(), ae.ErrorMessage())
		}
	})
}

func TestVerifyClockSkewWithAWSSDK(t *testing.T) {
	for _, shift := range []time.Duration{-20 * time.Minute, 20 * time.Minute} {
		t.Run(shift.String(), func(t *testing.T) {
			srv := verifyServer(t, func() time.Time { return time.Now().Add(shift) })
			_, err := sdkClient(srv.URL, testKeyID, testSecret).ListTables(context.Background(), &dynamodb.ListTablesInput{})
			ae := apiError(t, err)
			want := "Signature expired: "
			if shift < 0 {
				want = "Signature not yet current: "
			}
			if ae.ErrorCode() != "InvalidSignatureException" || !strings.HasPrefix(ae.ErrorMessage(), want) {
				t.Fatalf("got %s %q, want prefix %q", ae.ErrorCode(), ae.ErrorMessage(), want)
			}
		})
	}
}

// signedRequest signs a raw request with the SDK's own SigV4 signer.
func signedRequest(t *testing.T, url, body, payloadHash, secret string, at time.Time) *http.Request {
	t.Helper()
	r, err := http.NewRequest("POST", url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	r.Header.Set("Content-Type", contentTypeJSON10)
	r.Header.Set("X-Amz-Target", "DynamoDB_20120810.ListTables")
	if payloadHash == "" {
		sum := sha256.Sum256([]byte(body))
		payloadHash = hex.EncodeToString(sum[:])
	}
	r.Header.Set("X-Amz-Content-Sha256", payloadHash)
	creds := aws.Credentials{AccessKeyID: testKeyID, SecretAccessKey: secret}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, r, payloadHash, "dynamodb", "us-east-1", at); err != nil {
		t.Fatal(err)
	}
	return r
}

func TestVerifySignerEdgeCases(t *testing.T) {
	srv := verifyServer(t, nil)
	now := time.Now()
	tests := []struct {
		name        string
		path        string
		body        string
		payloadHash string
		secret      string
		tamper      func(r *http.Request)
		wantStatus  int
		wantType    string
		wantMsg     string
	}{
		{name: "path and query are canonicalised", path: "/a%20b/c~d?z=1&a=2&a=1&sp=x%20y", body: "{}", wantStatus: 200},
		{name: "unsigned payload refused", body: "{}", payloadHash: "UNSIGNED-PAYLOAD", wantStatus: 400,
			wantType: "InvalidSignatureException", wantMsg: msgBadSig},
		{name: "claimed hash of another body", body: "{}", payloadHash: strings.Repeat("0", 64), wantStatus: 400,
			wantType: "InvalidSignatureException"},
		{name: "body changed after signing", body: `{"Limit":1}`, wantStatus: 400, wantType: "InvalidSignatureException",
			tamper: func(r *http.Request) {
				r.Body = io.NopCloser(strings.NewReader(`{"Limit":2}`))
			}},
		{name: "signed header changed", body: "{}", wantStatus: 400, wantType: "InvalidSignatureException",
			tamper: func(r *http.Request) { r.Header.Set("X-Amz-Target", "DynamoDB_20120810.DeleteTable") }},
		{name: "host not signed", body: "{}", wantStatus: 400, wantType: "InvalidSignatureException",
			wantMsg: "'Host' must be a 'SignedHeader' in the AWS Authorization.",
			tamper: func(r *http.Request) {
				r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "SignedHeaders=", "SignedHeaders=x-foo;", 1))
				r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), ";host;", ";", 1))
			}},
		{name: "bad date format", body: "{}", wantStatus: 400, wantType: "IncompleteSignatureException",
			wantMsg: "Date must be in ISO-8601 'basic format'. Got '201'. See http://en.wikipedia.org/wiki/ISO_8601",
			tamper:  func(r *http.Request) { r.Header.Set("X-Amz-Date", "201") }},
		{name: "scope", body: "{}", wantStatus: 400, wantType: "InvalidSignatureException",
			wantMsg: "Credential should be scoped to correct service: 'dynamodb'. Credential should be scoped with a valid terminator: 'aws4_request', not 'e'. " +
				"Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: 'b' != '" + now.UTC().Format("20060102") +
				"', from '" + now.UTC().Format(amzDateLayout) + "'.",
			tamper: func(r *http.Request) {
				a := r.Header.Get("Authorization")
				i, j := strings.Index(a, "Credential="), strings.Index(a, ",")
				r.Header.Set("Authorization", a[:i]+"Credential="+testKeyID+"/b/us-east-1/d/e"+a[j:])
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			secret := tc.secret
			if secret == "" {
				secret = testSecret
			}
			r := signedRequest(t, srv.URL+tc.path, tc.body, tc.payloadHash, secret, now)
			if tc.tamper != nil {
				tc.tamper(r)
			}
			resp, err := srv.Client().Do(r)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tc.wantStatus {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.wantStatus, body)
			}
			if tc.wantType != "" && !strings.Contains(string(body), `"com.amazon.coral.service#`+tc.wantType+`"`) {
				t.Errorf("body %s, want %s", body, tc.wantType)
			}
			if tc.wantMsg != "" && !strings.Contains(string(body), fmt.Sprintf("%q", tc.wantMsg)[1:len(fmt.Sprintf("%q", tc.wantMsg))-1]) {
				t.Errorf("body %s, want message %q", body, tc.wantMsg)
			}
		})
	}
}
