package core

import (
	"errors"
	"math"
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"

	"collaborate/orchestrator/mission"
	"collaborate/orchestrator/store"
	"collaborate/orchestrator/traffic"
	"collaborate/topics"
)

var _ Planner = NoTraffic{}
var _ Planner = (*traffic.Reserver)(nil) // the real planner plugs in
var _ Planner = (*fakePlanner)(nil)
var _ StallCounter = (*traffic.Reserver)(nil)
var _ Store = (*store.Store)(nil)

// fakePlanner records its inputs and plays scripted orders.
type fakePlanner struct {
	inputs [][]traffic.Robot
	next   []traffic.Order // returned by the next Plan, then cleared
	backer string          // HeadOn's answer: this one backs off
	yields [][2]string     // Yield's calls: stopped, goer
	goer   string          // Yield's answer: this robot goes first
	stalls int             // Stats().Stalls
}

func (p *fakePlanner) Stats() traffic.Stats { return traffic.Stats{Stalls: p.stalls} }

func (p *fakePlanner) Yield(_ time.Time, stopped, goer string) bool {
	p.yields = append(p.yields, [2]string{stopped, goer})
	return goer == p.goer
}

func (p *fakePlanner) Plan(_ time.Time, rs []traffic.Robot) []traffic.Order {
	p.inputs = append(p.inputs, rs)
	o := p.next
	p.next = nil
	return o
}

func (p *fakePlanner) HeadOn(_ time.Time, a, b string) (string, string) {
	if p.backer == b {
		return b, a
	}
	return a, b
}

func (p *fakePlanner) last(id string) (traffic.Robot, bool) {
	if len(p.inputs) == 0 {
		return traffic.Robot{}, false
	}
	for _, r := range p.inputs[len(p.inputs)-1] {
		if r.ID == id {
			return r, true
		}
	}
	return traffic.Robot{}, false
}

// failingStore fails mission writes on demand.
type failingStore struct {
	*store.Store
	fail        bool
	failLatches bool
	onLatches   func(store.Latches) // told of every latches save
}

func (s *failingStore) SaveLatches(l store.Latches) error {
	if s.onLatches != nil {
		s.onLatches(l)
	}
	if s.failLatches {
		return errors.New("disk full")
	}
	return s.Store.SaveLatches(l)
}

func (s *failingStore) SaveMission(m *mission.State) error {
	if s.fail {
		return errors.New("disk full")
	}
	return s.Store.SaveMission(m)
}

type harness struct {
	t    *testing.T
	c    *Core
	st   *failingStore
	pl   *fakePlanner
	now  time.Time
	seqs map[string]uint64
}

var t0 = time.Date(2026, 11, 26, 23, 0, 0, 0, time.UTC)

func openStore(t *testing.T, path string) *store.Store {
	t.Helper()
	s, err := store.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func newHarness(t *testing.T, cfg Config, st *store.Store) *harness {
	t.Helper()
	if st == nil {
		st = openStore(t, filepath.Join(t.TempDir(), "o.db"))
	}
	pl := &fakePlanner{}
	if cfg.PositionGrace == 0 {
		cfg.PositionGrace = -1 // plan at once; TestTrafficWaitsForPositions tests the grace
	}
	if cfg.Planner == nil {
		cfg.Planner = pl
	}
	fs := &failingStore{Store: st}
	c, err := New(cfg, fs)
	if err != nil {
		t.Fatal(err)
	}
	return &harness{t: t, c: c, st: fs, pl: pl, now: t0, seqs: map[string]uint64{}}
}

func kindOf(m topics.Message) topics.Kind { return m.TopicKind() }

func setHeader(m topics.Message, h topics.Header) {
	switch v := m.(type) {
	case *topics.Status:
		v.Header = h
	case *topics.Pose:
		v.Header = h
	case *topics.Sightings:
		v.Header = h
	case *topics.Checkpoint:
		v.Header = h
	case *topics.Event:
		v.Header = h
	case *topics.Heartbeat:
		v.Header = h
	}
}

// send stamps a robot's message, round-trips it through the wire contract
// and hands it to the core.
func (h *harness) send(robot string, m topics.Message) ([]Out, error) {
	h.t.Helper()
	k := kindOf(m)
	h.seqs[robot+string(k)]++
	setHeader(m, topics.Stamp(robot, h.seqs[robot+string(k)], h.now))
	b, err := topics.Encode(m)
	if err != nil {
		h.t.Fatalf("test message does not encode: %v", err)
	}
	tp, msg, err := topics.DecodeTopic(topics.Robot(robot, k), b)
	if err != nil {
		h.t.Fatalf("test message does not decode: %v", err)
	}
	outs, err := h.c.Handle(h.now, tp, msg)
	h.valid(outs)
	return outs, err
}

func (h *harness) must(robot string, m topics.Message) []Out {
	h.t.Helper()
	outs, err := h.send(robot, m)
	if err != nil {
		h.t.Fatalf("%s %T: %v", robot, m, err)
	}
	return outs
}

func (h *harness) tick(d time.Duration) []Out {
	h.t.Helper()
	h.now = h.now.Add(d)
	outs := h.c.Tick(h.now)
	h.valid(outs)
	return outs
}

// valid checks that every Out encodes and follows the topic's policy.
func (h *harness) valid(outs []Out) {
	h.t.Helper()
	for _, o := range outs {
		if _, err := o.Bytes(); err != nil {
			h.t.Fatalf("out on %s does not encode: %v", o.Topic, err)
		}
		tp, err := topics.Parse(o.Topic)
		if err != nil {
			h.t.Fatal(err)
		}
		if p := topics.PolicyOf(tp.Kind); p.QoS != o.QoS || p.Retained != o.Retain {
			h.t.Fatalf("out on %s: qos %d retain %v, policy %+v", o.Topic, o.QoS, o.Retain, p)
		}
	}
}

func directives(outs []Out, robot string) []*topics.Directive {
	var ds []*topics.Directive
	for _, o := range outs {
		if d, ok := o.Payload.(*topics.Directive); ok && o.Topic == topics.Robot(robot, topics.KindCmd) {
			ds = append(ds, d)
		}
	}
	return ds
}

func allDirectives(outs []Out) int {
	n := 0
	for _, o := range outs {
		if _, ok := o.Payload.(*topics.Directive); ok {
			n++
		}
	}
	return n
}

// one returns the only directive to robot, failing otherwise.
func (h *harness) one(outs []Out, robot, kind string) *topics.Directive {
	h.t.Helper()
	ds := directives(outs, robot)
	if len(ds) != 1 || ds[0].Kind != kind {
		h.t.Fatalf("want one %s directive to %s, got %s", kind, robot, describe(outs))
	}
	if ds[0].Epoch != h.c.Epoch() {
		h.t.Fatalf("directive epoch %d, core epoch %d", ds[0].Epoch, h.c.Epoch())
	}
	return ds[0]
}

func describe(outs []Out) string {
	s := "["
	for _, o := range outs {
		s += o.Topic
		if d, ok := o.Payload.(*topics.Directive); ok {
			s += ":" + d.Kind
		}
		s += " "
	}
	return s + "]"
}

func status(state string) *topics.Status { return &topics.Status{State: state} }

func checkpoint(epoch uint64, step, marker int, final bool) *topics.Checkpoint {
	return &topics.Checkpoint{Epoch: epoch, Step: step, Marker: marker, Final: final}
}

// ring is a map of n markers on a circle of diameter d.
func ring(d float64, n int) *topics.FleetMap {
	m := &topics.FleetMap{DiameterM: d, MeasuredDiameterM: d, Scale: 1}
	for i := 0; i < n; i++ {
		x, y := ringPos(d, n, i)
		m.Markers = append(m.Markers, topics.MapMarker{ID: i, XM: x, YM: y, Samples: 1})
	}
	return m
}

func ringPos(d float64, n, i int) (float64, float64) {
	a := 2 * math.Pi * float64(i) / float64(n)
	return d / 2 * math.Cos(a), d / 2 * math.Sin(a)
}

// sweepFrames are a mapping sweep's sightings at the centre with noise and a
// camera that reads bias times the true distance.
func sweepFrames(d float64, n int, bias float64, seed uint64) []*topics.Sightings {
	rng := rand.New(rand.NewPCG(seed, 2))
	var out []*topics.Sightings
	for f := 0; f < 120; f++ {
		h := 2 * math.Pi * float64(f) / 120
		fr := &topics.Sightings{HeadingRad: &h, Seen: []topics.Sighting{}}
		for i := 0; i < n; i++ {
			x, y := ringPos(d, n, i)
			b := math.Remainder(math.Atan2(y, x)-h, 2*math.Pi)
			if math.Abs(b) > 0.5 {
				continue
			}
			b = math.Max(-math.Pi, math.Min(math.Pi, b+rng.NormFloat64()*0.01))
			fr.Seen = append(fr.Seen, topics.Sighting{MarkerID: i, Kind: topics.MarkerArena,
				DistanceM: math.Hypot(x, y)*bias + rng.NormFloat64()*0.02, BearingRad: b})
		}
		out = append(out, fr)
	}
	return out
}

func missionsFile(t *testing.T, yaml string) *mission.File {
	t.Helper()
	f, err := mission.Parse([]byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func openStoreNoCleanup(t *testing.T, path string) *store.Store {
	t.Helper()
	s, err := store.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// routeThenResume checks that a released robot gets its owed route, then a
// resume, and returns the route.
func (h *harness) routeThenResume(outs []Out, robot string) *topics.Directive {
	h.t.Helper()
	ds := directives(outs, robot)
	if len(ds) != 2 || ds[0].Kind != topics.DirRoute || ds[1].Kind != topics.DirResume || ds[1].Seq <= ds[0].Seq {
		h.t.Fatalf("want route then resume to %s, got %s", robot, describe(outs))
	}
	return ds[0]
}

// headOnPair is a harness with twoRobots' r1 and r2 moving, face to face
// (faceToFace), and a planner that names r2 to back off in a head-on; goer,
// when not empty, is the robot the planner lets go first (Yield).
func headOnPair(t *testing.T, goer string) *harness {
	t.Helper()
	path := filepath.Join(t.TempDir(), "o.db")
	withMap(t, path)
	h := newHarness(t, Config{Missions: missionsFile(t, twoRobots), SilenceTimeout: time.Minute}, openStore(t, path))
	h.pl.backer, h.pl.goer = "r2", goer
	h.must("r1", status(topics.StateMoving))
	h.must("r2", status(topics.StateMoving))
	faceToFace(h)
	return h
}

// faceToFace has r1 and r2 report poses 0.6 m apart, facing each other,
// with nothing behind either: a head-on where either may back off.
func faceToFace(h *harness) {
	h.t.Helper()
	h.must("r1", facing("r1", topics.StateMoving))
	h.must("r2", facing("r2", topics.StateMoving))
}

// facing is id's pose in faceToFace, in state.
func facing(id, state string) *topics.Pose {
	x, y, theta := 0.0, -0.3, math.Pi/2
	if id == "r2" {
		y, theta = 0.3, -math.Pi/2
	}
	return &topics.Pose{State: state, XM: &x, YM: &y, ThetaRad: &theta}
}
