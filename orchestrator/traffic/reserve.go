package traffic

import (
	"fmt"
	"sort"
	"time"
)

// ReserverConfig tunes the reservation planner.
type ReserverConfig struct {
	RobotDiameterM float64 // default 0.18
	// CorridorMarginM is added to the diameter between two reserved legs:
	// it covers how far a robot strays from its straight leg. Default 0.12.
	CorridorMarginM float64
	// StaticMarginM is added to the diameter between a reserved leg and a
	// robot standing still, whose position is known. Default 0.04.
	StaticMarginM float64
	// SafetySlackM is added to the clearances in the deadlock check: robots
	// stop a few centimetres off their planned stop points, and a fleet found
	// safe with this slack is still safe where they really stop (and where
	// their own position estimates put them). Default 0.05.
	SafetySlackM float64
	// StallAfter: when no leg has been reserved for this long and no robot
	// is on one, the fleet is stalled (the deadlock check judged every move
	// unsafe, usually because robots stand a few centimetres off their
	// planned stop points). The next free leg is then reserved without the
	// check: legs stay exclusive, so this never risks a collision; it only
	// gives up the guarantee that the fleet will not stall again. Default 15 s.
	StallAfter time.Duration
	// StopShortM is how far short of a wall marker a robot stops (the
	// pilot's stop distance). Default 0.35.
	StopShortM float64
}

func (c ReserverConfig) withDefaults() ReserverConfig {
	if !(c.RobotDiameterM > 0) {
		c.RobotDiameterM = 0.18
	}
	if !(c.CorridorMarginM > 0) {
		c.CorridorMarginM = 0.12
	}
	if !(c.StaticMarginM > 0) {
		c.StaticMarginM = 0.04
	}
	if !(c.SafetySlackM > 0) {
		c.SafetySlackM = 0.05
	}
	if c.StallAfter <= 0 {
		c.StallAfter = 15 * time.Second
	}
	if !(c.StopShortM > 0) {
		c.StopShortM = 0.35
	}
	return c
}

// leg is one reserved leg: the robot drives from A to B (a stop point) to
// complete route step Step.
type resLeg struct {
	A, B Point
	Step int
}

type resRobot struct {
	firstSeen time.Time
	released  int     // absolute step count the robot may drive
	leg       *resLeg // reserved leg, nil while standing
	waiting   *Order
	since     time.Time
}

// Reserver is the reservation planner; see the package doc for why it
// cannot deadlock. Not safe for concurrent use.
type Reserver struct {
	cfg       ReserverConfig
	lastGrant time.Time
	robots    map[string]*resRobot
	finished  []HoldRecord
	stats     Stats
}

// NewReserver returns a reservation planner.
func NewReserver(cfg ReserverConfig) *Reserver {
	return &Reserver{cfg: cfg.withDefaults(), robots: map[string]*resRobot{}}
}

// Released is how many steps of its route robot id may drive (absolute),
// and false when the planner does not know it yet: the core then releases
// nothing beyond the steps already reached.
func (p *Reserver) Released(id string) (int, bool) {
	r, ok := p.robots[id]
	if !ok {
		return 0, false
	}
	return r.released, true
}

// Finished returns the finished waits, for the hold metrics.
func (p *Reserver) Finished() []HoldRecord { return append([]HoldRecord(nil), p.finished...) }

// Stats returns the planner's counters.
func (p *Reserver) Stats() Stats { return p.stats }

// Holds returns the robots waiting now, with what they wait for.
func (p *Reserver) Holds() map[string]Order {
	out := map[string]Order{}
	for id, r := range p.robots {
		if r.waiting != nil {
			out[id] = *r.waiting
		}
	}
	return out
}

// HeadOn cannot happen between two robots on reserved legs (their legs are
// apart); when robots report one anyway (a robot off its leg), the one that
// came later backs off.
func (p *Reserver) HeadOn(_ time.Time, a, b string) (string, string) {
	if a == b || a == "" || b == "" {
		p.stats.Rejected++
		return "", ""
	}
	p.stats.HeadOns++
	if p.before(a, b) {
		return b, a
	}
	return a, b
}

func (p *Reserver) before(a, b string) bool {
	ra, rb := p.robots[a], p.robots[b]
	if ra != nil && rb != nil && !ra.firstSeen.Equal(rb.firstSeen) {
		return ra.firstSeen.Before(rb.firstSeen)
	}
	if (ra == nil) != (rb == nil) {
		return ra != nil
	}
	return a < b
}

// stopPoint is where a robot coming from prev stops in front of marker m.
func (p *Reserver) stopPoint(prev, m Point) Point {
	d := m.sub(prev)
	n := d.norm()
	if n <= p.cfg.StopShortM {
		return prev
	}
	return m.sub(d.scale(p.cfg.StopShortM / n))
}

// stops are the stop points of r's remaining route, from where it stands.
func (p *Reserver) stops(r *Robot) []Point {
	var out []Point
	prev := r.Pos
	for i := r.Step; i < len(r.Route); i++ {
		sp := p.stopPoint(prev, r.Route[i])
		out = append(out, sp)
		prev = sp
	}
	return out
}

// Plan updates the reservations and returns the changes of waiting: a hold
// when a robot starts to wait for its next leg, a release when it gets it.
// At most one robot gets a leg per call.
func (p *Reserver) Plan(now time.Time, in []Robot) []Order {
	robots := make([]*Robot, 0, len(in))
	seen := map[string]bool{}
	for i := range in {
		r := &in[i]
		if r.ID == "" || seen[r.ID] || !r.Pos.finite() || r.Step < 0 || r.Step > len(r.Route) {
			p.stats.Rejected++
			p.stats.LastError = fmt.Sprintf("bad robot %q", r.ID)
			continue
		}
		seen[r.ID] = true
		robots = append(robots, r)
		st := p.robots[r.ID]
		if st == nil {
			st = &resRobot{firstSeen: now, released: r.Step}
			p.robots[r.ID] = st
		}
		if r.Step > st.released {
			st.released = r.Step // progress made under an earlier run
		}
		if st.leg != nil && r.Step > st.leg.Step {
			st.leg = nil // leg done: free it
		}
	}
	for id := range p.robots {
		if !seen[id] {
			delete(p.robots, id)
		}
	}
	sort.Slice(robots, func(i, j int) bool { return p.before(robots[i].ID, robots[j].ID) })

	var orders []Order
	granted := false
	moving := false
	for _, st := range p.robots {
		moving = moving || st.leg != nil
	}
	if p.lastGrant.IsZero() || moving {
		p.lastGrant = now
	}
	stalled := !moving && now.Sub(p.lastGrant) >= p.cfg.StallAfter
	for _, r := range robots {
		st := p.robots[r.ID]
		if st.leg != nil || r.Done || r.Step >= len(r.Route) || !r.Online || st.released > r.Step {
			continue
		}
		stops := p.stops(r)
		a, b := r.Pos, stops[0]
		blocker, at := p.legBlocked(r, a, b, robots)
		if blocker == "" && !granted && !stalled {
			if !p.safeAfter(r, robots) {
				blocker, at = "(order)", b
			}
		}
		if blocker == "" && !granted {
			granted = true
			if stalled {
				p.stats.Stalls++
			}
			p.lastGrant = now
			st.leg = &resLeg{A: a, B: b, Step: r.Step}
			st.released = r.Step + 1
			if st.waiting != nil {
				p.finished = append(p.finished, HoldRecord{Robot: r.ID, With: st.waiting.With, Start: st.since, End: now})
				p.stats.Releases++
				orders = append(orders, Order{Robot: r.ID, Hold: false, Reason: "leg reserved"})
				st.waiting = nil
			}
			continue
		}
		if blocker == "" {
			continue // free, but one leg per call: next call
		}
		if st.waiting == nil && r.Step > 0 {
			// It stands at a node and must wait: make the wait visible.
			reason := "waits for the leg to marker: " + blocker + " is in the way"
			if blocker == "(order)" {
				reason = "waits its turn: going now could lock robots that stand on each other's routes"
			}
			o := Order{Robot: r.ID, Hold: true, With: blocker, At: at, Reason: reason}
			if blocker == "(order)" {
				o.With = ""
			}
			st.waiting, st.since = &o, now
			p.stats.Holds++
			orders = append(orders, o)
		}
	}
	if len(p.finished) > 4096 {
		p.finished = append([]HoldRecord(nil), p.finished[len(p.finished)-1024:]...)
	}
	return orders
}

// legBlocked says who is in the way of r driving a->b: another reserved leg
// too close, or a robot standing too close to it.
func (p *Reserver) legBlocked(r *Robot, a, b Point, robots []*Robot) (string, Point) {
	move := p.cfg.RobotDiameterM + p.cfg.CorridorMarginM
	still := p.cfg.RobotDiameterM + p.cfg.StaticMarginM
	for _, o := range robots {
		if o.ID == r.ID {
			continue
		}
		if ol := p.robots[o.ID].leg; ol != nil {
			if segSegDist(a, b, ol.A, ol.B) < move {
				return o.ID, midpoint(ol.A, ol.B)
			}
			continue
		}
		if pointSegDist(o.Pos, a, b) < still {
			return o.ID, o.Pos
		}
	}
	return "", Point{}
}

// safeAfter is the deadlock check (a banker's algorithm): after r drives
// its next leg, can the robots still finish one at a time? A robot can
// finish alone when every leg of its remaining route keeps clear of where
// every other robot stands (the ones that finished stand at their goals).
// Robots on reserved legs count as standing at the end of their leg.
func (p *Reserver) safeAfter(r *Robot, robots []*Robot) bool {
	type sim struct {
		id    string
		pos   Point
		stops []Point
	}
	ss := make([]*sim, 0, len(robots))
	for _, o := range robots {
		s := &sim{id: o.ID, pos: o.Pos}
		if o.Online && !o.Done {
			s.stops = p.stops(o)
		}
		if st := p.robots[o.ID]; st != nil && st.leg != nil && len(s.stops) > 0 {
			l := st.leg
			s.pos, s.stops = l.B, s.stops[1:]
		}
		if r != nil && o.ID == r.ID && len(s.stops) > 0 {
			s.pos, s.stops = s.stops[0], s.stops[1:]
		}
		ss = append(ss, s)
	}
	still := p.cfg.RobotDiameterM + p.cfg.StaticMarginM + p.cfg.SafetySlackM
	left := len(ss)
	done := make([]bool, len(ss))
	for progress := true; progress && left > 0; {
		progress = false
		for i, s := range ss {
			if done[i] {
				continue
			}
			ok := true
			from := s.pos
			for _, to := range s.stops {
				for j, o := range ss {
					if j == i {
						continue
					}
					opos := o.pos
					if done[j] && len(o.stops) > 0 {
						opos = o.stops[len(o.stops)-1]
					}
					if pointSegDist(opos, from, to) < still {
						ok = false
						break
					}
				}
				if !ok {
					break
				}
				from = to
			}
			if ok {
				done[i], progress = true, true
				left--
			}
		}
	}
	return left == 0
}

// Drivable reports whether robots standing where they are could drive
// their whole routes one at a time, each keeping clear of the others: the
// condition under which the reservation planner is deadlock-free. Use it to
// check a set of missions before giving it.
func (p *Reserver) Drivable(robots []Robot) bool {
	ptrs := make([]*Robot, len(robots))
	for i := range robots {
		ptrs[i] = &robots[i]
	}
	return p.safeAfter(nil, ptrs)
}

func midpoint(a, b Point) Point { return Point{(a.X + b.X) / 2, (a.Y + b.Y) / 2} }

func pointSegDist(p, a, b Point) float64 {
	return p.dist(lerp(a, b, closestOnSeg(p, a, b)))
}
