package vision

import (
	"fmt"
	"math"
	"math/rand"
	"testing"
)

func TestLocateRecoversPose(t *testing.T) {
	in := PiCamV2At640x480
	var tests []pose
	for _, d := range []float64{0.2, 0.5, 1, 2, 3.5} {
		for _, b := range []float64{-25, -10, 0, 10, 25} {
			for _, y := range []float64{-50, -20, 0, 30, 60} {
				for _, h := range []float64{-0.1, 0, 0.05} {
					tests = append(tests, pose{d, rad(b), rad(y), h})
				}
			}
		}
	}
	for _, p := range tests {
		t.Run(fmt.Sprintf("d=%.1f/b=%.0f/yaw=%.0f/h=%.2f", p.distM, deg(p.bearingRad), deg(p.yawRad), p.heightM), func(t *testing.T) {
			corners := project(p, in, 0.1)
			// A marker mounted a quarter turn round starts its corners
			// elsewhere: every cyclic order must give the same answer.
			for shift := 0; shift < 4; shift++ {
				var c [4][2]float64
				for k := range c {
					c[k] = corners[(k+shift)%4]
				}
				r, err := Locate(c, in, 0.1)
				if err != nil {
					t.Fatal(err)
				}
				if math.Abs(r.DistanceM-p.distM) > 1e-9*p.distM {
					t.Errorf("shift %d: distance %.12f, want %.12f", shift, r.DistanceM, p.distM)
				}
				if math.Abs(r.BearingRad-p.bearingRad) > 1e-9 {
					t.Errorf("shift %d: bearing %.6f°, want %.6f°", shift, deg(r.BearingRad), deg(p.bearingRad))
				}
				if math.Abs(r.YawRad-p.yawRad) > 1e-9 {
					t.Errorf("shift %d: yaw %.6f°, want %.6f°", shift, deg(r.YawRad), deg(p.yawRad))
				}
			}
		})
	}
}

// TestLocateWithCornerNoise checks the error budget the vision tests assert
// (distance 5%, bearing 2°) against a third of a pixel of corner noise, the
// accuracy of cv::aruco's subpixel refinement.
func TestLocateWithCornerNoise(t *testing.T) {
	in := PiCamV3At640x480
	rng := rand.New(rand.NewSource(1))
	tests := []pose{
		{0.3, 0, 0, 0}, {0.6, rad(15), rad(30), 0}, {1, rad(-20), rad(-40), 0.05},
		{1.5, rad(5), rad(10), 0}, {2, rad(-10), 0, 0}, {2.5, rad(20), rad(20), 0},
	}
	for _, p := range tests {
		t.Run(fmt.Sprintf("d=%.1f/b=%.0f", p.distM, deg(p.bearingRad)), func(t *testing.T) {
			for trial := 0; trial < 50; trial++ {
				c := project(p, in, 0.1)
				for k := range c {
					c[k][0] += (rng.Float64() - 0.5) * 2 / 3
					c[k][1] += (rng.Float64() - 0.5) * 2 / 3
				}
				r, err := Locate(c, in, 0.1)
				if err != nil {
					t.Fatal(err)
				}
				if e := math.Abs(r.DistanceM-p.distM) / p.distM; e > 0.05 {
					t.Fatalf("trial %d: distance %.3f m, want %.3f m (%.1f%% off)", trial, r.DistanceM, p.distM, 100*e)
				}
				if e := math.Abs(deg(r.BearingRad - p.bearingRad)); e > 2 {
					t.Fatalf("trial %d: bearing %.2f°, want %.2f°", trial, deg(r.BearingRad), deg(p.bearingRad))
				}
			}
		})
	}
}

func TestLocateRejects(t *testing.T) {
	good := project(pose{1, 0, 0, 0}, PiCamV2At640x480, 0.1)
	nan := good
	nan[2][1] = math.NaN()
	var point [4][2]float64
	tests := []struct {
		name    string
		corners [4][2]float64
		in      Intrinsics
		side    float64
	}{
		{"NaN corner", nan, PiCamV2At640x480, 0.1},
		{"all corners at one point", point, PiCamV2At640x480, 0.1},
		{"zero focal length", good, Intrinsics{FX: 0, FY: 500}, 0.1},
		{"infinite focal length", good, Intrinsics{FX: math.Inf(1), FY: 500}, 0.1},
		{"zero side", good, PiCamV2At640x480, 0},
		{"NaN side", good, PiCamV2At640x480, math.NaN()},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if r, err := Locate(tc.corners, tc.in, tc.side); err == nil {
				t.Fatalf("Locate = %+v, want an error", r)
			}
		})
	}
}

func TestSidePx(t *testing.T) {
	c := [4][2]float64{{0, 0}, {30, 0}, {30, 20}, {0, 20}}
	if got := SidePx(c); got != 20 {
		t.Fatalf("SidePx = %v, want 20", got)
	}
}

// strongLens is a wide-angle barrel lens, about what a cheap 90° webcam
// shows: 11% of the radius lost at the frame's side.
var strongLens = Intrinsics{FX: 560, FY: 557, CX: 326, CY: 236, K1: -0.38, K2: 0.16, P1: 0.002, P2: -0.001, K3: -0.03}

// distortCorners moves ideal pinhole corners to where a camera with in's
// distortion records them.
func distortCorners(c [4][2]float64, in Intrinsics) [4][2]float64 {
	m := in.Lens()
	for k := range c {
		c[k][0], c[k][1] = m.Project((c[k][0]-in.CX)/in.FX, (c[k][1]-in.CY)/in.FY)
	}
	return c
}

// TestLocateUndistorts ranges exact corners of a strongly distorted camera:
// with the distortion in the intrinsics the range is exact; without it, a
// marker off the centre comes out more than 5% off, which is why Locate
// undistorts.
func TestLocateUndistorts(t *testing.T) {
	bare := strongLens
	bare.K1, bare.K2, bare.P1, bare.P2, bare.K3 = 0, 0, 0, 0, 0
	for _, p := range []pose{{0.8, rad(24), rad(10), 0}, {1, rad(-26), 0, 0.05}, {1.8, rad(27), rad(-30), 0}, {1, rad(1), 0, 0}} {
		t.Run(fmt.Sprintf("d=%.1f/b=%.0f", p.distM, deg(p.bearingRad)), func(t *testing.T) {
			c := distortCorners(project(p, strongLens, 0.1), strongLens)
			r, err := Locate(c, strongLens, 0.1)
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(r.DistanceM-p.distM) > 1e-9 || math.Abs(r.BearingRad-p.bearingRad) > 1e-9 {
				t.Errorf("undistorted: %.6f m at %.4f°, want %.6f m at %.4f°", r.DistanceM, deg(r.BearingRad), p.distM, deg(p.bearingRad))
			}
			n, err := Locate(c, bare, 0.1)
			if err != nil {
				t.Fatal(err)
			}
			e := math.Abs(n.DistanceM-p.distM) / p.distM
			offCentre := math.Abs(p.bearingRad) > rad(15)
			if offCentre && e < 0.05 {
				t.Errorf("distortion ignored: only %.1f%% off at %.0f°, the test no longer shows why Locate undistorts", 100*e, deg(p.bearingRad))
			}
			if !offCentre && e > 0.01 {
				t.Errorf("distortion ignored at the centre: %.1f%% off, want under 1%%", 100*e)
			}
			t.Logf("distortion ignored: %.1f%% off, bearing %.2f° off", 100*e, deg(n.BearingRad-p.bearingRad))
		})
	}
}
