package shadow

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

// DynamoDB calls a DynamoDB endpoint with the request body as the
// application sent it, signed anew with the adapter's own credentials (the
// application's signature names the adapter's host, not DynamoDB's).
type DynamoDB struct {
	Endpoint string // e.g. https://dynamodb.us-east-1.amazonaws.com
	Region   string
	Creds    aws.CredentialsProvider
	HTTP     *http.Client
	signer   *v4.Signer
}

// NewDynamoDB returns a caller for endpoint.
func NewDynamoDB(endpoint, region string, creds aws.CredentialsProvider) *DynamoDB {
	return &DynamoDB{Endpoint: endpoint, Region: region, Creds: creds, signer: v4.NewSigner(),
		HTTP: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64, IdleConnTimeout: 90 * time.Second}}}
}

// Call sends op with body and returns DynamoDB's status and body.
func (d *DynamoDB) Call(ctx context.Context, op string, body []byte) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.Endpoint+"/", bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	req.Header.Set("X-Amz-Target", "DynamoDB_20120810."+op)
	creds, err := d.Creds.Retrieve(ctx)
	if err != nil {
		return 0, nil, fmt.Errorf("shadow credentials: %w", err)
	}
	sum := sha256.Sum256(body)
	if err := d.signer.SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), "dynamodb", d.Region, time.Now()); err != nil {
		return 0, nil, err
	}
	resp, err := d.HTTP.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 32<<20))
	return resp.StatusCode, b, err
}
