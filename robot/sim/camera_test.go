package sim

import (
	"math"
	"testing"

	"collaborate/topics"
	"time"
)

func TestFieldOfView(t *testing.T) {
	half := DefaultConfig().Camera.FOVRad / 2
	cases := []struct {
		desc    string
		heading float64 // marker 0 is at bearing -heading
		seen    bool
	}{
		{"dead ahead", 0, true},
		{"just inside, left edge", -(half - 0.001), true},
		{"just inside, right edge", half - 0.001, true},
		{"just outside, left edge", -(half + 0.001), false},
		{"just outside, right edge", half + 0.001, false},
		{"behind", math.Pi, false},
	}
	for _, c := range cases {
		t.Run(c.desc, func(t *testing.T) {
			w := newWorld(t, noiseless())
			r := mustAdd(t, w, "r", Pose{ThetaRad: c.heading})
			d, ok := seen(t, r)[0]
			if ok != c.seen {
				t.Fatalf("marker 0 seen = %v at bearing %.4f rad, want %v", ok, -c.heading, c.seen)
			}
			if ok && (!near(d.DistanceM, 1.5, 1e-12) || !near(d.BearingRad, -c.heading, 1e-12) || !d.At.Equal(w.Now())) {
				t.Errorf("detection %+v, want distance 1.5, bearing %v, at %v", d, -c.heading, w.Now())
			}
		})
	}
}

func TestBearingSign(t *testing.T) {
	// Marker 3 of 12 is at +90°: facing 60°, it is 30° to the left.
	w := newWorld(t, noiseless())
	r := mustAdd(t, w, "r", Pose{ThetaRad: deg(60)})
	d, ok := seen(t, r)[3]
	if !ok || !near(d.BearingRad, deg(30), 1e-12) {
		t.Errorf("marker 3: %+v, %v; want bearing +30° (left positive)", d, ok)
	}
}

func TestRange(t *testing.T) {
	cases := []struct {
		desc string
		x    float64 // robot on the x axis, facing marker 0 at (1.5, 0)
		seen bool
	}{
		{"within range", 0.6, true},
		{"at range", 0.5, true},
		{"beyond range", 0.4, false},
	}
	for _, c := range cases {
		t.Run(c.desc, func(t *testing.T) {
			cfg := noiseless()
			cfg.Camera.RangeM = 1.0
			w := newWorld(t, cfg)
			r := mustAdd(t, w, "r", Pose{XM: c.x})
			d, ok := seen(t, r)[0]
			if ok != c.seen {
				t.Fatalf("marker 0 at %.2f m seen = %v, want %v", 1.5-c.x, ok, c.seen)
			}
			if ok && !near(d.DistanceM, 1.5-c.x, 1e-12) {
				t.Errorf("distance %v, want %v", d.DistanceM, 1.5-c.x)
			}
		})
	}
}

func TestCameraOffset(t *testing.T) {
	cfg := noiseless()
	cfg.Camera.OffsetM = 0.05
	w := newWorld(t, cfg)
	r := mustAdd(t, w, "r", Pose{})
	if d, ok := seen(t, r)[0]; !ok || !near(d.DistanceM, 1.45, 1e-12) {
		t.Errorf("marker 0 from a camera 5 cm ahead: %+v %v, want 1.45 m", d, ok)
	}
}

func TestOcclusion(t *testing.T) {
	rr := DefaultConfig().RobotRadiusM
	cases := []struct {
		desc string
		y    float64 // of a robot at x = 0.7, between the camera and marker 0
		seen bool
	}{
		{"right in the way", 0, false},
		{"disc just across the line", rr - 0.005, false},
		{"disc just clear of the line", rr + 0.005, true},
		{"well aside", 0.3, true},
	}
	for _, c := range cases {
		t.Run(c.desc, func(t *testing.T) {
			w := newWorld(t, noiseless())
			r := mustAdd(t, w, "cam", Pose{})
			mustAdd(t, w, "blocker", Pose{XM: 0.7, YM: c.y, ThetaRad: math.Pi / 2})
			if _, ok := seen(t, r)[0]; ok != c.seen {
				t.Errorf("marker 0 seen = %v with a robot at (0.7, %.3f), want %v", ok, c.y, c.seen)
			}
		})
	}
}

func TestOcclusionOfFaces(t *testing.T) {
	// A robot behind another one is hidden, faces and all.
	w := newWorld(t, noiseless())
	r := mustAdd(t, w, "cam", Pose{})
	mustAdd(t, w, "near", Pose{XM: 0.4, ThetaRad: math.Pi})
	far := mustAdd(t, w, "far", Pose{XM: 0.9, ThetaRad: math.Pi})
	s := seen(t, r)
	if _, ok := s[104]; !ok {
		t.Errorf("front face of the near robot not seen: %v", s)
	}
	if _, ok := s[far.FaceIDs().Front]; ok {
		t.Errorf("front face of the far robot seen through the near one")
	}
}

func TestFaceMarkers(t *testing.T) {
	rr := DefaultConfig().RobotRadiusM
	cases := []struct {
		desc    string
		heading float64 // of the robot seen, at (0.8, 0), from a camera at the centre facing +x
		face    string
	}{
		{"facing the camera: front", math.Pi, topics.FaceFront},
		{"turned away: back", 0, topics.FaceBack},
		{"left side towards the camera", math.Pi / 2, topics.FaceLeft},
		{"right side towards the camera", -math.Pi / 2, topics.FaceRight},
	}
	for _, c := range cases {
		t.Run(c.desc, func(t *testing.T) {
			w := newWorld(t, noiseless())
			cam := mustAdd(t, w, "cam", Pose{})
			other := mustAdd(t, w, "other", Pose{XM: 0.8, ThetaRad: c.heading})
			ids := other.FaceIDs()
			if ids != (topics.FaceIDs{Front: 104, Left: 105, Back: 106, Right: 107}) {
				t.Fatalf("second robot's face ids %+v, want 104..107", ids)
			}
			if cam.FaceIDs().Front != 100 {
				t.Fatalf("first robot's front face %d, want 100", cam.FaceIDs().Front)
			}
			want := map[string]int{topics.FaceFront: ids.Front, topics.FaceLeft: ids.Left, topics.FaceBack: ids.Back, topics.FaceRight: ids.Right}[c.face]
			var faces []int
			s := seen(t, cam)
			for id := range s {
				if id >= 100 {
					faces = append(faces, id)
				}
			}
			if len(faces) != 1 || faces[0] != want {
				t.Fatalf("faces seen %v, want only %d (%s)", faces, want, c.face)
			}
			d := s[want]
			if !near(d.DistanceM, 0.8-rr, 1e-12) || !near(d.BearingRad, 0, 1e-12) {
				t.Errorf("face detection %+v, want distance %v, bearing 0", d, 0.8-rr)
			}
			x, y, ok := w.MarkerPos(want)
			if !ok || !near(x, 0.8-rr, 1e-12) || !near(y, 0, 1e-12) {
				t.Errorf("MarkerPos(%d) = %v, %v, %v; want (%v, 0)", want, x, y, ok, 0.8-rr)
			}
		})
	}
}

func TestIncidence(t *testing.T) {
	// The other robot at (0.8, 0) turns its back face away from the camera
	// at the centre; past 75° of incidence the face is no longer seen.
	rr := DefaultConfig().RobotRadiusM
	cases := []struct {
		desc string
		turn float64
		seen bool
	}{
		{"square on", 0, true},
		{"70° of incidence", deg(68), true},
		{"80° of incidence", deg(76), false},
	}
	for _, c := range cases {
		t.Run(c.desc, func(t *testing.T) {
			// Guard: the geometry really gives the intended incidence.
			nx, ny := -math.Cos(c.turn), -math.Sin(c.turn) // back face normal
			mx, my := 0.8+rr*nx, rr*ny
			inc := math.Acos((-mx*nx - my*ny) / math.Hypot(mx, my))
			if (inc < deg(75)) != c.seen {
				t.Fatalf("bad case: incidence %.1f°", inc*180/math.Pi)
			}
			w := newWorld(t, noiseless())
			cam := mustAdd(t, w, "cam", Pose{})
			other := mustAdd(t, w, "other", Pose{XM: 0.8, ThetaRad: c.turn})
			if _, ok := seen(t, cam)[other.FaceIDs().Back]; ok != c.seen {
				t.Errorf("back face at %.1f° of incidence seen = %v, want %v", inc*180/math.Pi, ok, c.seen)
			}
		})
	}
}

func TestNoiseStatistics(t *testing.T) {
	cfg := Config{Seed: 42}
	w := newWorld(t, cfg)
	c := w.Config().Camera
	r := mustAdd(t, w, "r", Pose{})
	const n = 4000
	var sd, sd2, sb, sb2 float64
	for i := 0; i < n; i++ {
		d, ok := seen(t, r)[0]
		if !ok {
			t.Fatal("marker 0 not seen")
		}
		e := d.DistanceM/1.5 - 1
		sd, sd2 = sd+e, sd2+e*e
		sb, sb2 = sb+d.BearingRad, sb2+d.BearingRad*d.BearingRad
	}
	meanD, meanB := sd/n, sb/n
	stdD := math.Sqrt(sd2/n - meanD*meanD)
	stdB := math.Sqrt(sb2/n - meanB*meanB)
	// Four standard errors of the mean; 10% on σ (its standard error is
	// about 1.1% at n = 4000).
	if math.Abs(meanD) > 4*c.DistNoise/math.Sqrt(n) || math.Abs(stdD/c.DistNoise-1) > 0.1 {
		t.Errorf("distance error mean %.5f σ %.5f, want 0 and %.5f", meanD, stdD, c.DistNoise)
	}
	if math.Abs(meanB) > 4*c.BearingNoiseRad/math.Sqrt(n) || math.Abs(stdB/c.BearingNoiseRad-1) > 0.1 {
		t.Errorf("bearing error mean %.5f σ %.5f, want 0 and %.5f", meanB, stdB, c.BearingNoiseRad)
	}
}

func TestMappingSweepSeesEveryMarker(t *testing.T) {
	// With a default fleet in place, the robot at the centre turning 360°
	// sees every arena marker: the others stand between markers.
	for _, n := range []int{2, 4, 12} {
		w := newWorld(t, noiseless())
		ids := make([]string, n)
		for i := range ids {
			ids[i] = string(rune('a' + i))
		}
		rs, err := w.AddRobots(ids...)
		if err != nil {
			t.Fatal(err)
		}
		mapper := rs[0]
		_ = mapper.Set(0, 0.5)
		got := map[int]bool{}
		for i := 0; i < 200 && len(got) < 12; i++ {
			w.Step(50 * time.Millisecond)
			for id, d := range seen(t, mapper) {
				if id < 12 {
					got[id] = true
					if !near(d.DistanceM, 1.5, 1e-12) {
						t.Errorf("n=%d: marker %d at %v m from the centre", n, id, d.DistanceM)
					}
				}
			}
		}
		if len(got) != 12 {
			t.Errorf("n=%d: the sweep saw %d markers: %v", n, len(got), got)
		}
	}
}
