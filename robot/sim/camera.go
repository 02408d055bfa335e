package sim

import (
	"math"
	"slices"

	"collaborate/robot/hw"
)

// occluder is another robot that may cut a line of sight.
type occluder struct {
	k    int
	x, y float64
}

// detect is what r's camera sees now, sorted by marker id, with noise when
// noisy. Called with w.mu held. Face markers sit on their disc's edge: the
// owner's own disc never hides them (beyond MaxIncidenceRad it is turned away
// anyway), every other disc may.
func (w *World) detect(r *Robot, noisy bool) []hw.Detection {
	c := &w.cfg.Camera
	rr := w.cfg.RobotRadiusM
	cx := r.x + c.OffsetM*math.Cos(r.th)
	cy := r.y + c.OffsetM*math.Sin(r.th)
	half := c.FOVRad / 2
	cosInc := math.Cos(c.MaxIncidenceRad)

	// Only discs that reach into the camera's range and field of view can
	// hide anything: a disc at distance d and bearing β reaches into the
	// field of view when |β| ≤ half + asin(rr/d), tested as a dot product.
	// A field of view wider than π takes every disc in range.
	hx, hy := math.Cos(r.th), math.Sin(r.th)
	cosHalf, sinHalf := math.Cos(half), math.Sin(half)
	occ := w.occ[:0]
	for _, o := range w.robots {
		if o == r {
			continue
		}
		dx, dy := o.x-cx, o.y-cy
		d2 := dx*dx + dy*dy
		if d2 > (c.RangeM+rr)*(c.RangeM+rr) {
			continue
		}
		if half <= math.Pi/2 && d2 > rr*rr && dx*hx+dy*hy < cosHalf*math.Sqrt(d2-rr*rr)-sinHalf*rr {
			continue
		}
		occ = append(occ, occluder{k: o.k, x: o.x, y: o.y})
	}
	w.occ = occ

	now := w.now()
	range2 := c.RangeM * c.RangeM
	var out []hw.Detection
	// Cheap tests first (squared range, then the field of view and the
	// incidence as dot products); trigonometry only for what is seen.
	see := func(id, owner int, mx, my, nx, ny float64) {
		dx, dy := mx-cx, my-cy
		d2 := dx*dx + dy*dy
		if d2 > range2 || d2 == 0 {
			return
		}
		d := math.Sqrt(d2)
		if dx*hx+dy*hy < cosHalf*d { // |bearing| > half
			return
		}
		if -(nx*dx + ny*dy) < cosInc*d { // incidence > MaxIncidenceRad
			return
		}
		for _, o := range occ {
			if o.k == owner {
				continue
			}
			if segmentHitsDisc(cx, cy, dx, dy, d2, o.x, o.y, rr) {
				return
			}
		}
		bearing := wrap(math.Atan2(dy, dx) - r.th)
		if noisy {
			d *= 1 + c.DistNoise*r.rng.NormFloat64()
			if d < 1e-3 {
				d = 1e-3
			}
			bearing = wrap(bearing + c.BearingNoiseRad*r.rng.NormFloat64())
		}
		out = append(out, hw.Detection{MarkerID: id, DistanceM: d, BearingRad: bearing, At: now})
	}
	for _, m := range w.markers {
		see(m.ID, -1, m.XM, m.YM, m.nx, m.ny)
	}
	reach := c.RangeM + rr
	for _, o := range w.robots {
		if o == r {
			continue
		}
		// Skip a robot wholly out of range before computing its faces.
		ox, oy := o.x-cx, o.y-cy
		if ox*ox+oy*oy > reach*reach {
			continue
		}
		// Face normals: front, left, back, right.
		fc, fs := math.Cos(o.th), math.Sin(o.th)
		normals := [4][2]float64{{fc, fs}, {-fs, fc}, {-fc, -fs}, {fs, -fc}}
		for f, n := range normals {
			see(o.faces.Front+f, o.k, o.x+rr*n[0], o.y+rr*n[1], n[0], n[1])
		}
	}
	// Markers were visited in placement order; ids are what the pilot keys
	// on. The noise was drawn in that fixed order, so sorting keeps runs
	// reproducible.
	slices.SortFunc(out, func(a, b hw.Detection) int { return a.MarkerID - b.MarkerID })
	if out == nil {
		out = []hw.Detection{}
	}
	return out
}

// segmentHitsDisc reports whether the segment from (x, y) along (dx, dy)
// (squared length l2) passes strictly inside the disc at (px, py) of radius
// r. A line of sight that only grazes a disc is not blocked.
func segmentHitsDisc(x, y, dx, dy, l2, px, py, r float64) bool {
	t := ((px-x)*dx + (py-y)*dy) / l2
	t = math.Max(0, math.Min(1, t))
	ex, ey := x+t*dx-px, y+t*dy-py
	return ex*ex+ey*ey < r*r
}
