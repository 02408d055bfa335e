package lens

import (
	"errors"
	"fmt"
	"math"
)

// Model is a camera: focal lengths and principal point in pixels, and the
// distortion coefficients (dimensionless, in normalised coordinates, so
// they do not change when the image is scaled).
type Model struct {
	FX, FY, CX, CY     float64
	K1, K2, P1, P2, K3 float64
}

// Distorted reports whether any distortion coefficient is set.
func (m Model) Distorted() bool {
	return m.K1 != 0 || m.K2 != 0 || m.P1 != 0 || m.P2 != 0 || m.K3 != 0
}

// Validate checks that the focal lengths are positive and every number is
// finite.
func (m Model) Validate() error {
	if !(m.FX > 0) || !(m.FY > 0) || math.IsInf(m.FX, 0) || math.IsInf(m.FY, 0) {
		return fmt.Errorf("lens: focal lengths fx=%v fy=%v: want positive", m.FX, m.FY)
	}
	for _, v := range []float64{m.CX, m.CY, m.K1, m.K2, m.P1, m.P2, m.K3} {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("lens: %+v: every parameter must be finite", m)
		}
	}
	return nil
}

// Distort maps ideal normalised coordinates to distorted ones.
func (m Model) Distort(x, y float64) (xd, yd float64) {
	r2 := x*x + y*y
	radial := 1 + r2*(m.K1+r2*(m.K2+r2*m.K3))
	xd = x*radial + 2*m.P1*x*y + m.P2*(r2+2*x*x)
	yd = y*radial + m.P1*(r2+2*y*y) + 2*m.P2*x*y
	return xd, yd
}

// jacobian is Distort's derivative at (x, y): d(xd, yd)/d(x, y).
func (m Model) jacobian(x, y float64) (a, b, c, d float64) {
	r2 := x*x + y*y
	radial := 1 + r2*(m.K1+r2*(m.K2+r2*m.K3))
	dr := m.K1 + r2*(2*m.K2+3*m.K3*r2) // d radial / d r2
	a = radial + 2*x*x*dr + 2*m.P1*y + 6*m.P2*x
	b = 2*x*y*dr + 2*m.P1*x + 2*m.P2*y
	c = b
	d = radial + 2*y*y*dr + 6*m.P1*y + 2*m.P2*x
	return a, b, c, d
}

// Undistort inverts Distort: the ideal normalised coordinates that distort
// to (xd, yd). ok is false when Newton's method does not converge (a point
// beyond where the lens model folds back on itself).
func (m Model) Undistort(xd, yd float64) (x, y float64, ok bool) {
	if !m.Distorted() {
		return xd, yd, true
	}
	x, y = xd, yd
	fx, fy := m.Distort(x, y)
	ex, ey := fx-xd, fy-yd
	res := math.Hypot(ex, ey)
	for range 50 {
		if res < 1e-13 {
			break
		}
		a, b, c, d := m.jacobian(x, y)
		det := a*d - b*c
		if !(math.Abs(det) > 1e-12) {
			return x, y, false
		}
		sx := (d*ex - b*ey) / det
		sy := (a*ey - c*ex) / det
		// Damped: halve the step until the residual falls, so that a strong
		// lens cannot throw the iterate past the fold.
		step := 1.0
		for range 30 {
			nx, ny := x-step*sx, y-step*sy
			gx, gy := m.Distort(nx, ny)
			if r := math.Hypot(gx-xd, gy-yd); r < res {
				x, y, ex, ey, res = nx, ny, gx-xd, gy-yd, r
				break
			}
			step /= 2
		}
		if step < 1e-8 {
			break
		}
	}
	if res > 1e-9 {
		return x, y, false
	}
	a, b, c, d := m.jacobian(x, y)
	return x, y, a*d-b*c > 0
}

// Project maps ideal normalised coordinates to distorted pixels.
func (m Model) Project(x, y float64) (u, v float64) {
	xd, yd := m.Distort(x, y)
	return m.CX + m.FX*xd, m.CY + m.FY*yd
}

// Unproject maps a distorted pixel to ideal normalised coordinates.
func (m Model) Unproject(u, v float64) (x, y float64, ok bool) {
	return m.Undistort((u-m.CX)/m.FX, (v-m.CY)/m.FY)
}

// Ideal maps a distorted pixel to where a camera with the same fx, fy, cx,
// cy and no distortion would see the same point: what
// cv::undistortPoints returns with P set to the camera matrix.
func (m Model) Ideal(u, v float64) (iu, iv float64, ok bool) {
	x, y, ok := m.Unproject(u, v)
	return m.CX + m.FX*x, m.CY + m.FY*y, ok
}

// ErrFolds is returned by Check for a lens whose model is not one-to-one
// over the image.
var ErrFolds = errors.New("lens: the distortion model folds back within the image (not invertible)")

// Check verifies that m is valid and one-to-one over a width×height
// image: every pixel, borders included, has an ideal point where the map
// keeps its orientation, and along the borders the ideal points advance
// with the pixels. A polynomial lens model fitted to one camera can fold
// back beyond the image it was fitted on; frames rendered or undistorted
// there would be wrong.
func (m Model) Check(width, height int) error {
	if err := m.Validate(); err != nil {
		return err
	}
	if width <= 0 || height <= 0 {
		return fmt.Errorf("lens: image %d×%d: want a positive size", width, height)
	}
	if !m.Distorted() {
		return nil
	}
	// Pixel centres are integers; the image's outer edges are at -0.5 and
	// size-0.5.
	w, h := float64(width)-0.5, float64(height)-0.5
	// line walks from (u0, v0) to (u1, v1) in steps of at most one pixel and
	// wants the ideal coordinate along the walk to grow.
	line := func(u0, v0, u1, v1 float64, alongX bool) error {
		n := math.Ceil(math.Max(math.Abs(u1-u0), math.Abs(v1-v0)))
		prev := math.Inf(-1)
		for i := 0.0; i <= n; i++ {
			u, v := u0+(u1-u0)*i/n, v0+(v1-v0)*i/n
			x, y, ok := m.Unproject(u, v)
			if !ok {
				return fmt.Errorf("%w: at pixel (%.1f, %.1f)", ErrFolds, u, v)
			}
			c := y
			if alongX {
				c = x
			}
			if c <= prev {
				return fmt.Errorf("%w: near pixel (%.1f, %.1f)", ErrFolds, u, v)
			}
			prev = c
		}
		return nil
	}
	for _, err := range []error{
		line(-0.5, -0.5, w, -0.5, true), line(-0.5, h, w, h, true),
		line(-0.5, -0.5, -0.5, h, false), line(w, -0.5, w, h, false),
	} {
		if err != nil {
			return err
		}
	}
	for v := -0.5; v <= h; v += 8 {
		if err := line(-0.5, v, w, v, true); err != nil {
			return err
		}
	}
	return nil
}
