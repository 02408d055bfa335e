package e2e_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"collaborate/broker"
	"collaborate/internal/testkit"
	"collaborate/robot/control"
	"collaborate/robot/link"
	"collaborate/robot/pilot"
	"collaborate/robot/sim"
	"collaborate/topics"
)

const (
	timeScale     = 4                     // sim seconds per wall second
	controlPeriod = 50 * time.Millisecond // sim time: pilots tick at 20 Hz
	orchUser      = "orch"
	// stillMps and stillRps: a robot slower than this is stopped.
	stillMps = 1e-6
	stillRps = 1e-6
)

// checkpoint is one checkpoint as received, with the broker generation that
// took it (1 before a restart, 2 after).
type checkpoint struct {
	robot string
	gen   int
	cp    topics.Checkpoint
}

type cpKey struct {
	robot string
	epoch uint64
	step  int
}

// collector is the receiving side of checkpoints. It dedupes by (robot,
// epoch, step), as the orchestrator's core does: QoS 1 may deliver a
// checkpoint twice, and a duplicate must count once.
type collector struct {
	mu     sync.Mutex
	first  []checkpoint // first arrival of each key, in arrival order
	seen   map[cpKey]int
	dups   int
	errors []string
}

func newCollector() *collector { return &collector{seen: map[cpKey]int{}} }

func (c *collector) add(gen int, topic string, payload []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	tp, err := topics.Parse(topic)
	if err != nil || tp.Kind != topics.KindCheckpoint {
		return
	}
	cp, err := topics.DecodeCheckpoint(payload)
	if err != nil {
		c.errors = append(c.errors, fmt.Sprintf("%s: %v", topic, err))
		return
	}
	k := cpKey{tp.Robot, cp.Epoch, cp.Step}
	c.seen[k]++
	if c.seen[k] > 1 {
		c.dups++
		return
	}
	c.first = append(c.first, checkpoint{robot: tp.Robot, gen: gen, cp: *cp})
}

// of returns robot's checkpoints, first arrivals only, in arrival order.
func (c *collector) of(robot string) []checkpoint {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []checkpoint
	for _, x := range c.first {
		if x.robot == robot {
			out = append(out, x)
		}
	}
	return out
}

func (c *collector) duplicates() (int, []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.dups, append([]string(nil), c.errors...)
}

// hasFinal reports whether robot's final checkpoint arrived.
func (c *collector) hasFinal(robot string) bool {
	for _, x := range c.of(robot) {
		if x.cp.Final {
			return true
		}
	}
	return false
}

// checkRoute asserts that robot's checkpoints are exactly the steps of route,
// in order, with Final on the last one only.
func checkRoute(t *testing.T, c *collector, robot string, epoch uint64, route []int) {
	t.Helper()
	got := c.of(robot)
	if len(got) != len(route) {
		t.Errorf("%s: %d distinct checkpoints %+v, want %d (route %v)", robot, len(got), got, len(route), route)
		return
	}
	for i, x := range got {
		want := topics.Checkpoint{Epoch: epoch, Marker: route[i], Step: i, Final: i == len(route)-1}
		if x.cp.Epoch != want.Epoch || x.cp.Marker != want.Marker || x.cp.Step != want.Step || x.cp.Final != want.Final {
			t.Errorf("%s: checkpoint #%d = epoch %d marker %d step %d final %v, want epoch %d marker %d step %d final %v",
				robot, i, x.cp.Epoch, x.cp.Marker, x.cp.Step, x.cp.Final, want.Epoch, want.Marker, want.Step, want.Final)
		}
		if x.cp.Sender != robot {
			t.Errorf("%s: checkpoint #%d sent by %q", robot, i, x.cp.Sender)
		}
	}
}

// robotSpec places one simulated robot.
type robotSpec struct {
	id    string
	pose  sim.Pose
	route []int
}

// simRobot is one robot as simfleet builds it: the world's body, the real
// pilot and control loop, and a paho link with an on-disk outbox.
type simRobot struct {
	spec robotSpec
	body *sim.Robot
	link *link.Link
	loop *control.Loop
}

// tickRecord is what the monitor saw of one robot in one control tick.
type tickRecord struct {
	linkUp      bool // connected and the orchestrator online
	connected   bool
	state       string // the pilot's reported state
	targetLin   float64
	targetAng   float64
	lin, ang    float64 // true wheel speeds
	afterResume bool
}

// harness is a broker, a world of simulated robots, and the test playing the
// orchestrator.
type harness struct {
	t        *testing.T
	addr     string
	stateDir string
	creds    *broker.Credentials
	logs     *testkit.Buffer
	log      zerolog.Logger

	b       *broker.Broker
	live    atomic.Pointer[broker.Broker] // h.b, for the heartbeat goroutine
	beating sync.Once
	gen     int
	accept  func(gen int, topic string, payload []byte) error // nil: accept all; set before the broker starts
	cps     *collector
	orchSeq atomic.Uint64

	world  *sim.World
	robots []*simRobot

	// Written by the world's goroutine (control hooks), read by the test.
	mon struct {
		sync.Mutex
		ticks   int
		last    map[string]tickRecord
		history map[string][]tickRecord
	}
	resumed atomic.Bool // a fresh directive went out after the outage
}

// newHarness starts the broker, the world and the robots. accept, when not
// nil, sees every robot publish before the broker acknowledges it; an error
// refuses it.
func newHarness(t *testing.T, specs []robotSpec, accept func(gen int, topic string, payload []byte) error) *harness {
	t.Helper()
	h := &harness{t: t, addr: testkit.FreeAddr(t), stateDir: t.TempDir(), creds: &broker.Credentials{}, logs: &testkit.Buffer{},
		cps: newCollector(), accept: accept}
	h.log = zerolog.New(h.logs).With().Timestamp().Logger()
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("logs:\n%s", h.logs.String())
		}
	})
	h.mon.last = map[string]tickRecord{}
	h.mon.history = map[string][]tickRecord{}
	if err := h.creds.SetPassword(orchUser, broker.RoleOrchestrator, []byte("orch-secret")); err != nil {
		t.Fatal(err)
	}
	for _, s := range specs {
		if err := h.creds.SetPassword(s.id, broker.RoleRobot, []byte(s.id+"-secret")); err != nil {
			t.Fatal(err)
		}
	}
	h.startBroker()

	w, err := sim.New(sim.Config{Seed: 42, Start: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	h.world = w
	storeDir := t.TempDir()
	for _, s := range specs {
		body, err := w.AddRobot(s.id, s.pose)
		if err != nil {
			t.Fatal(err)
		}
		faces := body.FaceIDs()
		log := h.log.With().Str("robot", s.id).Logger()
		l, err := link.Dial(link.Options{
			BrokerURL: "tcp://" + h.addr, RobotID: s.id, Password: s.id + "-secret",
			StoreDir: filepath.Join(storeDir, s.id), Version: "e2e", Faces: &faces, Logger: &log,
			// Reconnect quickly after the restart; the failsafe does not
			// depend on it.
			RetryInterval: 200 * time.Millisecond,
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = l.Close() }) // runs after the world stopped
		pc := pilot.DefaultConfig(s.id, faces)
		pc.Version = "e2e"
		pc.FaceBase = w.Config().FaceBase
		p, err := pilot.New(pc)
		if err != nil {
			t.Fatal(err)
		}
		h.robots = append(h.robots, &simRobot{spec: s, body: body, link: l,
			loop: &control.Loop{Pilot: p, Detector: body.Detector(), Drive: body.Drive(), Link: l, Clock: w.Clock(), Log: log}})
	}
	// The control loops, then the monitor, at the same sim instants: the
	// monitor sees what each tick decided.
	if err := w.Every(controlPeriod, func(time.Time) {
		for _, r := range h.robots {
			r.loop.Tick()
		}
	}); err != nil {
		t.Fatal(err)
	}
	if err := w.Every(controlPeriod, h.monitor); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx, sim.RunConfig{TimeScale: timeScale}) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("world run: %v", err)
		}
		for _, r := range h.robots {
			_ = r.body.Halt()
		}
	})
	return h
}

func (h *harness) monitor(time.Time) {
	h.mon.Lock()
	defer h.mon.Unlock()
	h.mon.ticks++
	for _, r := range h.robots {
		st := r.link.State()
		rec := tickRecord{
			linkUp: st.Connected && st.OrchestratorOnline, connected: st.Connected,
			state: r.loop.Pilot.State(), afterResume: h.resumed.Load(),
		}
		rec.targetLin, rec.targetAng = r.body.Target()
		rec.lin, rec.ang = r.body.Speed()
		h.mon.last[r.spec.id] = rec
		h.mon.history[r.spec.id] = append(h.mon.history[r.spec.id], rec)
	}
}

func (h *harness) lastTick(id string) tickRecord {
	h.mon.Lock()
	defer h.mon.Unlock()
	return h.mon.last[id]
}

func (h *harness) ticks() int {
	h.mon.Lock()
	defer h.mon.Unlock()
	return h.mon.ticks
}

func (h *harness) history(id string) []tickRecord {
	h.mon.Lock()
	defer h.mon.Unlock()
	return append([]tickRecord(nil), h.mon.history[id]...)
}

// startBroker starts (or restarts) the broker on the same address and state
// dir. Every accepted robot publish goes through the collector: Accept is
// where the orchestrator persists checkpoints, before the robot is acked.
func (h *harness) startBroker() {
	h.t.Helper()
	h.gen++
	gen := h.gen
	b, err := broker.New(broker.Options{
		TCPAddr: h.addr, StateDir: h.stateDir, Credentials: h.creds,
		Logger: h.log.With().Str("src", fmt.Sprintf("broker%d", gen)).Logger(),
		Accept: func(in broker.Inbound) error {
			topic := in.Topic.String()
			if h.accept != nil {
				if err := h.accept(gen, topic, in.Payload); err != nil {
					return err
				}
			}
			h.cps.add(gen, topic, in.Payload)
			return nil
		},
	})
	if err != nil {
		h.t.Fatalf("start broker %d on %s: %v", gen, h.addr, err)
	}
	h.b = b
	h.live.Store(b)
	h.t.Cleanup(func() { _ = b.Close() })
}

// publish sends msg on topic with its kind's QoS and retain flag, from the
// orchestrator's in-process client.
func (h *harness) publish(topic string, msg topics.Message) {
	h.t.Helper()
	tp, err := topics.Parse(topic)
	if err != nil {
		h.t.Fatal(err)
	}
	b, err := topics.Encode(msg)
	if err != nil {
		h.t.Fatalf("encode %s: %v", topic, err)
	}
	p := topics.PolicyOf(tp.Kind)
	if err := h.b.Publish(topic, b, p.Retained, p.QoS); err != nil {
		h.t.Fatalf("publish %s: %v", topic, err)
	}
}

func (h *harness) stamp() topics.Header {
	return topics.Stamp("orchestrator", h.orchSeq.Add(1), time.Now())
}

// goOnline publishes orchestrator/status online and a fleet map built from
// the world's true marker positions (scale 1) and the robots' faces, and
// starts the orchestrator's heartbeat (on whichever broker runs, until the
// test ends).
func (h *harness) goOnline() {
	h.beating.Do(func() {
		done := make(chan struct{})
		stopped := make(chan struct{})
		go func() {
			defer close(stopped)
			tk := time.NewTicker(topics.OrchestratorHeartbeatPeriod)
			defer tk.Stop()
			for seq := uint64(1); ; seq++ {
				p, _ := topics.Encode(&topics.OrchestratorHeartbeat{Header: topics.Stamp("orchestrator", seq, time.Now()), Epoch: 1})
				_ = h.live.Load().Publish(topics.TopicOrchestratorHeartbeat, p, false, 0) // fails while the broker is down
				select {
				case <-done:
					return
				case <-tk.C:
				}
			}
		}()
		h.t.Cleanup(func() { close(done); <-stopped })
	})
	h.publish(topics.TopicOrchestratorStatus, &topics.OrchestratorState{Header: h.stamp(), State: topics.OrchOnline, Epoch: 1})
	fm := &topics.FleetMap{Header: h.stamp(), DiameterM: h.world.Config().DiameterM,
		MeasuredDiameterM: h.world.Config().DiameterM, Scale: 1}
	for _, m := range h.world.Markers() {
		fm.Markers = append(fm.Markers, topics.MapMarker{ID: m.ID, XM: m.XM, YM: m.YM, Samples: 1})
	}
	for _, r := range h.robots {
		fm.Roster = append(fm.Roster, topics.RosterEntry{Robot: r.spec.id, Faces: r.body.FaceIDs()})
	}
	h.publish(topics.TopicFleetMap, fm)
}

// waitLinksUp waits until every robot's link is connected and has heard the
// orchestrator online.
func (h *harness) waitLinksUp() {
	h.t.Helper()
	testkit.Eventually(h.t, 20*time.Second, "every link connected with the orchestrator online", func() bool {
		for _, r := range h.robots {
			if st := r.link.State(); !st.Connected || !st.OrchestratorOnline {
				return false
			}
		}
		return true
	})
}

// sendRoutes publishes each robot's whole route, released in full.
func (h *harness) sendRoutes(seq uint64) {
	for _, r := range h.robots {
		d := &topics.Directive{Header: h.stamp(), Epoch: 1, Kind: topics.DirRoute,
			Route: r.spec.route, Released: len(r.spec.route)}
		d.Seq = seq
		h.publish(topics.Robot(r.spec.id, topics.KindCmd), d)
	}
}

func (h *harness) sendResume(seq uint64) {
	for _, r := range h.robots {
		d := &topics.Directive{Header: h.stamp(), Epoch: 1, Kind: topics.DirResume, Reason: "broker back"}
		d.Seq = seq
		h.publish(topics.Robot(r.spec.id, topics.KindCmd), d)
	}
}

func (h *harness) waitFinals(timeout time.Duration) {
	h.t.Helper()
	testkit.Eventually(h.t, timeout, "every robot's final checkpoint", func() bool {
		for _, r := range h.robots {
			if !h.cps.hasFinal(r.spec.id) {
				return false
			}
		}
		return true
	})
}

func still(lin, ang float64) bool { return math.Abs(lin) < stillMps && math.Abs(ang) < stillRps }

// opposite places r1 on the west half facing marker 6 and r2 on the east half
// facing marker 0 (12 markers, 30° apart, counter-clockwise from +x). Their
// routes stay on their own half: no traffic control is needed.
func opposite() []robotSpec {
	return []robotSpec{
		{id: "r1", pose: sim.Pose{XM: -0.5, ThetaRad: math.Pi}, route: []int{6, 7, 5}},
		{id: "r2", pose: sim.Pose{XM: 0.5, ThetaRad: 0}, route: []int{0, 1, 11}},
	}
}

// errRefused is the Accept error that keeps a checkpoint unacknowledged.
var errRefused = errors.New("e2e: refused, the broker is going down")
