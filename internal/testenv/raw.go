package testenv

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// RawResponse is one HTTP answer as received.
type RawResponse struct {
	Status int
	Header http.Header
	Body   []byte
}

// RawClient sends DynamoDB JSON requests byte for byte, SigV4-signed, so tests
// can compare wire answers without an SDK's parsing in between.
type RawClient struct {
	Endpoint string
	HTTP     *http.Client
	signer   *v4.Signer
	creds    aws.Credentials
}

// NewRawClient returns a RawClient for endpoint with the test credentials.
func NewRawClient(endpoint string) *RawClient {
	return &RawClient{
		Endpoint: endpoint,
		HTTP:     &http.Client{Timeout: 60 * time.Second},
		signer:   v4.NewSigner(),
		creds:    aws.Credentials{AccessKeyID: AccessKeyID, SecretAccessKey: SecretAccessKey},
	}
}

// Do POSTs body as operation op (e.g. "PutItem") and returns the answer.
func (c *RawClient) Do(ctx context.Context, op string, body []byte) (RawResponse, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.Endpoint+"/", bytes.NewReader(body))
	if err != nil {
		return RawResponse{}, err
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	req.Header.Set("X-Amz-Target", "DynamoDB_20120810."+op)
	sum := sha256.Sum256(body)
	if err := c.signer.SignHTTP(ctx, c.creds, req, hex.EncodeToString(sum[:]), "dynamodb", Region, time.Now()); err != nil {
		return RawResponse{}, fmt.Errorf("sign: %w", err)
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return RawResponse{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return RawResponse{}, err
	}
	return RawResponse{Status: resp.StatusCode, Header: resp.Header, Body: b}, nil
}
