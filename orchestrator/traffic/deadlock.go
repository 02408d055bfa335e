package traffic

// The deadlock check (a banker's algorithm): a leg is reserved only when,
// with every robot on a reserved leg at its end and the others where they
// stand, there is still an order of single legs, one robot moving at a time
// and the others standing, that finishes every route (the witness).

// safety is the state the deadlock check simulates: where every robot
// stands and the stop points it has left, with both in spatial hashes.
type safety struct {
	ids   []string
	pos   []Point
	stops [][]Point
	still float64 // clearance between a leg and a robot standing still
	at    *grid   // where every robot stands, by index
	legs  *grid   // every robot's remaining legs, by robot index
}

// safetyState is the fleet after r drives its next leg (r nil: as it is).
// Robots on reserved legs count as standing at the end of their leg;
// offline and done robots have no stops left.
func (p *Reserver) safetyState(r *Robot, robots []*Robot, slack float64) *safety {
	var box []Point
	s := &safety{still: p.cfg.RobotDiameterM + p.cfg.StaticMarginM + slack,
		ids: make([]string, 0, len(robots)), pos: make([]Point, 0, len(robots)), stops: make([][]Point, 0, len(robots))}
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
		box = append(append(box, pos), stops...)
	}
	s.at, s.legs = newGrid(box, s.still), newGrid(box, s.still)
	for i, pos := range s.pos {
		s.at.add(i, pos)
		for _, to := range s.stops[i] {
			s.legs.addSeg(i, pos, to, s.still)
			pos = to
		}
	}
	return s
}

func (s *safety) posOf(i int) Point { return s.pos[i] }

// clear reports whether robot i can drive its next leg with every other
// robot standing where it is.
func (s *safety) clear(i int) bool { return s.blocker(i, s.pos[i], s.stops[i][0]) < 0 }

// blocker returns a robot, other than i, standing closer than still to the
// leg from-to, or -1.
func (s *safety) blocker(i int, from, to Point) int {
	return s.at.inWay(from, to, s.still, i, s.posOf)
}

// advance moves robot i to the end of its next leg.
func (s *safety) advance(i int) {
	s.at.remove(i, s.pos[i])
	s.legs.removeSeg(i, s.pos[i], s.stops[i][0], s.still)
	s.pos[i], s.stops[i] = s.stops[i][0], s.stops[i][1:]
	s.at.add(i, s.pos[i])
}

// finishBlocker returns a robot that keeps robot i from running to the end
// of its route now, or -1: one in the way of its remaining legs, with every
// other robot standing where it is, or one whose remaining route passes
// where robot i would then stand for good.
func (s *safety) finishBlocker(i int) int {
	from := s.pos[i]
	for _, to := range s.stops[i] {
		if b := s.blocker(i, from, to); b >= 0 {
			return b
		}
		from = to
	}
	end := s.stops[i][len(s.stops[i])-1]
	for _, j := range s.legs.cells[s.legs.cell(end)] {
		if int(j) != i && s.routeNear(int(j), end) {
			return int(j)
		}
	}
	return -1
}

// routeNear reports whether robot j's remaining route passes closer than
// still to q.
func (s *safety) routeNear(j int, q Point) bool {
	from := s.pos[j]
	for _, to := range s.stops[j] {
		if pointSegDist(q, from, to) < s.still {
			return true
		}
		from = to
	}
	return false
}

// blocksNext reports whether robot i standing at q would be in the way of
// another robot's next leg.
func (s *safety) blocksNext(i int, q Point) bool {
	for _, j := range s.legs.cells[s.legs.cell(q)] {
		if int(j) != i && len(s.stops[j]) > 0 && pointSegDist(q, s.pos[j], s.stops[j][0]) < s.still {
			return true
		}
	}
	return false
}

// search looks for a witness. It is greedy: first every robot that can
// finish alone, and would then stand in nobody's way, runs to the end;
// when none can, the first robot by priority
// whose next leg is clear drives it, one that then stands in nobody's next
// leg preferred; and again. A failure does not prove that no order exists:
// the check is conservative. The witness lists robot ids, one entry per leg.
//
// A check that fails remembers the robot in the way and is tried again
// only once that robot has moved: until then it would fail again.
func (s *safety) search() ([]string, bool) {
	n := len(s.ids)
	var w []string
	finishWait := make([][]int, n) // robots whose finish check that robot failed
	nextWait := make([][]int, n)   // robots whose next leg that robot blocked
	nextBlocked := make([]bool, n)
	pending := make([]bool, n) // to check whether it can finish
	left := 0
	for i := range n {
		if len(s.stops[i]) > 0 {
			pending[i] = true
			left++
		}
	}
	step := func(i int) {
		w = append(w, s.ids[i])
		s.advance(i)
		nextBlocked[i] = false
		if len(s.stops[i]) == 0 {
			left--
		}
		for _, j := range finishWait[i] {
			pending[j] = true
		}
		finishWait[i] = finishWait[i][:0]
		for _, j := range nextWait[i] {
			nextBlocked[j] = false
		}
		nextWait[i] = nextWait[i][:0]
	}
	for {
		// Passes in priority order while robots finish; a robot is checked
		// again only once something it waited on has moved.
		for again := true; again; {
			again = false
			for i := range n {
				if !pending[i] || len(s.stops[i]) == 0 {
					continue
				}
				pending[i] = false
				if b := s.finishBlocker(i); b >= 0 {
					finishWait[b] = append(finishWait[b], i)
					continue
				}
				for len(s.stops[i]) > 0 {
					step(i)
				}
				again = true
			}
		}
		if left == 0 {
			return w, true
		}
		pick := -1
		for i := range n {
			if len(s.stops[i]) == 0 || nextBlocked[i] {
				continue
			}
			if b := s.blocker(i, s.pos[i], s.stops[i][0]); b >= 0 {
				nextBlocked[i] = true
				nextWait[b] = append(nextWait[b], i)
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
		step(pick)
		pending[pick] = true // it may now finish from where it stands
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

// safeAfter is the deadlock check: after r drives its next leg, is there
// still an order in which the robots can finish, one leg at a time? When r
// is the next mover of the witness kept from the last check, the rest of
// that witness is tried first (with half the slack: robots stop a few
// centimetres off their predicted stop points); else a new one is searched
// for. It returns the witness to keep.
//
// A Plan call runs at most maxSearches new searches (searches counts them;
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
		if *searches >= p.maxSearches() {
			*searches++ // over budget: not a verdict
			return nil, false
		}
		*searches++
	}
	return p.safetyState(r, robots, p.cfg.SafetySlackM).search()
}

// maxSearches bounds the new witness searches per Plan call: 2 with Queue
// (one leg per call), else 4.
func (p *Reserver) maxSearches() int {
	if p.cfg.Queue {
		return 2
	}
	return 4
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
	_, ok := p.safeAfter(nil, ptrs, nil)
	return ok
}
