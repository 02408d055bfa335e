package pilot

import (
	"math"
	"testing"
)

// observe returns exact observations of markers ms from pose (x, y, th).
func observe(x, y, th float64, ms ...[2]float64) []markerObs {
	os := make([]markerObs, len(ms))
	for i, m := range ms {
		os[i] = markerObs{mx: m[0], my: m[1], d: math.Hypot(m[0]-x, m[1]-y), b: wrap(math.Atan2(m[1]-y, m[0]-x) - th)}
	}
	return os
}

func TestRefinePoseConverges(t *testing.T) {
	ring := func(k int) [2]float64 {
		a := float64(k) * math.Pi / 4
		return [2]float64{1.5 * math.Cos(a), 1.5 * math.Sin(a)}
	}
	deg5 := 5 * math.Pi / 180
	tests := []struct {
		desc     string
		x, y, th float64 // the truth
		gx, gy   float64 // the first guess's position error; its heading is 5° off
		markers  [][2]float64
	}{
		{"two markers ahead", 0.3, -0.2, 0.7, 0.3, 0, [][2]float64{ring(0), ring(1)}},
		{"two markers, guess off sideways", -0.5, 0.4, 2.0, -0.2, 0.224, [][2]float64{ring(2), ring(3)}},
		{"three markers", 0.1, 0.1, -1.2, 0.212, -0.212, [][2]float64{ring(5), ring(6), ring(7)}},
		{"near the wall", 1.0, 0.2, 0.1, 0, -0.3, [][2]float64{ring(0), ring(1), ring(7)}},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			os := observe(tc.x, tc.y, tc.th, tc.markers...)
			x, y, th := refinePose(os, tc.x+tc.gx, tc.y+tc.gy, tc.th+deg5)
			if e := math.Hypot(x-tc.x, y-tc.y); e > 0.001 || math.Abs(wrap(th-tc.th)) > 0.001 {
				t.Fatalf("refined to (%.4f, %.4f, %.4f), truth (%.4f, %.4f, %.4f): %.4f m off",
					x, y, th, tc.x, tc.y, tc.th, e)
			}
		})
	}
}

func TestRefinePoseDegenerate(t *testing.T) {
	gx, gy, gth := 0.2, -0.1, 0.5
	tests := []struct {
		desc string
		os   []markerObs
	}{
		{"one marker at the robot's position", []markerObs{{mx: gx, my: gy, d: 0.3, b: 0.1}}},
		{"two markers, one at the robot's position", []markerObs{{mx: 1.5, my: 0, d: 1.3, b: -0.4}, {mx: gx, my: gy, d: 0.3, b: 0.1}}},
		{"two markers, one within a millimetre of the robot", []markerObs{{mx: 1.5, my: 0, d: 1.3, b: -0.4}, {mx: gx + 0.0005, my: gy, d: 0.3, b: 0.1}}},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			x, y, th := refinePose(tc.os, gx, gy, gth)
			if x != gx || y != gy || th != gth {
				t.Fatalf("returned (%v, %v, %v), want the guess (%v, %v, %v) unchanged", x, y, th, gx, gy, gth)
			}
		})
	}
}
