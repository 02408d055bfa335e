package lens

import (
	"errors"
	"fmt"
	"math"
	"testing"
)

// Lenses the tests use: none, a mild Pi-camera-like barrel, a strong
// wide-angle barrel, a pincushion, and one with decentring (tangential)
// terms.
var lenses = []struct {
	name string
	m    Model
}{
	{"pinhole", Model{FX: 529.6, FY: 528.8, CX: 320, CY: 240}},
	{"mild barrel", Model{FX: 529.6, FY: 528.8, CX: 318, CY: 243, K1: 0.12, K2: -0.25}},
	{"strong barrel", Model{FX: 560, FY: 557, CX: 326, CY: 236, K1: -0.38, K2: 0.16, P1: 0.002, P2: -0.001, K3: -0.03}},
	{"pincushion", Model{FX: 600, FY: 600, CX: 320, CY: 240, K1: 0.25, K2: 0.1}},
	{"tangential", Model{FX: 500, FY: 510, CX: 330, CY: 250, K1: -0.1, P1: 0.01, P2: -0.008}},
}

func TestDistortFormula(t *testing.T) {
	// Hand-computed from OpenCV's formula (calib3d, "Detailed Description").
	m := Model{K1: 0.1, K2: 0.01, P1: 0.001, P2: 0.002, K3: 0.001}
	x, y := 0.3, -0.2
	r2 := 0.13
	radial := 1 + 0.1*r2 + 0.01*r2*r2 + 0.001*r2*r2*r2
	wantX := x*radial + 2*0.001*x*y + 0.002*(r2+2*x*x)
	wantY := y*radial + 0.001*(r2+2*y*y) + 2*0.002*x*y
	gx, gy := m.Distort(x, y)
	if math.Abs(gx-wantX) > 1e-15 || math.Abs(gy-wantY) > 1e-15 {
		t.Fatalf("Distort = (%v, %v), want (%v, %v)", gx, gy, wantX, wantY)
	}
	if dx, dy := m.Distort(0, 0); dx != 0 || dy != 0 {
		t.Fatalf("the centre moved to (%v, %v)", dx, dy)
	}
}

func TestJacobianMatchesFiniteDifferences(t *testing.T) {
	for _, l := range lenses {
		t.Run(l.name, func(t *testing.T) {
			for _, p := range [][2]float64{{0, 0}, {0.3, -0.2}, {-0.55, 0.41}, {0.6, 0.45}} {
				a, b, c, d := l.m.jacobian(p[0], p[1])
				const h = 1e-6
				x1, y1 := l.m.Distort(p[0]+h, p[1])
				x0, y0 := l.m.Distort(p[0]-h, p[1])
				x3, y3 := l.m.Distort(p[0], p[1]+h)
				x2, y2 := l.m.Distort(p[0], p[1]-h)
				num := [4]float64{(x1 - x0) / 2 / h, (x3 - x2) / 2 / h, (y1 - y0) / 2 / h, (y3 - y2) / 2 / h}
				for k, v := range [4]float64{a, b, c, d} {
					if math.Abs(v-num[k]) > 1e-7 {
						t.Errorf("at %v: jacobian[%d] = %v, finite difference %v", p, k, v, num[k])
					}
				}
			}
		})
	}
}

// TestRoundTrip projects ideal points that land anywhere on a 640×480
// image and undistorts them back: the inverse must recover them to 1e-9 px.
func TestRoundTrip(t *testing.T) {
	for _, l := range lenses {
		t.Run(l.name, func(t *testing.T) {
			if err := l.m.Check(640, 480); err != nil {
				t.Fatal(err)
			}
			var worst float64
			for v := -0.5; v <= 479.5; v += 7.9 {
				for u := -0.5; u <= 639.5; u += 7.9 {
					x, y, ok := l.m.Unproject(u, v)
					if !ok {
						t.Fatalf("pixel (%v, %v) has no ideal point", u, v)
					}
					pu, pv := l.m.Project(x, y)
					worst = math.Max(worst, math.Hypot(pu-u, pv-v))
				}
			}
			if worst > 1e-9 {
				t.Fatalf("round trip off by %.3g px", worst)
			}
		})
	}
}

func TestIdealWithoutDistortionIsIdentity(t *testing.T) {
	m := lenses[0].m
	for _, p := range [][2]float64{{0, 0}, {320, 240}, {639, 1}, {12.25, 470.5}} {
		u, v, ok := m.Ideal(p[0], p[1])
		if !ok || math.Abs(u-p[0]) > 1e-12 || math.Abs(v-p[1]) > 1e-12 {
			t.Errorf("Ideal(%v) = (%v, %v, %v)", p, u, v, ok)
		}
	}
}

func TestCheck(t *testing.T) {
	tests := []struct {
		name  string
		m     Model
		w, h  int
		folds bool
		bad   bool
	}{
		{"pinhole", lenses[0].m, 640, 480, false, false},
		{"strong barrel", lenses[2].m, 640, 480, false, false},
		// k1 = -0.6 alone: r(1 - 0.6 r²) peaks at r = 0.745 (distorted 0.50),
		// so a wide image's corners (distorted r 0.80) have no ideal point.
		{"barrel folding in the corners", Model{FX: 400, FY: 400, CX: 320, CY: 240, K1: -0.6}, 640, 480, true, false},
		{"zero focal length", Model{FY: 400}, 640, 480, false, true},
		{"NaN distortion", Model{FX: 400, FY: 400, K2: math.NaN()}, 640, 480, false, true},
		{"empty image", lenses[1].m, 0, 480, false, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.m.Check(tc.w, tc.h)
			switch {
			case tc.folds && !errors.Is(err, ErrFolds):
				t.Fatalf("Check = %v, want ErrFolds", err)
			case tc.bad && (err == nil || errors.Is(err, ErrFolds)):
				t.Fatalf("Check = %v, want a validation error", err)
			case !tc.folds && !tc.bad && err != nil:
				t.Fatal(err)
			}
		})
	}
}

func ExampleModel_Ideal() {
	m := Model{FX: 560, FY: 557, CX: 326, CY: 236, K1: -0.38, K2: 0.16}
	// A corner detected 250 px right of the centre sits, on an ideal
	// pinhole camera, farther out: barrel distortion pulls the edges in.
	u, v, _ := m.Ideal(326+250, 236)
	fmt.Printf("%.1f %.1f\n", u, v)
	// Output: 598.0 236.0
}
