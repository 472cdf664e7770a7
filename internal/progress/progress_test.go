package progress

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestCompute(t *testing.T) {
	two := func(a, at, b, bt int64) Snapshot {
		return Snapshot{Stage: "s", Counts: []Count{{"source", a, at}, {"target", b, bt}}}
	}
	for _, tc := range []struct {
		name    string
		s       Snapshot
		base    map[string]int64
		elapsed time.Duration
		want    Stats
	}{
		{"no totals", two(50, 0, 40, 0), nil, 10 * time.Second, Stats{Percent: -1, Rate: 9}},
		// Only counts with a total make the percentage.
		{"one total", two(25, 100, 40, 0), nil, 10 * time.Second, Stats{Percent: 25, Rate: 6.5, ETA: 30 * time.Second}},
		{"half way", two(50, 100, 50, 100), nil, 10 * time.Second, Stats{Percent: 50, Rate: 10, ETA: 10 * time.Second}},
		// The slower side decides the ETA: 80 left at 2/s.
		{"slowest side", two(80, 100, 20, 100), nil, 10 * time.Second, Stats{Percent: 50, Rate: 10, ETA: 40 * time.Second}},
		// A resumed run: 60 of source were done before this run began.
		{"resumed baseline", two(80, 100, 80, 100), map[string]int64{"source": 60, "target": 60}, 10 * time.Second,
			Stats{Percent: 80, Rate: 4, ETA: 10 * time.Second}},
		// A stale estimate below what was read: no 100%, no ETA.
		{"estimate exceeded", two(150, 100, 150, 100), nil, 10 * time.Second, Stats{Percent: 99, Rate: 30}},
		{"no time yet", two(0, 100, 0, 100), nil, 0, Stats{Percent: 0}},
		{"stalled side", two(100, 100, 0, 100), map[string]int64{"source": 0, "target": 0}, time.Second, Stats{Percent: 50, Rate: 100}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			base := tc.base
			if base == nil {
				base = map[string]int64{}
			}
			if got := Compute(tc.s, base, tc.elapsed, false); got != tc.want {
				t.Fatalf("Compute = %+v, want %+v", got, tc.want)
			}
		})
	}
}

// TestComputeFinal: 100% only once the job has ended, never above.
func TestComputeFinal(t *testing.T) {
	for _, tc := range []struct {
		done, total int64
		final       bool
		want        int
	}{{100, 100, false, 99}, {100, 100, true, 100}, {150, 100, true, 100}, {40, 100, true, 40}} {
		s := Snapshot{Counts: []Count{{"items", tc.done, tc.total}}}
		if got := Compute(s, map[string]int64{}, time.Second, tc.final).Percent; got != tc.want {
			t.Errorf("%d of %d, final %v: %d%%, want %d%%", tc.done, tc.total, tc.final, got, tc.want)
		}
	}
}

func TestLine(t *testing.T) {
	s := Snapshot{Stage: "digests", Counts: []Count{{"source", 38112, 100000}, {"target", 37950, 100000}}}
	got := Line("verify big", s, Stats{Percent: 38, Rate: 21430.7, ETA: 3200 * time.Millisecond}, 10)
	want := "verify big digests [###-------]  38%  source 38,112/100,000  target 37,950/100,000  21,430 items/s  ETA 3s"
	if got != want {
		t.Fatalf("Line:\n got %q\nwant %q", got, want)
	}
	got = Line("job", Snapshot{Counts: []Count{{"items", 5, 0}}}, Stats{Percent: -1}, 10)
	if want := "job  items 5  0 items/s"; got != want {
		t.Fatalf("Line without totals: got %q, want %q", got, want)
	}
}

func TestThousands(t *testing.T) {
	for in, want := range map[int64]string{0: "0", 7: "7", 999: "999", 1000: "1,000", 123456: "123,456",
		1234567: "1,234,567", -1234: "-1,234", -999: "-999"} {
		if got := Thousands(in); got != want {
			t.Errorf("Thousands(%d) = %q, want %q", in, got, want)
		}
	}
}

// syncBuffer is a bytes.Buffer safe for the reporter's goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestReporter runs a reporter against a live counter in both modes: on a
// terminal every draw starts with \r and the output ends with the final
// counts and one newline; otherwise each report is one structured log line.
func TestReporter(t *testing.T) {
	var n atomic.Int64
	read := func() Snapshot {
		return Snapshot{Stage: "scan", Counts: []Count{{"source", n.Load(), 1000}}}
	}
	tick := func(r *Reporter) {
		for i := range 10 {
			n.Store(int64(i * 100))
			time.Sleep(5 * time.Millisecond)
		}
		n.Store(1000)
		r.Stop()
	}

	t.Run("terminal", func(t *testing.T) {
		var out syncBuffer
		r := Start(Options{Label: "verify t", Terminal: true, Out: &out, Every: 2 * time.Millisecond}, read)
		tick(r)
		s := out.String()
		draws := strings.Count(s, "\r")
		if draws < 2 {
			t.Fatalf("terminal output (%d draws):\n%q", draws, s)
		}
		last := s[strings.LastIndex(s, "\r")+1:]
		if !strings.HasPrefix(last, "verify t scan [########################] 100%") || !strings.Contains(last, "source 1,000/1,000") ||
			!strings.HasSuffix(last, "\x1b[K\n") {
			t.Fatalf("last draw %q", last)
		}
		if strings.Count(s, "\n") != 1 {
			t.Fatalf("want exactly one newline (after the last draw): %q", s)
		}
	})

	t.Run("log lines", func(t *testing.T) {
		var out syncBuffer
		log := slog.New(slog.NewJSONHandler(&out, nil))
		n.Store(0)
		r := Start(Options{Label: "verify t", Logger: log, Every: 2 * time.Millisecond}, read)
		tick(r)
		lines := strings.Split(strings.TrimSpace(out.String()), "\n")
		if len(lines) < 2 {
			t.Fatalf("want several log lines, got %q", out.String())
		}
		var last map[string]any
		if err := json.Unmarshal([]byte(lines[len(lines)-1]), &last); err != nil {
			t.Fatal(err)
		}
		if last["msg"] != "progress" || last["job"] != "verify t" || last["stage"] != "scan" ||
			last["source"] != float64(1000) || last["source_estimate"] != float64(1000) || last["percent"] != float64(100) {
			t.Fatalf("last log line %v", last)
		}
		if strings.Contains(out.String(), "\r") {
			t.Fatal("log mode must not draw a bar")
		}
	})
}

// TestWriter: on a terminal, a log line written through Writer clears the
// bar first and redraws it after; otherwise the writer is passed through.
func TestWriter(t *testing.T) {
	var term, logs syncBuffer
	read := func() Snapshot { return Snapshot{Counts: []Count{{"items", 5, 10}}} }
	r := Start(Options{Label: "job", Terminal: true, Out: &term, Every: time.Hour}, read)
	w := r.Writer(&term)
	fmt.Fprint(w, "before any draw\n")
	r.emit(false)
	fmt.Fprint(w, "a log line\n")
	r.Stop()
	bar := "\rjob [############------------]  50%  items 5/10  0 items/s\x1b[K"
	// Nothing moved, so Stop's last draw is the same bar, then a newline.
	want := "before any draw\n" + bar + "\r\x1b[K" + "a log line\n" + bar + bar + "\n"
	if got := term.String(); got != want {
		t.Fatalf("terminal:\n got %q\nwant %q", got, want)
	}
	plain := Start(Options{Label: "job", Out: &logs, Every: time.Hour}, read)
	defer plain.Stop()
	if plain.Writer(&logs) != io.Writer(&logs) {
		t.Fatal("Writer wraps when not on a terminal")
	}
}

func TestIsTerminal(t *testing.T) {
	f, err := os.CreateTemp(t.TempDir(), "x")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	null, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer null.Close()
	// /dev/null is a character device but not a terminal.
	if IsTerminal(f) || IsTerminal(null) || IsTerminal(nil) {
		t.Fatal("a file or /dev/null taken for a terminal")
	}
	if runtime.GOOS != "linux" {
		return
	}
	// The master side of a pseudo-terminal is a tty on Linux.
	ptmx, err := os.OpenFile("/dev/ptmx", os.O_RDWR, 0)
	if err != nil {
		t.Skipf("no /dev/ptmx: %v", err)
	}
	defer ptmx.Close()
	if !IsTerminal(ptmx) {
		t.Fatal("a pseudo-terminal not taken for a terminal")
	}
}
