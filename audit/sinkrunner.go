package audit

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"
)

// sinkRunner gives one sink its own bounded queue and goroutine, batching
// pairs, so that one slow or dead sink neither blocks the diff workers nor
// starves the other sinks.
type sinkRunner struct {
	sink    Sink
	queue   chan Pair
	done    chan struct{}
	batch   int
	flush   time.Duration
	log     *slog.Logger
	written atomic.Int64
	dropped atomic.Int64
	errors  atomic.Int64
}

// sinkWriteTimeout bounds one Write, so a hung backend costs at most that
// per batch before the queue starts dropping.
const sinkWriteTimeout = 10 * time.Second

func startSink(sk Sink, cfg Config, log *slog.Logger) *sinkRunner {
	r := &sinkRunner{sink: sk, queue: make(chan Pair, cfg.SinkQueue), done: make(chan struct{}),
		batch: cfg.SinkBatch, flush: cfg.SinkFlush, log: log}
	go r.run()
	return r
}

func (r *sinkRunner) offer(p Pair) {
	select {
	case r.queue <- p:
	default:
		r.dropped.Add(1)
	}
}

func (r *sinkRunner) run() {
	defer close(r.done)
	tick := time.NewTicker(r.flush)
	defer tick.Stop()
	var buf []Pair
	write := func() {
		if len(buf) == 0 {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), sinkWriteTimeout)
		err := r.sink.Write(ctx, buf)
		cancel()
		if err != nil {
			r.errors.Add(1)
			r.dropped.Add(int64(len(buf)))
			r.log.Warn("audit: sink write failed", "sink", r.sink.Name(), "pairs", len(buf), "err", err)
		} else {
			r.written.Add(int64(len(buf)))
		}
		buf = buf[:0]
	}
	for {
		select {
		case p, ok := <-r.queue:
			if !ok {
				write()
				return
			}
			buf = append(buf, p)
			if len(buf) >= r.batch {
				write()
			}
		case <-tick.C:
			write()
		}
	}
}

// close is called once every producer has stopped: it drains the queue
// into the sink, then closes the sink.
func (r *sinkRunner) close(ctx context.Context) error {
	close(r.queue)
	select {
	case <-r.done:
	case <-ctx.Done():
	}
	return r.sink.Close(ctx)
}
