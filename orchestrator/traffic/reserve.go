package traffic

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"sort"
	"time"
)

// ReserverConfig tunes the reservation planner. Zero fields take the
// defaults noted.
type ReserverConfig struct {
	RobotDiameterM float64 // default 0.18
	// CorridorMarginM is added to the diameter between two robots on
	// reserved legs: it covers how far a robot strays from its straight
	// leg. Default 0.12.
	CorridorMarginM float64
	// StaticMarginM is added to the diameter between a leg and a robot
	// standing still, whose position is known, in the deadlock check and
	// when the fleet is stalled: the least that keeps bodies apart. Default
	// 0.06. Otherwise a new leg passes a standing robot as far as a moving
	// one (CorridorMarginM): at 0.06 the standing robot's side is 0.15 m
	// from the path, and a robot straying 0.06 m towards it sees its face
	// inside the face reflex's corridor (robot/pilot ReflexHalfWidthM,
	// 0.12 m) and stops.
	StaticMarginM float64
	// SafetySlackM is added to the clearances in the deadlock check: robots
	// stop a few centimetres off their planned stop points, and a fleet found
	// safe with this slack is still safe where they really stop. Default
	// 0.05.
	SafetySlackM float64
	// StallAfter: when no leg has been reserved for this long and no robot
	// is on one, the fleet is stalled (the deadlock check judged every move
	// unsafe, usually because robots stand a few centimetres off their
	// planned stop points). The next free leg is then reserved without the
	// check: legs stay apart, so this never risks a collision; it only
	// gives up the guarantee that the fleet will not stall again. Default 15 s.
	StallAfter time.Duration
	// StopShortM: a robot stops for a wall marker on its way (intermediate
	// steps) at the marker's stop spot, this far in front of it on the line
	// to the arena's centre, driving there by its pose. The core sends it
	// in route directives (stop_m, stop_radial), so the planner and the
	// pilots agree on where robots stand. Default 0.60. A robot waiting at
	// a stop spot stands clear of every leg that spans at least a third of
	// the arena, except legs to or from that marker.
	StopShortM float64
	// ApproachStops: robots stop StopShortM short of the marker on their
	// way there, as the first version of this planner had them (its stop
	// points then depend on where the robot comes from, and those of
	// neighbouring markers can nearly meet). Queue implies it.
	ApproachStops bool
	// ParkWallGapM: robots park for their final goal beside its marker,
	// this far in from the wall (mapping.ParkSpot; the core computes the
	// spot, puts it in the route directive and in Robot.Park). Default 0.14.
	ParkWallGapM float64
	// BackMarginM: a robot on a reserved leg holds only what is left of it,
	// from this far behind its reported position (which lags and is noisy)
	// to the leg's end. Default 0.10.
	BackMarginM float64
	// StopAllowanceM: a robot held at a gate stops this far short of where
	// it would come near a higher leg. It covers how far a robot drives
	// between the pose that shows it at its gate and the hold that stops it
	// (pose period, planner tick, delivery, braking at 0.25 m/s). Default
	// 0.20.
	StopAllowanceM float64
	// CruiseMps and StartS are what the planner expects of a robot when it
	// estimates who reaches a crossing first: its speed on a leg, and how
	// long it takes to turn towards a new leg and get going. They only
	// choose orders; safety does not depend on them. Defaults 0.22 m/s and
	// 1.5 s.
	CruiseMps float64
	StartS    float64
	// BackoffM is how far the core has a robot back off in a head-on
	// (core.Config.BackoffM): the jam breaker plans with it. Default 0.25.
	BackoffM float64
	// Queue is the first version of this planner, kept to measure the
	// current one against (campaign -compare): one leg reserved per call,
	// served by first appearance, and a new leg always yields to every leg
	// reserved before it, with a gate only at least queueMinRunM ahead.
	Queue bool
}

// queueMinRunM: with Queue, a leg whose gate would lie closer than this to
// its start is not reserved.
const queueMinRunM = 0.30

func (c ReserverConfig) withDefaults() ReserverConfig {
	def := func(v *float64, d float64) {
		if !(*v > 0) || math.IsInf(*v, 0) {
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
	def(&c.CruiseMps, 0.22)
	def(&c.StartS, 1.5)
	def(&c.BackoffM, 0.25)
	c.ApproachStops = c.ApproachStops || c.Queue
	if c.StallAfter <= 0 {
		c.StallAfter = 15 * time.Second
	}
	return c
}

// resLeg is one reserved leg: the robot drives from A to B (a stop point)
// to complete route step Step.
type resLeg struct {
	A, B Point
	Step int
	// gate is how far along the leg (metres from A) the robot may drive
	// before it comes near what is left of a higher leg; +Inf when nothing
	// is in its way.
	gate    float64
	gatedBy string
	gateAt  Point
	// promotedOver is the robot whose leg this one was moved above after
	// a head-on (yield); that robot's leg is never moved back above it.
	promotedOver string
}

type resRobot struct {
	firstSeen time.Time
	at        Point   // where it stands when not on a leg
	driven    bool    // it has been given a leg: at is the planned stop point
	atStart   bool    // first seen at its mission's start: at is the start
	released  int     // absolute step count the robot may drive
	leg       *resLeg // reserved leg, nil while standing
	waiting   *Order  // held while it waits for its next leg, since since
	since     time.Time
	atGate    *Order // held at its leg's gate, since gateSince
	gateSince time.Time
	// unsafe is the fleet's version (plus one) when the deadlock check last
	// refused its next leg: until the fleet changes, it would refuse again.
	unsafe       uint64
	online, done bool  // as last seen
	pos          Point // where the planner took it to be, as last seen
}

// Reserver is the reservation planner; the package doc says why it cannot
// collide or deadlock. Not safe for concurrent use.
type Reserver struct {
	cfg       ReserverConfig
	lastGrant time.Time
	robots    map[string]*resRobot
	// ranked are the robots on reserved legs, highest rank first: a leg
	// yields only to higher legs.
	ranked   []string
	finished []HoldRecord
	stats    Stats
	// witness is the order of legs (robot ids) that the last deadlock
	// check found would finish every route after the last reserved leg.
	witness []string
	// version counts the changes the deadlock check depends on: legs
	// reserved and ended, robots coming and going, online or not.
	version uint64
	// last is the robots of the last Plan call, as the planner took them
	// (yield places a leg again among them), yields the robots that Yield
	// was told stand, held, since, each with the robot it stands for, and
	// past the robots without a leg that this call's grant may rank above
	// the leg of the robot that stands for them (see Yield).
	last   []*Robot
	yields map[string]string
	past   map[string]string
	// heldSince is since when every robot on a reserved leg stands held
	// (zero while one drives), unjam the back-off asked for to end the
	// jam, and tried the robots asked to back off in this jam.
	heldSince time.Time
	unjam     *unjam
	tried     map[string]bool
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

// HeadOn cannot happen between two robots on reserved legs that keep to
// them; when robots report one anyway (a robot off its leg, or one waiting
// at its gate whose front a higher leg passes close to), the robot on the
// lower-ranked leg backs off: it is the one that yields in the plan, and
// backing off clears the way of the leg that goes first (when it cannot,
// the core has the other back off, and then calls Yield). Otherwise the one
// that came later backs off. Either way, not one whose back-off would take
// it nearer the other's way while the other's would not (backsAway).
func (p *Reserver) HeadOn(_ time.Time, a, b string) (string, string) {
	if a == b || a == "" || b == "" {
		p.stats.Rejected++
		return "", ""
	}
	p.stats.HeadOns++
	backer, waiter := a, b
	ia, ib := slices.Index(p.ranked, a), slices.Index(p.ranked, b)
	switch {
	case ia >= 0 && ib >= 0 && ia < ib:
		backer, waiter = b, a // b's leg ranks lower
	case ia >= 0 && ib >= 0:
	case p.before(a, b):
		backer, waiter = b, a
	}
	if !p.backsAway(backer, waiter) && p.backsAway(waiter, backer) {
		p.stats.BackoffSwaps++
		backer, waiter = waiter, backer
	}
	return backer, waiter
}

// backsAway reports whether robot x, backing off BackoffM straight back
// from where it faces, would end farther from robot o's way (what is left
// of o's leg, or o itself when it has none) than it stands. A robot held
// at its gate where its leg starts still faces the marker it reached, so
// backing off takes it towards the centre, and perhaps into the way of the
// robot it met: that robot, let go, would stop for it again after every
// back-off. Without a heading (or either robot unknown) it reports true.
func (p *Reserver) backsAway(x, o string) bool {
	var rx, ro *Robot
	for _, r := range p.last {
		switch r.ID {
		case x:
			rx = r
		case o:
			ro = r
		}
	}
	if rx == nil || ro == nil || !rx.HasHeading {
		return true
	}
	to := rx.Pos.sub(Point{math.Cos(rx.Heading), math.Sin(rx.Heading)}.scale(p.cfg.BackoffM))
	a, b := ro.Pos, ro.Pos
	if l := p.robots[o].leg; l != nil {
		a, b = p.remaining(l, ro.Pos)
	}
	return pointSegDist(to, a, b) > pointSegDist(rx.Pos, a, b)
}

// Yield is told that robot stopped stands still, held by the core until
// goer has passed (a head-on's backer that has backed off, and its
// waiter); the core tells it again on every tick while that holds. When
// goer stands waiting at its gate (for stopped, or for a robot that waits
// for stopped), while stopped stopped for goer (its face reflex: goer
// stands nearer its way than planned, poses err), each waits for the
// other. So at the next Plan call, with the positions of that call, every
// robot held at its gate below stopped (goer among them) has its leg
// placed again as a new leg would be (rules 1 and 2), at stopped's rank or
// higher, with stopped held where it stands, and above no leg whose robot
// may be moving; and only if stopped's leg was not itself moved above it
// (they never swap back). Every robot it then ranks above stands, held
// (stopped by the core, the others by their gates), and the planner gates
// them where they stand. The deadlock check's witness does not depend on
// ranks, so it still holds. A goer without a leg has its next leg placed
// as a new one, with stopped passed as held where it stands (placePast).
// Yield reports whether goer's leg ranks above stopped's now.
func (p *Reserver) Yield(_ time.Time, stopped, goer string) bool {
	if p.yields == nil {
		p.yields = map[string]string{}
	}
	p.yields[stopped] = goer
	ih, ig := slices.Index(p.ranked, stopped), slices.Index(p.ranked, goer)
	return ih >= 0 && ig >= 0 && ig < ih
}

// yieldAll serves the Yield calls since the last Plan call, with this
// call's positions.
func (p *Reserver) yieldAll() {
	if p.past == nil {
		p.past = map[string]string{}
	}
	clear(p.past)
	for _, stopped := range slices.Sorted(maps.Keys(p.yields)) {
		if u := p.unjam; u != nil && u.backer == stopped {
			// A back-off asked for to end a jam: its robot stands where
			// it backed off to.
			if p.lead(u.goer, nil, Point{}, true) {
				p.unjam = nil
			}
			continue
		}
		ih := slices.Index(p.ranked, stopped)
		if ih < 0 {
			continue
		}
		if g := p.robots[p.yields[stopped]]; g != nil && g.leg == nil {
			p.past[p.yields[stopped]] = stopped
		}
		for _, id := range slices.Clone(p.ranked[ih+1:]) {
			if p.robots[id].atGate != nil {
				p.yield(stopped, id)
			}
		}
	}
	clear(p.yields)
}

func (p *Reserver) yield(hi, lo string) bool {
	sh, sl := p.robots[hi], p.robots[lo]
	if p.cfg.Queue || sh == nil || sl == nil || sh.leg == nil || sl.leg == nil ||
		sl.atGate == nil || sh.leg.promotedOver == lo {
		return false
	}
	ih, il := slices.Index(p.ranked, hi), slices.Index(p.ranked, lo)
	if ih < 0 || il <= ih || !p.placeAgain(lo, p.last, ih, []string{hi}, true) {
		return false
	}
	sl.leg.promotedOver = hi
	p.stats.Yields++
	return true
}

// placeAgain places lo's reserved leg again, from where lo stands, as a
// new leg (rules 1 and 2), at slot lowest or higher and above no leg whose
// robot may be moving, the robots of asHeld passed as held where they
// stand; robots are the robots of the call, positions as they are to be
// taken. With commit it ranks the leg at the slot found. It reports
// whether one was.
func (p *Reserver) placeAgain(lo string, robots []*Robot, lowest int, asHeld []string, commit bool) bool {
	sl := p.robots[lo]
	self := slices.IndexFunc(robots, func(r *Robot) bool { return r.ID == lo })
	il := slices.Index(p.ranked, lo)
	if sl == nil || sl.leg == nil || self < 0 || il < 0 {
		return false
	}
	r, ll := robots[self], sl.leg
	a := lerp(ll.A, ll.B, closestOnSeg(r.Pos, ll.A, ll.B))
	ranked := p.ranked
	p.ranked = slices.Delete(slices.Clone(ranked), il, il+1)
	unmark := p.passHeld(asHeld...)
	slot, blocker, _ := p.placeAbove(r, a, ll.B, p.index(robots), self, 0, false, lowest, true)
	unmark()
	if blocker != "" || !commit {
		p.ranked = ranked
		return blocker == ""
	}
	p.ranked = slices.Insert(p.ranked, slot, lo)
	p.version++
	return true
}

// before orders robots by first appearance, then id.
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

// StopDistances are how far from a marker robots stop on their way, and
// how far in from the wall they park beside their final goal. The core puts
// both in route directives (the park spot computed from the map).
func (p *Reserver) StopDistances() (stop, parkWallGap float64) {
	return p.cfg.StopShortM, p.cfg.ParkWallGapM
}

// RadialStops reports whether robots stop for markers on their way at the
// markers' stop spots (route directive stop_radial), not on their way.
func (p *Reserver) RadialStops() bool { return !p.cfg.ApproachStops }

// stopFor is where a robot coming from prev stops for marker m on its way:
// at the marker's stop spot, or with ApproachStops on the way there.
func (p *Reserver) stopFor(prev, m Point) Point {
	if p.cfg.ApproachStops {
		return stopPoint(prev, m, p.cfg.StopShortM)
	}
	return stopSpot(m, p.cfg.StopShortM)
}

// stopSpot is marker m's stop spot: short in front of it, on the line to
// the arena's centre.
func stopSpot(m Point, short float64) Point {
	n := m.norm()
	if n <= short {
		return Point{}
	}
	return m.scale(1 - short/n)
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
// the stop spot of each marker on the way, and its park spot for the last
// (the last marker's stop spot when it has none).
func (p *Reserver) stops(r *Robot) []Point {
	out := make([]Point, 0, len(r.Route)-r.Step)
	prev := r.Pos
	for i := r.Step; i < len(r.Route); i++ {
		if i == len(r.Route)-1 && r.HasPark {
			out = append(out, r.Park)
			break
		}
		sp := p.stopFor(prev, r.Route[i])
		out = append(out, sp)
		prev = sp
	}
	return out
}

// Stops are the points where r will stand after each step left of its
// route, as the planner plans them from where r stands (Pos): StopShortM
// short of each marker on the way, its park spot last.
func (p *Reserver) Stops(r Robot) []Point { return p.stops(&r) }

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

// done is how far along its leg (metres from A) a robot at pos is.
func done(l *resLeg, pos Point) float64 {
	if !pos.finite() {
		return 0
	}
	return closestOnSeg(pos, l.A, l.B) * l.A.dist(l.B)
}

// Plan updates the reservations and returns the changes of waiting: a hold
// when a robot starts to wait (for its next leg, or at a gate), a release
// when it may go.
func (p *Reserver) Plan(now time.Time, in []Robot) []Order {
	robots := p.ingest(now, in)
	p.yieldAll()
	fleet := p.index(robots)
	p.stats.Calls++
	var orders []Order
	if p.cfg.Queue {
		orders = p.gates(now, fleet)
	}
	if p.unjam == nil {
		// While a robot backs off to end a jam, no leg is reserved: the
		// back-off drives blind.
		orders = append(orders, p.grant(now, robots, fleet)...)
	}
	if !p.cfg.Queue {
		orders = append(orders, p.gates(now, fleet)...)
	}
	orders = append(orders, p.breakJam(now, robots)...)
	for _, id := range p.ranked {
		if p.robots[id].atGate != nil {
			p.stats.AtGate++
		} else {
			p.stats.Driving++
		}
	}
	if len(p.finished) > 4096 {
		p.finished = append([]HoldRecord(nil), p.finished[len(p.finished)-1024:]...)
	}
	return orders
}

// ingest checks the input, updates every robot's state (a checkpoint frees
// its leg) and returns the valid robots by priority, each with Pos where
// the planner takes it to be.
func (p *Reserver) ingest(now time.Time, in []Robot) []*Robot {
	robots := make([]*Robot, 0, len(in))
	seen := make(map[string]bool, len(in))
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
			st.atStart = true
			p.robots[r.ID] = st
			p.version++
		}
		if st.atStart && !st.driven && (!r.HasStart || r.Step > 0 || r.Pos.dist(r.Start) > startTrustM) {
			// It stands at its mission's start only while its pose agrees:
			// one that was driving its first leg when an earlier
			// orchestrator stopped, or that an operator stopped on it,
			// stands where its pose says.
			st.atStart = false
		}
		if r.Step > st.released {
			st.released = r.Step // progress made under an earlier run
			st.driven = false
			p.version++
		}
		if st.leg != nil && r.Step > st.leg.Step {
			st.at = st.leg.B
			st.leg = nil // leg done: free it
			st.atGate = nil
			p.version++
		}
		if r.Online != st.online || r.Done != st.done {
			st.online, st.done = r.Online, r.Done
			p.version++
		}
		if !st.driven || len(r.Route) == 0 || !r.Online {
			// Not (or no longer) driven by this planner: where the mission
			// starts, else where it says it is.
			st.at = r.Pos
			if st.atStart && r.HasStart && r.Step == 0 && len(r.Route) > 0 {
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
			p.version++
		}
	}
	p.ranked = slices.DeleteFunc(p.ranked, func(id string) bool {
		st := p.robots[id]
		return st == nil || st.leg == nil
	})
	sort.Slice(robots, func(i, j int) bool { return p.before(robots[i].ID, robots[j].ID) })
	p.last = robots
	return robots
}

// grant reserves legs: robots that stand with steps left are served in
// order (Queue: by first appearance; else the most work left first), each
// getting its next leg when the leg keeps clear of every robot standing,
// finds a rank among the reserved legs (see place), and passes the
// deadlock check. Queue reserves at most one leg per call.
func (p *Reserver) grant(now time.Time, robots []*Robot, f *fleetIndex) []Order {
	moving := len(f.moving) > 0
	if p.lastGrant.IsZero() || moving {
		p.lastGrant = now
	}
	stalled := !moving && now.Sub(p.lastGrant) >= p.cfg.StallAfter
	type cand struct {
		i     int
		stops []Point
		work  float64
	}
	var cands []cand
	for i, r := range robots {
		st := p.robots[r.ID]
		if st.leg != nil || r.Done || r.Step >= len(r.Route) || !r.Online || st.released > r.Step {
			continue
		}
		c := cand{i: i, stops: p.stops(r)}
		from := r.Pos
		for _, s := range c.stops {
			c.work += from.dist(s)
			from = s
		}
		cands = append(cands, c)
	}
	if !p.cfg.Queue {
		sort.SliceStable(cands, func(i, j int) bool { return cands[i].work > cands[j].work })
	}
	var orders []Order
	searches, grants := 0, 0
	for _, c := range cands {
		r := robots[c.i]
		st := p.robots[r.ID]
		a, b := r.Pos, c.stops[0]
		full := (p.cfg.Queue || stalled) && grants > 0 // a stall frees one leg at a time
		slot, blocker, at := p.placePast(r, a, b, f, c.i, c.work, stalled)

		var witness []string
		if blocker == "" && !full && !stalled {
			w, ok := []string(nil), false
			if st.unsafe != p.version+1 {
				w, ok = p.safeAfter(r, robots, &searches)
				if !ok && searches <= p.maxSearches() {
					st.unsafe = p.version + 1
				}
			}
			if !ok {
				blocker, at = "(order)", b
			}
			witness = w
		}
		if blocker == "" && !full {
			grants++
			if stalled {
				p.stats.Stalls++
			}
			if slot < len(f.moving) {
				p.stats.Ahead++
			}
			p.lastGrant = now
			p.witness = witness
			p.version++
			p.trace(r, a, b, robots)
			st.leg = &resLeg{A: a, B: b, Step: r.Step, gate: math.Inf(1)}
			st.driven = true
			st.released = r.Step + 1
			f.moving = slices.Insert(f.moving, slot, r)
			p.ranked = slices.Insert(p.ranked, slot, r.ID)
			f.standing.remove(c.i, r.Pos)
			orders = append(orders, p.start(now, r, f)...)
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
			o := Order{Robot: r.ID, Hold: true, With: blocker, At: at, Reason: reason}
			if blocker == "(order)" {
				o.With = ""
				o.Reason = "waits its turn: going now could lock robots that stand on each other's routes"
			}
			st.waiting, st.since = &o, now
			p.stats.Holds++
			orders = append(orders, o)
		}
	}
	return orders
}

// placePast is place, with the robot that stands for r after a head-on
// (Yield; r has no leg yet) passed as held where it stands: the core holds
// it until r's next checkpoint, and once r's leg ranks above its own, its
// gate holds it too. Without this, a robot standing where no leg was
// planned (its pose erred before it first moved) and met head-on by a
// robot on a leg would get no leg past that robot: the backer backs off,
// waits out the head-on, drives on and meets it again, for ever.
func (p *Reserver) placePast(r *Robot, a, b Point, f *fleetIndex, self int, work float64, stalled bool) (int, string, Point) {
	defer p.passHeld(p.past[r.ID])()
	return p.place(r, a, b, f, self, work, stalled)
}

// passHeld marks the robots ids as held at their gates, where they stand,
// while a leg is placed past them (robots the core holds: rule 2 ranks a
// leg above a held robot only where it keeps clear of where it stands),
// until the returned func undoes it.
func (p *Reserver) passHeld(ids ...string) (undo func()) {
	var marked []*resRobot
	for _, id := range ids {
		if st := p.robots[id]; st != nil && st.atGate == nil {
			st.atGate = &Order{Robot: id, Hold: true}
			marked = append(marked, st)
		}
	}
	return func() {
		for _, st := range marked {
			st.atGate = nil
		}
	}
}

// start ends the wait of a robot that was just given a leg. A robot whose
// gate lies where it stands (a higher leg passes near its start) goes on
// waiting there, now at its gate: its hold stays, or it gets one.
func (p *Reserver) start(now time.Time, r *Robot, f *fleetIndex) []Order {
	st := p.robots[r.ID]
	p.setGate(r, f)
	if l := st.leg; !p.cfg.Queue && l.gate <= gateHystM {
		o := Order{Robot: r.ID, Hold: true, With: l.gatedBy, At: l.gateAt, Reason: "waits at the crossing for " + l.gatedBy}
		if st.waiting != nil {
			o = *st.waiting // the robot is held already: keep what it shows
			st.atGate, st.gateSince, st.waiting = &o, st.since, nil
			return nil
		}
		st.atGate, st.gateSince = &o, now
		p.stats.Holds++
		return []Order{o}
	}
	if st.waiting == nil {
		return nil
	}
	p.finished = append(p.finished, HoldRecord{Robot: r.ID, With: st.waiting.With, Start: st.since, End: now})
	p.stats.Releases++
	st.waiting = nil
	return []Order{{Robot: r.ID, Hold: false, Reason: "leg reserved"}}
}

// startTrustM is how far from its mission's start a robot not yet driven
// by this planner may report itself and still be taken to stand at the
// start: more than a pose from markers across the arena errs by while the
// robot turns to find them (up to 0.3 m in the campaign), less than a first
// leg (a third of the arena).
const startTrustM = 0.5

// gateHystM: a robot held at its gate is released when the gate lies this
// far ahead of it, so that a gate moving with a noisy pose does not hold
// and release it in turn.
const gateHystM = 0.10

func (p *Reserver) trace(r *Robot, a, b Point, robots []*Robot) {
	if p.Trace == nil {
		return
	}
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
