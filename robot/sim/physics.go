package sim

import (
	"math"
	"slices"
	"time"
)

// physics advances every robot by d and settles contacts. Called with w.mu
// held; w.elapsed is still the step's start.
func (w *World) physics(d time.Duration) {
	dt := d.Seconds()
	c := &w.cfg
	for _, r := range w.robots {
		r.x0, r.y0 = r.x, r.y
		r.move(c, dt)
		w.clamp(r)
	}
	w.findTouches()
	w.settleContacts(d)
	// Bodies do not interpenetrate: push overlapping pairs apart along the
	// line of their centres, then back inside the wall.
	for _, t := range w.touches {
		w.pushApart(w.robots[t.a], w.robots[t.b])
	}
	for _, r := range w.robots {
		w.clamp(r)
		w.updateWall(r)
		// What the robot really made good along its heading: less than its
		// wheel speed when a wall or another robot holds it back.
		r.ground = ((r.x-r.x0)*math.Cos(r.th) + (r.y-r.y0)*math.Sin(r.th)) / dt
	}
}

// clamp keeps r's centre within wallR of the arena's centre. The disc of
// allowed centres is convex, so a robot whose start and end are inside never
// left it during the step.
func (w *World) clamp(r *Robot) {
	d := math.Hypot(r.x, r.y)
	if d > w.wallR {
		r.x *= w.wallR / d
		r.y *= w.wallR / d
	}
}

// updateWall opens or closes r's wall contact from its current position.
func (w *World) updateWall(r *Robot) {
	touching := math.Hypot(r.x, r.y) >= w.wallR-touchEps
	switch {
	case touching && !r.wallOn:
		r.wallOn, r.wallIdx = true, len(w.walls)
		w.walls = append(w.walls, WallContact{Robot: r.id, Start: w.now(), XM: r.x, YM: r.y})
	case !touching && r.wallOn:
		r.wallOn = false
		w.walls[r.wallIdx].End = w.now()
	}
}

// findTouches fills w.touches with every pair whose discs come within the sum
// of their radii during the step, each moving linearly from (x0, y0) to
// (x, y), sorted by (a, b). A sweep over the x extents of the swept discs
// keeps it near O(n log n) for a spread-out fleet.
func (w *World) findTouches() {
	w.touches = w.touches[:0]
	rr := w.cfg.RobotRadiusM
	reach := 2*rr + touchEps
	n := len(w.robots)
	w.order = w.order[:0]
	for i := 0; i < n; i++ {
		w.order = append(w.order, i)
	}
	lo := func(r *Robot) float64 { return math.Min(r.x0, r.x) }
	hi := func(r *Robot) float64 { return math.Max(r.x0, r.x) }
	slices.SortFunc(w.order, func(i, j int) int {
		a, b := lo(w.robots[i]), lo(w.robots[j])
		switch {
		case a < b:
			return -1
		case a > b:
			return 1
		}
		return i - j
	})
	for oi, i := range w.order {
		ri := w.robots[i]
		hiI := hi(ri) + reach
		yloI, yhiI := math.Min(ri.y0, ri.y), math.Max(ri.y0, ri.y)
		for _, j := range w.order[oi+1:] {
			rj := w.robots[j]
			if lo(rj) > hiI {
				break
			}
			if math.Min(rj.y0, rj.y) > yhiI+reach || math.Max(rj.y0, rj.y) < yloI-reach {
				continue
			}
			a, b := min(i, j), max(i, j)
			if s, ok := firstTouch(w.robots[a], w.robots[b], 2*rr); ok {
				ra, rb := w.robots[a], w.robots[b]
				ax, ay := ra.x0+s*(ra.x-ra.x0), ra.y0+s*(ra.y-ra.y0)
				bx, by := rb.x0+s*(rb.x-rb.x0), rb.y0+s*(rb.y-rb.y0)
				w.touches = append(w.touches, pairTouch{a: a, b: b, s: s, xm: (ax + bx) / 2, ym: (ay + by) / 2})
			}
		}
	}
	slices.SortFunc(w.touches, func(p, q pairTouch) int {
		if p.a != q.a {
			return p.a - q.a
		}
		return p.b - q.b
	})
}

// firstTouch is continuous collision detection for two discs moving linearly
// during a step: whether their centres come within reach (plus touchEps), and
// the earliest fraction s of the step at which they do.
func firstTouch(a, b *Robot, reach float64) (float64, bool) {
	dx0, dy0 := a.x0-b.x0, a.y0-b.y0
	ex, ey := (a.x-b.x)-dx0, (a.y-b.y)-dy0 // change of the offset over the step
	lim := reach + touchEps
	c := dx0*dx0 + dy0*dy0 - lim*lim
	if c <= 0 {
		return 0, true
	}
	qa := ex*ex + ey*ey
	if qa == 0 {
		return 0, false
	}
	qb := dx0*ex + dy0*ey
	if qb >= 0 { // moving apart from the start
		return 0, false
	}
	disc := qb*qb - qa*c
	if disc < 0 {
		return 0, false
	}
	s := (-qb - math.Sqrt(disc)) / qa
	if s > 1 {
		return 0, false
	}
	return math.Max(0, s), true
}

// settleContacts merges this step's touching pairs with the ongoing contacts:
// a new pair starts (and counts) a contact, an ongoing pair that no longer
// touches ends it.
func (w *World) settleContacts(d time.Duration) {
	start := w.now()
	next := w.activeNext[:0]
	i := 0
	for _, t := range w.touches {
		for i < len(w.active) && less(w.active[i].a, w.active[i].b, t.a, t.b) {
			w.contacts[w.active[i].idx].End = start
			i++
		}
		if i < len(w.active) && w.active[i].a == t.a && w.active[i].b == t.b {
			next = append(next, w.active[i])
			i++
			continue
		}
		at := start.Add(time.Duration(t.s * float64(d)))
		next = append(next, pairContact{a: t.a, b: t.b, idx: len(w.contacts)})
		w.contacts = append(w.contacts, Contact{A: w.robots[t.a].id, B: w.robots[t.b].id, Start: at, XM: t.xm, YM: t.ym})
	}
	for ; i < len(w.active); i++ {
		w.contacts[w.active[i].idx].End = start
	}
	w.active, w.activeNext = next, w.active
}

func less(a1, b1, a2, b2 int) bool { return a1 < a2 || (a1 == a2 && b1 < b2) }

// pushApart separates two overlapping discs symmetrically so that they just
// touch. Coincident centres part along x, deterministically.
func (w *World) pushApart(a, b *Robot) {
	reach := 2 * w.cfg.RobotRadiusM
	dx, dy := b.x-a.x, b.y-a.y
	d := math.Hypot(dx, dy)
	if d >= reach {
		return
	}
	ux, uy := 1.0, 0.0
	if d > 0 {
		ux, uy = dx/d, dy/d
	}
	h := (reach - d) / 2
	a.x, a.y = a.x-ux*h, a.y-uy*h
	b.x, b.y = b.x+ux*h, b.y+uy*h
}
