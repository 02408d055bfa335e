package sim

import (
	"math"
	"strings"
	"testing"
)

func TestNewRejectsBadConfig(t *testing.T) {
	cases := []struct {
		desc  string
		cfg   Config
		field string
	}{
		{"negative diameter", Config{DiameterM: -3}, "DiameterM"},
		{"NaN speed", Config{MaxSpeedMps: math.NaN()}, "MaxSpeedMps"},
		{"robot wider than arena", Config{DiameterM: 0.1, RobotRadiusM: 0.09}, "RobotRadiusM"},
		{"field of view over 2π", Config{Camera: CameraConfig{FOVRad: 7}}, "Camera.FOVRad"},
		{"incidence over π/2", Config{Camera: CameraConfig{MaxIncidenceRad: 2}}, "Camera.MaxIncidenceRad"},
		{"negative noise", Config{Camera: CameraConfig{DistNoise: -0.1}}, "Camera.DistNoise"},
		{"camera off the disc", Config{Camera: CameraConfig{OffsetM: 0.5}}, "Camera.OffsetM"},
		{"duplicate marker", Config{Markers: []int{1, 2, 1}}, "Markers[2]"},
		{"negative marker", Config{Markers: []int{-1}}, "Markers[0]"},
		{"count disagrees with ids", Config{Markers: []int{1, 2}, MarkerCount: 3}, "MarkerCount"},
		{"negative physics step", Config{PhysicsDt: -1}, "PhysicsDt"},
	}
	for _, c := range cases {
		t.Run(c.desc, func(t *testing.T) {
			w, err := New(c.cfg)
			if err == nil {
				t.Fatalf("New(%+v) = %v, want an error naming %s", c.cfg, w, c.field)
			}
			if !strings.Contains(err.Error(), c.field) {
				t.Errorf("error %q does not name %s", err, c.field)
			}
		})
	}
}

func TestDefaults(t *testing.T) {
	w := newWorld(t, Config{})
	c := w.Config()
	d := DefaultConfig()
	if c.DiameterM != 3 || c.RobotRadiusM != 0.09 || c.MaxSpeedMps != 0.25 || c.Camera.FOVRad != d.Camera.FOVRad || c.FaceBase != 100 {
		t.Errorf("defaults not applied: %+v", c)
	}
	if !w.Now().Equal(DefaultStart) {
		t.Errorf("Now() = %v, want %v", w.Now(), DefaultStart)
	}
	ms := w.Markers()
	if len(ms) != 12 {
		t.Fatalf("%d markers, want 12", len(ms))
	}
	for i, m := range ms {
		if m.ID != i {
			t.Errorf("marker %d has id %d", i, m.ID)
		}
		if !near(math.Hypot(m.XM, m.YM), 1.5, 1e-12) {
			t.Errorf("marker %d at %.3f m from the centre, want 1.5", m.ID, math.Hypot(m.XM, m.YM))
		}
		// Faces the centre: its normal points back along its position.
		if !near(wrap(m.NormalRad-math.Atan2(-m.YM, -m.XM)), 0, 1e-12) {
			t.Errorf("marker %d faces %.3f rad, not the centre", m.ID, m.NormalRad)
		}
		x, y, ok := w.MarkerPos(m.ID)
		if !ok || x != m.XM || y != m.YM {
			t.Errorf("MarkerPos(%d) = %v, %v, %v; want %v, %v", m.ID, x, y, ok, m.XM, m.YM)
		}
	}
	if _, _, ok := w.MarkerPos(99); ok {
		t.Error("MarkerPos(99) found a marker that does not exist")
	}
}

func TestCustomMarkers(t *testing.T) {
	w := newWorld(t, Config{DiameterM: 4, Markers: []int{7, 3, 42}})
	ms := w.Markers()
	want := []int{7, 3, 42}
	for i, m := range ms {
		if m.ID != want[i] {
			t.Errorf("marker %d id %d, want %d", i, m.ID, want[i])
		}
		a := 2 * math.Pi * float64(i) / 3
		if !near(m.XM, 2*math.Cos(a), 1e-12) || !near(m.YM, 2*math.Sin(a), 1e-12) {
			t.Errorf("marker %d at (%v, %v), want angle %v on radius 2", m.ID, m.XM, m.YM, a)
		}
	}
}

func TestAddRobotRejects(t *testing.T) {
	w := newWorld(t, Config{Markers: []int{0, 1, 104}})
	mustAdd(t, w, "r0", Pose{})
	cases := []struct {
		desc string
		id   string
		p    Pose
		want string
	}{
		{"bad id", "no/slash", Pose{XM: 0.5}, "must match"},
		{"duplicate id", "r0", Pose{XM: 0.5}, "already"},
		{"outside the arena", "r1", Pose{XM: 1.45}, "beyond"},
		{"not finite", "r1", Pose{XM: math.Inf(1)}, "not finite"},
		{"overlapping", "r1", Pose{XM: 0.17}, "overlaps robot r0"},
	}
	for _, c := range cases {
		t.Run(c.desc, func(t *testing.T) {
			if _, err := w.AddRobot(c.id, c.p); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("AddRobot(%q, %+v) error %v, want one with %q", c.id, c.p, err, c.want)
			}
		})
	}
	// The second robot would carry 104..107, and 104 is an arena marker.
	if _, err := w.AddRobot("r1", Pose{XM: 0.5}); err == nil || !strings.Contains(err.Error(), "104") {
		t.Errorf("face id clash: error %v, want one naming 104", err)
	}
	if n := len(w.Robots()); n != 1 {
		t.Errorf("%d robots after the rejections, want 1", n)
	}
}
