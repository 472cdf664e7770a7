package bench

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

// maxRelErr is the promised bound on how far above the true value a
// percentile may be reported.
const maxRelErr = 1.0 / subCount

func TestBucketBounds(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	vals := []int64{0, 1, 255, 256, 257, 511, 512, 1023, 1024, 1e6, 1e9, 1<<40 - 1}
	for range 100000 {
		vals = append(vals, r.Int64N(1<<40))
	}
	for _, v := range vals {
		b := bucketOf(v)
		hi := bucketHigh(b)
		if hi < v {
			t.Fatalf("bucketHigh(bucketOf(%d)) = %d, below the value", v, hi)
		}
		if b > 0 && bucketHigh(b-1) >= v {
			t.Fatalf("value %d also fits bucket %d (high %d)", v, b-1, bucketHigh(b-1))
		}
		if float64(hi-v) > maxRelErr*float64(v) {
			t.Fatalf("value %d: bucket high %d exceeds relative error %.4f", v, hi, maxRelErr)
		}
	}
	if got := bucketOf(math.MaxInt64); got != numBuckets-1 {
		t.Fatalf("bucketOf(MaxInt64) = %d, want last bucket %d", got, numBuckets-1)
	}
}

func TestQuantileKnownDistributions(t *testing.T) {
	uniform := func(n int) []int64 {
		v := make([]int64, n)
		for i := range v {
			v[i] = int64(i + 1)
		}
		return v
	}
	// Exponential with mean 2ms via its inverse CDF at evenly spaced points,
	// so its percentiles are known in closed form: -mean*ln(1-q).
	expo := func(n int, mean float64) []int64 {
		v := make([]int64, n)
		for i := range v {
			v[i] = int64(-mean * math.Log(1-(float64(i)+0.5)/float64(n)))
		}
		return v
	}
	bimodal := func() []int64 {
		var v []int64
		for range 990 {
			v = append(v, int64(time.Millisecond))
		}
		for range 10 {
			v = append(v, int64(100*time.Millisecond))
		}
		return v
	}
	tests := []struct {
		name   string
		values []int64
		want   map[float64]float64 // quantile -> true value (ns)
	}{
		{"exact-small", uniform(256), map[float64]float64{0.5: 128, 0.9: 231, 0.99: 254, 1: 256}},
		{"uniform-1..1e6", uniform(1e6), map[float64]float64{0.5: 5e5, 0.9: 9e5, 0.99: 9.9e5, 0.999: 9.99e5, 1: 1e6}},
		{"exponential-2ms", expo(200000, 2e6), map[float64]float64{
			0.5: -2e6 * math.Log(0.5), 0.9: -2e6 * math.Log(0.1), 0.99: -2e6 * math.Log(0.01)}},
		{"bimodal", bimodal(), map[float64]float64{0.5: 1e6, 0.99: 1e6, 0.991: 1e8, 1: 1e8}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var h Histogram
			for _, v := range r(tc.values) {
				h.Record(time.Duration(v))
			}
			if h.Count() != int64(len(tc.values)) {
				t.Fatalf("Count = %d, want %d", h.Count(), len(tc.values))
			}
			for q, want := range tc.want {
				got := float64(h.Quantile(q))
				// The exponential's sample percentiles sit within half a
				// sample spacing of the closed form, hence the small slack.
				lo, hi := want*(1-1e-4)-1, want*(1+maxRelErr)+1
				if got < lo || got > hi {
					t.Errorf("Quantile(%v) = %v, want in [%v, %v]", q, got, lo, hi)
				}
			}
		})
	}
}

// r shuffles a copy so recording order cannot matter.
func r(v []int64) []int64 {
	c := append([]int64(nil), v...)
	rand.New(rand.NewPCG(3, 4)).Shuffle(len(c), func(i, j int) { c[i], c[j] = c[j], c[i] })
	return c
}

func TestHistogramMinMaxMeanMerge(t *testing.T) {
	var a, b, all Histogram
	for i := int64(1); i <= 1000; i++ {
		d := time.Duration(i * 1000)
		all.Record(d)
		if i%3 == 0 {
			a.Record(d)
		} else {
			b.Record(d)
		}
	}
	var m Histogram
	m.Merge(&a)
	m.Merge(&Histogram{}) // merging an empty histogram changes nothing
	m.Merge(&b)
	if m.counts != all.counts || m.Count() != all.Count() || m.Min() != all.Min() || m.Max() != all.Max() {
		t.Fatalf("merged histogram differs from one recorded directly")
	}
	if m.Min() != time.Microsecond || m.Max() != time.Millisecond {
		t.Fatalf("min/max = %v/%v, want 1µs/1ms", m.Min(), m.Max())
	}
	if m.Mean() != 500500*time.Nanosecond {
		t.Fatalf("Mean = %v, want 500.5µs", m.Mean())
	}
	// A value beyond the bucket range is clamped but its max stays exact.
	var h Histogram
	h.Record(2 * time.Hour)
	h.Record(-time.Second)
	if h.Max() != 2*time.Hour || h.Quantile(1) != 2*time.Hour || h.Min() != 0 {
		t.Fatalf("max/p100/min = %v/%v/%v", h.Max(), h.Quantile(1), h.Min())
	}
	var empty Histogram
	if empty.Quantile(0.5) != 0 || empty.Mean() != 0 {
		t.Fatalf("empty histogram must report zeros")
	}
}
