package traffic

import (
	"math"
	"slices"
	"time"
)

// A jam: every robot on a reserved leg stands, held, and none may go. Legs
// ranked as the plan ranks them never jam (the highest waits for nothing),
// but robots leave the plan: a pose taken before a robot moves errs by
// decimetres, so it drives a leg beside the one reserved, and a head-on's
// back-off leaves the backer where the plan did not put it. Then robots can
// stand each in the next one's way round a circle: one waits at its gate
// for a robot that stands where its way passes, that one for a third, and
// the third, held by a head-on, for the first. Nothing that drives on a
// route frees them, and every head-on's timeout only brings the same
// meeting back.
//
// The jam breaker steps off the routes, as a head-on does: after
// StallAfter with every robot on a reserved leg held, it looks for a robot
// X held at its gate and a robot Y such that, with X backed off BackoffM
// (straight back from its heading, clear of every robot and leg), Y's leg
// could rank above every other leg, every robot then held where it stands
// (yield's rule). It asks the core to settle it as a head-on, X backing
// off and Y waiting (Order BackoffM); X's leg is reserved from where it will
// stand, and no leg is reserved until it is settled. When the core calls
// Yield(X, Y) (X has backed off and stands), Y's leg is placed again above
// every other, with every robot where it then stands; Y drives and the
// circle is open. A robot asked once is not asked again in the same jam;
// an attempt that the core refused (X may not back off) or that did not
// end the jam within unjamTimeout gives way to the next.
//
// Safety is yield's: every robot Y's leg then ranks above stands held, at
// pass from Y's way, and is gated where it stands. The witness of the
// deadlock check does not depend on ranks or on where robots on legs stand.
// Liveness is not proved: a jam that no single back-off opens stays (the
// core's head-on timeouts still move robots, and the breaker tries again).

// unjam is a back-off asked for to end a jam.
type unjam struct {
	backer, goer string
	since        time.Time
}

// unjamTimeout: an attempt that has not ended the jam by then gives way.
const unjamTimeout = 15 * time.Second

// breakJam runs after the gates of a Plan call: it notes since when every
// robot on a reserved leg stands held, and after StallAfter asks for a
// back-off that ends the jam.
func (p *Reserver) breakJam(now time.Time, robots []*Robot) []Order {
	if p.cfg.Queue {
		return nil
	}
	byID := make(map[string]*Robot, len(robots))
	for _, r := range robots {
		byID[r.ID] = r
	}
	if !p.allHeld(byID) {
		p.heldSince, p.unjam = time.Time{}, nil
		clear(p.tried)
		return nil
	}
	if p.heldSince.IsZero() {
		p.heldSince = now
	}
	if p.unjam != nil {
		if now.Sub(p.unjam.since) < unjamTimeout {
			return nil
		}
		p.unjam = nil // refused, or it did not open the way: try another
	}
	if now.Sub(p.heldSince) < p.cfg.StallAfter {
		return nil
	}
	if p.tried == nil {
		p.tried = map[string]bool{}
	}
	for i := len(p.ranked) - 1; i >= 0; i-- { // the lowest legs first: they yield in the plan
		x := byID[p.ranked[i]]
		st := p.robots[x.ID]
		if st.atGate == nil || x.Stands || !x.Online || !x.HasHeading || p.tried[x.ID] {
			continue
		}
		to := x.Pos.sub(Point{math.Cos(x.Heading), math.Sin(x.Heading)}.scale(p.cfg.BackoffM))
		if !p.backoffClear(x, to, robots) {
			continue
		}
		for _, y := range p.ranked {
			if y == x.ID || p.robots[y].atGate == nil || byID[y].Stands || !byID[y].Online || !p.lead(y, x, to, false) {
				continue
			}
			p.tried[x.ID] = true
			p.unjam = &unjam{backer: x.ID, goer: y, since: now}
			st.leg.A = to // it will stand there, on its leg
			p.version++
			p.stats.Jams++
			return []Order{{Robot: x.ID, Hold: true, BackoffM: p.cfg.BackoffM, With: y, At: x.Pos,
				Reason: "backs off so that " + y + " goes first: robots held at their gates wait on each other"}}
		}
	}
	return nil
}

// allHeld reports whether there are reserved legs and every robot on one
// stands, held at its gate or by the core.
func (p *Reserver) allHeld(byID map[string]*Robot) bool {
	for _, id := range p.ranked {
		r := byID[id]
		if r == nil || (p.robots[id].atGate == nil && !r.Stands) {
			return false
		}
	}
	return len(p.ranked) > 0
}

// backoffClear reports whether robot x, on a reserved leg, can back off in
// a straight line to to: its way keeps still from every other robot, where
// it stands keeps move from what is left of every leg ranked above its own,
// and it stays in the arena (inside the circle of its route's markers, on
// the wall). Its leg is then reserved from to: the legs below it are gated
// for that, as for any higher leg.
func (p *Reserver) backoffClear(x *Robot, to Point, robots []*Robot) bool {
	still := p.cfg.RobotDiameterM + p.cfg.StaticMarginM
	move := p.cfg.RobotDiameterM + p.cfg.CorridorMarginM
	rank := slices.Index(p.ranked, x.ID)
	wall := 0.0
	for _, m := range x.Route {
		wall = math.Max(wall, m.norm())
	}
	if wall == 0 || to.norm() > wall-move {
		return false
	}
	for _, o := range robots {
		if o.ID == x.ID {
			continue
		}
		if pointSegDist(o.Pos, x.Pos, to) < still {
			return false
		}
		if l := p.robots[o.ID].leg; l != nil && slices.Index(p.ranked, o.ID) < rank {
			a, b := p.remaining(l, o.Pos)
			if pointSegDist(to, a, b) < move {
				return false
			}
		}
	}
	return true
}

// lead reports whether goer's leg, from where goer stands, can rank above
// every other reserved leg, each of those robots held where it stands (as
// yield places a leg): moved, when not nil, taken to stand at to, its leg
// reserved from there. Every robot on a reserved leg must stand, held. With
// commit it ranks the leg there.
func (p *Reserver) lead(goer string, moved *Robot, to Point, commit bool) bool {
	if sg := p.robots[goer]; sg == nil || sg.atGate == nil {
		return false
	}
	robots := p.last
	if moved != nil {
		robots = slices.Clone(p.last)
		for i, r := range robots {
			if r.ID == moved.ID {
				m := *r
				m.Pos = to
				robots[i] = &m
			}
		}
		l := p.robots[moved.ID].leg
		a := l.A
		l.A = to
		defer func() { l.A = a }()
	}
	byID := make(map[string]*Robot, len(robots))
	for _, r := range robots {
		byID[r.ID] = r
	}
	// Every robot on a leg stands, held at its gate or by the core: pass
	// them all as held, and rank the leg first (lowest slot 0).
	if !p.allHeld(byID) || !p.placeAgain(goer, robots, 0, p.ranked, commit) {
		return false
	}
	if commit {
		p.stats.Unjams++
	}
	return true
}
