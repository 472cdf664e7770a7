// Package lambda is the HTTP endpoint for change batches forwarded by an
// AWS Lambda function (DynamoDB Streams or Kinesis trigger; see README.md
// for the forwarder): each POSTed event is applied through the Applier
// with last-writer-wins, and answered 200 only once every record of it is
// settled, so the function's failure makes Lambda retry the batch: at
// least once, like the other sources.
package lambda

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"hash/fnv"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/dualread/dualread/streamproc"
	"github.com/dualread/dualread/streamproc/ddbstreams"
	"github.com/dualread/dualread/streamproc/metrics"
)

// DefaultMaxBody bounds a request body: Lambda's synchronous invocation
// payload limit is 6 MB, and a forwarder passes the event on as it got it.
const DefaultMaxBody = 8 << 20

// Config configures a Handler.
type Config struct {
	Applier *streamproc.Applier
	// Stamps versions DynamoDB Streams records (required).
	Stamps  *ItemStamps
	Metrics *metrics.Recorder
	Source  string // metrics tag of superseded records (default "lambda")
	// MaxBody bounds the request body in bytes (default DefaultMaxBody);
	// larger bodies get 413.
	MaxBody int64
	// Token, when set, must arrive as "Authorization: Bearer TOKEN".
	Token string
	// Resolution overrides the time resolution of DynamoDB Streams records
	// (default ddbstreams.ResolutionOf their eventSourceARN).
	Resolution time.Duration
	// Workers stamp DynamoDB Streams records of different items in
	// parallel (default 16).
	Workers int
	Logger  *slog.Logger
}

// Handler serves POST / (an event) and GET /healthz.
type Handler struct {
	cfg Config
	log *slog.Logger
}

// New checks cfg.
func New(cfg Config) (*Handler, error) {
	if cfg.Applier == nil || cfg.Stamps == nil {
		return nil, errors.New("lambda: Applier and Stamps are required")
	}
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = DefaultMaxBody
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 16
	}
	if cfg.Source == "" {
		cfg.Source = "lambda"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Handler{cfg: cfg, log: cfg.Logger}, nil
}

// Response is the answer's body. BatchItemFailures follows Lambda's
// partial batch response (ReportBatchItemFailures): on failure it names
// the batch's first record, so a forwarder that returns it makes Lambda
// retry the whole batch; on success it is empty.
type Response struct {
	BatchItemFailures []Failure `json:"batchItemFailures"`
	Message           string    `json:"message,omitempty"`
	// Result counts what the batch did (success only).
	Result *Result `json:"result,omitempty"`
}

// Failure is one entry of batchItemFailures.
type Failure struct {
	ItemIdentifier string `json:"itemIdentifier"`
}

// Result counts the records of a settled batch.
type Result struct {
	Records      int `json:"records"`
	Applied      int `json:"applied"`
	Stale        int `json:"stale"` // including superseded DynamoDB Streams records
	Duplicate    int `json:"duplicate"`
	DeadLettered int `json:"deadLettered"`
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.URL.Path == "/healthz" && (r.Method == http.MethodGet || r.Method == http.MethodHead):
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, "ok\n")
		return
	case r.URL.Path != "/":
		h.reply(w, http.StatusNotFound, Response{Message: "not found: POST events to /"})
		return
	case r.Method != http.MethodPost:
		w.Header().Set("Allow", http.MethodPost)
		h.reply(w, http.StatusMethodNotAllowed, Response{Message: "POST a Lambda event"})
		return
	}
	if h.cfg.Token != "" {
		want := "Bearer " + h.cfg.Token
		if subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), []byte(want)) != 1 {
			h.reply(w, http.StatusUnauthorized, Response{Message: "missing or wrong bearer token"})
			return
		}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.cfg.MaxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			h.reply(w, http.StatusRequestEntityTooLarge, Response{Message: "body exceeds the limit"})
			return
		}
		h.reply(w, http.StatusBadRequest, Response{Message: "cannot read body: " + err.Error()})
		return
	}
	items, err := parse(body)
	if err != nil {
		h.reply(w, http.StatusBadRequest, Response{Message: err.Error()})
		return
	}
	res, err := h.apply(r.Context(), items)
	if err != nil {
		// Nothing is acknowledged: the whole batch comes again.
		h.log.Warn("batch not applied", "records", len(items), "err", err)
		out := Response{Message: "batch not applied: " + err.Error(), BatchItemFailures: []Failure{}}
		if len(items) > 0 {
			out.BatchItemFailures = append(out.BatchItemFailures, Failure{ItemIdentifier: items[0].id})
		}
		h.reply(w, http.StatusServiceUnavailable, out)
		return
	}
	h.reply(w, http.StatusOK, Response{BatchItemFailures: []Failure{}, Result: &res})
}

func (h *Handler) reply(w http.ResponseWriter, status int, body Response) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

// apply stamps the DynamoDB Streams records (per item, in order), drops
// the superseded ones and applies the rest; it returns an error unless
// every record settled.
func (h *Handler) apply(ctx context.Context, items []item) (Result, error) {
	res := Result{Records: len(items)}
	keep, err := h.stamp(ctx, items)
	if err != nil {
		return res, err
	}
	ins := make([]streamproc.Input, 0, len(items))
	for i, it := range items {
		if !keep[i] {
			res.Stale++
			h.cfg.Metrics.Record(it.change.Table, h.cfg.Source, metrics.OutcomeStale, it.change.Version)
			continue
		}
		ins = append(ins, streamproc.Input{Change: it.change, Err: it.err, Raw: it.raw, Origin: it.arn + "/" + it.id})
	}
	r, err := h.cfg.Applier.Apply(ctx, ins)
	res.Applied, res.Duplicate, res.DeadLettered = r.Applied, r.Duplicate, r.DeadLettered
	res.Stale += r.Stale
	return res, err
}

// stamp sets the version of every decoded DynamoDB Streams record and
// reports which records to apply (false: superseded). Records of one item
// are stamped in batch order, different items in parallel.
func (h *Handler) stamp(ctx context.Context, items []item) ([]bool, error) {
	keep := make([]bool, len(items))
	lanes := make([][]int, h.cfg.Workers)
	for i, it := range items {
		keep[i] = true
		if !it.streams || it.change == nil {
			continue
		}
		f := fnv.New64a()
		f.Write(stampKey(it.change))
		l := f.Sum64() % uint64(len(lanes))
		lanes[l] = append(lanes[l], i)
	}
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
	)
	for _, lane := range lanes {
		if len(lane) == 0 {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, i := range lane {
				c := items[i].change
				res := h.cfg.Resolution
				if res <= 0 {
					res = ddbstreams.ResolutionOf(items[i].arn)
				}
				v, ok, err := h.cfg.Stamps.Version(ctx, c, res)
				if err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
					return
				}
				c.Version, keep[i] = v, ok
			}
		}()
	}
	wg.Wait()
	return keep, first
}
