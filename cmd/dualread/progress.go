package main

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/spf13/pflag"

	"github.com/dualread/dualread/internal/progress"
)

// progressFlags are --progress and --progress-every, shared by the long
// jobs (verify, backfill).
type progressFlags struct {
	mode  string
	every time.Duration
}

func (p *progressFlags) register(f *pflag.FlagSet) {
	f.StringVar(&p.mode, "progress", "auto", "progress on stderr: auto (bar on a terminal, log lines otherwise), bar, log or none")
	f.DurationVar(&p.every, "progress-every", 0, "progress period (default 250ms for the bar, 10s for log lines)")
}

// terminal reports whether progress is a bar redrawn on stderr.
func (p *progressFlags) terminal(stderr io.Writer) (bool, error) {
	switch p.mode {
	case "auto":
		f, _ := stderr.(*os.File)
		return progress.IsTerminal(f), nil
	case "bar":
		return true, nil
	case "log", "none":
		return false, nil
	}
	return false, fmt.Errorf("--progress %q: want auto, bar, log or none", p.mode)
}

// start makes the job's logger with newLog and begins reporting read's
// snapshots (a nil reporter with --progress none). On a terminal the
// logger writes through the bar, which clears and redraws itself around
// each line; otherwise the progress lines go to the logger.
func (p *progressFlags) start(label string, stderr io.Writer, read func() progress.Snapshot,
	newLog func(io.Writer) (*slog.Logger, error)) (*slog.Logger, *progress.Reporter, error) {
	term, err := p.terminal(stderr)
	if err != nil {
		return nil, nil, err
	}
	opts := progress.Options{Label: label, Terminal: term, Out: stderr, Every: p.every}
	if term {
		r := progress.Start(opts, read)
		log, err := newLog(r.Writer(stderr))
		if err != nil {
			r.Stop()
			return nil, nil, err
		}
		return log, r, nil
	}
	log, err := newLog(stderr)
	if err != nil || p.mode == "none" {
		return log, nil, err
	}
	opts.Logger = log
	return log, progress.Start(opts, read), nil
}
