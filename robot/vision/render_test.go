//go:build opencv

package vision

import (
	"image"
	"image/color"
	"math"
	"math/rand"
	"testing"

	"gocv.io/x/gocv"

	"collaborate/robot/vision/aruco"
	"collaborate/robot/vision/render"
)

// Synthetic frames for the vision tests: markers placed relative to a
// level camera (pose, the model project states and Locate inverts), drawn
// by package render, the simulator's camera, against a uniform background,
// then degraded the way a Pi camera degrades them.

// placed is one marker in a scene.
type placed struct {
	id    int
	p     pose
	sideM float64
	// occlude, in marker cells (the marker is 6×6 cells for a 4×4 code:
	// cells 0 and 5 are the black border; -1 and 6 the white quiet zone),
	// is painted with occludeGrey, as an object in front of the marker
	// would be.
	occlude     []rect
	occludeGrey uint8
}

type rect struct{ x0, y0, x1, y1 float64 } // cells, x1/y1 exclusive

// scene describes one frame.
type scene struct {
	in         Intrinsics
	w, h       int
	background uint8
	markers    []placed
	blurPx     int     // horizontal motion blur at the frame's centre, px
	gain       float64 // multiplies every pixel after blur (0: 1)
	offset     float64 // then added
	noiseSigma float64 // Gaussian noise, grey levels
	seed       int64
}

func newScene(in Intrinsics, markers ...placed) scene {
	return scene{in: in, w: 640, h: 480, background: 170, markers: markers, seed: 1}
}

// inFrame reports whether every marker, quiet zone included, falls inside
// the frame: a marker cut by the frame edge is not a fair detection test.
func (s scene) inFrame() bool {
	for _, m := range s.markers {
		q := m.sideM * 8 / 6 // quiet zone of one cell round a 6-cell marker
		for _, c := range project(m.p, s.in, q) {
			if c[0] < 1 || c[1] < 1 || c[0] > float64(s.w)-2 || c[1] > float64(s.h)-2 {
				return false
			}
		}
	}
	return true
}

// sceneCamHeightM puts the camera well above the floor, which is lit like
// the background anyway.
const sceneCamHeightM = 1

// renderers keeps one renderer per camera across the tests: making one
// inverts the lens at every pixel.
var renderers = map[Intrinsics]*render.Renderer{}

// render draws the scene as an 8-bit grey frame; the caller closes it.
// Markers are black (0) and white (255) cells with one cell of white quiet
// zone; the background, floor and room alike, is s.background, under a
// uniform light.
func (s scene) render(t testing.TB) gocv.Mat {
	t.Helper()
	r, ok := renderers[s.in]
	if !ok || r.Camera().Width != s.w || r.Camera().Height != s.h {
		var err error
		r, err = render.New(render.Camera{Width: s.w, Height: s.h, HeightM: sceneCamHeightM, Lens: s.in.Lens()}, render.Effects{})
		if err != nil {
			t.Fatal(err)
		}
		renderers[s.in] = r
	}
	bg := float64(s.background) / 255
	sc := render.Scene{
		Dictionary: aruco.Dict4X4_250,
		Arena:      render.Arena{FloorAlbedo: bg, RoomRadiance: bg},
		Light:      render.Light{Ambient: 1},
		QuietCells: 1,
		InkAlbedo:  1e-9, PaperAlbedo: 1,
	}
	for _, m := range s.markers {
		// Camera frame (x right, y down, z forward) to the arena frame of a
		// camera at the origin looking along +x: x = z, y = -x, up = -y.
		cx, cz := -m.p.distM*math.Sin(m.p.bearingRad), m.p.distM*math.Cos(m.p.bearingRad)
		rm := render.Marker{ID: m.id, XM: cz, YM: -cx, HeightM: sceneCamHeightM - m.p.heightM, NormalRad: math.Pi + m.p.yawRad, SideM: m.sideM}
		for _, o := range m.occlude {
			rm.Covers = append(rm.Covers, render.Cover{X0: o.x0, Y0: o.y0, X1: o.x1, Y1: o.y1, Albedo: float64(m.occludeGrey) / 255})
		}
		sc.Markers = append(sc.Markers, rm)
	}
	// A turn that smears the frame's centre by blurPx during a 1 s exposure.
	fx := render.Effects{Gain: s.gain, BlackLevel: s.offset, NoiseSigma: s.noiseSigma, Seed: uint64(s.seed), ExposureS: 1}
	if err := r.SetEffects(fx); err != nil {
		t.Fatal(err)
	}
	img, err := r.Render(&sc, render.Pose{}, float64(s.blurPx)/s.in.FX)
	if err != nil {
		t.Fatal(err)
	}
	frame := gocv.NewMat()
	if err := GrayMat(img, &frame); err != nil {
		t.Fatal(err)
	}
	return frame
}

// blocks is a frame of random black and white cells of random sizes: the
// kind of clutter (shelves, tiles, text) most likely to fake a code.
func blocks(t testing.TB, seed int64) gocv.Mat {
	t.Helper()
	rng := rand.New(rand.NewSource(seed))
	f := gocv.NewMatWithSizeFromScalar(gocv.NewScalar(160, 0, 0, 0), 480, 640, gocv.MatTypeCV8UC1)
	for i := 0; i < 300; i++ {
		x, y := rng.Intn(640), rng.Intn(480)
		w, h := 4+rng.Intn(40), 4+rng.Intn(40)
		g := uint8(rng.Intn(2) * 255)
		gocv.Rectangle(&f, image.Rect(x, y, x+w, y+h), color.RGBA{g, g, g, 0}, -1)
	}
	return f
}

// checkerboard is a calibration target's pattern, squares of cell pixels.
func checkerboard(t testing.TB, cell int) gocv.Mat {
	t.Helper()
	f := gocv.NewMatWithSizeFromScalar(gocv.NewScalar(255, 0, 0, 0), 480, 640, gocv.MatTypeCV8UC1)
	for y := 0; y < 480; y += cell {
		for x := 0; x < 640; x += cell {
			if (x/cell+y/cell)%2 == 0 {
				gocv.Rectangle(&f, image.Rect(x, y, x+cell, y+cell), color.RGBA{}, -1)
			}
		}
	}
	return f
}
