package bench

import (
	"context"
	"errors"
	"time"

	"github.com/aws/smithy-go"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Error categories for failures that carry no DynamoDB __type.
const (
	ErrTypeTimeout   = "RequestTimeout" // the request outlived Config.RequestTimeout
	ErrTypeTransport = "TransportError" // connection, framing, CRC32 or decoding failure
)

// OpStats summarises the measured requests of one operation (or all).
type OpStats struct {
	Requests int64 // requests completed in the measured phase, errors included
	Errors   int64
	// ErrorsByType counts errors by DynamoDB __type (the SDK's ErrorCode,
	// e.g. "ValidationException"), or ErrTypeTimeout / ErrTypeTransport.
	ErrorsByType map[string]int64
	// ErrorSamples keeps the first message seen for each error type.
	ErrorSamples map[string]string
	ReqPerSec    float64 // Requests / measured wall time
	// Latencies are of successful requests only: a fast rejection would
	// otherwise make a failing server look quick.
	Mean, P50, P90, P99, P999, Max time.Duration
}

// opRecorder accumulates one operation's requests inside one worker.
type opRecorder struct {
	hist     Histogram
	requests int64
	errors   map[string]int64
	samples  map[string]string
}

func (r *opRecorder) record(lat time.Duration, err error) {
	r.requests++
	if err == nil {
		r.hist.Record(lat)
		return
	}
	typ := errorType(err)
	if r.errors == nil {
		r.errors, r.samples = map[string]int64{}, map[string]string{}
	}
	r.errors[typ]++
	if _, ok := r.samples[typ]; !ok {
		r.samples[typ] = err.Error()
	}
}

func (r *opRecorder) merge(o *opRecorder) {
	r.hist.Merge(&o.hist)
	r.requests += o.requests
	for t, n := range o.errors {
		if r.errors == nil {
			r.errors, r.samples = map[string]int64{}, map[string]string{}
		}
		r.errors[t] += n
		if _, ok := r.samples[t]; !ok {
			r.samples[t] = o.samples[t]
		}
	}
}

func (r *opRecorder) stats(elapsed time.Duration) OpStats {
	s := OpStats{
		Requests: r.requests,
		Mean:     r.hist.Mean(),
		P50:      r.hist.Quantile(0.50),
		P90:      r.hist.Quantile(0.90),
		P99:      r.hist.Quantile(0.99),
		P999:     r.hist.Quantile(0.999),
		Max:      r.hist.Max(),
	}
	for t, n := range r.errors {
		if s.ErrorsByType == nil {
			s.ErrorsByType, s.ErrorSamples = map[string]int64{}, map[string]string{}
		}
		s.ErrorsByType[t] = n
		s.ErrorSamples[t] = r.samples[t]
		s.Errors += n
	}
	if elapsed > 0 {
		s.ReqPerSec = float64(r.requests) / elapsed.Seconds()
	}
	return s
}

// errorType names an error the way DynamoDB's __type does, without the
// namespace prefix.
func errorType(err error) string {
	var ae smithy.APIError
	switch {
	case errors.As(err, &ae):
		return ae.ErrorCode()
	case errors.Is(err, errRawMissing):
		return ErrTypeRawMissing
	case errors.Is(err, context.DeadlineExceeded):
		return ErrTypeTimeout
	}
	// A raw client's error: its gRPC status code (Aborted, Unavailable, …).
	if st, ok := status.FromError(err); ok && st.Code() != codes.Unknown && st.Code() != codes.OK {
		return st.Code().String()
	}
	return ErrTypeTransport
}
