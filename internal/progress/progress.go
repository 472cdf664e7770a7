// Package progress shows how far a long job (verify, backfill) has come: a
// bar redrawn in place when the output is a terminal, or a structured log
// line every so often when it is a file or a pipe (CI, kubectl logs), where
// a redrawn bar would be noise.
//
// The job exposes its counters through a read function that Reporter polls;
// the job never blocks on drawing.
package progress

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Count is one counter of a job, e.g. the items read from one side.
type Count struct {
	Name  string
	Done  int64
	Total int64 // estimate (e.g. DescribeTable's ItemCount); 0 if unknown
}

// Snapshot is one reading of the job's counters. A new Stage restarts the
// rate and ETA, since a later stage of a job (a second pass) has a
// different pace and a different total.
type Snapshot struct {
	Stage  string
	Counts []Count
}

// Options configure a Reporter.
type Options struct {
	Label    string       // the job, shown first ("verify orders")
	Terminal bool         // redraw a bar in place on Out; otherwise log lines
	Out      io.Writer    // the terminal (Terminal only)
	Logger   *slog.Logger // receives the lines when not Terminal (default slog.Default())
	// Every is the redraw or logging period (default 250 ms on a
	// terminal, 10 s otherwise).
	Every time.Duration
	Width int // bar cells (default 24)
	Now   func() time.Time
}

// Stats are what the reporter derives from successive snapshots.
type Stats struct {
	Percent int           // of the summed totals, -1 when no total is known
	Rate    float64       // items per second over all counts, this stage
	ETA     time.Duration // 0 when unknown
}

// Reporter draws or logs a job's progress until Stop.
type Reporter struct {
	opts   Options
	read   func() Snapshot
	cancel context.CancelFunc
	done   chan struct{}

	mu      sync.Mutex // guards the fields below and the output
	stage   string
	stageAt time.Time
	base    map[string]int64
	last    string // the bar as last drawn (Terminal)
}

// Start begins reporting; read must be safe to call from another goroutine.
func Start(opts Options, read func() Snapshot) *Reporter {
	if opts.Every <= 0 {
		opts.Every = 10 * time.Second
		if opts.Terminal {
			opts.Every = 250 * time.Millisecond
		}
	}
	if opts.Width <= 0 {
		opts.Width = 24
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Out == nil {
		opts.Out = io.Discard
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &Reporter{opts: opts, read: read, cancel: cancel, done: make(chan struct{})}
	r.observe(read(), opts.Now(), false) // baseline: a resumed job's earlier work is not this run's rate
	go r.loop(ctx)
	return r
}

func (r *Reporter) loop(ctx context.Context) {
	defer close(r.done)
	// Poll more often than the lines are logged, so a new stage's rate is
	// measured from (about) when it began, not from the next line.
	poll := min(r.opts.Every, 250*time.Millisecond)
	t := time.NewTicker(poll)
	defer t.Stop()
	last := r.opts.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			now := r.opts.Now()
			if now.Sub(last) < r.opts.Every-poll/2 {
				r.observe(r.read(), now, false)
				continue
			}
			last = now
			r.emit(false)
		}
	}
}

// Stop reports once more (the final counts) and ends the bar's line.
func (r *Reporter) Stop() {
	r.cancel()
	<-r.done
	r.emit(true)
	if r.opts.Terminal {
		r.mu.Lock()
		if r.last != "" {
			fmt.Fprintln(r.opts.Out)
			r.last = ""
		}
		r.mu.Unlock()
	}
}

// Writer returns w for the job's other output (its logger) to the same
// terminal: each write first clears the bar's line and then redraws the
// bar below what was written, so log lines and the bar do not mangle each
// other. When not on a terminal it is w itself.
func (r *Reporter) Writer(w io.Writer) io.Writer {
	if !r.opts.Terminal {
		return w
	}
	return writerFunc(func(p []byte) (int, error) {
		r.mu.Lock()
		defer r.mu.Unlock()
		if r.last != "" {
			fmt.Fprint(r.opts.Out, "\r\x1b[K")
		}
		n, err := w.Write(p)
		if r.last != "" {
			fmt.Fprint(r.opts.Out, r.last)
		}
		return n, err
	})
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

func (r *Reporter) emit(final bool) {
	now := r.opts.Now()
	s := r.read()
	st := r.observe(s, now, final)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.opts.Terminal {
		// \r and clear-to-end-of-line: the bar stays on one line.
		r.last = "\r" + Line(r.opts.Label, s, st, r.opts.Width) + "\x1b[K"
		fmt.Fprint(r.opts.Out, r.last)
		return
	}
	args := []any{"job", r.opts.Label, "stage", s.Stage}
	for _, c := range s.Counts {
		args = append(args, c.Name, c.Done)
		if c.Total > 0 {
			args = append(args, c.Name+"_estimate", c.Total)
		}
	}
	if st.Percent >= 0 {
		args = append(args, "percent", st.Percent)
	}
	args = append(args, "items_per_s", int64(st.Rate))
	if st.ETA > 0 {
		args = append(args, "eta", st.ETA.Round(time.Second).String())
	}
	r.opts.Logger.Info("progress", args...)
}

// observe updates the stage baseline and returns the stats of s.
func (r *Reporter) observe(s Snapshot, now time.Time, final bool) Stats {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.base == nil || s.Stage != r.stage {
		r.stage, r.stageAt, r.base = s.Stage, now, map[string]int64{}
		for _, c := range s.Counts {
			r.base[c.Name] = c.Done
		}
	}
	return Compute(s, r.base, now.Sub(r.stageAt), final)
}

// Compute derives the stats of s, given each count's value when the stage
// began (base) and the time since; final is true once the job has ended.
// The percentage is of the counts that have a total; the ETA is the
// slowest count's (a comparison is finished when both sides are).
func Compute(s Snapshot, base map[string]int64, elapsed time.Duration, final bool) Stats {
	st := Stats{Percent: -1}
	var done, total, moved int64
	for _, c := range s.Counts {
		moved += c.Done - base[c.Name]
		if c.Total > 0 {
			done += c.Done
			total += c.Total
		}
	}
	if total > 0 {
		// An estimate can be stale (ItemCount is refreshed every ~6 h by
		// DynamoDB): 100% only once the job has ended.
		st.Percent = int(min(done*100/total, 100))
		if !final {
			st.Percent = min(st.Percent, 99)
		}
	}
	secs := elapsed.Seconds()
	if secs <= 0 {
		return st
	}
	st.Rate = float64(moved) / secs
	for _, c := range s.Counts {
		rate := float64(c.Done-base[c.Name]) / secs
		if c.Total <= c.Done || rate <= 0 {
			continue
		}
		st.ETA = max(st.ETA, time.Duration(float64(c.Total-c.Done)/rate*float64(time.Second)))
	}
	return st
}

// Line renders one progress line, e.g.
//
//	verify big digests [#########---------------]  38%  source 38,112/100,000  target 37,950/100,000  21,430 items/s  ETA 3s
func Line(label string, s Snapshot, st Stats, width int) string {
	var b strings.Builder
	b.WriteString(label)
	if s.Stage != "" {
		b.WriteString(" " + s.Stage)
	}
	if st.Percent >= 0 {
		fill := st.Percent * width / 100
		fmt.Fprintf(&b, " [%s%s] %3d%%", strings.Repeat("#", fill), strings.Repeat("-", width-fill), st.Percent)
	}
	for _, c := range s.Counts {
		b.WriteString("  " + c.Name + " " + Thousands(c.Done))
		if c.Total > 0 {
			b.WriteString("/" + Thousands(c.Total))
		}
	}
	fmt.Fprintf(&b, "  %s items/s", Thousands(int64(st.Rate)))
	if st.ETA > 0 {
		b.WriteString("  ETA " + st.ETA.Round(time.Second).String())
	}
	return b.String()
}

// Thousands formats n with comma separators (12,345).
func Thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, ch := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(ch)
	}
	return b.String()
}
