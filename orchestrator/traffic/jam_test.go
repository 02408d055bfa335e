package traffic

import (
	"math"
	"slices"
	"testing"
	"time"
)

// jamFleet is a jam six robots on crossing routes came to (positions,
// headings and legs as the planner saw them): r3, on the highest leg, took
// its first leg from a pose that erred and stopped for r1, which stands
// near its way, held at its gate; r1 waits for r2, r2 stands in the way of
// r5 and r6, r4 stands near r2's way, and r3, held by the head-on, backed
// off towards the wall. Every robot on a leg stands, held; r5 is done.
func jamFleet(t *testing.T) (*Reserver, []Robot) {
	t.Helper()
	p := NewReserver(ReserverConfig{})
	type leg struct {
		id       string
		pos      Point
		heading  float64
		a, b     Point
		atGate   bool
		stands   bool
		goalMark int
	}
	legs := []leg{
		{"r3", Point{0.34, 1.34}, -1.72, Point{-0.01, 1.19}, Point{0.03, -0.90}, false, true, 9},
		{"r5", Point{-0.48, 0.74}, 1.31, Point{-0.47, 0.76}, Point{0.99, -0.93}, true, false, 10},
		{"r2", Point{0.24, 0.37}, 3.10, Point{0.79, 0.34}, Point{-0.79, 0.43}, true, false, 11},
		{"r1", Point{0.42, 0.77}, 1.11, Point{0.43, 0.79}, Point{-0.43, -0.79}, true, false, 8},
		{"r4", Point{-0.34, 0.15}, 1.06, Point{-0.75, -0.46}, Point{0.31, 1.32}, true, false, 7},
		{"r6", Point{0.74, 0.45}, 0.87, Point{0.77, 0.48}, Point{-0.91, -0.03}, true, false, 6},
	}
	var rs []Robot
	for _, l := range legs {
		rs = append(rs, Robot{ID: l.id, Online: true, Pos: l.pos, Heading: l.heading, HasHeading: true,
			Stands: l.stands, Route: route(l.goalMark, (l.goalMark+5)%12), Step: 0})
	}
	p.ingest(t0, rs)
	for _, l := range legs {
		st := p.robots[l.id]
		st.leg = &resLeg{A: l.a, B: l.b, Step: 0, gate: math.Inf(1)}
		st.driven, st.released = true, 1
		if l.atGate {
			st.atGate = &Order{Robot: l.id, Hold: true}
		}
		p.ranked = append(p.ranked, l.id)
	}
	p.ingest(t0, rs)
	return p, rs
}

// planUntil calls Plan every 100 ms for d and returns every order.
func planUntil(p *Reserver, rs []Robot, from time.Time, d time.Duration) []Order {
	var all []Order
	for at := from; !at.After(from.Add(d)); at = at.Add(100 * time.Millisecond) {
		all = append(all, p.Plan(at, rs)...)
	}
	return all
}

func TestReserverBreaksAJamWithABackoff(t *testing.T) {
	p, rs := jamFleet(t)
	for _, o := range p.Plan(t0, rs) {
		if !o.Hold {
			t.Fatalf("test setup: the first Plan call released %s (%s): not a jam", o.Robot, o.Reason)
		}
	}
	if o := planUntil(p, rs, t0, p.cfg.StallAfter/2); len(o) != 0 {
		t.Fatalf("before StallAfter: %+v, want nothing", o)
	}
	var ask []Order
	for _, o := range planUntil(p, rs, t0.Add(p.cfg.StallAfter/2), p.cfg.StallAfter) {
		if o.BackoffM > 0 {
			ask = append(ask, o)
		}
	}
	if len(ask) != 1 || ask[0].Robot != "r4" || ask[0].With != "r2" {
		t.Fatalf("jam: asked %+v, want r4 to back off once, for r2 (the only back-off that opens a way)", ask)
	}
	if p.Stats().Jams != 1 {
		t.Fatalf("stats %+v, want one jam", p.Stats())
	}
	// The core settles it as a head-on: r4 backs off and stands, held; r2
	// waits, then is freed, and the core calls Yield(r4, r2).
	now := t0.Add(p.cfg.StallAfter*3/2 + 200*time.Millisecond)
	i4 := slices.IndexFunc(rs, func(r Robot) bool { return r.ID == "r4" })
	back := Point{math.Cos(rs[i4].Heading), math.Sin(rs[i4].Heading)}.scale(-p.cfg.BackoffM)
	rs[i4].Pos, rs[i4].Stands = rs[i4].Pos.add(back), true
	if got := p.Plan(now, rs); len(got) != 0 {
		t.Fatalf("while r4 backs off: %+v, want nothing (no leg reserved, nobody released)", got)
	}
	p.Yield(now, "r4", "r2")
	got := p.Plan(now.Add(100*time.Millisecond), rs)
	if p.ranked[0] != "r2" || !p.Yield(now, "r4", "r2") {
		t.Fatalf("after the back-off: ranks %v, want r2 first", p.ranked)
	}
	var released []string
	for _, o := range got {
		if !o.Hold {
			released = append(released, o.Robot)
		}
	}
	if !slices.Equal(released, []string{"r2"}) {
		t.Fatalf("after the back-off: released %v, want r2 only (every other robot stands, gated where it stands)", released)
	}
	if p.Stats().Unjams != 1 {
		t.Fatalf("stats %+v, want one jam ended", p.Stats())
	}
	// r2's way keeps clear of every robot that now stands.
	l := p.robots["r2"].leg
	for _, r := range rs {
		if r.ID != "r2" && !r.Done {
			if d := pointSegDist(r.Pos, rs[2].Pos, l.B); d < p.cfg.RobotDiameterM+p.cfg.CorridorMarginM {
				t.Errorf("r2's way passes %s at %.2f m", r.ID, d)
			}
		}
	}
}

func TestReserverNoJamWhileARobotDrives(t *testing.T) {
	p, rs := jamFleet(t)
	// r5 is free to go: its gate lies far ahead.
	p.ranked = append([]string{"r5"}, slices.DeleteFunc(p.ranked, func(id string) bool { return id == "r5" })...)
	for _, o := range planUntil(p, rs, t0, 3*p.cfg.StallAfter) {
		if o.BackoffM > 0 {
			t.Fatalf("asked %+v while r5 drives its leg", o)
		}
	}
}

func TestReserverJamBackoffKeepsClearOfRobotsBehind(t *testing.T) {
	p, rs := jamFleet(t)
	// A robot, done, stands just behind r4: r4 may not back off (another
	// robot may).
	i4 := slices.IndexFunc(rs, func(r Robot) bool { return r.ID == "r4" })
	behind := rs[i4].Pos.sub(Point{math.Cos(rs[i4].Heading), math.Sin(rs[i4].Heading)}.scale(0.30))
	rs = append(rs, Robot{ID: "r7", Online: true, Pos: behind, Done: true, Route: route(7), Step: 1})
	for _, o := range planUntil(p, rs, t0, 3*p.cfg.StallAfter) {
		if o.BackoffM > 0 && o.Robot == "r4" {
			t.Fatalf("asked %+v with r7 standing behind r4", o)
		}
	}
}

func TestReserverJamNeverAsksAnOfflineRobot(t *testing.T) {
	p, rs := jamFleet(t)
	i4 := slices.IndexFunc(rs, func(r Robot) bool { return r.ID == "r4" })
	rs[i4].Online = false // a back-off would wait in its session and drive blind when it is back
	for _, o := range planUntil(p, rs, t0, 3*p.cfg.StallAfter) {
		if o.BackoffM > 0 && o.Robot == "r4" {
			t.Fatalf("asked %+v of r4, offline", o)
		}
	}
}

// When no order lets every robot finish (a and b each stand on the other's
// park spot, and both go through marker 7 first), the fleet stalls, and a
// stall frees one leg, without the deadlock check, not every free leg.
func TestReserverStallFreesOneLeg(t *testing.T) {
	p := NewReserver(ReserverConfig{})
	rs := []Robot{
		{ID: "a", Online: true, Pos: parkSpot(1), Route: route(7, 0), Park: parkSpot(0), HasPark: true},
		{ID: "b", Online: true, Pos: parkSpot(0), Route: route(7, 1), Park: parkSpot(1), HasPark: true},
		{ID: "c", Online: true, Pos: spot(4), Route: route(4, 9), Step: 1, Park: parkSpot(9), HasPark: true},
		{ID: "d", Online: true, Pos: spot(5), Route: route(5, 10), Step: 1, Park: parkSpot(10), HasPark: true},
	}
	if p.Drivable(rs) {
		t.Fatal("test setup: the fleet is drivable")
	}
	p.Plan(t0, rs)
	if len(p.ranked) != 0 {
		t.Fatalf("legs %v reserved with no order that finishes every route", p.ranked)
	}
	p.Plan(t0.Add(p.cfg.StallAfter), rs)
	if len(p.ranked) != 1 || p.Stats().Stalls != 1 {
		t.Fatalf("after a stall: legs %v, stats %+v; want one leg", p.ranked, p.Stats())
	}
	p.Plan(t0.Add(p.cfg.StallAfter+100*time.Millisecond), rs)
	if len(p.ranked) != 1 {
		t.Fatalf("the call after a stall: legs %v; want the one leg only", p.ranked)
	}
}
