package traffic

import (
	"math"
	"testing"
	"time"
)

func at(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }

// mover is a robot at pos driving to the marker to.
func mover(id string, pos, to Point) Robot {
	return Robot{ID: id, Online: true, Pos: pos, From: pos, To: to, HasTarget: true,
		RemainingM: to.dist(pos), SpeedMps: cruiseMps}
}

// parker drives from pos to park for good at spot.
func parker(id string, pos, spot Point) Robot {
	to := spot.add(unit(spot.sub(pos)).scale(DefaultConfig().StopShortM))
	r := mover(id, pos, to)
	r.Final = true
	return r
}

func holdsOf(orders []Order) map[string]Order {
	m := map[string]Order{}
	for _, o := range orders {
		if o.Hold {
			m[o.Robot] = o
		}
	}
	return m
}

func TestPlanScenarios(t *testing.T) {
	cases := []struct {
		name string
		in   []Robot
		// held: robots that must be held on the first call; free: must not be.
		held, free []string
		blocked    []string // holds that must say Blocked
	}{
		{
			name: "crossing at right angles: the later one waits",
			in: []Robot{
				mover("a", Point{-0.6, 0}, Point{1.5, 0}),
				mover("b", Point{0, -0.5}, Point{0, 1.5}),
			},
			held: []string{"b"}, free: []string{"a"},
		},
		{
			name: "far apart: no holds",
			in: []Robot{
				mover("a", Point{-1, 0.8}, Point{1, 0.8}),
				mover("b", Point{-1, -0.8}, Point{1, -0.8}),
			},
			free: []string{"a", "b"},
		},
		{
			name: "paths cross but the time windows do not overlap: no holds",
			in: []Robot{
				mover("a", Point{-0.1, 0}, Point{1.5, 0}),    // past the crossing in well under a second
				mover("b", Point{-0.6, -1.2}, Point{0, 1.5}), // reaches the crossing in about 6 s
			},
			free: []string{"a", "b"},
		},
		{
			name: "three robots in a cycle: exactly the lowest-priority ones wait, one goes",
			in: []Robot{
				mover("a", Point{-0.45, -0.26}, Point{1.3, 0.75}),
				mover("b", Point{0.45, -0.26}, Point{-1.3, 0.75}),
				mover("c", Point{0, 0.52}, Point{0, -1.5}),
			},
			free: []string{"a"}, held: []string{"b", "c"},
		},
		{
			name: "offline robot in the crossing: others must not drive into it",
			in: []Robot{
				{ID: "dead", Online: false, Pos: Point{0, 0}, HasTarget: true, From: Point{-1, 0}, To: Point{1.5, 0}, RemainingM: 1.5},
				mover("b", Point{0, -0.6}, Point{0, 1.5}),
				mover("c", Point{-1.0, -0.6}, Point{-1.3, 0.75}),
			},
			held: []string{"b"}, free: []string{"c"}, blocked: []string{"b"},
		},
		{
			name: "final goal on another's path: the parker waits until it has passed",
			in: []Robot{
				parker("p", Point{0.6, -0.8}, Point{0, 0.1}),
				mover("q", Point{-1.1, 0}, Point{1.5, 0}),
			},
			held: []string{"p"}, free: []string{"q"},
		},
		{
			name: "idle robot on the path: held, flagged as needing a detour",
			in: []Robot{
				{ID: "idle", Online: true, Pos: Point{0.3, 0}},
				mover("a", Point{-0.2, 0}, Point{1.5, 0}),
			},
			held: []string{"a"}, blocked: []string{"a"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := New(DefaultConfig())
			got := holdsOf(p.Plan(at(0), tc.in))
			for _, id := range tc.held {
				if _, ok := got[id]; !ok {
					t.Errorf("%s not held; holds %+v", id, got)
				}
			}
			for _, id := range tc.free {
				if o, ok := got[id]; ok {
					t.Errorf("%s held: %+v", id, o)
				}
			}
			for _, id := range tc.blocked {
				if !got[id].Blocked {
					t.Errorf("%s hold not flagged Blocked: %+v", id, got[id])
				}
			}
			// Never a circular wait: every holder waits for a robot that is not
			// waiting for it, directly or through others.
			for id := range got {
				seen := map[string]bool{}
				for cur := id; cur != ""; cur = got[cur].With {
					if seen[cur] {
						t.Fatalf("circular wait through %s: %+v", cur, got)
					}
					seen[cur] = true
				}
			}
			if len(got) != len(p.Holds()) {
				t.Errorf("Holds() has %d, orders %d", len(p.Holds()), len(got))
			}
		})
	}
}

// TestScenarioSims drives the scenarios to the end in the kinematic world.
func TestScenarioSims(t *testing.T) {
	cfg := DefaultConfig()
	cfg.PeriodS = simDtS
	cases := []struct {
		name      string
		specs     []simSpec
		events    []simEvent
		mustEnd   []string // must finish
		mustStuck []string // must not finish (blocked by an offline robot)
	}{
		{name: "crossing", specs: []simSpec{
			{id: "a", start: startAt(6), route: []Point{markerAt(0)}},
			{id: "b", start: startAt(9), route: []Point{markerAt(3)}},
		}, mustEnd: []string{"a", "b"}},
		{name: "three in a cycle", specs: []simSpec{
			{id: "a", start: startAt(7), route: []Point{markerAt(1)}},
			{id: "b", start: startAt(11), route: []Point{markerAt(5)}},
			{id: "c", start: startAt(3), route: []Point{markerAt(9)}},
		}, mustEnd: []string{"a", "b", "c"}},
		{name: "final goal on another's path", specs: []simSpec{
			{id: "p", start: startAt(9), route: []Point{markerAt(4), markerAt(2)}},
			{id: "q", start: startAt(5), route: []Point{markerAt(11)}},
		}, mustEnd: []string{"p", "q"}},
		{name: "offline inside the conflict zone", specs: []simSpec{
			{id: "a", start: startAt(6), route: []Point{markerAt(0)}},
			{id: "b", start: startAt(9), route: []Point{markerAt(3)}},
			{id: "c", start: startAt(1), route: []Point{markerAt(2)}},
		}, events: []simEvent{{atS: 6.1, robot: "a", online: false}},
			mustEnd: []string{"c"}, mustStuck: []string{"a", "b"}},
		{name: "offline robot comes back", specs: []simSpec{
			{id: "a", start: startAt(6), route: []Point{markerAt(0)}},
			{id: "b", start: startAt(9), route: []Point{markerAt(3)}},
		}, events: []simEvent{{atS: 6.1, robot: "a", online: false}, {atS: 30, robot: "a", online: true}},
			mustEnd: []string{"a", "b"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := runSim(cfg, tc.specs, tc.events, true, 120)
			if res.collisions > 0 {
				t.Errorf("%d collisions, min gap %.3f m", res.collisions, res.minGapM)
			}
			stuck := map[string]bool{}
			for _, id := range res.unfinished {
				stuck[id] = true
			}
			for _, id := range tc.mustEnd {
				if stuck[id] {
					t.Errorf("%s did not finish; holds %+v", id, res.planner.Holds())
				}
			}
			for _, id := range tc.mustStuck {
				if !stuck[id] {
					t.Errorf("%s finished, but it had to stay behind the offline robot", id)
				}
			}
			if res.minGapM < cfg.RobotDiameterM {
				t.Errorf("min gap %.3f m below a diameter", res.minGapM)
			}
		})
	}
}

func TestReleasesOneAtATime(t *testing.T) {
	// Three robots wait at the same crossing for a robot that passes; when it
	// has gone they are released one per Plan call, never all at once.
	p := New(DefaultConfig())
	a := mover("a", Point{-0.8, 0}, Point{1.5, 0})
	ws := []Robot{
		mover("w1", Point{-0.4, -0.6}, Point{-0.4, 1.4}),
		mover("w2", Point{0, -0.6}, Point{0, 1.5}),
		mover("w3", Point{0.4, -0.6}, Point{0.4, 1.4}),
	}
	held := holdsOf(p.Plan(at(0), append([]Robot{a}, ws...)))
	if len(held) != 3 {
		t.Fatalf("want three waiting, got %+v", held)
	}
	a.Pos, a.RemainingM = Point{1.15, 0}, 0.35 // gone: arrived
	for k := range ws {
		ws[k].Holding = true
	}
	var releases []int
	for call := 1; call <= 10 && len(p.Holds()) > 0; call++ {
		n := 0
		for _, o := range p.Plan(at(10+float64(call)*0.1), append([]Robot{a}, ws...)) {
			if !o.Hold {
				n++
			}
		}
		releases = append(releases, n)
	}
	for i, n := range releases {
		if n > 1 {
			t.Errorf("call %d released %d robots at once (releases per call %v)", i+1, n, releases)
		}
	}
	if len(p.Finished()) != 3 {
		t.Errorf("not all holds finished: releases per call %v, holds %+v", releases, p.Holds())
	}
	for _, r := range p.Finished() {
		if !r.End.After(r.Start) {
			t.Errorf("hold record %+v has no duration", r)
		}
	}
}

func TestHeadOn(t *testing.T) {
	p := New(DefaultConfig())
	p.Plan(at(0), []Robot{mover("old", Point{-1, 0}, Point{1.5, 0})})
	p.Plan(at(5), []Robot{mover("old", Point{-0.5, 0}, Point{1.5, 0}), mover("new", Point{1, 0}, Point{-1.5, 0})})
	cases := []struct {
		a, b          string
		backOff, wait string
	}{
		{"old", "new", "new", "old"},
		{"new", "old", "new", "old"},
		{"x", "y", "y", "x"}, // unknown to the planner: by id
		{"y", "x", "y", "x"},
		{"same", "same", "", ""},
		{"", "x", "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.a+"/"+tc.b, func(t *testing.T) {
			back, wait := p.HeadOn(at(6), tc.a, tc.b)
			if back != tc.backOff || wait != tc.wait {
				t.Errorf("HeadOn(%s,%s) = (%s,%s), want (%s,%s)", tc.a, tc.b, back, wait, tc.backOff, tc.wait)
			}
			if back != "" && back == wait {
				t.Errorf("both told %s", back)
			}
		})
	}
	if p.Stats().Rejected != 2 {
		t.Errorf("rejected %d, want 2", p.Stats().Rejected)
	}
}

func TestBadInput(t *testing.T) {
	p := New(Config{})
	orders := p.Plan(at(0), []Robot{
		{ID: ""},
		mover("a", Point{math.NaN(), 0}, Point{1, 0}),
		mover("b", Point{0, 0}, Point{1, 0}),
		mover("b", Point{0, 0}, Point{1, 0}),
	})
	if len(orders) != 0 {
		t.Errorf("orders %+v", orders)
	}
	if got := p.Stats().Rejected; got != 3 {
		t.Errorf("rejected %d, want 3 (%s)", got, p.Stats().LastError)
	}
}

func TestCapsuleInterval(t *testing.T) {
	cases := []struct {
		name   string
		p, u   Point
		L      float64
		a, b   Point
		r      float64
		lo, hi float64
		ok     bool
	}{
		{"crosses a segment", Point{-1, 0}, Point{1, 0}, 2, Point{0, -1}, Point{0, 1}, 0.3, 0.7, 1.3, true},
		{"passes a disc", Point{-1, 0.1}, Point{1, 0}, 2, Point{0, 0}, Point{0, 0}, 0.3, 1 - math.Sqrt(0.08), 1 + math.Sqrt(0.08), true},
		{"misses", Point{-1, 1}, Point{1, 0}, 2, Point{0, 0}, Point{0, 0.5}, 0.3, 0, 0, false},
		{"stops short", Point{-1, 0}, Point{1, 0}, 0.5, Point{0, -1}, Point{0, 1}, 0.3, 0, 0, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			lo, hi, ok := capsuleInterval(tc.p, tc.u, tc.L, tc.a, tc.b, tc.r)
			if ok != tc.ok || (ok && (math.Abs(lo-tc.lo) > 1e-9 || math.Abs(hi-tc.hi) > 1e-9)) {
				t.Errorf("got %v %.4f %.4f, want %v %.4f %.4f", ok, lo, hi, tc.ok, tc.lo, tc.hi)
			}
		})
	}
}
