package ddbstreams

import (
	"testing"
	"time"
)

func TestStamp(t *testing.T) {
	const s = uint64(1_000_000) // µs per second
	tests := []struct {
		name  string
		start Stamp
		times []uint64 // ApproximateCreationDateTime, µs
		res   time.Duration
		want  []uint64
		end   Stamp
	}{
		{"same second ranks", Stamp{}, []uint64{5 * s, 5*s + 300, 5 * s}, time.Second,
			[]uint64{6 * s, 6*s + 1, 6*s + 2}, Stamp{Unit: 5, Count: 3}},
		{"new second restarts the rank", Stamp{}, []uint64{5 * s, 5 * s, 7 * s}, time.Second,
			[]uint64{6 * s, 6*s + 1, 8 * s}, Stamp{Unit: 7, Count: 1}},
		{"earlier time counts as the current unit", Stamp{Unit: 9, Count: 2}, []uint64{8 * s, 9 * s}, time.Second,
			[]uint64{10*s + 2, 10*s + 3}, Stamp{Unit: 9, Count: 4}},
		{"minute resolution", Stamp{}, []uint64{61 * s, 119 * s, 120 * s}, time.Minute,
			[]uint64{120 * s, 120*s + 1, 180 * s}, Stamp{Unit: 2, Count: 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := tc.start
			for i, tm := range tc.times {
				if got := st.Next(tm, tc.res); got != tc.want[i] {
					t.Errorf("record %d: version %d, want %d", i, got, tc.want[i])
				}
				// Never earlier than the change could have happened.
				if v := VersionAt(st.Unit, 0, tc.res); v <= tm {
					t.Errorf("record %d: version %d not after its time %d", i, v, tm)
				}
			}
			if st != tc.end {
				t.Errorf("end state %+v, want %+v", st, tc.end)
			}
		})
	}
	if v := VersionAt(1, 5_000_000, time.Second); v != 2*s+s-1 {
		t.Errorf("rank not capped inside its unit: %d", v)
	}
	if m := Merge(Stamp{3, 9}, Stamp{4, 1}, Stamp{4, 2}); m != (Stamp{4, 2}) {
		t.Errorf("Merge = %+v", m)
	}
	if m := Merge(); m != (Stamp{}) {
		t.Errorf("Merge() = %+v", m)
	}
	for arn, want := range map[string]time.Duration{
		"arn:aws:dynamodb:ddblocal:000000000000:table/t/stream/2024-01-01T00:00:00.000":  time.Minute,
		"arn:aws:dynamodb:us-east-1:123456789012:table/t/stream/2024-01-01T00:00:00.000": time.Second,
	} {
		if got := ResolutionOf(arn); got != want {
			t.Errorf("ResolutionOf(%s) = %v, want %v", arn, got, want)
		}
	}
}
