package traffic

import (
	"math"
	"testing"
	"time"
)

// marker is arena marker i of 12 on a 3 m arena's wall.
func marker(i int) Point {
	a := float64(i) * math.Pi / 6
	return Point{1.5 * math.Cos(a), 1.5 * math.Sin(a)}
}

// home is where a robot stands in front of marker i.
func home(i int) Point {
	m := marker(i)
	return m.scale(1.1 / 1.5)
}

func route(ms ...int) []Point {
	var out []Point
	for _, m := range ms {
		out = append(out, marker(m))
	}
	return out
}

func TestReserverOneLegPerCallAndNoCrossing(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	// a: 0 -> 6 and b: 3 -> 9 cross at the centre. Without crossing gates,
	// crossing legs are never reserved together.
	rs := []Robot{
		{ID: "a", Online: true, Pos: home(0), Route: route(6, 0)},
		{ID: "b", Online: true, Pos: home(3), Route: route(9, 3)},
	}
	p := NewReserver(ReserverConfig{NoGates: true})
	p.Plan(now, rs)
	na, _ := p.Released("a")
	nb, _ := p.Released("b")
	if na+nb != 1 {
		t.Fatalf("after one call released a=%d b=%d, want exactly one leg", na, nb)
	}
	p.Plan(now.Add(100*time.Millisecond), rs)
	na2, _ := p.Released("a")
	nb2, _ := p.Released("b")
	if na2+nb2 != 1 {
		t.Fatalf("crossing legs both reserved: a=%d b=%d", na2, nb2)
	}
	// The first robot reaches its stop point: its leg is freed, the other
	// may go (after the first robot's next leg, which is reserved first).
	first := 0
	if nb2 == 1 {
		first = 1
	}
	rs[first].Step = 1
	rs[first].Pos = stopPoint(rs[first].Pos, rs[first].Route[0], stopShort)
	got := map[string]int{}
	for i := 0; i < 4; i++ {
		p.Plan(now.Add(time.Duration(i+2)*100*time.Millisecond), rs)
	}
	for _, id := range []string{"a", "b"} {
		got[id], _ = p.Released(id)
	}
	if got[rs[1-first].ID] != 1 && got[rs[first].ID] != 2 {
		t.Fatalf("after the first leg ended nobody moved on: %v", got)
	}
}

func TestReserverRefusesAnUnsafeSwap(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	// a stands in front of 0 and must go to 6 and back; b stands in front
	// of 6 and must go to 0 and back: whoever goes first parks in front of
	// the other's marker, and neither could finish. Both final goals are
	// where the other must pass, so the state is unsafe: nobody gets a leg.
	rs := []Robot{
		{ID: "a", Online: true, Pos: home(0), Route: route(6)},
		{ID: "b", Online: true, Pos: home(6), Route: route(0)},
	}
	p := NewReserver(ReserverConfig{})
	for i := 0; i < 3; i++ {
		p.Plan(now, rs)
	}
	na, _ := p.Released("a")
	nb, _ := p.Released("b")
	if na != 0 || nb != 0 {
		t.Fatalf("released a=%d b=%d into a swap that cannot finish", na, nb)
	}
}

func TestReserverKeepsClearOfStandingRobots(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	// c stands offline at the centre, on a's leg 0 -> 6.
	rs := []Robot{
		{ID: "a", Online: true, Pos: home(0), Route: route(6)},
		{ID: "c", Online: false, Pos: Point{0, 0}},
	}
	p := NewReserver(ReserverConfig{})
	orders := p.Plan(now, rs)
	if n, _ := p.Released("a"); n != 0 {
		t.Fatalf("a was sent through a robot standing on its leg (orders %v)", orders)
	}
	rs[1].Pos = Point{0, 1.0} // c moved away
	p.Plan(now.Add(time.Second), rs)
	if n, _ := p.Released("a"); n != 1 {
		t.Fatalf("a not released once its leg was clear: %d", n)
	}
}

func TestReserverHeadOnNeverBoth(t *testing.T) {
	p := NewReserver(ReserverConfig{})
	p.Plan(time.Now(), []Robot{{ID: "a", Online: true}, {ID: "b", Online: true}})
	back, wait := p.HeadOn(time.Now(), "a", "b")
	if back == wait || back == "" || wait == "" {
		t.Fatalf("HeadOn = %q, %q", back, wait)
	}
	if b, w := p.HeadOn(time.Now(), "a", "a"); b != "" || w != "" {
		t.Fatalf("HeadOn(a, a) = %q, %q, want a rejection", b, w)
	}
}

// legEnd is where the planner expects robot r to stop on its next leg.
func legEnd(p *Reserver, r Robot) Point { return p.stops(&r)[0] }

func TestReserverCrossingFreedOncePassed(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	// a: 0 -> 6 and b: 3 -> 9 cross at the centre. Whoever goes first, the
	// other may go once the first has passed the crossing, before the first
	// reaches its stop point (crossing gates off: it could go at once and
	// wait at the crossing).
	rs := []Robot{
		{ID: "a", Online: true, Pos: home(0), Route: route(6, 0)},
		{ID: "b", Online: true, Pos: home(3), Route: route(9, 3)},
	}
	p := NewReserver(ReserverConfig{NoGates: true})
	p.Plan(now, rs)
	first, second := 0, 1
	if n, _ := p.Released("b"); n == 1 {
		first, second = 1, 0
	}
	if n, _ := p.Released(rs[first].ID); n != 1 {
		t.Fatalf("nobody got the first leg")
	}
	from, to := rs[first].Pos, legEnd(p, rs[first])
	for i, f := range []float64{0.2, 0.45, 0.7, 0.95} {
		rs[first].Pos = lerp(from, to, f)
		p.Plan(now.Add(time.Duration(i+1)*100*time.Millisecond), rs)
		n, _ := p.Released(rs[second].ID)
		// The crossing is at the middle; its corridor (0.30 m) and the back
		// margin (0.10 m) are cleared at about 0.7 of a 2.2 m leg.
		if f < 0.5 && n != 0 {
			t.Fatalf("%s released while %s, %.0f%% along its leg, still had the crossing ahead", rs[second].ID, rs[first].ID, 100*f)
		}
		if f > 0.9 && n != 1 {
			t.Fatalf("%s still held when %s was %.0f%% along, past the crossing", rs[second].ID, rs[first].ID, 100*f)
		}
	}
}

func TestReserverTrustsItsStopPointsOverPoseEstimates(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	// c stands at its start in front of marker 4, on a's leg 0 -> 6's way?
	// No: 0.5 m off it. Its pose estimate, though, says it stands on the
	// leg. The planner goes by the start it was given and its stop points.
	start := Point{0, 0.5}
	rs := []Robot{
		{ID: "a", Online: true, Pos: home(0), Route: route(6)},
		{ID: "c", Online: true, Pos: Point{0, 0.05}, Start: start, HasStart: true, Route: route(3)},
	}
	p := NewReserver(ReserverConfig{})
	p.Plan(now, rs)
	p.Plan(now.Add(100*time.Millisecond), rs)
	if n, _ := p.Released("a"); n != 1 {
		t.Fatalf("a held for a robot whose pose estimate, not its start, is on a's leg")
	}
	// Without the start, the estimate is all there is: a must wait.
	rs[1].HasStart = false
	p = NewReserver(ReserverConfig{})
	p.Plan(now, rs[:1:1])
	q := NewReserver(ReserverConfig{})
	q.Plan(now, rs)
	q.Plan(now.Add(100*time.Millisecond), rs)
	if n, _ := q.Released("a"); n != 0 {
		if m, _ := q.Released("c"); m == 0 {
			t.Fatalf("a released through a robot that says it stands on its leg")
		}
	}
}

// drive runs the reservation planner over a fleet that jumps along its
// reserved legs (each leg takes legCalls Plan calls), and returns whether
// every route finished within maxCalls.
func drive(t *testing.T, p *Reserver, rs []Robot, legCalls, maxCalls int) bool {
	t.Helper()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	type leg struct {
		from, to Point
		done     int
	}
	legs := map[string]*leg{}
	for call := 0; call < maxCalls; call++ {
		p.Plan(now.Add(time.Duration(call)*100*time.Millisecond), rs)
		all := true
		for i := range rs {
			r := &rs[i]
			if r.Step >= len(r.Route) {
				r.Done = true
				continue
			}
			all = false
			l := legs[r.ID]
			if n, _ := p.Released(r.ID); l == nil && n > r.Step {
				l = &leg{from: r.Pos, to: p.robots[r.ID].leg.B}
				legs[r.ID] = l
			}
			if l == nil || p.robots[r.ID].atGate != nil {
				continue // standing, or held at a crossing gate
			}
			l.done++
			r.Pos = lerp(l.from, l.to, math.Min(1, float64(l.done)/float64(legCalls)))
			if l.done >= legCalls {
				r.Step++
				delete(legs, r.ID)
			}
		}
		// Moving legs and standing robots never come within a diameter.
		for i := range rs {
			for j := i + 1; j < len(rs); j++ {
				if d := rs[i].Pos.dist(rs[j].Pos); d < 0.18 {
					t.Fatalf("call %d: %s and %s %.2f m apart", call, rs[i].ID, rs[j].ID, d)
				}
			}
		}
		if all {
			return true
		}
	}
	return false
}

func TestReserverFinishesWhereOneAtATimeCannot(t *testing.T) {
	// a stands at marker 0 and must visit 6 (where b stands), 9, then 3; b
	// must visit 9, then 0. After any first leg, neither robot could run
	// its whole route while the other stands still (b at 9 is in a's way,
	// a at 0 in b's), so a check that finishes robots one at a time refuses
	// everything. Leg by leg it works: b to 9, a to 6, b to 0, a to 9 and 3.
	// a came to 0 from 9's side and b to 6 from 0, so their visits end
	// where the other stands.
	a0 := stopPoint(marker(9).scale(0.7), marker(0), stopShort)
	b0 := stopPoint(a0, marker(6), stopShort)
	rs := []Robot{
		{ID: "a", Online: true, Pos: a0, Start: a0, HasStart: true, Route: route(6, 9, 3)},
		{ID: "b", Online: true, Pos: b0, Start: b0, HasStart: true, Route: route(9, 0)},
	}
	p := NewReserver(ReserverConfig{StallAfter: time.Hour})
	for _, first := range []string{"a", "b"} {
		var r *Robot
		for i := range rs {
			if rs[i].ID == first {
				r = &rs[i]
			}
		}
		s := p.safetyState(r, []*Robot{&rs[0], &rs[1]}, p.cfg.SafetySlackM)
		if (len(s.stops[0]) > 0 && s.canFinish(0)) || (len(s.stops[1]) > 0 && s.canFinish(1)) {
			t.Fatalf("test set-up: after %s's first leg one robot can finish alone", first)
		}
	}
	mustFinish(t, p, rs, 400)
}

func TestReserverRefusesADeadSwap(t *testing.T) {
	// a at 0 must visit 6, where b stands; b must visit 0, where a stands:
	// a true swap. Nobody gets a leg (and, with the stall fallback off,
	// nobody ever does): going would put them nose to nose.
	a0 := stopPoint(Point{}, marker(0), stopShort)
	b0 := stopPoint(Point{}, marker(6), stopShort)
	rs := []Robot{
		{ID: "a", Online: true, Pos: a0, Start: a0, HasStart: true, Route: route(6, 3)},
		{ID: "b", Online: true, Pos: b0, Start: b0, HasStart: true, Route: route(0, 9)},
	}
	p := NewReserver(ReserverConfig{StallAfter: time.Hour})
	if drive(t, p, rs, 10, 100) {
		t.Fatalf("a swap with no room finished: %+v", rs)
	}
	na, _ := p.Released("a")
	nb, _ := p.Released("b")
	if na != 0 || nb != 0 {
		t.Fatalf("released a=%d b=%d into a swap", na, nb)
	}
}

// mustFinish drives the fleet to the end of every route, by the deadlock
// check and not by the stall fallback.
func mustFinish(t *testing.T, p *Reserver, rs []Robot, maxCalls int) {
	t.Helper()
	if !drive(t, p, rs, 10, maxCalls) {
		t.Fatalf("not finished: %+v", rs)
	}
	if st := p.Stats(); st.Stalls != 0 {
		t.Fatalf("finished through %d stall fallbacks, not by the deadlock check", st.Stalls)
	}
}

// stopShort is the planner's default stop distance.
var stopShort = ReserverConfig{}.withDefaults().StopShortM

func TestReserverThreeRobotCycle(t *testing.T) {
	// Each robot must end where the next one stands: a at 0 -> 2 -> 4, b at
	// 4 -> 6 -> 8, c at 8 -> 10 -> 0. Going straight at its final goal,
	// each would wait for the next: a cycle. The planner orders them.
	s0 := stopPoint(Point{}, marker(0), stopShort)
	s4 := stopPoint(Point{}, marker(4), stopShort)
	s8 := stopPoint(Point{}, marker(8), stopShort)
	rs := []Robot{
		{ID: "a", Online: true, Pos: s0, Start: s0, HasStart: true, Route: route(2, 4)},
		{ID: "b", Online: true, Pos: s4, Start: s4, HasStart: true, Route: route(6, 8)},
		{ID: "c", Online: true, Pos: s8, Start: s8, HasStart: true, Route: route(10, 0)},
	}
	p := NewReserver(ReserverConfig{StallAfter: time.Hour})
	mustFinish(t, p, rs, 600)
}

func TestReserverFinalGoalOnAnotherPath(t *testing.T) {
	// a, first by priority, stands at marker 2's stop point and parks next
	// at the centre; b stands in front of marker 0 and must cross the
	// arena to 6, through the centre. a's last leg is free now, but once a
	// parks b can never pass: the deadlock check holds a until b is by.
	s2 := stopPoint(Point{}, marker(2), stopShort)
	rs := []Robot{
		{ID: "a", Online: true, Pos: s2, Start: s2, HasStart: true, Route: route(9), Park: Point{0, 0}, HasPark: true},
		{ID: "b", Online: true, Pos: home(0), Start: home(0), HasStart: true, Route: route(6, 2)},
	}
	p := NewReserver(ReserverConfig{StallAfter: time.Hour})
	p.Plan(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), rs)
	na, _ := p.Released("a")
	nb, _ := p.Released("b")
	if na != 0 || nb != 1 {
		t.Fatalf("released a=%d b=%d: a would park on b's way before b passed", na, nb)
	}
	mustFinish(t, p, rs, 600)
	if rs[0].Pos.dist(Point{}) > 1e-9 {
		t.Fatalf("a ended at %v, not its park spot", rs[0].Pos)
	}
}

func TestReserverGateHoldsAtTheCrossing(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tick := func() time.Time { now = now.Add(100 * time.Millisecond); return now }
	// a: 0 -> 6 goes first; b: 3 -> 9 crosses a's leg at the centre, 1.1 m
	// ahead of it: b may start at once, and is held at its gate until a
	// has passed.
	rs := []Robot{
		{ID: "a", Online: true, Pos: home(0), Route: route(6, 0)},
		{ID: "b", Online: true, Pos: home(3), Route: route(9, 3)},
	}
	p := NewReserver(ReserverConfig{})
	p.Plan(tick(), rs)
	p.Plan(tick(), rs)
	na, _ := p.Released("a")
	nb, _ := p.Released("b")
	if na != 1 || nb != 1 {
		t.Fatalf("released a=%d b=%d: b should start towards its gate", na, nb)
	}
	gate := p.robots["b"].leg.gate
	if !(gate > 0.3 && gate < 1.1) {
		t.Fatalf("b's gate %.2f m along its leg, want before the centre (1.1 m)", gate)
	}
	bFrom, bTo := rs[1].Pos, p.robots["b"].leg.B
	aFrom, aTo := rs[0].Pos, p.robots["a"].leg.B
	// b reaches its gate while a is short of the crossing: b is held.
	rs[1].Pos = lerp(bFrom, bTo, (gate+0.01)/bFrom.dist(bTo))
	rs[0].Pos = lerp(aFrom, aTo, 0.3)
	orders := p.Plan(tick(), rs)
	if len(orders) != 1 || orders[0].Robot != "b" || !orders[0].Hold || orders[0].With != "a" {
		t.Fatalf("orders %+v, want b held for a", orders)
	}
	// b's body is clear of a's whole remaining leg while it waits.
	if d := pointSegDist(rs[1].Pos, rs[0].Pos, aTo); d < 0.30+0.15 {
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
	// Where a will stand at the end of its leg must be clear of the gated
	// way: a stops at (0, -0.9), right on c's way along y = -0.9, which
	// crosses a's leg 0.7 m ahead of c (room for a gate). c must wait.
	rs2 := []Robot{
		{ID: "a", Online: true, Pos: Point{0, 1}, Route: []Point{{0, -1.5}, {1.5, 1}}, Park: Point{1.2, 0.9}, HasPark: true},
		{ID: "c", Online: true, Pos: Point{-1, -0.9}, Route: []Point{{1.5, -0.9}}, Park: Point{1, -0.9}, HasPark: true},
	}
	p = NewReserver(ReserverConfig{})
	p.Plan(tick(), rs2)
	p.Plan(tick(), rs2)
	na, _ = p.Released("a")
	nc, _ := p.Released("c")
	if na != 1 || nc != 0 {
		t.Fatalf("released a=%d c=%d: c's gate would wait for a standing robot", na, nc)
	}
}
