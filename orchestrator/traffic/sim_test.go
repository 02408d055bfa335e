package traffic

import (
	"fmt"
	"math"
	"math/rand"
	"os"
	"testing"
	"time"
)

// A small kinematic world for the planner: robots are discs driving straight
// at their next marker at cruise speed, with a command latency, bounded
// acceleration and braking, stopping StopShortM short of each marker. It is
// the precursor of the campaign with the real pilot and simulator.

const (
	arenaRadiusM = 1.5
	markerCount  = 12
	simDtS       = 0.05
	cruiseMps    = 0.2
	accelMps2    = 0.5
)

// simTrace and simPos, when set, see every order and every tick: for
// debugging one seed by hand.
var simTrace func(ts float64, o Order)

var simPos func(ts float64, in []Robot)

var simLookahead = true

var simN, simNSpan = 2, 3

var t0 = time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)

func markerAt(k int) Point {
	a := 2 * math.Pi * float64(k) / markerCount
	return Point{arenaRadiusM * math.Cos(a), arenaRadiusM * math.Sin(a)}
}

// startAt is where a robot waits in front of marker k.
func startAt(k int) Point { return markerAt(k).scale((arenaRadiusM - 0.35) / arenaRadiusM) }

type simSpec struct {
	id    string
	start Point
	route []Point // markers, the last one the final goal
}

type simEvent struct {
	atS    float64
	robot  string
	online bool
}

type simRobot struct {
	simSpec
	pos, from Point
	idx       int
	v         float64
	held      bool // in effect on the robot
	online    bool
	done      bool
	doneS     float64
	pending   []simCmd
	backLeft  float64
}

type simCmd struct {
	atS   float64
	hold  bool
	backM float64
}

type simResult struct {
	collisions int
	minGapM    float64
	makespanS  float64
	unfinished []string
	planner    *Planner
	soloMaxS   float64
}

// soloTimeS is how long the route takes alone.
func soloTimeS(s simSpec, stopShort float64) float64 {
	t, p := 0.0, s.start
	for _, m := range s.route {
		d := m.dist(p) - stopShort
		t += d/cruiseMps + cruiseMps/accelMps2 // accelerate and brake once per leg
		p = m.sub(unit(m.sub(p)).scale(stopShort))
	}
	return t
}

func runSim(cfg Config, specs []simSpec, events []simEvent, plan bool, limitS float64) simResult {
	cfg = cfg.withDefaults()
	pl := New(cfg)
	rs := make([]*simRobot, len(specs))
	res := simResult{minGapM: math.Inf(1), planner: pl}
	for i, s := range specs {
		rs[i] = &simRobot{simSpec: s, pos: s.start, from: s.start, online: true}
		res.soloMaxS = math.Max(res.soloMaxS, soloTimeS(s, cfg.StopShortM))
	}
	touching := map[[2]int]bool{}
	in := make([]Robot, len(rs))
	steps := int(limitS / simDtS)
	for k := 0; k <= steps; k++ {
		t := float64(k) * simDtS
		now := t0.Add(time.Duration(t * float64(time.Second)))
		for _, e := range events {
			if math.Abs(e.atS-t) < simDtS/2 {
				for _, r := range rs {
					if r.id == e.robot {
						r.online = e.online
					}
				}
			}
		}
		allDone := true
		for i, r := range rs {
			if !r.done {
				allDone = false
			}
			in[i] = Robot{ID: r.id, Online: r.online, Pos: r.pos, Holding: r.held, SpeedMps: cruiseMps}
			if !r.done {
				to := r.route[r.idx]
				in[i].From, in[i].To, in[i].HasTarget = r.from, to, true
				in[i].RemainingM = to.dist(r.pos)
				in[i].Final = r.idx == len(r.route)-1
				if !in[i].Final && simLookahead {
					in[i].Next, in[i].HasNext = r.route[r.idx+1], true
				}
			}
		}
		if allDone {
			res.makespanS = t
			break
		}
		if simPos != nil {
			simPos(t, in)
		}
		if plan {
			for _, o := range pl.Plan(now, in) {
				if simTrace != nil {
					simTrace(t, o)
				}
				for _, r := range rs {
					if r.id == o.Robot {
						r.pending = append(r.pending, simCmd{atS: t + cfg.LatencyS, hold: o.Hold, backM: o.BackoffM})
					}
				}
			}
		}
		for _, r := range rs {
			for len(r.pending) > 0 && r.pending[0].atS <= t+1e-9 {
				r.held = r.pending[0].hold
				r.backLeft = r.pending[0].backM
				r.pending = r.pending[1:]
			}
			if r.done || !r.online {
				r.v = 0
				continue
			}
			to := r.route[r.idx]
			if r.backLeft > 0 {
				r.v = 0
				step := math.Min(cruiseMps*simDtS, r.backLeft)
				r.backLeft -= step
				r.pos = r.pos.sub(unit(to.sub(r.pos)).scale(step))
				continue
			}
			left := to.dist(r.pos) - cfg.StopShortM
			if left <= 1e-3 {
				r.from = to
				r.v = 0
				if r.idx == len(r.route)-1 {
					r.done, r.doneS = true, t
				} else {
					r.idx++
				}
				continue
			}
			want := cruiseMps
			if r.held {
				want = 0
			}
			want = math.Min(want, math.Sqrt(2*accelMps2*left)) // brake for the stop point
			switch {
			case r.v < want:
				r.v = math.Min(want, r.v+accelMps2*simDtS)
			case r.v > want:
				r.v = math.Max(want, r.v-cfg.DecelMps2*simDtS)
			}
			step := math.Min(r.v*simDtS, left)
			r.pos = r.pos.add(unit(to.sub(r.pos)).scale(step))
		}
		for i := range rs {
			for j := i + 1; j < len(rs); j++ {
				d := rs[i].pos.dist(rs[j].pos)
				res.minGapM = math.Min(res.minGapM, d)
				key := [2]int{i, j}
				if d < cfg.RobotDiameterM {
					if !touching[key] {
						res.collisions++
					}
					touching[key] = true
				} else {
					touching[key] = false
				}
			}
		}
	}
	for _, r := range rs {
		if !r.done {
			res.unfinished = append(res.unfinished, r.id)
		}
	}
	if len(res.unfinished) > 0 {
		res.makespanS = math.Inf(1)
	}
	return res
}

// randomFleet draws n robots at distinct markers, with distinct final goals
// that nobody else drives to (a parked robot there could never be passed),
// and routes of 3..maxLen markers. No two robots drive the same chord, in
// either direction: two robots swapping ends of one chord can only pass by
// a detour, which holds cannot provide (the planner flags it as Blocked).
func randomFleet(rng *rand.Rand, n, maxLen int) []simSpec {
	for {
		specs := drawFleet(rng, n, maxLen)
		if specs != nil && wellFormed(specs, DefaultConfig()) {
			return specs
		}
	}
}

// legs returns the straight drives of a route: from its start to the stop
// point in front of each marker.
func legs(s simSpec, stopShort float64) [][2]Point {
	var out [][2]Point
	p := s.start
	for _, m := range s.route {
		e := m.sub(unit(m.sub(p)).scale(stopShort))
		out = append(out, [2]Point{p, e})
		p = e
	}
	return out
}

// wellFormed reports whether no robot's drive passes another robot's final
// parking spot or its starting spot: a robot parked there could never be
// passed by holds alone, and two robots starting on each other's drives can
// only part by a detour. Note that in a 3 m arena a drive between markers up
// to 90° apart passes within a few cm of every stop point in between.
func wellFormed(specs []simSpec, cfg Config) bool {
	c := cfg.RobotDiameterM + cfg.MarginM + 0.02
	for i, a := range specs {
		la := legs(a, cfg.StopShortM)
		park := la[len(la)-1][1]
		for j, b := range specs {
			if i == j {
				continue
			}
			for _, l := range legs(b, cfg.StopShortM) {
				if segSegDist(l[0], l[1], park, park) < c || segSegDist(l[0], l[1], a.start, a.start) < c {
					return false
				}
			}
		}
	}
	return true
}

func drawFleet(rng *rand.Rand, n, maxLen int) []simSpec {
	cfg := DefaultConfig()
	perm := rng.Perm(markerCount)
	starts := perm[:n]
	finals := append([]int(nil), rng.Perm(markerCount)[:n]...)
	for i := range finals { // nobody finishes where it starts
		if finals[i] == starts[i] {
			j := (i + 1) % n
			finals[i], finals[j] = finals[j], finals[i]
		}
	}
	isFinal := map[int]bool{}
	for _, f := range finals {
		isFinal[f] = true
	}
	// clearOf: a drive from p to marker m keeps away from the other robots'
	// start and final spots.
	clearOf := func(i int, p Point, m int) bool {
		e := markerAt(m).sub(unit(markerAt(m).sub(p)).scale(cfg.StopShortM))
		for j := 0; j < n; j++ {
			if j == i {
				continue
			}
			for _, q := range []Point{startAt(starts[j]), startAt(finals[j])} {
				if segSegDist(p, e, q, q) < cfg.RobotDiameterM+cfg.MarginM+0.15 {
					return false
				}
			}
		}
		return true
	}
	specs := make([]simSpec, n)
	for i := 0; i < n; i++ {
		length := 3 + rng.Intn(maxLen-2)
		var ms []int
		for attempt := 0; ; attempt++ {
			if attempt > 50 {
				return nil
			}
			ms = ms[:0]
			cur, p := starts[i], startAt(starts[i])
			for tries := 0; len(ms) < length && tries < 100; tries++ {
				m := rng.Intn(markerCount)
				if len(ms) == length-1 {
					m = finals[i]
				}
				if m == cur || (len(ms) < length-1 && isFinal[m]) || !clearOf(i, p, m) {
					continue
				}
				ms = append(ms, m)
				p = markerAt(m).sub(unit(markerAt(m).sub(p)).scale(cfg.StopShortM))
				cur = m
			}
			if len(ms) == length {
				break
			}
		}
		route := make([]Point, len(ms))
		for k, m := range ms {
			route[k] = markerAt(m)
		}
		specs[i] = simSpec{id: fmt.Sprintf("r%02d", i), start: startAt(starts[i]), route: route}
	}
	return specs
}

// TestSimCampaign drives random fleets with the planner every 50 ms. It
// asserts zero collisions with the planner on and some with it off. Every
// robot finishing (no deadlock) is asserted only with TRAFFIC_LIVENESS=1:
// it does not hold yet (see the package doc), so it is measured and logged.
// 40 seeds by default; TRAFFIC_CAMPAIGN=1 runs 200.
func TestSimCampaign(t *testing.T) {
	seeds := 40
	if os.Getenv("TRAFFIC_CAMPAIGN") != "" {
		seeds = 200
	}
	cfg := DefaultConfig()
	cfg.PeriodS = simDtS
	cfg.LegAging = false
	type row struct {
		name       string
		plan       bool
		collisions int
		stuck      int
		ratioSum   float64
		finished   int
		worstRatio float64
	}
	rows := []*row{{name: "planner on", plan: true}, {name: "planner off", plan: false}}
	var lates, blocked, holds int
	for _, rw := range rows {
		for seed := 1; seed <= seeds; seed++ {
			rng := rand.New(rand.NewSource(int64(seed)))
			specs := randomFleet(rng, simN+rng.Intn(simNSpan), 6)
			solo := 0.0
			for _, s := range specs {
				solo += soloTimeS(s, cfg.StopShortM)
			}
			limit := solo + 60 // as if every robot ran alone, one after the other
			res := runSim(cfg, specs, nil, rw.plan, limit)
			rw.collisions += res.collisions
			if len(res.unfinished) > 0 {
				rw.stuck++
				if rw.plan && os.Getenv("TRAFFIC_LIVENESS") != "" {
					t.Errorf("seed %d: %v unfinished after %.0f s (holds %v)", seed, res.unfinished, limit, res.planner.Holds())
				}
				if rw.plan && res.collisions > 0 {
					t.Errorf("seed %d: %d collisions with the planner on (min gap %.3f m)", seed, res.collisions, res.minGapM)
				}
				continue
			}
			rw.finished++
			ratio := res.makespanS / res.soloMaxS
			rw.ratioSum += ratio
			rw.worstRatio = math.Max(rw.worstRatio, ratio)
			if rw.plan {
				st := res.planner.Stats()
				lates, blocked, holds = lates+st.Late, blocked+st.Blocked, holds+st.Holds
				if res.collisions > 0 {
					t.Errorf("seed %d: %d collisions with the planner on (min gap %.3f m)", seed, res.collisions, res.minGapM)
				}
			}
		}
		t.Logf("%-11s seeds %d: collisions %d, unfinished %d, makespan/solo-max mean %.2f worst %.2f",
			rw.name, seeds, rw.collisions, rw.stuck, rw.ratioSum/math.Max(1, float64(rw.finished)), rw.worstRatio)
	}
	t.Logf("planner on: %d holds, %d late, %d blocked", holds, lates, blocked)
	if rows[1].collisions == 0 {
		t.Errorf("with the planner off there were no collisions: the campaign cannot fail")
	}
}
