package campaign

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"time"

	"github.com/rs/zerolog"

	"collaborate/orchestrator/core"
	"collaborate/orchestrator/mapping"
	"collaborate/orchestrator/mission"
	"collaborate/orchestrator/store"
	"collaborate/orchestrator/traffic"
	"collaborate/robot/pilot"
	"collaborate/robot/sim"
	"collaborate/topics"
)

// parkGapM is how far in from the wall robots park beside their home marker
// (the planner's ParkWallGapM): they start there, and end there.
var _, parkGapM = traffic.NewReserver(traffic.ReserverConfig{}).StopDistances()

// Config is one run.
type Config struct {
	Seed     int64
	Robots   int  // 4..12 in the acceptance campaign
	RouteMin int  // markers per route, default 3
	RouteMax int  // default 8
	Traffic  bool // false: no traffic planner (the unsafe control case)
	// NoReflex turns the robots' local face reflex off too: with Traffic
	// false, nothing then keeps robots apart (the control case).
	NoReflex  bool
	Noiseless bool          // camera noise is on unless set
	Limit     time.Duration // sim time before a run counts as a deadlock, default 15 min
	// Routes overrides the random routes (robot index -> marker ids), and
	// Homes the markers the robots start in front of.
	Routes [][]int
	Homes  []int
}

// Result is the outcome of one run.
type Result struct {
	Seed       int64
	Robots     int
	Collisions int
	Contacts   []sim.Contact
	Finished   bool          // every mission done within Limit
	Makespan   time.Duration // start of missions -> last robot done (Limit when unfinished)
	LowerBound time.Duration // the longest route driven alone
	Holds      int
	// Moving and Waiting are how many robots, on average over the run,
	// drove a reserved leg and waited for one (traffic control on only).
	Moving, Waiting float64
	// ParkErrM is the largest distance, at the end of a finished run,
	// between where a robot truly stands and its park spot.
	ParkErrM float64
	Routes   [][]int
	Homes    []int
	Stuck    []string // robots not done at the end: state, target, holds
}

const (
	diameterM = 3.0
	markers   = 12
	tick      = 50 * time.Millisecond
	// minSep is the shortest leg, in marker steps around the ring: a third
	// of a turn. Shorter legs run close to the wall and pass too near the
	// robots standing in front of the markers in between.
	minSep = 4
)

func (c *Config) defaults() {
	if c.RouteMin == 0 {
		c.RouteMin = 3
	}
	if c.RouteMax == 0 {
		c.RouteMax = 8
	}
	if c.Limit == 0 {
		c.Limit = 15 * time.Minute
	}
}

// RandomRoutes draws n crossing routes over the 12 markers. Robot k has a
// home marker, spread around the ring; it starts parked there and its route
// ends there (its final goal). Its intermediate markers are any others,
// other robots' homes included: robots park closer to their marker
// (traffic.ReserverConfig.ParkShortM) than robots on their way stop
// (StopShortM), so a parked robot does not stand where visitors stop. Every
// leg spans at least a third of a turn of the arena, so legs cross its
// middle and keep clear of the stop points of the markers they pass.
func RandomRoutes(rng *rand.Rand, n, min, max int) (homes []int, routes [][]int) {
	offset := rng.IntN(markers)
	for k := 0; k < n; k++ {
		homes = append(homes, (offset+k*markers/n)%markers)
	}
	routes = make([][]int, n)
	for k := range routes {
		for attempt := 0; ; attempt++ {
			length := min + rng.IntN(max-min+1)
			route, ok := drawRoute(rng, homes[k], length)
			if ok {
				routes[k] = route
				break
			}
			if attempt > 200 {
				routes[k] = []int{homes[k]} // no crossing route from here: stay home
				break
			}
		}
	}
	return homes, routes
}

// ErrNoDrivableRoutes: no draw gave routes the robots could drive one at a
// time.
var ErrNoDrivableRoutes = errors.New("no drivable routes")

// DrivableRoutes draws random routes (RandomRoutes) until the robots,
// standing at their homes, could drive them one at a time without coming
// near each other (traffic.Reserver.Drivable): routes that no traffic
// control could serve are not a fair test of it. It is deterministic in seed.
func DrivableRoutes(seed int64, n, min, max int) ([]int, [][]int, error) {
	w, err := sim.New(sim.Config{DiameterM: diameterM, MarkerCount: markers})
	if err != nil {
		return nil, nil, err
	}
	rng := rand.New(rand.NewPCG(uint64(seed), 0x9e3779b97f4a7c15))
	fm := trueMap(w)
	for attempt := 0; attempt < 2000; attempt++ {
		homes, routes := RandomRoutes(rng, n, min, max)
		robots := make([]traffic.Robot, n)
		for k := range robots {
			px, py, _ := mapping.ParkSpot(fm.Markers, homes[k], parkGapM)
			park := traffic.Point{X: px, Y: py}
			robots[k] = traffic.Robot{ID: fmt.Sprintf("r%d", k+1), Online: true, Pos: park, Park: park, HasPark: true}
			for _, m := range routes[k] {
				x, y, _ := w.MarkerPos(m)
				robots[k].Route = append(robots[k].Route, traffic.Point{X: x, Y: y})
			}
		}
		if traffic.NewReserver(traffic.ReserverConfig{}).Drivable(robots) {
			return homes, routes, nil
		}
	}
	return nil, nil, fmt.Errorf("%w for %d robots in 2000 draws (seed %d)", ErrNoDrivableRoutes, n, seed)
}

// drawRoute draws a route of length markers ending at home, each leg
// spanning at least minSep marker steps; the first leg leaves, and the last
// reaches, the park spot beside home, half a step counter-clockwise of it.
func drawRoute(rng *rand.Rand, home int, length int) ([]int, bool) {
	route := make([]int, 0, length)
	prev := -1 // the park spot beside home
	far := func(a, b int) bool {
		if a < 0 || b < 0 {
			m := max(a, b)
			d := (m - home + markers) % markers // half a step from the spot: d-0.5 and 12-(d-0.5)
			return float64(d)-0.5 >= minSep && float64(markers-d)+0.5 >= minSep
		}
		return sep(a, b) >= minSep
	}
	for len(route) < length-1 {
		var cands []int
		for m := 0; m < markers; m++ {
			if m != home && far(m, prev) && (len(route) < length-2 || far(m, -1)) {
				cands = append(cands, m)
			}
		}
		if len(cands) == 0 {
			return nil, false
		}
		m := cands[rng.IntN(len(cands))]
		route = append(route, m)
		prev = m
	}
	if prev >= 0 && !far(prev, -1) {
		return nil, false
	}
	return append(route, home), true
}

// sep is the distance between two markers, in marker steps around the ring.
func sep(a, b int) int {
	d := (a - b + markers) % markers
	return min(d, markers-d)
}

// Run runs one seed with every robot, then each robot alone for the lower
// bound.
func Run(cfg Config) (Result, error) {
	cfg.defaults()
	if cfg.Routes == nil {
		var err error
		if cfg.Homes, cfg.Routes, err = DrivableRoutes(cfg.Seed, cfg.Robots, cfg.RouteMin, cfg.RouteMax); err != nil {
			return Result{Seed: cfg.Seed, Robots: cfg.Robots}, err
		}
	}
	cfg.Robots = len(cfg.Routes)
	res, err := run(cfg, nil)
	if err != nil {
		return res, err
	}
	for i := range cfg.Routes {
		alone, err := run(cfg, []int{i})
		if err != nil {
			return res, err
		}
		if !alone.Finished {
			return res, fmt.Errorf("seed %d: robot %d cannot finish its route even alone: %v", cfg.Seed, i, cfg.Routes[i])
		}
		res.LowerBound = max(res.LowerBound, alone.Makespan)
	}
	return res, nil
}

// PilotConfig is the pilot's configuration under traffic control: the
// local reflex looks closer ahead than by default, so that a robot passing
// beside another at the planner's clearance does not take it for an
// obstacle in its way.
func PilotConfig(id string, faces topics.FaceIDs) pilot.Config {
	c := pilot.DefaultConfig(id, faces)
	c.FaceStopDistanceM = 0.40
	c.ForwardConeRad = 20 * math.Pi / 180
	c.ReflexHalfWidthM = 0.11
	return c
}

// robot is one simulated robot with its pilot and its inbox.
type robot struct {
	id    string
	body  *sim.Robot
	pilot *pilot.Pilot
	in    pilot.Input // messages for the next tick
}

// run runs the robots of only (all when nil).
func run(cfg Config, only []int) (Result, error) {
	res := Result{Seed: cfg.Seed, Robots: cfg.Robots, Routes: cfg.Routes, Homes: cfg.Homes}
	wc := sim.Config{Seed: cfg.Seed, DiameterM: diameterM, MarkerCount: markers}
	wc.Camera.Noiseless = cfg.Noiseless
	w, err := sim.New(wc)
	if err != nil {
		return res, err
	}
	// Each robot starts parked beside its home marker, facing the centre.
	starts := make([]sim.Pose, len(cfg.Homes))
	tm := trueMap(w)
	for i, h := range cfg.Homes {
		x, y, ok := mapping.ParkSpot(tm.Markers, h, parkGapM)
		if !ok {
			return res, fmt.Errorf("home marker %d is not in the world", h)
		}
		starts[i] = sim.Pose{XM: x, YM: y, ThetaRad: math.Atan2(-y, -x)}
	}
	if only == nil {
		for i := range cfg.Routes {
			only = append(only, i)
		}
	}
	mf := &mission.File{Arena: mission.Arena{DiameterM: diameterM}, Robots: map[string]mission.Robot{}}
	robots := map[string]*robot{}
	var order []*robot
	for _, i := range only {
		id := fmt.Sprintf("r%d", i+1)
		b, err := w.AddRobot(id, starts[i])
		if err != nil {
			return res, err
		}
		pc := PilotConfig(id, b.FaceIDs())
		if cfg.NoReflex {
			pc.FaceStopDistanceM = 0.001
		}
		p, err := pilot.New(pc)
		if err != nil {
			return res, err
		}
		r := &robot{id: id, body: b, pilot: p}
		robots[id] = r
		order = append(order, r)
		s := starts[i]
		mf.Robots[id] = mission.Robot{Route: cfg.Routes[i], Start: &mission.Point{XM: s.XM, YM: s.YM}}
	}

	dir, err := os.MkdirTemp("", "campaign-")
	if err != nil {
		return res, err
	}
	defer os.RemoveAll(dir)
	st, err := store.Open(dir + "/state.db")
	if err != nil {
		return res, err
	}
	defer st.Close()
	fm := trueMap(w)
	if err := st.SaveMap(fm); err != nil {
		return res, err
	}
	ccfg := core.Config{Missions: mf, Planner: core.NoTraffic{}}
	var rp *traffic.Reserver
	nop := zerolog.Nop()
	ccfg.Log = &nop
	if cfg.Traffic {
		rp = traffic.NewReserver(traffic.ReserverConfig{})
		if trace != nil {
			rp.Trace = func(l string) { trace(fmt.Sprintf("%.1fs %s", w.Elapsed().Seconds(), l)) }
		}
		ccfg.Planner = rp
	}
	c, err := core.New(ccfg, st)
	if err != nil {
		return res, err
	}

	start := w.Now()
	var deliverErr error
	deliver := func(outs []core.Out) {
		for _, o := range outs {
			if err := route(o, robots); err != nil && deliverErr == nil {
				deliverErr = err
			}
		}
	}
	deliver(c.Start(start))
	for w.Elapsed() < cfg.Limit {
		now := w.Now()
		var fromRobots []outMsg
		for _, r := range order {
			in := r.in
			r.in = pilot.Input{}
			in.Now = now
			in.Link = pilot.LinkState{Connected: true, OrchestratorOnline: true}
			dets, _ := r.body.Detect()
			in.Detections = dets
			out := r.pilot.Step(in)
			if out.Halt {
				_ = r.body.Halt()
			} else if err := r.body.Set(out.LinearMps, out.AngularRps); err != nil {
				return res, fmt.Errorf("%s: drive: %w", r.id, err)
			}
			for _, m := range out.Publish {
				fromRobots = append(fromRobots, outMsg{r.id, m})
			}
		}
		// The world moves while the messages are in flight.
		w.Step(tick)
		later := w.Now()
		for _, m := range fromRobots {
			b, err := topics.Encode(m.msg.Body)
			if err != nil {
				return res, fmt.Errorf("%s sent an invalid %s: %w", m.robot, m.msg.Kind, err)
			}
			t, msg, err := topics.DecodeTopic(topics.Robot(m.robot, m.msg.Kind), b)
			if err != nil {
				return res, fmt.Errorf("%s sent an undecodable %s: %w", m.robot, m.msg.Kind, err)
			}
			if e, ok := msg.(*topics.Event); ok && trace != nil {
				l := fmt.Sprintf("%.1fs %s EVENT %s %s %s", later.Sub(start).Seconds(), m.robot, e.Kind, e.Other, e.Detail)
				for _, id := range []string{m.robot, e.Other} {
					if r := robots[id]; r != nil {
						ps := r.body.Pose()
						l += fmt.Sprintf(" %s@(%.2f,%.2f,%.0f°)", id, ps.XM, ps.YM, ps.ThetaRad*180/math.Pi)
					}
				}
				trace(l)
			}
			outs, err := c.Handle(later, t, msg)
			if err != nil && !errors.Is(err, core.ErrRejected) {
				return res, fmt.Errorf("core refused %s from %s: %w", m.msg.Kind, m.robot, err)
			}
			deliver(outs)
		}
		deliver(c.Tick(later))
		if deliverErr != nil {
			return res, deliverErr
		}
		if allDone(c) {
			res.Finished = true
			res.Makespan = later.Sub(start)
			for _, i := range only {
				goal := cfg.Routes[i][len(cfg.Routes[i])-1]
				px, py, _ := mapping.ParkSpot(tm.Markers, goal, parkGapM)
				ps := robots[fmt.Sprintf("r%d", i+1)].body.Pose()
				res.ParkErrM = math.Max(res.ParkErrM, math.Hypot(ps.XM-px, ps.YM-py))
			}
			break
		}
	}
	if !res.Finished {
		res.Makespan = cfg.Limit
		for _, r := range c.Fleet().Robots {
			if !r.Done {
				target := -1
				if r.Target != nil {
					target = *r.Target
				}
				ps, why := robots[r.ID].pilot.StateReason()
				res.Stuck = append(res.Stuck, fmt.Sprintf("%s: pilot %s (%s), core %s, target %d, reached %d, holds %v",
					r.ID, ps, why, r.State, target, r.Reached, r.Holds))
			}
		}
	}
	if rp != nil {
		if st := rp.Stats(); st.Calls > 0 {
			res.Moving = float64(st.Driving+st.AtGate) / float64(st.Calls)
			res.Waiting = float64(st.WaitLeg+st.WaitStanding+st.WaitOrder) / float64(st.Calls)
		}
	}
	res.Contacts = w.Collisions()
	res.Collisions = len(res.Contacts)
	res.Holds = c.Stats().HoldsIssued
	return res, nil
}

// trace, when set, sees every directive and robot event (debugging).
var trace func(string)

type outMsg struct {
	robot string
	msg   pilot.Msg
}

func allDone(c *core.Core) bool {
	v := c.Fleet()
	for _, r := range v.Robots {
		if !r.Done {
			return false
		}
	}
	return len(v.Robots) > 0
}

// route hands one orchestrator message to the robots it is for, through the
// wire encoding.
func route(o core.Out, robots map[string]*robot) error {
	b, err := o.Bytes()
	if err != nil {
		return fmt.Errorf("core sent an invalid %s: %w", o.Topic, err)
	}
	t, msg, err := topics.DecodeTopic(o.Topic, b)
	if err != nil {
		return fmt.Errorf("core sent an undecodable %s: %w", o.Topic, err)
	}
	switch m := msg.(type) {
	case *topics.Directive:
		if trace != nil {
			trace(fmt.Sprintf("%s %s %v rel %d %s", t.Robot, m.Kind, m.Route, m.Released, m.Reason))
		}
		if r := robots[t.Robot]; r != nil {
			r.in.Directives = append(r.in.Directives, *m)
		}
	case *topics.FleetCommand:
		for _, r := range robots {
			r.in.Fleet = append(r.in.Fleet, *m)
		}
	case *topics.FleetMap:
		for _, r := range robots {
			r.in.Map = m
		}
	}
	return nil
}

// trueMap is the map a perfect sweep would give.
func trueMap(w *sim.World) *topics.FleetMap {
	fm := &topics.FleetMap{
		Header:    topics.Stamp("orchestrator", 1, w.Now()),
		DiameterM: diameterM, MeasuredDiameterM: diameterM, Scale: 1,
	}
	for _, m := range w.Markers() {
		fm.Markers = append(fm.Markers, topics.MapMarker{ID: m.ID, XM: m.XM, YM: m.YM, Samples: 1})
	}
	for _, r := range w.Robots() {
		fm.Roster = append(fm.Roster, topics.RosterEntry{Robot: r.ID(), Faces: r.FaceIDs()})
	}
	return fm
}
