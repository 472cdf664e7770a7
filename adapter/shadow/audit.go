package shadow

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/dualread/dualread/adapter/ddberr"
	"github.com/dualread/dualread/audit"
	"github.com/dualread/dualread/proto/auditpb"
)

// AuditSink hands shadow pairs to the audit service: in process
// (audit.Service) or through anything else that implements audit.Submitter.
type AuditSink struct {
	Submitter audit.Submitter
	// Keys names a table's primary-key attributes, so the audit can align
	// Query and Scan items by key.
	Keys func(table string) []string
}

// Submit converts and submits; the audit service counts what it turns away.
func (a AuditSink) Submit(r Record) {
	var keys []string
	if a.Keys != nil {
		keys = a.Keys(r.Table)
	}
	_ = a.Submitter.Submit(ToAudit(r, keys))
}

// ToAudit is the audit wire form of a record.
func ToAudit(r Record, keys []string) *auditpb.Record {
	return &auditpb.Record{
		Id: r.ID, Time: timestamppb.New(r.Time), Service: r.Caller, Table: r.Table, Operation: r.Op,
		RequestJson: r.Request, KeyAttributes: keys, Primary: ToAuditSide(r.Primary), Shadow: ToAuditSide(r.Shadow),
	}
}

// ToAuditSide is the audit wire form of one answer.
func ToAuditSide(s Side) *auditpb.Response {
	out := &auditpb.Response{Backend: s.Backend, Status: int32(s.Status), Latency: durationpb.New(s.Latency)}
	switch {
	case s.Err != "" || s.Status == 0:
		out.Outcome = &auditpb.Response_Error{Error: &auditpb.Error{Type: "TransportError", Message: s.Err}}
	case s.Status >= 300:
		var e struct {
			Type string `json:"__type"`
			M1   string `json:"message"`
			M2   string `json:"Message"`
		}
		_ = json.Unmarshal(s.Body, &e)
		out.Outcome = &auditpb.Response_Error{Error: &auditpb.Error{Type: e.Type, Message: e.M1 + e.M2}}
	default:
		out.Outcome = &auditpb.Response_BodyJson{BodyJson: s.Body}
	}
	return out
}

// Rereader re-reads both sides of a pair for the audit's lag check, and
// DynamoDB alone for its noise calibration. Each side of a record is re-read
// where it was read: a side whose backend is "dynamodb" from DynamoDB, any
// other from the store, so pairs of both directions (shadow: dynamodb, and
// serve: dynamodb with shadow: spanner|bigtable) are re-read correctly.
type Rereader struct {
	// Store reads the adapter's own store: ExecutorCaller in process, or
	// NewDynamoDB(adapterURL, ...) from a remote audit service.
	Store Caller
	// StoreBackend names a table's backend in re-read records (default
	// "adapter").
	StoreBackend func(table string) string
	// StoreViaAdapter says Store is the adapter's public endpoint, which
	// forwards reads of DynamoDB-served tables to DynamoDB: re-reading the
	// store side of such a table through it would read DynamoDB twice and
	// call any divergence lag, so those re-reads are refused (the first
	// verdict stands).
	StoreViaAdapter bool
	DynamoDB        Caller
}

// ErrStoreUnreachable: see Rereader.StoreViaAdapter.
var ErrStoreUnreachable = errors.New("shadow: the store side of a DynamoDB-served table cannot be re-read through the adapter's endpoint")

func (r Rereader) read(ctx context.Context, c Caller, backend string, rec *auditpb.Record) *auditpb.Response {
	start := time.Now()
	status, body, err := c.Call(ctx, rec.GetOperation(), rec.GetRequestJson())
	side := Side{Backend: backend, Status: status, Body: body, Latency: time.Since(start)}
	if err != nil {
		side.Err = err.Error()
	}
	return ToAuditSide(side)
}

// side re-reads one side of rec, from where its backend says it was read.
func (r Rereader) side(ctx context.Context, rec *auditpb.Record, was *auditpb.Response) *auditpb.Response {
	if was.GetBackend() == "dynamodb" {
		return r.read(ctx, r.DynamoDB, "dynamodb", rec)
	}
	backend := "adapter"
	if r.StoreBackend != nil {
		backend = r.StoreBackend(rec.GetTable())
	}
	return r.read(ctx, r.Store, backend, rec)
}

// Reread implements audit.Rereader.
func (r Rereader) Reread(ctx context.Context, rec *auditpb.Record) (*auditpb.Response, *auditpb.Response, error) {
	if r.StoreViaAdapter && rec.GetPrimary().GetBackend() == "dynamodb" {
		return nil, nil, ErrStoreUnreachable
	}
	return r.side(ctx, rec, rec.GetPrimary()), r.side(ctx, rec, rec.GetShadow()), nil
}

// RereadDynamoDB implements audit.NoiseReader: one more read of DynamoDB,
// through the same caller as the shadow reads and re-reads.
func (r Rereader) RereadDynamoDB(ctx context.Context, rec *auditpb.Record) (*auditpb.Response, error) {
	if r.DynamoDB == nil {
		return nil, errors.New("shadow: no DynamoDB caller to re-read")
	}
	return r.read(ctx, r.DynamoDB, "dynamodb", rec), nil
}

// ExecutorCaller calls the adapter's executor in process.
type ExecutorCaller struct {
	Exec interface {
		Do(ctx context.Context, op string, body []byte) ([]byte, error)
	}
}

// Call implements Caller: DynamoDB errors come back as their status and body.
func (e ExecutorCaller) Call(ctx context.Context, op string, body []byte) (int, []byte, error) {
	out, err := e.Exec.Do(ctx, op, body)
	if err == nil {
		return 200, out, nil
	}
	var de *ddberr.Error
	if errors.As(err, &de) {
		b, _ := de.MarshalJSON()
		return de.Status, b, nil
	}
	return 0, nil, err
}
