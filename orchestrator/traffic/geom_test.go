package traffic

import (
	"math"
	"testing"
)

func TestCapsuleInterval(t *testing.T) {
	cases := []struct {
		name   string
		p, u   Point
		L      float64
		a, b   Point
		r      float64
		lo, hi float64
		ok     bool
	}{
		{"crosses a segment", Point{-1, 0}, Point{1, 0}, 2, Point{0, -1}, Point{0, 1}, 0.3, 0.7, 1.3, true},
		{"passes a disc", Point{-1, 0.1}, Point{1, 0}, 2, Point{0, 0}, Point{0, 0}, 0.3, 1 - math.Sqrt(0.08), 1 + math.Sqrt(0.08), true},
		{"misses", Point{-1, 1}, Point{1, 0}, 2, Point{0, 0}, Point{0, 0.5}, 0.3, 0, 0, false},
		{"stops short", Point{-1, 0}, Point{1, 0}, 0.5, Point{0, -1}, Point{0, 1}, 0.3, 0, 0, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			lo, hi, ok := capsuleInterval(tc.p, tc.u, tc.L, tc.a, tc.b, tc.r)
			if ok != tc.ok || (ok && (math.Abs(lo-tc.lo) > 1e-9 || math.Abs(hi-tc.hi) > 1e-9)) {
				t.Errorf("got %v %.4f %.4f, want %v %.4f %.4f", ok, lo, hi, tc.ok, tc.lo, tc.hi)
			}
		})
	}
}
