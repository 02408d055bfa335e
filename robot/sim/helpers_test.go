package sim

import (
	"math"
	"testing"

	"collaborate/robot/hw"
)

func newWorld(t testing.TB, cfg Config) *World {
	t.Helper()
	w, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return w
}

func mustAdd(t testing.TB, w *World, id string, p Pose) *Robot {
	t.Helper()
	r, err := w.AddRobot(id, p)
	if err != nil {
		t.Fatalf("AddRobot %s: %v", id, err)
	}
	return r
}

func noiseless() Config { return Config{Camera: CameraConfig{Noiseless: true}} }

// seen returns r's detections by marker id.
func seen(t testing.TB, r *Robot) map[int]hw.Detection {
	t.Helper()
	ds, err := r.Detect()
	if err != nil {
		t.Fatalf("Detect: %v", err)
	}
	m := map[int]hw.Detection{}
	for _, d := range ds {
		m[d.MarkerID] = d
	}
	return m
}

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol }

func deg(d float64) float64 { return d * math.Pi / 180 }

// wander is a small deterministic controller that uses the camera, so that
// noise changes trajectories: it keeps away from the wall, stops turning
// when a face is close ahead, and otherwise drives on a gentle curve.
func wander(r *Robot, ds []hw.Detection) {
	p := r.Pose()
	for _, d := range ds {
		if d.MarkerID >= 100 && d.DistanceM < 0.35 && math.Abs(d.BearingRad) < 0.6 {
			_ = r.Set(0, 1.5)
			return
		}
	}
	if math.Hypot(p.XM, p.YM) > 1.0 {
		toCentre := wrap(math.Atan2(-p.YM, -p.XM) - p.ThetaRad)
		_ = r.Set(0.1, 2*toCentre)
		return
	}
	turn := 0.3
	if len(ds) > 0 {
		turn = -0.5 * ds[0].BearingRad
	}
	_ = r.Set(0.25, turn)
}
