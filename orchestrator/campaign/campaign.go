package campaign

import (
	"errors"
	"fmt"
	"math"
	"os"
	"time"

	"github.com/rs/zerolog"

	"collaborate/orchestrator/core"
	"collaborate/orchestrator/mapping"
	"collaborate/orchestrator/mission"
	"collaborate/orchestrator/store"
	"collaborate/orchestrator/traffic"
	"collaborate/robot/control"
	"collaborate/robot/link"
	"collaborate/robot/pilot"
	"collaborate/robot/sim"
	"collaborate/topics"
)

// parkGapM is how far in from the wall robots park beside their home marker
// (the planner's ParkWallGapM): they start there, and end there.
var _, parkGapM = traffic.NewReserver(traffic.ReserverConfig{}).StopDistances()

// Control is the traffic control of a run.
type Control int

const (
	// Flow is the orchestrator's traffic control, traffic.Reserver.
	Flow Control = iota
	// Queue is its first version (traffic.ReserverConfig.Queue), to compare.
	Queue
	// Off is no traffic control at all: the control case, which must
	// collide (with the robots' reflex off too).
	Off
)

func (c Control) String() string {
	switch c {
	case Flow:
		return "flow"
	case Queue:
		return "queue"
	case Off:
		return "off"
	}
	return fmt.Sprintf("Control(%d)", int(c))
}

// ParseControl reads a Control from its name.
func ParseControl(s string) (Control, error) {
	for _, c := range []Control{Flow, Queue, Off} {
		if c.String() == s {
			return c, nil
		}
	}
	return 0, fmt.Errorf("campaign: unknown control %q: want flow, queue or off", s)
}

// Config is one run.
type Config struct {
	Seed     int64
	Robots   int // 4..12 in the acceptance campaign
	RouteMin int // markers per route, default 3
	RouteMax int // default 8
	Control  Control
	// NoReflex turns the robots' local face reflex off: with Control Off,
	// nothing then keeps robots apart (the control case).
	NoReflex  bool
	Noiseless bool          // camera noise is on unless set
	Limit     time.Duration // sim time before a run counts as a deadlock, default 15 min
	// Routes overrides the random routes (robot index -> marker ids), and
	// Homes the markers the robots start beside.
	Routes [][]int
	Homes  []int
}

// Result is the outcome of one run.
type Result struct {
	Seed       int64
	Robots     int
	Control    Control
	Collisions int
	Contacts   []sim.Contact
	Finished   bool          // every mission done within Limit
	Makespan   time.Duration // start of missions -> last robot done (Limit when unfinished)
	// Done is when each robot's mission ended (Limit for one that did
	// not), Flowtime their sum.
	Done     []time.Duration
	Flowtime time.Duration
	Holds    int
	// Driving and Waiting are how many robots, on average over the run,
	// were on their way to a marker (turning towards it or driving), and
	// were stopped with steps left (held, waiting for the next step, or
	// yielding): the robots' own states, whatever the control.
	Driving, Waiting float64
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

// WithRoutes fills in the defaults and, when cfg has none, the seed's
// routes, so that several runs (each control, each robot alone) drive the
// same ones. It returns ErrNoDrivableRoutes when the seed has none.
func WithRoutes(cfg Config) (Config, error) {
	if cfg.RouteMin == 0 {
		cfg.RouteMin = 3
	}
	if cfg.RouteMax == 0 {
		cfg.RouteMax = 8
	}
	if cfg.Limit == 0 {
		cfg.Limit = 15 * time.Minute
	}
	if cfg.Routes == nil {
		var err error
		if cfg.Homes, cfg.Routes, err = DrivableRoutes(cfg.Seed, cfg.Robots, cfg.RouteMin, cfg.RouteMax); err != nil {
			return cfg, err
		}
	}
	cfg.Robots = len(cfg.Routes)
	return cfg, nil
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

// Run runs one seed with every robot.
func Run(cfg Config) (Result, error) {
	cfg, err := WithRoutes(cfg)
	if err != nil {
		return Result{Seed: cfg.Seed, Robots: cfg.Robots, Control: cfg.Control}, err
	}
	return run(cfg, nil)
}

// robot is one simulated robot: its body in the world, its control loop
// (robot/control, as on a Pi), and its end of the in-process wire.
type robot struct {
	id   string
	body *sim.Robot
	loop *control.Loop
	wire *wire
}

// planner is the traffic control of cfg, nil when it is off.
func planner(c Control) *traffic.Reserver {
	switch c {
	case Flow:
		return traffic.NewReserver(traffic.ReserverConfig{})
	case Queue:
		return traffic.NewReserver(traffic.ReserverConfig{Queue: true})
	}
	return nil
}

// run runs the robots of only (all when nil) on cfg's routes.
func run(cfg Config, only []int) (Result, error) {
	res := Result{Seed: cfg.Seed, Robots: cfg.Robots, Control: cfg.Control, Routes: cfg.Routes, Homes: cfg.Homes}
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
	nop := zerolog.Nop()
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
		r := &robot{id: id, body: b, wire: newWire()}
		r.loop = &control.Loop{Pilot: p, Detector: b.Detector(), Drive: b.Drive(), Link: r.wire, Clock: w.Clock(), Log: nop}
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
	ccfg := core.Config{Missions: mf, Planner: core.NoTraffic{}, Log: &nop}
	if rp := planner(cfg.Control); rp != nil {
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
	deliver(c.Announce(start))
	done := map[string]time.Duration{}
	var driving, waiting, ticks int
	for w.Elapsed() < cfg.Limit {
		for _, r := range order {
			r.loop.Tick()
			switch s := r.loop.Pilot.State(); {
			case s == topics.StateMoving:
				driving++
			case s != topics.StateDone && done[r.id] == 0:
				waiting++
			}
		}
		ticks++
		// The world moves while the messages are in flight.
		w.Step(tick)
		later := w.Now()
		for _, r := range order {
			for _, m := range r.wire.take() {
				outs, err := handle(c, later, r.id, m, robots, start)
				if err != nil {
					return res, err
				}
				deliver(outs)
			}
		}
		deliver(c.Tick(later))
		if deliverErr != nil {
			return res, deliverErr
		}
		all := true
		for _, v := range c.Fleet().Robots {
			if v.Done && done[v.ID] == 0 {
				done[v.ID] = later.Sub(start)
			}
			all = all && v.Done
		}
		if all && len(done) > 0 {
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
	for _, r := range order {
		d, ok := done[r.id]
		if !ok {
			d = cfg.Limit
		}
		res.Done = append(res.Done, d)
		res.Flowtime += d
	}
	if !res.Finished {
		res.Makespan = cfg.Limit
		for _, r := range c.Fleet().Robots {
			if !r.Done {
				target := -1
				if r.Target != nil {
					target = *r.Target
				}
				ps, why := robots[r.ID].loop.Pilot.StateReason()
				res.Stuck = append(res.Stuck, fmt.Sprintf("%s: pilot %s (%s), core %s, target %d, reached %d, holds %v",
					r.ID, ps, why, r.State, target, r.Reached, r.Holds))
			}
		}
	}
	if ticks > 0 {
		res.Driving = float64(driving) / float64(ticks)
		res.Waiting = float64(waiting) / float64(ticks)
	}
	res.Contacts = w.Collisions()
	res.Collisions = len(res.Contacts)
	res.Holds = c.Stats().HoldsIssued
	return res, nil
}

// handle gives the core one message a robot published. It goes through the
// wire encoding (the contract), except sightings: the core only counts them
// as signs of life when no mapping sweep runs, and they are most of the
// traffic, so they are validated and handed over as they are.
func handle(c *core.Core, now time.Time, id string, m pilot.Msg, robots map[string]*robot, start time.Time) ([]core.Out, error) {
	t := topics.Robot(id, m.Kind)
	var msg topics.Message = m.Body
	if s, ok := m.Body.(*topics.Sightings); ok {
		if err := s.Validate(); err != nil {
			return nil, fmt.Errorf("%s sent invalid sightings: %w", id, err)
		}
		tt, err := topics.Parse(t)
		if err != nil {
			return nil, err
		}
		outs, err := c.Handle(now, tt, s)
		if err != nil && !errors.Is(err, core.ErrRejected) {
			return nil, fmt.Errorf("core refused sightings from %s: %w", id, err)
		}
		return outs, nil
	}
	b, err := topics.Encode(m.Body)
	if err != nil {
		return nil, fmt.Errorf("%s sent an invalid %s: %w", id, m.Kind, err)
	}
	tt, msg, err := topics.DecodeTopic(t, b)
	if err != nil {
		return nil, fmt.Errorf("%s sent an undecodable %s: %w", id, m.Kind, err)
	}
	if e, ok := msg.(*topics.Event); ok && trace != nil {
		l := fmt.Sprintf("%.1fs %s EVENT %s %s %s", now.Sub(start).Seconds(), id, e.Kind, e.Other, e.Detail)
		for _, rid := range []string{id, e.Other} {
			if r := robots[rid]; r != nil {
				ps := r.body.Pose()
				l += fmt.Sprintf(" %s@(%.2f,%.2f,%.0f°)", rid, ps.XM, ps.YM, ps.ThetaRad*180/math.Pi)
			}
		}
		trace(l)
	}
	outs, err := c.Handle(now, tt, msg)
	if err != nil && !errors.Is(err, core.ErrRejected) {
		return nil, fmt.Errorf("core refused %s from %s: %w", m.Kind, id, err)
	}
	return outs, nil
}

// trace, when set, sees every directive, robot event and reserved leg
// (debugging).
var trace func(string)

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
			return r.wire.send(link.Incoming{Topic: o.Topic, Kind: t.Kind, Directive: m})
		}
	case *topics.FleetCommand:
		for _, r := range robots {
			if err := r.wire.send(link.Incoming{Topic: o.Topic, Kind: t.Kind, FleetCommand: m}); err != nil {
				return err
			}
		}
	case *topics.FleetMap:
		for _, r := range robots {
			if err := r.wire.send(link.Incoming{Topic: o.Topic, Kind: t.Kind, FleetMap: m}); err != nil {
				return err
			}
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
