//go:build opencv

package vision

import (
	"fmt"
	"math"
	"testing"

	"gocv.io/x/gocv"
)

// Error budget the issue sets for ranged markers.
const (
	maxDistanceErr = 0.05 // relative
	maxBearingErr  = 2.0  // degrees
)

func newTestDetector(t testing.TB, cfg Config) *Detector {
	t.Helper()
	d, err := NewDetector(cfg, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// look renders sc and returns what the pipeline sees in it.
func look(t testing.TB, d *Detector, sc scene) []Sighting {
	t.Helper()
	f := sc.render(t)
	defer f.Close()
	ss, err := d.Look(f)
	if err != nil {
		t.Fatal(err)
	}
	return ss
}

// checkRange fails t if s is not marker m, ranged within the error budget.
func checkRange(t testing.TB, s Sighting, m placed, kind string) {
	t.Helper()
	if s.ID != m.id || s.Kind != kind {
		t.Errorf("saw id %d (%s), want %d (%s)", s.ID, s.Kind, m.id, kind)
		return
	}
	if !s.Ranged {
		t.Errorf("id %d not ranged: %s", s.ID, s.Reject)
		return
	}
	if e := math.Abs(s.DistanceM-m.p.distM) / m.p.distM; e >= maxDistanceErr {
		t.Errorf("id %d: distance %.3f m, want %.3f m (%.1f%% off)", s.ID, s.DistanceM, m.p.distM, 100*e)
	}
	if e := math.Abs(deg(s.BearingRad - m.p.bearingRad)); e >= maxBearingErr {
		t.Errorf("id %d: bearing %.2f°, want %.2f°", s.ID, deg(s.BearingRad), deg(m.p.bearingRad))
	}
}

// TestSingleMarker sweeps one 10 cm arena marker over distance, bearing and
// yaw, for both Pi camera models, within the range the defaults promise:
// 0.3–2 m (the marker at least 26 px) and a viewing angle (between the
// marker's normal and the line of sight, |yaw − bearing|) up to 60°. Every
// frame must give exactly the marker, within 5% and 2°.
//
// Measured here (subpixel corners): distance error at most 1.8% (at 2 m, a
// 26 px marker), bearing error under 0.1°.
func TestSingleMarker(t *testing.T) {
	for _, model := range []string{ModelPiCamV2, ModelPiCamV3} {
		cfg := DefaultConfig()
		cfg.Camera.Model = model
		in, err := cfg.Intrinsics()
		if err != nil {
			t.Fatal(err)
		}
		d := newTestDetector(t, cfg)
		var cases, seen int
		for _, dist := range []float64{0.3, 0.5, 0.8, 1.2, 1.6, 2.0} {
			for _, b := range []float64{-25, -12, 0, 12, 25} {
				for _, y := range []float64{-45, -20, 0, 30, 50} {
					if math.Abs(y-b) > 60 {
						continue
					}
					m := placed{id: 7, p: pose{dist, rad(b), rad(y), 0}, sideM: 0.1}
					sc := newScene(in, m)
					if !sc.inFrame() {
						continue
					}
					cases++
					t.Run(fmt.Sprintf("%s/d=%.1f/b=%.0f/yaw=%.0f", model, dist, b, y), func(t *testing.T) {
						ss := look(t, d, sc)
						if len(ss) != 1 {
							t.Fatalf("saw %d markers, want 1: %+v", len(ss), ss)
						}
						seen++
						checkRange(t, ss[0], m, KindArena)
					})
				}
			}
		}
		if cases < 80 || seen != cases {
			t.Errorf("%s: detection rate %d/%d over %d frames; want all, over at least 80", model, seen, cases, cases)
		}
	}
}

// TestFarMarkers goes past the promised range. Measured: with viewing
// angles up to 50°, 9 of 9 frames ranged at 2.5 m, 7 of 9 at 3 m (the two
// turned 30° at ±20°, cells 2.5 px wide, are not found); at 4 and 5 m none,
// because min_side_px (16) leaves them unranged rather than up to 6% off.
// Whatever is ranged must be within the error budget.
func TestFarMarkers(t *testing.T) {
	cfg := DefaultConfig()
	in, _ := cfg.Intrinsics()
	d := newTestDetector(t, cfg)
	ranged := map[float64]int{}
	for _, dist := range []float64{2.5, 3, 4, 5} {
		for _, b := range []float64{-20, 0, 20} {
			for _, y := range []float64{-30, 0, 30} {
				m := placed{id: 7, p: pose{dist, rad(b), rad(y), 0}, sideM: 0.1}
				for _, s := range look(t, d, newScene(in, m)) {
					if s.ID != m.id {
						t.Errorf("d=%.1f b=%.0f y=%.0f: false marker %d", dist, b, y, s.ID)
						continue
					}
					if s.Ranged {
						ranged[dist]++
						checkRange(t, s, m, KindArena)
						if r, _ := Locate(s.Corners, in, 0.1); r.EdgePx < cfg.MinSidePx {
							t.Errorf("ranged from a %.1f px edge", r.EdgePx)
						}
					}
				}
			}
		}
	}
	if near := ranged[2.5] + ranged[3]; near < 16 {
		t.Errorf("ranged %d of 18 frames at 2.5 and 3 m, measured 16", near)
	}
	t.Logf("frames ranged, of 9 at each distance: %v", ranged)
}

// TestTwoMarkers puts an arena marker (10 cm) and a robot's face marker
// (6 cm) in one frame.
func TestTwoMarkers(t *testing.T) {
	cfg := DefaultConfig()
	in, _ := cfg.Intrinsics()
	d := newTestDetector(t, cfg)
	tests := []struct {
		name        string
		arena, face pose
	}{
		{"side by side", pose{1.0, rad(15), 0, 0}, pose{0.7, rad(-12), 0, 0}},
		{"face nearer, turned", pose{1.8, rad(-5), rad(20), 0}, pose{0.5, rad(10), rad(-30), 0.05}},
		{"both turned", pose{1.2, rad(-20), rad(-30), -0.05}, pose{1.0, rad(18), rad(40), 0}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := placed{id: 42, p: tc.arena, sideM: cfg.Markers.Arena.SideM}
			f := placed{id: 103, p: tc.face, sideM: cfg.Markers.Face.SideM}
			sc := newScene(in, a, f)
			if !sc.inFrame() {
				t.Fatal("scene leaves the frame: fix the table")
			}
			ss := look(t, d, sc)
			if len(ss) != 2 {
				t.Fatalf("saw %d markers, want 2: %+v", len(ss), ss)
			}
			if ss[0].ID != a.id {
				ss[0], ss[1] = ss[1], ss[0]
			}
			checkRange(t, ss[0], a, KindArena)
			checkRange(t, ss[1], f, KindFace)
		})
	}
}

// TestPartialOcclusion covers part of a marker at 0.8 m. cv::aruco needs the
// whole black border as one quadrilateral contour, so the honest outcome,
// measured and asserted here, is:
//   - a notch in the border up to half a cell deep, or a patch on the inner
//     bits, is still detected (the contour is approximated back to four
//     corners; a wrong inner bit is corrected by the code);
//   - a covered corner, or a border cut through, is not: the robot does not
//     see that marker in that frame (it is not mistaken for another).
func TestPartialOcclusion(t *testing.T) {
	cfg := DefaultConfig()
	in, _ := cfg.Intrinsics()
	d := newTestDetector(t, cfg)
	tests := []struct {
		name  string
		occ   []rect
		grey  uint8
		found bool
	}{
		{"none", nil, 0, true},
		{"white notch, quarter cell, top edge", []rect{{2, -1, 3, 0.25}}, 255, true},
		{"grey notch, half cell, left edge", []rect{{-1, 2.5, 0.5, 3.5}}, 128, true},
		{"dark patch on one inner bit", []rect{{2.2, 2.2, 2.8, 2.8}}, 30, true},
		{"dark patch over four inner bits", []rect{{2, 2, 3.5, 3.5}}, 30, false},
		{"white cut through the top border", []rect{{2, -1, 3, 1}}, 255, false},
		{"grey corner covered", []rect{{-1, -1, 1.2, 1.2}}, 128, false},
		{"white quarter of the marker", []rect{{3, 3, 7, 7}}, 255, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := placed{id: 12, p: pose{0.8, rad(5), rad(15), 0}, sideM: 0.1, occlude: tc.occ, occludeGrey: tc.grey}
			ss := look(t, d, newScene(in, m))
			if tc.found {
				if len(ss) != 1 {
					t.Fatalf("saw %d markers, want the occluded one: %+v", len(ss), ss)
				}
				checkRange(t, ss[0], m, KindArena)
				return
			}
			for _, s := range ss {
				t.Errorf("saw id %d; this occlusion was measured to hide the marker (if detection improved, update the table)", s.ID)
			}
		})
	}
}

// TestMotionBlur smears the frame horizontally, as a turning robot does.
// Horizontal blur leaves the vertical edges' length, hence the distance,
// intact while the marker is found. Measured: the marker is lost once the
// blur passes about 1.4 of its cells: found with 15 px at 0.8 m (11 px
// cells), lost at 17; found with 7 px at 1.5 m (6 px cells), lost at 9.
func TestMotionBlur(t *testing.T) {
	cfg := DefaultConfig()
	in, _ := cfg.Intrinsics()
	d := newTestDetector(t, cfg)
	tests := []struct {
		distM  float64
		blurPx int
		found  bool
	}{
		{0.8, 0, true}, {0.8, 3, true}, {0.8, 9, true}, {0.8, 15, true}, {0.8, 17, false}, {0.8, 25, false},
		{1.5, 3, true}, {1.5, 7, true}, {1.5, 9, false}, {1.5, 15, false},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("d=%.1f/blur=%d", tc.distM, tc.blurPx), func(t *testing.T) {
			m := placed{id: 3, p: pose{tc.distM, rad(-8), rad(10), 0}, sideM: 0.1}
			sc := newScene(in, m)
			sc.blurPx = tc.blurPx
			ss := look(t, d, sc)
			switch {
			case tc.found && len(ss) == 1:
				checkRange(t, ss[0], m, KindArena)
			case tc.found:
				t.Fatalf("saw %d markers, want 1: %+v", len(ss), ss)
			case len(ss) != 0:
				t.Fatalf("saw %+v; this blur was measured to hide the marker (if detection improved, update the table)", ss)
			}
		})
	}
}

// TestDarkFrame dims the frame and adds sensor noise: a dim room, or an
// auto-exposure that has not caught up. Measured: found down to a
// black-to-white step of about 18 grey levels (gain 0.07), lost at 15 (gain
// 0.06): cv::aruco's adaptive threshold subtracts a constant 7 levels. The
// camera's auto-exposure is what keeps frames above that.
func TestDarkFrame(t *testing.T) {
	cfg := DefaultConfig()
	in, _ := cfg.Intrinsics()
	d := newTestDetector(t, cfg)
	tests := []struct {
		gain, offset, noise float64
		found               bool
	}{
		{0.25, 3, 2, true},   // marker black 3, white 67
		{0.1, 3, 1.5, true},  // 3 / 28
		{0.07, 3, 1, true},   // 3 / 21
		{0.06, 3, 1, false},  // 3 / 18
		{0.05, 3, 1, false},  // 3 / 16
		{0.025, 3, 1, false}, // 3 / 9
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("gain=%.3f", tc.gain), func(t *testing.T) {
			m := placed{id: 21, p: pose{1.0, rad(10), rad(-20), 0}, sideM: 0.1}
			sc := newScene(in, m)
			sc.gain, sc.offset, sc.noiseSigma = tc.gain, tc.offset, tc.noise
			ss := look(t, d, sc)
			switch {
			case tc.found && len(ss) == 1:
				checkRange(t, ss[0], m, KindArena)
			case tc.found:
				t.Fatalf("saw %d markers, want 1: %+v", len(ss), ss)
			case len(ss) != 0:
				t.Fatalf("saw %+v; this darkness was measured to hide the marker (if detection improved, update the table)", ss)
			}
		})
	}
}

// TestNoFalsePositives shows frames with no marker: the pipeline must report
// nothing at all, not even an unknown id.
func TestNoFalsePositives(t *testing.T) {
	cfg := DefaultConfig()
	in, _ := cfg.Intrinsics()
	d := newTestDetector(t, cfg)
	type frame struct {
		name string
		make func() gocv.Mat
	}
	var frames []frame
	frames = append(frames, frame{"empty grey", func() gocv.Mat { return newScene(in).render(t) }})
	frames = append(frames, frame{"black", func() gocv.Mat {
		return gocv.NewMatWithSize(480, 640, gocv.MatTypeCV8UC1)
	}})
	for seed := int64(1); seed <= 5; seed++ {
		sc := newScene(in)
		sc.noiseSigma, sc.seed = 40, seed
		frames = append(frames, frame{fmt.Sprintf("Gaussian noise %d", seed), func() gocv.Mat { return sc.render(t) }})
		sc2 := newScene(in)
		sc2.noiseSigma, sc2.seed, sc2.gain, sc2.offset = 8, seed, 0.1, 10
		frames = append(frames, frame{fmt.Sprintf("dark noise %d", seed), func() gocv.Mat { return sc2.render(t) }})
		seed := seed
		frames = append(frames, frame{fmt.Sprintf("blocks %d", seed), func() gocv.Mat { return blocks(t, seed) }})
	}
	frames = append(frames, frame{"checkerboard", func() gocv.Mat { return checkerboard(t, 40) }})
	for _, f := range frames {
		t.Run(f.name, func(t *testing.T) {
			img := f.make()
			defer img.Close()
			ss, err := d.Look(img)
			if err != nil {
				t.Fatal(err)
			}
			if len(ss) != 0 {
				t.Fatalf("saw %d markers in a frame with none: %+v", len(ss), ss)
			}
		})
	}
}
