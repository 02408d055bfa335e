package core

import (
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"collaborate/orchestrator/traffic"
	"collaborate/topics"
)

const twoRobots = `
arena: {diameter_m: 3}
robots:
  r1: {route: [0, 6, 3]}
  r2: {route: [9, 3, 0]}
`

func TestNewErrors(t *testing.T) {
	st := openStore(t, filepath.Join(t.TempDir(), "o.db"))
	tests := []struct {
		name string
		cfg  Config
	}{
		{"no diameter", Config{}},
		{"negative diameter", Config{DiameterM: -1}},
		{"inf diameter", Config{DiameterM: math.Inf(1)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := New(tc.cfg, st); err == nil {
				t.Fatal("New accepted a bad config")
			}
		})
	}
}

func TestMappingFlow(t *testing.T) {
	h := newHarness(t, Config{Missions: missionsFile(t, twoRobots)}, nil)
	if outs := h.c.Announce(h.now); len(outs) != 2 || outs[0].Topic != topics.TopicOrchestratorStatus || !outs[0].Retain ||
		outs[1].Topic != topics.TopicFleetCmd || outs[1].Payload.(*topics.FleetCommand).Kind != topics.FleetResume {
		t.Fatalf("Announce without map = %s", describe(outs))
	}
	// The first robot online gets the map directive, the second nothing.
	h.one(h.must("r1", status(topics.StateOnline)), "r1", topics.DirMap)
	if outs := h.must("r2", status(topics.StateOnline)); len(outs) != 0 {
		t.Fatalf("second robot got %s", describe(outs))
	}
	if outs := h.tick(50 * time.Millisecond); allDirectives(outs) != 0 {
		t.Fatalf("tick during the sweep: %s", describe(outs))
	}
	// Sightings of another robot are not part of the sweep.
	for _, f := range sweepFrames(3, 12, 1.3, 9) {
		h.must("r2", f)
	}
	for _, f := range sweepFrames(3, 12, 1.1, 1) {
		h.must("r1", f)
	}
	outs := h.must("r1", &topics.Event{Kind: topics.EventMapDone})
	var fm *topics.FleetMap
	for _, o := range outs {
		if m, ok := o.Payload.(*topics.FleetMap); ok {
			fm = m
			if o.Topic != topics.TopicFleetMap || !o.Retain {
				t.Fatalf("map out %+v", o)
			}
		}
	}
	if fm == nil {
		t.Fatalf("no map published: %s", describe(outs))
	}
	if e := math.Abs(fm.Scale-1/1.1) * 1.1; e > 0.02 {
		t.Errorf("scale %.4f, want %.4f", fm.Scale, 1/1.1)
	}
	for _, m := range fm.Markers {
		x, y := ringPos(3, 12, m.ID)
		if d := math.Hypot(m.XM-x, m.YM-y); d > 0.05 {
			t.Errorf("marker %d off by %.3f m", m.ID, d)
		}
	}
	if fm.MappedBy != "r1" || len(fm.Markers) != 12 {
		t.Fatalf("map %+v", fm)
	}
	// Both robots get their routes now that the map exists.
	d1 := h.routeThenResume(outs, "r1")
	d2 := h.routeThenResume(outs, "r2")
	if d1.Released != 2 || d1.Step != 0 || len(d2.Route) != 3 {
		t.Fatalf("routes %+v %+v", d1, d2)
	}
	if saved, err := h.st.Map(); err != nil || saved.Scale != fm.Scale {
		t.Fatalf("stored map %v %v", saved, err)
	}
	if h.c.Fleet().Mapper != "" || !h.c.Fleet().HasMap {
		t.Fatal("fleet view still mapping")
	}
}

func TestMappingConfiguredMapperAndFailure(t *testing.T) {
	h := newHarness(t, Config{Missions: missionsFile(t, twoRobots+"mapper: r2\n"), MapRetry: 2 * time.Second}, nil)
	if outs := h.must("r1", status(topics.StateOnline)); allDirectives(outs) != 0 {
		t.Fatalf("r1 is not the mapper: %s", describe(outs))
	}
	h.one(h.must("r2", status(topics.StateOnline)), "r2", topics.DirMap)
	// A sweep that saw too little fails, is counted, and is retried later.
	outs := h.must("r2", &topics.Event{Kind: topics.EventMapDone})
	if len(outs) != 0 || h.c.Stats().SweepFailures != 1 {
		t.Fatalf("failed sweep: %s, stats %+v", describe(outs), h.c.Stats())
	}
	if outs := h.tick(time.Second); allDirectives(outs) != 0 {
		t.Fatalf("retried too early: %s", describe(outs))
	}
	h.must("r1", status(topics.StateIdle))
	h.must("r2", status(topics.StateIdle))
	h.one(h.tick(1500*time.Millisecond), "r2", topics.DirMap)
	// The mapper going offline aborts the sweep.
	h.must("r2", status(topics.StateOffline))
	if h.c.Fleet().Mapper != "" {
		t.Fatal("sweep not aborted")
	}
	if _, err := h.send("r1", &topics.Event{Kind: topics.EventMapDone}); !errors.Is(err, ErrRejected) {
		t.Fatalf("map_done from a non-mapper: %v", err)
	}
}

// withMap stores a map so that the core starts with it.
func withMap(t *testing.T, path string) {
	t.Helper()
	st := openStoreNoCleanup(t, path)
	m := ring(3, 12)
	m.Header = topics.Stamp(Sender, 1, t0)
	if err := st.SaveMap(m); err != nil {
		t.Fatal(err)
	}
	st.Close()
}

func TestMissionCheckpoints(t *testing.T) {
	path := filepath.Join(t.TempDir(), "o.db")
	withMap(t, path)
	h := newHarness(t, Config{Missions: missionsFile(t, twoRobots)}, openStore(t, path))
	e := h.c.Epoch()
	d := h.routeThenResume(h.must("r1", status(topics.StateIdle)), "r1")
	if d.Released != 2 || d.Step != 0 || d.Route[2] != 3 {
		t.Fatalf("first route %+v", d)
	}
	steps := []struct {
		name      string
		cp        *topics.Checkpoint
		wantErr   error
		wantRoute bool
		released  int
		reached   int
	}{
		{"step 0 releases step 2", checkpoint(e, 0, 0, false), nil, true, 3, 1},
		{"duplicate ignored", checkpoint(e, 0, 0, false), nil, false, 0, 1},
		{"wrong marker rejected", checkpoint(e, 1, 4, false), ErrRejected, false, 0, 1},
		{"future epoch rejected", checkpoint(e+1, 1, 6, false), ErrRejected, false, 0, 1},
		{"step 1: all released already", checkpoint(e, 1, 6, false), nil, false, 0, 2},
		{"final", checkpoint(e, 2, 3, true), nil, false, 0, 3},
		{"duplicate final", checkpoint(e, 2, 3, true), nil, false, 0, 3},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			outs, err := h.send("r1", s.cp)
			if !errors.Is(err, s.wantErr) {
				t.Fatalf("err = %v, want %v", err, s.wantErr)
			}
			ds := directives(outs, "r1")
			if s.wantRoute {
				if len(ds) != 1 || ds[0].Kind != topics.DirRoute || ds[0].Released != s.released || ds[0].Step != s.reached {
					t.Fatalf("route directive: %s %+v", describe(outs), ds)
				}
			} else if len(ds) != 0 {
				t.Fatalf("unexpected directives %s", describe(outs))
			}
			ms, _ := h.st.Missions()
			if ms["r1"].Reached != s.reached {
				t.Fatalf("stored reached %d, want %d", ms["r1"].Reached, s.reached)
			}
		})
	}
	st := h.c.Stats()
	if st.Checkpoints != 3 || st.Duplicates != 2 || st.RejectedBy["checkpoint"] != 2 {
		t.Fatalf("stats %+v", st)
	}
	if v := h.c.Fleet(); !v.Robots[0].Done {
		t.Fatalf("fleet %+v", v.Robots[0])
	}
	if _, err := h.send("r9", checkpoint(e, 0, 0, false)); !errors.Is(err, ErrRejected) {
		t.Fatalf("checkpoint of a robot without mission: %v", err)
	}
}

func TestCheckpointNotPersistedIsNotHandled(t *testing.T) {
	path := filepath.Join(t.TempDir(), "o.db")
	withMap(t, path)
	h := newHarness(t, Config{Missions: missionsFile(t, twoRobots)}, openStore(t, path))
	h.must("r1", status(topics.StateIdle))
	h.st.fail = true
	if _, err := h.send("r1", checkpoint(h.c.Epoch(), 0, 0, false)); err == nil || errors.Is(err, ErrRejected) {
		t.Fatalf("err = %v, want a storage error", err)
	}
	h.st.fail = false
	// Redelivered, it is applied (not a duplicate) and releases step 2.
	d := h.one(h.must("r1", checkpoint(h.c.Epoch(), 0, 0, false)), "r1", topics.DirRoute)
	if d.Released != 3 || h.c.Stats().Duplicates != 0 {
		t.Fatalf("after redelivery %+v %+v", d, h.c.Stats())
	}
}

func TestRestartKeepsProgress(t *testing.T) {
	path := filepath.Join(t.TempDir(), "o.db")
	withMap(t, path)
	f := missionsFile(t, twoRobots)

	st1 := openStoreNoCleanup(t, path)
	h1 := newHarness(t, Config{Missions: f}, st1)
	e1 := h1.c.Epoch()
	h1.must("r1", status(topics.StateIdle))
	h1.must("r1", checkpoint(e1, 0, 0, false))
	h1.tick(100 * time.Millisecond)
	st1.Close()

	h := newHarness(t, Config{Missions: f}, openStore(t, path))
	if h.c.Epoch() <= e1 {
		t.Fatalf("epoch %d after %d", h.c.Epoch(), e1)
	}
	outs := h.c.Announce(h.now)
	if len(outs) != 3 || outs[1].Topic != topics.TopicFleetMap {
		t.Fatalf("Announce = %s", describe(outs))
	}
	// Nothing moves before the robot is heard from again.
	for i := 0; i < 5; i++ {
		if outs := h.tick(100 * time.Millisecond); allDirectives(outs) != 0 {
			t.Fatalf("directive before resync: %s", describe(outs))
		}
	}
	// Its retained status resynchronises it from the persisted next step.
	d := h.routeThenResume(h.must("r1", &topics.Status{State: topics.StateFailsafe, Epoch: e1, Step: 1}), "r1")
	if d.Step != 1 || d.Released != 3 || d.Epoch <= e1 {
		t.Fatalf("resync route %+v", d)
	}
	// The checkpoint reached before the restart is a duplicate now.
	if outs := h.must("r1", checkpoint(e1, 0, 0, false)); len(outs) != 0 || h.c.Stats().Duplicates != 1 {
		t.Fatalf("old checkpoint: %s", describe(outs))
	}
	if m := h.c.Map(); m == nil || len(m.Markers) != 12 {
		t.Fatal("map lost")
	}
}

func TestOffline(t *testing.T) {
	path := filepath.Join(t.TempDir(), "o.db")
	withMap(t, path)
	tests := []struct {
		name   string
		goOff  func(h *harness)
		reason string
	}{
		{"silence", func(h *harness) {
			for i := 0; i < 8; i++ {
				h.now = h.now.Add(500 * time.Millisecond)
				h.must("r2", status(topics.StateMoving))
				h.c.Tick(h.now)
			}
		}, "silence"},
		{"will", func(h *harness) { h.must("r1", status(topics.StateOffline)); h.tick(50 * time.Millisecond) }, "will"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, Config{Missions: missionsFile(t, twoRobots)}, openStore(t, filepath.Join(t.TempDir(), "o.db")))
			h.c.fmap = ring(3, 12)
			x, y, dist, tgt := 1.0, 0.2, 0.4, 0
			h.must("r1", status(topics.StateIdle))
			h.must("r2", status(topics.StateIdle))
			h.must("r1", &topics.Pose{State: topics.StateMoving, XM: &x, YM: &y, DistanceM: &dist, Target: &tgt})
			h.tick(50 * time.Millisecond)
			if r, _ := h.pl.last("r1"); !r.Online || !r.HasTarget || r.RemainingM != 0.4 {
				t.Fatalf("online input %+v", r)
			}
			tc.goOff(h)
			r, ok := h.pl.last("r1")
			if !ok || r.Online || r.Pos != (traffic.Point{X: 1, Y: 0.2}) {
				t.Fatalf("offline input %+v", r)
			}
			if rb := h.c.Fleet().Robots[0]; rb.Online || rb.OfflineReason != tc.reason {
				t.Fatalf("fleet view %+v", rb)
			}
			// Back online: its route is re-issued.
			h.routeThenResume(h.must("r1", status(topics.StateIdle)), "r1")
		})
	}
}

func TestTrafficHolds(t *testing.T) {
	path := filepath.Join(t.TempDir(), "o.db")
	withMap(t, path)
	h := newHarness(t, Config{Missions: missionsFile(t, twoRobots)}, openStore(t, path))
	h.must("r1", status(topics.StateIdle))
	h.must("r2", status(topics.StateIdle))
	h.pl.next = []traffic.Order{{Robot: "r2", Hold: true, With: "r1", Reason: "crossing r1", At: traffic.Point{X: 0.5, Y: 0.25}}}
	h.one(h.tick(50*time.Millisecond), "r2", topics.DirHold)
	if ah := h.c.ActiveHolds(); len(ah) != 1 || ah[0].Robot != "r2" || ah[0].With != "r1" || ah[0].XM != 0.5 || ah[0].Source != "traffic" {
		t.Fatalf("active holds %+v", ah)
	}
	if r, _ := h.pl.last("r2"); !r.HasTarget || r.Holding {
		t.Fatalf("input before the hold %+v", r)
	}
	h.tick(50 * time.Millisecond)
	if r, _ := h.pl.last("r2"); !r.Holding {
		t.Fatalf("input during the hold %+v", r)
	}
	// A checkpoint while held: the new route waits for the release.
	if outs := h.must("r2", checkpoint(h.c.Epoch(), 0, 9, false)); allDirectives(outs) != 0 {
		t.Fatalf("route sent to a held robot: %s", describe(outs))
	}
	h.pl.next = []traffic.Order{{Robot: "r2", Hold: false}}
	d := h.routeThenResume(h.tick(2*time.Second), "r2")
	if d.Step != 1 || d.Released != 3 {
		t.Fatalf("release route %+v", d)
	}
	h.pl.next = []traffic.Order{{Robot: "r1", Hold: true, With: "r2"}}
	h.one(h.tick(50*time.Millisecond), "r1", topics.DirHold)
	h.pl.next = []traffic.Order{{Robot: "r1", Hold: false}}
	h.one(h.tick(time.Second), "r1", topics.DirResume)
	st := h.c.Stats()
	if st.HoldsIssued != 2 || st.HoldsFinished != 2 || st.HoldMax != 2050*time.Millisecond || len(st.RecentHolds) != 2 || st.RecentHolds[0].With != "r1" {
		t.Fatalf("stats %+v", st)
	}
}

func TestHeadOn(t *testing.T) {
	h := headOnPair(t, "")
	if _, err := h.send("r1", &topics.Event{Kind: topics.EventBlocked, Other: "ghost", Face: topics.FaceFront}); !errors.Is(err, ErrRejected) {
		t.Fatalf("blocked by an unknown robot: %v", err)
	}
	outs := h.must("r1", &topics.Event{Kind: topics.EventBlocked, Other: "r2", Face: topics.FaceFront})
	if b := h.one(outs, "r2", topics.DirBackoff); b.BackoffM != 0.25 {
		t.Fatalf("backoff %+v", b)
	}
	h.one(outs, "r1", topics.DirHold)
	if outs := h.must("r2", &topics.Event{Kind: topics.EventBlocked, Other: "r1", Face: topics.FaceFront}); len(outs) != 0 {
		t.Fatalf("second report: %s", describe(outs))
	}
	h.must("r2", facing("r2", topics.StateBackingUp))
	if len(h.pl.yields) != 0 {
		t.Fatalf("Yield asked while the backer backs off: %v", h.pl.yields)
	}
	h.one(h.must("r2", facing("r2", topics.StateHolding)), "r1", topics.DirResume)
	// The backer stands, held: the planner may let the waiter go first.
	if want := [][2]string{{"r2", "r1"}}; !slices.Equal(h.pl.yields, want) {
		t.Fatalf("Yield calls %v, want %v", h.pl.yields, want)
	}
	// The waiter passes: its checkpoint frees the backer.
	outs = h.must("r1", checkpoint(h.c.Epoch(), 0, 0, false))
	h.one(outs, "r2", topics.DirResume)
	if st := h.c.Stats(); st.HeadOns != 1 || st.HoldsFinished != 2 {
		t.Fatalf("stats %+v", st)
	}
	// Timeouts free both when nothing is heard.
	h.must("r2", &topics.Event{Kind: topics.EventBlocked, Other: "r1", Face: topics.FaceFront})
	outs = h.tick(5 * time.Second)
	h.one(outs, "r1", topics.DirResume)
	if len(directives(outs, "r2")) != 0 {
		t.Fatalf("backer freed with the waiter: %s", describe(outs))
	}
	h.one(h.tick(30*time.Second), "r2", topics.DirResume)
}

// Once the planner lets the waiter go first past the backer where it
// stands, the backer never moves for that head-on again: the waiter's way
// was judged clear of where it stood, and a backoff drives blind.
func TestHeadOnNeverMovesABackerTheWaiterGoesFirstPast(t *testing.T) {
	for _, yielded := range []bool{false, true} {
		t.Run(fmt.Sprintf("yielded=%v", yielded), func(t *testing.T) {
			goer := ""
			if yielded {
				goer = "r1"
			}
			h := headOnPair(t, goer)
			h.one(h.must("r1", &topics.Event{Kind: topics.EventBlocked, Other: "r2", Face: topics.FaceFront}), "r2", topics.DirBackoff)
			h.must("r2", facing("r2", topics.StateBackingUp))
			h.one(h.must("r2", facing("r2", topics.StateHolding)), "r1", topics.DirResume)
			// The waiter is blocked by the backer again.
			outs := h.must("r1", &topics.Event{Kind: topics.EventBlocked, Other: "r2", Face: topics.FaceFront})
			backs := 0
			for _, d := range directives(outs, "r2") {
				if d.Kind == topics.DirBackoff {
					backs++
				}
			}
			if yielded && backs != 0 {
				t.Fatalf("backer told to back off again after the waiter went first past it: %s", describe(outs))
			}
			if !yielded && backs != 1 {
				t.Fatalf("backer not told to back off again (no yield): %s", describe(outs))
			}
		})
	}
}

// A robot the operator stopped or held never backs off, whoever the
// planner names: the other robot does, and when both are latched neither
// moves.
func TestHeadOnNeverMovesALatchedRobot(t *testing.T) {
	for _, latch := range []string{"stop", "hold", "fleet stop"} {
		t.Run(latch, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "o.db")
			withMap(t, path)
			h := newHarness(t, Config{Missions: missionsFile(t, twoRobots), SilenceTimeout: time.Minute}, openStore(t, path))
			h.pl.backer = "r2" // the planner would have r2 back off
			h.must("r1", status(topics.StateMoving))
			h.must("r2", status(topics.StateMoving))
			faceToFace(h)
			switch latch {
			case "stop":
				must(h.c.Stop(h.now, "r2"))
			case "hold":
				must(h.c.Hold(h.now, "r2"))
			case "fleet stop":
				h.c.FleetStop(h.now)
			}
			outs := h.must("r1", &topics.Event{Kind: topics.EventBlocked, Other: "r2", Face: topics.FaceFront})
			for _, d := range directives(outs, "r2") {
				if d.Kind == topics.DirBackoff {
					t.Fatalf("r2, latched by %s, told to back off: %s", latch, describe(outs))
				}
			}
			if latch == "fleet stop" {
				if len(outs) != 0 {
					t.Fatalf("head-on during a fleet stop: %s, want nobody moved", describe(outs))
				}
				return
			}
			h.one(outs, "r1", topics.DirBackoff)
		})
	}
}

// A backoff drives blind: a robot with another robot close behind it is
// not told to back off; the other robot of the head-on is, and when both
// have a robot behind them, neither.
func TestHeadOnNeverBacksIntoARobot(t *testing.T) {
	const three = `
arena: {diameter_m: 3}
robots:
  r1: {route: [0, 6, 3]}
  r2: {route: [9, 3, 0]}
  r3: {route: [4, 10]}
`
	behind := func(y float64) *topics.Pose {
		x, theta := 0.0, 0.0
		return &topics.Pose{State: topics.StateHolding, XM: &x, YM: &y, ThetaRad: &theta}
	}
	for _, tc := range []struct {
		name   string
		r3y    float64 // where r3 stands, facing +x, on the y axis
		backer string
	}{
		{"nobody behind", 1.4, "r2"},
		{"a robot behind r2", 0.62, "r1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "o.db")
			withMap(t, path)
			h := newHarness(t, Config{Missions: missionsFile(t, three), SilenceTimeout: time.Minute}, openStore(t, path))
			h.pl.backer = "r2"
			for _, id := range []string{"r1", "r2", "r3"} {
				h.must(id, status(topics.StateMoving))
			}
			faceToFace(h)
			h.must("r3", behind(tc.r3y))
			outs := h.must("r1", &topics.Event{Kind: topics.EventBlocked, Other: "r2", Face: topics.FaceFront})
			h.one(outs, tc.backer, topics.DirBackoff)
		})
	}
	// A robot behind each: neither backs off.
	path := filepath.Join(t.TempDir(), "o.db")
	withMap(t, path)
	const four = three + "  r4: {route: [5, 11]}\n"
	h := newHarness(t, Config{Missions: missionsFile(t, four), SilenceTimeout: time.Minute}, openStore(t, path))
	for _, id := range []string{"r1", "r2", "r3", "r4"} {
		h.must(id, status(topics.StateMoving))
	}
	faceToFace(h)
	h.must("r3", behind(0.62))
	h.must("r4", behind(-0.62))
	outs := h.must("r1", &topics.Event{Kind: topics.EventBlocked, Other: "r2", Face: topics.FaceFront})
	for _, id := range []string{"r1", "r2"} {
		for _, d := range directives(outs, id) {
			if d.Kind == topics.DirBackoff {
				t.Fatalf("%s told to back off into the robot behind it: %s", id, describe(outs))
			}
		}
	}
}

func TestOperator(t *testing.T) {
	path := filepath.Join(t.TempDir(), "o.db")
	withMap(t, path)
	h := newHarness(t, Config{Missions: missionsFile(t, twoRobots)}, openStore(t, path))
	h.must("r1", status(topics.StateIdle))
	h.one(must(h.c.Hold(h.now, "r1")), "r1", topics.DirHold)
	h.one(must(h.c.Stop(h.now, "r1")), "r1", topics.DirStop)
	if ah := h.c.ActiveHolds(); len(ah) != 2 || ah[0].Source != "operator" || ah[1].Source != "stop" {
		t.Fatalf("active holds %+v", ah)
	}
	// A new mission waits behind the operator's hold and goes out on resume.
	if outs := must(h.c.SetMission(h.now, "r1", []int{5, 4})); len(outs) != 0 {
		t.Fatalf("route to a held robot: %s", describe(outs))
	}
	d := h.routeThenResume(must(h.c.Resume(h.now, "r1")), "r1")
	if d.Route[0] != 5 || d.Step != 0 {
		t.Fatalf("new route %+v", d)
	}
	if outs := h.c.FleetStop(h.now); len(outs) != 1 || outs[0].Payload.(*topics.FleetCommand).Kind != topics.FleetStop {
		t.Fatalf("fleet stop %s", describe(outs))
	}
	if _, err := h.c.Sweep(h.now, ""); !errors.Is(err, ErrConflict) {
		t.Fatalf("sweep while stopped: %v", err)
	}
	if outs := must(h.c.SetMission(h.now, "r2", []int{1, 2})); len(outs) != 0 {
		t.Fatalf("route during a fleet stop: %s", describe(outs))
	}
	// A robot that comes online during a fleet stop gets its route and the
	// resume of its own latches: the fleet stop, retained on fleet/cmd,
	// still holds it. Lifting the fleet stop then sends only that.
	h.routeThenResume(h.must("r2", status(topics.StateIdle)), "r2")
	outs := h.c.FleetResume(h.now)
	if len(outs) != 1 || outs[0].Topic != topics.TopicFleetCmd {
		t.Fatalf("fleet resume: %s", describe(outs))
	}
	h.one(must(h.c.Sweep(h.now, "r2")), "r2", topics.DirMap)
	if _, err := h.c.Sweep(h.now, "r1"); !errors.Is(err, ErrConflict) {
		t.Fatalf("second sweep: %v", err)
	}
	errs := []struct {
		name string
		err  error
		is   error
	}{
		{"unknown robot", second(h.c.Hold(h.now, "nobody")), ErrUnknownRobot},
		{"bad id", second(h.c.Stop(h.now, "a/b")), nil},
		{"not on map", second(h.c.SetMission(h.now, "r1", []int{1, 99})), nil},
		{"empty route", second(h.c.SetMission(h.now, "r1", nil)), nil},
		{"final goal of r2", second(h.c.SetMission(h.now, "r1", []int{6, 2})), ErrConflict},
	}
	for _, e := range errs {
		if e.err == nil || (e.is != nil && !errors.Is(e.err, e.is)) {
			t.Errorf("%s: err = %v", e.name, e.err)
		}
	}
}

func must(outs []Out, err error) []Out {
	if err != nil {
		panic(err)
	}
	return outs
}

func second(_ []Out, err error) error { return err }

func TestRestartMissionSource(t *testing.T) {
	path := filepath.Join(t.TempDir(), "o.db")
	withMap(t, path)
	st := openStoreNoCleanup(t, path)
	h := newHarness(t, Config{Missions: missionsFile(t, twoRobots)}, st)
	h.must("r1", status(topics.StateIdle))
	h.must("r1", checkpoint(h.c.Epoch(), 0, 0, false))
	must(h.c.SetMission(h.now, "r2", []int{7, 8}))
	st.Close()

	edited := `
arena: {diameter_m: 3}
robots:
  r1: {route: [0, 6, 3]}
  r2: {route: [9, 3, 0]}
  r3: {route: [1]}
`
	tests := []struct {
		name      string
		file      string
		r1Reached int
		r2Route   []int
	}{
		{"same file keeps progress and operator missions", twoRobots, 1, []int{7, 8}},
		{"edited robot starts the file's route", strings.Replace(edited, "[9, 3, 0]", "[9, 4]", 1), 1, []int{9, 4}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := openStoreNoCleanup(t, path)
			defer st.Close()
			h := newHarness(t, Config{Missions: missionsFile(t, tc.file)}, st)
			v := h.c.Fleet()
			got := map[string]RobotView{}
			for _, r := range v.Robots {
				got[r.ID] = r
			}
			if got["r1"].Reached != tc.r1Reached || !slices.Equal(got["r2"].Route, tc.r2Route) {
				t.Fatalf("r1 %+v r2 %+v", got["r1"], got["r2"])
			}
		})
	}
}

// A planner may ask for a back-off to end a jam: the core settles it as a
// head-on (the robot backs off, the other waits, Yield once it stands),
// and refuses it for a latched robot, one with a robot close behind it, or
// a back-off the planner checked for another length than the core's.
func TestPlannerBackoffIsAHeadOn(t *testing.T) {
	for _, tc := range []struct {
		name  string
		latch bool
		dist  float64
		want  bool
	}{{"free", false, 0.25, true}, {"stopped by the operator", true, 0.25, false},
		{"planned for another back-off length", false, 0.40, false}} {
		t.Run(tc.name, func(t *testing.T) {
			h := headOnPair(t, "")
			if tc.latch {
				must(h.c.Stop(h.now, "r2"))
			}
			h.pl.next = []traffic.Order{{Robot: "r2", Hold: true, BackoffM: tc.dist, With: "r1", Reason: "jam"}}
			outs := h.tick(time.Second)
			backs := 0
			for _, d := range directives(outs, "r2") {
				if d.Kind == topics.DirBackoff {
					backs++
				}
			}
			if !tc.want {
				if backs != 0 || h.c.Stats().Jams != 0 {
					t.Fatalf("%s: r2 asked to back off: %s", tc.name, describe(outs))
				}
				return
			}
			if backs != 1 || h.c.Stats().Jams != 1 {
				t.Fatalf("planner's back-off: %s, stats %+v", describe(outs), h.c.Stats())
			}
			h.one(outs, "r1", topics.DirHold)
			if r, _ := h.pl.last("r1"); r.Stands {
				t.Fatalf("r1 stands for the planner before the head-on: %+v", r)
			}
			h.tick(100 * time.Millisecond)
			if r, _ := h.pl.last("r2"); !r.Stands || !r.HasHeading {
				t.Fatalf("r2 backing off, as the planner sees it: %+v, want Stands and a heading", r)
			}
			h.must("r2", facing("r2", topics.StateBackingUp))
			h.one(h.must("r2", facing("r2", topics.StateHolding)), "r1", topics.DirResume)
			if want := [][2]string{{"r2", "r1"}}; !slices.Equal(h.pl.yields, want) {
				t.Fatalf("Yield calls %v, want %v", h.pl.yields, want)
			}
		})
	}
}

// Legs the planner reserves without an order that finishes every route
// (the missions cannot be driven one robot at a time from where the robots
// stand) are counted, and warned of, once each.
func TestPlannerStallsAreCounted(t *testing.T) {
	h := headOnPair(t, "")
	h.tick(time.Second)
	if n := h.c.Stats().Stalls; n != 0 {
		t.Fatalf("stalls %d before any", n)
	}
	h.pl.stalls = 1
	h.tick(time.Second)
	h.tick(time.Second)
	if n := h.c.Stats().Stalls; n != 1 {
		t.Fatalf("stalls %d after one, want 1", n)
	}
	h.pl.stalls = 3
	h.tick(time.Second)
	if n := h.c.Stats().Stalls; n != 3 {
		t.Fatalf("stalls %d after three, want 3", n)
	}
}
