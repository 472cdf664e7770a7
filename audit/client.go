package audit

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dualread/dualread/proto/auditpb"
)

// Client sends records to a remote audit service over the gRPC Ingest
// stream, in batches. Submit never blocks: a full buffer, or a batch the
// service could not take, is dropped and counted, so a dead audit service
// never slows or breaks the adapter.
type Client struct {
	rpc      auditpb.AuditClient
	log      *slog.Logger
	buf      chan *auditpb.Record
	batch    int
	every    time.Duration
	timeout  time.Duration
	stop     context.CancelFunc
	done     sync.WaitGroup
	sent     atomic.Int64
	dropped  atomic.Int64
	failures atomic.Int64
}

// ClientConfig bounds the client.
type ClientConfig struct {
	Buffer  int           // records waiting to be sent (default 10000)
	Batch   int           // records per batch (default 200)
	Every   time.Duration // flush interval (default 500 ms)
	Timeout time.Duration // per send (default 5 s)
	Logger  *slog.Logger
}

// NewClient starts the sender; Close flushes and stops it.
func NewClient(rpc auditpb.AuditClient, c ClientConfig) *Client {
	if c.Buffer <= 0 {
		c.Buffer = 10000
	}
	if c.Batch <= 0 {
		c.Batch = 200
	}
	if c.Every <= 0 {
		c.Every = 500 * time.Millisecond
	}
	if c.Timeout <= 0 {
		c.Timeout = 5 * time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	ctx, cancel := context.WithCancel(context.Background())
	cl := &Client{rpc: rpc, log: c.Logger, buf: make(chan *auditpb.Record, c.Buffer), batch: c.Batch,
		every: c.Every, timeout: c.Timeout, stop: cancel}
	cl.done.Add(1)
	go cl.run(ctx)
	return cl
}

// Submit implements Submitter.
func (c *Client) Submit(rec *auditpb.Record) error {
	select {
	case c.buf <- rec:
	default:
		c.dropped.Add(1)
	}
	return nil
}

func (c *Client) run(ctx context.Context) {
	defer c.done.Done()
	t := time.NewTicker(c.every)
	defer t.Stop()
	var pending []*auditpb.Record
	flush := func() {
		if len(pending) == 0 {
			return
		}
		sctx, cancel := context.WithTimeout(context.Background(), c.timeout)
		sum, err := SendBatches(sctx, c.rpc, pending, c.batch)
		cancel()
		if err != nil {
			c.failures.Add(1)
			c.dropped.Add(int64(len(pending)))
			c.log.Warn("audit send failed; batch dropped", "records", len(pending), "err", err)
		} else {
			c.sent.Add(sum.GetAccepted())
			c.dropped.Add(sum.GetDropped() + sum.GetInvalid())
		}
		pending = pending[:0]
	}
	for {
		select {
		case rec := <-c.buf:
			pending = append(pending, rec)
			if len(pending) >= c.batch {
				flush()
			}
		case <-t.C:
			flush()
		case <-ctx.Done():
			for {
				select {
				case rec := <-c.buf:
					pending = append(pending, rec)
				default:
					flush()
					return
				}
			}
		}
	}
}

// ClientStats are the client's counters.
type ClientStats struct{ Sent, Dropped, Failures int64 }

// Stats returns the counters.
func (c *Client) Stats() ClientStats {
	return ClientStats{Sent: c.sent.Load(), Dropped: c.dropped.Load(), Failures: c.failures.Load()}
}

// Close sends what is buffered (one last attempt) and stops.
func (c *Client) Close() {
	c.stop()
	c.done.Wait()
}
