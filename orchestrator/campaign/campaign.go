package campaign

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"time"

	"github.com/rs/zerolog"

	"collaborate/orchestrator/core"
	"collaborate/orchestrator/mission"
	"collaborate/orchestrator/store"
	"collaborate/orchestrator/traffic"
	"collaborate/robot/pilot"
	"collaborate/robot/sim"
	"collaborate/topics"
)

// Config is one run.
type Config struct {
	Seed      int64
	Robots    int           // 4..12 in the acceptance campaign
	RouteMin  int           // markers per route, default 3
	RouteMax  int           // default 8
	Traffic   bool          // false: no traffic planner (the unsafe control case)
	Noiseless bool          // camera noise is on unless set
	Limit     time.Duration // sim time before a run counts as a deadlock, default 15 min
	// Routes overrides the random routes (robot index -> marker ids).
	Routes [][]int
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
	Routes     [][]int
	Stuck      []string // robots not done at the end: state, target, holds
}

const (
	diameterM = 3.0
	markers   = 12
	tick      = 50 * time.Millisecond
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

// RandomRoutes draws n crossing routes over the 12 markers: each leg spans
// at least a quarter turn of the arena (so legs cross the middle), no robot's
// intermediate marker is another's final goal, and final goals differ.
func RandomRoutes(rng *rand.Rand, n, min, max int) [][]int {
	finals := rng.Perm(markers)[:n]
	isFinal := map[int]bool{}
	for _, f := range finals {
		isFinal[f] = true
	}
	routes := make([][]int, n)
	for i := range routes {
		length := min + rng.IntN(max-min+1)
		route := make([]int, length)
		route[length-1] = finals[i]
		// Build backwards from the final goal.
		for k := length - 2; k >= 0; k-- {
			for {
				m := rng.IntN(markers)
				if isFinal[m] || sep(m, route[k+1]) < 3 {
					continue
				}
				if k+2 < length && m == route[k+2] && rng.IntN(2) == 0 {
					continue // fewer plain back-and-forth legs
				}
				route[k] = m
				break
			}
		}
		routes[i] = route
	}
	return routes
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
		rng := rand.New(rand.NewPCG(uint64(cfg.Seed), 0x9e3779b97f4a7c15))
		cfg.Routes = RandomRoutes(rng, cfg.Robots, cfg.RouteMin, cfg.RouteMax)
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

// robot is one simulated robot with its pilot and its inbox.
type robot struct {
	id    string
	body  *sim.Robot
	pilot *pilot.Pilot
	in    pilot.Input // messages for the next tick
}

// run runs the robots of only (all when nil).
func run(cfg Config, only []int) (Result, error) {
	res := Result{Seed: cfg.Seed, Robots: cfg.Robots, Routes: cfg.Routes}
	wc := sim.Config{Seed: cfg.Seed, DiameterM: diameterM, MarkerCount: markers}
	wc.Camera.Noiseless = cfg.Noiseless
	w, err := sim.New(wc)
	if err != nil {
		return res, err
	}
	starts, err := w.DefaultStarts(cfg.Robots)
	if err != nil {
		return res, err
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
		p, err := pilot.New(pilot.DefaultConfig(id, b.FaceIDs()))
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
	nop := zerolog.Nop()
	ccfg.Log = &nop
	var planner *traffic.Planner
	if cfg.Traffic {
		planner = traffic.New(traffic.DefaultConfig())
		ccfg.Planner = planner
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
				res.Stuck = append(res.Stuck, fmt.Sprintf("%s: pilot %s, core %s, target %d, reached %d, holds %v",
					r.ID, robots[r.ID].pilot.State(), r.State, target, r.Reached, r.Holds))
			}
		}
	}
	res.Contacts = w.Collisions()
	res.Collisions = len(res.Contacts)
	res.Holds = c.Stats().HoldsIssued
	return res, nil
}

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
