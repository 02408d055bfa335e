package webtest

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sync"
	"time"

	"collaborate/orchestrator/core"
	"collaborate/orchestrator/mission"
	"collaborate/orchestrator/web"
	"collaborate/topics"
)

// FakeDiameterM is the fake arena's diameter; its markers 0..11 sit evenly
// on the edge, marker k at angle k·30°.
const FakeDiameterM = 3.0

// FakeFleet is a scripted fleet. Step advances it; the operator methods
// change it as the core would, and every change is published through Notify
// as the real MQTT message.
type FakeFleet struct {
	mu     sync.Mutex
	robots []*fakeRobot
	fmap   *topics.FleetMap
	notify func(topic string, payload []byte)
	seq    uint64
	stop   bool // fleet stop
	calls  []string
	simT   float64
}

type fakeRobot struct {
	id              string
	x, y, th        float64
	speed           float64
	route           []int
	reached         int
	held, stopped   bool
	yieldsTo        string  // traffic hold: the robot it waits for
	atX, atY        float64 // its conflict point
	lastSeen        time.Time
	checkpointsSeen int
}

// Routes are the fake robots' missions, by robot index.
var Routes = [][]int{{0, 6, 3}, {9, 3, 0}, {4, 10, 7}, {1, 7, 2}}

// NewFakeFleet makes n robots r1..rn near the centre; notify receives every
// message (web.Hub.Notify).
func NewFakeFleet(n int, notify func(topic string, payload []byte)) *FakeFleet {
	f := &FakeFleet{notify: notify}
	f.fmap = &topics.FleetMap{DiameterM: FakeDiameterM, MeasuredDiameterM: 2.9, Scale: FakeDiameterM / 2.9, MappedBy: "r1"}
	for k := range 12 {
		a := float64(k) * math.Pi / 6
		f.fmap.Markers = append(f.fmap.Markers, topics.MapMarker{ID: k, XM: 1.5 * math.Cos(a), YM: 1.5 * math.Sin(a), Samples: 8})
	}
	for i := range n {
		a := float64(i)*math.Pi/2 + math.Pi/4
		f.robots = append(f.robots, &fakeRobot{id: fmt.Sprintf("r%d", i+1), x: 0.6 * math.Cos(a), y: 0.6 * math.Sin(a),
			th: a, speed: 0.35 + 0.05*float64(i), route: slices.Clone(Routes[i%len(Routes)])})
	}
	return f
}

func (f *FakeFleet) marker(id int) (topics.MapMarker, bool) {
	for _, m := range f.fmap.Markers {
		if m.ID == id {
			return m, true
		}
	}
	return topics.MapMarker{}, false
}

func (f *FakeFleet) header(sender string, now time.Time) topics.Header {
	f.seq++
	return topics.Stamp(sender, f.seq, now)
}

// send must be called with mu held; notify must not call back into f.
func (f *FakeFleet) send(topic string, m topics.Message) {
	b, err := topics.Encode(m)
	if err != nil {
		panic(fmt.Sprintf("webtest: fake message on %s invalid: %v", topic, err))
	}
	if f.notify != nil {
		f.notify(topic, b)
	}
}

func (r *fakeRobot) state(fleetStop bool) string {
	switch {
	case r.held || r.stopped || fleetStop || r.yieldsTo != "":
		return topics.StateHolding
	case len(r.route) == 0:
		return topics.StateIdle
	}
	return topics.StateMoving
}

// Step moves every robot that may move by dt toward its target, and
// publishes its pose, its checkpoints and the ground truth.
func (f *FakeFleet) Step(now time.Time, dt time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.simT += dt.Seconds()
	truth := topics.World{Header: f.header("sim", now), SimTimeS: f.simT, DiameterM: FakeDiameterM}
	for _, r := range f.robots {
		r.lastSeen = now
		st := r.state(f.stop)
		var tgt *int
		var dist *float64
		speed := 0.0
		if len(r.route) > 0 {
			m, _ := f.marker(r.route[r.reached])
			id := m.ID
			tgt = &id
			// Aim at a point 0.25 m inside the marker: the stop distance.
			gx, gy := m.XM*0.83, m.YM*0.83
			dx, dy := gx-r.x, gy-r.y
			d := math.Hypot(dx, dy)
			dist = &d
			if st == topics.StateMoving {
				speed = r.speed
				r.th = math.Atan2(dy, dx)
				step := math.Min(d, r.speed*dt.Seconds())
				r.x += step * math.Cos(r.th)
				r.y += step * math.Sin(r.th)
				if d-step < 0.01 {
					final := r.reached == len(r.route)-1
					f.send(topics.Robot(r.id, topics.KindCheckpoint), &topics.Checkpoint{Header: f.header(r.id, now),
						Epoch: 1, Marker: m.ID, Step: r.reached, Final: final})
					r.reached = (r.reached + 1) % len(r.route) // the fake loops its route
					r.checkpointsSeen++
				}
			}
		}
		x, y, th := r.x, r.y, r.th
		f.send(topics.Robot(r.id, topics.KindPose), &topics.Pose{Header: f.header(r.id, now), State: st, Target: tgt,
			DistanceM: dist, XM: &x, YM: &y, ThetaRad: &th, SpeedMps: speed, Step: r.reached})
		// The truth is a few centimetres off the estimate, as a real
		// camera would leave it.
		truth.Robots = append(truth.Robots, topics.TruePose{Robot: r.id, XM: x + 0.03*math.Sin(f.simT+float64(len(r.id))),
			YM: y - 0.025, ThetaRad: th + 0.05, SpeedMps: speed})
	}
	f.send(topics.TopicSimWorld, &truth)
	f.traffic()
}

// traffic holds the later of two robots closer than 0.45 m, until they are
// 0.55 m apart, as the planner would at their crossing.
func (f *FakeFleet) traffic() {
	for _, r := range f.robots {
		if r.yieldsTo != "" {
			if o, _ := f.robot(r.yieldsTo); o == nil || math.Hypot(o.x-r.x, o.y-r.y) > 0.55 {
				r.yieldsTo = ""
			}
		}
	}
	for i, a := range f.robots {
		for _, b := range f.robots[i+1:] {
			if a.yieldsTo == b.id || b.yieldsTo != "" || math.Hypot(a.x-b.x, a.y-b.y) > 0.45 {
				continue
			}
			b.yieldsTo, b.atX, b.atY = a.id, (a.x+b.x)/2, (a.y+b.y)/2
		}
	}
}

// Conflicts are the fake's traffic holds (web.ConflictSource).
func (f *FakeFleet) Conflicts() []web.Conflict {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []web.Conflict
	for _, r := range f.robots {
		if r.yieldsTo != "" {
			out = append(out, web.Conflict{Robot: r.id, With: r.yieldsTo, XM: r.atX, YM: r.atY, Reason: "crossing " + r.yieldsTo})
		}
	}
	return out
}

// Run steps the fleet every interval until ctx ends.
func (f *FakeFleet) Run(ctx context.Context, interval time.Duration) {
	f.mu.Lock()
	f.send(topics.TopicOrchestratorStatus, &topics.OrchestratorState{Header: f.header(core.Sender, time.Now()), State: topics.OrchOnline, Epoch: 1})
	f.send(topics.TopicFleetMap, &topics.FleetMap{Header: f.header(core.Sender, time.Now()), DiameterM: f.fmap.DiameterM,
		MeasuredDiameterM: f.fmap.MeasuredDiameterM, Scale: f.fmap.Scale, Markers: f.fmap.Markers, MappedBy: f.fmap.MappedBy})
	f.mu.Unlock()
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			f.Step(now, interval)
		}
	}
}

// Calls lists the operator calls received, e.g. "hold r2".
func (f *FakeFleet) Calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.calls)
}

// Position is where robot id is now.
func (f *FakeFleet) Position(id string) (x, y float64, ok bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, r := range f.robots {
		if r.id == id {
			return r.x, r.y, true
		}
	}
	return 0, 0, false
}

// Fleet is the fleet view, as core.Runner.Fleet.
func (f *FakeFleet) Fleet() core.FleetView {
	f.mu.Lock()
	defer f.mu.Unlock()
	v := core.FleetView{Epoch: 1, FleetStopped: f.stop, HasMap: true, Robots: []core.RobotView{}}
	for _, r := range f.robots {
		x, y := r.x, r.y
		rv := core.RobotView{ID: r.id, Online: true, State: r.state(f.stop), LastSeen: r.lastSeen,
			Route: slices.Clone(r.route), Reached: r.reached, Released: min(len(r.route), r.reached+2), XM: &x, YM: &y}
		if len(r.route) > 0 {
			t := r.route[r.reached]
			rv.Target = &t
		}
		if r.yieldsTo != "" {
			rv.Holds = append(rv.Holds, "traffic: crossing "+r.yieldsTo)
		}
		if r.held {
			rv.Holds = append(rv.Holds, "operator hold")
		}
		if r.stopped {
			rv.Holds = append(rv.Holds, "operator stop")
		}
		v.Stats.Checkpoints += r.checkpointsSeen
		v.Robots = append(v.Robots, rv)
	}
	return v
}

// Map is the fake map.
func (f *FakeFleet) Map() *topics.FleetMap {
	f.mu.Lock()
	defer f.mu.Unlock()
	m := *f.fmap
	m.Markers = slices.Clone(f.fmap.Markers)
	return &m
}

func (f *FakeFleet) robot(id string) (*fakeRobot, error) {
	for _, r := range f.robots {
		if r.id == id {
			return r, nil
		}
	}
	return nil, fmt.Errorf("%w: %s", core.ErrUnknownRobot, id)
}

func (f *FakeFleet) directive(r *fakeRobot, kind, reason string) {
	now := time.Now()
	f.send(topics.Robot(r.id, topics.KindCmd), &topics.Directive{Header: f.header(core.Sender, now), Epoch: 1, Kind: kind, Reason: reason})
}

func (f *FakeFleet) op(name, id string, do func(r *fakeRobot) error) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, name+" "+id)
	r, err := f.robot(id)
	if err != nil {
		return err
	}
	return do(r)
}

// SetMission replaces a robot's route; markers must be on the map.
func (f *FakeFleet) SetMission(id string, route []int) error {
	return f.op("mission", id, func(r *fakeRobot) error {
		if err := mission.CheckRoute(route); err != nil {
			return err
		}
		for _, m := range route {
			if _, ok := f.marker(m); !ok {
				return fmt.Errorf("%w: robot %s: marker %d is not on the map", mission.ErrNotOnMap, id, m)
			}
		}
		r.route, r.reached = slices.Clone(route), 0
		return nil
	})
}

// Hold latches an operator hold.
func (f *FakeFleet) Hold(id string) error {
	return f.op("hold", id, func(r *fakeRobot) error {
		r.held = true
		f.directive(r, topics.DirHold, "operator")
		return nil
	})
}

// Resume lifts the operator's hold and stop.
func (f *FakeFleet) Resume(id string) error {
	return f.op("resume", id, func(r *fakeRobot) error {
		r.held, r.stopped = false, false
		f.directive(r, topics.DirResume, "operator")
		return nil
	})
}

// Stop latches an operator stop.
func (f *FakeFleet) Stop(id string) error {
	return f.op("stop", id, func(r *fakeRobot) error {
		r.stopped = true
		f.directive(r, topics.DirStop, "operator")
		return nil
	})
}

// FleetStop stops every robot.
func (f *FakeFleet) FleetStop() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, "fleet stop")
	f.stop = true
	f.send(topics.TopicFleetCmd, &topics.FleetCommand{Header: f.header(core.Sender, time.Now()), Epoch: 1, Kind: topics.FleetStop})
	return nil
}

// FleetResume lifts the fleet stop.
func (f *FakeFleet) FleetResume() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, "fleet resume")
	f.stop = false
	f.send(topics.TopicFleetCmd, &topics.FleetCommand{Header: f.header(core.Sender, time.Now()), Epoch: 1, Kind: topics.FleetResume})
	return nil
}

// Sweep refuses: the fake already has its map, which is an error to show.
func (f *FakeFleet) Sweep(robot string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, "sweep "+robot)
	return fmt.Errorf("%w: robots are on their missions; stop the fleet before a sweep", core.ErrConflict)
}

var _ web.ConflictSource = (*FakeFleet)(nil)
