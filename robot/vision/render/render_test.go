package render

import (
	"errors"
	"image"
	"math"
	"testing"

	"collaborate/robot/vision/aruco"
	"collaborate/robot/vision/lens"
)

// strong is a wide-angle barrel lens: what the geometry must survive.
var strong = lens.Model{FX: 560, FY: 557, CX: 326, CY: 236, K1: -0.38, K2: 0.16, P1: 0.002, P2: -0.001, K3: -0.03}

func newRenderer(t testing.TB, m lens.Model, fx Effects) *Renderer {
	t.Helper()
	r, err := New(Camera{Width: 640, Height: 480, HeightM: 0.10, Lens: m}, fx)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func render(t testing.TB, r *Renderer, s *Scene, p Pose, w float64) *image.Gray {
	t.Helper()
	img, err := r.Render(s, p, w)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// project is the forward model the tests hold the renderer to: a point in
// the arena frame seen from pose p at height h, through lens m.
func project(m lens.Model, p Pose, h float64, X [3]float64) (u, v float64) {
	rx, ry := X[0]-p.XM, X[1]-p.YM
	c, s := math.Cos(p.ThetaRad), math.Sin(p.ThetaRad)
	fwd, left := rx*c+ry*s, -rx*s+ry*c
	return m.Project(-left/fwd, -(X[2]-h)/fwd)
}

// facing is a board of squares of side sq, square to the camera at pose
// origin, dist ahead, shifted right by right and down by down (metres).
func facing(dist, right, down, sq float64) Board {
	return Board{Cols: 5, Rows: 4, SquareM: sq, Centre: [3]float64{dist, -right, 0.10 - down}, Right: [3]float64{0, -1, 0}, Down: [3]float64{0, 0, -1}}
}

// crossing finds where row v of img crosses level between u0 and u1
// (pixel centres at integers), by linear interpolation; NaN if it does not.
func crossing(img *image.Gray, v, u0, u1 int, level float64) float64 {
	for u := u0; u < u1; u++ {
		a, b := float64(img.GrayAt(u, v).Y), float64(img.GrayAt(u+1, v).Y)
		if (a-level)*(b-level) <= 0 && a != b {
			return float64(u) + (level-a)/(b-a)
		}
	}
	return math.NaN()
}

// edgeAt finds a vertical white-to-black edge in row v of img between
// pixels u0 (white) and u1 (black) by area: a pixel's grey level is the
// fraction of it each side covers, so the edge is (u0 - ½) plus the sum of
// the white fractions. Exact for an antialiased straight edge.
func edgeAt(img *image.Gray, v, u0, u1 int) float64 {
	white, black := float64(img.GrayAt(u0, v).Y), float64(img.GrayAt(u1, v).Y)
	e := float64(u0) - 0.5
	for u := u0; u <= u1; u++ {
		e += (float64(img.GrayAt(u, v).Y) - black) / (white - black)
	}
	return e
}

// TestEdgesWhereTheLensPutsThem renders boards square to the camera, in the
// middle and near the frame's sides, through a pinhole and through a strong
// barrel lens, and finds the vertical edge between the white margin and the
// first black square along several rows: it must lie where package lens
// projects that edge, within 0.04 px (16 samples a pixel place an edge to
// 1/32 px, 8-bit grey levels add about 0.01). That is what makes rendered
// frames a fair test of ranging. Measured: at most 0.030 px.
func TestEdgesWhereTheLensPutsThem(t *testing.T) {
	for _, l := range []struct {
		name string
		m    lens.Model
	}{{"pinhole", lens.Model{FX: 529.6, FY: 528.8, CX: 320, CY: 240}}, {"strong barrel", strong}} {
		for _, b := range []struct {
			name        string
			right, down float64
		}{{"centre", 0, 0}, {"left", -0.42, 0}, {"right, low", 0.36, 0.14}} {
			t.Run(l.name+"/"+b.name, func(t *testing.T) {
				r := newRenderer(t, l.m, Effects{})
				bd := facing(1, b.right, b.down, 0.04)
				s := &Scene{Dictionary: aruco.Dict4X4_50, Boards: []Board{bd}}
				img := render(t, r, s, Pose{}, 0)
				// The edge: x = one square in from the board's left (its
				// white margin), along the first black square (rows 1..2 of
				// squares counted with the margin).
				var worst float64
				for f := 0.15; f < 0.9; f += 0.1 {
					top := bd.Corner(-1, -1) // the first square's top-left corner
					P := [3]float64{top[0], top[1], top[2] - f*bd.SquareM}
					u, v := project(l.m, Pose{}, 0.10, P)
					row := int(math.Round(v))
					// Move along the edge to the row's centre: the edge is
					// nearly vertical, so interpolate u at v = row.
					P2 := [3]float64{top[0], top[1], top[2] - (f+0.05)*bd.SquareM}
					u2, v2 := project(l.m, Pose{}, 0.10, P2)
					want := u + (u2-u)*(float64(row)-v)/(v2-v)
					white := float64(img.GrayAt(int(want)-4, row).Y)
					black := float64(img.GrayAt(int(want)+4, row).Y)
					if white-black < 100 {
						t.Fatalf("row %d: no edge near u=%.2f (white %v, black %v)", row, want, white, black)
					}
					got := edgeAt(img, row, int(want)-4, int(want)+4)
					worst = math.Max(worst, math.Abs(got-want))
				}
				t.Logf("worst edge offset %.3f px", worst)
				if worst > 0.04 {
					t.Errorf("edge %.3f px from where the lens puts it", worst)
				}
			})
		}
	}
}

// TestRobotsOccludeAndAreOpaque puts a robot between the camera and a
// marker: the marker's centre must show the robot, and with the robot moved
// aside, the marker again.
func TestRobotsOccludeAndAreOpaque(t *testing.T) {
	r := newRenderer(t, strong, Effects{})
	m := Marker{ID: 3, XM: 1.2, YM: 0, NormalRad: math.Pi, HeightM: 0.10, SideM: 0.10}
	s := &Scene{Dictionary: aruco.Dict4X4_50, Markers: []Marker{m}}
	u, v := project(strong, Pose{}, 0.10, [3]float64{1.2, 0.05 - 0.1/6/2, 0.10 + 0.05 - 0.1/6/2}) // centre of the top-left border cell
	bare := render(t, r, s, Pose{}, 0)
	if g := bare.GrayAt(int(math.Round(u)), int(math.Round(v))).Y; g > 40 {
		t.Fatalf("the marker's black border reads %d", g)
	}
	// Taller than the marker's top as the camera sees it past the robot.
	s.Robots = []Robot{{XM: 0.6, YM: 0, HeightM: 0.3, Faces: [4]int{-1, -1, -1, -1}, Albedo: 0.6}}
	hidden := render(t, r, s, Pose{}, 0)
	if g := hidden.GrayAt(int(math.Round(u)), int(math.Round(v))).Y; g < 60 {
		t.Fatalf("a robot in front of the marker: the border still reads %d", g)
	}
	dark := 0
	for y := range 480 {
		for x := range 640 {
			if hidden.GrayAt(x, y).Y < 40 {
				dark++
			}
		}
	}
	if dark != 0 {
		t.Errorf("%d black pixels with the marker behind the robot", dark)
	}
	s.Robots[0].YM = 0.4 // aside
	if g := render(t, r, s, Pose{}, 0).GrayAt(int(math.Round(u)), int(math.Round(v))).Y; g > 40 {
		t.Fatalf("robot moved aside: the border reads %d", g)
	}
}

// TestOwnRobotIsNotDrawn: a robot whose disc holds the camera is the
// camera's own; the frame is the same as without it.
func TestOwnRobotIsNotDrawn(t *testing.T) {
	r := newRenderer(t, strong, Effects{})
	s := arena()
	without := render(t, r, s, Pose{XM: 0.05, ThetaRad: 0.3}, 0)
	s.Robots = []Robot{{XM: 0, YM: 0, ThetaRad: 0.3, Faces: [4]int{100, 101, 102, 103}}}
	with := render(t, r, s, Pose{XM: 0.05, ThetaRad: 0.3}, 0)
	for i := range with.Pix {
		if with.Pix[i] != without.Pix[i] {
			t.Fatalf("pixel %d differs: the camera's own robot was drawn", i)
		}
	}
}

// TestFaceMarkers puts a robot across the camera's view: the face turned
// to the camera shows its marker where the robot's disc edge projects.
func TestFaceMarkers(t *testing.T) {
	r := newRenderer(t, strong, Effects{})
	// Robot at 0.8 m, heading π/2: its right face (id 113) looks at the
	// camera (towards -x).
	rb := Robot{XM: 0.8, ThetaRad: math.Pi / 2, Faces: [4]int{110, 111, 112, 113}}
	s := &Scene{Dictionary: aruco.Dict4X4_250, Robots: []Robot{rb}}
	img := render(t, r, s, Pose{}, 0)
	rd := rb.withDefaults()
	cell := rd.FaceSideM / 6
	// The face's plane is at x = 0.8 - 0.09; its top-left border cell's
	// centre is up and to the left (+y) of the face centre.
	corner := [3]float64{0.8 - rd.RadiusM, 2.5 * cell, rd.FaceHeightM + 2.5*cell}
	quiet := [3]float64{0.8 - rd.RadiusM, 3.5 * cell, rd.FaceHeightM + 3.5*cell}
	u, v := project(strong, Pose{}, 0.10, corner)
	if g := img.GrayAt(int(math.Round(u)), int(math.Round(v))).Y; g > 40 {
		t.Errorf("border cell reads %d, want black", g)
	}
	u, v = project(strong, Pose{}, 0.10, quiet)
	if g := img.GrayAt(int(math.Round(u)), int(math.Round(v))).Y; g < 120 {
		t.Errorf("quiet zone reads %d, want white", g)
	}
}

// TestMotionBlurLength turns the camera in front of a board's vertical edge:
// the edge's ramp (10% to 90%) must be 80% of the length the image moves
// during the exposure, fx·ω·T at the centre.
func TestMotionBlurLength(t *testing.T) {
	m := lens.Model{FX: 529.6, FY: 528.8, CX: 320, CY: 240}
	for _, tc := range []struct{ w, exp float64 }{{1, 0.01}, {2, 0.01}, {-2, 0.02}} {
		r := newRenderer(t, m, Effects{ExposureS: tc.exp})
		bd := facing(1, 0.12, 0, 0.06) // the left margin's edge near the image centre; 32 px squares
		s := &Scene{Dictionary: aruco.Dict4X4_50, Boards: []Board{bd}}
		img := render(t, r, s, Pose{}, tc.w)
		top := bd.Corner(-1, -1)
		u, v := project(m, Pose{}, 0.10, [3]float64{top[0], top[1], top[2] - 0.5*bd.SquareM})
		row, c := int(math.Round(v)), int(math.Round(u))
		// The margin and the square are 32 px wide: plateaus remain
		// beside a 17 px ramp.
		white, black := float64(img.GrayAt(c-16, row).Y), float64(img.GrayAt(c+16, row).Y)
		a := crossing(img, row, c-16, c+16, white-0.1*(white-black))
		b := crossing(img, row, c-16, c+16, white-0.9*(white-black))
		want := 0.8 * m.FX * math.Abs(tc.w) * tc.exp
		if got := b - a; math.Abs(got-want) > 0.5 {
			t.Errorf("ω %v rad/s, exposure %v s: ramp %.2f px, want %.2f", tc.w, tc.exp, got, want)
		}
	}
}

// TestExposure checks gain, black level and noise on the flat room above
// the wall, and that noise repeats with the seed and changes every frame.
func TestExposure(t *testing.T) {
	s := arena()
	mean := func(img *image.Gray) (m, sd float64) {
		var n, sum, sum2 float64
		for y := 20; y < 60; y++ { // the room, above the wall
			for x := 200; x < 440; x++ {
				g := float64(img.GrayAt(x, y).Y)
				sum, sum2, n = sum+g, sum2+g*g, n+1
			}
		}
		m = sum / n
		return m, math.Sqrt(sum2/n - m*m)
	}
	r := newRenderer(t, piCamV2, Effects{})
	base, sd := mean(render(t, r, s, Pose{}, 0))
	if sd > 0.6 {
		t.Fatalf("noiseless room: σ %.2f", sd)
	}
	r = newRenderer(t, piCamV2, Effects{Gain: 0.5, BlackLevel: 10})
	if got, _ := mean(render(t, r, s, Pose{}, 0)); math.Abs(got-(base/2+10)) > 1 {
		t.Errorf("gain 0.5, black 10: mean %.1f, want %.1f", got, base/2+10)
	}
	fx := Effects{NoiseSigma: 4, Seed: 7}
	r = newRenderer(t, piCamV2, fx)
	a := render(t, r, s, Pose{}, 0)
	if got, sd := mean(a); math.Abs(sd-4) > 0.3 || math.Abs(got-base) > 0.5 {
		t.Errorf("read noise 4: mean %.2f (want %.2f), σ %.2f", got, base, sd)
	}
	b := render(t, r, s, Pose{}, 0)
	again := render(t, newRenderer(t, piCamV2, fx), s, Pose{}, 0)
	same, differ := true, false
	for i := range a.Pix {
		same = same && a.Pix[i] == again.Pix[i]
		differ = differ || a.Pix[i] != b.Pix[i]
	}
	if !same || !differ {
		t.Errorf("noise: first frames equal across runs %v (want true), consecutive frames differ %v (want true)", same, differ)
	}
	r = newRenderer(t, piCamV2, Effects{ShotNoise: 1})
	if _, sd := mean(render(t, r, s, Pose{}, 0)); math.Abs(sd-math.Sqrt(base)) > 0.1*math.Sqrt(base) {
		t.Errorf("shot noise 1 grey level per level: σ %.2f, want √%.0f = %.2f", sd, base, math.Sqrt(base))
	}
}

// TestVignetting: full cos⁴ fall-off darkens the frame's corner against its
// centre by cos⁴ of the corner ray's angle, on a uniformly lit scene.
func TestVignetting(t *testing.T) {
	m := lens.Model{FX: 400, FY: 400, CX: 320, CY: 240}
	s := &Scene{Dictionary: aruco.Dict4X4_50, Arena: Arena{RoomRadiance: 0.8}}
	cam := Camera{Width: 640, Height: 480, HeightM: 10, Lens: m} // the floor far below: the room fills the frame's top
	r, err := New(cam, Effects{Vignetting: 1})
	if err != nil {
		t.Fatal(err)
	}
	img := render(t, r, s, Pose{}, 0)
	centre := float64(img.GrayAt(320, 5).Y)
	corner := float64(img.GrayAt(0, 5).Y)
	x, y := -320.0/400, -235.0/400
	c2 := 1 / (1 + x*x + y*y)
	x, y = 0, -235.0/400
	c2c := 1 / (1 + x*x + y*y)
	if want := centre * c2 * c2 / (c2c * c2c); math.Abs(corner-want) > 1.5 {
		t.Errorf("corner %v against centre %v, want %.1f", corner, centre, want)
	}
}

func TestRejects(t *testing.T) {
	folding := lens.Model{FX: 400, FY: 400, CX: 320, CY: 240, K1: -0.6}
	for _, tc := range []struct {
		name string
		cam  Camera
		fx   Effects
	}{
		{"no size", Camera{Lens: strong}, Effects{}},
		{"folding lens", Camera{Width: 640, Height: 480, Lens: folding}, Effects{}},
		{"negative noise", Camera{Width: 640, Height: 480, Lens: strong}, Effects{NoiseSigma: -1}},
		{"vignetting over 1", Camera{Width: 640, Height: 480, Lens: strong}, Effects{Vignetting: 2}},
		{"NaN gain", Camera{Width: 640, Height: 480, Lens: strong}, Effects{Gain: math.NaN()}},
	} {
		if _, err := New(tc.cam, tc.fx); err == nil {
			t.Errorf("%s: no error", tc.name)
		} else if tc.name == "folding lens" && !errors.Is(err, lens.ErrFolds) {
			t.Errorf("%s: %v, want lens.ErrFolds", tc.name, err)
		}
	}
	r := newRenderer(t, strong, Effects{})
	for _, tc := range []struct {
		name string
		s    Scene
		p    Pose
	}{
		{"id outside the dictionary", Scene{Dictionary: aruco.Dict4X4_50, Markers: []Marker{{ID: 50, XM: 1}}}, Pose{}},
		{"unknown dictionary", Scene{Dictionary: aruco.Dictionary(99)}, Pose{}},
		{"face id outside", Scene{Dictionary: aruco.Dict4X4_50, Robots: []Robot{{XM: 1, Faces: [4]int{1, 2, 3, 60}}}}, Pose{}},
		{"skewed board", Scene{Dictionary: aruco.Dict4X4_50, Boards: []Board{{Cols: 4, Rows: 3, SquareM: 0.03, Right: [3]float64{0, 1, 0}, Down: [3]float64{0, 1, 0}}}}, Pose{}},
		{"NaN pose", Scene{Dictionary: aruco.Dict4X4_50}, Pose{XM: math.NaN()}},
	} {
		if _, err := r.Render(&tc.s, tc.p, 0); err == nil {
			t.Errorf("%s: no error", tc.name)
		}
	}
}

// TestSource draws through the frame-source adapter, reusing the image.
func TestSource(t *testing.T) {
	r := newRenderer(t, strong, Effects{})
	calls := 0
	src := &Source{Renderer: r, View: func() (*Scene, Pose, float64) { calls++; return arena(), Pose{ThetaRad: float64(calls)}, 0 }}
	var img image.Gray
	for range 2 {
		if err := src.ReadGray(&img); err != nil {
			t.Fatal(err)
		}
	}
	if calls != 2 || img.Rect != image.Rect(0, 0, 640, 480) || len(img.Pix) != 640*480 {
		t.Fatalf("calls %d, image %v with %d pixels", calls, img.Rect, len(img.Pix))
	}
}
