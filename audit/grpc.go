package audit

import (
	"context"
	"errors"
	"io"

	"google.golang.org/grpc"

	"github.com/dualread/dualread/proto/auditpb"
)

// RegisterGRPC serves the Audit ingest stream on gs, feeding Submit.
func (s *Service) RegisterGRPC(gs *grpc.Server) {
	auditpb.RegisterAuditServer(gs, &ingestServer{svc: s})
}

type ingestServer struct {
	auditpb.UnimplementedAuditServer
	svc *Service
}

// Ingest queues each record as it arrives (never waiting on diffing) and
// answers with the stream's totals when the client closes its side.
func (g *ingestServer) Ingest(stream grpc.ClientStreamingServer[auditpb.RecordBatch, auditpb.IngestSummary]) error {
	var sum auditpb.IngestSummary
	for {
		b, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return stream.SendAndClose(&sum)
		}
		if err != nil {
			return err
		}
		for _, rec := range b.GetRecords() {
			switch err := g.svc.Submit(rec); {
			case err == nil:
				sum.Accepted++
			case errors.Is(err, ErrInvalid):
				sum.Invalid++
			default:
				sum.Dropped++
			}
		}
	}
}

// SendBatches sends records over one Ingest stream in batches of at most
// batchSize and returns the server's summary. It is the transport half of
// the adapter's gRPC audit client; the adapter's queueing, batching window
// and reconnects wrap it.
func SendBatches(ctx context.Context, c auditpb.AuditClient, recs []*auditpb.Record, batchSize int) (*auditpb.IngestSummary, error) {
	if batchSize <= 0 {
		batchSize = 100
	}
	st, err := c.Ingest(ctx)
	if err != nil {
		return nil, err
	}
	for len(recs) > 0 {
		n := min(batchSize, len(recs))
		if err := st.Send(&auditpb.RecordBatch{Records: recs[:n]}); err != nil {
			// The real cause comes from CloseAndRecv.
			_, rerr := st.CloseAndRecv()
			return nil, errors.Join(err, rerr)
		}
		recs = recs[n:]
	}
	return st.CloseAndRecv()
}
