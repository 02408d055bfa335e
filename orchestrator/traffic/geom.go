package traffic

import "math"

func (p Point) add(q Point) Point      { return Point{p.X + q.X, p.Y + q.Y} }
func (p Point) sub(q Point) Point      { return Point{p.X - q.X, p.Y - q.Y} }
func (p Point) scale(k float64) Point  { return Point{p.X * k, p.Y * k} }
func (p Point) dot(q Point) float64    { return p.X*q.X + p.Y*q.Y }
func (p Point) norm() float64          { return math.Hypot(p.X, p.Y) }
func (p Point) dist(q Point) float64   { return p.sub(q).norm() }
func (p Point) finite() bool           { return finite(p.X) && finite(p.Y) }
func finite(v float64) bool            { return !math.IsNaN(v) && !math.IsInf(v, 0) }
func lerp(a, b Point, t float64) Point { return a.add(b.sub(a).scale(t)) }
func clamp(v, lo, hi float64) float64  { return math.Max(lo, math.Min(hi, v)) }
func minf(a, b float64) float64        { return math.Min(a, b) }
func maxf(a, b float64) float64        { return math.Max(a, b) }
func abs(v float64) float64            { return math.Abs(v) }
func perp(p Point) Point               { return Point{-p.Y, p.X} }

func midpoint(a, b Point) Point { return Point{(a.X + b.X) / 2, (a.Y + b.Y) / 2} }

func pointSegDist(p, a, b Point) float64 {
	return p.dist(lerp(a, b, closestOnSeg(p, a, b)))
}

// closestOnSeg is the parameter t in [0,1] of the point of a-b nearest p.
func closestOnSeg(p, a, b Point) float64 {
	d := b.sub(a)
	l2 := d.dot(d)
	if l2 < 1e-18 {
		return 0
	}
	return clamp(p.sub(a).dot(d)/l2, 0, 1)
}

// capsuleInterval returns the range [lo,hi] of s in [0,L] for which the point
// p+s*u (u a unit vector) lies closer than r to the segment a-b. The set is
// an interval because a capsule is convex; it is the hull of the line's
// intersections with the two end discs and the central rectangle.
func capsuleInterval(p, u Point, L float64, a, b Point, r float64) (lo, hi float64, ok bool) {
	lo, hi = math.Inf(1), math.Inf(-1)
	widen := func(s0, s1 float64) {
		lo, hi = minf(lo, s0), maxf(hi, s1)
	}
	disc := func(c Point) {
		d := p.sub(c)
		bq := d.dot(u)
		disc := bq*bq - (d.dot(d) - r*r)
		if disc <= 0 {
			return
		}
		sd := math.Sqrt(disc)
		widen(-bq-sd, -bq+sd)
	}
	disc(a)
	ab := b.sub(a)
	if n := ab.norm(); n > 1e-9 {
		disc(b)
		w := ab.scale(1 / n)
		nv := perp(w)
		s0, s1 := math.Inf(-1), math.Inf(1)
		slab := func(f0, f1, fmin, fmax float64) {
			if abs(f1) < 1e-12 {
				if f0 < fmin || f0 > fmax {
					s0, s1 = 1, 0
				}
				return
			}
			t0, t1 := (fmin-f0)/f1, (fmax-f0)/f1
			if t0 > t1 {
				t0, t1 = t1, t0
			}
			s0, s1 = maxf(s0, t0), minf(s1, t1)
		}
		pa := p.sub(a)
		slab(pa.dot(w), u.dot(w), 0, n)
		slab(pa.dot(nv), u.dot(nv), -r, r)
		if s0 < s1 {
			widen(s0, s1)
		}
	}
	lo, hi = maxf(lo, 0), minf(hi, L)
	if lo > hi {
		return 0, 0, false
	}
	return lo, hi, true
}

// nearStretch is the stretch [lo, hi] of the segment a->b, in metres from
// a, whose points come closer than r to the segment c-d; ok is false when
// none does.
func nearStretch(a, b, c, d Point, r float64) (lo, hi float64, ok bool) {
	n := a.dist(b)
	if n < 1e-9 {
		return 0, 0, pointSegDist(a, c, d) < r
	}
	return capsuleInterval(a, b.sub(a).scale(1/n), n, c, d, r)
}
