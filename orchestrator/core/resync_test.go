package core

import (
	"path/filepath"
	"testing"
	"time"

	"collaborate/orchestrator/traffic"
	"collaborate/topics"
)

// beat is a robot heartbeat saying what it applied.
func beat(state string, epoch, seq, routeEpoch, routeSeq uint64) *topics.Heartbeat {
	return &topics.Heartbeat{State: state, Epoch: epoch, CmdSeq: seq, RouteEpoch: routeEpoch, RouteSeq: routeSeq}
}

// inSync reports what a robot that applied every directive of outs says.
func lastSeqs(outs []Out, robot string) (last, route uint64) {
	for _, d := range directives(outs, robot) {
		last = d.Seq
		if d.Kind == topics.DirRoute {
			route = d.Seq
		}
	}
	return last, route
}

// A robot that reports, long enough after the last directive sent to it,
// an older directive than that one lost it (a broker restart, a cut link):
// it gets fresh directives. One that reports it applied everything does
// not. Reports that may predate the directive's arrival do not count.
func TestResyncLostDirective(t *testing.T) {
	path := filepath.Join(t.TempDir(), "o.db")
	withMap(t, path)
	h := newHarness(t, Config{Missions: missionsFile(t, twoRobots)}, openStore(t, path))
	e := h.c.Epoch()
	d := h.routeThenResume(h.must("r1", status(topics.StateIdle)), "r1")
	last := d.Seq + 1
	// In sync: nothing, however long.
	for i := 0; i < 10; i++ {
		h.must("r1", beat(topics.StateMoving, e, last, e, d.Seq))
		if outs := h.tick(500 * time.Millisecond); allDirectives(outs) != 0 {
			t.Fatalf("resync of a robot in sync: %s", describe(outs))
		}
	}
	// A hold that never arrives.
	resyncs := h.c.Stats().Resyncs // coming online was one
	h.pl.next = []traffic.Order{{Robot: "r1", Hold: true, With: "r2", Reason: "crossing r2"}}
	hold := h.one(h.tick(100*time.Millisecond), "r1", topics.DirHold)
	// Reports within ResyncAfter of the hold may have crossed it.
	h.now = h.now.Add(900 * time.Millisecond)
	h.must("r1", beat(topics.StateMoving, e, last, e, d.Seq))
	if outs := h.tick(0); allDirectives(outs) != 0 {
		t.Fatalf("resync on a report that may predate the hold: %s", describe(outs))
	}
	h.now = h.now.Add(200 * time.Millisecond)
	h.must("r1", beat(topics.StateMoving, e, last, e, d.Seq))
	outs := h.tick(0)
	ds := directives(outs, "r1")
	if len(ds) != 2 || ds[0].Kind != topics.DirRoute || ds[1].Kind != topics.DirHold || ds[1].Seq <= hold.Seq {
		t.Fatalf("resync after a lost hold: %s, want route then hold", describe(outs))
	}
	if n := h.c.Stats().Resyncs - resyncs; n != 1 {
		t.Fatalf("resyncs %d, want 1", n)
	}
	// Applied: quiet again.
	last, route := lastSeqs(outs, "r1")
	for i := 0; i < 6; i++ {
		h.must("r1", beat(topics.StateHolding, e, last, e, route))
		if outs := h.tick(500 * time.Millisecond); allDirectives(outs) != 0 {
			t.Fatalf("resync after the robot caught up: %s", describe(outs))
		}
	}
}

// A robot that restarted within the silence timeout applies the retained
// last directive and looks in sync by its cmd_seq, but its heartbeat shows
// no route: it gets its route again. Its status alone (no route seq) does
// not trigger that.
func TestResyncRestartedRobot(t *testing.T) {
	path := filepath.Join(t.TempDir(), "o.db")
	withMap(t, path)
	h := newHarness(t, Config{Missions: missionsFile(t, twoRobots)}, openStore(t, path))
	e := h.c.Epoch()
	d := h.routeThenResume(h.must("r1", status(topics.StateIdle)), "r1")
	h.now = h.now.Add(2 * time.Second)
	h.must("r1", &topics.Status{State: topics.StateIdle, Epoch: e, CmdSeq: d.Seq + 1})
	if outs := h.tick(0); allDirectives(outs) != 0 {
		t.Fatalf("resync on a status: %s", describe(outs))
	}
	h.must("r1", beat(topics.StateIdle, e, d.Seq+1, 0, 0))
	h.routeThenResume(h.tick(0), "r1")
}

// A robot in failsafe (it lost its link and the orchestrator did not see it
// go) waits for a fresh directive: it gets one, and the latch in force.
// An operator's stop is never lifted by it, nor by a restart of the
// orchestrator.
func TestResyncFailsafeKeepsOperatorLatches(t *testing.T) {
	path := filepath.Join(t.TempDir(), "o.db")
	withMap(t, path)
	st := openStoreNoCleanup(t, path)
	h := newHarness(t, Config{Missions: missionsFile(t, twoRobots)}, st)
	e := h.c.Epoch()
	h.routeThenResume(h.must("r1", status(topics.StateIdle)), "r1")
	h.routeThenResume(h.must("r2", status(topics.StateIdle)), "r2")
	stop := h.one(must(h.c.Stop(h.now, "r2")), "r2", topics.DirStop)
	h.c.FleetStop(h.now)
	h.now = h.now.Add(2 * time.Second)
	h.must("r1", beat(topics.StateFailsafe, e, 0, 0, 0))
	h.must("r2", beat(topics.StateFailsafe, e, stop.Seq, e, 0))
	outs := h.tick(0)
	h.routeThenResume(outs, "r1")
	ds := directives(outs, "r2")
	if len(ds) != 2 || ds[0].Kind != topics.DirRoute || ds[1].Kind != topics.DirStop {
		t.Fatalf("resync of a stopped robot: %s, want route then stop", describe(outs))
	}
	if err := h.c.Persist(); err != nil { // what the Runner does after every operator command
		t.Fatal(err)
	}
	st.Close()

	// A new run of the orchestrator on the same state.
	h = newHarness(t, Config{Missions: missionsFile(t, twoRobots)}, openStore(t, path))
	ann := h.c.Announce(h.now)
	if f, ok := ann[len(ann)-1].Payload.(*topics.FleetCommand); !ok || f.Kind != topics.FleetStop || !ann[len(ann)-1].Retain {
		t.Fatalf("announce after a restart during a fleet stop: %s", describe(ann))
	}
	ds = directives(h.must("r2", beat(topics.StateFailsafe, e, stop.Seq, e, 0)), "r2")
	if len(ds) != 2 || ds[0].Kind != topics.DirRoute || ds[1].Kind != topics.DirStop {
		t.Fatalf("r2 after the restart: %v, want route then stop", ds)
	}
	if ah := h.c.ActiveHolds(); len(ah) != 1 || ah[0].Robot != "r2" || ah[0].Source != "stop" {
		t.Fatalf("active holds after the restart %+v", ah)
	}
	h.one(must(h.c.Resume(h.now, "r2")), "r2", topics.DirResume)
}

// A robot held by the traffic control that goes offline and comes back
// gets its route and the hold, is planned again with its route (not
// rejected and forgotten), and is released by the planner's order.
func TestHeldOfflineThenBackIsReleased(t *testing.T) {
	path := filepath.Join(t.TempDir(), "o.db")
	withMap(t, path)
	h := newHarness(t, Config{Missions: missionsFile(t, twoRobots)}, openStore(t, path))
	e := h.c.Epoch()
	h.routeThenResume(h.must("r1", status(topics.StateIdle)), "r1")
	h.routeThenResume(h.must("r2", status(topics.StateIdle)), "r2")
	h.must("r2", checkpoint(e, 0, 9, false))
	h.pl.next = []traffic.Order{{Robot: "r2", Hold: true, With: "r1", Reason: "crossing r1"}}
	h.one(h.tick(50*time.Millisecond), "r2", topics.DirHold)
	for i := 0; i < 6; i++ { // r2 falls silent, r1 goes on
		h.must("r1", beat(topics.StateMoving, e, 0, 0, 0))
		h.tick(500 * time.Millisecond)
	}
	r, ok := h.pl.last("r2")
	if !ok || r.Online || r.Step > len(r.Route) {
		t.Fatalf("offline r2 as the planner sees it: %+v", r)
	}
	outs := h.must("r2", beat(topics.StateFailsafe, e, 0, 0, 0))
	ds := directives(outs, "r2")
	if len(ds) != 2 || ds[0].Kind != topics.DirRoute || ds[1].Kind != topics.DirHold || ds[0].Step != 1 {
		t.Fatalf("r2 back: %s, want its route from step 1 then the hold", describe(outs))
	}
	h.tick(50 * time.Millisecond)
	if r, _ := h.pl.last("r2"); !r.Online || len(r.Route) != 3 || r.Step != 1 || !r.Holding {
		t.Fatalf("r2 back as the planner sees it: %+v", r)
	}
	h.pl.next = []traffic.Order{{Robot: "r2", Hold: false}}
	h.one(h.tick(50*time.Millisecond), "r2", topics.DirResume)
}

// The orchestrator's heartbeat: one per HeartbeatEvery, with the epoch, on
// its own seq (the directives' seq, saved to disk, does not move).
func TestHeartbeat(t *testing.T) {
	h := newHarness(t, Config{DiameterM: 3}, nil)
	seq0 := h.c.seq
	var got []*topics.OrchestratorHeartbeat
	for i := 0; i < 20; i++ {
		for _, o := range h.c.Heartbeat(h.now) {
			if o.Topic != topics.TopicOrchestratorHeartbeat || o.QoS != 0 || o.Retain {
				t.Fatalf("heartbeat out %+v", o)
			}
			got = append(got, o.Payload.(*topics.OrchestratorHeartbeat))
		}
		h.now = h.now.Add(100 * time.Millisecond)
	}
	if len(got) != 10 {
		t.Fatalf("%d heartbeats in 2 s, want 10", len(got))
	}
	for i, hb := range got {
		if hb.Epoch != h.c.Epoch() || hb.Seq != uint64(i+1) {
			t.Fatalf("heartbeat %d = %+v", i, hb)
		}
	}
	if h.c.seq != seq0 {
		t.Fatalf("heartbeats moved the directive seq from %d to %d", seq0, h.c.seq)
	}
}

// A waiter blocked again by its backer once freed makes the backer back off
// again, up to MaxBackoffs, then the two swap roles; a robot left blocked
// with no head-on deciding for it (its report came while the other robot
// was in another head-on) gets fresh directives after BlockedRetry.
func TestBlockedAgain(t *testing.T) {
	h := headOnPair(t, "")
	blocked := &topics.Event{Kind: topics.EventBlocked, Other: "r2", Face: topics.FaceFront}
	outs := h.must("r1", blocked)
	h.one(outs, "r2", topics.DirBackoff)
	h.one(outs, "r1", topics.DirHold)
	for i := 2; i <= 3; i++ {
		h.must("r2", facing("r2", topics.StateBackingUp))
		h.one(h.must("r2", facing("r2", topics.StateHolding)), "r1", topics.DirResume)
		outs = h.must("r1", blocked)
		h.one(outs, "r2", topics.DirBackoff)
		h.one(outs, "r1", topics.DirHold)
	}
	h.must("r2", facing("r2", topics.StateBackingUp))
	h.one(h.must("r2", facing("r2", topics.StateHolding)), "r1", topics.DirResume)
	outs = h.must("r1", blocked)
	h.one(outs, "r1", topics.DirBackoff) // roles swapped
	if ds := directives(outs, "r2"); len(ds) != 2 || ds[0].Kind != topics.DirResume || ds[1].Kind != topics.DirHold {
		t.Fatalf("swap: r2 got %s, want resume (freed backer) then hold (new waiter)", describe(outs))
	}
	if st := h.c.Stats(); st.HeadOns != 2 {
		t.Fatalf("head-ons %d, want 2", st.HeadOns)
	}

	// A blocked report while the other robot is busy in another head-on is
	// not decided: after BlockedRetry, r2 gets fresh directives.
	h2 := newHarness(t, Config{Missions: missionsFile(t, twoRobots), SilenceTimeout: time.Minute}, openStore(t, filepath.Join(t.TempDir(), "o.db")))
	h2.c.fmap = ring(3, 12)
	e := h2.c.Epoch()
	h2.must("r1", status(topics.StateMoving))
	last, route := lastSeqs(h2.must("r2", status(topics.StateMoving)), "r2")
	if last == 0 || route == 0 {
		t.Fatal("r2 got no route")
	}
	h2.must("r2", beat(topics.StateBlocked, e, last, e, route))
	if outs := h2.tick(4 * time.Second); len(directives(outs, "r2")) != 0 {
		t.Fatalf("retry before BlockedRetry: %s", describe(outs))
	}
	h2.must("r2", beat(topics.StateBlocked, e, last, e, route))
	if outs := h2.tick(0); len(directives(outs, "r2")) != 0 {
		t.Fatalf("retry before BlockedRetry: %s", describe(outs))
	}
	if ds := directives(h2.tick(1100*time.Millisecond), "r2"); len(ds) == 0 || ds[len(ds)-1].Kind != topics.DirResume {
		t.Fatalf("blocked r2 not retried: %v", ds)
	}
}

// A mapper that cannot map (no camera) answers the map directive with a
// fault: another robot maps. A configured mapper that declines waits for
// the operator, who may start a sweep with another robot.
func TestMapperDeclines(t *testing.T) {
	h := newHarness(t, Config{Missions: missionsFile(t, twoRobots)}, nil)
	h.one(h.must("r1", status(topics.StateOnline)), "r1", topics.DirMap)
	h.must("r2", status(topics.StateOnline))
	outs := h.must("r1", &topics.Event{Kind: topics.EventFault, Detail: "cannot map: no camera"})
	h.one(outs, "r2", topics.DirMap)
	if v := h.c.Fleet(); v.Mapper != "r2" {
		t.Fatalf("mapper %q, want r2", v.Mapper)
	}

	h2 := newHarness(t, Config{Missions: missionsFile(t, twoRobots), Mapper: "r1", SilenceTimeout: time.Hour}, nil)
	h2.one(h2.must("r1", status(topics.StateOnline)), "r1", topics.DirMap)
	h2.must("r2", status(topics.StateOnline))
	if outs := h2.must("r1", &topics.Event{Kind: topics.EventFault, Detail: "cannot map: no camera"}); allDirectives(outs) != 0 {
		t.Fatalf("another robot mapped in place of the configured mapper: %s", describe(outs))
	}
	if outs := h2.tick(time.Minute); allDirectives(outs) != 0 {
		t.Fatalf("the configured mapper was asked again: %s", describe(outs))
	}
	h2.one(must(h2.c.Sweep(h2.now, "r2")), "r2", topics.DirMap)
}

// A robot an operator holds or stops, or the whole fleet stopped, is
// planned as an obstacle with no route: the planner grants it no leg it
// cannot drive. Resumed, it is planned again.
func TestOperatorHeldRobotIsAnObstacle(t *testing.T) {
	path := filepath.Join(t.TempDir(), "o.db")
	withMap(t, path)
	h := newHarness(t, Config{Missions: missionsFile(t, twoRobots)}, openStore(t, path))
	h.routeThenResume(h.must("r1", status(topics.StateIdle)), "r1")
	h.tick(50 * time.Millisecond)
	if r, _ := h.pl.last("r1"); len(r.Route) != 3 {
		t.Fatalf("r1 before the stop: %+v", r)
	}
	must(h.c.Stop(h.now, "r1"))
	h.tick(50 * time.Millisecond)
	if r, _ := h.pl.last("r1"); len(r.Route) != 0 || !r.Online {
		t.Fatalf("r1 stopped by the operator, as the planner sees it: %+v", r)
	}
	must(h.c.Resume(h.now, "r1"))
	h.c.FleetStop(h.now)
	h.tick(50 * time.Millisecond)
	if r, _ := h.pl.last("r1"); len(r.Route) != 0 {
		t.Fatalf("r1 during a fleet stop: %+v", r)
	}
	h.c.FleetResume(h.now)
	h.tick(50 * time.Millisecond)
	if r, _ := h.pl.last("r1"); len(r.Route) != 3 {
		t.Fatalf("r1 resumed: %+v", r)
	}
}

// After a start (a restart, say), no leg is planned while a robot with a
// mission is unheard of or has no known position: it may stand anywhere,
// stopped where the crash found it, and the planner would plan through it.
// Once every robot is placed, planning starts; a robot that stays silent
// delays it by PositionGrace at most.
func TestTrafficWaitsForPositions(t *testing.T) {
	x, y := 0.5, -0.2
	placed := func(state string) *topics.Pose { return &topics.Pose{State: state, XM: &x, YM: &y} }
	for _, r2Speaks := range []bool{true, false} {
		path := filepath.Join(t.TempDir(), "o.db")
		withMap(t, path)
		h := newHarness(t, Config{Missions: missionsFile(t, twoRobots), PositionGrace: 3 * time.Second, SilenceTimeout: time.Hour}, openStore(t, path))
		h.must("r1", status(topics.StateIdle))
		h.must("r1", placed(topics.StateIdle))
		h.tick(500 * time.Millisecond)
		h.must("r2", status(topics.StateHolding)) // online, no position yet
		h.tick(500 * time.Millisecond)
		if n := len(h.pl.inputs); n != 0 {
			t.Fatalf("r2 speaks %v: planned %d times before r2's position was known", r2Speaks, n)
		}
		if r2Speaks {
			h.must("r2", placed(topics.StateHolding))
			h.tick(100 * time.Millisecond)
			if len(h.pl.inputs) == 0 {
				t.Fatal("not planned once every robot was placed")
			}
			continue
		}
		h.tick(time.Second)
		if len(h.pl.inputs) != 0 {
			t.Fatal("planned within the grace without r2's position")
		}
		h.tick(2 * time.Second)
		if len(h.pl.inputs) == 0 {
			t.Fatal("still not planning after the grace")
		}
	}
}
