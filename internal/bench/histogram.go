package bench

import (
	"math"
	"math/bits"
	"time"
)

// Histogram records latencies in log-linear buckets, the layout HdrHistogram
// uses: values below 2*subCount are exact, and above that every power of two
// is split into subCount equal buckets, so a reported percentile is never more
// than 1/subCount (0.8%) above the true value. It is written here rather than
// taken from github.com/HdrHistogram/hdrhistogram-go because the part the load
// tool needs is ~100 lines, and a fixed-size array per worker lets workers
// record without locks or allocation and merge once at the end.
//
// A Histogram is not safe for concurrent use: each worker owns one.
type Histogram struct {
	counts [numBuckets]int64
	total  int64
	sum    float64 // nanoseconds, for the mean
	min    int64
	max    int64
}

const (
	subBits  = 7
	subCount = 1 << subBits // buckets per power of two above the linear range
	// maxShift bounds the range at 2^(maxShift+subBits+1) ns ≈ 1100 s; longer
	// values are clamped to the last bucket (max is still kept exactly).
	maxShift   = 32
	numBuckets = 2*subCount + maxShift*subCount
)

// bucketOf returns the bucket index of v (v >= 0).
func bucketOf(v int64) int {
	if v < 2*subCount {
		return int(v)
	}
	// v has L significant bits; its top subBits+1 bits, top, lie in
	// [subCount, 2*subCount) and pick the sub-bucket within the power of two.
	shift := bits.Len64(uint64(v)) - (subBits + 1)
	if shift > maxShift {
		return numBuckets - 1
	}
	top := int(v >> shift)
	return 2*subCount + (shift-1)*subCount + (top - subCount)
}

// bucketHigh is the highest value that lands in bucket i, the value a
// percentile falling in i reports (as HdrHistogram's highestEquivalentValue
// does), so percentiles err on the pessimistic side.
func bucketHigh(i int) int64 {
	if i < 2*subCount {
		return int64(i)
	}
	j := i - 2*subCount
	shift := j/subCount + 1
	top := int64(j%subCount + subCount)
	return (top+1)<<shift - 1
}

// Record adds one latency. Negative durations (a clock step) count as zero.
func (h *Histogram) Record(d time.Duration) {
	v := int64(d)
	if v < 0 {
		v = 0
	}
	h.counts[bucketOf(v)]++
	if h.total == 0 || v < h.min {
		h.min = v
	}
	if v > h.max {
		h.max = v
	}
	h.total++
	h.sum += float64(v)
}

// Merge adds o's records to h.
func (h *Histogram) Merge(o *Histogram) {
	if o.total == 0 {
		return
	}
	for i, c := range o.counts {
		h.counts[i] += c
	}
	if h.total == 0 || o.min < h.min {
		h.min = o.min
	}
	if o.max > h.max {
		h.max = o.max
	}
	h.total += o.total
	h.sum += o.sum
}

// Count is the number of recorded values.
func (h *Histogram) Count() int64 { return h.total }

// Max is the largest recorded value, exact.
func (h *Histogram) Max() time.Duration { return time.Duration(h.max) }

// Min is the smallest recorded value, exact.
func (h *Histogram) Min() time.Duration { return time.Duration(h.min) }

// Mean is the exact arithmetic mean.
func (h *Histogram) Mean() time.Duration {
	if h.total == 0 {
		return 0
	}
	return time.Duration(math.Round(h.sum / float64(h.total)))
}

// Quantile returns the value at or below which a fraction q (0..1) of the
// records lie: the smallest bucket whose cumulative count reaches
// ceil(q*count), reported as that bucket's highest value but never above the
// exact maximum.
func (h *Histogram) Quantile(q float64) time.Duration {
	if h.total == 0 {
		return 0
	}
	if q <= 0 {
		return time.Duration(h.min)
	}
	rank := int64(math.Ceil(q * float64(h.total)))
	if rank > h.total {
		rank = h.total
	}
	var cum int64
	for i, c := range h.counts {
		cum += c
		if cum >= rank {
			v := bucketHigh(i)
			if i == numBuckets-1 || v > h.max {
				// The last bucket holds clamped values: only max is known.
				v = h.max
			}
			if v < h.min {
				v = h.min
			}
			return time.Duration(v)
		}
	}
	return time.Duration(h.max)
}
