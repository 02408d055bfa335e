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
)

// Synthetic frames for the vision tests: markers drawn by cv::aruco, placed
// by the same pinhole model (project) that Locate inverts, warped into the
// frame with a perspective transform, then degraded the way a Pi camera
// degrades them.

const superSample = 2 // render at 2× and area-average down: edges as a sensor integrates them

// placed is one marker in a scene.
type placed struct {
	id    int
	p     pose
	sideM float64
	// occlude, in marker cells (the marker is 6×6 cells for a 4×4 code:
	// cells 0 and 5 are the black border; -1 and 6 the white quiet zone),
	// is painted with occludeGrey before the warp, as an object in front
	// of the marker would be.
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
	blurPx     int     // horizontal motion blur, box kernel length at 1×
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

// render draws the scene as an 8-bit grey frame; the caller closes it.
func (s scene) render(t testing.TB) gocv.Mat {
	t.Helper()
	big := gocv.NewMatWithSizeFromScalar(gocv.NewScalar(float64(s.background), 0, 0, 0), s.h*superSample, s.w*superSample, gocv.MatTypeCV8UC1)
	defer big.Close()
	for _, m := range s.markers {
		s.warpMarker(t, &big, m)
	}
	frame := gocv.NewMat()
	gocv.Resize(big, &frame, image.Pt(s.w, s.h), 0, 0, gocv.InterpolationArea)
	if s.blurPx > 1 {
		k := gocv.NewMatWithSizeFromScalar(gocv.NewScalar(1/float64(s.blurPx), 0, 0, 0), 1, s.blurPx, gocv.MatTypeCV32F)
		gocv.Filter2D(frame, &frame, -1, k, image.Pt(-1, -1), 0, gocv.BorderReflect)
		k.Close()
	}
	gain := s.gain
	if gain == 0 {
		gain = 1
	}
	pix, err := frame.DataPtrUint8()
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewSource(s.seed))
	for i, v := range pix {
		f := float64(v)*gain + s.offset
		if s.noiseSigma > 0 {
			f += rng.NormFloat64() * s.noiseSigma
		}
		pix[i] = uint8(math.Max(0, math.Min(255, math.Round(f))))
	}
	return frame
}

// warpMarker draws m into big (the supersampled frame).
func (s scene) warpMarker(t testing.TB, big *gocv.Mat, m placed) {
	t.Helper()
	// Source: the marker with a quiet zone of one cell, drawn about as large
	// as it will appear, so the warp never shrinks it much (no aliasing).
	proj := project(m.p, s.in, m.sideM)
	apparent := SidePx(proj) * superSample
	cell := int(math.Max(4, math.Ceil(apparent/6)))
	side := 6 * cell
	mk, err := aruco.DrawMarker(aruco.Dict4X4_250, m.id, side, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer mk.Close()
	src := gocv.NewMatWithSizeFromScalar(gocv.NewScalar(255, 0, 0, 0), side+2*cell, side+2*cell, gocv.MatTypeCV8UC1)
	defer src.Close()
	roi := src.Region(image.Rect(cell, cell, cell+side, cell+side))
	mk.CopyTo(&roi)
	roi.Close()
	for _, r := range m.occlude {
		px := func(c float64) int { return int(math.Round((c + 1) * float64(cell))) }
		gocv.Rectangle(&src, image.Rect(px(r.x0), px(r.y0), px(r.x1), px(r.y1)), color.RGBA{m.occludeGrey, m.occludeGrey, m.occludeGrey, 0}, -1)
	}
	// The quiet zone's outer corners, in source pixel-centre coordinates
	// (pixel i spans i-0.5..i+0.5), map to the projection of a square
	// 8/6 the marker's side.
	n := float64(side + 2*cell)
	lo, hi := float32(-0.5), float32(n-0.5)
	srcPts := []gocv.Point2f{{X: lo, Y: lo}, {X: hi, Y: lo}, {X: hi, Y: hi}, {X: lo, Y: hi}}
	dst := project(m.p, s.in, m.sideM*8/6)
	dstPts := make([]gocv.Point2f, 4)
	for k, c := range dst {
		// 1× pixel-centre u is 2×'s 2u+0.5.
		dstPts[k] = gocv.Point2f{X: float32(c[0]*superSample + (superSample-1)/2.0), Y: float32(c[1]*superSample + (superSample-1)/2.0)}
	}
	sv, dv := gocv.NewPoint2fVectorFromPoints(srcPts), gocv.NewPoint2fVectorFromPoints(dstPts)
	defer sv.Close()
	defer dv.Close()
	h := gocv.GetPerspectiveTransform2f(sv, dv)
	defer h.Close()
	gocv.WarpPerspectiveWithParams(src, big, h, image.Pt(big.Cols(), big.Rows()), gocv.InterpolationLinear, gocv.BorderTransparent, color.RGBA{})
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
