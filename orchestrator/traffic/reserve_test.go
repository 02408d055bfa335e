package traffic

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// marker is arena marker i of 12 on a 3 m arena's wall.
func marker(i int) Point {
	a := float64(i) * math.Pi / 6
	return Point{1.5 * math.Cos(a), 1.5 * math.Sin(a)}
}

// parkSpot is where a robot parks beside marker i (mapping.ParkSpot with
// the default wall gap): halfway to the next marker, 0.14 m in.
func parkSpot(i int) Point {
	a := (float64(i) + 0.5) * math.Pi / 6
	return Point{1.36 * math.Cos(a), 1.36 * math.Sin(a)}
}

func route(ms ...int) []Point {
	var out []Point
	for _, m := range ms {
		out = append(out, marker(m))
	}
	return out
}

// spot is marker i's stop spot under the default configuration.
func spot(i int) Point { return stopSpot(marker(i), stopShort) }

// stopShort is the planner's default stop distance.
var stopShort = ReserverConfig{}.withDefaults().StopShortM

// robotAt is an online robot standing at pos, its mission starting there.
func robotAt(id string, pos Point, ms ...int) Robot {
	return Robot{ID: id, Online: true, Pos: pos, Start: pos, HasStart: true, Route: route(ms...)}
}

// drive runs the planner over a fleet whose robots move stepM along their
// reserved legs on every call (not while held at a gate), and returns
// whether every route finished within maxCalls, with the smallest distance
// between two robots on the way. Without a planner (p nil) every robot
// drives its route straight through.
func drive(p *Reserver, rs []Robot, stepM float64, maxCalls int) (finished bool, closest float64) {
	closest = math.Inf(1)
	legs := map[string][2]Point{}
	for call := 0; call < maxCalls; call++ {
		if p != nil {
			p.Plan(t0.Add(time.Duration(call)*100*time.Millisecond), rs)
		}
		all := true
		for i := range rs {
			r := &rs[i]
			if r.Step >= len(r.Route) {
				r.Done = true
				continue
			}
			all = false
			l, ok := legs[r.ID]
			switch {
			case ok:
			case p == nil:
				l, ok = [2]Point{r.Pos, (&Reserver{cfg: ReserverConfig{}.withDefaults()}).stops(r)[0]}, true
			default:
				if st := p.robots[r.ID]; st != nil && st.leg != nil && st.leg.Step == r.Step {
					l, ok = [2]Point{st.leg.A, st.leg.B}, true
				}
			}
			if !ok || (p != nil && p.robots[r.ID].atGate != nil) {
				continue // standing, or held at its gate
			}
			legs[r.ID] = l
			n := l[0].dist(l[1])
			d := math.Min(n, closestOnSeg(r.Pos, l[0], l[1])*n+stepM)
			r.Pos = lerp(l[0], l[1], d/math.Max(n, 1e-9))
			if d >= n {
				r.Step++
				delete(legs, r.ID)
			}
		}
		for i := range rs {
			for j := i + 1; j < len(rs); j++ {
				closest = math.Min(closest, rs[i].Pos.dist(rs[j].Pos))
			}
		}
		if all {
			return true, closest
		}
	}
	return false, closest
}

// randomFleet draws n robots parked beside homes spread around the ring,
// each with a route of 3 to 6 markers, every leg spanning at least a third
// of the ring, back home; redrawn until the fleet is drivable one robot at
// a time under both controls.
func randomFleet(rng *rand.Rand, n int) []Robot {
	for {
		rs := make([]Robot, n)
		for k := range rs {
			home := k * 12 / n
			prev := home
			var ms []int
			for len(ms) < 2+rng.IntN(4) {
				m := rng.IntN(12)
				if d := (m - prev + 12) % 12; d >= 4 && d <= 8 && m != home {
					ms = append(ms, m)
					prev = m
				}
			}
			if d := (home - prev + 12) % 12; d < 4 || d > 8 {
				continue
			}
			r := Robot{ID: fmt.Sprintf("r%d", k+1), Online: true, Pos: parkSpot(home), Route: route(append(ms, home)...),
				Park: parkSpot(home), HasPark: true}
			r.Start, r.HasStart = r.Pos, true
			rs[k] = r
		}
		ok := true
		for _, r := range rs {
			ok = ok && r.ID != ""
		}
		if ok && NewReserver(ReserverConfig{}).Drivable(rs) && NewReserver(ReserverConfig{Queue: true}).Drivable(rs) {
			return rs
		}
	}
}

// TestReserverKeepsRobotsApart drives random fleets of 2 to 10 robots
// under both controls: robots always keep the clearance of a robot
// standing beside a leg (0.24 m, centre to centre), and every fleet
// finishes by the deadlock check, not by the stall fallback. Without the
// planner the same fleets collide: the check can fail.
func TestReserverKeepsRobotsApart(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	still := ReserverConfig{}.withDefaults().RobotDiameterM + ReserverConfig{}.withDefaults().StaticMarginM
	collided := 0
	for i := 0; i < 24; i++ {
		fleet := randomFleet(rng, 2+i%9)
		for _, cfg := range []ReserverConfig{{}, {Queue: true}} {
			rs := append([]Robot(nil), fleet...)
			p := NewReserver(cfg)
			p.cfg.StallAfter = time.Hour
			finished, closest := drive(p, rs, 0.05, 20000)
			if !finished {
				t.Fatalf("fleet %d (%d robots, queue %v) did not finish: %+v", i, len(rs), cfg.Queue, p.Holds())
			}
			if closest < still-1e-9 {
				t.Errorf("fleet %d (%d robots, queue %v): two robots came %.3f m apart", i, len(rs), cfg.Queue, closest)
			}
			if st := p.Stats(); st.Stalls != 0 {
				t.Errorf("fleet %d: finished through %d stall fallbacks", i, st.Stalls)
			}
		}
		rs := append([]Robot(nil), fleet...)
		if _, closest := drive(nil, rs, 0.05, 20000); closest < 0.18 {
			collided++
		}
	}
	if collided == 0 {
		t.Fatalf("without the planner no fleet collided: this test cannot see a collision")
	}
}

func TestReserverQueueReservesOneLegPerCall(t *testing.T) {
	// Four robots whose first legs are far apart: the queue reserves one
	// per call, the flow control all of them at once.
	rs := []Robot{
		robotAt("a", spot(0), 4), robotAt("b", spot(3), 7),
		robotAt("c", spot(6), 10), robotAt("d", spot(9), 1),
	}
	for i, m := range []int{4, 7, 10, 1} {
		rs[i].Park, rs[i].HasPark = parkSpot(m), true
	}
	for _, tc := range []struct {
		cfg  ReserverConfig
		want int
	}{{ReserverConfig{Queue: true}, 1}, {ReserverConfig{}, 4}} {
		p := NewReserver(tc.cfg)
		p.Plan(t0, rs)
		got := 0
		for _, r := range rs {
			n, _ := p.Released(r.ID)
			got += n
		}
		// Legs 0->4 and 6->10 cross: a leg reserved alongside waits
		// at its gate, but it is reserved.
		if got != tc.want {
			t.Errorf("queue %v: %d legs reserved in one call, want %d", tc.cfg.Queue, got, tc.want)
		}
	}
}

func TestReserverRefusesAnUnsafeSwap(t *testing.T) {
	// a stands at marker 0's stop spot and must go to 6 and stay; b stands
	// at 6's and must go to 0: whoever goes would drive into the other.
	// Nobody gets a leg, ever (the stall fallback off).
	rs := []Robot{robotAt("a", spot(0), 6, 3), robotAt("b", spot(6), 0, 9)}
	for _, cfg := range []ReserverConfig{{}, {Queue: true}} {
		p := NewReserver(cfg)
		p.cfg.StallAfter = time.Hour
		if finished, _ := drive(p, append([]Robot(nil), rs...), 0.05, 200); finished {
			t.Fatalf("queue %v: a swap with no room finished", cfg.Queue)
		}
		na, _ := p.Released("a")
		nb, _ := p.Released("b")
		if na != 0 || nb != 0 {
			t.Fatalf("queue %v: released a=%d b=%d into a swap", cfg.Queue, na, nb)
		}
	}
}

func TestReserverKeepsClearOfStandingRobots(t *testing.T) {
	// c stands offline at the centre, on a's leg 0 -> 6.
	rs := []Robot{robotAt("a", spot(0), 6), {ID: "c", Online: false, Pos: Point{0, 0}}}
	p := NewReserver(ReserverConfig{})
	orders := p.Plan(t0, rs)
	if n, _ := p.Released("a"); n != 0 {
		t.Fatalf("a was sent through a robot standing on its leg (orders %v)", orders)
	}
	rs[1].Pos = Point{0, 1.0} // c moved away
	p.Plan(t0.Add(time.Second), rs)
	if n, _ := p.Released("a"); n != 1 {
		t.Fatalf("a not released once its leg was clear: %d", n)
	}
}

func TestReserverTrustsItsStopPointsOverPoseEstimates(t *testing.T) {
	// c's mission starts at (0, 0.5), 0.5 m off a's leg 0 -> 6; its pose
	// estimate says it stands on the leg. The planner goes by the start it
	// was given (and later by the stop points it planned).
	rs := []Robot{
		robotAt("a", spot(0), 6),
		{ID: "c", Online: true, Pos: Point{0, 0.05}, Start: Point{0, 0.5}, HasStart: true, Route: route(3)},
	}
	p := NewReserver(ReserverConfig{})
	p.Plan(t0, rs)
	if n, _ := p.Released("a"); n != 1 {
		t.Fatalf("a held for a robot whose pose estimate, not its start, is on a's leg")
	}
	// Without the start, the estimate is all there is: a must not go.
	rs[1].HasStart = false
	q := NewReserver(ReserverConfig{})
	q.Plan(t0, rs)
	if n, _ := q.Released("a"); n != 0 {
		t.Fatalf("a released through a robot that says it stands on its leg")
	}
}

func TestReserverTakesARobotAwayFromItsStartAtItsPose(t *testing.T) {
	// c's mission starts at (0, 1.0), 1 m off a's leg 0 -> 6, but c says
	// it stands at the centre: it was driving its first leg when an
	// earlier orchestrator stopped, and is offline since, or an operator
	// stopped it (it has no route in force). a must not be sent through it.
	for _, stopped := range []bool{false, true} {
		c := Robot{ID: "c", Online: false, Pos: Point{0, 0.02}, Start: Point{0, 1.0}, HasStart: true, Route: route(3)}
		if stopped {
			c.Online, c.Route = true, nil
		}
		rs := []Robot{robotAt("a", spot(0), 6), c}
		p := NewReserver(ReserverConfig{})
		for k := range 3 {
			p.Plan(t0.Add(time.Duration(k)*time.Second), rs)
		}
		if n, _ := p.Released("a"); n != 0 {
			t.Fatalf("operator-stopped %v: a was sent through c, which stands on its leg 1 m from its start", stopped)
		}
		// Once c's pose comes back near its start, it stays where its pose
		// says: a robot that has left its start is not taken back to it.
		rs[1].Pos = Point{0, 0.9}
		p.Plan(t0.Add(5*time.Second), rs)
		if n, _ := p.Released("a"); n != 1 {
			t.Fatalf("operator-stopped %v: a held although c stands 0.9 m off its leg", stopped)
		}
	}
}

func TestReserverHeadOnNeverBoth(t *testing.T) {
	p := NewReserver(ReserverConfig{})
	p.Plan(t0, []Robot{{ID: "a", Online: true}, {ID: "b", Online: true}})
	back, wait := p.HeadOn(t0, "a", "b")
	if back == wait || back == "" || wait == "" {
		t.Fatalf("HeadOn = %q, %q", back, wait)
	}
	if b, w := p.HeadOn(t0, "a", "a"); b != "" || w != "" {
		t.Fatalf("HeadOn(a, a) = %q, %q, want a rejection", b, w)
	}
}

// A head-on between a robot on a higher leg and one held at its gate on a
// lower leg (its front close to the higher leg's way) backs off the lower
// one, whichever came first: the higher leg goes first, and making it back
// off would only bring it back to the same face.
func TestReserverHeadOnBacksOffTheLowerLeg(t *testing.T) {
	now := t0
	tick := func() time.Time { now = now.Add(100 * time.Millisecond); return now }
	rs := []Robot{robotAt("b", spot(3), 9, 3), robotAt("a", spot(0), 6, 0)}
	p := NewReserver(ReserverConfig{})
	rs[0].Online = false
	p.Plan(tick(), rs[:1]) // b comes first, offline
	p.Plan(tick(), rs)     // a gets its leg 0 -> 6
	aFrom, aTo := rs[1].Pos, p.robots["a"].leg.B
	rs[1].Pos = lerp(aFrom, aTo, 0.2)
	rs[0].Online = true
	p.Plan(tick(), rs) // b: 3 -> 9 crosses a's leg and ranks below it
	if ia, ib := slices.Index(p.ranked, "a"), slices.Index(p.ranked, "b"); ia < 0 || ib < 0 || ia > ib {
		t.Fatalf("ranks %v: want a above b", p.ranked)
	}
	if !p.before("b", "a") {
		t.Fatal("b must have come first for this test to mean anything")
	}
	for _, pair := range [][2]string{{"a", "b"}, {"b", "a"}} {
		if back, wait := p.HeadOn(now, pair[0], pair[1]); back != "b" || wait != "a" {
			t.Fatalf("HeadOn(%s, %s) = %s backs off, %s waits; want b, on the lower leg, to back off", pair[0], pair[1], back, wait)
		}
	}
}

// A robot held at its gate where its leg starts still faces the marker it
// reached: backing off takes it towards the centre. When that is nearer
// the way of the robot it met, that robot backs off instead; else the one
// on the lower leg did, again and again, each time nearer the other's way.
func TestReserverHeadOnNeverBacksARobotIntoTheOthersWay(t *testing.T) {
	p, rs := headOnAtGate(t, bStopped())
	bDir := spot(9).sub(Point{0.311, 1.159})
	rs[1].Heading, rs[1].HasHeading = math.Atan2(bDir.Y, bDir.X), true
	for _, c := range []struct {
		name    string
		heading float64
		backer  string
	}{
		{"a faces marker 2, its back to b's way", math.Atan2(marker(2).Y, marker(2).X), "b"},
		{"a faces along its leg", math.Atan2(spot(8).Y-spot(2).Y, spot(8).X-spot(2).X), "a"},
	} {
		rs[0].Heading, rs[0].HasHeading = c.heading, true
		p.ingest(t0, rs)
		to := rs[0].Pos.sub(Point{math.Cos(c.heading), math.Sin(c.heading)}.scale(0.25))
		bA, bB := p.remaining(p.robots["b"].leg, rs[1].Pos)
		if nearer := pointSegDist(to, bA, bB) < pointSegDist(rs[0].Pos, bA, bB); nearer != (c.backer == "b") {
			t.Fatalf("%s: test geometry: a's back-off nearer b's way %v", c.name, nearer)
		}
		for _, pair := range [][2]string{{"a", "b"}, {"b", "a"}} {
			if back, _ := p.HeadOn(t0, pair[0], pair[1]); back != c.backer {
				t.Fatalf("%s: HeadOn(%s, %s): %s backs off, want %s", c.name, pair[0], pair[1], back, c.backer)
			}
		}
	}
}

func TestReserverRejectsBadRobots(t *testing.T) {
	p := NewReserver(ReserverConfig{})
	orders := p.Plan(t0, []Robot{
		{ID: "", Online: true},
		{ID: "a", Online: true, Pos: Point{math.NaN(), 0}},
		{ID: "b", Online: true, Route: route(3), Step: 2},
		{ID: "c", Online: true, Route: route(3), HasPark: true, Park: Point{math.Inf(1), 0}},
		{ID: "d", Online: true},
		{ID: "d", Online: true},
	})
	if len(orders) != 0 {
		t.Errorf("orders %+v", orders)
	}
	if got := p.Stats().Rejected; got != 5 {
		t.Errorf("rejected %d, want 5 (%s)", got, p.Stats().LastError)
	}
}

// mustFinish drives the fleet to the end of every route under both
// controls, by the deadlock check and not by the stall fallback.
func mustFinish(t *testing.T, rs []Robot, check func(*testing.T, *Reserver, []Robot)) {
	t.Helper()
	for _, cfg := range []ReserverConfig{{}, {Queue: true}} {
		p := NewReserver(cfg)
		p.cfg.StallAfter = time.Hour
		fleet := append([]Robot(nil), rs...)
		if check != nil {
			check(t, p, fleet)
		}
		if finished, _ := drive(p, fleet, 0.05, 5000); !finished {
			t.Fatalf("queue %v: not finished: %+v", cfg.Queue, fleet)
		}
		if st := p.Stats(); st.Stalls != 0 {
			t.Fatalf("queue %v: finished through %d stall fallbacks, not by the deadlock check", cfg.Queue, st.Stalls)
		}
	}
}

func TestReserverFinishesWhereOneAtATimeCannot(t *testing.T) {
	// a stands at marker 0's spot and must visit 6 (where b stands), 9,
	// then 3; b must visit 9, then 0. After any first leg, neither robot
	// could run its whole route while the other stands still (b at 9 is in
	// a's way, a at 0 in b's), so a check that only lets robots finish one
	// at a time refuses everything. Leg by leg it works: b to 9, a to 6, b
	// to 0, a to 9 and 3.
	rs := []Robot{robotAt("a", spot(0), 6, 9, 3), robotAt("b", spot(6), 9, 0)}
	mustFinish(t, rs, func(t *testing.T, p *Reserver, rs []Robot) {
		if p.cfg.ApproachStops {
			return // the set-up is for stop spots
		}
		for i := range rs {
			s := p.safetyState(&rs[i], []*Robot{&rs[0], &rs[1]}, p.cfg.SafetySlackM)
			if (len(s.stops[0]) > 0 && s.finishBlocker(0) < 0) || (len(s.stops[1]) > 0 && s.finishBlocker(1) < 0) {
				t.Fatalf("test set-up: after %s's first leg one robot can finish alone", rs[i].ID)
			}
		}
	})
}

func TestReserverThreeRobotCycle(t *testing.T) {
	// Each robot must end where the next one stands: a at 0 -> 4 -> 8's
	// neighbour... a: 0 -> 4, b: 4 -> 8, c: 8 -> 0, each through an
	// intermediate marker. Going straight at its final goal, each would
	// wait for the next: a cycle. The planner orders them.
	rs := []Robot{robotAt("a", spot(0), 6, 4), robotAt("b", spot(4), 10, 8), robotAt("c", spot(8), 2, 0)}
	mustFinish(t, rs, nil)
}

func TestReserverFinalGoalOnAnotherPath(t *testing.T) {
	// a, first by priority, stands at marker 2's spot and parks next at the
	// centre; b stands beside marker 0 and must cross the arena to 6, and
	// back to 0, through the centre. a's last leg is free now, but once a
	// parks b can never pass: the deadlock check holds a until b is by.
	rs := []Robot{
		{ID: "a", Online: true, Pos: spot(2), Start: spot(2), HasStart: true, Route: route(9), Park: Point{0, 0}, HasPark: true},
		robotAt("b", parkSpot(11), 6, 0),
	}
	mustFinish(t, rs, func(t *testing.T, p *Reserver, rs []Robot) {
		for i := 0; i < 3; i++ {
			p.Plan(t0.Add(time.Duration(i)*100*time.Millisecond), rs)
		}
		na, _ := p.Released("a")
		nb, _ := p.Released("b")
		if na != 0 || nb != 1 {
			t.Fatalf("released a=%d b=%d: a would park on b's way before b passed", na, nb)
		}
	})
}

func TestReserverGateHoldsAtTheCrossing(t *testing.T) {
	// a: 0 -> 6 is reserved first and is on its way; b: 3 -> 9 crosses it at
	// the centre, 0.9 m ahead of b. b may start at once and is held at its
	// gate, short of the crossing, until a has passed.
	for _, cfg := range []ReserverConfig{{}, {Queue: true}} {
		t.Run(fmt.Sprintf("queue %v", cfg.Queue), func(t *testing.T) {
			now := t0
			tick := func() time.Time { now = now.Add(100 * time.Millisecond); return now }
			rs := []Robot{robotAt("a", spot(0), 6, 0), robotAt("b", spot(3), 9, 3)}
			p := NewReserver(cfg)
			p.Plan(tick(), rs[:1])
			aFrom, aTo := rs[0].Pos, p.robots["a"].leg.B
			rs[0].Pos = lerp(aFrom, aTo, 0.2) // on its way: it will be first at the crossing
			p.Plan(tick(), rs)
			if nb, _ := p.Released("b"); nb != 1 {
				t.Fatalf("b not released: it should start towards its gate")
			}
			gate := p.robots["b"].leg.gate
			if !(gate > 0.3 && gate < 0.9) {
				t.Fatalf("b's gate %.2f m along its leg, want before the centre (0.9 m)", gate)
			}
			bFrom, bTo := rs[1].Pos, p.robots["b"].leg.B
			// b reaches its gate while a is short of the crossing: b is held.
			rs[1].Pos = lerp(bFrom, bTo, (gate+0.01)/bFrom.dist(bTo))
			rs[0].Pos = lerp(aFrom, aTo, 0.3)
			orders := p.Plan(tick(), rs)
			if len(orders) != 1 || orders[0].Robot != "b" || !orders[0].Hold || orders[0].With != "a" {
				t.Fatalf("orders %+v, want b held for a", orders)
			}
			// b's body is clear of a's whole remaining leg while it waits.
			if d := pointSegDist(rs[1].Pos, rs[0].Pos, aTo); d < 0.30 {
				t.Fatalf("b waits %.2f m from a's way", d)
			}
			// a passes the crossing: b goes on.
			rs[0].Pos = lerp(aFrom, aTo, 0.95)
			orders = p.Plan(tick(), rs)
			if len(orders) != 1 || orders[0].Robot != "b" || orders[0].Hold {
				t.Fatalf("orders %+v, want b released", orders)
			}
			if st := p.Stats(); st.Holds != 1 || st.Releases != 1 || len(p.Finished()) != 1 {
				t.Fatalf("stats %+v, finished %v", st, p.Finished())
			}
		})
	}
}

func TestReserverGoesAheadOfAFarRobot(t *testing.T) {
	// a: 0 -> 6 was reserved first, but a has not set off; b: 4 -> 8 crosses
	// a's leg near a's end and its own start, and would be past long before
	// a gets there. The flow control ranks b's leg above a's: a is gated
	// short of the crossing, b is not. The queue makes b wait for a (its
	// crossing is too close for a gate: b's leg is not even reserved).
	for _, queue := range []bool{false, true} {
		t.Run(fmt.Sprintf("queue %v", queue), func(t *testing.T) {
			rs := []Robot{robotAt("a", spot(0), 6, 0), robotAt("b", spot(4), 8, 4)}
			p := NewReserver(ReserverConfig{Queue: queue})
			p.Plan(t0, rs[:1])
			p.Plan(t0.Add(100*time.Millisecond), rs)
			nb, _ := p.Released("b")
			switch {
			case queue && nb != 0 && p.robots["b"].leg.gatedBy != "a":
				t.Fatalf("b goes ahead of a in the queue")
			case queue:
			case nb != 1:
				t.Fatalf("b's leg not reserved")
			case p.robots["a"].leg.gatedBy != "b" || p.robots["b"].leg.gatedBy != "":
				t.Fatalf("a gated by %q, b by %q: want a waiting for b", p.robots["a"].leg.gatedBy, p.robots["b"].leg.gatedBy)
			}
		})
	}
}

func TestReserverWaitsForALegThatEndsInItsWay(t *testing.T) {
	// a: 0 -> 6 ends at marker 6's spot, which b's first leg also goes to:
	// b can neither wait at a gate for a (a will then stand in its way) nor
	// go first (it would stand in a's). b's leg is not reserved while a's is.
	rs := []Robot{robotAt("a", spot(0), 6, 2), robotAt("b", spot(3), 6, 9)}
	p := NewReserver(ReserverConfig{})
	p.Plan(t0, rs[:1])
	orders := p.Plan(t0.Add(100*time.Millisecond), rs)
	if nb, _ := p.Released("b"); nb != 0 {
		t.Fatalf("b's leg reserved into where a will stand (orders %+v)", orders)
	}
	if st := p.Stats(); st.WaitLeg != 1 {
		t.Fatalf("stats %+v: want b waiting for a's leg", st)
	}
}

func TestStopSpots(t *testing.T) {
	// Stop spots do not depend on where a robot comes from; with
	// ApproachStops a robot stops short of the marker on its way.
	r := Robot{ID: "a", Pos: spot(0), Route: route(5, 10)}
	got := NewReserver(ReserverConfig{}).Stops(r)
	if got[0].dist(spot(5)) > 1e-9 || got[1].dist(spot(10)) > 1e-9 {
		t.Fatalf("stops %v, want the spots of markers 5 and 10", got)
	}
	got = NewReserver(ReserverConfig{ApproachStops: true}).Stops(r)
	if want := stopPoint(spot(0), marker(5), stopShort); got[0].dist(want) > 1e-9 || got[0].dist(spot(5)) < 0.1 {
		t.Fatalf("approach stop %v, want %v", got[0], want)
	}
}

// aOnLegTo6 is a planner that reserved robot a's leg from marker 0's stop
// spot to marker 6's.
func aOnLegTo6(t *testing.T) (*Reserver, []Robot, *resRobot) {
	t.Helper()
	p := NewReserver(ReserverConfig{})
	rs := []Robot{robotAt("a", spot(0), 6, 0)}
	p.Plan(t0, rs)
	st := p.robots["a"]
	if st.leg == nil || st.leg.B.dist(spot(6)) > 1e-9 {
		t.Fatal("a's leg to marker 6's stop spot not reserved")
	}
	return p, rs, st
}

// blockerOf places a leg from -> to of a robot c standing at from, beside
// a, and returns the robot in its way ("" when it finds a rank).
func blockerOf(p *Reserver, a Robot, from, to Point) string {
	robots := p.ingest(t0.Add(100*time.Millisecond), []Robot{a, robotAt("c", from, 3)})
	self := slices.IndexFunc(robots, func(r *Robot) bool { return r.ID == "c" })
	_, blocker, _ := p.place(robots[self], from, to, p.index(robots), self, 1, false)
	return blocker
}

// A new leg passes a robot held at its gate as far as it would pass a
// moving one (move, 0.30 m centre to centre), not a standing one (still):
// at still, the held robot's face lies inside the passing robot's reflex
// corridor once either strays, and the passing robot stops for the very
// robot that waits for it, again after every backoff.
func TestReserverPassesAHeldRobotAsFarAsAMovingOne(t *testing.T) {
	p, rs, st := aOnLegTo6(t)
	end := st.leg.B
	rs[0].Pos = lerp(st.leg.A, end, 0.3) // on its way, then held at a gate
	st.atGate = &Order{Robot: "a", Hold: true}
	// c's leg runs through a's end (c cannot wait for a: a will stand in
	// its way) and passes a 0.27 m off: between still (0.24) and move.
	phi := math.Asin(0.27 / end.dist(rs[0].Pos))
	u := rs[0].Pos.sub(end).scale(1 / end.dist(rs[0].Pos))
	dir := Point{u.X*math.Cos(phi) - u.Y*math.Sin(phi), u.X*math.Sin(phi) + u.Y*math.Cos(phi)}
	from, to := end.add(dir.scale(2.0)), end.sub(dir.scale(0.5))
	if d := pointSegDist(rs[0].Pos, from, to); math.Abs(d-0.27) > 0.005 {
		t.Fatalf("test geometry: c's leg passes a %.3f m off, want 0.27", d)
	}
	if blocker := blockerOf(p, rs[0], from, to); blocker != "a" {
		t.Fatalf("c's leg placed past the held robot a at 0.27 m (blocker %q), want it refused", blocker)
	}
}

// A robot held at its gate mid-arena may report a pose decimetres off its
// leg, where its pilot holds it. A new leg that passes its pose at 0.35 m
// but the spot on its leg at 0.15 m must not rank above it: the robot is
// near both. (In the campaign, with more witness searches per call, such a
// leg was reserved past a held robot whose pose was 0.18 m off its leg,
// and the two collided.)
func TestReserverPassesAHeldRobotWhereItsLegHoldsIt(t *testing.T) {
	p, rs, st := aOnLegTo6(t)
	end := st.leg.B
	onLeg := lerp(st.leg.A, end, 0.3)
	u := onLeg.sub(end).scale(1 / end.dist(onLeg)) // from a's end towards a
	n := perp(u)
	rs[0].Pos = onLeg.add(n.scale(0.2)) // its pose, 0.2 m off its leg
	st.atGate = &Order{Robot: "a", Hold: true}
	// c's leg runs through a's end (c cannot wait for a: a will stand in
	// its way), 0.15 m from the spot on a's leg, on the side away from
	// a's pose.
	phi := -math.Asin(0.15 / end.dist(onLeg))
	dir := Point{u.X*math.Cos(phi) - u.Y*math.Sin(phi), u.X*math.Sin(phi) + u.Y*math.Cos(phi)}
	from, to := end.add(dir.scale(2.0)), end.sub(dir.scale(0.5))
	if d := pointSegDist(onLeg, from, to); math.Abs(d-0.15) > 0.005 {
		t.Fatalf("test geometry: c's leg passes a's leg spot %.3f m off, want 0.15", d)
	}
	if d := pointSegDist(rs[0].Pos, from, to); d < 0.32 {
		t.Fatalf("test geometry: c's leg passes a's pose %.3f m off, want more than move", d)
	}
	if blocker := blockerOf(p, rs[0], from, to); blocker != "a" {
		t.Fatalf("c's leg placed 0.15 m past where a's leg holds it (blocker %q), want it refused", blocker)
	}
}

func TestReserverWaitsForALegOnlyWhereItsEndLeavesRoom(t *testing.T) {
	p, rs, st := aOnLegTo6(t)
	end := st.leg.B
	rs[0].Pos = lerp(st.leg.A, end, 0.9) // too near its end to yield to a new leg
	// c's leg crosses a's way 0.27 m beyond a's end, square to it: between
	// still (0.24) and move. Waiting for a would leave a standing there
	// (at its stop spot, perhaps held for its next leg) with its face
	// inside c's reflex corridor: c would stop for it, and a wait for c.
	u := end.sub(st.leg.A).scale(1 / end.dist(st.leg.A))
	across := Point{-u.Y, u.X}
	mid := end.add(u.scale(0.27))
	from, to := mid.add(across.scale(0.8)), mid.sub(across.scale(0.8))
	if d := pointSegDist(end, from, to); math.Abs(d-0.27) > 0.005 {
		t.Fatalf("test geometry: c's leg passes a's end %.3f m off, want 0.27", d)
	}
	if blocker := blockerOf(p, rs[0], from, to); blocker != "a" {
		t.Fatalf("c's leg ranked below a's, whose end lies 0.27 m from c's way (blocker %q), want it refused", blocker)
	}
}

func TestReserverPassesAStandingRobotAsFarAsAMovingOneUnlessStalled(t *testing.T) {
	p := NewReserver(ReserverConfig{})
	// b stands at marker 3's stop spot; c's leg passes it 0.27 m off:
	// between still (0.24) and move (0.30).
	at := spot(3)
	u := at.scale(1 / at.norm()) // radial
	across := Point{-u.Y, u.X}
	mid := at.sub(u.scale(0.27))
	from, to := mid.add(across.scale(0.8)), mid.sub(across.scale(0.8))
	robots := p.ingest(t0, []Robot{robotAt("b", at, 5), robotAt("c", from, 9)})
	self := slices.IndexFunc(robots, func(r *Robot) bool { return r.ID == "c" })
	if _, blocker, _ := p.place(robots[self], from, to, p.index(robots), self, 1, false); blocker != "b" {
		t.Fatalf("c's leg passes the standing robot b 0.27 m off (blocker %q), want it refused", blocker)
	}
	// Stalled, the leg is reserved at still: bodies stay apart, and the
	// deadlock check's witness, which keeps still, can go on.
	if _, blocker, _ := p.place(robots[self], from, to, p.index(robots), self, 1, true); blocker != "" {
		t.Fatalf("stalled fleet: c's leg refused (blocker %q), want it placed at still", blocker)
	}
}

// headOnAtGate sets up the planner as a fleet found it: a (on leg
// spot 2 -> spot 8) waits at its gate for b's leg (from near marker 1 to
// spot 9), which passes a's stop spot 0.19 m off, nearer than planned (b's
// pose erred when its leg was reserved); b stands at bAt, stopped.
func headOnAtGate(t *testing.T, bAt Point) (*Reserver, []Robot) {
	t.Helper()
	p := NewReserver(ReserverConfig{})
	bFrom := Point{0.311, 1.159}
	rs := []Robot{
		{ID: "a", Online: true, Pos: spot(2), Route: route(2, 8), Step: 1},
		{ID: "b", Online: true, Pos: bAt, Route: route(9, 3)},
	}
	p.ingest(t0, rs)
	p.robots["b"].leg = &resLeg{A: bFrom, B: spot(9), Step: 0, gate: math.Inf(1)}
	p.robots["a"].leg = &resLeg{A: spot(2), B: spot(8), Step: 1, gate: 0, gatedBy: "b"}
	p.robots["a"].atGate = &Order{Robot: "a", Hold: true, With: "b"}
	p.robots["a"].released, p.robots["b"].released = 2, 1
	p.ranked = []string{"b", "a"}
	p.ingest(t0, rs)
	if d := pointSegDist(spot(2), bFrom, spot(9)); d > 0.2 {
		t.Fatalf("test geometry: b's leg passes a %.3f m off, want under 0.2", d)
	}
	return p, rs
}

// bStopped is where b stopped for a in headOnAtGate: 0.30 m before a, on
// its way (its face reflex, then it backed off).
func bStopped() Point {
	bFrom := Point{0.311, 1.159}
	u := spot(9).sub(bFrom).scale(1 / spot(9).dist(bFrom))
	bAt := bFrom.add(u.scale(closestOnSeg(spot(2), bFrom, spot(9)) * spot(9).dist(bFrom)))
	for bAt.dist(spot(2)) < 0.30 {
		bAt = bAt.sub(u.scale(0.01))
	}
	return bAt
}

// addWaitingForB adds c to headOnAtGate's fleet, at cAt on its leg spot 4
// -> spot 10 (across a's), held at its gate for b, and makes a wait for c.
func addWaitingForB(p *Reserver, rs []Robot, cAt Point) []Robot {
	rs = append(rs, Robot{ID: "c", Online: true, Pos: cAt, Route: route(4, 10), Step: 1})
	p.ingest(t0, rs)
	p.robots["c"].leg = &resLeg{A: spot(4), B: spot(10), Step: 1, gate: cAt.dist(spot(4)), gatedBy: "b"}
	p.robots["c"].atGate = &Order{Robot: "c", Hold: true, With: "b"}
	p.robots["c"].released = 2
	p.robots["a"].leg.gatedBy = "c"
	p.ranked = []string{"b", "c", "a"}
	p.ingest(t0, rs)
	return rs
}

func TestReserverYieldLetsTheRobotWaitingAtItsGateGoFirst(t *testing.T) {
	p, rs := headOnAtGate(t, bStopped())
	if back, wait := p.HeadOn(t0, "b", "a"); back != "a" || wait != "b" {
		t.Fatalf("HeadOn: %s backs off, %s waits; want a, on the lower leg (the core swaps them when it cannot)", back, wait)
	}
	if p.Yield(t0, "b", "a") {
		t.Fatal("Yield(b stopped, a) moved a's leg before the next Plan call")
	}
	p.yieldAll() // as Plan does, after it takes in the robots
	if !slices.Equal(p.ranked, []string{"a", "b"}) || !p.Yield(t0, "b", "a") {
		t.Fatalf("ranks %v, want a, which waits at its gate for b, above b", p.ranked)
	}
	var releasedA, heldB bool
	for _, o := range p.Plan(t0.Add(100*time.Millisecond), rs) {
		releasedA = releasedA || (o.Robot == "a" && !o.Hold)
		heldB = heldB || (o.Robot == "b" && o.Hold && o.With == "a")
	}
	if !releasedA || !heldB {
		t.Fatalf("after the head-on: a released %v, b held for a %v; want both", releasedA, heldB)
	}
	// They never swap back: b, now waiting at its gate for a, is not moved
	// above a.
	p.Yield(t0.Add(200*time.Millisecond), "a", "b")
	p.yieldAll()
	if !slices.Equal(p.ranked, []string{"a", "b"}) {
		t.Fatalf("Yield(a, b) after Yield(b, a): ranks %v, want a above b still", p.ranked)
	}
}

func TestReserverYieldKeepsTheRankWhenTheOtherStandsInTheWay(t *testing.T) {
	// b stands on a's way, 0.40 m ahead of a: a cannot go first.
	bAt := lerp(spot(2), spot(8), 0.40/spot(2).dist(spot(8)))
	p, _ := headOnAtGate(t, bAt)
	p.Yield(t0, "b", "a")
	p.yieldAll()
	if p.Yield(t0, "b", "a") {
		t.Fatal("Yield(b, a) let a go first with b standing in its way")
	}
	if !slices.Equal(p.ranked, []string{"b", "a"}) {
		t.Fatalf("ranks %v, want them unchanged", p.ranked)
	}
}

func TestReserverYieldLetsARobotGoFirstPastAChainOfWaits(t *testing.T) {
	// As headOnAtGate, but a waits at its gate for c, whose leg (spot 4 ->
	// spot 10, across a's) waits at its gate for b: b waits for a (the
	// head-on), a for c, c for b. a's leg goes first, above both.
	p, rs := headOnAtGate(t, bStopped())
	cAt := lerp(spot(4), spot(10), 0.15)
	addWaitingForB(p, rs, cAt)
	if d := pointSegDist(cAt, spot(2), spot(8)); d < 0.30 {
		t.Fatalf("test geometry: c stands %.3f m from a's way, want 0.30 or more", d)
	}
	if _, _, near := nearStretch(spot(2), spot(8), cAt, spot(10), 0.30); !near {
		t.Fatal("test geometry: a's way must come near c's")
	}
	// c, which waits for b too, may go first as well: both rank above b.
	p.Yield(t0, "b", "a")
	p.yieldAll()
	yielded := p.Yield(t0, "b", "a")
	ia, ib, ic := slices.Index(p.ranked, "a"), slices.Index(p.ranked, "b"), slices.Index(p.ranked, "c")
	if !yielded || ia > ib || ic > ib {
		t.Fatalf("ranks %v, want a and c above b", p.ranked)
	}
}

func TestReserverYieldLetsTheRobotInTheWayGoFirst(t *testing.T) {
	// As the chain above, but c, waiting at its gate for b, stands on a's
	// way: a cannot go before c, but c can go before b, and a after c.
	p, rs := headOnAtGate(t, bStopped())
	cAt := lerp(spot(4), spot(10), 0.4)
	addWaitingForB(p, rs, cAt)
	if d := pointSegDist(cAt, spot(2), spot(8)); d >= 0.24 {
		t.Fatalf("test geometry: c stands %.3f m from a's way, want it in the way", d)
	}
	// c goes first, above b; a ranks below c (it waits for c at its gate),
	// above b.
	p.Yield(t0, "b", "a")
	p.yieldAll()
	if !slices.Equal(p.ranked, []string{"c", "a", "b"}) {
		t.Fatalf("ranks %v, want c, a, b", p.ranked)
	}
}

func TestReserverRanksALegAboveAnotherOnlyWhereItsEndLeavesRoom(t *testing.T) {
	p, rs, _ := aOnLegTo6(t)
	// c cannot wait for a (a ends within move of c's way) and would end 0.27 m
	// from a's way, between still (0.24) and move: a, passing it, would
	// stop for it (its reflex), and it may be held there for its next leg.
	from, to := Point{-0.60, -1.00}, Point{-0.75, 0.27}
	if d := pointSegDist(to, spot(0), spot(6)); math.Abs(d-0.27) > 0.005 {
		t.Fatalf("test geometry: c ends %.3f m from a's way, want 0.27", d)
	}
	if blocker := blockerOf(p, rs[0], from, to); blocker != "a" {
		t.Fatalf("c's leg ranked above a's, ending 0.27 m from a's way (blocker %q), want it refused", blocker)
	}
}

func TestReserverYieldNeverRanksALegAboveAMovingRobot(t *testing.T) {
	// As the chain, but c is on its way (not held): a would have to rank
	// above c, which may be moving, and does not.
	p, rs := headOnAtGate(t, bStopped())
	addWaitingForB(p, rs, lerp(spot(4), spot(10), 0.15))
	p.robots["c"].atGate = nil
	p.robots["c"].leg.gate = math.Inf(1)
	p.Yield(t0, "b", "a")
	p.yieldAll()
	if !slices.Equal(p.ranked, []string{"b", "c", "a"}) {
		t.Fatalf("ranks %v, want b, c, a: a moved above c, which may be moving", p.ranked)
	}
}

// A robot that has not moved yet stands where its pose says, and a pose
// taken before it moves errs by decimetres: w, first seen clear of a's
// way, now stands 0.10 m from it, 0.30 m ahead of a, and 0.22 m from where
// a's leg ends (so it cannot wait for a: a would stop in its way), with a
// too close to stop short of its leg. a meets it head-on and backs off (w,
// with a robot close behind it, could not). Freed, w must then get a leg
// past a, held where it stands, and a a gate for it: without that, the
// back-off leaves a 0.25 m further back, still too close to stop short, w
// gets no leg, and a, freed at the head-on's timeout, drives on and meets
// it again, for ever.
func TestReserverYieldGivesAStandingRobotItsFirstLeg(t *testing.T) {
	p := NewReserver(ReserverConfig{})
	wAt := Point{-0.70, 0.10}
	rs := []Robot{
		{ID: "a", Online: true, Pos: Point{-0.40, 0}, Route: route(6, 0)},
		{ID: "w", Online: true, Pos: wAt, Route: route(2)},
	}
	p.ingest(t0, rs)
	p.robots["a"].leg = &resLeg{A: spot(0), B: spot(6), Step: 0, gate: math.Inf(1)}
	p.robots["a"].released, p.robots["a"].driven = 1, true
	p.ranked = []string{"a"}
	if d := pointSegDist(spot(6), wAt, spot(2)); d >= 0.30 {
		t.Fatalf("test geometry: a's leg ends %.3f m from w's way, want under move (0.30)", d)
	}
	p.Plan(t0, rs)
	if p.robots["w"].leg != nil {
		t.Fatalf("test geometry: w got a leg (ranks %v) with a driving close to it", p.ranked)
	}
	// a stopped for w, backed off, and stands, held by the core.
	rs[0].Pos, rs[0].Stands = Point{-0.15, 0}, true
	p.Plan(t0.Add(100*time.Millisecond), rs)
	if p.robots["w"].leg != nil {
		t.Fatal("test geometry: w got a leg after a backed off, before Yield")
	}
	p.Yield(t0, "a", "w")
	p.Plan(t0.Add(200*time.Millisecond), rs)
	if p.robots["w"].leg == nil || !p.Yield(t0, "a", "w") {
		t.Fatalf("after the head-on: w's leg reserved %v, ranks %v; want w's leg above a's", p.robots["w"].leg != nil, p.ranked)
	}
	// Released by the core, a drives no further than its gate for w.
	if l := p.robots["a"].leg; l.gatedBy != "w" || (p.robots["a"].atGate == nil && l.gate <= done(l, rs[0].Pos)) {
		t.Fatalf("a's gate %.2f m along its leg (for %q), a at %.2f: want one for w, ahead of a or a held at it",
			l.gate, l.gatedBy, done(l, rs[0].Pos))
	}
}
