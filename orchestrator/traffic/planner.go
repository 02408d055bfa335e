package traffic

import (
	"container/heap"
	"fmt"
	"math"
	"sort"
	"time"
)

// Stats counts what the planner has done since New.
type Stats struct {
	Holds    int // holds issued
	Releases int // holds released
	Late     int // holds issued when the robot could no longer stop before the zone
	Blocked  int // holds that waiting alone cannot clear (parked/offline robot, gridlock)
	Rejected int // robots rejected as bad input
	HeadOns  int // head-on reports resolved
	Deferred int // releases put off because another robot left the same zone this call
	Backoffs int // back-offs ordered to break a gridlock
	Stalls   int // Reserver: legs reserved without the deadlock check after a stall
	// Reserver, summed over Plan calls: robots on a leg, and robots waiting
	// for their next leg because of another robot's leg, a robot standing
	// in the way, or the deadlock check. Divided by Calls, they say how
	// many robots drive and wait at a time, on average.
	Calls, Moving, WaitLeg, WaitStanding, WaitOrder int
	LastError                                       string
}

// Planner predicts conflicts and issues holds. It is not safe for concurrent
// use; the core calls it from its single decision loop.
type Planner struct {
	cfg          Config
	clear        float64 // clearance, centre to centre
	since        map[string]time.Time
	origin       map[string]leg       // where each robot began its current drive
	freed        map[string]time.Time // when this planner last released each robot
	backoffUntil map[string]time.Time // robots backing off, until when
	holds        map[string]*hold
	finished     []HoldRecord
	stats        Stats

	// per-call scratch, kept to avoid garbage
	bodies []body
	grid   grid
	stamp  []uint32
	mark   uint32
	succ   [][]int32
	indeg  []int32
}

// leg remembers where a robot stood when it was first seen driving to To:
// until it has moved DepartM from there it is still at its station, where
// waiting blocks nobody's drive in progress.
type leg struct {
	to, at Point
	since  time.Time
}

type hold struct {
	order Order
	start time.Time
}

// body is one robot as the planner sees it in one Plan call.
type body struct {
	id      string
	since   time.Time
	moving  bool    // drives along p -> p+L*u
	perm    bool    // static and will not clear by waiting: offline, idle, parked at its final goal
	held    bool    // held by this planner at the start of the call
	final   bool    // its target is its final goal
	p, u, e Point   // position, unit direction, end of the drive
	L, lc   float64 // drive length left, and the part within the horizon
	v       float64 // cruise speed
	env     float64 // stopping envelope: it may still travel this far
	box     [4]float64
	hasNext bool  // the next drive, e -> n1, is known
	n1      Point // where the next drive ends

	rank     int
	done     bool // processed by the grant pass
	granted  bool // moving, its path reserved for this call
	inCycle  bool
	noTarget bool
	atStart  bool // has not left the start of its drive yet
	backing  bool // told to back off: stays held until that is done
}

// New returns a planner with cfg (zero fields take their defaults).
func New(cfg Config) *Planner {
	cfg = cfg.withDefaults()
	return &Planner{
		cfg:          cfg,
		clear:        cfg.RobotDiameterM + cfg.MarginM,
		since:        map[string]time.Time{},
		origin:       map[string]leg{},
		freed:        map[string]time.Time{},
		backoffUntil: map[string]time.Time{},
		holds:        map[string]*hold{},
	}
}

// Config returns the configuration in use, defaults filled in.
func (p *Planner) Config() Config { return p.cfg }

// Holds returns the active holds by robot id.
func (p *Planner) Holds() map[string]Order {
	out := make(map[string]Order, len(p.holds))
	for id, h := range p.holds {
		out[id] = h.order
	}
	return out
}

// Finished returns every hold released so far, with its duration.
func (p *Planner) Finished() []HoldRecord { return append([]HoldRecord(nil), p.finished...) }

// Stats returns the counters.
func (p *Planner) Stats() Stats { return p.stats }

// HeadOn resolves a head-on `blocked` report between robots a and b: the one
// with lower priority (the later mission start, then the greater id) backs
// off, the other waits. It never names the same robot twice; on bad input
// (empty or equal ids) it returns two empty strings and counts a rejection.
func (p *Planner) HeadOn(now time.Time, a, b string) (backOff, wait string) {
	if a == "" || b == "" || a == b {
		p.reject(fmt.Sprintf("head-on %q/%q: need two distinct robot ids", a, b))
		return "", ""
	}
	p.stats.HeadOns++
	if p.before(a, b, now) {
		return b, a
	}
	return a, b
}

// before reports whether robot a has priority over robot b.
func (p *Planner) before(a, b string, now time.Time) bool {
	sa, oka := p.since[a]
	sb, okb := p.since[b]
	if !oka {
		sa = now
	}
	if !okb {
		sb = now
	}
	if !sa.Equal(sb) {
		return sa.Before(sb)
	}
	return a < b
}

func (p *Planner) reject(msg string) {
	p.stats.Rejected++
	p.stats.LastError = msg
}

// Plan takes every robot's state at now and returns only the changes: new
// holds and releases. Robots absent from robots keep their holds.
func (p *Planner) Plan(now time.Time, robots []Robot) []Order {
	p.load(now, robots)
	bs := p.bodies
	var out []Order

	// A hold on a robot with nothing to do is moot: lift it.
	for i := range bs {
		b := &bs[i]
		if h, ok := p.holds[b.id]; ok && b.noTarget {
			out = append(out, p.release(now, b.id, h, "no target"))
		}
	}

	p.index()
	order := p.order(now)

	var released []Order
	for _, i := range order {
		b := &bs[i]
		b.done = true
		if !b.moving || b.backing {
			continue
		}
		c := p.firstConflict(i)
		if c.found && c.other >= 0 {
			// Robots on each other's paths: the one in the way, of lower
			// rank, backs off along the way it came, if it can.
			o := &bs[c.other]
			if d, ok := p.backoffDist(o, b); ok {
				ord := Order{Robot: o.id, Hold: true, With: b.id, At: o.p, BackoffM: d,
					Reason: fmt.Sprintf("back off %.2f m to clear the way for %s", d, b.id)}
				if h, ok := p.holds[o.id]; ok {
					h.order = ord
				} else {
					p.holds[o.id] = &hold{order: ord, start: now}
					p.stats.Holds++
				}
				p.stats.Backoffs++
				p.backoffUntil[o.id] = now.Add(time.Duration((p.cfg.LatencyS + d/o.v + 1) * float64(time.Second)))
				o.held, o.backing = true, true
				out = append(out, ord)
				c.blocked, c.reason = false, fmt.Sprintf("waits for %s to back off", o.id)
			}
		}
		lead := p.cfg.StopDistM(b.v) + b.v*p.cfg.PeriodS + p.cfg.BufferM
		if b.held {
			lead += p.cfg.ReleaseHystM
		}
		wantHold := c.found && c.entry <= lead
		if b.atStart && c.found {
			// Do not set off into a conflict: wait at the station, where
			// nobody needs to pass, rather than part-way along the drive.
			wantHold = true
		}
		switch {
		case b.held && !wantHold:
			h := p.holds[b.id]
			if p.zoneBusy(released, h.order) {
				p.stats.Deferred++
				continue // stays held: a static disc for the rest of this call
			}
			o := p.release(now, b.id, h, "clear")
			released = append(released, o)
			out = append(out, o)
			b.held, b.granted = false, true
		case !b.held && wantHold:
			o := Order{Robot: b.id, Hold: true, With: c.with, At: b.p.add(b.u.scale(c.entry)), Reason: c.reason, Blocked: c.blocked}
			if c.entry < p.cfg.StopDistM(b.v) {
				p.stats.Late++
			}
			if c.blocked {
				p.stats.Blocked++
			}
			p.stats.Holds++
			p.holds[b.id] = &hold{order: o, start: now}
			b.held = true
			out = append(out, o)
		case !b.held:
			b.granted = true
		}
	}
	return out
}

func (p *Planner) release(now time.Time, id string, h *hold, why string) Order {
	delete(p.holds, id)
	p.freed[id] = now
	p.stats.Releases++
	p.finished = append(p.finished, HoldRecord{Robot: id, With: h.order.With, Start: h.start, End: now})
	return Order{Robot: id, Hold: false, With: h.order.With, At: h.order.At, Reason: why}
}

// zoneBusy reports whether a robot already left the zone of h this call.
func (p *Planner) zoneBusy(released []Order, h Order) bool {
	for _, r := range released {
		if (h.With != "" && r.With == h.With) || r.At.within(h.At, p.cfg.ZoneM) {
			return true
		}
	}
	return false
}

// load validates the input and builds one body per robot, sorted by id.
func (p *Planner) load(now time.Time, robots []Robot) {
	cfg := p.cfg
	p.bodies = p.bodies[:0]
	seen := make(map[string]bool, len(robots))
	for _, r := range robots {
		switch {
		case r.ID == "":
			p.reject("robot with an empty id")
			continue
		case seen[r.ID]:
			p.reject(fmt.Sprintf("robot %s listed twice", r.ID))
			continue
		case !r.Pos.finite() || !r.To.finite() || !r.From.finite() || !finite(r.SpeedMps) || math.IsNaN(r.RemainingM):
			p.reject(fmt.Sprintf("robot %s: non-finite position, target, speed or distance", r.ID))
			continue
		}
		seen[r.ID] = true
		b := body{id: r.ID, p: r.Pos, u: Point{1, 0}, e: r.Pos, final: r.Final}
		_, held := p.holds[r.ID]
		b.held = held
		if !r.HasTarget {
			delete(p.since, r.ID)
			delete(p.origin, r.ID)
			b.perm = true
			b.noTarget = true
			b.finishBox(p.clear, nil)
			p.bodies = append(p.bodies, b)
			continue
		}
		if o, ok := p.origin[r.ID]; !ok || o.to != r.To {
			p.origin[r.ID] = leg{to: r.To, at: r.Pos, since: now}
		}
		b.atStart = r.Pos.dist(p.origin[r.ID].at) < cfg.DepartM
		b.backing = held && now.Before(p.backoffUntil[r.ID])
		s, ok := p.since[r.ID]
		if !ok {
			s = now
			p.since[r.ID] = s
		}
		b.since = s
		if p.cfg.LegAging {
			b.since = p.origin[r.ID].since
		}
		rem := r.RemainingM
		if !(rem >= 0) || math.IsInf(rem, 0) {
			rem = r.To.dist(r.Pos)
		}
		toGo := r.To.sub(r.Pos)
		switch {
		case !r.Online:
			b.perm = true // its last known position is an obstacle until it is back
		case r.Holding && !held && now.Sub(p.freed[r.ID]).Seconds() > cfg.LatencyS+1:
			// held by someone else (operator): stopped, but not for ever
		case rem <= cfg.StopShortM+cfg.ArriveTolM || toGo.norm() < 1e-6:
			b.perm = r.Final // parked at its final goal, or between two segments
		default:
			b.moving = true
			b.u = unit(toGo)
			b.v = maxf(r.SpeedMps, cfg.MinSpeedMps)
			b.L = rem - cfg.StopShortM
			b.lc = minf(b.L, b.v*cfg.HorizonS)
			b.e = b.p.add(b.u.scale(b.L))
			b.env = minf(cfg.StopDistM(b.v), b.L)
			if held {
				// A held robot has stopped once its hold had time to bite.
				settle := cfg.LatencyS + b.v/cfg.DecelMps2 + cfg.PeriodS
				if now.Sub(p.holds[r.ID].start).Seconds() > settle {
					b.env = 0
				}
			}
		}
		if r.HasNext && r.Online && !r.Final && r.Next.finite() {
			start := b.e
			if !b.moving {
				start = b.p
			}
			if d := r.Next.sub(start); d.norm() > cfg.StopShortM {
				b.hasNext, b.e = true, start
				b.n1 = r.Next.sub(unit(d).scale(cfg.StopShortM))
			}
		}
		b.finishBox(p.clear, &cfg)
		p.bodies = append(p.bodies, b)
	}
	sort.Slice(p.bodies, func(i, j int) bool { return p.bodies[i].id < p.bodies[j].id })
}

func (b *body) occEnd() Point { return b.p.add(b.u.scale(b.env)) }
func (b *body) pathEnd() Point {
	return b.p.add(b.u.scale(b.lc))
}

// finishBox sets the bounding box of everything the body may touch in this
// call, grown by the clearance: its disc, its path within the horizon, and
// its final parking spot.
func (b *body) finishBox(c float64, _ *Config) {
	pts := []Point{b.p}
	if b.moving {
		pts = append(pts, b.pathEnd())
		if b.final {
			pts = append(pts, b.e)
		}
	}
	if b.hasNext {
		pts = append(pts, b.e, b.n1)
	}
	x0, y0, x1, y1 := math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)
	for _, q := range pts {
		x0, y0, x1, y1 = minf(x0, q.X), minf(y0, q.Y), maxf(x1, q.X), maxf(y1, q.Y)
	}
	b.box = [4]float64{x0 - c, y0 - c, x1 + c, y1 + c}
}

// approaches reports whether a robot at p moving along u closes in on the
// segment a-b (or sits on it).
func approaches(p, u, a, b Point) bool {
	d := lerp(a, b, closestOnSeg(p, a, b)).sub(p)
	return d.norm() < 1e-6 || d.dot(u) > 0
}

// hits returns where along r's path (within the horizon) r first comes
// closer than the clearance to the segment a-b, if r is heading into it.
func (p *Planner) hits(r *body, a, b Point) (entry, exit float64, ok bool) {
	lo, hi, ok := capsuleInterval(r.p, r.u, r.lc, a, b, p.clear)
	if !ok {
		return 0, 0, false
	}
	// Already inside and leaving: never closer again, and, along another
	// robot's path, out within a short way (running along a path is not
	// leaving it).
	if lo < 1e-9 && !approaches(r.p, r.u, a, b) && (a.dist(b) <= p.clear/2 || hi <= 1.5*p.clear) {
		return 0, 0, false
	}
	return lo, hi, true
}

// inWay reports whether o, where it is and within its stopping envelope,
// lies on r's path ahead of r.
func (p *Planner) inWay(o, r *body) bool {
	_, _, ok := p.hits(r, o.p, o.occEnd())
	return ok
}

// order sorts the moving robots for the grant pass: a topological order of
// "must go first" (a robot in another's way goes before it; a robot passing
// another's final parking spot goes before the parker), ties and cycles
// broken by priority (earliest mission start, then id).
func (p *Planner) order(now time.Time) []int {
	bs := p.bodies
	n := len(bs)
	for len(p.succ) < n {
		p.succ = append(p.succ, nil)
	}
	p.indeg = append(p.indeg[:0], make([]int32, n)...)
	for i := 0; i < n; i++ {
		p.succ[i] = p.succ[i][:0]
	}
	var cand []int32
	for i := range bs {
		r := &bs[i]
		if !r.moving {
			continue
		}
		cand = p.query(r.box, cand[:0])
		for _, j := range cand {
			o := &bs[j]
			if int(j) == i || !o.moving {
				continue
			}
			if p.inWay(o, r) { // o before r
				p.succ[j] = append(p.succ[j], int32(i))
				p.indeg[i]++
			}
			if o.final {
				if _, _, ok := p.hits(r, o.e, o.e); ok { // r passes o's parking spot: r before o
					p.succ[i] = append(p.succ[i], j)
					p.indeg[j]++
				}
			}
		}
	}
	prio := make([]int, n) // every body by priority, for tie and cycle breaking
	for i := range prio {
		prio[i] = i
	}
	sort.SliceStable(prio, func(a, b int) bool {
		x, y := &bs[prio[a]], &bs[prio[b]]
		if !x.since.Equal(y.since) {
			return x.since.Before(y.since)
		}
		return x.id < y.id
	})
	for r, i := range prio {
		bs[i].rank = r
	}
	h := &rankHeap{bs: bs}
	for i := range bs {
		if p.indeg[i] == 0 {
			heap.Push(h, i)
		}
	}
	out := make([]int, 0, n)
	taken := make([]bool, n)
	next := 0 // cursor into prio for cycle breaking
	for len(out) < n {
		if h.Len() == 0 {
			// Every remaining robot waits on another one: a cycle of robots
			// sitting on each other's paths. Holds cannot break it; take the
			// highest-priority one and mark the cycle for back-off.
			for taken[prio[next]] {
				next++
			}
			i := prio[next]
			bs[i].inCycle = true
			p.indeg[i] = 0
			heap.Push(h, i)
		}
		i := heap.Pop(h).(int)
		if taken[i] {
			continue
		}
		taken[i] = true
		out = append(out, i)
		for _, j := range p.succ[i] {
			p.indeg[j]--
			if p.indeg[j] == 0 && !taken[j] {
				heap.Push(h, int(j))
			}
		}
	}
	return out
}

type rankHeap struct {
	bs []body
	ix []int
}

func (h *rankHeap) Len() int           { return len(h.ix) }
func (h *rankHeap) Less(a, b int) bool { return h.bs[h.ix[a]].rank < h.bs[h.ix[b]].rank }
func (h *rankHeap) Swap(a, b int)      { h.ix[a], h.ix[b] = h.ix[b], h.ix[a] }
func (h *rankHeap) Push(x any)         { h.ix = append(h.ix, x.(int)) }
func (h *rankHeap) Pop() any {
	x := h.ix[len(h.ix)-1]
	h.ix = h.ix[:len(h.ix)-1]
	return x
}

type conflict struct {
	found   bool
	entry   float64
	with    string
	reason  string
	blocked bool
	other   int // for a gridlock: the robot in the way, not yet decided
}

// firstConflict finds r's nearest conflict with what is already decided this
// call: static robots where they stand, robots held (their whole path: it
// is reserved until they go), robots granted before it (their paths and
// time windows), and robots not yet processed where they stand (only a cycle
// leaves one of those in r's way).
func (p *Planner) firstConflict(i int) conflict {
	bs := p.bodies
	r := &bs[i]
	best := conflict{entry: math.Inf(1), other: -1}
	var regions [][2]float64
	take := func(entry float64, with, reason string, blocked bool) {
		if entry < best.entry {
			best = conflict{found: true, entry: entry, with: with, reason: reason, blocked: blocked, other: -1}
		}
	}
	cand := p.query(r.box, nil)
	for _, j := range cand {
		o := &bs[j]
		if int(j) == i {
			continue
		}
		switch {
		case !o.moving || o.held || !o.done:
			var entry float64
			var ok bool
			switch {
			case !o.moving:
				entry, _, ok = p.hits(r, o.p, o.p)
			case !o.done:
				// Not yet decided: only a cycle of robots in each other's
				// way gets here. Keep out of where it stands.
				entry, _, ok = p.hits(r, o.p, o.occEnd())
			default:
				// Held: keep clear of where it stands, and do not enter the
				// path it will drive once released: nobody may stop on that
				// path, or the two would block each other.
				entry, _, ok = p.hits(r, o.p, o.occEnd())
				if lo, _, ok2 := capsuleInterval(r.p, r.u, r.lc, o.p, o.pathEnd(), p.clear); ok2 && lo > 1e-9 && (!ok || lo < entry) {
					entry, ok = lo, true
				}
			}
			if o.hasNext && (o.done || !o.moving) {
				// It leaves along its next drive once it goes: keep off it.
				if e2, _, ok2 := p.hits(r, o.e, o.n1); ok2 && (!ok || e2 < entry) {
					entry, ok = e2, true
				}
			}
			if !ok {
				continue
			}
			switch {
			case o.perm:
				take(entry, o.id, fmt.Sprintf("%s stands on the path (offline, idle or parked): needs a detour", o.id), true)
			case o.moving && !o.done:
				take(entry, o.id, fmt.Sprintf("gridlock with %s: needs a back-off or detour", o.id), true)
				if best.with == o.id {
					best.other = int(j)
				}
			case o.moving:
				take(entry, o.id, fmt.Sprintf("%s is held on the path", o.id), false)
			default:
				take(entry, o.id, fmt.Sprintf("%s is stopped on the path", o.id), false)
			}
		default: // granted this call: compare time windows
			if lo, hi, ok := p.hits(r, o.p, o.pathEnd()); ok {
				regions = append(regions, [2]float64{lo, hi})
			}
			if o.hasNext && o.lc >= o.L-1e-9 {
				if lo, hi, ok := p.hits(r, o.e, o.n1); ok {
					regions = append(regions, [2]float64{lo, hi})
				}
			}
			if entry, ok := p.windows(r, o); ok {
				take(entry, o.id, fmt.Sprintf("crossing %s", o.id), false)
			}
			if entry, ok := p.nextWindow(r, o); ok {
				take(entry, o.id, fmt.Sprintf("crossing the next leg of %s", o.id), false)
			}
		}
	}
	if best.found && !p.cfg.NoBoxBlocking {
		// Do not come to a stop inside another robot's path: move the stop
		// back before any path that the stopping stretch overlaps.
		lead := p.cfg.StopDistM(r.v) + r.v*p.cfg.PeriodS + p.cfg.BufferM
		for changed := true; changed; {
			changed = false
			for _, g := range regions {
				if g[0] < best.entry-1e-9 && g[1] > best.entry-lead {
					best.entry, changed = g[0], true
				}
			}
		}
	}
	return best
}

// windows checks r against a granted o: the stretches of their paths closer
// than the clearance, and whether they are there at the same time.
func (p *Planner) windows(r, o *body) (float64, bool) {
	r0, r1, ok := p.hits(r, o.p, o.pathEnd())
	if !ok {
		return 0, false
	}
	o0, o1, ok := capsuleInterval(o.p, o.u, o.lc, r.p, r.pathEnd(), p.clear)
	if !ok {
		return 0, false
	}
	tr0, tr1 := p.window(r, r0, r1, o.p, o.pathEnd())
	to0, to1 := p.window(o, o0, o1, r.p, r.pathEnd())
	slack := p.cfg.SlackS + p.cfg.SlackFrac*minf(tr0, to0)
	if tr0 < to1+slack && to0 < tr1+slack {
		return r0, true
	}
	return 0, false
}

// nextWindow checks r against the next drive of a granted o: o may be on
// it any time after it reaches its current target, so r must be through
// before then, or wait outside it.
func (p *Planner) nextWindow(r, o *body) (float64, bool) {
	if !o.hasNext || o.lc < o.L-1e-9 {
		return 0, false // unknown, or beyond the horizon
	}
	r0, r1, ok := p.hits(r, o.e, o.n1)
	if !ok {
		return 0, false
	}
	tr0, tr1 := p.window(r, r0, r1, o.e, o.n1)
	tArr := o.L / o.v
	if tArr < tr1+p.cfg.SlackS+p.cfg.SlackFrac*tr0 {
		return r0, true
	}
	return 0, false
}

// window is when b is on the stretch [s0,s1] of its path, in seconds from
// now, near the other robot's path a-b. A stretch that reaches the end of
// b's path lasts until b leaves the other path along its next drive (when
// known), for ever at a final goal, for DwellS otherwise; one cut by the
// horizon is open-ended.
func (p *Planner) window(b *body, s0, s1 float64, a, c Point) (float64, float64) {
	t0, t1 := s0/b.v, s1/b.v
	if s1 >= b.lc-1e-9 {
		switch {
		case b.lc < b.L-1e-9 || b.final:
			t1 = math.Inf(1)
		case b.hasNext:
			n := b.n1.sub(b.e)
			ln := n.norm()
			if _, hi, ok := capsuleInterval(b.e, unit(n), ln, a, c, p.clear); ok {
				t1 += hi / b.v
				if hi >= ln-1e-9 {
					t1 = math.Inf(1) // its next stop is near the other path too
				}
			}
			t1 += p.cfg.PeriodS
		default:
			t1 += p.cfg.DwellS
		}
	}
	return t0, t1
}

// backoffDist is how far o must reverse along the way it came for its disc
// to leave r's path, if that stretch is free and no longer than the way it
// has come on this drive.
func (p *Planner) backoffDist(o, r *body) (float64, bool) {
	back := o.u.scale(-1)
	came := o.p.dist(p.origin[o.id].at)
	_, hi, ok := capsuleInterval(o.p, back, came+1e-9, r.p, r.pathEnd(), p.clear)
	if !ok {
		return 0, false
	}
	d := hi + p.cfg.BufferM
	if hi >= came-1e-9 || d > came {
		return 0, false
	}
	end := o.p.add(back.scale(d))
	for _, j := range p.query(o.box, nil) {
		q := &p.bodies[j]
		if q.id == o.id || q.id == r.id {
			continue
		}
		if segSegDist(o.p, end, q.p, q.occEnd()) < p.clear {
			return 0, false
		}
	}
	return d, true
}
