package traffic

import (
	"fmt"
	"math"
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
	// robot standing still, whose position is known. Default 0.06: the
	// side of a standing robot is then 0.15 m or more from the path, clear
	// of the robots' face reflex (robot/pilot ReflexHalfWidthM, 0.12 m).
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
	// StopShortM is how far short of a wall marker a robot stops on its way
	// (intermediate steps). The core sends it to the robots in their route
	// directives (stop_m), so the planner and the pilots agree on where
	// robots stand. Default 0.60: a robot stopping in front of a marker
	// it approached at 30° off the wall's normal then stands 0.34 m from the
	// park spot beside it.
	StopShortM float64
	// ParkWallGapM: robots park for their final goal beside its marker,
	// this far in from the wall (mapping.ParkSpot; the core computes the
	// spot, puts it in the route directive and in Robot.Park). A robot
	// parked in front of its marker would hide it from every robot that
	// visits it later. Default 0.14.
	ParkWallGapM float64
	// BackMarginM: a robot on a reserved leg holds only what is left of it,
	// from this far behind its reported position (which lags and is
	// noisy) to the leg's end. Legs crossing the part it has driven are
	// free again. Default 0.10.
	BackMarginM float64
	// Crossing gates. A leg whose way crosses what is left of a leg
	// reserved earlier may still be reserved when the crossing lies at
	// least MinRunM+StopAllowanceM ahead: the robot drives up to
	// StopAllowanceM short of it (its gate) and is held there until the
	// earlier robot has passed. StopAllowanceM covers how far a robot
	// drives between the pose that shows it at its gate and the hold that
	// stops it (pose period, planner tick, delivery, braking). NoGates
	// turns them off: crossing legs then wait for each other whole.
	// Defaults 0.20 and 0.30.
	StopAllowanceM float64
	MinRunM        float64
	NoGates        bool
}

func (c ReserverConfig) withDefaults() ReserverConfig {
	def := func(v *float64, d float64) {
		if !(*v > 0) {
			*v = d
		}
	}
	def(&c.RobotDiameterM, 0.18)
	def(&c.CorridorMarginM, 0.12)
	def(&c.StaticMarginM, 0.06)
	def(&c.SafetySlackM, 0.05)
	def(&c.StopShortM, 0.60)
	def(&c.ParkWallGapM, 0.14)
	def(&c.BackMarginM, 0.10)
	def(&c.StopAllowanceM, 0.20)
	def(&c.MinRunM, 0.30)
	if c.StallAfter <= 0 {
		c.StallAfter = 15 * time.Second
	}
	return c
}

// leg is one reserved leg: the robot drives from A to B (a stop point) to
// complete route step Step.
type resLeg struct {
	A, B Point
	Step int
	seq  uint64 // reservation order: a leg waits only for older legs
	// gate is how far along the leg (metres from A) the robot may drive
	// before an older leg's crossing; +Inf when nothing is in its way.
	gate    float64
	gatedBy string
	gateAt  Point
}

type resRobot struct {
	firstSeen time.Time
	at        Point   // where it stands when not on a leg
	driven    bool    // it has been given a leg: at is the planned stop point
	released  int     // absolute step count the robot may drive
	leg       *resLeg // reserved leg, nil while standing
	waiting   *Order
	since     time.Time
	atGate    *Order // held at its leg's gate, since gateSince
	gateSince time.Time
}

// Reserver is the reservation planner; see the package doc for why it
// cannot deadlock. Not safe for concurrent use.
type Reserver struct {
	cfg       ReserverConfig
	lastGrant time.Time
	robots    map[string]*resRobot
	finished  []HoldRecord
	stats     Stats
	legSeq    uint64
	// witness is the order of legs (robot ids) that the last deadlock
	// check found would finish every route after the last reserved leg.
	witness []string
	// Trace, when set, is told of every reserved leg and where the planner
	// believes every robot stands (for debugging a run).
	Trace func(string)
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
		if r.atGate != nil {
			out[id] = *r.atGate
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

// StopDistances are how far short of a marker robots stop on their way, and
// how far in from the wall they park beside their final goal. The core puts
// both in route directives (the park spot computed from the map).
func (p *Reserver) StopDistances() (stop, parkWallGap float64) {
	return p.cfg.StopShortM, p.cfg.ParkWallGapM
}

// stopPoint is where a robot coming from prev stops short of marker m.
func stopPoint(prev, m Point, short float64) Point {
	d := m.sub(prev)
	n := d.norm()
	if n <= short {
		return prev
	}
	return m.sub(d.scale(short / n))
}

// stops are the stop points of r's remaining route, from where it stands:
// StopShortM short of each marker on the way, and its park spot for the
// last (StopShortM short of the marker when it has none).
func (p *Reserver) stops(r *Robot) []Point {
	var out []Point
	prev := r.Pos
	for i := r.Step; i < len(r.Route); i++ {
		if i == len(r.Route)-1 && r.HasPark {
			out = append(out, r.Park)
			break
		}
		sp := stopPoint(prev, r.Route[i], p.cfg.StopShortM)
		out = append(out, sp)
		prev = sp
	}
	return out
}

// remaining is the part of a reserved leg a robot at pos still holds: from
// BackMarginM behind its position, projected on the leg, to the leg's end.
// It is always a part of the leg that was reserved, whatever pos says.
func (p *Reserver) remaining(l *resLeg, pos Point) (Point, Point) {
	n := l.B.dist(l.A)
	if n == 0 || !pos.finite() {
		return l.A, l.B
	}
	t := closestOnSeg(pos, l.A, l.B) - p.cfg.BackMarginM/n
	if t <= 0 {
		return l.A, l.B
	}
	return lerp(l.A, l.B, t), l.B
}

// Plan updates the reservations and returns the changes of waiting: a hold
// when a robot starts to wait for its next leg, a release when it gets it.
// At most one robot gets a leg per call.
func (p *Reserver) Plan(now time.Time, in []Robot) []Order {
	robots := make([]*Robot, 0, len(in))
	seen := map[string]bool{}
	for i := range in {
		r := in[i] // a copy: Pos is replaced below
		if r.ID == "" || seen[r.ID] || !r.Pos.finite() || r.Step < 0 || r.Step > len(r.Route) ||
			(r.HasStart && !r.Start.finite()) || (r.HasPark && !r.Park.finite()) {
			p.stats.Rejected++
			p.stats.LastError = fmt.Sprintf("bad robot %q", r.ID)
			continue
		}
		seen[r.ID] = true
		robots = append(robots, &r)
		st := p.robots[r.ID]
		if st == nil {
			st = &resRobot{firstSeen: now, released: r.Step}
			p.robots[r.ID] = st
		}
		if r.Step > st.released {
			st.released = r.Step // progress made under an earlier run
			st.driven = false
		}
		if st.leg != nil && r.Step > st.leg.Step {
			st.at = st.leg.B
			st.leg = nil // leg done: free it
			st.atGate = nil
		}
		if !st.driven || len(r.Route) == 0 || !r.Online {
			// Not (or no longer) driven by this planner: where the mission
			// starts, else where it says it is.
			st.at = r.Pos
			if r.HasStart && r.Step == 0 {
				st.at = r.Start
			}
		}
		if st.leg == nil {
			// Standing: where its last leg ended (or its start), not where
			// its own pose estimate puts it. A robot stops within a
			// centimetre or two of its stop point (it ranges the marker at
			// close range), while a pose from markers across the arena can
			// be decimetres off sideways.
			r.Pos = st.at
		}
	}
	for id := range p.robots {
		if !seen[id] {
			delete(p.robots, id)
		}
	}
	sort.Slice(robots, func(i, j int) bool { return p.before(robots[i].ID, robots[j].ID) })
	fleet := p.index(robots)
	searches := 0

	orders := p.gates(now, fleet)
	granted := false
	moving := false
	for _, st := range p.robots {
		moving = moving || st.leg != nil
	}
	if p.lastGrant.IsZero() || moving {
		p.lastGrant = now
	}
	stalled := !moving && now.Sub(p.lastGrant) >= p.cfg.StallAfter
	p.stats.Calls++
	p.stats.Moving += len(fleet.moving)
	for _, r := range robots {
		st := p.robots[r.ID]
		if st.leg != nil || r.Done || r.Step >= len(r.Route) || !r.Online || st.released > r.Step {
			continue
		}
		stops := p.stops(r)
		a, b := r.Pos, stops[0]
		blocker, at, gate, gatedBy, gateAt := p.legBlocked(r, a, b, fleet)
		var witness []string
		if blocker == "" && !granted && !stalled {
			w, ok := p.safeAfter(r, robots, &searches)
			if !ok {
				blocker, at = "(order)", b
			}
			witness = w
		}
		if blocker == "" && !granted {
			granted = true
			if stalled {
				p.stats.Stalls++
			}
			p.lastGrant = now
			p.witness = witness
			if p.Trace != nil {
				l := fmt.Sprintf("%s reserves leg %d (%.2f,%.2f)->(%.2f,%.2f):", r.ID, r.Step, a.X, a.Y, b.X, b.Y)
				for _, o := range robots {
					l += fmt.Sprintf(" %s@(%.2f,%.2f)", o.ID, o.Pos.X, o.Pos.Y)
					if ol := p.robots[o.ID].leg; ol != nil {
						oa, ob := p.remaining(ol, o.Pos)
						l += fmt.Sprintf("[leg (%.2f,%.2f)->(%.2f,%.2f)]", oa.X, oa.Y, ob.X, ob.Y)
					}
				}
				p.Trace(l)
			}
			p.legSeq++
			st.leg = &resLeg{A: a, B: b, Step: r.Step, seq: p.legSeq, gate: gate, gatedBy: gatedBy, gateAt: gateAt}
			st.driven = true
			fleet.moving = append(fleet.moving, r)
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
		switch o := p.robots[blocker]; {
		case blocker == "(order)":
			p.stats.WaitOrder++
		case o != nil && o.leg != nil:
			p.stats.WaitLeg++
		default:
			p.stats.WaitStanding++
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
func (p *Reserver) legBlocked(r *Robot, a, b Point, f *fleetIndex) (string, Point, float64, string, Point) {
	move := p.cfg.RobotDiameterM + p.cfg.CorridorMarginM
	still := p.cfg.RobotDiameterM + p.cfg.StaticMarginM
	gate, gatedBy, gateAt := math.Inf(1), "", Point{}
	for _, o := range f.moving {
		if o.ID == r.ID {
			continue
		}
		ol := p.robots[o.ID].leg
		oa, ob := p.remaining(ol, o.Pos)
		e := entry(a, b, oa, ob, move)
		if math.IsInf(e, 1) {
			continue
		}
		// A gate waits for the older robot to pass; it must not wait for
		// where that robot will then stand (its leg's end).
		g := e - p.cfg.StopAllowanceM
		if p.cfg.NoGates || g < p.cfg.MinRunM || pointSegDist(ol.B, a, b) < still {
			return o.ID, midpoint(oa, ob), 0, "", Point{}
		}
		if g < gate {
			gate, gatedBy, gateAt = g, o.ID, lerp(a, b, e/a.dist(b))
		}
	}
	var who *Robot
	f.standing.near(a, b, still, func(o *Robot) bool {
		if o.ID != r.ID && pointSegDist(o.Pos, a, b) < still {
			who = o
			return false
		}
		return true
	})
	if who != nil {
		return who.ID, who.Pos, 0, "", Point{}
	}
	return "", Point{}, gate, gatedBy, gateAt
}

// entry is how far along a->b a robot first comes within clear of the
// segment c-d (+Inf: never). The distance from a point moving along a->b to
// a segment is convex in its position, so the points within clear form one
// stretch: find the closest point, then the stretch's start.
func entry(a, b, c, d Point, clear float64) float64 {
	n := a.dist(b)
	f := func(t float64) float64 { return pointSegDist(lerp(a, b, t), c, d) }
	if f(0) < clear {
		return 0
	}
	lo, hi := 0.0, 1.0
	for i := 0; i < 60; i++ { // ternary search for the closest point
		m1, m2 := lo+(hi-lo)/3, hi-(hi-lo)/3
		if f(m1) <= f(m2) {
			hi = m2
		} else {
			lo = m1
		}
	}
	tm := (lo + hi) / 2
	if f(tm) >= clear {
		return math.Inf(1)
	}
	lo, hi = 0, tm
	for i := 0; i < 50; i++ { // bisection for where it comes within clear
		m := (lo + hi) / 2
		if f(m) < clear {
			hi = m
		} else {
			lo = m
		}
	}
	return lo * n
}

// gates updates the gates of the robots on legs, oldest leg first: each
// may drive only up to StopAllowanceM short of where it would come near
// what is left of an older leg. A robot at its gate is held; it is released
// when its way is clear, one robot per call. Older legs never wait for
// newer ones, so the oldest leg always runs, and every gate opens in finite
// time.
func (p *Reserver) gates(now time.Time, f *fleetIndex) []Order {
	if p.cfg.NoGates {
		return nil
	}
	move := p.cfg.RobotDiameterM + p.cfg.CorridorMarginM
	ms := append([]*Robot(nil), f.moving...)
	sort.Slice(ms, func(i, j int) bool { return p.robots[ms[i].ID].leg.seq < p.robots[ms[j].ID].leg.seq })
	var orders []Order
	released := false // one release per call: never all at once
	for i, x := range ms {
		st := p.robots[x.ID]
		l := st.leg
		l.gate, l.gatedBy = math.Inf(1), ""
		for _, y := range ms[:i] {
			ya, yb := p.remaining(p.robots[y.ID].leg, y.Pos)
			e := entry(l.A, l.B, ya, yb, move)
			if g := e - p.cfg.StopAllowanceM; g < l.gate {
				l.gate, l.gatedBy, l.gateAt = g, y.ID, lerp(l.A, l.B, math.Min(1, e/math.Max(l.A.dist(l.B), 1e-9)))
			}
		}
		n := l.A.dist(l.B)
		done := 0.0
		if n > 0 && x.Pos.finite() {
			done = closestOnSeg(x.Pos, l.A, l.B) * n
		}
		switch {
		case st.atGate == nil && done >= l.gate:
			o := Order{Robot: x.ID, Hold: true, With: l.gatedBy, At: l.gateAt,
				Reason: "waits at the crossing for " + l.gatedBy}
			st.atGate, st.gateSince = &o, now
			p.stats.Holds++
			orders = append(orders, o)
		case st.atGate != nil && !released && (math.IsInf(l.gate, 1) || l.gate > done+0.1):
			released = true
			p.finished = append(p.finished, HoldRecord{Robot: x.ID, With: st.atGate.With, Start: st.gateSince, End: now})
			p.stats.Releases++
			orders = append(orders, Order{Robot: x.ID, Hold: false, Reason: "crossing clear"})
			st.atGate = nil
		}
	}
	return orders
}

// fleetIndex is the fleet as one Plan call sees it: the robots on reserved
// legs (few: one leg is reserved per call, and legs end), and the standing
// ones in a spatial hash, so that checking a leg costs what is near it, not
// the whole fleet.
type fleetIndex struct {
	moving   []*Robot
	standing cellHash
}

func (p *Reserver) index(robots []*Robot) *fleetIndex {
	f := &fleetIndex{standing: cellHash{size: p.cfg.RobotDiameterM + p.cfg.CorridorMarginM, cells: map[[2]int][]*Robot{}}}
	for _, o := range robots {
		if p.robots[o.ID].leg != nil {
			f.moving = append(f.moving, o)
		} else {
			f.standing.add(o)
		}
	}
	return f
}

// cellHash is a uniform spatial hash of standing robots by position.
type cellHash struct {
	size  float64
	cells map[[2]int][]*Robot
}

func (h *cellHash) cell(x, y float64) [2]int {
	return [2]int{int(math.Floor(x / h.size)), int(math.Floor(y / h.size))}
}

func (h *cellHash) add(o *Robot) {
	c := h.cell(o.Pos.X, o.Pos.Y)
	h.cells[c] = append(h.cells[c], o)
}

// near visits the robots in the cells that the box around a-b, grown by r,
// touches, until visit returns false.
func (h *cellHash) near(a, b Point, r float64, visit func(*Robot) bool) {
	lo := h.cell(math.Min(a.X, b.X)-r, math.Min(a.Y, b.Y)-r)
	hi := h.cell(math.Max(a.X, b.X)+r, math.Max(a.Y, b.Y)+r)
	if (hi[0]-lo[0]+1)*(hi[1]-lo[1]+1) > 4*len(h.cells) {
		// A leg longer than the fleet is wide: visit the occupied cells.
		for _, os := range h.cells {
			for _, o := range os {
				if !visit(o) {
					return
				}
			}
		}
		return
	}
	for cx := lo[0]; cx <= hi[0]; cx++ {
		for cy := lo[1]; cy <= hi[1]; cy++ {
			for _, o := range h.cells[[2]int{cx, cy}] {
				if !visit(o) {
					return
				}
			}
		}
	}
}

// safety is the state the deadlock check simulates: where every robot
// stands and the stop points it has left.
type safety struct {
	ids   []string
	pos   []Point
	stops [][]Point
	still float64 // clearance between a leg and a robot standing still
}

// safetyState is the fleet after r drives its next leg (r nil: as it is).
// Robots on reserved legs count as standing at the end of their leg;
// offline and done robots have no stops left.
func (p *Reserver) safetyState(r *Robot, robots []*Robot, slack float64) *safety {
	s := &safety{still: p.cfg.RobotDiameterM + p.cfg.StaticMarginM + slack}
	for _, o := range robots {
		pos := o.Pos
		var stops []Point
		if o.Online && !o.Done {
			stops = p.stops(o)
		}
		if st := p.robots[o.ID]; st != nil && st.leg != nil && len(stops) > 0 {
			pos, stops = st.leg.B, stops[1:]
		}
		if r != nil && o.ID == r.ID && len(stops) > 0 {
			pos, stops = stops[0], stops[1:]
		}
		s.ids = append(s.ids, o.ID)
		s.pos = append(s.pos, pos)
		s.stops = append(s.stops, stops)
	}
	return s
}

// clear reports whether robot i can drive its next leg with every other
// robot standing where it is.
func (s *safety) clear(i int) bool { return s.legClear(i, s.pos[i], s.stops[i][0]) }

// legClear reports whether the leg from-to of robot i keeps clear of every
// other robot standing where it is.
func (s *safety) legClear(i int, from, to Point) bool {
	for j, q := range s.pos {
		if j != i && pointSegDist(q, from, to) < s.still {
			return false
		}
	}
	return true
}

func (s *safety) advance(i int) {
	s.pos[i], s.stops[i] = s.stops[i][0], s.stops[i][1:]
}

// canFinish reports whether robot i can drive all its remaining legs with
// every other robot standing where it is.
func (s *safety) canFinish(i int) bool {
	from := s.pos[i]
	for _, to := range s.stops[i] {
		if !s.legClear(i, from, to) {
			return false
		}
		from = to
	}
	return true
}

// blocksNext reports whether a robot standing at q would be in the way of
// another robot's next leg.
func (s *safety) blocksNext(i int, q Point) bool {
	for j := range s.pos {
		if j != i && len(s.stops[j]) > 0 && pointSegDist(q, s.pos[j], s.stops[j][0]) < s.still {
			return true
		}
	}
	return false
}

// search looks for a witness: an order of single legs, one robot moving at
// a time and the others standing, that finishes every route. It is greedy
// (first any robot that can finish alone runs to the end; else the first
// robot, by priority, whose next leg is clear, preferring one that then
// stands in nobody's next leg), so a failure does not prove that no order
// exists: the check is conservative. The witness lists robot ids, one
// entry per leg.
func (s *safety) search() ([]string, bool) {
	var w []string
	for {
		left := false
		finished := false
		for i := range s.ids {
			if len(s.stops[i]) == 0 {
				continue
			}
			left = true
			if s.canFinish(i) {
				for len(s.stops[i]) > 0 {
					w = append(w, s.ids[i])
					s.advance(i)
				}
				finished = true
			}
		}
		if !left {
			return w, true
		}
		if finished {
			continue
		}
		pick := -1
		for i := range s.ids {
			if len(s.stops[i]) == 0 || !s.clear(i) {
				continue
			}
			if !s.blocksNext(i, s.stops[i][0]) {
				pick = i
				break
			}
			if pick < 0 {
				pick = i
			}
		}
		if pick < 0 {
			return nil, false
		}
		w = append(w, s.ids[pick])
		s.advance(pick)
	}
}

// replay checks that witness w still finishes every route from s.
func (s *safety) replay(w []string) bool {
	idx := make(map[string]int, len(s.ids))
	for i, id := range s.ids {
		idx[id] = i
	}
	for _, id := range w {
		i, ok := idx[id]
		if !ok || len(s.stops[i]) == 0 || !s.clear(i) {
			return false
		}
		s.advance(i)
	}
	for i := range s.stops {
		if len(s.stops[i]) > 0 {
			return false
		}
	}
	return true
}

// safeAfter is the deadlock check (a banker's algorithm): after r drives
// its next leg, is there still an order in which the robots can finish,
// one leg at a time? When r is the next mover of the witness kept from the
// last check, the rest of that witness is tried first (with half the
// slack: robots stop a few centimetres off their predicted stop points);
// else a new one is searched for. It returns the witness to keep.
//
// A search costs up to (legs left in the fleet) × (robots)² distance checks,
// so a Plan call runs at most maxSearches of them (searches counts them;
// nil: no limit); robots past the budget try again on the next call. The
// replay of the kept witness is not counted: the robot it names always
// gets its check, which is what the liveness argument needs.
func (p *Reserver) safeAfter(r *Robot, robots []*Robot, searches *int) ([]string, bool) {
	if r != nil && len(p.witness) > 0 && p.witness[0] == r.ID {
		rest := p.witness[1:]
		if p.safetyState(r, robots, p.cfg.SafetySlackM/2).replay(rest) {
			return rest, true
		}
	}
	if searches != nil {
		if *searches >= maxSearches {
			return nil, false
		}
		*searches++
	}
	return p.safetyState(r, robots, p.cfg.SafetySlackM).search()
}

// maxSearches bounds the new witness searches per Plan call.
const maxSearches = 2

// Drivable reports whether robots standing where they are could drive
// their whole routes one at a time, each keeping clear of the others: the
// condition under which the reservation planner is deadlock-free. Use it to
// check a set of missions before giving it.
func (p *Reserver) Drivable(robots []Robot) bool {
	ptrs := make([]*Robot, len(robots))
	for i := range robots {
		ptrs[i] = &robots[i]
	}
	_, ok := p.safeAfter(nil, ptrs, nil)
	return ok
}

func midpoint(a, b Point) Point { return Point{(a.X + b.X) / 2, (a.Y + b.Y) / 2} }

func pointSegDist(p, a, b Point) float64 {
	return p.dist(lerp(a, b, closestOnSeg(p, a, b)))
}
