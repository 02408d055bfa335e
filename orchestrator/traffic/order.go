package traffic

import (
	"math"
	"time"
)

// Reserved legs are ranked: a leg that comes near what is left of a higher
// leg yields to it, at its gate. This file places a new leg among them and
// keeps every leg's gate.

// conflict is a reserved leg that a new leg comes near.
type conflict struct {
	rank int
	id   string
	at   Point
	// below: the new leg may rank below this one (the new robot waits,
	// short of it, until it has passed); above: it may rank above (this
	// robot waits for the new one). wait is how long, by estimate, the
	// robot that waits loses in each case, weighted by its work left.
	below, above         bool
	waitBelow, waitAbove float64
}

// aheadMarginM: a moving robot is made to yield to a new leg only if its
// gate for it lies this far beyond StopAllowanceM ahead of its reported
// position (the pose may be a period old).
const aheadMarginM = 0.05

// place finds the rank of a new leg a->b of robot r (index self in f):
// its slot among the reserved legs, highest first, or the robot in its
// way. A leg passes every robot that stands, or will (standing, held at
// its gate, at the end of its leg), at standingClearance. Among
// the reserved legs it comes near, it ranks below those it can wait for
// and above those that can still stop short of it, and the slot is the one
// whose waits, by estimate, cost least. With Queue it always ranks last.
func (p *Reserver) place(r *Robot, a, b Point, f *fleetIndex, self int, work float64, stalled bool) (slot int, blocker string, at Point) {
	return p.placeAbove(r, a, b, f, self, work, stalled, len(f.moving), false)
}

// placeAbove is place with the slot at most lowest, and, with heldOnly,
// ranked above no leg whose robot may be moving (yield).
func (p *Reserver) placeAbove(r *Robot, a, b Point, f *fleetIndex, self int, work float64, stalled bool, lowest int, heldOnly bool) (slot int, blocker string, at Point) {
	move := p.cfg.RobotDiameterM + p.cfg.CorridorMarginM
	pass := p.standingClearance(stalled) // from every robot that stands, or will
	if k := f.standing.inWay(a, b, pass, self, f.posOf); k >= 0 {
		return 0, f.robots[k].ID, f.robots[k].Pos
	}
	v := p.cfg.CruiseMps
	weight := func(work float64) float64 { return 1 + work/workScaleM }
	var cs []conflict
	for rank, o := range f.moving {
		l := p.robots[o.ID].leg
		oa, ob := p.remaining(l, o.Pos)
		lo, hi, ok := nearStretch(a, b, oa, ob, move)
		if !ok {
			continue
		}
		c := conflict{rank: rank, id: o.ID, at: midpoint(oa, ob)}
		// Below: it waits short of lo until o has passed; o must then not
		// stand in its way at the end of its leg (perhaps held there for
		// its next leg).
		c.below = pointSegDist(l.B, a, b) >= pass
		if p.cfg.Queue {
			c.below = c.below && lo-p.cfg.StopAllowanceM >= queueMinRunM
			cs = append(cs, c)
			continue
		}
		// Above: o waits short of where what is left of its way comes
		// near the new leg, which must not end in o's way.
		flo, fhi, _ := nearStretch(oa, ob, a, b, move)
		off := done(l, oa)
		fIn, fOut := off+flo, off+fhi
		d := done(l, o.Pos)
		held := p.robots[o.ID].atGate != nil
		c.above = pointSegDist(b, oa, ob) >= pass // o passes where it stands
		if held {
			// Where it stands: its pose, which errs by decimetres
			// mid-arena, and where its pilot holds it, on its leg. The
			// new leg must pass both.
			onLeg := lerp(l.A, l.B, closestOnSeg(o.Pos, l.A, l.B))
			c.above = c.above && pointSegDist(o.Pos, a, b) >= pass && pointSegDist(onLeg, a, b) >= pass
		} else {
			c.above = c.above && !heldOnly && d+p.cfg.StopAllowanceM+aheadMarginM <= fIn
		}
		// Estimated times from now: the new robot turns and gets going,
		// a held one too once released.
		tIn, tOut := p.cfg.StartS+lo/v, p.cfg.StartS+hi/v
		lag := 0.0
		if held || d < setOffM {
			lag = p.cfg.StartS
		}
		oIn, oOut := lag+math.Max(0, fIn-d)/v, lag+math.Max(0, fOut-d)/v
		oWork := math.Max(0, l.A.dist(l.B)-d) + p.workAfter(o)
		c.waitBelow = math.Max(0, oOut-tIn) * weight(work)
		c.waitAbove = math.Max(0, tOut-oIn) * weight(oWork)
		cs = append(cs, c)
	}
	n := len(f.moving)
	best, bestCost := -1, math.Inf(1)
	for k := min(n, lowest); k >= 0; k-- {
		if p.cfg.Queue && k < n {
			break
		}
		cost, ok := 0.0, true
		for _, c := range cs {
			if c.rank < k {
				ok = ok && c.below
				cost += c.waitBelow
			} else {
				ok = ok && c.above
				cost += c.waitAbove
			}
		}
		if ok && cost < bestCost {
			best, bestCost = k, cost
		}
	}
	if best >= 0 {
		return best, "", Point{}
	}

	for _, c := range cs {
		if !c.below {
			return 0, c.id, c.at
		}
	}
	return 0, cs[0].id, cs[0].at
}

// standingClearance is how far a new leg keeps from a robot that stands,
// or will stand (at the end of its leg, held at its gate): move, as from a
// moving robot, since at still (the least that keeps bodies apart) the
// standing robot's face lies inside the passing robot's reflex corridor
// once either strays, and the passing robot stops for a robot that may be
// waiting for it. When the fleet is stalled (no leg reserved), still: the
// deadlock check's witness keeps its first leg still plus half its slack
// from every robot standing, so that leg is reserved then (see the package
// doc), and it is safe. Queue, the first version, keeps still.
func (p *Reserver) standingClearance(stalled bool) float64 {
	if stalled || p.cfg.Queue {
		return p.cfg.RobotDiameterM + p.cfg.StaticMarginM
	}
	return p.cfg.RobotDiameterM + p.cfg.CorridorMarginM
}

// setOffM: a robot less than this along its leg has not set off yet, for
// the estimates: it still has to turn and get going.
const setOffM = 0.05

// workScaleM: in the estimates that rank a new leg, a robot's wait counts
// 1 + (its work left)/workScaleM times, so that robots with long routes
// left go first and the last mission ends sooner.
const workScaleM = 4.0

// workAfter is the length of robot o's route after its reserved leg.
func (p *Reserver) workAfter(o *Robot) float64 {
	st := p.robots[o.ID]
	w := 0.0
	from := st.leg.B
	for i := st.leg.Step + 1; i < len(o.Route); i++ {
		to := p.stopFor(from, o.Route[i])
		if i == len(o.Route)-1 && o.HasPark {
			to = o.Park
		}
		w += from.dist(to)
		from = to
	}
	return w
}

// setGate sets the gate of robot x's leg: StopAllowanceM short of where
// what is left of its way first comes near what is left of a higher leg.
func (p *Reserver) setGate(x *Robot, f *fleetIndex) {
	move := p.cfg.RobotDiameterM + p.cfg.CorridorMarginM
	l := p.robots[x.ID].leg
	l.gate, l.gatedBy, l.gateAt = math.Inf(1), "", Point{}
	xa, _ := p.remaining(l, x.Pos)
	off := done(l, xa)
	for _, y := range f.moving {
		if y.ID == x.ID {
			return // the legs below do not gate it
		}
		ya, yb := p.remaining(p.robots[y.ID].leg, y.Pos)
		lo, _, ok := nearStretch(xa, l.B, ya, yb, move)
		if !ok {
			continue
		}
		if g := off + lo - p.cfg.StopAllowanceM; g < l.gate {
			l.gate, l.gatedBy, l.gateAt = g, y.ID, lerp(xa, l.B, lo/math.Max(xa.dist(l.B), 1e-9))
		}
	}
}

// gates updates the gate of every reserved leg, highest first, and holds a
// robot that has reached its gate; a held robot is released when its gate
// lies gateHystM ahead of it (with Queue, one robot per call). The highest
// leg never waits, so every gate opens in finite time.
func (p *Reserver) gates(now time.Time, f *fleetIndex) []Order {
	var orders []Order
	released := false
	for _, x := range f.moving {
		st := p.robots[x.ID]
		p.setGate(x, f)
		l := st.leg
		d := done(l, x.Pos)
		switch {
		case st.atGate == nil && d >= l.gate:
			o := Order{Robot: x.ID, Hold: true, With: l.gatedBy, At: l.gateAt,
				Reason: "waits at the crossing for " + l.gatedBy}
			st.atGate, st.gateSince = &o, now
			p.stats.Holds++
			orders = append(orders, o)
		case st.atGate != nil && !(p.cfg.Queue && released) && l.gate > d+gateHystM:
			released = true
			p.finished = append(p.finished, HoldRecord{Robot: x.ID, With: st.atGate.With, Start: st.gateSince, End: now})
			p.stats.Releases++
			orders = append(orders, Order{Robot: x.ID, Hold: false, Reason: "crossing clear"})
			st.atGate = nil
		}
	}
	return orders
}
