// Package server is the protocol layer: an http.Handler that speaks DynamoDB's
// JSON 1.0 protocol (POST /, X-Amz-Target, SigV4, gzip request bodies,
// x-amzn-RequestId and x-amz-crc32 on every response) in front of an Executor
// that runs the operations. It knows nothing about tables or items: it turns
// HTTP into (operation, JSON body, caller) and an answer or *ddberr.Error back
// into HTTP, byte for byte the way DynamoDB does.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/dualread/dualread/adapter/ddberr"
)

// Executor runs one DynamoDB operation. body is the request JSON (always a
// JSON object); the result is the response JSON. Errors of type *ddberr.Error
// are sent as is; anything else becomes a 500 InternalServerError (logged).
type Executor interface {
	Do(ctx context.Context, op string, body []byte) ([]byte, error)
}

// DefaultMaxBodyBytes is DynamoDB's request size limit. DynamoDB Local 3.3.1
// accepts a body of exactly 16 MiB and answers 413 for one byte more.
const DefaultMaxBodyBytes = 16 << 20

// Options configure the handler. The zero value identifies callers by their
// access key id without verifying signatures.
type Options struct {
	// Auth selects how requests are authenticated (default AuthIdentify).
	Auth AuthMode
	// Credentials are the known access keys; required for AuthVerify.
	Credentials *Credentials
	// Region is the region this endpoint pretends to be (default us-east-1).
	// It appears in the health answer and, under AuthVerify, a credential
	// scoped to another region is rejected as DynamoDB does.
	Region string
	// Logger defaults to slog.Default().
	Logger *slog.Logger
	// MaxBodyBytes caps the request body, both as sent and after gzip
	// decoding (default DefaultMaxBodyBytes).
	MaxBodyBytes int64
	// Now is the clock for signature expiry (default time.Now).
	Now func() time.Time
	// Served, if set, is called after each operation's answer is written
	// (the response is already on its way: it must return quickly and never
	// block, e.g. shadow.Shadower.Offer).
	Served func(ctx context.Context, s Served)
	// ServiceHeader, if set, is a request header naming the calling service
	// (e.g. X-Dualread-Service) for callers whose SigV4 access key the
	// credentials file does not map to a service; see Caller.Name.
	ServiceHeader string
}

type handler struct {
	exec Executor
	opts Options
	log  *slog.Logger
}

// New returns the DynamoDB protocol handler in front of exec. It panics if
// opts asks for AuthVerify without credentials or names an unknown mode,
// because serving with a silently weaker auth than configured is worse than
// not starting.
func New(exec Executor, opts Options) http.Handler {
	if opts.Auth == "" {
		opts.Auth = AuthIdentify
	}
	if _, err := ParseAuthMode(string(opts.Auth)); err != nil {
		panic(err)
	}
	if opts.Auth == AuthVerify && opts.Credentials == nil {
		panic("server: AuthVerify needs Options.Credentials")
	}
	if opts.Region == "" {
		opts.Region = "us-east-1"
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &handler{exec: exec, opts: opts, log: opts.Logger}
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := h.opts.Now()
	rw := &responder{w: w, id: newRequestID()}
	var res result
	defer func() {
		if p := recover(); p != nil {
			if p == http.ErrAbortHandler { //nolint:errorlint // net/http's own sentinel, re-raised as net/http expects
				panic(p)
			}
			h.log.Error("panic serving request", "request_id", rw.id, "op", res.op,
				"panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			if !rw.wrote {
				res.status = rw.sendError(ddberr.Internal())
			}
		}
		h.log.Debug("request", "request_id", rw.id, "op", res.op, "status", res.status,
			"caller", res.caller.AccessKeyID, "duration", h.opts.Now().Sub(start))
	}()
	h.serve(r, rw, &res)
}

// result is what one request did, for the log line.
type result struct {
	op     string
	caller Caller
	status int
}

// serve runs the request through DynamoDB's checks in the order AWS applies
// them (as recorded against AWS by dynalite's test suite): size, method,
// content type, JSON syntax, target, authentication, empty body, operation.
//
// DynamoDB Local 3.3.1 (our oracle elsewhere) is looser and answers these
// differently from AWS; here we follow AWS:
//   - malformed JSON, a non-object, an empty body, a missing target or a
//     gzip body: Local answers 500 com.amazonaws.dynamodb.v20120810#InternalFailure;
//     AWS answers 400 SerializationException / UnknownOperationException
//     (and accepts gzip bodies).
//   - an unknown operation: Local sends "An unknown operation was requested."
//     in the dynamodb namespace; AWS sends com.amazon.coral.service# without message.
//   - another API prefix (Kinesis_20131202.X): Local 400 InvalidAction; AWS UnknownOperationException.
//   - no Authorization: Local 400 ...dynamodb.v20120810#MissingAuthenticationToken
//     "Request must contain either a valid (registered) AWS access key ID or
//     X.509 certificate."; AWS com.amazon.coral.service#MissingAuthenticationTokenException
//     "Request is missing Authentication Token".
//   - GET: Local answers as for a POST without auth; AWS answers the health text.
//   - PUT or a body in text/plain: Local runs the operation; AWS answers 404.
//   - Local spells the error field "Message" and omits x-amz-crc32 on errors.
//
// Both ignore the URL path of a POST, and both answer 413 for a body over
// 16 MiB (Local's body {"Message":""} is reused, AWS's is undocumented).
func (h *handler) serve(r *http.Request, rw *responder, res *result) {
	if r.Method != http.MethodPost {
		if r.Method == http.MethodGet || r.Method == http.MethodHead {
			// AWS answers any GET with this text (trailing space included) and
			// 200; load balancers and test suites use it as liveness. DynamoDB
			// Local differs (400 MissingAuthenticationToken); we follow AWS.
			body := []byte("healthy: dynamodb." + h.opts.Region + ".amazonaws.com ")
			res.status = rw.sendRaw(http.StatusOK, "text/plain", body, r.Method == http.MethodHead)
			return
		}
		res.status = rw.sendUnknownOperationXML()
		return
	}

	req, derr := readRequest(rw.w, r, h.opts.MaxBodyBytes)
	if derr != nil {
		res.status = rw.sendRejection(derr)
		return
	}
	rw.contentType = req.responseType

	op, ok := parseTarget(r.Header.Get("X-Amz-Target"))
	if !ok {
		res.status = rw.sendError(ddberr.UnknownOperation())
		return
	}
	res.op = op

	caller, aerr := h.authenticate(r, req.raw)
	if aerr != nil {
		h.log.Info("authentication failed", "request_id", rw.id, "op", op,
			"error", aerr.Name(), "message", aerr.Message)
		res.status = rw.sendError(aerr)
		return
	}
	if h.opts.ServiceHeader != "" {
		caller.HeaderService = headerService(r.Header.Get(h.opts.ServiceHeader))
	}
	res.caller = caller
	if len(req.body) == 0 {
		// AWS checks emptiness only after authentication.
		res.status = rw.sendError(ddberr.Serialization(""))
		return
	}

	ctx := context.WithValue(r.Context(), callerKey{}, caller)
	ctx = context.WithValue(ctx, requestIDKey{}, rw.id)
	start := h.opts.Now()
	out, err := h.exec.Do(ctx, op, req.body)
	elapsed := h.opts.Now().Sub(start)
	if err != nil {
		var de *ddberr.Error
		if !errors.As(err, &de) || de == nil {
			h.log.Error("executor failed", "request_id", rw.id, "op", op,
				"caller", caller.AccessKeyID, "error", err)
			de = ddberr.Internal()
		}
		res.status = rw.sendError(de)
		if h.opts.Served != nil {
			body, _ := de.MarshalJSON()
			h.opts.Served(ctx, Served{Op: op, Request: req.body, Status: res.status, Response: body, Elapsed: elapsed, Caller: caller, RequestID: rw.id})
		}
		return
	}
	if len(out) == 0 {
		out = []byte("{}")
	}
	res.status = rw.sendJSON(http.StatusOK, out)
	if h.opts.Served != nil {
		h.opts.Served(ctx, Served{Op: op, Request: req.body, Status: res.status, Response: out, Elapsed: elapsed, Caller: caller, RequestID: rw.id})
	}
}

// Served describes an operation the executor answered, for observers such as
// the shadow reader. Request and Response must not be modified.
type Served struct {
	Op        string
	Request   []byte
	Status    int
	Response  []byte
	Elapsed   time.Duration
	Caller    Caller
	RequestID string
}
