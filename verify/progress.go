package verify

import (
	"sync/atomic"

	"github.com/dualread/dualread/internal/progress"
)

// Progress is a running comparison's counters. Run updates them; any
// goroutine may read them (Snapshot feeds internal/progress).
type Progress struct {
	pass     atomic.Int32
	read     [2]atomic.Int64 // items read in the current pass, by side, resumed ones included
	estimate [2]atomic.Int64 // DescribeTable's ItemCount, by side
}

// Pass is 1 while digests are taken, 2 while differing buckets are read
// item by item (0 before the first).
func (p *Progress) Pass() int { return int(p.pass.Load()) }

// Read is the items of side (0 source, 1 target) read in the current pass.
func (p *Progress) Read(side int) int64 { return p.read[side].Load() }

// startPass resets the counters to what the cursors (maybe resumed) hold.
func (p *Progress) startPass(pass int, curs [2][]*cursor) {
	for s := range 2 {
		var n int64
		for _, c := range curs[s] {
			c.mu.Lock()
			n += c.items
			c.mu.Unlock()
		}
		p.read[s].Store(n)
	}
	p.pass.Store(int32(pass))
}

// Snapshot is the counters in internal/progress's terms. Each pass reads
// both tables whole, so the estimates hold for both.
func (p *Progress) Snapshot() progress.Snapshot {
	stage := "pass 1 (digests)"
	if p.Pass() == 2 {
		stage = "pass 2 (differing buckets)"
	}
	return progress.Snapshot{Stage: stage, Counts: []progress.Count{
		{Name: "source", Done: p.read[0].Load(), Total: p.estimate[0].Load()},
		{Name: "target", Done: p.read[1].Load(), Total: p.estimate[1].Load()},
	}}
}
