package render

import (
	"fmt"
	"image"
	"math"

	"collaborate/robot/vision/aruco"
	"collaborate/robot/vision/lens"
)

// Camera is a camera as mounted on a robot: its lens at Width×Height pixels
// and the height of its optical centre above the floor. It looks level along
// the robot's heading.
type Camera struct {
	Width, Height int
	Lens          lens.Model
	HeightM       float64
}

// Effects are what the sensor and the exposure do to a frame.
type Effects struct {
	// Gain scales radiance to grey levels: a white surface in full light
	// (radiance 1) is 255×Gain grey levels before the black level (0: 1).
	// Exposure time, aperture, analogue gain and the room's brightness all
	// come down to it.
	Gain float64
	// BlackLevel is added to every pixel, in grey levels (the sensor's
	// offset, or stray light).
	BlackLevel float64
	// Vignetting is the fraction of the natural cos⁴ fall-off towards the
	// image's edges that the lens shows: 0 none, 1 all of it.
	Vignetting float64
	// NoiseSigma is the read noise, in grey levels; ShotNoise is the noise
	// variance per grey level of signal (photon noise).
	NoiseSigma, ShotNoise float64
	// ExposureS is how long the shutter stays open: turning at ω rad/s
	// smears the frame over ω×ExposureS of heading.
	ExposureS float64
	// Samples sets the supersampling of pixels on an edge: Samples² rays
	// (0: 4, i.e. 16 rays; at most 8). They form a rank-1 lattice, every
	// ray at its own horizontal and vertical offset, so that a vertical or
	// horizontal edge is placed to 1/(2·Samples²) px, not 1/(2·Samples).
	Samples int
	// Seed starts the noise; frames differ from one another and repeat
	// from one run to the next.
	Seed uint64
}

// Renderer draws frames for one camera. It is not safe for concurrent use.
type Renderer struct {
	cam  Camera
	fx   Effects
	w, h int

	// Ideal normalised coordinates of every pixel centre (xc, yc; w×h) and
	// pixel corner (xk, yk; (w+1)×(h+1), corner (i, j) at pixel coordinates
	// (i-0.5, j-0.5)).
	xc, yc, xk, yk []float32
	// xlo..yhi bound the ideal coordinates the image covers.
	xlo, xhi, ylo, yhi float64
	// duDyaw is how far a pixel's content moves along the row per radian of
	// turn, in pixels (for the motion blur).
	duDyaw []float32
	vig    []float32 // exposure fall-off per pixel (vignetting)

	rad     []float32 // radiance of the frame being drawn, w×h
	row     []float64 // prefix sums for the blur
	blurRow []float32
	wallT   []float32 // wall depth and radiance along x (background)
	wallRad []float32
	sigma   []float32 // noise σ by quarter grey level (expose)
	ka, kb  []float32 // patch coordinates at the pixel corners of a patch's box
	kf      []uint8   // and their flags
	robots  []robotState
	patches []patch
	cells   map[cellKey][]uint8
	lattice [][2]float64 // supersampling offsets within a pixel, 0..1
	rng     uint64
	frames  uint64
}

// New prepares a renderer for cam with effects fx: it inverts the lens at
// every pixel once. It fails when the lens model is not one-to-one over the
// image (see lens.Model.Check).
func New(cam Camera, fx Effects) (*Renderer, error) {
	if cam.Width <= 0 || cam.Height <= 0 {
		return nil, errNoSize
	}
	if !(cam.HeightM >= 0) || !finite(cam.HeightM) {
		return nil, fmt.Errorf("render: camera height %v m", cam.HeightM)
	}
	if err := cam.Lens.Check(cam.Width, cam.Height); err != nil {
		return nil, fmt.Errorf("render: %w", err)
	}
	if err := checkEffects(fx); err != nil {
		return nil, err
	}
	w, h := cam.Width, cam.Height
	r := &Renderer{
		cam: cam, w: w, h: h,
		xc: make([]float32, w*h), yc: make([]float32, w*h),
		xk: make([]float32, (w+1)*(h+1)), yk: make([]float32, (w+1)*(h+1)),
		duDyaw: make([]float32, w*h), vig: make([]float32, w*h),
		rad: make([]float32, w*h), row: make([]float64, w+1), blurRow: make([]float32, w),
		wallT: make([]float32, wallLUT), wallRad: make([]float32, wallLUT), sigma: make([]float32, 256*4),
		ka: make([]float32, (w+1)*(h+1)), kb: make([]float32, (w+1)*(h+1)), kf: make([]uint8, (w+1)*(h+1)),
		cells: map[cellKey][]uint8{},
		xlo:   math.Inf(1), xhi: math.Inf(-1), ylo: math.Inf(1), yhi: math.Inf(-1),
	}
	m := cam.Lens
	for j := 0; j <= h; j++ {
		for i := 0; i <= w; i++ {
			x, y, ok := m.Unproject(float64(i)-0.5, float64(j)-0.5)
			if !ok {
				return nil, fmt.Errorf("render: %w: at pixel corner (%d, %d)", lens.ErrFolds, i, j)
			}
			r.xk[j*(w+1)+i], r.yk[j*(w+1)+i] = float32(x), float32(y)
			r.xlo, r.xhi = math.Min(r.xlo, x), math.Max(r.xhi, x)
			r.ylo, r.yhi = math.Min(r.ylo, y), math.Max(r.yhi, y)
		}
	}
	const dPsi = 1e-4
	for j := 0; j < h; j++ {
		for i := 0; i < w; i++ {
			x, y, ok := m.Unproject(float64(i), float64(j))
			if !ok {
				return nil, fmt.Errorf("render: %w: at pixel (%d, %d)", lens.ErrFolds, i, j)
			}
			k := j*w + i
			r.xc[k], r.yc[k] = float32(x), float32(y)
			// Turning left by dPsi moves the ray's azimuth (right positive)
			// by dPsi and keeps its elevation.
			x2 := math.Tan(math.Atan(x) + dPsi)
			y2 := y * math.Sqrt(1+x2*x2) / math.Sqrt(1+x*x)
			u1, _ := m.Project(x, y)
			u2, _ := m.Project(x2, y2)
			r.duDyaw[k] = float32(math.Abs(u2-u1) / dPsi)
		}
	}
	r.SetEffects(fx)
	return r, nil
}

func checkEffects(fx Effects) error {
	for _, v := range []float64{fx.Gain, fx.BlackLevel, fx.Vignetting, fx.NoiseSigma, fx.ShotNoise, fx.ExposureS} {
		if !finite(v) {
			return fmt.Errorf("render: effects %+v: every number must be finite", fx)
		}
	}
	if fx.Gain < 0 || fx.NoiseSigma < 0 || fx.ShotNoise < 0 || fx.ExposureS < 0 || fx.Vignetting < 0 || fx.Vignetting > 1 || fx.Samples < 0 || fx.Samples > 8 {
		return fmt.Errorf("render: effects %+v: gain, noise and exposure must not be negative, vignetting within [0, 1], samples within [0, 8]", fx)
	}
	return nil
}

// SetEffects changes the effects from the next frame on (an exposure that
// adapts, a room that darkens). Invalid effects are refused and the old
// ones kept.
func (r *Renderer) SetEffects(fx Effects) error {
	if err := checkEffects(fx); err != nil {
		return err
	}
	if fx.Gain == 0 {
		fx.Gain = 1
	}
	if fx.Samples == 0 {
		fx.Samples = 4
	}
	if fx.Samples != r.fx.Samples {
		r.lattice = lattice(fx.Samples * fx.Samples)
	}
	if fx.Vignetting != r.fx.Vignetting || r.frames == 0 {
		for k := range r.vig {
			x, y := float64(r.xc[k]), float64(r.yc[k])
			c2 := 1 / (1 + x*x + y*y) // cos² of the angle off the axis
			r.vig[k] = float32(1 - fx.Vignetting*(1-c2*c2))
		}
	}
	if fx.Seed != r.fx.Seed || r.frames == 0 {
		r.rng = fx.Seed*0x9e3779b97f4a7c15 + 0x632be59bd9b4e019
	}
	r.fx = fx
	return nil
}

// Camera is the camera r draws for.
func (r *Renderer) Camera() Camera { return r.cam }

// Render draws scene s as the camera sees it from pose p while turning at
// angularRps (counter-clockwise positive; it only sets the motion blur),
// into a new image.
func (r *Renderer) Render(s *Scene, p Pose, angularRps float64) (*image.Gray, error) {
	img := &image.Gray{}
	return img, r.RenderInto(img, s, p, angularRps)
}

// RenderInto is Render into dst, reusing its pixels when they are large
// enough; dst becomes a Width×Height image with its origin at (0, 0).
func (r *Renderer) RenderInto(dst *image.Gray, s *Scene, p Pose, angularRps float64) error {
	if !finite(p.XM + p.YM + p.ThetaRad + angularRps) {
		return fmt.Errorf("render: pose %+v, turning %v rad/s: want finite numbers", p, angularRps)
	}
	sc := s.withDefaults()
	if err := sc.validate(); err != nil {
		return err
	}
	st := r.prepare(&sc, p)
	r.background(&st)
	r.drawPatches(&st)
	r.blur(math.Abs(angularRps) * r.fx.ExposureS)
	if cap(dst.Pix) < r.w*r.h {
		dst.Pix = make([]uint8, r.w*r.h)
	}
	dst.Pix = dst.Pix[:r.w*r.h]
	dst.Stride = r.w
	dst.Rect = image.Rect(0, 0, r.w, r.h)
	r.expose(dst.Pix)
	r.frames++
	return nil
}

// Source is a camera made of a Renderer, for a frame source that wants
// images (vision.GraySource): every ReadGray draws what View says the world
// looks like now.
type Source struct {
	Renderer *Renderer
	// View returns the scene, the camera's pose and its turning speed for
	// the next frame. It is called once per frame, from ReadGray's caller's
	// goroutine.
	View func() (s *Scene, p Pose, angularRps float64)
}

// ReadGray draws the next frame into dst.
func (s *Source) ReadGray(dst *image.Gray) error {
	sc, p, w := s.View()
	return s.Renderer.RenderInto(dst, sc, p, w)
}

// cellKey names a marker's pattern with its quiet zone.
type cellKey struct {
	dict  aruco.Dictionary
	id    int
	quiet int
}

// markerCells returns the marker's grid: (N+2+2q)² cells, 1 white, 0
// black, row-major from the top-left of the quiet zone.
func (r *Renderer) markerCells(d aruco.Dictionary, id, quiet int) ([]uint8, int) {
	code, _ := d.Code(id) // validated
	g := code.N + 2 + 2*quiet
	key := cellKey{d, id, quiet}
	if c, ok := r.cells[key]; ok {
		return c, g
	}
	c := make([]uint8, g*g)
	for row := 0; row < g; row++ {
		for col := 0; col < g; col++ {
			br, bc := row-quiet, col-quiet // in the bordered marker
			switch {
			case br < 0 || bc < 0 || br > code.N+1 || bc > code.N+1:
				c[row*g+col] = 1 // quiet zone
			case br == 0 || bc == 0 || br == code.N+1 || bc == code.N+1:
				c[row*g+col] = 0 // border
			case code.White(br-1, bc-1):
				c[row*g+col] = 1
			}
		}
	}
	r.cells[key] = c
	return c, g
}

// lattice is n points in the unit square, point k at ((k+½)/n, (k·g mod
// n + ½)/n), with the generator g that keeps the points farthest apart
// (on the torus): every point has its own column and row.
func lattice(n int) [][2]float64 {
	best, bestD := 1, -1.0
	for g := 1; g < n; g++ {
		d := math.Inf(1)
		for k := 1; k < n; k++ {
			dx := float64(k) / float64(n)
			dy := float64(k*g%n) / float64(n)
			dx, dy = math.Min(dx, 1-dx), math.Min(dy, 1-dy)
			d = math.Min(d, dx*dx+dy*dy)
		}
		if d > bestD {
			best, bestD = g, d
		}
	}
	pts := make([][2]float64, n)
	for k := range pts {
		pts[k] = [2]float64{(float64(k) + 0.5) / float64(n), (float64(k*best%n) + 0.5) / float64(n)}
	}
	return pts
}
